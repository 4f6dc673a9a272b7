//! One MCP message in, one answer out: streamable HTTP without sessions or SSE (JSON answers).
//!
//! Each POST is served on its own, so both protocol eras are stateless here:
//! - 2026-07-28 (modern): a request carries its revision in `params._meta` and in
//!   `MCP-Protocol-Version`, the method in `Mcp-Method`, and for `tools/call` the tool in
//!   `Mcp-Name`. Checked in the order the revision gives: the envelope (−32602), the headers
//!   against the body (−32020), then the revision itself (−32022 with `data.supported`).
//!   Methods: `server/discover`, `tools/list`, `tools/call`.
//! - 2025-11-25 and 2025-06-18 (handshake): `initialize` settles the revision (no
//!   `Mcp-Session-Id` is issued, so none is expected), `notifications/initialized` is
//!   acknowledged with 202, later requests may carry the revision in `MCP-Protocol-Version`.
//!   Methods: `initialize`, `ping`, `tools/list`, `tools/call`.
//!
//! A request is modern when it names a modern revision (header or `_meta`) or is
//! `server/discover`. JSON-RPC errors of a modern request get the HTTP status the revision
//! maps them to (400, and 404 for an unknown method); a handshake-era request's method errors
//! travel in a 200, as that era's servers answer them. Tool failures are results
//! (`isError: true`), never errors.

use super::{code, decode_header_value, error_response, meta, response, server_info, tools};
use super::{RpcError, HANDSHAKE_VERSIONS, MODERN_VERSIONS};
use crate::auth::principal::Principal;
use crate::http::body::MAX_BODY_BYTES;
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;
use serde_json::{json, Map, Value};

/// What the server tells clients about itself.
const INSTRUCTIONS: &str = "toolreg is a registry of AI-agent tools. Use search_tools to find \
    tools you may use, get_tool for one tool's schema or server, and request_access to ask the \
    registry's policy for a short-lived credential for a tool.";

/// How long a client may cache `server/discover` and `tools/list` (2026-07-28): both are the
/// same for every caller and change only with a deployment.
const CACHE_TTL_MS: u64 = 300_000;

/// Which era a request speaks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Era {
    Modern,
    Handshake,
}

/// The HTTP status of a JSON-RPC error answered in `era`.
fn status_of(era: Era, code: i64) -> u16 {
    match (era, code) {
        (
            _,
            code::PARSE_ERROR
            | code::INVALID_REQUEST
            | code::UNSUPPORTED_PROTOCOL_VERSION
            | code::HEADER_MISMATCH,
        ) => 400,
        (Era::Modern, code::INVALID_PARAMS) => 400,
        (Era::Modern, code::METHOD_NOT_FOUND) => 404,
        _ => 200,
    }
}

fn json_reply(status: u16, body: &Value) -> ApiResponse {
    ApiResponse::json(status, body).with_header("cache-control", "no-store")
}

fn error_reply(era: Era, id: &Value, e: &RpcError) -> ApiResponse {
    json_reply(status_of(era, e.code), &error_response(id, e))
}

/// 202 with no body: a notification (or a posted response) was accepted.
fn accepted() -> ApiResponse {
    let mut r = ApiResponse::no_content();
    r.status = 202;
    r
}

