//! Real MCP servers (and broken ones) on loopback, from tests/mcp/serve.py and the official
//! `mcp` Python SDK in the project virtualenv.

use crate::proc::{repo_root, spawn_and_read_line, venv_python};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server; killed on drop.
pub struct McpServer {
    /// The URL to probe.
    pub url: String,
    child: Child,
}

impl McpServer {
    /// Starts a server of `kind` (see serve.py) on a free port.
    pub fn start(kind: &str) -> McpServer {
        Self::start_with(kind, &[])
    }

    /// Starts a server of `kind` with extra arguments (e.g. `--latency-ms 50`).
    pub fn start_with(kind: &str, args: &[&str]) -> McpServer {
        let mut cmd = Command::new(venv_python());
        cmd.arg(repo_root().join("tests/mcp/serve.py"))
            .arg(kind)
            .args(["--port", "0"])
            .args(args)
            .stderr(Stdio::null());
        let (child, url) = spawn_and_read_line(cmd, "LISTENING ", Duration::from_secs(30));
        McpServer { url, child }
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
