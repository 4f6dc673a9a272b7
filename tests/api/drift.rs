//! Tool drift: a remote tool keeps the tool list it was approved with; a server that changes
//! its list is caught by the next probe, on demand or scheduled, until an admin approves it.
//! Real MCP servers whose tool list is switched through a file they read on every tools/list.

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use toolreg_core::domain::audit::{Actor, AuditEvent, Outcome, RequestMeta};
use toolreg_core::domain::drift::ToolList;
use toolreg_tests::api::{unique, Api};
use toolreg_tests::fixtures::stale_tool;
use toolreg_tests::mcp::McpServer;
use toolreg_tests::stack::{bin, server, server_env, Endpoints, Server};

/// A tools file for `serve.py --tools-file`, removed on drop.
struct ToolsFile(PathBuf);

impl ToolsFile {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!("{}.json", unique("toolreg-tools"))))
    }
    fn write(&self, tools: &Value) {
        std::fs::write(&self.0, tools.to_string()).expect("write the tools file");
    }
    fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for ToolsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn tool(name: &str, description: &str, properties: Value) -> Value {
    json!({"name": name, "description": description,
           "inputSchema": {"type": "object", "properties": properties}})
}

fn v1() -> Value {
    json!([
        tool(
            "echo",
            "Echo the text back.",
            json!({"text": {"type": "string"}})
        ),
        tool(
            "add",
            "Add two integers.",
            json!({"a": {"type": "integer"}, "b": {"type": "integer"}})
        ),
    ])
}

/// `echo` changed (its schema), `add` gone, `delete_everything` new.
fn v2() -> Value {
    json!([
        tool(
            "echo",
            "Echo the text back.",
            json!({"text": {"type": "string"}, "shout": {"type": "boolean"}})
        ),
        tool("delete_everything", "Deletes everything.", json!({})),
    ])
}

fn listed(r: &Value, id: &str) -> bool {
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == json!(id))
}

