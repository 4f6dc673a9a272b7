//! Servers that answer with oversized data (a 500 KB serverInfo.name, 3000 long-named tools, a
//! 500 KB error text) never make toolreg answer 500 or keep a stale status: what is stored and
//! answered is bounded, on create, test-connection, reprobe and the scheduled re-probe.

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use toolreg_core::domain::audit::{Actor, AuditEvent, Outcome, RequestMeta};
use toolreg_core::domain::probe::{
    ProbeStatus, MAX_ERROR_CHARS, MAX_SERVER_TEXT_CHARS, MAX_TOOL_NAMES, MAX_TOOL_NAME_CHARS,
    TRUNCATED,
};
use toolreg_tests::api::{unique, Api};
use toolreg_tests::fixtures::stale_tool;
use toolreg_tests::mcp::McpServer;
use toolreg_tests::stack::{bin, server, server_env, Endpoints, Server};

/// Everything a response may be: far below anything the server sent.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

fn remote(name: &str, url: &str) -> Value {
    json!({
        "tool_type": "remote",
        "name": name,
        "display_name": "Oversized",
        "description": "An MCP server that answers too much",
        "risk_level": "low",
        "server_url": url,
        "transport_preference": "auto",
    })
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Asserts a probe (as JSON) holds no server-controlled value beyond its bound.
fn assert_bounded(p: &Value, ctx: &str) {
    for k in ["server_name", "server_version", "protocol_version"] {
        assert!(
            chars(&p[k]) <= MAX_SERVER_TEXT_CHARS,
            "{ctx}: {k} unbounded"
        );
    }
    assert!(
        chars(&p["error"]) <= MAX_ERROR_CHARS,
        "{ctx}: error unbounded"
    );
    let names = p["tool_names"].as_array().cloned().unwrap_or_default();
    assert!(
        names.len() <= MAX_TOOL_NAMES,
        "{ctx}: {} names",
        names.len()
    );
    assert!(
        names.iter().all(|n| chars(n) <= MAX_TOOL_NAME_CHARS),
        "{ctx}: a tool name is unbounded"
    );
}

/// What each oversized kind must give: (kind, passes, check of the probe).
fn check(kind: &str, p: &Value) {
    assert_bounded(p, kind);
    match kind {
        "huge-name" => {
            assert_eq!(p["status"], json!("passed"), "{kind}: {p}");
            let name = p["server_name"].as_str().unwrap();
            assert!(
                name.starts_with("NNNN") && name.ends_with(TRUNCATED),
                "{name}"
            );
            assert!(p["server_version"].as_str().unwrap().ends_with(TRUNCATED));
        }
        "many-tools" => {
            assert_eq!(p["status"], json!("passed"), "{kind}: {}", p["error"]);
            assert_eq!(p["tool_count"], json!(3000), "the count is the full count");
            assert_eq!(p["tool_names"].as_array().unwrap().len(), MAX_TOOL_NAMES);
            assert!(p["tool_names"][0]
                .as_str()
                .unwrap()
                .starts_with("tool_0000_"));
            assert_eq!(p["tools_sha256"].as_str().unwrap().len(), 64);
        }
        "huge-error" => {
            assert_eq!(p["status"], json!("failed"), "{kind}: {p}");
            let e = p["error"].as_str().unwrap();
            assert!(e.contains("tools/list failed"), "{e}");
            assert!(e.contains(TRUNCATED), "{e}");
        }
        other => unreachable!("{other}"),
    }
}

const KINDS: [&str; 3] = ["huge-name", "many-tools", "huge-error"];

#[tokio::test]
async fn create_and_test_connection_answer_bounded_data_never_500() {
    let api = Api::new(server());
    let admin = api.admin().await;
    for kind in KINDS {
        let mcp = McpServer::start(kind);

        let t = api
            .post(
                "/api/v1/tools/remote/test-connection",
                Some(&admin),
                &json!({"server_url": mcp.url}),
            )
            .await;
        assert_eq!(t.status, 200, "{kind}: test-connection {}", t.status);
        assert!(
            t.text.len() < MAX_RESPONSE_BYTES,
            "{kind}: {} bytes",
            t.text.len()
        );
        check(kind, &t.body);

        let name = unique("oversize");
        let r = api
            .post("/api/v1/tools", Some(&admin), &remote(&name, &mcp.url))
            .await;
        assert!(
            r.text.len() < MAX_RESPONSE_BYTES,
            "{kind}: {} bytes",
            r.text.len()
        );
        if kind == "huge-error" {
            r.assert_problem(422);
            assert_eq!(r.body["type"], json!("urn:toolreg:problem:probe-failed"));
            assert!(
                chars(&r.body["detail"]) <= MAX_ERROR_CHARS + 100,
                "the problem's detail is bounded"
            );
            check(kind, &r.body["probe"]);
        } else {
            assert_eq!(r.status, 201, "{kind}: create {}", r.status);
            check(kind, &r.body["probe"]);
            let id = r.body["id"].as_str().unwrap();
            let g = api.get(&format!("/api/v1/tools/{id}"), Some(&admin)).await;
            assert_eq!(g.status, 200);
            check(kind, &g.body["probe"]);
        }
    }
}

#[tokio::test]
async fn reprobe_of_a_server_turned_oversized_records_bounded_data() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let port = toolreg_tests::proc::free_port().to_string();
    let good = McpServer::start_with("stateless", &["--port", &port]);
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &remote(&unique("turns_big"), &good.url),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    drop(good);
    for kind in KINDS {
        // The same URL now answers with oversized data.
        let _mcp = McpServer::start_with(kind, &["--port", &port]);
        let rp = api
            .post(
                &format!("/api/v1/tools/{id}/reprobe"),
                Some(&admin),
                &json!({}),
            )
            .await;
        assert_eq!(rp.status, 200, "{kind}: reprobe {}", rp.status);
        assert!(
            rp.text.len() < MAX_RESPONSE_BYTES,
            "{kind}: {} bytes",
            rp.text.len()
        );
        check(kind, &rp.body["probe"]);
        let h = api
            .get(&format!("/api/v1/tools/{id}/probes?limit=1"), Some(&admin))
            .await;
        assert_eq!(h.status, 200, "{kind}: history");
        check(kind, &h.body["items"][0]);
    }
}

