//! Remote tools through the API, against real MCP servers on loopback.

use serde_json::{json, Value};
use toolreg_tests::api::{unique, Api};
use toolreg_tests::mcp::McpServer;
use toolreg_tests::stack::{server, Server};

fn remote(name: &str, url: &str) -> Value {
    json!({
        "tool_type": "remote",
        "name": name,
        "display_name": "Remote demo",
        "description": "An MCP server",
        "risk_level": "high",
        "server_url": url,
        "transport_preference": "auto",
    })
}

#[tokio::test]
async fn a_live_mcp_server_is_registered_with_its_probe_and_sealed_headers() {
    let mcp = McpServer::start("streamable-sse");
    let api = Api::new(server());
    let admin = api.admin().await;
    let secret = format!("sk-{}", uuid::Uuid::new_v4().simple());
    let mut body = remote(&unique("remote_ok"), &mcp.url);
    body["static_headers"] = json!({"X-Api-Key": secret});
    let r = api.post("/api/v1/tools", Some(&admin), &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        !r.text.contains(&secret),
        "a header value leaked into the response"
    );
    assert_eq!(r.body["static_header_names"], json!(["X-Api-Key"]));
    let p = &r.body["probe"];
    assert_eq!(p["status"], json!("passed"), "{}", r.text);
    assert_eq!(p["detected_transport"], json!("streamable_http"));
    assert_eq!(p["requires_auth"], json!(false));
    assert!(p["tool_count"].as_u64().unwrap() >= 1);
    assert!(p["tools_sha256"].as_str().unwrap().len() == 64);
    assert!(p["valid_until"].as_str().unwrap() > p["probed_at"].as_str().unwrap());
    // One transaction and two rate-limit counters; one data key from KMS.
    assert_eq!(r.calls("dynamodb"), 3);
    assert_eq!(r.calls("kms"), 1);
    let id = r.body["id"].as_str().unwrap().to_owned();

    let g = api.get(&format!("/api/v1/tools/{id}"), Some(&admin)).await;
    assert!(!g.text.contains(&secret));
    let h = api
        .get(&format!("/api/v1/tools/{id}/probes"), Some(&admin))
        .await;
    assert_eq!(h.body["items"].as_array().unwrap().len(), 1);

    // The stored item holds no plain value; the envelope opens only for this tool.
    let state = server().state().await;
    let tool_id = toolreg_core::domain::tool::ToolId::parse(&id).expect("a tool id");
    let stored = state.store.get_tool(tool_id).await.unwrap().unwrap();
    let sealed = stored.remote().unwrap().sealed_headers.clone().unwrap();
    assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains(&secret));
    let opened = toolreg_core::crypto::envelope::open(&state.kms, &id, &sealed)
        .await
        .unwrap();
    assert_eq!(opened["X-Api-Key"], secret);
    let other = uuid::Uuid::new_v4().to_string();
    assert!(
        toolreg_core::crypto::envelope::open(&state.kms, &other, &sealed)
            .await
            .is_err(),
        "the envelope must not open under another tool's encryption context"
    );

    // Reprobe uses the stored headers and adds to the history.
    let rp = api
        .post(
            &format!("/api/v1/tools/{id}/reprobe"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(rp.status, 200, "{}", rp.text);
    assert_eq!(rp.body["version"], json!(2));
    assert_eq!(
        rp.calls("kms"),
        1,
        "the stored headers are unwrapped to send them"
    );
    let h = api
        .get(&format!("/api/v1/tools/{id}/probes"), Some(&admin))
        .await;
    let items = h.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items[0]["probed_at"].as_str() > items[1]["probed_at"].as_str(),
        "newest first"
    );

    let audit = api
        .get(
            &format!("/api/v1/audit-events?target_id={id}"),
            Some(&admin),
        )
        .await;
    assert!(
        !audit.text.contains(&secret),
        "a header value leaked into the audit log"
    );
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["tool.remote.reprobe", "tool.create"]);
    assert!(
        !server().log_text().contains(&secret),
        "a header value leaked into the server log"
    );
}

