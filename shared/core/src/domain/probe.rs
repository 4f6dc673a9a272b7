//! What a probe found, as pure data, and the bounds on everything a server controls in it.
//!
//! A probed server chooses its name, version, error texts, tool list and auth challenge; none of
//! that may decide how large toolreg's records grow (DynamoDB refuses items over 400 KB).
//! [`ProbeOutcome::bounded`] cuts every such string and list to the limits below, on a char
//! boundary, ending a cut string with [`TRUNCATED`]. A cut tool list keeps the full
//! `tool_count` and `tools_sha256` (computed over the whole list), so `tool_count >
//! tool_names.len()` says names were left out.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Ends every string that was cut short.
pub const TRUNCATED: &str = "…[truncated]";
/// `server_name`, `server_version`, `protocol_version`, in chars.
pub const MAX_SERVER_TEXT_CHARS: usize = 256;
/// The error text, in chars.
pub const MAX_ERROR_CHARS: usize = 1024;
/// Tool names kept (the first ones in name order).
pub const MAX_TOOL_NAMES: usize = 200;
/// Each tool name, in chars.
pub const MAX_TOOL_NAME_CHARS: usize = 128;
/// `WWW-Authenticate`, the metadata URL, `resource` and each authorization server, in chars.
pub const MAX_CHALLENGE_TEXT_CHARS: usize = 1024;
/// Authorization servers kept from the resource metadata.
pub const MAX_AUTHORIZATION_SERVERS: usize = 16;
/// Tools whose fingerprints are kept for the drift diff (the first ones in name order).
pub const MAX_FINGERPRINTED_TOOLS: usize = 500;

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
    /// How the metadata document was found: `challenge` (the `resource_metadata` parameter),
    /// `well_known_path` or `well_known_root` (RFC 9728 §3.1 discovery when the challenge
    /// names none). `None` when none was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_metadata_source: Option<String>,
    /// Whether the document's `resource` names the probed URL (RFC 9728 §3.3); a document
    /// that does not is recorded but not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_matches: Option<bool>,
    /// The first authorization server's metadata (RFC 8414, else OpenID Connect discovery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<AuthServerMetadata>,
    /// Why discovery stopped short, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_error: Option<String>,
}

/// What an authorization server's metadata says about how a client can use it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct AuthServerMetadata {
    pub issuer: String,
    /// Where the document was read (`oauth-authorization-server` or `openid-configuration`).
    pub metadata_url: String,
    /// `code_challenge_methods_supported` lists `S256`.
    pub pkce_s256: bool,
    /// `client_id_metadata_document_supported` is true.
    pub client_id_metadata_documents: bool,
    /// It has a `registration_endpoint` (RFC 7591 dynamic client registration).
    pub dynamic_registration: bool,
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
    /// How many tools the server listed (all of them, even when `tool_names` was cut).
    pub tool_count: Option<u32>,
    /// At most [`MAX_TOOL_NAMES`], in name order.
    #[serde(default)]
    pub tool_names: Vec<String>,
    /// SHA-256 (hex) of the whole tool list, sorted by name, as canonical JSON: changes when any
    /// tool's definition changes, not when the server reorders them.
    pub tools_sha256: Option<String>,
    pub response_time_ms: u64,
    pub error: Option<String>,
    /// Tool name → fingerprint of its name, description and input schema (the first
    /// [`MAX_FINGERPRINTED_TOOLS`] in name order), for the drift diff. Held in memory only:
    /// the tool keeps what it needs of it (see `domain::drift`).
    #[serde(skip)]
    pub tool_fingerprints: BTreeMap<String, String>,
}