/// Serves one POSTed message for `p`, whom the dispatcher authenticated.
pub async fn serve(state: &AppState, req: &ApiRequest, p: &Principal) -> ApiResponse {
    let header_version = req.header("mcp-protocol-version").map(str::trim);
    let header_era = match header_version {
        Some(v) if MODERN_VERSIONS.contains(&v) => Era::Modern,
        _ => Era::Handshake,
    };
    if req.body.len() > MAX_BODY_BYTES {
        let e = RpcError::new(
            code::INVALID_REQUEST,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        );
        return json_reply(413, &error_response(&Value::Null, &e));
    }
    let message: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            let e = RpcError::new(code::PARSE_ERROR, "Parse error: the body is not JSON");
            return error_reply(header_era, &Value::Null, &e);
        }
    };
    let Value::Object(message) = message else {
        let e = RpcError::new(
            code::INVALID_REQUEST,
            "the body must be one JSON-RPC request or notification object (batches are not \
             accepted)",
        );
        return error_reply(header_era, &Value::Null, &e);
    };
    // A notification, or a response a client posts back: acknowledged, nothing to act on.
    let Some(id) = message.get("id").cloned() else {
        return notification(&message, header_version, header_era);
    };
    if !(id.is_string() || id.is_i64() || id.is_u64()) {
        let e = RpcError::new(
            code::INVALID_REQUEST,
            "the request id must be a string or an integer",
        );
        return error_reply(header_era, &Value::Null, &e);
    }
    let method = match (message.get("jsonrpc"), message.get("method")) {
        (Some(Value::String(v)), Some(Value::String(m))) if v == "2.0" => m.clone(),
        _ => {
            let e = RpcError::new(
                code::INVALID_REQUEST,
                "a request needs \"jsonrpc\": \"2.0\" and a string method",
            );
            return error_reply(header_era, &id, &e);
        }
    };
    let params = match message.get("params") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            let e = RpcError::new(code::INVALID_REQUEST, "params must be an object");
            return error_reply(header_era, &id, &e);
        }
    };
    let envelope_version = params
        .get("_meta")
        .and_then(|m| m.get(meta::PROTOCOL_VERSION));
    let modern =
        header_era == Era::Modern || envelope_version.is_some() || method == "server/discover";
    if modern {
        if let Err(e) = envelope(req, &method, &params) {
            return error_reply(Era::Modern, &id, &e);
        }
        match modern_method(state, req, p, &method, &params).await {
            Ok(mut result) => {
                stamp(&mut result);
                json_reply(200, &response(&id, result))
            }
            Err(e) => error_reply(Era::Modern, &id, &e),
        }
    } else {
        if let Some(v) = header_version {
            if !HANDSHAKE_VERSIONS.contains(&v) {
                return error_reply(Era::Handshake, &id, &RpcError::unsupported_version(v));
            }
        }
        match handshake_method(state, req, p, &method, &params).await {
            Ok(result) => json_reply(200, &response(&id, result)),
            Err(e) => error_reply(Era::Handshake, &id, &e),
        }
    }
}

/// A message without an id: 202, unless it names a revision this server does not speak.
fn notification(
    message: &Map<String, Value>,
    header_version: Option<&str>,
    era: Era,
) -> ApiResponse {
    let well_formed = message.get("jsonrpc").and_then(Value::as_str) == Some("2.0")
        && (message.get("method").is_some_and(Value::is_string)
            || message.contains_key("result")
            || message.contains_key("error"))
        && message.get("params").is_none_or(Value::is_object);
    if !well_formed {
        let e = RpcError::new(
            code::INVALID_REQUEST,
            "a notification needs \"jsonrpc\": \"2.0\", a string method and object params",
        );
        return error_reply(era, &Value::Null, &e);
    }
    if let Some(v) = header_version {
        if !MODERN_VERSIONS.contains(&v) && !HANDSHAKE_VERSIONS.contains(&v) {
            return error_reply(era, &Value::Null, &RpcError::unsupported_version(v));
        }
    }
    accepted()
}

/// The 2026-07-28 request checks, first failure wins: the `_meta` envelope, the routing
/// headers against the body, the revision.
fn envelope(req: &ApiRequest, method: &str, params: &Map<String, Value>) -> Result<(), RpcError> {
    let Some(Value::Object(m)) = params.get("_meta") else {
        return Err(RpcError::new(
            code::INVALID_PARAMS,
            format!(
                "params._meta must be an object carrying {:?} and {:?}",
                meta::PROTOCOL_VERSION,
                meta::CLIENT_CAPABILITIES
            ),
        ));
    };
    let missing: Vec<&str> = [meta::PROTOCOL_VERSION, meta::CLIENT_CAPABILITIES]
        .into_iter()
        .filter(|k| !m.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(RpcError::new(
            code::INVALID_PARAMS,
            format!("params._meta lacks {}", missing.join(", ")),
        ));
    }
    let version = &m[meta::PROTOCOL_VERSION];
    let mismatch = |what: &str| {
        Err(RpcError::new(
            code::HEADER_MISMATCH,
            format!("the {what} header does not match the request body"),
        ))
    };
    match req.header("mcp-protocol-version").map(str::trim) {
        Some(h) if version.as_str() == Some(h) => {}
        _ => return mismatch("MCP-Protocol-Version"),
    }
    if req.header("mcp-method").map(str::trim) != Some(method) {
        return mismatch("Mcp-Method");
    }
    let name_key = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    };
    if let Some(body_value) = name_key.and_then(|k| params.get(k)) {
        let header = req.header("mcp-name").and_then(decode_header_value);
        if body_value.as_str() != header.as_deref() {
            return mismatch("Mcp-Name");
        }
    }
    let Some(version) = version.as_str() else {
        return Err(RpcError::new(
            code::INVALID_PARAMS,
            "the protocol version in params._meta must be a string",
        ));
    };
    if !MODERN_VERSIONS.contains(&version) {
        return Err(RpcError::unsupported_version(version));
    }
    Ok(())
}

