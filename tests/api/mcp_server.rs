//! The catalog over MCP (`POST /mcp`): the official MCP Python SDK client at both protocol
//! revisions searching, reading and asking for access as an agent would; the 401 challenge
//! and the protected-resource metadata an MCP client follows to a token; protocol errors as
//! JSON-RPC errors and tool failures as tool results; AWS round trips of a warm function.

use serde_json::{json, Value};
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::mcp::McpServer;
use toolreg_tests::proc::{repo_root, venv_python};
use toolreg_tests::stack::{server, Server};

const MODERN: &str = "2026-07-28";

/// Runs tests/clients/mcp_client.py (the SDK client) against `s`'s /mcp with `token`.
fn sdk_client(s: &Server, token: &str, mode: &str, calls: &Value) -> Value {
    let out = std::process::Command::new(venv_python())
        .arg(repo_root().join("tests/clients/mcp_client.py"))
        .args([&s.url("/mcp"), token, mode, &calls.to_string()])
        .output()
        .expect("run the MCP SDK client");
    assert!(
        out.status.success(),
        "the SDK client failed ({mode}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON line ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A JSON-RPC request of the handshake era.
fn rpc(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A 2026-07-28 request: the revision in `_meta`, mirrored in headers by [`modern_post`].
fn modern(id: u64, method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    rpc(id, method, params)
}

async fn modern_post(api: &Api, token: &str, body: &Value, extra: &[(&str, &str)]) -> Resp {
    let method = body["method"].as_str().unwrap_or_default().to_owned();
    let name = body["params"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut headers: Vec<(&str, &str)> = vec![
        ("mcp-protocol-version", MODERN),
        ("mcp-method", &method),
        ("accept", "application/json, text/event-stream"),
    ];
    if method == "tools/call" {
        headers.push(("mcp-name", &name));
    }
    // Later entries win: a test overrides a header by naming it again.
    for (k, v) in extra {
        headers.retain(|(h, _)| h != k);
        headers.push((k, v));
    }
    api.send("POST", "/mcp", Some(token), Some(body), &headers)
        .await
}

async fn post(api: &Api, token: &str, body: &Value) -> Resp {
    api.send("POST", "/mcp", Some(token), Some(body), &[]).await
}

fn call(name: &str, arguments: Value) -> Value {
    json!({"name": name, "arguments": arguments})
}

async fn function_tool(api: &Api, admin: &str, risk: &str, tags: &[&str], about: &str) -> Value {
    let r = api
        .post(
            "/api/v1/tools",
            Some(admin),
            &json!({"tool_type": "function", "name": unique("mcpcat"), "risk_level": risk,
                    "display_name": "Catalog entry", "description": about,
                    "input_schema": {"type": "object", "properties": {"repo": {"type": "string"}}},
                    "tags": tags}),
        )
        .await;
    r.assert_status(201);
    r.body
}

fn policy() -> Value {
    json!({
        "default": "deny",
        "rules": [
            {"id": "no-high-risk", "effect": "deny", "rationale": "HIGH_RISK",
             "tool": {"risk_level": {"in": ["high", "critical"]}}},
            {"id": "builders-ci", "effect": "allow", "rationale": "BUILDERS_USE_CI",
             "principal": {"kind": "agent", "groups": ["builders"]},
             "tool": {"tags": ["ci"]},
             "request": {"allowed_scopes": ["repo:read"]},
             "obligations": {"max_credential_seconds": 300}}
        ]
    })
}

/// The call of the SDK client's output named `name`, at position `nth` among those.
fn nth_call<'a>(out: &'a Value, name: &str, nth: usize) -> &'a Value {
    out["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == json!(name))
        .nth(nth)
        .unwrap_or_else(|| panic!("no call {nth} of {name}: {out}"))
}

#[tokio::test]
async fn the_sdk_client_searches_reads_and_asks_for_access_at_both_revisions() {
    // Activating a policy is global: this test has its own table.
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let agent = api
        .create_agent(
            &admin,
            &json!({"name": unique("mcp-builder"), "groups": ["builders"]}),
        )
        .await;
    let (_, key) = api.agent_key(&admin, &agent).await;
    let ci = function_tool(&api, &admin, "low", &["ci"], "Runs the nightly pipeline").await;
    let risky = function_tool(&api, &admin, "high", &["ci"], "Deploys to production").await;
    let ci_name = ci["name"].as_str().unwrap().to_owned();
    let risky_name = risky["name"].as_str().unwrap().to_owned();
    // A remote server whose own tools are `echo` and `add`.
    let mcp = McpServer::start("streamable-json");
    let remote_name = unique("mcpremote");
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &json!({"tool_type": "remote", "name": remote_name, "display_name": "Utilities",
                    "description": "A small utility server", "risk_level": "low",
                    "server_url": mcp.url, "transport_preference": "auto", "tags": ["ci"]}),
        )
        .await;
    r.assert_status(201);
    api.activate_policy(&policy()).await;

    let calls = json!([
        ["search_tools", {"query": ci_name}],
        ["search_tools", {"query": "echo"}],
        ["search_tools", {"query": "", "tool_type": "function", "tags": ["ci"]}],
        ["get_tool", {"name": ci_name}],
        ["get_tool", {"id": risky["id"]}],
        ["get_tool", {"name": remote_name}],
        ["request_access", {"tool": ci_name, "scopes": ["repo:read"], "purpose": "nightly build"}],
        ["request_access", {"tool": ci_name, "scopes": ["admin:all"]}],
        ["request_access", {"tool": risky_name, "scopes": ["repo:read"]}]
    ]);
    for (mode, revision) in [("legacy", "2025-11-25"), ("auto", MODERN)] {
        let out = sdk_client(s, &key, mode, &calls);
        assert_eq!(out["protocol_version"], json!(revision), "{out}");
        let names: Vec<&str> = out["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["search_tools", "get_tool", "request_access"]);
        assert!(
            out["tools"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["has_input_schema"] == json!(true)
                    && t["has_output_schema"] == json!(true))
        );

        // Best match first; the high-risk tool is hidden from this agent.
        let hit = nth_call(&out, "search_tools", 0);
        assert_eq!(hit["is_error"], json!(false), "{hit}");
        let found = hit["structured"]["tools"].as_array().unwrap();
        assert_eq!(found[0]["name"], json!(ci_name), "{hit}");
        assert!(
            found.iter().all(|t| t["name"] != json!(risky_name)),
            "{hit}"
        );
        // A remote server is found by the names of its own tools.
        let hit = nth_call(&out, "search_tools", 1);
        let found = hit["structured"]["tools"].as_array().unwrap();
        let remote = found
            .iter()
            .find(|t| t["name"] == json!(remote_name))
            .unwrap_or_else(|| panic!("{hit}"));
        assert_eq!(remote["matched_tool_names"], json!(["echo"]));
        assert_eq!(remote["probe_status"], json!("passed"));
        let hit = nth_call(&out, "search_tools", 2);
        let found: Vec<&str> = hit["structured"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(found, [ci_name.as_str()], "{hit}");

        let got = nth_call(&out, "get_tool", 0);
        assert_eq!(got["is_error"], json!(false), "{got}");
        assert_eq!(
            got["structured"]["tool"]["input_schema"]["properties"]["repo"],
            json!({"type": "string"})
        );
        let hidden = nth_call(&out, "get_tool", 1);
        assert_eq!(hidden["is_error"], json!(true), "{hidden}");
        assert!(
            hidden["text"].as_str().unwrap().contains("no tool"),
            "{hidden}"
        );
        let got = nth_call(&out, "get_tool", 2);
        assert_eq!(got["structured"]["tool"]["server_url"], json!(mcp.url));
        assert_eq!(got["structured"]["probe_status"], json!("passed"));
        assert_eq!(got["structured"]["tool"]["drifted"], json!(false));

        // Allowed: a credential, recorded as the REST endpoint records it.
        let allowed = nth_call(&out, "request_access", 0);
        assert_eq!(allowed["is_error"], json!(false), "{allowed}");
        let granted = &allowed["structured"];
        assert_eq!(granted["decision"], json!("allow"));
        assert_eq!(granted["rule_id"], json!("builders-ci"));
        assert_eq!(granted["credential"]["scope"], json!("repo:read"));
        assert_eq!(
            granted["credential"]["audience"],
            json!(format!("tool:{ci_name}"))
        );
        assert!(granted["credential"]["token"].as_str().unwrap().len() > 100);
        let decision_id = granted["decision_id"].as_str().unwrap();
        let d = api
            .get(&format!("/api/v1/decisions/{decision_id}"), Some(&admin))
            .await;
        d.assert_status(200);
        assert_eq!(d.body["decision"], json!("allow"));
        assert_eq!(d.body["purpose"], json!("nightly build"));
        assert_eq!(d.body["principal_id"], json!(format!("agent:{agent}")));
        let audit = api
            .get(
                &format!(
                    "/api/v1/audit-events?action=access.decision&target_id={}",
                    ci["id"].as_str().unwrap()
                ),
                Some(&admin),
            )
            .await;
        audit.assert_status(200);
        assert!(audit.text.contains(decision_id), "{}", audit.text);

        // Denied: a tool error carrying the rationale and the decision id.
        let denied = nth_call(&out, "request_access", 1);
        assert_eq!(denied["is_error"], json!(true), "{denied}");
        assert_eq!(denied["structured"]["decision"], json!("deny"), "{denied}");
        assert_eq!(denied["structured"]["rationale"], json!("DEFAULT_DENY"));
        let deny_id = denied["structured"]["decision_id"].as_str().unwrap();
        let d = api
            .get(&format!("/api/v1/decisions/{deny_id}"), Some(&admin))
            .await;
        assert_eq!(d.body["decision"], json!("deny"), "{}", d.text);
        // A tool hidden from the listing is still decided, as over REST: denied, recorded.
        let hidden = nth_call(&out, "request_access", 2);
        assert_eq!(hidden["is_error"], json!(true), "{hidden}");
        assert_eq!(
            hidden["structured"]["rationale"],
            json!("HIGH_RISK"),
            "{hidden}"
        );
        assert_eq!(hidden["structured"]["rule_id"], json!("no-high-risk"));
    }

    // A person sees the whole catalog, the high-risk tool included.
    let person = api.create_user_token(&admin).await;
    let out = sdk_client(
        s,
        &person,
        "auto",
        &json!([["get_tool", {"name": risky_name}]]),
    );
    assert_eq!(out["calls"][0]["is_error"], json!(false), "{out}");

    // Round trips on a warm function: tools/list is static; a search is one catalog query
    // (plus the key read of an API key; an OAuth token is checked without one).
    let r = api
        .oauth_token(
            Some((&agent, &key)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "catalog:read"),
            ],
        )
        .await;
    r.assert_status(200);
    let oauth = r.body["access_token"].as_str().unwrap().to_owned();
    let list = modern(1, "tools/list", json!({}));
    let search = modern(
        2,
        "tools/call",
        json!({"name": "search_tools", "arguments": {"query": "pipeline"}}),
    );
    for token in [&oauth, &key] {
        for _ in 0..2 {
            modern_post(&api, token, &search, &[])
                .await
                .assert_status(200);
        }
    }
    let r = modern_post(&api, &oauth, &list, &[]).await;
    r.assert_status(200);
    assert_eq!(r.calls("dynamodb"), 0, "tools/list");
    let r = modern_post(&api, &oauth, &search, &[]).await;
    r.assert_status(200);
    assert_eq!(
        r.body["result"]["structuredContent"]["tools"][0]["name"],
        json!(ci_name),
        "{}",
        r.text
    );
    assert_eq!(r.calls("dynamodb"), 1, "search_tools with an OAuth token");
    let r = modern_post(&api, &key, &search, &[]).await;
    r.assert_status(200);
    assert!(r.calls("dynamodb") <= 2, "search_tools with a key: {r:?}");
    let r = modern_post(&api, &key, &list, &[]).await;
    assert!(r.calls("dynamodb") <= 1, "tools/list with a key: {r:?}");

    // An OAuth token without tools:access may search, not ask for access.
    let r = modern_post(
        &api,
        &oauth,
        &modern(
            3,
            "tools/call",
            json!({"name": "request_access",
                   "arguments": {"tool": ci_name, "scopes": ["repo:read"]}}),
        ),
        &[],
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["result"]["isError"], json!(true), "{}", r.text);
    assert!(r.text.contains("tools:access"), "{}", r.text);
}

#[tokio::test]
async fn a_client_without_a_token_is_pointed_at_the_protected_resource_metadata() {
    let s = server();
    let api = Api::new(s);
    let r = api
        .send(
            "POST",
            "/mcp",
            None,
            Some(&rpc(1, "tools/list", json!({}))),
            &[],
        )
        .await;
    r.assert_problem(401);
    let metadata_url = s.url("/.well-known/oauth-protected-resource");
    assert_eq!(
        r.header("www-authenticate"),
        Some(format!("Bearer resource_metadata=\"{metadata_url}\"").as_str())
    );
    let r = api
        .send(
            "POST",
            "/mcp",
            Some("garbage"),
            Some(&rpc(1, "tools/list", json!({}))),
            &[],
        )
        .await;
    r.assert_problem(401);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains(&format!("resource_metadata=\"{metadata_url}\"")));
    // Other routes keep their plain challenge.
    let r = api.get("/api/v1/tools", None).await;
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));

    // RFC 9728, then RFC 8414 at the authorization server it names.
    let r = api.get("/.well-known/oauth-protected-resource", None).await;
    r.assert_status(200);
    assert_eq!(r.body["resource"], json!(s.url("/mcp")));
    assert_eq!(r.body["authorization_servers"], json!([s.base]));
    assert_eq!(r.body["bearer_methods_supported"], json!(["header"]));
    assert_eq!(
        r.body["scopes_supported"],
        json!(["catalog:read", "tools:access"])
    );
    let issuer = r.body["authorization_servers"][0].as_str().unwrap();
    let r = api
        .get(
            &format!(
                "{}/.well-known/oauth-authorization-server",
                issuer.trim_start_matches(&s.base)
            ),
            None,
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["issuer"], json!(issuer));
    assert_eq!(
        r.body["token_endpoint"],
        json!(s.url("/api/v1/oauth/token"))
    );

    // The endpoint answers POSTs only.
    let admin = api.admin().await;
    let r = api.get("/mcp", Some(&admin)).await;
    r.assert_problem(405);
    assert_eq!(r.header("allow"), Some("POST"));
}

