//! The MCP Registry API (`/v0.1/servers…`) and `toolreg import`, against real MCP servers.

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::mcp::McpServer;
use toolreg_tests::stack::{bin, server, Server};

const NS: &str = "io.toolreg.local";

/// The fields the official `ServerDetail` schema defines: an entry holds no others.
const SERVER_FIELDS: &[&str] = &[
    "$schema",
    "name",
    "title",
    "description",
    "version",
    "repository",
    "websiteUrl",
    "icons",
    "packages",
    "remotes",
    "_meta",
];

fn remote(name: &str, url: &str, transport: &str) -> Value {
    json!({
        "tool_type": "remote",
        "name": name,
        "display_name": format!("Registry {name}"),
        "description": "An MCP server for the registry tests",
        "risk_level": "low",
        "server_url": url,
        "transport_preference": transport,
    })
}

async fn create(api: &Api, admin: &str, body: &Value) -> Value {
    let r = api.post("/api/v1/tools", Some(admin), body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// The path of a server name's versions, its `/` URL-encoded as registry clients send it.
fn versions_path(tool: &str) -> String {
    format!("/v0.1/servers/{NS}%2F{tool}/versions")
}

/// Checks one `ServerResponse` against the official schema's rules, and answers its name.
fn check_entry(e: &Value) -> String {
    let server = &e["server"];
    for k in server.as_object().expect("server is an object").keys() {
        assert!(
            SERVER_FIELDS.contains(&k.as_str()),
            "unknown field {k}: {e}"
        );
    }
    let name = server["name"].as_str().expect("name");
    let (ns, last) = name.split_once('/').expect("one slash");
    assert!(!last.contains('/'), "{name}");
    assert!(
        ns.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
        "{name}"
    );
    let description = server["description"].as_str().expect("description");
    assert!(
        !description.is_empty() && description.chars().count() <= 100,
        "{e}"
    );
    let version = server["version"].as_str().expect("version");
    assert!(version.starts_with("1.0."), "{version}");
    assert!(server["$schema"]
        .as_str()
        .unwrap()
        .ends_with("server.schema.json"));
    for r in server["remotes"].as_array().expect("remotes") {
        assert!(
            matches!(r["type"].as_str(), Some("streamable-http" | "sse")),
            "{r}"
        );
        assert!(r["url"].as_str().unwrap().starts_with("http"), "{r}");
    }
    let official = &e["_meta"]["io.modelcontextprotocol.registry/official"];
    let keys: BTreeSet<&str> = official
        .as_object()
        .expect("official meta")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["status", "publishedAt", "updatedAt", "isLatest"]),
        "{official}"
    );
    assert_eq!(official["status"], "active");
    assert_eq!(official["isLatest"], true);
    for k in ["publishedAt", "updatedAt"] {
        let t = official[k].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(t).is_ok(), "{t}");
    }
    name.to_owned()
}

fn names(r: &Resp) -> BTreeSet<String> {
    r.body["servers"]
        .as_array()
        .unwrap_or_else(|| panic!("servers: {}", r.text))
        .iter()
        .map(check_entry)
        .collect()
}