/// Adds what every 2026-07-28 result carries: its type and who answered.
fn stamp(result: &mut Value) {
    if let Value::Object(r) = result {
        r.insert("resultType".into(), json!("complete"));
        let meta_map = r.entry("_meta").or_insert_with(|| json!({}));
        if let Value::Object(m) = meta_map {
            m.insert(meta::SERVER_INFO.into(), server_info());
        }
    }
}

fn capabilities() -> Value {
    json!({"tools": {"listChanged": false}})
}

async fn modern_method(
    state: &AppState,
    req: &ApiRequest,
    p: &Principal,
    method: &str,
    params: &Map<String, Value>,
) -> Result<Value, RpcError> {
    match method {
        "server/discover" => Ok(json!({
            "supportedVersions": MODERN_VERSIONS,
            "capabilities": capabilities(),
            "instructions": INSTRUCTIONS,
            "ttlMs": CACHE_TTL_MS,
            "cacheScope": "public",
        })),
        "tools/list" => Ok(json!({
            "tools": tools::definitions(),
            "ttlMs": CACHE_TTL_MS,
            "cacheScope": "public",
        })),
        "tools/call" => call(state, req, p, params).await,
        other => Err(unknown_method(other)),
    }
}

async fn handshake_method(
    state: &AppState,
    req: &ApiRequest,
    p: &Principal,
    method: &str,
    params: &Map<String, Value>,
) -> Result<Value, RpcError> {
    match method {
        "initialize" => {
            let asked = params
                .get("protocolVersion")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    RpcError::new(
                        code::INVALID_PARAMS,
                        "initialize needs params.protocolVersion",
                    )
                })?;
            // The revision asked for when it is served, else the newest (the client decides
            // whether it can speak that).
            let settled = HANDSHAKE_VERSIONS
                .iter()
                .find(|v| **v == asked)
                .unwrap_or(&HANDSHAKE_VERSIONS[0]);
            Ok(json!({
                "protocolVersion": settled,
                "capabilities": capabilities(),
                "serverInfo": server_info(),
                "instructions": INSTRUCTIONS,
            }))
        }
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": tools::definitions()})),
        "tools/call" => call(state, req, p, params).await,
        other => Err(unknown_method(other)),
    }
}

fn unknown_method(method: &str) -> RpcError {
    RpcError::new(
        code::METHOD_NOT_FOUND,
        format!(
            "Method not found: {}",
            method.chars().take(64).collect::<String>()
        ),
    )
}

/// `tools/call`: a tool this server offers, with object arguments.
async fn call(
    state: &AppState,
    req: &ApiRequest,
    p: &Principal,
    params: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Err(RpcError::new(
            code::INVALID_PARAMS,
            "tools/call needs params.name",
        ));
    };
    if !tools::offers(name) {
        return Err(RpcError::new(
            code::INVALID_PARAMS,
            format!(
                "Unknown tool: {}",
                name.chars().take(64).collect::<String>()
            ),
        ));
    }
    let args = match params.get("arguments") {
        None | Some(Value::Null) => json!({}),
        Some(a @ Value::Object(_)) => a.clone(),
        Some(_) => {
            return Err(RpcError::new(
                code::INVALID_PARAMS,
                "tools/call arguments must be an object",
            ))
        }
    };
    Ok(tools::call(state, req, p, name, args).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern_errors_get_the_revisions_statuses_and_handshake_method_errors_a_200() {
        assert_eq!(status_of(Era::Modern, code::METHOD_NOT_FOUND), 404);
        assert_eq!(status_of(Era::Modern, code::INVALID_PARAMS), 400);
        assert_eq!(status_of(Era::Modern, code::HEADER_MISMATCH), 400);
        assert_eq!(status_of(Era::Handshake, code::METHOD_NOT_FOUND), 200);
        assert_eq!(status_of(Era::Handshake, code::PARSE_ERROR), 400);
        assert_eq!(
            status_of(Era::Handshake, code::UNSUPPORTED_PROTOCOL_VERSION),
            400
        );
    }

    #[test]
    fn the_listing_offers_three_tools_each_with_both_schemas() {
        let defs = tools::definitions();
        let defs = defs.as_array().unwrap();
        assert_eq!(defs.len(), 3);
        for d in defs {
            assert_eq!(d["inputSchema"]["type"], json!("object"), "{d}");
            assert_eq!(d["outputSchema"]["type"], json!("object"), "{d}");
            assert!(tools::offers(d["name"].as_str().unwrap()));
        }
    }
}