#[tokio::test]
async fn protocol_errors_are_json_rpc_errors_and_tool_failures_are_results() {
    let s = server();
    let api = Api::new(s);
    let user = api.create_user_token(&api.admin().await).await;

    // The handshake, statelessly: no session, the revision asked for when served.
    let r = post(
        &api,
        &user,
        &rpc(
            1,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}),
        ),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["result"]["protocolVersion"], json!("2025-06-18"));
    assert_eq!(r.body["result"]["serverInfo"]["name"], json!("toolreg"));
    assert!(r.header("mcp-session-id").is_none());
    let r = post(
        &api,
        &user,
        &rpc(1, "initialize", json!({"protocolVersion": "2024-01-01"})),
    )
    .await;
    assert_eq!(r.body["result"]["protocolVersion"], json!("2025-11-25"));
    let r = post(
        &api,
        &user,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    r.assert_status(202);
    assert!(r.text.is_empty());
    let r = post(&api, &user, &rpc(7, "ping", json!({}))).await;
    assert_eq!(r.body, json!({"jsonrpc": "2.0", "id": 7, "result": {}}));

    // server/discover.
    let r = modern_post(&api, &user, &modern(2, "server/discover", json!({})), &[]).await;
    r.assert_status(200);
    assert_eq!(r.body["result"]["supportedVersions"], json!([MODERN]));
    assert_eq!(
        r.body["result"]["capabilities"]["tools"],
        json!({"listChanged": false})
    );
    assert_eq!(r.body["result"]["resultType"], json!("complete"));
    assert_eq!(
        r.body["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        json!("toolreg")
    );

    // Headers that disagree with the body: −32020.
    let list = modern(3, "tools/list", json!({}));
    for extra in [
        [("mcp-method", "tools/call")],
        [("mcp-protocol-version", "2025-11-25")],
    ] {
        let r = modern_post(&api, &user, &list, &extra).await;
        r.assert_status(400);
        assert_eq!(r.body["error"]["code"], json!(-32020), "{}", r.text);
        assert_eq!(r.body["id"], json!(3));
    }
    let get = modern(
        4,
        "tools/call",
        json!({"name": "get_tool", "arguments": {"name": "x"}}),
    );
    let r = modern_post(&api, &user, &get, &[("mcp-name", "search_tools")]).await;
    assert_eq!(r.body["error"]["code"], json!(-32020), "{}", r.text);
    // The same name base64-wrapped is the same name.
    let r = modern_post(
        &api,
        &user,
        &get,
        &[("mcp-name", "=?base64?Z2V0X3Rvb2w=?=")],
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["result"]["isError"], json!(true), "{}", r.text);

    // A revision this server does not speak: −32022 naming the ones it does.
    let mut future = modern(5, "tools/list", json!({}));
    future["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let r = modern_post(
        &api,
        &user,
        &future,
        &[("mcp-protocol-version", "2099-01-01")],
    )
    .await;
    r.assert_status(400);
    assert_eq!(r.body["error"]["code"], json!(-32022), "{}", r.text);
    let supported = r.body["error"]["data"]["supported"].as_array().unwrap();
    assert!(supported.contains(&json!(MODERN)) && supported.contains(&json!("2025-11-25")));
    assert_eq!(r.body["error"]["data"]["requested"], json!("2099-01-01"));
    let r = api
        .send(
            "POST",
            "/mcp",
            Some(&user),
            Some(&rpc(6, "tools/list", json!({}))),
            &[("mcp-protocol-version", "1999-01-01")],
        )
        .await;
    r.assert_status(400);
    assert_eq!(r.body["error"]["code"], json!(-32022), "{}", r.text);
    // A modern header without the envelope.
    let r = api
        .send(
            "POST",
            "/mcp",
            Some(&user),
            Some(&rpc(8, "tools/list", json!({}))),
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "tools/list"),
            ],
        )
        .await;
    r.assert_status(400);
    assert_eq!(r.body["error"]["code"], json!(-32602), "{}", r.text);

    // Methods: unknown ones (ping is gone in 2026-07-28), unknown tools.
    let r = modern_post(&api, &user, &modern(9, "ping", json!({})), &[]).await;
    r.assert_status(404);
    assert_eq!(r.body["error"]["code"], json!(-32601));
    let r = post(&api, &user, &rpc(10, "resources/list", json!({}))).await;
    r.assert_status(200);
    assert_eq!(r.body["error"]["code"], json!(-32601));
    let r = post(
        &api,
        &user,
        &rpc(11, "tools/call", call("rm_rf", json!({}))),
    )
    .await;
    assert_eq!(r.body["error"]["code"], json!(-32602), "{}", r.text);

    // Malformed messages.
    for (body, code) in [
        (b"{not json".to_vec(), -32700),
        (b"[]".to_vec(), -32600),
        (
            br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#.to_vec(),
            -32600,
        ),
        (
            br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#.to_vec(),
            -32600,
        ),
        (
            br#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#.to_vec(),
            -32600,
        ),
        (
            br#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#.to_vec(),
            -32600,
        ),
        (br#"{"jsonrpc":"2.0","method":7}"#.to_vec(), -32600),
    ] {
        let r = api
            .send_raw(
                "POST",
                "/mcp",
                Some(&user),
                "application/json",
                body.clone(),
            )
            .await;
        r.assert_status(400);
        assert_eq!(
            r.body["error"]["code"],
            json!(code),
            "{}: {}",
            String::from_utf8_lossy(&body),
            r.text
        );
    }
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(300 * 1024)
    );
    let r = api
        .send_raw("POST", "/mcp", Some(&user), "application/json", big.into())
        .await;
    r.assert_status(413);
    assert_eq!(r.body["error"]["code"], json!(-32600));

    // Bad arguments are tool errors, as is a tool that does not exist.
    for args in [
        json!({"query": "x", "limit": 0}),
        json!({"query": "x", "limit": "ten"}),
        json!({"query": "x", "tool_type": "plugin"}),
        json!({"query": "x", "colour": "red"}),
        json!({}),
        json!({"query": "x".repeat(201)}),
    ] {
        let r = post(
            &api,
            &user,
            &rpc(12, "tools/call", call("search_tools", args.clone())),
        )
        .await;
        r.assert_status(200);
        assert_eq!(
            r.body["result"]["isError"],
            json!(true),
            "{args}: {}",
            r.text
        );
    }
    for args in [
        json!({}),
        json!({"name": "a", "id": "b"}),
        json!({"id": "not-a-uuid"}),
        json!({"name": unique("nothing")}),
    ] {
        let r = post(
            &api,
            &user,
            &rpc(13, "tools/call", call("get_tool", args.clone())),
        )
        .await;
        assert_eq!(
            r.body["result"]["isError"],
            json!(true),
            "{args}: {}",
            r.text
        );
    }
    let r = post(
        &api,
        &user,
        &rpc(
            14,
            "tools/call",
            call(
                "request_access",
                json!({"tool": unique("nothing"), "scopes": [""]}),
            ),
        ),
    )
    .await;
    assert_eq!(r.body["result"]["isError"], json!(true), "{}", r.text);
}