async fn actions(api: &Api, admin: &str, id: &str) -> Vec<String> {
    let a = api
        .get(
            &format!("/api/v1/audit-events?target_id={id}&limit=100"),
            Some(admin),
        )
        .await;
    a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_changed_tool_list_marks_the_tool_drifted_until_an_admin_approves_it() {
    let file = ToolsFile::new();
    file.write(&v1());
    let mcp = McpServer::start_with("modern-only", &["--tools-file", file.arg()]);
    let api = Api::new(server());
    let admin = api.admin().await;
    let name = unique("drifty");
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &json!({"tool_type": "remote", "name": name, "risk_level": "high", "server_url": mcp.url}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    // The first probe's list is the approved one.
    assert_eq!(r.body["drifted"], json!(false));
    assert!(r.body["tool_drift"].is_null());
    let approved_v1 = r.body["probe"]["tools_sha256"].clone();
    assert_eq!(r.body["approved_tools_sha256"], approved_v1);
    let q = format!("/api/v1/tools?q={}&limit=100", name.to_lowercase());
    let drifted = format!("{q}&drifted=true");
    let not_drifted = format!("{q}&drifted=false");
    assert!(!listed(&api.get(&drifted, Some(&admin)).await.body, &id));
    assert!(listed(&api.get(&not_drifted, Some(&admin)).await.body, &id));

    // Same list: a reprobe finds no drift.
    let rp = api
        .post(
            &format!("/api/v1/tools/{id}/reprobe"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(rp.status, 200, "{}", rp.text);
    assert_eq!(rp.body["drifted"], json!(false));

    // The server changes its tools.
    file.write(&v2());
    let rp = api
        .post(
            &format!("/api/v1/tools/{id}/reprobe"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(rp.status, 200, "{}", rp.text);
    assert_eq!(rp.body["drifted"], json!(true), "{}", rp.text);
    let d = &rp.body["tool_drift"];
    assert_eq!(d["added"], json!(["delete_everything"]), "{d}");
    assert_eq!(d["removed"], json!(["add"]));
    assert_eq!(d["changed"], json!(["echo"]));
    assert_eq!(d["partial"], json!(false));
    assert_eq!(d["tools_sha256"], rp.body["probe"]["tools_sha256"]);
    assert_ne!(d["tools_sha256"], approved_v1);
    assert_eq!(
        rp.body["approved_tools_sha256"], approved_v1,
        "approval is an admin's call"
    );
    let etag = rp.header("etag").unwrap().to_owned();
    let drift_events = |a: &[String]| a.iter().filter(|a| *a == "tool.remote.drift").count();
    let a = actions(&api, &admin, &id).await;
    assert_eq!(drift_events(&a), 1, "{a:?}");
    let ev = api
        .get(
            &format!("/api/v1/audit-events?target_id={id}&action=tool.remote.drift"),
            Some(&admin),
        )
        .await;
    let details = &ev.body["items"][0]["details"];
    assert_eq!(
        details["added"],
        json!(["delete_everything"]),
        "{}",
        ev.text
    );
    assert_eq!(
        details["probe_id"], rp.body["probe"]["id"],
        "the drift names its probe"
    );
    assert!(listed(&api.get(&drifted, Some(&admin)).await.body, &id));
    assert!(!listed(
        &api.get(&not_drifted, Some(&admin)).await.body,
        &id
    ));
    api.get("/api/v1/tools?drifted=maybe", Some(&admin))
        .await
        .assert_problem(400);

    // The same drift found again is not audited again.
    let again = api
        .post(
            &format!("/api/v1/tools/{id}/reprobe"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(again.body["drifted"], json!(true));
    assert_eq!(drift_events(&actions(&api, &admin, &id).await), 1);

    // Approving: If-Match like every tool write; then the flag is gone.
    let path = format!("/api/v1/tools/{id}/approve-tools");
    api.send("POST", &path, Some(&admin), None, &[("if-match", &etag)])
        .await
        .assert_problem(412);
    let current = again.header("etag").unwrap().to_owned();
    let ok = api
        .send("POST", &path, Some(&admin), None, &[("if-match", &current)])
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["drifted"], json!(false));
    assert!(ok.body["tool_drift"].is_null());
    assert_eq!(ok.body["approved_tools_sha256"], d["tools_sha256"]);
    let version = ok.body["version"].clone();
    assert!(actions(&api, &admin, &id)
        .await
        .contains(&"tool.remote.approve_tools".to_owned()));
    assert!(!listed(&api.get(&drifted, Some(&admin)).await.body, &id));
    // Nothing left to approve: unchanged, no write.
    let twice = api.post(&path, Some(&admin), &json!({})).await;
    assert_eq!(twice.status, 200, "{}", twice.text);
    assert_eq!(twice.body["version"], version);

    // Back to the old list: that is a drift from the new approval.
    file.write(&v1());
    let back = api
        .post(
            &format!("/api/v1/tools/{id}/reprobe"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(back.body["drifted"], json!(true), "{}", back.text);
    assert_eq!(back.body["tool_drift"]["added"], json!(["add"]));
    assert_eq!(
        back.body["tool_drift"]["removed"],
        json!(["delete_everything"])
    );

    // Approving is for admins only, and for remote tools only.
    let f = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &json!({"tool_type": "function", "name": unique("fn_no_list"), "risk_level": "low",
                    "input_schema": {"type": "object"}}),
        )
        .await;
    let fid = f.body["id"].as_str().unwrap();
    api.post(
        &format!("/api/v1/tools/{fid}/approve-tools"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_problem(409);
    let missing = uuid::Uuid::new_v4();
    api.post(
        &format!("/api/v1/tools/{missing}/approve-tools"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_problem(404);
}

#[tokio::test]
async fn the_scheduled_reprober_counts_drifted_tools_in_its_summary_and_metric() {
    let s = Server::start_with_env(server_env(&Endpoints::shared(), &[]));
    let file = ToolsFile::new();
    file.write(&v2());
    let mcp = McpServer::start_with("stateless", &["--tools-file", file.arg()]);
    let state = s.state().await;
    let meta = RequestMeta::default();
    // Three due tools: two approved with another list (they drift), one without an approved
    // list yet (its first list becomes the approved one).
    let mut ids = Vec::new();
    for (i, approved) in [true, true, false].into_iter().enumerate() {
        let mut t = stale_tool(format!("drift_due_{i}"), &mcp.url);
        if approved {
            t.remote_mut().unwrap().approved_tools = Some(ToolList {
                sha256: "0".repeat(64),
                tools: [("add".to_string(), "0123456789abcdef".to_string())].into(),
                partial: false,
            });
        }
        let ev = AuditEvent::new("tool.create", Outcome::Success, &Actor::default(), &meta)
            .target("tool", &t.id.to_string());
        state.store.create_tool(&t, 0, &ev).await.expect("seed");
        ids.push(t.id);
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let summary = lines.last().expect("a summary line");
    assert_eq!(summary["probed"], 3, "{stdout}");
    assert_eq!(summary["drifted"], 2, "{stdout}");
    let emf = lines
        .iter()
        .find(|l| l.get("_aws").is_some())
        .unwrap_or_else(|| panic!("an EMF record: {stdout}"));
    assert_eq!(emf["ReprobeDrifted"], 2, "{emf}");
    assert!(emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["Name"] == "ReprobeDrifted"));

    for (i, id) in ids.iter().enumerate() {
        let t = state.store.get_tool(*id).await.unwrap().unwrap();
        let r = t.remote().unwrap();
        if i < 2 {
            let d = r.drift.as_ref().expect("drifted");
            assert_eq!(d.added, ["delete_everything", "echo"]);
            assert_eq!(d.removed, ["add"]);
        } else {
            assert!(r.drift.is_none());
            assert_eq!(
                r.approved_tools.as_ref().unwrap().sha256,
                r.last_probe
                    .as_ref()
                    .unwrap()
                    .outcome
                    .tools_sha256
                    .clone()
                    .unwrap()
            );
        }
    }
}
