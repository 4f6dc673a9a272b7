//! The catalog as an MCP server (`POST /mcp`): JSON-RPC messages and the protocol's constants.
//! [`server`] dispatches one message (both protocol eras, no session), [`tools`] holds what
//! the server offers. The prober (`crate::probe`) speaks the same two eras as a client.

pub mod server;
pub mod tools;

use serde_json::{json, Value};

/// Revisions served without a handshake: each request carries its revision.
pub const MODERN_VERSIONS: &[&str] = &["2026-07-28"];
/// Revisions `initialize` settles on, newest first (structured tool output needs 2025-06-18).
pub const HANDSHAKE_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18"];

/// JSON-RPC error codes.
pub mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// The routing headers disagree with the body (or are missing).
    pub const HEADER_MISMATCH: i64 = -32020;
    /// The request's revision is not one this server speaks; `data.supported` lists those.
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
}

/// `_meta` keys of the per-request envelope (2026-07-28).
pub mod meta {
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
}

/// A JSON-RPC error: what a protocol failure answers (tool failures are results instead).
#[derive(Clone, Debug, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// `requested` is not served: names every revision that is.
    pub fn unsupported_version(requested: &str) -> Self {
        let supported: Vec<&str> = MODERN_VERSIONS
            .iter()
            .chain(HANDSHAKE_VERSIONS)
            .copied()
            .collect();
        Self::new(
            code::UNSUPPORTED_PROTOCOL_VERSION,
            "Unsupported protocol version",
        )
        .with_data(json!({
            "supported": supported,
            "requested": requested.chars().take(64).collect::<String>(),
        }))
    }

    /// The error object of a response.
    pub fn to_value(&self) -> Value {
        let mut e = json!({"code": self.code, "message": self.message});
        if let Some(d) = &self.data {
            e["data"] = d.clone();
        }
        e
    }
}

/// A JSON-RPC success response.
pub fn response(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// A JSON-RPC error response (`id` is `null` when the request's could not be read).
pub fn error_response(id: &Value, e: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": e.to_value()})
}

/// Who answers: the `serverInfo` of `initialize` and the `_meta` stamp of modern results.
pub fn server_info() -> Value {
    json!({
        "name": "toolreg",
        "title": "toolreg tool catalog",
        "version": env!("CARGO_PKG_VERSION"),
    })
}

/// A header value as sent: itself, or the UTF-8 inside the `=?base64?…?=` sentinel (a value
/// that is not plain printable ASCII travels wrapped). `None` for a malformed sentinel.
pub fn decode_header_value(v: &str) -> Option<String> {
    use base64::Engine;
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        None => Some(v.to_owned()),
        Some(payload) => base64::engine::general_purpose::STANDARD
            .decode(payload)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_unwrap_the_base64_sentinel() {
        assert_eq!(decode_header_value("get_tool").as_deref(), Some("get_tool"));
        assert_eq!(
            decode_header_value("=?base64?w6lsYW4=?=").as_deref(),
            Some("élan")
        );
        assert_eq!(decode_header_value("=?base64?***?="), None);
    }

    #[test]
    fn an_unsupported_version_names_every_served_revision() {
        let e = RpcError::unsupported_version("1999-01-01").to_value();
        assert_eq!(e["code"], json!(-32022));
        assert_eq!(
            e["data"]["supported"],
            json!(["2026-07-28", "2025-11-25", "2025-06-18"])
        );
        assert_eq!(e["data"]["requested"], json!("1999-01-01"));
    }
}
