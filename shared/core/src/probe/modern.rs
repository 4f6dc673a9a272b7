//! Streamable HTTP at the 2026-07-28 revision: no handshake, no session. Every request is a
//! POST carrying its revision twice, in `params._meta` and in `MCP-Protocol-Version`, with the
//! method mirrored in `Mcp-Method` (and the named tool, prompt or resource in `Mcp-Name`).
//! `server/discover` says who the server is; `tools/list` is asked the same way.
//!
//! The answer to the first request decides the era: a result is a modern server; a 400 (or
//! 200) carrying JSON-RPC −32022 (unsupported version) or −32020 (header mismatch) is a modern
//! server too, asked again at a revision from `data.supported`; any other 400/404/405 is an
//! older server, left to the `initialize` handshake; 401/403 is an answer, never a reason to
//! fall back.

use super::error::{ProbeError, Step};
use super::exchange::{
    content_type, has_tools_capability, list_tools, quoted, rpc, status_problem, Ctx, Found,
    Requester, HANDSHAKE_VERSIONS, MODERN_VERSIONS,
};
use super::DetectedTransport;
use base64::Engine;
use serde_json::{json, Value};

/// JSON-RPC error: the server does not implement the requested revision.
pub(super) const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
/// JSON-RPC error: the routing headers do not match the body (or are missing).
pub(super) const HEADER_MISMATCH: i64 = -32020;
/// The `_meta` key of the server's `Implementation` on results.
const SERVER_INFO_META: &str = "io.modelcontextprotocol/serverInfo";

/// What a refusal of a modern request says about the server.
#[derive(Debug, PartialEq)]
pub(super) enum Verdict {
    /// A modern server that speaks this revision: ask again with it.
    Retry(String),
    /// A modern server with which no revision is common, or that refused for good.
    Refused(String),
    /// Not a modern server (or one that prefers the handshake): try `initialize`.
    Legacy(String),
}

/// Judges the JSON-RPC `message` (if any) of an HTTP `status` answer to a modern request, after
/// the revisions in `tried` were asked.
pub(super) fn judge(status: u16, message: Option<&Value>, tried: &[String]) -> Verdict {
    let error = message.and_then(|m| m.get("error"));
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_i64);
    let text = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(quoted)
        .unwrap_or_else(|| "no message".into());
    if matches!(code, Some(UNSUPPORTED_PROTOCOL_VERSION | HEADER_MISMATCH)) {
        let supported: Vec<String> = error
            .and_then(|e| e.get("data"))
            .and_then(|d| d.get("supported"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(quoted).collect())
            .unwrap_or_default();
        if let Some(v) = MODERN_VERSIONS
            .iter()
            .find(|v| supported.iter().any(|s| s == *v) && !tried.iter().any(|t| t == *v))
        {
            return Verdict::Retry((*v).to_owned());
        }
        if supported
            .iter()
            .any(|s| HANDSHAKE_VERSIONS.contains(&s.as_str()))
        {
            return Verdict::Legacy(format!(
                "the server declined revision {} and offers {} by handshake",
                tried.join(", "),
                supported.join(", ")
            ));
        }
        return Verdict::Refused(if code == Some(UNSUPPORTED_PROTOCOL_VERSION) {
            let offered = if supported.is_empty() {
                "none".to_owned()
            } else {
                supported.join(", ")
            };
            format!(
                "the server does not support protocol revision {} (JSON-RPC -32022: {text}) and \
                 supports {offered}, none of which toolreg speaks",
                tried.join(", ")
            )
        } else {
            format!("the server refused the request's MCP headers (JSON-RPC -32020: {text})")
        });
    }
    let what = match code {
        Some(c) => format!("HTTP {status} with JSON-RPC error {c}: {text}"),
        None => format!("HTTP {status}"),
    };
    Verdict::Legacy(format!(
        "streamable HTTP: the server answered the {} request with {what}",
        tried.last().map_or("2026-07-28", String::as_str)
    ))
}

/// The routing headers of a modern request: `MCP-Protocol-Version`, `Mcp-Method` and, for
/// the methods that name something, `Mcp-Name` (base64-wrapped when it is not plain ASCII).
pub(super) fn routing_headers(version: &str, body: &Value) -> Vec<(&'static str, String)> {
    let method = body.get("method").and_then(Value::as_str).unwrap_or("");
    let mut out = vec![
        ("mcp-protocol-version", version.to_owned()),
        ("mcp-method", method.to_owned()),
    ];
    let key = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    };
    if let Some(name) = key
        .and_then(|k| body.get("params").and_then(|p| p.get(k)))
        .and_then(Value::as_str)
    {
        out.push(("mcp-name", header_value(name)));
    }
    out
}