#[tokio::test]
async fn a_failed_probe_rejects_the_tool_and_stores_nothing() {
    let api = Api::new(server());
    let admin = api.admin().await;
    for kind in ["not-mcp", "hang", "garbage"] {
        let mcp = McpServer::start(kind);
        let name = unique("remote_bad");
        let r = api
            .post("/api/v1/tools", Some(&admin), &remote(&name, &mcp.url))
            .await;
        r.assert_problem(422);
        assert_eq!(
            r.body["type"],
            json!("urn:toolreg:problem:probe-failed"),
            "{kind}: {}",
            r.text
        );
        assert_eq!(r.body["probe"]["status"], json!("failed"));
        assert!(
            r.body["probe"]["error"]
                .as_str()
                .is_some_and(|e| !e.is_empty()),
            "{kind}: {}",
            r.text
        );
        let list = api
            .get(
                &format!("/api/v1/tools?q={}", name.to_lowercase()),
                Some(&admin),
            )
            .await;
        assert_eq!(list.body["items"], json!([]), "{kind}: nothing stored");
    }
    let closed = format!("http://127.0.0.1:{}/mcp", toolreg_tests::proc::free_port());
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &remote(&unique("closed"), &closed),
        )
        .await;
    r.assert_problem(422);
}

#[tokio::test]
async fn auth_required_servers_pass_and_stored_credentials_are_used() {
    let mcp = McpServer::start("auth");
    let api = Api::new(server());
    let admin = api.admin().await;
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &remote(&unique("auth_anon"), &mcp.url),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["probe"]["requires_auth"], json!(true));
    assert!(r.body["probe"]["auth_challenge"]["resource_metadata_url"]
        .as_str()
        .unwrap()
        .contains("oauth-protected-resource"));

    let mut body = remote(&unique("auth_key"), &mcp.url);
    body["static_headers"] = json!({"Authorization": "Bearer test-token"});
    let r = api.post("/api/v1/tools", Some(&admin), &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["probe"]["requires_auth"], json!(false));
    assert!(!r.text.contains("test-token"));
}

