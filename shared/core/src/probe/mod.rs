//! The prober: proves a remote tool's server is alive and speaks MCP, by speaking MCP to it.
//!
//! Streamable HTTP at the 2026-07-28 revision first: `server/discover` and `tools/list`, each a
//! self-contained POST with its revision in `_meta` and in the `MCP-Protocol-Version` /
//! `Mcp-Method` headers. A modern refusal (JSON-RPC −32022 or −32020) is retried at a revision
//! the server names; any other 400/404/405 means an older server, probed with the handshake:
//! `initialize` (JSON or SSE answer), `notifications/initialized`, `tools/list` following
//! cursors, then the session is deleted. Legacy SSE: the `endpoint` event, POSTs to it, results
//! read from the stream. `auto` falls back from streamable HTTP to SSE on 400/404/405. The
//! outcome's `protocol_version` is the revision the probe spoke. 401/403 means alive but
//! requiring auth (never a fallback), with the RFC 9728 / RFC 8414 discovery of `discovery`;
//! with static headers sent it means they were rejected, a failed probe. Everything runs under one
//! deadline, against addresses checked by `ssrf`, with no redirects and capped bodies; every
//! failure becomes a `Failed` outcome with a reason a person can act on, never an error, and
//! every string and list the server controls is bounded before it leaves (see `domain::probe`).
//!
//! Layout: `modern` (2026-07-28), `streamable` (handshake) and `legacy_sse` are the flows;
//! `discovery` reads what a 401/403 says about authenticating; `exchange` is what they
//! share (requests, answers, the auth challenge, the one `tools/list` paging loop); `client` the
//! guarded HTTP client; `ssrf` the address rules; `sse` and `challenge` parsers. The value types
//! live in `domain::probe` and are re-exported here.

pub mod challenge;
mod client;
mod discovery;
mod error;
mod exchange;
mod legacy_sse;
mod modern;
pub mod sse;
pub mod ssrf;
mod streamable;

pub use crate::domain::probe::{
    AuthChallenge, DetectedTransport, ProbeOutcome, ProbeStatus, TransportPreference,
};
use error::{ProbeError, Step};
use exchange::{Ctx, Found, Progress};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
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

/// What to probe.
#[derive(Clone, Debug)]
pub struct ProbeTarget {
    pub url: String,
    pub transport: TransportPreference,
    /// Decrypted static headers, sent on every request.
    pub headers: Vec<(String, String)>,
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

    /// Probes `target` and never fails: problems are `Failed` outcomes with a reason. Every
    /// string and list the server controls comes back bounded (see `domain::probe`).
    pub async fn probe(&self, target: &ProbeTarget) -> ProbeOutcome {
        let started = Instant::now();
        let progress = Progress::default();
        let run = run(&self.client, &self.settings, target, &progress);
        let mut outcome = match tokio::time::timeout(self.settings.timeout, run).await {
            Ok(Ok(found)) => found.into_outcome(),
            Ok(Err(why)) => ProbeOutcome::failed(why.to_string(), started.elapsed()),
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
        outcome.bounded()
    }
}

/// Runs the probe for `target`; the caller applies the deadline.
async fn run(
    client: &reqwest::Client,
    settings: &ProbeSettings,
    target: &ProbeTarget,
    progress: &Progress,
) -> Step<Found> {
    let url = url::Url::parse(&target.url)
        .map_err(|e| ProbeError::Refused(format!("the server URL is not valid ({e})")))?;
    if !settings.allow_private_networks {
        if let Some(why) = ssrf::literal_reason(&url) {
            return Err(ProbeError::Refused(format!(
                "{why}; probing it is not allowed"
            )));
        }
    }
    let mut headers = HeaderMap::new();
    for (k, v) in &target.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| ProbeError::Refused(format!("static header name {k:?} is not valid")))?;
        // Values are secrets: never echo them in an error.
        let value = HeaderValue::from_str(v)
            .map_err(|_| ProbeError::Refused(format!("static header {k} has an invalid value")))?;
        headers.insert(name, value);
    }
    let ctx = Ctx {
        client,
        settings,
        headers,
        progress,
        started: Instant::now(),
        static_header_names: target.headers.iter().map(|(k, _)| k.clone()).collect(),
    };
    match target.transport {
        TransportPreference::StreamableHttp => streamable::probe(&ctx, &url).await,
        TransportPreference::Sse => legacy_sse::probe(&ctx, &url).await,
        TransportPreference::Auto => {
            match streamable::probe(&ctx, &url).await {
                Err(ProbeError::Fallback(streamable)) => legacy_sse::probe(&ctx, &url)
                    .await
                    .map_err(|sse| ProbeError::BothFailed {
                        streamable,
                        sse: Box::new(sse),
                    }),
                other => other,
            }
        }
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