/// Runs the MCP Inspector CLI (installed by `make test` in .npm-tools/) against `s`'s /mcp.
fn inspector(s: &Server, token: &str, args: &[&str]) -> Value {
    let bin = repo_root().join(".npm-tools/node_modules/.bin/mcp-inspector");
    assert!(
        bin.exists(),
        "{} is missing: run `make inspector` (make test does)",
        bin.display()
    );
    let home = tempfile_dir();
    let out = std::process::Command::new(bin)
        .env("HOME", &home)
        .args(["--cli", &s.url("/mcp"), "--transport", "http"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(args)
        .output()
        .expect("run the MCP Inspector CLI");
    let _ = std::fs::remove_dir_all(&home);
    assert!(
        out.status.success(),
        "the Inspector failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the Inspector printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A fresh directory under target/ for one Inspector run's home (where it keeps its catalog).
fn tempfile_dir() -> std::path::PathBuf {
    let d = repo_root()
        .join("target/test-logs")
        .join(unique("inspector"));
    std::fs::create_dir_all(&d).expect("create the Inspector's home");
    d
}

#[tokio::test]
async fn the_mcp_inspector_cli_lists_and_calls_the_tools() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let tool = function_tool(&api, &admin, "low", &["inspected"], "Seen by the Inspector").await;
    let name = tool["name"].as_str().unwrap();
    let listed = inspector(s, &admin, &["--method", "tools/list"]);
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["search_tools", "get_tool", "request_access"]);
    let got = inspector(
        s,
        &admin,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "get_tool",
            "--tool-arg",
            &format!("name={name}"),
        ],
    );
    assert_eq!(got["isError"], json!(false), "{got}");
    assert_eq!(got["structuredContent"]["tool"]["id"], tool["id"], "{got}");
}

#[tokio::test]
async fn a_foreign_origin_is_refused_before_authentication_and_the_own_origin_is_served() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let agent = api
        .create_agent(&admin, &json!({"name": unique("origin-agent")}))
        .await;
    let (_, key) = api.agent_key(&admin, &agent).await;
    let list = rpc(1, "tools/list", json!({}));
    // DNS rebinding: a page on evil.example.com whose name now resolves to this server.
    for origin in [
        "http://evil.example.com",
        "https://evil.example.com:8443",
        "null",
        &s.base.replace("127.0.0.1", "localhost"),
        "http://127.0.0.1",
    ] {
        for token in [Some(key.as_str()), None] {
            let r = api
                .send("POST", "/mcp", token, Some(&list), &[("origin", origin)])
                .await;
            r.assert_problem(403);
            assert!(
                r.body["detail"].as_str().unwrap().contains("origin"),
                "{origin}: {}",
                r.text
            );
            // Refused before the key was looked up, and with no token challenge.
            assert_eq!(r.calls("dynamodb"), 0, "{origin}");
            assert_eq!(r.header("www-authenticate"), None, "{origin}");
        }
    }
    // Its own origin (what a page it serves sends) and no Origin at all (not a browser).
    let own = api
        .send(
            "POST",
            "/mcp",
            Some(&key),
            Some(&list),
            &[("origin", &s.base)],
        )
        .await;
    own.assert_status(200);
    assert!(own.body["result"]["tools"].is_array(), "{}", own.text);
    api.send("POST", "/mcp", Some(&key), Some(&list), &[])
        .await
        .assert_status(200);
    // Unauthenticated from its own origin: the usual 401 with its challenge.
    let r = api
        .send("POST", "/mcp", None, Some(&list), &[("origin", &s.base)])
        .await;
    r.assert_problem(401);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("resource_metadata="));
}