#[tokio::test]
async fn patch_reprobes_connection_changes_and_a_failed_probe_changes_nothing() {
    let good = McpServer::start("stateless");
    let other = McpServer::start("streamable-json");
    let bad = McpServer::start("not-mcp");
    let api = Api::new(server());
    let admin = api.admin().await;
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &remote(&unique("patch_remote"), &good.url),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tools/{id}");

    let r = api
        .send(
            "PATCH",
            &path,
            Some(&admin),
            Some(&json!({"server_url": bad.url})),
            &[],
        )
        .await;
    r.assert_problem(422);
    let now = api.get(&path, Some(&admin)).await;
    assert_eq!(now.body["server_url"], json!(good.url));
    assert_eq!(now.body["version"], json!(1));

    let r = api
        .send(
            "PATCH",
            &path,
            Some(&admin),
            Some(&json!({"server_url": other.url})),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["version"], json!(2));
    assert_eq!(r.body["server_url"], json!(other.url));
    let h = api.get(&format!("{path}/probes"), Some(&admin)).await;
    assert_eq!(h.body["items"].as_array().unwrap().len(), 2);

    // Non-connection fields do not probe.
    let r = api
        .send(
            "PATCH",
            &path,
            Some(&admin),
            Some(&json!({"description": "d"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.calls("kms"), 0);
    let h = api.get(&format!("{path}/probes"), Some(&admin)).await;
    assert_eq!(h.body["items"].as_array().unwrap().len(), 2);
    // A function-only field is refused on a remote tool.
    api.send(
        "PATCH",
        &path,
        Some(&admin),
        Some(&json!({"input_schema": {"type": "object"}})),
        &[],
    )
    .await
    .assert_problem(422);
}

#[tokio::test]
async fn test_connection_reports_both_verdicts_and_is_audited() {
    let good = McpServer::start("sse");
    let api = Api::new(server());
    let admin = api.admin().await;
    let r = api
        .post(
            "/api/v1/tools/remote/test-connection",
            Some(&admin),
            &json!({"server_url": good.url}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], json!("passed"));
    assert_eq!(r.body["detected_transport"], json!("sse"));
    let closed = format!("http://127.0.0.1:{}/mcp", toolreg_tests::proc::free_port());
    let r = api
        .post(
            "/api/v1/tools/remote/test-connection",
            Some(&admin),
            &json!({"server_url": closed}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], json!("failed"));
    let rid = r.header("x-request-id").unwrap().to_owned();
    let audit = api
        .get(
            "/api/v1/audit-events?action=tool.remote.test_connection&limit=100",
            Some(&admin),
        )
        .await;
    let ev = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["request_id"] == json!(rid))
        .expect("audited");
    assert_eq!(ev["outcome"], json!("failure"));
    for bad in [
        json!({"server_url": "ftp://x/"}),
        json!({"server_url": "not a url"}),
        json!({}),
    ] {
        api.post("/api/v1/tools/remote/test-connection", Some(&admin), &bad)
            .await
            .assert_problem(422);
    }
}

#[tokio::test]
async fn probes_are_rate_limited_per_user() {
    let s = Server::start(&[("PROBE_RATE_LIMIT_USER", "2/minute")]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    let closed = format!("http://127.0.0.1:{}/mcp", toolreg_tests::proc::free_port());
    let body = json!({"server_url": closed});
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            api.post("/api/v1/tools/remote/test-connection", Some(&admin), &body)
                .await,
        );
    }
    let limited: Vec<_> = statuses.iter().filter(|r| r.status == 429).collect();
    assert!(
        limited.len() >= 2,
        "{:?}",
        statuses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(limited[0].header("x-ratelimit-limit"), Some("2"));
    assert!(limited[0].header("retry-after").is_some());
}

#[tokio::test]
async fn private_addresses_are_refused_when_the_setting_is_off() {
    let s = Server::start(&[("PROBE_ALLOW_PRIVATE_NETWORKS", "false")]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    let live = McpServer::start("streamable-json");
    let port = live
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // Plain http is a development-only allowance.
    api.post(
        "/api/v1/tools/remote/test-connection",
        Some(&admin),
        &json!({"server_url": live.url}),
    )
    .await
    .assert_problem(422);
    for host in [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "localhost",
        "100.64.0.1",
        "[fd00:ec2::254]",
    ] {
        let url = format!("https://{host}:{port}/mcp");
        let r = api
            .post(
                "/api/v1/tools/remote/test-connection",
                Some(&admin),
                &json!({"server_url": url}),
            )
            .await;
        assert_eq!(r.status, 200, "{host}: {}", r.text);
        assert_eq!(r.body["status"], json!("failed"), "{host}: {}", r.text);
        let err = r.body["error"].as_str().unwrap_or_default().to_lowercase();
        assert!(
            err.contains("not allowed")
                || err.contains("refus")
                || err.contains("private")
                || err.contains("loopback"),
            "{host}: {err}"
        );
        let c = api
            .post(
                "/api/v1/tools",
                Some(&admin),
                &remote(&unique("ssrf"), &url),
            )
            .await;
        c.assert_problem(422);
    }
}

#[tokio::test]
async fn broken_servers_fail_the_probe_with_a_reason_never_a_500() {
    let api = Api::new(server());
    let admin = api.admin().await;
    for (kind, needle) in [
        ("dies", "closed the connection"),
        ("slow-stream", "timed out"),
        ("redirect", "redirect"),
        ("garbage", "not valid json"),
        ("hang", "timed out"),
    ] {
        let mcp = McpServer::start(kind);
        let r = api
            .post(
                "/api/v1/tools/remote/test-connection",
                Some(&admin),
                &json!({"server_url": mcp.url, "transport_preference": "streamable_http"}),
            )
            .await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text);
        assert_eq!(r.body["status"], json!("failed"), "{kind}: {}", r.text);
        let err = r.body["error"].as_str().unwrap_or_default().to_lowercase();
        assert!(err.contains(needle), "{kind}: {err}");
    }
    // The redirect pointed at the metadata address: it was named, never followed.
    let mcp = McpServer::start("redirect");
    let r = api
        .post(
            "/api/v1/tools/remote/test-connection",
            Some(&admin),
            &json!({"server_url": mcp.url}),
        )
        .await;
    assert!(
        r.body["error"]
            .as_str()
            .unwrap()
            .contains("169.254.169.254"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_kms_failure_during_create_stores_nothing() {
    // Its own stack: the key's alias is removed mid-test, which no other test may see.
    let moto = toolreg_tests::stack::Moto::start();
    let s = Server::start_with_env(toolreg_tests::stack::server_env(
        &toolreg_tests::stack::Endpoints::with_moto(&moto),
        &[],
    ));
    let api = Api::new(&s);
    let admin = api.admin().await;
    let state = s.state().await;
    let key_id = state
        .kms
        .describe_key()
        .key_id(&state.config.kms_key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    // moto ignores a disabled key; an alias that no longer exists fails for real.
    state
        .kms
        .delete_alias()
        .alias_name(&state.config.kms_key_id)
        .send()
        .await
        .expect("delete the alias");
    let mcp = McpServer::start("stateless");
    let name = unique("kms_fail");
    let mut body = remote(&name, &mcp.url);
    body["static_headers"] = json!({"X-Api-Key": "sk-kms-failure"});
    let r = api.post("/api/v1/tools", Some(&admin), &body).await;
    assert!(r.status >= 500, "{}", r.text);
    r.assert_problem(r.status);
    assert!(!r.text.contains("sk-kms-failure"));
    let list = api
        .get(
            &format!("/api/v1/tools?q={}", name.to_lowercase()),
            Some(&admin),
        )
        .await;
    assert_eq!(list.body["items"], json!([]));
    let audit = api
        .get("/api/v1/audit-events?action=tool.create", Some(&admin))
        .await;
    assert_eq!(
        audit.body["items"],
        json!([]),
        "no audit event for a change that did not happen"
    );
    // Once KMS works again the same request succeeds: the name was never taken.
    state
        .kms
        .create_alias()
        .alias_name(&state.config.kms_key_id)
        .target_key_id(&key_id)
        .send()
        .await
        .expect("restore the alias");
    let ok = api.post("/api/v1/tools", Some(&admin), &body).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
}

#[tokio::test]
async fn moving_a_tool_to_another_origin_drops_its_headers_and_failures_are_audited() {
    let home = McpServer::start("stateless");
    let elsewhere = McpServer::start("streamable-json");
    let api = Api::new(server());
    let admin = api.admin().await;
    let mut body = remote(&unique("remote_move"), &home.url);
    body["static_headers"] = json!({"X-Api-Key": "sk-bound-to-home"});
    let created = api.post("/api/v1/tools", Some(&admin), &body).await;
    created.assert_status(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tools/{id}");

    // A failed move (nothing listens there) changes nothing and is audited as a failure.
    let dead = format!("http://127.0.0.1:{}/mcp", toolreg_tests::proc::free_port());
    let r = api
        .send(
            "PATCH",
            &path,
            Some(&admin),
            Some(&json!({"server_url": dead})),
            &[],
        )
        .await;
    r.assert_problem(422);
    let failures = api
        .get(
            &format!("/api/v1/audit-events?target_id={id}&action=request.failed"),
            Some(&admin),
        )
        .await;
    let items = failures.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", failures.text);
    assert_eq!(items[0]["outcome"], json!("failure"));
    assert_eq!(items[0]["details"]["route"], json!("tools-update"));
    assert_eq!(items[0]["details"]["status"], json!(422));
    assert!(!failures.text.contains("sk-bound-to-home"));
    let still = api.get(&path, Some(&admin)).await;
    assert_eq!(still.body["static_header_names"], json!(["X-Api-Key"]));

    // Moving to another origin without new headers: they are dropped, not sent there.
    let moved = api
        .send(
            "PATCH",
            &path,
            Some(&admin),
            Some(&json!({"server_url": elsewhere.url})),
            &[],
        )
        .await;
    moved.assert_status(200);
    assert_eq!(moved.body["static_header_names"], json!([]));
    let updates = api
        .get(
            &format!("/api/v1/audit-events?target_id={id}&action=tool.update"),
            Some(&admin),
        )
        .await;
    let details = &updates.body["items"][0]["details"];
    assert_eq!(details["server_url"]["from"], json!(home.url));
    assert_eq!(details["server_url"]["to"], json!(elsewhere.url));
    assert_eq!(details["static_headers_dropped"], json!(true));

    // Supplying headers again with the move keeps them (the caller entered them for there).
    let back = api
        .send(
            "PATCH",
            &path,
            Some(&admin),
            Some(&json!({"server_url": home.url, "static_headers": {"X-Api-Key": "sk-again"}})),
            &[],
        )
        .await;
    back.assert_status(200);
    assert_eq!(back.body["static_header_names"], json!(["X-Api-Key"]));
}

async fn test_connection(api: &Api, admin: &str, body: &Value) -> Value {
    let r = api
        .post("/api/v1/tools/remote/test-connection", Some(admin), body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[tokio::test]
async fn each_protocol_era_is_detected_and_the_revision_spoken_is_recorded() {
    let modern = McpServer::start("modern-only");
    let legacy = McpServer::start("legacy-only");
    let dual = McpServer::start("streamable-json");
    let sse = McpServer::start("sse");
    let api = Api::new(server());
    let admin = api.admin().await;
    let mut hashes = Vec::new();
    for (url, transport, revision, name, detected) in [
        (
            &modern.url,
            "auto",
            "2026-07-28",
            "toolreg-test-modern",
            "streamable_http",
        ),
        (
            &modern.url,
            "streamable_http",
            "2026-07-28",
            "toolreg-test-modern",
            "streamable_http",
        ),
        (
            &legacy.url,
            "auto",
            "2025-11-25",
            "toolreg-test-legacy",
            "streamable_http",
        ),
        (
            &legacy.url,
            "streamable_http",
            "2025-11-25",
            "toolreg-test-legacy",
            "streamable_http",
        ),
        (
            &dual.url,
            "auto",
            "2026-07-28",
            "toolreg-test-json",
            "streamable_http",
        ),
        (&sse.url, "auto", "2025-11-25", "toolreg-test-sse", "sse"),
    ] {
        let p = test_connection(
            &api,
            &admin,
            &json!({"server_url": url, "transport_preference": transport}),
        )
        .await;
        let case = format!("{name} over {transport}: {p}");
        assert_eq!(p["status"], json!("passed"), "{case}");
        assert_eq!(p["protocol_version"], json!(revision), "{case}");
        assert_eq!(p["server_name"], json!(name), "{case}");
        assert_eq!(p["detected_transport"], json!(detected), "{case}");
        assert_eq!(p["tool_names"], json!(["add", "echo"]), "{case}");
        hashes.push(p["tools_sha256"].as_str().unwrap().to_owned());
    }
    // The same tools hash the same whichever revision listed them.
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
    // A modern-only server is not one legacy SSE can reach either.
    let p = test_connection(
        &api,
        &admin,
        &json!({"server_url": modern.url, "transport_preference": "sse"}),
    )
    .await;
    assert_eq!(p["status"], json!("failed"), "{p}");
}

#[tokio::test]
async fn the_era_test_servers_refuse_the_other_era_as_its_revision_specifies() {
    let modern = McpServer::start("modern-only");
    let legacy = McpServer::start("legacy-only");
    let http = reqwest::Client::new();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let post = |url: &str, body: &Value, version: Option<&str>| {
        let mut rb = http
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .json(body);
        if let Some(v) = version {
            rb = rb.header("mcp-protocol-version", v);
        }
        rb.send()
    };
    let r = post(&modern.url, &initialize, None).await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], json!(-32020), "{v}");
    let r = post(&modern.url, &initialize, Some("2025-11-25"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], json!(-32022), "{v}");
    assert_eq!(
        v["error"]["data"]["supported"],
        json!(["2026-07-28"]),
        "{v}"
    );
    assert_eq!(http.get(&modern.url).send().await.unwrap().status(), 405);

    let discover = json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}}});
    let r = post(&legacy.url, &discover, Some("2026-07-28"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    let code = v["error"]["code"].as_i64().unwrap();
    assert!(code != -32022 && code != -32020, "{v}");
}

#[tokio::test]
async fn a_json_rpc_error_in_a_200_fails_the_probe() {
    let mcp = McpServer::start("modern-error");
    let api = Api::new(server());
    let admin = api.admin().await;
    let p = test_connection(&api, &admin, &json!({"server_url": mcp.url})).await;
    assert_eq!(p["status"], json!("failed"), "{p}");
    let err = p["error"].as_str().unwrap();
    assert!(
        err.contains("tools/list failed") && err.contains("the tool list is broken"),
        "{err}"
    );
    // Registering it is refused like any failed probe.
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &remote(&unique("modern_err"), &mcp.url),
        )
        .await;
    r.assert_problem(422);
}

#[tokio::test]
async fn a_401_never_falls_back_and_rfc_9728_discovery_is_recorded() {
    let mcp = McpServer::start("auth-discovery");
    let base = mcp.url.trim_end_matches("/mcp").to_owned();
    let api = Api::new(server());
    let admin = api.admin().await;
    for transport in ["auto", "streamable_http"] {
        let p = test_connection(
            &api,
            &admin,
            &json!({"server_url": mcp.url, "transport_preference": transport}),
        )
        .await;
        assert_eq!(p["status"], json!("passed"), "{p}");
        assert_eq!(p["requires_auth"], json!(true));
        // The 401 answered the first (2026-07-28) request: no handshake, no SSE fallback.
        assert_eq!(p["detected_transport"], json!("streamable_http"), "{p}");
        let ch = &p["auth_challenge"];
        assert_eq!(
            ch["resource_metadata_url"],
            json!(format!("{base}/.well-known/oauth-protected-resource/mcp")),
            "{ch}"
        );
        assert_eq!(ch["resource_metadata_source"], json!("well_known_path"));
        assert_eq!(ch["resource"], json!(mcp.url));
        assert_eq!(ch["resource_matches"], json!(true));
        assert_eq!(
            ch["authorization_servers"],
            json!([format!("{base}/oauth")])
        );
        let server = &ch["authorization_server"];
        assert_eq!(server["issuer"], json!(format!("{base}/oauth")), "{ch}");
        assert_eq!(
            server["metadata_url"],
            json!(format!("{base}/oauth/.well-known/openid-configuration")),
            "RFC 8414 and the inserted OIDC location answer 404; the appended one is used"
        );
        assert_eq!(server["pkce_s256"], json!(true));
        assert_eq!(server["client_id_metadata_documents"], json!(true));
        assert_eq!(server["dynamic_registration"], json!(true));
    }

    // A stored credential the server still rejects is a failed probe, not a pass.
    let p = test_connection(
        &api,
        &admin,
        &json!({"server_url": mcp.url, "static_headers": {"Authorization": "Bearer wrong-token"}}),
    )
    .await;
    assert_eq!(p["status"], json!("failed"), "{p}");
    let err = p["error"].as_str().unwrap();
    assert!(
        err.contains("credentials rejected") && err.contains("Authorization"),
        "{err}"
    );
    assert!(!err.contains("wrong-token"), "a header value leaked: {err}");
    let mut body = remote(&unique("auth_rejected"), &mcp.url);
    body["static_headers"] = json!({"Authorization": "Bearer wrong-token"});
    api.post("/api/v1/tools", Some(&admin), &body)
        .await
        .assert_problem(422);
    // The right one reaches the tools, at the modern revision.
    let p = test_connection(
        &api,
        &admin,
        &json!({"server_url": mcp.url, "static_headers": {"Authorization": "Bearer test-token"}}),
    )
    .await;
    assert_eq!(p["status"], json!("passed"), "{p}");
    assert_eq!(p["requires_auth"], json!(false));
    assert_eq!(p["protocol_version"], json!("2026-07-28"));

    // A challenge that names its metadata: used as named, checked the same way.
    let named = McpServer::start("auth");
    let p = test_connection(&api, &admin, &json!({"server_url": named.url})).await;
    let ch = &p["auth_challenge"];
    assert_eq!(ch["resource_metadata_source"], json!("challenge"), "{p}");
    assert_eq!(ch["resource_matches"], json!(true));
    assert!(
        ch["authorization_server"].is_null() && ch["discovery_error"].is_string(),
        "its authorization server publishes no metadata: {ch}"
    );
}

#[tokio::test]
async fn a_minimal_pre_2026_server_that_answers_unknown_methods_with_empty_results_is_probed_by_handshake(
) {
    // It answers `server/discover` with `200 {"result": {}}`, as small servers answer any
    // method they do not know: that is not the 2026-07-28 protocol, so `initialize` decides.
    let mcp = McpServer::start("minimal");
    let api = Api::new(server());
    let admin = api.admin().await;
    for transport in ["auto", "streamable_http"] {
        let p = test_connection(
            &api,
            &admin,
            &json!({"server_url": mcp.url, "transport_preference": transport}),
        )
        .await;
        assert_eq!(p["status"], json!("passed"), "{transport}: {p}");
        assert_eq!(p["detected_transport"], json!("streamable_http"), "{p}");
        assert_eq!(p["protocol_version"], json!("2025-11-25"), "{p}");
        assert_eq!(p["server_name"], json!("toolreg-test-minimal"), "{p}");
        assert_eq!(p["tool_count"], json!(1), "{p}");
    }
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &remote(&unique("minimal"), &mcp.url),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn without_protected_resource_metadata_the_2025_03_26_fallback_finds_the_authorization_server(
) {
    let mcp = McpServer::start("legacy-auth");
    let origin = mcp.url.trim_end_matches("/mcp").to_owned();
    let api = Api::new(server());
    let admin = api.admin().await;
    let p = test_connection(&api, &admin, &json!({"server_url": mcp.url})).await;
    assert_eq!(p["status"], json!("passed"), "{p}");
    assert_eq!(p["requires_auth"], json!(true), "{p}");
    let ch = &p["auth_challenge"];
    assert!(ch["resource_metadata_url"].is_null(), "{ch}");
    assert!(ch.get("resource_metadata_source").is_none(), "{ch}");
    assert_eq!(ch["authorization_servers"], json!([origin]), "{ch}");
    let server = &ch["authorization_server"];
    assert_eq!(server["issuer"], json!(origin), "{ch}");
    assert_eq!(
        server["metadata_url"],
        json!(format!("{origin}/.well-known/oauth-authorization-server")),
        "{ch}"
    );
    assert_eq!(server["pkce_s256"], json!(true), "{ch}");
    assert_eq!(server["dynamic_registration"], json!(true), "{ch}");
    assert!(ch.get("discovery_error").is_none(), "{ch}");
}
