//! The scheduled re-prober: 300 stale tools against real MCP servers, two overlapping runs of
//! `toolreg reprobe --once`.

use serde_json::Value;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use toolreg_core::domain::audit::{Actor, AuditEvent, Outcome, RequestMeta};
use toolreg_core::domain::tool::ToolId;
use toolreg_core::probe::ProbeStatus;
use toolreg_tests::fixtures::stale_tool;
use toolreg_tests::mcp::McpServer;
use toolreg_tests::stack::{bin, server_env, Endpoints, Server};

#[tokio::test]
async fn one_run_refreshes_300_stale_tools_and_an_overlapping_run_changes_nothing_more() {
    let s = Server::start_with_env(server_env(
        &Endpoints::shared(),
        &[("REPROBE_CONCURRENCY", "4"), ("PROBE_TIMEOUT_SECONDS", "2")],
    ));
    let healthy = McpServer::start("stateless");
    let streaming = McpServer::start("streamable-sse");
    let auth = McpServer::start("auth");
    let dead_url = format!("http://127.0.0.1:{}/mcp", toolreg_tests::proc::free_port());
    let state = s.state().await;

    // (url, expected status, expected requires_auth)
    let groups = [
        (healthy.url.clone(), ProbeStatus::Passed, false, 90),
        (streaming.url.clone(), ProbeStatus::Passed, false, 60),
        (auth.url.clone(), ProbeStatus::Passed, true, 75),
        (dead_url.clone(), ProbeStatus::Failed, false, 75),
    ];
    let mut expected: HashMap<ToolId, (ProbeStatus, bool)> = HashMap::new();
    let mut tools = Vec::new();
    for (g, (url, status, auth_required, n)) in groups.iter().enumerate() {
        for i in 0..*n {
            let t = stale_tool(format!("stale_{g}_{i}"), url);
            expected.insert(t.id, (*status, *auth_required));
            tools.push(t);
        }
    }
    assert_eq!(tools.len(), 300);
    let meta = RequestMeta::default();
    for chunk in tools.chunks(16) {
        let writes = chunk.iter().map(|t| {
            let ev = AuditEvent::new("tool.create", Outcome::Success, &Actor::default(), &meta)
                .target("tool", &t.id.to_string());
            let st = &state;
            async move { st.store.create_tool(t, 0, &ev).await }
        });
        for r in futures::future::join_all(writes).await {
            r.expect("seed a stale tool");
        }
    }

    // Two overlapping runs of the CLI.
    let run = || {
        Command::new(bin("toolreg"))
            .args(["reprobe", "--once"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&s.env)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn toolreg reprobe")
    };
    let a = run();
    let b = run();
    let (sa, sb) = (wait_json(a), wait_json(b));
    let probed = sa["probed"].as_u64().unwrap() + sb["probed"].as_u64().unwrap();
    assert_eq!(
        probed, 300,
        "every tool probed exactly once across both runs: {sa} {sb}"
    );
    assert_eq!(sa["errors"], 0);
    assert_eq!(sb["errors"], 0);

    let now = toolreg_core::time::stamp(toolreg_core::time::now());
    for (id, (status, auth_required)) in &expected {
        let t = state
            .store
            .get_tool(*id)
            .await
            .unwrap()
            .expect("tool still there");
        let p = t.remote().unwrap().last_probe.clone().unwrap();
        assert!(p.valid_until > now, "{id} is still stale");
        assert_eq!(p.outcome.status, *status, "{id}: {:?}", p.outcome.error);
        assert_eq!(p.outcome.requires_auth, *auth_required, "{id}");
        assert_eq!(t.version, 2, "{id} was written exactly once");
    }
    // Nothing is due any more: a third run probes nothing.
    let c = wait_json(run());
    assert_eq!(c["due"], 0, "{c}");
}

fn wait_json(child: std::process::Child) -> Value {
    let out = child.wait_with_output().expect("toolreg reprobe finished");
    assert!(
        out.status.success(),
        "toolreg reprobe failed: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let logs = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .take(3)
        .collect();
    eprintln!("{}", errors.join("\n"));
    serde_json::from_str(text.lines().last().unwrap_or(""))
        .unwrap_or_else(|_| panic!("summary JSON: {text}"))
}