/// A value as it may travel in a header: itself when plain printable ASCII without edge
/// spaces, else the `=?base64?…?=` sentinel form.
fn header_value(v: &str) -> String {
    let plain = v.bytes().all(|b| (0x20..0x7f).contains(&b))
        && v.trim() == v
        && !(v.starts_with("=?base64?") && v.ends_with("?="));
    if plain {
        v.to_owned()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(v.as_bytes())
        )
    }
}

/// `body` with the per-request `_meta` of revision `version`.
pub(super) fn with_meta(mut body: Value, version: &str) -> Value {
    if !body.get("params").is_some_and(Value::is_object) {
        body["params"] = json!({});
    }
    body["params"]["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "toolreg-prober", "version": env!("CARGO_PKG_VERSION")},
    });
    body
}

/// Modern requests, each its own POST.
struct Modern<'c, 'a> {
    ctx: &'c Ctx<'a>,
    url: &'c url::Url,
    version: &'c str,
}

impl Modern<'_, '_> {
    async fn send(&self, body: Value) -> Step<reqwest::Response> {
        let body = with_meta(body, self.version);
        let headers = routing_headers(self.version, &body);
        self.ctx.post_with(self.url, &body, &headers).await
    }
}

impl Requester for Modern<'_, '_> {
    async fn request(&mut self, id: u64, body: &Value, what: &str) -> Step<Value> {
        let r = self.send(body.clone()).await?;
        if !r.status().is_success() {
            return Err(status_problem(r.status(), &r, what));
        }
        self.ctx.answer(r, id, what).await
    }
}