impl ProbeOutcome {
    /// A failed probe with `error` as its reason (bounded).
    pub fn failed(error: impl Into<String>, elapsed: Duration) -> Self {
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
            error: Some(bound(&error.into(), MAX_ERROR_CHARS)),
            tool_fingerprints: BTreeMap::new(),
        }
    }

    /// The outcome with every server-controlled string and list cut to its bound.
    pub fn bounded(mut self) -> Self {
        let cut = |s: &mut Option<String>, max: usize| {
            if let Some(v) = s.as_mut() {
                bound_in_place(v, max);
            }
        };
        cut(&mut self.protocol_version, MAX_SERVER_TEXT_CHARS);
        cut(&mut self.server_name, MAX_SERVER_TEXT_CHARS);
        cut(&mut self.server_version, MAX_SERVER_TEXT_CHARS);
        cut(&mut self.error, MAX_ERROR_CHARS);
        self.tool_names.truncate(MAX_TOOL_NAMES);
        for n in &mut self.tool_names {
            bound_in_place(n, MAX_TOOL_NAME_CHARS);
        }
        if self.tool_fingerprints.len() > MAX_FINGERPRINTED_TOOLS
            || self
                .tool_fingerprints
                .keys()
                .any(|k| k.chars().count() > MAX_TOOL_NAME_CHARS)
        {
            self.tool_fingerprints = std::mem::take(&mut self.tool_fingerprints)
                .into_iter()
                .take(MAX_FINGERPRINTED_TOOLS)
                .map(|(k, v)| (bound(&k, MAX_TOOL_NAME_CHARS), v))
                .collect();
        }
        if let Some(ch) = self.auth_challenge.as_mut() {
            cut(&mut ch.www_authenticate, MAX_CHALLENGE_TEXT_CHARS);
            cut(&mut ch.resource_metadata_url, MAX_CHALLENGE_TEXT_CHARS);
            cut(&mut ch.resource, MAX_CHALLENGE_TEXT_CHARS);
            cut(&mut ch.discovery_error, MAX_CHALLENGE_TEXT_CHARS);
            if let Some(a) = ch.authorization_server.as_mut() {
                bound_in_place(&mut a.issuer, MAX_CHALLENGE_TEXT_CHARS);
                bound_in_place(&mut a.metadata_url, MAX_CHALLENGE_TEXT_CHARS);
            }
            ch.authorization_servers.truncate(MAX_AUTHORIZATION_SERVERS);
            for s in &mut ch.authorization_servers {
                bound_in_place(s, MAX_CHALLENGE_TEXT_CHARS);
            }
        }
        self
    }
}

/// `s` if it has at most `max` chars, else its head ending in [`TRUNCATED`], `max` chars in all.
pub fn bound(s: &str, max: usize) -> String {
    let mut out = s.to_owned();
    bound_in_place(&mut out, max);
    out
}

fn bound_in_place(s: &mut String, max: usize) {
    // Cheap exits: bytes ≥ chars, so a short byte length is a short char length.
    if s.len() <= max {
        return;
    }
    let Some((cut, _)) = s.char_indices().nth(max) else {
        return;
    };
    let keep = max.saturating_sub(TRUNCATED.chars().count());
    let end = s.char_indices().nth(keep).map_or(cut, |(i, _)| i);
    s.truncate(end);
    s.push_str(TRUNCATED);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_cut_on_char_boundaries_and_marked() {
        assert_eq!(bound("short", 10), "short");
        assert_eq!(bound("exactly10!", 10), "exactly10!");
        let long = "é".repeat(5000);
        let b = bound(&long, 256);
        assert_eq!(b.chars().count(), 256);
        assert!(b.ends_with(TRUNCATED));
        assert!(b.starts_with("éé"));
        // Multi-byte text shorter in chars than the bound is left alone.
        let two_hundred = "€".repeat(200);
        assert_eq!(bound(&two_hundred, 256), two_hundred);
    }

    #[test]
    fn an_outcome_is_bounded_everywhere_a_server_writes() {
        let mut o = ProbeOutcome::failed("x".repeat(500_000), Duration::from_millis(3));
        assert_eq!(o.error.as_ref().unwrap().chars().count(), MAX_ERROR_CHARS);
        o.status = ProbeStatus::Passed;
        o.server_name = Some("n".repeat(500_000));
        o.server_version = Some("v".repeat(1000));
        o.protocol_version = Some("p".repeat(1000));
        o.tool_count = Some(3000);
        o.tool_names = (0..3000)
            .map(|i| format!("{i:04}{}", "t".repeat(300)))
            .collect();
        o.auth_challenge = Some(AuthChallenge {
            www_authenticate: Some("w".repeat(100_000)),
            resource_metadata_url: Some("u".repeat(100_000)),
            authorization_servers: vec!["a".repeat(5000); 100],
            resource: Some("r".repeat(5000)),
            ..Default::default()
        });
        let b = o.bounded();
        assert_eq!(b.server_name.as_ref().unwrap().chars().count(), 256);
        assert!(b.server_name.as_ref().unwrap().ends_with(TRUNCATED));
        assert_eq!(b.server_version.as_ref().unwrap().chars().count(), 256);
        assert_eq!(b.protocol_version.as_ref().unwrap().chars().count(), 256);
        assert_eq!(b.tool_names.len(), MAX_TOOL_NAMES);
        assert_eq!(b.tool_count, Some(3000), "the count stays the full count");
        assert!(b.tool_names[0].starts_with("0000"));
        assert!(b.tool_names.iter().all(|n| n.chars().count() == 128));
        let ch = b.auth_challenge.as_ref().unwrap();
        assert_eq!(ch.authorization_servers.len(), MAX_AUTHORIZATION_SERVERS);
        assert!(ch.www_authenticate.as_ref().unwrap().chars().count() <= 1024);
        // Stored twice (tool item and history item) it stays far below DynamoDB's 400 KB.
        assert!(serde_json::to_vec(&b).unwrap().len() < 100_000);
    }
}