#[tokio::test]
async fn the_scheduled_reprobe_records_a_status_for_oversized_servers() {
    let s = Server::start_with_env(server_env(
        &Endpoints::shared(),
        &[("PROBE_TIMEOUT_SECONDS", "10")],
    ));
    let state = s.state().await;
    let servers: Vec<(&str, McpServer)> = KINDS.iter().map(|k| (*k, McpServer::start(k))).collect();
    let meta = RequestMeta::default();
    let mut tools = Vec::new();
    for (i, (kind, mcp)) in servers.iter().enumerate() {
        let t = stale_tool(format!("oversize_stale_{i}"), &mcp.url);
        let ev = AuditEvent::new("tool.create", Outcome::Success, &Actor::default(), &meta)
            .target("tool", &t.id.to_string());
        state
            .store
            .create_tool(&t, 0, &ev)
            .await
            .expect("seed a stale tool");
        tools.push((*kind, t.id));
    }

    let out = Command::new(bin("toolreg"))
        .args(["reprobe", "--once"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(&s.env)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run toolreg reprobe");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "toolreg reprobe failed: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(text.lines().last().unwrap_or(""))
        .unwrap_or_else(|_| panic!("summary JSON: {text}"));
    assert_eq!(summary["errors"], 0, "{summary}");
    assert_eq!(summary["probed"], 3, "{summary}");
    assert_eq!(summary["failed"], 1, "{summary}");

    let now = toolreg_core::time::stamp(toolreg_core::time::now());
    for (kind, id) in &tools {
        let t = state.store.get_tool(*id).await.unwrap().expect("tool");
        assert_eq!(t.version, 2, "{kind}: a status was recorded");
        let p = t.remote().unwrap().last_probe.clone().unwrap();
        assert!(p.valid_until > now, "{kind}: still stale");
        let expected = if *kind == "huge-error" {
            ProbeStatus::Failed
        } else {
            ProbeStatus::Passed
        };
        assert_eq!(p.outcome.status, expected, "{kind}: {:?}", p.outcome.error);
        check(kind, &serde_json::to_value(&p.outcome).unwrap());
    }
}