/// The JSON-RPC message in a refusal's body, if it carries one.
async fn refusal_message(ctx: &Ctx<'_>, r: reqwest::Response) -> Option<Value> {
    let ct = content_type(&r);
    if ct != "application/json" && !ct.ends_with("+json") {
        return None;
    }
    let bytes = ctx.body(r, "the refusal").await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Probes `url` at the modern revisions. `Err(ProbeError::Legacy)` means: not a modern server.
pub(super) async fn probe(ctx: &Ctx<'_>, url: &url::Url) -> Step<Found> {
    let mut tried: Vec<String> = Vec::new();
    let mut version = MODERN_VERSIONS[0].to_owned();
    let (version, result) = loop {
        tried.push(version.clone());
        ctx.progress
            .set(format!("waiting for server/discover (revision {version})"));
        let modern = Modern {
            ctx,
            url,
            version: &version,
        };
        let r = modern.send(rpc(1, "server/discover", json!({}))).await?;
        let status = r.status().as_u16();
        let message = match status {
            401 | 403 => {
                return ctx
                    .auth_required(&r, url, DetectedTransport::StreamableHttp)
                    .await
            }
            200 => {
                let msg = ctx.answer(r, 1, "server/discover").await?;
                if msg.get("error").is_none() {
                    // A result without what 2026-07-28 requires is an older server answering
                    // an unknown method politely (`{"result": {}}`): the handshake decides.
                    match discover_result(&msg) {
                        Ok(result) => break (version, result),
                        Err(why) => return Err(ProbeError::Legacy(why)),
                    }
                }
                Some(msg)
            }
            400 | 404 | 405 => refusal_message(ctx, r).await,
            _ => return Err(status_problem(r.status(), &r, "server/discover")),
        };
        match judge(status, message.as_ref(), &tried) {
            Verdict::Retry(v) => version = v,
            Verdict::Refused(why) => return Err(ProbeError::Failed(why)),
            Verdict::Legacy(why) => return Err(ProbeError::Legacy(why)),
        }
    };
    let info = result
        .get("_meta")
        .and_then(|m| m.get(SERVER_INFO_META))
        .or_else(|| result.get("serverInfo"))
        .cloned()
        .unwrap_or(Value::Null);
    let init = json!({
        "protocolVersion": version,
        "capabilities": result.get("capabilities").cloned().unwrap_or_else(|| json!({})),
        "serverInfo": info,
    });
    let tools = if has_tools_capability(&init) {
        ctx.progress
            .set(format!("waiting for tools/list (revision {version})"));
        let mut modern = Modern {
            ctx,
            url,
            version: &version,
        };
        list_tools(&mut modern).await?
    } else {
        Vec::new()
    };
    Ok(Found {
        transport: DetectedTransport::StreamableHttp,
        requires_auth: false,
        challenge: None,
        init: Some(init),
        tools: Some(tools),
        started: ctx.started,
    })
}

/// The `server/discover` result, or why the answer is not one (then the server does not speak
/// 2026-07-28, whatever else it is).
fn discover_result(msg: &Value) -> Result<Value, String> {
    let Some(result) = msg.get("result").filter(|r| r.is_object()) else {
        return Err("streamable HTTP: the answer to server/discover has no result object".into());
    };
    let missing: Vec<&str> = [
        (
            "supportedVersions",
            result.get("supportedVersions").is_some_and(Value::is_array),
        ),
        (
            "capabilities",
            result.get("capabilities").is_some_and(Value::is_object),
        ),
    ]
    .into_iter()
    .filter_map(|(k, ok)| (!ok).then_some(k))
    .collect();
    if !missing.is_empty() {
        return Err(format!(
            "streamable HTTP: the server/discover result lacks {}, so the server does not speak \
             2026-07-28",
            missing.join(", ")
        ));
    }
    Ok(result.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(code: i64, supported: &[&str]) -> Value {
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": "no",
               "data": {"supported": supported, "requested": "2026-07-28"}}})
    }

    fn tried(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_modern_refusal_retries_with_a_revision_both_speak() {
        // A revision the server names and toolreg speaks but has not asked yet.
        assert_eq!(
            judge(
                400,
                Some(&refusal(-32022, &["2026-07-28"])),
                &tried(&["2099-01-01"])
            ),
            Verdict::Retry("2026-07-28".into())
        );
        assert_eq!(
            judge(
                400,
                Some(&refusal(-32020, &["2027-01-01", "2026-07-28"])),
                &tried(&[])
            ),
            Verdict::Retry("2026-07-28".into())
        );
        // Asked already: no loop.
        assert!(matches!(
            judge(400, Some(&refusal(-32022, &["2026-07-28"])), &tried(&["2026-07-28"])),
            Verdict::Refused(m) if m.contains("-32022")
        ));
        // Only revisions toolreg does not know: a modern server, refused, never the handshake.
        assert!(matches!(
            judge(400, Some(&refusal(-32022, &["2031-01-01"])), &tried(&["2026-07-28"])),
            Verdict::Refused(m) if m.contains("2031-01-01")
        ));
        // A header mismatch without a usable revision is a refusal that names the code.
        assert!(matches!(
            judge(400, Some(&json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32020, "message": "Mcp-Method mismatch"}})), &tried(&["2026-07-28"])),
            Verdict::Refused(m) if m.contains("-32020") && m.contains("Mcp-Method mismatch")
        ));
        // A dual-era server that declines the modern revision but offers a handshake one.
        assert!(matches!(
            judge(
                400,
                Some(&refusal(-32022, &["2025-11-25"])),
                &tried(&["2026-07-28"])
            ),
            Verdict::Legacy(_)
        ));
        // The same codes in a 200 judge the same.
        assert_eq!(
            judge(
                200,
                Some(&refusal(-32022, &["2026-07-28"])),
                &tried(&["2099-01-01"])
            ),
            Verdict::Retry("2026-07-28".into())
        );
    }

    #[test]
    fn anything_else_goes_to_the_handshake() {
        for (status, body) in [
            (400, None),
            (404, None),
            (405, None),
            (
                400,
                Some(
                    json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": "Bad Request: Unsupported protocol version"}}),
                ),
            ),
            (
                404,
                Some(
                    json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}}),
                ),
            ),
            (400, Some(json!({"detail": "not JSON-RPC at all"}))),
        ] {
            let v = judge(status, body.as_ref(), &tried(&["2026-07-28"]));
            assert!(
                matches!(&v, Verdict::Legacy(m) if m.contains(&status.to_string())),
                "{status} {body:?}: {v:?}"
            );
        }
    }

    #[test]
    fn requests_carry_their_revision_in_meta_and_headers() {
        let body = with_meta(rpc(1, "tools/list", json!({"cursor": "c"})), "2026-07-28");
        assert_eq!(
            body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
            "2026-07-28"
        );
        assert_eq!(body["params"]["cursor"], "c");
        assert_eq!(
            routing_headers("2026-07-28", &body),
            vec![
                ("mcp-protocol-version", "2026-07-28".to_owned()),
                ("mcp-method", "tools/list".to_owned())
            ]
        );
        let call = rpc(
            2,
            "tools/call",
            json!({"name": "wetter über", "arguments": {}}),
        );
        let h = routing_headers("2026-07-28", &call);
        assert_eq!(h[2].0, "mcp-name");
        assert_eq!(h[2].1, "=?base64?d2V0dGVyIMO8YmVy?=");
        let plain = rpc(3, "resources/read", json!({"uri": "file:///a.txt"}));
        assert_eq!(routing_headers("2026-07-28", &plain)[2].1, "file:///a.txt");
    }

    #[test]
    fn discovery_results_are_judged() {
        assert!(discover_result(
            &json!({"result": {"supportedVersions": ["2026-07-28"], "capabilities": {}}})
        )
        .is_ok());
        assert!(matches!(
            discover_result(&json!({"result": {"capabilities": {}}})),
            Err(m) if m.contains("supportedVersions")
        ));
        // What a pre-2026 server answers an unknown method with.
        assert!(matches!(
            discover_result(&json!({"jsonrpc": "2.0", "id": 1, "result": {}})),
            Err(m) if m.contains("supportedVersions, capabilities")
        ));
        assert!(discover_result(&json!({"result": 3})).is_err());
    }
}