#[tokio::test]
async fn allowed_origins_replace_the_default() {
    let s = Server::start(&[(
        "ALLOWED_ORIGINS",
        "https://console.example.com, http://localhost:6274",
    )]);
    let api = Api::new(&s);
    let user = api.admin().await;
    let list = rpc(1, "tools/list", json!({}));
    for (origin, status) in [
        ("https://console.example.com", 200),
        ("https://CONSOLE.example.com:443", 200),
        ("http://localhost:6274", 200),
        ("http://localhost:6275", 403),
        ("http://console.example.com", 403),
        (s.base.as_str(), 403),
    ] {
        let r = api
            .send(
                "POST",
                "/mcp",
                Some(&user),
                Some(&list),
                &[("origin", origin)],
            )
            .await;
        assert_eq!(r.status, status, "{origin}: {}", r.text);
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused_with_415() {
    let s = server();
    let api = Api::new(s);
    let user = api.admin().await;
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_vec();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "",
    ] {
        let r = api
            .send_raw("POST", "/mcp", Some(&user), content_type, body.clone())
            .await;
        r.assert_problem(415);
        assert_eq!(r.calls("dynamodb"), 0, "{content_type:?}");
    }
    for content_type in ["application/json", "Application/JSON; charset=utf-8"] {
        let r = api
            .send_raw("POST", "/mcp", Some(&user), content_type, body.clone())
            .await;
        r.assert_status(200);
        assert!(r.body["result"]["tools"].is_array(), "{}", r.text);
    }
}

#[tokio::test]
async fn the_challenge_and_metadata_urls_never_follow_the_host_header() {
    let s = server();
    let api = Api::new(s);
    let evil = [
        ("host", "evil.example.com"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "evil.example.com"),
    ];
    let r = api
        .send(
            "POST",
            "/mcp",
            None,
            Some(&rpc(1, "tools/list", json!({}))),
            &evil,
        )
        .await;
    r.assert_problem(401);
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            format!(
                "Bearer resource_metadata=\"{}\"",
                s.url("/.well-known/oauth-protected-resource")
            )
            .as_str()
        )
    );
    let r = api
        .send(
            "GET",
            "/.well-known/oauth-protected-resource",
            None,
            None,
            &evil,
        )
        .await;
    r.assert_status(200);
    assert!(!r.text.contains("evil"), "{}", r.text);
    assert_eq!(r.body["resource"], json!(s.url("/mcp")));
    assert_eq!(r.body["authorization_servers"], json!([s.base]));
}
