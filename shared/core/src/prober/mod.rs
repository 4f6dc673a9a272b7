//! The prober: proves a remote tool's server is alive and speaks MCP, by speaking MCP to it.
//!
//! Streamable HTTP: `initialize` (JSON or SSE answer), `notifications/initialized`,
//! `tools/list` following cursors, then the session is deleted. Legacy SSE: the `endpoint` event,
//! POSTs to it, results read from the stream. `auto` tries streamable HTTP first and falls back
//! to SSE on 400/404/405. 401/403 means alive but requiring auth. Everything runs under one
//! deadline, against addresses checked by `ssrf`, with no redirects and capped bodies; every
//! failure becomes a `Failed` outcome with a reason a person can act on, never an error.

pub mod challenge;
mod client;
mod flows;
pub mod sse;
pub mod ssrf;

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Limits every probe runs under.
#[derive(Clone, Debug)]
pub struct ProbeSettings {
    /// The whole probe's budget (`PROBE_TIMEOUT_SECONDS`).
    pub timeout: Duration,
    /// Lifts the address check (local development and tests only).
    pub allow_private_networks: bool,
    /// Cap on the bytes read from any one response or stream.
    pub max_body_bytes: usize,
}

/// The transport a tool asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportPreference {
    Auto,
    StreamableHttp,
    Sse,
}

/// The transport the server was found to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectedTransport {
    StreamableHttp,
    Sse,
}

/// The verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    Passed,
    Failed,
}

/// What to probe.
#[derive(Clone, Debug)]
pub struct ProbeTarget {
    pub url: String,
    pub transport: TransportPreference,
    /// Decrypted static headers, sent on every request.
    pub headers: Vec<(String, String)>,
}

/// What a 401/403 said about authenticating.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct AuthChallenge {
    pub www_authenticate: Option<String>,
    pub resource_metadata_url: Option<String>,
    /// From the RFC 9728 metadata document, when it could be fetched.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    #[serde(default)]
    pub resource: Option<String>,
}

/// A probe's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeOutcome {
    pub status: ProbeStatus,
    pub detected_transport: Option<DetectedTransport>,
    pub requires_auth: bool,
    #[serde(default)]
    pub auth_challenge: Option<AuthChallenge>,
    pub protocol_version: Option<String>,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub tool_count: Option<u32>,
    #[serde(default)]
    pub tool_names: Vec<String>,
    /// SHA-256 (hex) of the tool list, sorted by name, as canonical JSON: changes when any tool's
    /// definition changes, not when the server reorders them.
    pub tools_sha256: Option<String>,
    pub response_time_ms: u64,
    pub error: Option<String>,
}

impl ProbeOutcome {
    fn failed(error: String, elapsed: Duration) -> Self {
        Self {
            status: ProbeStatus::Failed,
            detected_transport: None,
            requires_auth: false,
            auth_challenge: None,
            protocol_version: None,
            server_name: None,
            server_version: None,
            tool_count: None,
            tool_names: Vec::new(),
            tools_sha256: None,
            response_time_ms: elapsed.as_millis() as u64,
            error: Some(error),
        }
    }
}

/// Validates a server URL before any probe: https (http only when `allow_http`), a host, no
/// credentials in it.
pub fn check_server_url(url: &str, allow_http: bool) -> Result<url::Url, String> {
    if !url.is_ascii() || url.chars().any(|c| c.is_ascii_control() || c == ' ') {
        return Err(
            "must be an ASCII URI without spaces (write international domain names in punycode)"
                .into(),
        );
    }
    let u = url::Url::parse(url).map_err(|e| format!("is not a valid URL ({e})"))?;
    match u.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err("must use https (plain http is allowed only in local development)".into())
        }
        other => return Err(format!("must use https, not {other}")),
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry credentials; use static_headers".into());
    }
    Ok(u)
}

/// Probes remote MCP servers. Cheap to share: one HTTP client whose resolver enforces the
/// address rules.
pub struct Prober {
    client: reqwest::Client,
    settings: ProbeSettings,
}

impl Prober {
    pub fn new(settings: ProbeSettings) -> Self {
        Self {
            client: client::build(&settings),
            settings,
        }
    }

    /// Probes `target` and never fails: problems are `Failed` outcomes with a reason.
    pub async fn probe(&self, target: &ProbeTarget) -> ProbeOutcome {
        let started = Instant::now();
        let progress = flows::Progress::default();
        let run = flows::run(
            &self.client,
            &self.settings,
            target,
            started + self.settings.timeout,
            &progress,
        );
        let mut outcome = match tokio::time::timeout(self.settings.timeout, run).await {
            Ok(Ok(found)) => found.into_outcome(),
            Ok(Err(reason)) => ProbeOutcome::failed(reason, started.elapsed()),
            Err(_) => ProbeOutcome::failed(
                format!(
                    "timed out after {:.1}s {}",
                    self.settings.timeout.as_secs_f64(),
                    progress.get()
                ),
                started.elapsed(),
            ),
        };
        outcome.response_time_ms = started.elapsed().as_millis() as u64;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_checked() {
        assert!(check_server_url("https://mcp.example.com/mcp", false).is_ok());
        assert!(check_server_url("http://mcp.example.com/mcp", false).is_err());
        assert!(check_server_url("http://127.0.0.1:9/mcp", true).is_ok());
        assert!(check_server_url("ftp://example.com/", true).is_err());
        assert!(check_server_url("https://user:pw@example.com/", false).is_err());
        assert!(check_server_url("not a url", false).is_err());
        assert!(check_server_url("https://", false).is_err());
        assert!(check_server_url("file:///etc/passwd", true).is_err());
    }
}