#[tokio::test]
async fn active_remote_tools_are_served_as_official_registry_entries() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    let streamable = McpServer::start("streamable-sse");
    let sse = McpServer::start("sse");

    let a_name = unique("reg_alpha");
    let secret = format!("sk-{}", uuid::Uuid::new_v4().simple());
    let mut a = remote(&a_name, &streamable.url, "auto");
    a["static_headers"] = json!({"X-Api-Key": secret});
    a["tags"] = json!(["reg-open"]);
    let a = create(&api, &admin, &a).await;
    let b_name = unique("reg_beta");
    let b = create(&api, &admin, &remote(&b_name, &sse.url, "sse")).await;
    let c_name = unique("reg_gone");
    let c = create(&api, &admin, &remote(&c_name, &streamable.url, "auto")).await;
    let r = api
        .post(
            &format!("/api/v1/tools/{}/deactivate", c["id"].as_str().unwrap()),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let f_name = unique("reg_function");
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &json!({"tool_type": "function", "name": f_name, "risk_level": "low",
                    "input_schema": {"type": "object"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // The listing: only the active remote tools, in the official shape.
    let r = api.get("/v0.1/servers", Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(!r.text.contains(&secret), "a header value leaked");
    let want: BTreeSet<String> = [format!("{NS}/{a_name}"), format!("{NS}/{b_name}")].into();
    assert_eq!(names(&r), want, "{}", r.text);
    assert_eq!(r.body["metadata"]["count"], 2);
    assert!(r.body["metadata"].get("nextCursor").is_none(), "{}", r.text);
    let entry = |name: &str| -> Value {
        r.body["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["server"]["name"] == format!("{NS}/{name}"))
            .cloned()
            .unwrap()
    };
    let ea = entry(&a_name);
    assert_eq!(ea["server"]["title"], format!("Registry {a_name}"));
    assert_eq!(
        ea["server"]["description"],
        "An MCP server for the registry tests"
    );
    assert_eq!(ea["server"]["version"], format!("1.0.{}", a["version"]));
    assert_eq!(
        ea["server"]["remotes"],
        json!([{"type": "streamable-http", "url": streamable.url, "headers": [
            {"name": "X-Api-Key", "isRequired": true, "isSecret": true,
             "description": "Held by toolreg; ask the registry's administrators for a value"}]}])
    );
    let mine = &ea["_meta"]["io.toolreg/status"];
    assert_eq!(mine["id"], a["id"]);
    assert_eq!(mine["probeStatus"], "passed");
    assert_eq!(mine["drifted"], false);
    assert_eq!(mine["tags"], json!(["reg-open"]));
    assert_eq!(mine["riskLevel"], "low");
    assert_eq!(mine["toolCount"], a["probe"]["tool_count"]);
    assert_eq!(mine["toolsSha256"], a["probe"]["tools_sha256"]);
    assert_eq!(mine["protocolVersion"], a["probe"]["protocol_version"]);
    assert!(mine["protocolVersion"].is_string(), "{mine}");
    let eb = entry(&b_name);
    assert_eq!(eb["server"]["remotes"][0]["type"], "sse");
    assert!(eb["server"]["remotes"][0].get("headers").is_none());

    // Pages of one, walked by cursor, cover the same servers once each.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let path = match &cursor {
            None => "/v0.1/servers?limit=1".to_owned(),
            Some(c) => format!(
                "/v0.1/servers?limit=1&cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            ),
        };
        let p = api.get(&path, Some(&admin)).await;
        assert_eq!(p.status, 200, "{}", p.text);
        let n = names(&p);
        assert!(n.len() <= 1, "{}", p.text);
        assert_eq!(p.body["metadata"]["count"], n.len());
        seen.extend(n);
        match p.body["metadata"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), want);
    assert_eq!(seen.len(), 2);
    let bad = api
        .get("/v0.1/servers?cursor=not-a-cursor", Some(&admin))
        .await;
    bad.assert_problem(400);

    // search is the catalog's text search; a full server name searches by its tool name.
    let r = api
        .get(&format!("/v0.1/servers?search={a_name}"), Some(&admin))
        .await;
    assert_eq!(names(&r), [format!("{NS}/{a_name}")].into());
    let r = api
        .get(
            &format!("/v0.1/servers?search={NS}%2F{}", b_name.to_uppercase()),
            Some(&admin),
        )
        .await;
    assert_eq!(names(&r), [format!("{NS}/{b_name}")].into(), "{}", r.text);

    // updated_since filters on the tool's last change.
    let since = chrono::DateTime::parse_from_rfc3339(
        ea["_meta"]["io.modelcontextprotocol.registry/official"]["updatedAt"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let q = |t: chrono::DateTime<chrono::FixedOffset>| {
        url::form_urlencoded::byte_serialize(t.to_rfc3339().as_bytes()).collect::<String>()
    };
    let r = api
        .get(
            &format!("/v0.1/servers?updated_since={}", q(since)),
            Some(&admin),
        )
        .await;
    assert!(names(&r).contains(&format!("{NS}/{a_name}")), "{}", r.text);
    let later = since + chrono::Duration::days(1);
    let r = api
        .get(
            &format!("/v0.1/servers?updated_since={}", q(later)),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(names(&r).is_empty(), "{}", r.text);
    let earlier = since - chrono::Duration::days(1);
    let r = api
        .get(
            &format!("/v0.1/servers?updated_since={}", q(earlier)),
            Some(&admin),
        )
        .await;
    assert_eq!(names(&r), want);

    // version=latest is every server (each has one version); an exact version filters.
    let r = api.get("/v0.1/servers?version=latest", Some(&admin)).await;
    assert_eq!(names(&r), want);
    let r = api
        .get(
            &format!("/v0.1/servers?version=1.0.{}", b["version"]),
            Some(&admin),
        )
        .await;
    assert!(names(&r).contains(&format!("{NS}/{b_name}")));
    let r = api.get("/v0.1/servers?version=9.9.9", Some(&admin)).await;
    assert!(names(&r).is_empty(), "{}", r.text);

    // Bad input is a 400 problem, never a 500; no token is a 401, still readable cross-origin.
    for q in [
        "limit=0",
        "limit=101",
        "limit=x",
        "updated_since=yesterday",
        "search=",
        "nope=1",
        "version=",
        "include_deleted=maybe",
    ] {
        let r = api.get(&format!("/v0.1/servers?{q}"), Some(&admin)).await;
        r.assert_problem(400);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{q}");
    }
    let r = api.get("/v0.1/servers", None).await;
    r.assert_problem(401);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));

    // One server's versions, and one version: latest or its exact version.
    let r = api.get(&versions_path(&a_name), Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&r), [format!("{NS}/{a_name}")].into());
    assert_eq!(r.body["metadata"]["count"], 1);
    assert_eq!(r.body["servers"][0], ea);
    let version = ea["server"]["version"].as_str().unwrap();
    for v in ["latest", version] {
        let r = api
            .get(&format!("{}/{v}", versions_path(&a_name)), Some(&admin))
            .await;
        assert_eq!(r.status, 200, "{v}: {}", r.text);
        assert_eq!(r.body, ea);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    }
    // Names are matched exactly, as served.
    let r = api
        .get(&versions_path(&a_name.to_uppercase()), Some(&admin))
        .await;
    r.assert_problem(404);
    for path in [
        format!("{}/9.9.9", versions_path(&a_name)),
        versions_path(&c_name),
        versions_path(&f_name),
        versions_path(&unique("reg_missing")),
        format!("/v0.1/servers/com.other%2F{a_name}/versions"),
        format!("/v0.1/servers/{a_name}/versions"),
        format!("/v0.1/servers/{NS}%2F{a_name}%zz/versions"),
        format!("/v0.1/servers/{NS}%252F{a_name}/versions"),
        format!("/v0.1/servers/{NS}%2F{a_name}%2Fx/versions/latest"),
    ] {
        let r = api.get(&path, Some(&admin)).await;
        r.assert_problem(404);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{path}");
    }
    // An unencoded slash is another path: no route.
    let r = api
        .get(
            &format!("/v0.1/servers/{NS}/{a_name}/versions"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);

    // CORS preflights need no credentials.
    for path in [
        "/v0.1/servers".to_owned(),
        versions_path(&a_name),
        format!("{}/latest", versions_path(&a_name)),
    ] {
        let r = api
            .send(
                "OPTIONS",
                &path,
                None,
                None,
                &[
                    ("origin", "https://copilot.example"),
                    ("access-control-request-method", "GET"),
                    ("access-control-request-headers", "authorization"),
                ],
            )
            .await;
        assert_eq!(r.status, 204, "{path}: {}", r.text);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        let methods = r.header("access-control-allow-methods").unwrap();
        assert!(methods.contains("GET"), "{methods}");
        let headers = r
            .header("access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        assert!(headers.contains("authorization"), "{headers}");
    }

    // An agent sees only the servers the active policy could allow it; a person sees all.
    let agent = api
        .create_agent(&admin, &json!({"name": unique("reg-agent")}))
        .await;
    let (_, key) = api.agent_key(&admin, &agent).await;
    api.activate_policy(&json!({
        "default": "deny",
        "rules": [{"id": "open", "effect": "allow", "rationale": "OPEN",
                   "principal": {"kind": "agent"}, "tool": {"tags": ["reg-open"]}}]
    }))
    .await;
    let r = api.get("/v0.1/servers", Some(&key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&r), [format!("{NS}/{a_name}")].into(), "{}", r.text);
    let r = api.get(&versions_path(&a_name), Some(&key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api.get(&versions_path(&b_name), Some(&key)).await;
    r.assert_problem(404);
    let r = api
        .get(&format!("{}/latest", versions_path(&b_name)), Some(&key))
        .await;
    r.assert_problem(404);
    let r = api.get("/v0.1/servers", Some(&admin)).await;
    assert_eq!(names(&r), want);
}

#[tokio::test]
async fn the_namespace_is_configurable() {
    let s = Server::start(&[("REGISTRY_NAMESPACE", "com.example.tools")]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    let mcp = McpServer::start("streamable-sse");
    let name = unique("reg_ns");
    create(&api, &admin, &remote(&name, &mcp.url, "auto")).await;
    let r = api.get("/v0.1/servers", Some(&admin)).await;
    assert_eq!(names(&r), [format!("com.example.tools/{name}")].into());
    let r = api
        .get(
            &format!("/v0.1/servers/com.example.tools%2F{name}/versions/latest"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api.get(&versions_path(&name), Some(&admin)).await;
    r.assert_problem(404);
}

fn run_import(s: &Server, dir: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(bin("toolreg"))
        .arg("import")
        .arg(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(&s.env)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run toolreg import");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn toolreg_import_creates_probed_remote_tools_from_server_json_files() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let mcp = McpServer::start("streamable-sse");
    let dir = toolreg_tests::proc::repo_root()
        .join("target/test-logs")
        .join(unique("import"));
    std::fs::create_dir_all(&dir).unwrap();
    let live = unique("imp_live");
    let dead = unique("imp_dead");
    let local = unique("imp_local");
    let write = |file: &str, v: Value| {
        std::fs::write(dir.join(file), serde_json::to_vec_pretty(&v).unwrap()).unwrap()
    };
    write(
        "live.json",
        json!({
            "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": format!("com.example.test/{}", live.replace('_', "-")),
            "title": "Live server",
            "description": "A live test server",
            "version": "1.2.3",
            "remotes": [{"type": "streamable-http", "url": mcp.url,
                         "headers": [{"name": "X-Team", "value": "blue"},
                                     {"name": "X-Optional", "isRequired": false}]}]
        }),
    );
    write(
        "dead.json",
        json!({
            "name": format!("com.example.test/{dead}"),
            "description": "Nobody answers",
            "version": "1.0.0",
            "remotes": [{"type": "sse", "url": "http://127.0.0.1:9/sse"}]
        }),
    );
    write(
        "local.json",
        json!({
            "name": format!("com.example.test/{local}"),
            "description": "Runs locally",
            "version": "1.0.0",
            "packages": [{"registryType": "npm", "identifier": "@example/x", "transport": {"type": "stdio"}}]
        }),
    );
    std::fs::write(dir.join("notes.txt"), "not a server").unwrap();

    let (ok, stdout, stderr) = run_import(s, &dir);
    assert!(!ok, "a failed import exits non-zero: {stdout}{stderr}");
    assert!(
        stdout.starts_with("created 1, skipped 1, failed 1\n"),
        "{stdout}\n{stderr}"
    );
    assert!(stderr.contains("[3/3]"), "{stderr}");
    let failed = stdout.split("\nfailed:\n").nth(1).unwrap_or_default();
    assert!(failed.contains(&dead), "{stdout}");
    assert!(failed.contains("probe failed"), "{stdout}");
    let skipped = stdout
        .split("\nskipped:\n")
        .nth(1)
        .unwrap_or_default()
        .split("\nfailed:\n")
        .next()
        .unwrap();
    assert!(
        skipped.contains(&local) && skipped.contains("no remotes"),
        "{stdout}"
    );

    // The live server is a probed, active remote tool with its static header stored sealed.
    let r = api
        .get(&format!("/api/v1/tools?q={live}"), Some(&admin))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    let t = &items[0];
    assert_eq!(t["name"], live);
    assert_eq!(t["display_name"], "Live server");
    assert_eq!(t["description"], "A live test server");
    assert_eq!(t["server_url"], mcp.url);
    assert_eq!(t["static_header_names"], json!(["X-Team"]));
    assert_eq!(t["probe"]["status"], "passed");
    assert!(t["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("mcp-registry-import")));
    let r = api
        .get(&format!("/api/v1/tools?q={dead}"), Some(&admin))
        .await;
    assert_eq!(r.body["items"], json!([]), "{}", r.text);

    // Again: the live one exists now, so it is skipped.
    let (ok, stdout, stderr) = run_import(s, &dir);
    assert!(!ok, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("created 0, skipped 2, failed 1\n"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("a tool named {live} exists")),
        "{stdout}"
    );

    // A single file without failures exits zero.
    let (ok, stdout, stderr) = run_import(s, &dir.join("local.json"));
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("created 0, skipped 1, failed 0"),
        "{stdout}"
    );
    let (ok, _, stderr) = run_import(s, &dir.join("missing.json"));
    assert!(!ok);
    assert!(stderr.contains("no such file"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
