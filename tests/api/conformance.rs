//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in the
//! Makefile, installed in .npm-tools/ by `make test`), run unmodified: its client scenario
//! `initialize` against the prober, and its server scenario `dns-rebinding-protection`
//! against `/mcp`. Node 20 lacks the `fs.globSync` the suite imports, so node preloads
//! scripts/node-globsync/register.mjs (README, "The catalog over MCP").

use serde_json::Value;
use std::path::{Path, PathBuf};
use toolreg_tests::api::{unique, Api};
use toolreg_tests::proc::repo_root;
use toolreg_tests::proxy::Proxy;
use toolreg_tests::stack::{bin, Server};

/// `node <suite> args…` with the globSync preload; answers (success, stdout + stderr).
async fn suite(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let root = repo_root();
    let entry =
        root.join(".npm-tools/node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(
        entry.exists(),
        "{} is missing: run `make conformance` (make test does)",
        entry.display()
    );
    let out = tokio::process::Command::new("node")
        .arg("--import")
        .arg(root.join("scripts/node-globsync/register.mjs"))
        .arg(entry)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Every check the suite wrote under `dir` (each scenario's `checks.json`).
fn checks(dir: &Path) -> Vec<Value> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.file_name().is_some_and(|n| n == "checks.json") {
                let text = std::fs::read_to_string(&p).expect("read checks.json");
                let list: Vec<Value> = serde_json::from_str(&text).expect("checks.json is a list");
                found.extend(list);
            }
        }
    }
    found
}

fn out_dir(what: &str) -> PathBuf {
    let d = repo_root().join("target/conformance").join(unique(what));
    std::fs::create_dir_all(&d).expect("create the results directory");
    d
}

/// The check `id` among `checks`, which must have passed.
#[track_caller]
fn assert_passed(checks: &[Value], id: &str, output: &str) {
    let check = checks
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {output}"));
    assert_eq!(check["status"], "SUCCESS", "{check}\n{output}");
}

#[tokio::test]
async fn the_prober_passes_the_conformance_client_scenario_initialize() {
    // The suite starts its own minimal 2025 server (it answers server/discover with an empty
    // result) and runs the "client" with its URL: `toolreg probe <url>`.
    let dir = out_dir("client-initialize");
    let command = format!("{} probe", bin("toolreg").display());
    let (ok, output) = suite(
        &[
            "client",
            "--command",
            &command,
            "--scenario",
            "initialize",
            "-o",
            dir.to_str().unwrap(),
        ],
        &[("PROBE_ALLOW_PRIVATE_NETWORKS", "true")],
    )
    .await;
    let checks = checks(&dir);
    assert_passed(&checks, "mcp-client-initialization", &output);
    assert!(checks.iter().all(|c| c["status"] != "FAILURE"), "{output}");
    assert!(ok, "the suite reported a failure: {output}");
}

#[tokio::test]
async fn mcp_passes_the_conformance_server_scenario_dns_rebinding_protection() {
    // The scenario sends an unauthenticated `initialize` twice: with a foreign Host and Origin
    // (must be a 4xx) and with the server's own (must be a 2xx). /mcp needs a credential, so a
    // loopback proxy adds one and forwards everything else as sent, Host and Origin included:
    // the 4xx must then come from the Origin check, not from authentication.
    let proxy = Proxy::start(
        "http://127.0.0.1:9",
        &[],
        std::sync::Arc::new(|_, _, _, _| None),
    );
    let own = proxy.url.clone();
    let s = Server::start(&[("ALLOWED_ORIGINS", &own)]);
    proxy.set_upstream(&s.base);
    let api = Api::new(&s);
    let token = api.admin().await;
    proxy.set_headers(&[("authorization", &format!("Bearer {token}"))]);

    let dir = out_dir("server-dns-rebinding");
    let (ok, output) = suite(
        &[
            "server",
            "--url",
            &format!("{own}/mcp"),
            "--scenario",
            "dns-rebinding-protection",
            "-o",
            dir.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    let checks = checks(&dir);
    assert_passed(&checks, "localhost-host-rebinding-rejected", &output);
    assert_passed(&checks, "localhost-host-valid-accepted", &output);
    let rejected = checks
        .iter()
        .find(|c| c["id"] == "localhost-host-rebinding-rejected")
        .unwrap();
    assert_eq!(
        rejected["details"]["statusCode"], 403,
        "refused for its Origin: {rejected}"
    );
    assert!(ok, "the suite reported a failure: {output}");
}
