//! Schemathesis (property-based testing from /openapi.json) with every check, against a
//! production-like server: private networks refused, a short probe timeout.

use std::process::Command;
use toolreg_tests::api::Api;
use toolreg_tests::proc::{repo_root, venv_python};
use toolreg_tests::stack::Server;

#[tokio::test]
async fn schemathesis_finds_nothing_with_every_check() {
    let s = Server::start(&[
        ("PROBE_ALLOW_PRIVATE_NETWORKS", "false"),
        ("PROBE_TIMEOUT_SECONDS", "1"),
    ]);
    let token = Api::new(&s).admin().await;
    let st = venv_python().with_file_name("schemathesis");
    let report = repo_root().join("target/schemathesis");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .current_dir(repo_root())
            .args(["--config-file", "schemathesis.toml", "run"])
            .arg(format!("{}/openapi.json", s.base))
            .args([
                "--checks",
                "all",
                "--max-examples",
                "25",
                "--seed",
                "1",
                "--workers",
                "2",
            ])
            .arg("--header")
            .arg(format!("Authorization: Bearer {token}"))
            .arg("--report-dir")
            .arg(report)
            .env("SCHEMATHESIS_TELEMETRY", "false")
            .output()
            .expect("run schemathesis from the project virtualenv (make venv)")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis reported failures:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Coverage") && text.contains("Fuzzing"),
        "the run covered its phases:\n{text}"
    );
}
