//! What both transports share: the probe's context, JSON-RPC requests and answers (JSON or SSE),
//! the auth challenge, the one `tools/list` paging loop, and turning what was found into an
//! outcome.

use super::client::describe;
use super::error::{ProbeError, Step};
use super::sse::{Event, Parser};
use super::{
    challenge, AuthChallenge, DetectedTransport, ProbeOutcome, ProbeSettings, ProbeStatus,
};
use crate::domain::probe::{bound, MAX_FINGERPRINTED_TOOLS};
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

/// The handshake revision toolreg offers in `initialize`; servers may answer with another.
pub(super) const HANDSHAKE_VERSION: &str = "2025-11-25";
/// Revisions reached through the `initialize` handshake.
pub(super) const HANDSHAKE_VERSIONS: &[&str] =
    &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
/// Revisions without a handshake (per-request `_meta`), newest first: the prober tries these
/// before the handshake.
pub(super) const MODERN_VERSIONS: &[&str] = &["2026-07-28"];
/// `tools/list` pages followed at most (a server whose cursor never ends must not hold us).
const MAX_TOOL_PAGES: usize = 50;
/// Server text quoted inside an error (a JSON-RPC error message, a header, an event), in chars.
const MAX_QUOTED_CHARS: usize = 300;

/// Server text fit to quote in an error: bounded, so one field cannot crowd out the rest.
pub(super) fn quoted(s: &str) -> String {
    bound(s, MAX_QUOTED_CHARS)
}

/// Where a probe got to, for the timeout message.
#[derive(Default)]
pub struct Progress(Mutex<String>);

impl Progress {
    pub(super) fn set(&self, s: impl Into<String>) {
        if let Ok(mut g) = self.0.lock() {
            *g = s.into();
        }
    }
    pub fn get(&self) -> String {
        self.0.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

/// A successful probe, before it becomes an outcome.
pub struct Found {
    pub(super) transport: DetectedTransport,
    pub(super) requires_auth: bool,
    pub(super) challenge: Option<AuthChallenge>,
    pub(super) init: Option<Value>,
    pub(super) tools: Option<Vec<Value>>,
    pub(super) started: Instant,
}

impl Found {
    pub fn into_outcome(self) -> ProbeOutcome {
        let info = self.init.as_ref().and_then(|i| i.get("serverInfo"));
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let (names, count, hash, fingerprints) = match &self.tools {
            Some(tools) => {
                let mut sorted: Vec<&Value> = tools.iter().collect();
                sorted.sort_by(|a, b| tool_name(a).cmp(tool_name(b)));
                let names = sorted
                    .iter()
                    .map(|t| tool_name(t).to_owned())
                    .collect::<Vec<_>>();
                let defs: Vec<Value> = sorted.into_iter().map(definition).collect();
                let fingerprints = defs
                    .iter()
                    .take(MAX_FINGERPRINTED_TOOLS)
                    .map(|d| {
                        let h = hex::encode(Sha256::digest(d.to_string().as_bytes()));
                        (tool_name(d).to_owned(), h[..16].to_owned())
                    })
                    .collect();
                let hash = hex::encode(Sha256::digest(Value::Array(defs).to_string().as_bytes()));
                (names, Some(tools.len() as u32), Some(hash), fingerprints)
            }
            None => (Vec::new(), None, None, Default::default()),
        };
        ProbeOutcome {
            status: ProbeStatus::Passed,
            detected_transport: Some(self.transport),
            requires_auth: self.requires_auth,
            auth_challenge: self.challenge,
            protocol_version: s(self.init.as_ref().and_then(|i| i.get("protocolVersion"))),
            server_name: s(info.and_then(|i| i.get("name"))),
            server_version: s(info.and_then(|i| i.get("version"))),
            tool_count: count,
            tool_names: names,
            tools_sha256: hash,
            response_time_ms: self.started.elapsed().as_millis() as u64,
            error: None,
            tool_fingerprints: fingerprints,
        }
    }
}

/// What an approval covers of a tool, as canonical JSON: its name, description and input
/// schema. Annotations, output schemas and `_meta` (which servers stamp per response) are left
/// out, so neither they nor the protocol revision a server is reached by change the hash.
fn definition(t: &Value) -> Value {
    canonical(&json!({
        "name": tool_name(t),
        "description": t.get("description").cloned().unwrap_or(Value::Null),
        "inputSchema": t.get("inputSchema").cloned().unwrap_or(Value::Null),
    }))
}

fn tool_name(t: &Value) -> &str {
    t.get("name").and_then(Value::as_str).unwrap_or("")
}

/// JSON with object keys sorted at every level, whatever map type serde_json was built with.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: std::collections::BTreeMap<&String, Value> =
                m.iter().map(|(k, v)| (k, canonical(v))).collect();
            let mut out = serde_json::Map::new();
            for (k, v) in sorted {
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// One probe's context: the client, the limits, the static headers and where it got to.
pub(super) struct Ctx<'a> {
    pub client: &'a reqwest::Client,
    pub settings: &'a ProbeSettings,
    pub headers: HeaderMap,
    pub progress: &'a Progress,
    pub started: Instant,
    /// The names of the static headers sent with every request (for the verdict on a 401).
    pub static_header_names: Vec<String>,
}

pub(super) fn rpc(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

pub(super) fn initialize() -> Value {
    rpc(
        1,
        "initialize",
        json!({
            "protocolVersion": HANDSHAKE_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "toolreg-prober", "version": env!("CARGO_PKG_VERSION")}
        }),
    )
}

pub(super) fn content_type(r: &reqwest::Response) -> String {
    r.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub(super) fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The initialize result, or why the answer is not one.
pub(super) fn init_result(msg: &Value) -> Step<Value> {
    if let Some(err) = msg.get("error") {
        let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
        let text = err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(ProbeError::Failed(format!(
            "the server answered initialize with JSON-RPC error {code}: {}",
            quoted(text)
        )));
    }
    let result = msg.get("result").ok_or_else(|| {
        ProbeError::Failed("the answer to initialize is JSON-RPC without a result".into())
    })?;
    let missing: Vec<&str> = ["protocolVersion", "capabilities", "serverInfo"]
        .into_iter()
        .filter(|k| result.get(*k).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(ProbeError::Failed(format!(
            "the initialize result lacks {} — not an MCP server",
            missing.join(", ")
        )));
    }
    Ok(result.clone())
}

impl Ctx<'_> {
    pub(super) fn cap(&self) -> usize {
        self.settings.max_body_bytes
    }

    pub(super) async fn post(
        &self,
        url: &url::Url,
        body: &Value,
        session: Option<&str>,
        proto: Option<&str>,
    ) -> Step<reqwest::Response> {
        let mut rb = self
            .client
            .post(url.clone())
            .headers(self.headers.clone())
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(s) = session {
            rb = rb.header("mcp-session-id", s);
        }
        if let Some(p) = proto {
            rb = rb.header("mcp-protocol-version", p);
        }
        rb.send()
            .await
            .map_err(|e| ProbeError::Failed(describe(&e, url.as_str())))
    }

    /// POSTs `body` with the extra `headers` (a modern request's routing headers).
    pub(super) async fn post_with(
        &self,
        url: &url::Url,
        body: &Value,
        headers: &[(&str, String)],
    ) -> Step<reqwest::Response> {
        let mut rb = self
            .client
            .post(url.clone())
            .headers(self.headers.clone())
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        for (k, v) in headers {
            rb = rb.header(*k, v);
        }
        rb.send()
            .await
            .map_err(|e| ProbeError::Failed(describe(&e, url.as_str())))
    }

    /// Reads a whole body, refusing more than the cap.
    pub(super) async fn body(&self, mut r: reqwest::Response, what: &str) -> Step<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(|e| {
            ProbeError::Failed(format!(
                "reading {what}: {}",
                describe(&e, r.url().as_str())
            ))
        })? {
            out.extend_from_slice(&chunk);
            if out.len() > self.cap() {
                return Err(ProbeError::Failed(format!(
                    "{what} is larger than {} bytes",
                    self.cap()
                )));
            }
        }
        Ok(out)
    }

    /// The JSON-RPC message answering request `id`, from a JSON or SSE response.
    pub(super) async fn answer(&self, r: reqwest::Response, id: u64, what: &str) -> Step<Value> {
        let ct = content_type(&r);
        if ct == "text/event-stream" {
            let mut stream = SseStream::new(r, self.cap());
            loop {
                let ev = stream.next().await?.ok_or_else(|| {
                    ProbeError::Failed(format!("the SSE stream ended without answering {what}"))
                })?;
                if let Some(msg) = matching(&ev, id) {
                    return Ok(msg);
                }
            }
        }
        if ct == "application/json" || ct.ends_with("+json") {
            let bytes = self.body(r, what).await?;
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
                ProbeError::Failed(format!("the answer to {what} is not valid JSON ({e})"))
            })?;
            let found = match v {
                Value::Array(items) => items.into_iter().find(|m| m.get("id") == Some(&json!(id))),
                m => Some(m),
            };
            return found.ok_or_else(|| {
                ProbeError::Failed(format!("the answer to {what} has no response with id {id}"))
            });
        }
        let shown = if ct.is_empty() {
            "no content type".to_string()
        } else {
            quoted(&ct)
        };
        Err(ProbeError::Failed(format!(
            "the server answered {what} with 200 and {shown}, not an MCP JSON-RPC response"
        )))
    }

    /// 401/403 to a request for `url`: alive and requiring auth, with what the challenge and
    /// discovery say about authenticating. With static headers sent, the server rejected them:
    /// a failed probe, never a pass.
    pub(super) async fn auth_required(
        &self,
        r: &reqwest::Response,
        url: &url::Url,
        transport: DetectedTransport,
    ) -> Step<Found> {
        let www = header(r, "www-authenticate");
        if !self.static_header_names.is_empty() {
            let why = www
                .as_deref()
                .and_then(|h| challenge::param(h, "error"))
                .map(|e| format!(" ({})", quoted(&e)))
                .unwrap_or_default();
            return Err(ProbeError::Failed(format!(
                "credentials rejected: the server answered HTTP {}{why} to the stored headers ({})",
                r.status().as_u16(),
                self.static_header_names.join(", ")
            )));
        }
        let ch = super::discovery::challenge(self, url, www).await;
        Ok(Found {
            transport,
            requires_auth: true,
            challenge: Some(ch),
            init: None,
            tools: None,
            started: self.started,
        })
    }
}

pub(super) fn status_problem(
    status: reqwest::StatusCode,
    r: &reqwest::Response,
    what: &str,
) -> ProbeError {
    let code = status.as_u16();
    if status.is_redirection() {
        let to = header(r, "location").map_or_else(|| "nowhere".into(), |l| quoted(&l));
        return ProbeError::Failed(format!(
            "the server redirected {what} to {to}; redirects are not followed"
        ));
    }
    if status.is_server_error() {
        return ProbeError::Failed(format!("the server failed {what} with HTTP {code}"));
    }
    ProbeError::Failed(format!("the server answered {what} with HTTP {code}"))
}

/// The JSON-RPC message in `ev` answering `id`, if it is one.
pub(super) fn matching(ev: &Event, id: u64) -> Option<Value> {
    if ev.event != "message" {
        return None;
    }
    let v: Value = serde_json::from_str(&ev.data).ok()?;
    (v.get("id") == Some(&json!(id)) && (v.get("result").is_some() || v.get("error").is_some()))
        .then_some(v)
}

/// Reads events off a streaming response, capped in bytes.
pub(super) struct SseStream {
    resp: reqwest::Response,
    parser: Parser,
    pending: VecDeque<Event>,
    read: usize,
    cap: usize,
}

impl SseStream {
    pub(super) fn new(resp: reqwest::Response, cap: usize) -> Self {
        Self {
            resp,
            parser: Parser::default(),
            pending: VecDeque::new(),
            read: 0,
            cap,
        }
    }

    pub(super) async fn next(&mut self) -> Step<Option<Event>> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(Some(ev));
            }
            let url = self.resp.url().to_string();
            let chunk = self.resp.chunk().await.map_err(|e| {
                ProbeError::Failed(format!("the event stream broke: {}", describe(&e, &url)))
            })?;
            let Some(chunk) = chunk else { return Ok(None) };
            self.read += chunk.len();
            if self.read > self.cap {
                return Err(ProbeError::Failed(format!(
                    "the event stream sent more than {} bytes without the answer",
                    self.cap
                )));
            }
            self.pending.extend(self.parser.feed(&chunk));
        }
    }
}

pub(super) fn has_tools_capability(init: &Value) -> bool {
    init.get("capabilities")
        .and_then(|c| c.get("tools"))
        .is_some()
}

/// Sends one JSON-RPC request and returns the message answering it: what each transport does
/// differently, so both can share [`list_tools`].
pub(super) trait Requester {
    /// Sends `body` (a request with id `id`, described as `what` in errors) and returns the
    /// JSON-RPC message whose id is `id`.
    async fn request(&mut self, id: u64, body: &Value, what: &str) -> Step<Value>;
}

/// Lists tools following `nextCursor` (at most [`MAX_TOOL_PAGES`] pages), request ids from 2.
pub(super) async fn list_tools(requester: &mut impl Requester) -> Step<Vec<Value>> {
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0..MAX_TOOL_PAGES {
        let id = 2 + page as u64;
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let msg = requester
            .request(id, &rpc(id, "tools/list", params), "tools/list")
            .await?;
        if let Some(err) = msg.get("error") {
            let text = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(ProbeError::Failed(format!(
                "tools/list failed: {}",
                quoted(text)
            )));
        }
        let result = msg.get("result").cloned().unwrap_or(Value::Null);
        if let Some(list) = result.get("tools").and_then(Value::as_array) {
            tools.extend(list.iter().cloned());
        }
        match result.get("nextCursor").and_then(Value::as_str) {
            Some(c) if !c.is_empty() => cursor = Some(c.to_owned()),
            _ => return Ok(tools),
        }
    }
    Ok(tools)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(tools: Vec<Value>) -> ProbeOutcome {
        Found {
            transport: DetectedTransport::StreamableHttp,
            requires_auth: false,
            challenge: None,
            init: Some(json!({"protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}})),
            tools: Some(tools),
            started: Instant::now(),
        }
        .into_outcome()
    }

    #[test]
    fn the_tool_hash_ignores_order_and_key_order_but_not_content() {
        let a = json!({"name": "a", "inputSchema": {"type": "object", "properties": {}}});
        let b = json!({"inputSchema": {"properties": {}, "type": "object"}, "name": "b"});
        let h1 = found(vec![a.clone(), b.clone()]);
        let h2 = found(vec![b.clone(), a.clone()]);
        assert_eq!(h1.tools_sha256, h2.tools_sha256);
        assert_eq!(h1.tool_names, vec!["a", "b"]);
        let changed = found(vec![json!({"name": "a", "description": "new"}), b]);
        assert_ne!(h1.tools_sha256, changed.tools_sha256);
    }

    #[test]
    fn initialize_answers_are_judged() {
        assert!(init_result(&json!({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2026-07-28", "capabilities": {}, "serverInfo": {}}})).is_ok());
        let err = init_result(
            &json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}}),
        );
        assert!(
            matches!(err, Err(ProbeError::Failed(m)) if m.contains("-32601") && m.contains("Method not found"))
        );
        let partial =
            init_result(&json!({"jsonrpc": "2.0", "id": 1, "result": {"capabilities": {}}}));
        assert!(matches!(partial, Err(ProbeError::Failed(m)) if m.contains("protocolVersion")));
    }

    /// Pages served from memory; records the cursors asked for.
    struct Pages {
        pages: Vec<Value>,
        asked: Vec<Value>,
    }

    impl Requester for Pages {
        async fn request(&mut self, id: u64, body: &Value, _what: &str) -> Step<Value> {
            self.asked.push(body["params"].clone());
            let page = self.pages.remove(0);
            Ok(json!({"jsonrpc": "2.0", "id": id, "result": page}))
        }
    }

    #[tokio::test]
    async fn one_paging_loop_follows_cursors_and_stops_at_the_last_page() {
        let mut p = Pages {
            pages: vec![
                json!({"tools": [{"name": "a"}], "nextCursor": "c1"}),
                json!({"tools": [{"name": "b"}, {"name": "c"}], "nextCursor": ""}),
            ],
            asked: vec![],
        };
        let tools = list_tools(&mut p).await.map_err(|e| e.to_string()).unwrap();
        assert_eq!(tools.len(), 3);
        assert_eq!(p.asked, vec![json!({}), json!({"cursor": "c1"})]);

        // A cursor that never ends stops after MAX_TOOL_PAGES pages.
        let mut endless = Pages {
            pages: vec![
                json!({"tools": [{"name": "x"}], "nextCursor": "again"});
                MAX_TOOL_PAGES + 5
            ],
            asked: vec![],
        };
        let tools = list_tools(&mut endless)
            .await
            .map_err(|e| e.to_string())
            .unwrap();
        assert_eq!(tools.len(), MAX_TOOL_PAGES);
    }

    #[test]
    fn quoted_server_text_is_bounded() {
        let huge = "e".repeat(500_000);
        let err =
            init_result(&json!({"jsonrpc": "2.0", "id": 1, "error": {"code": 1, "message": huge}}));
        let Err(ProbeError::Failed(m)) = err else {
            panic!("expected a failure")
        };
        assert!(m.chars().count() < 400, "{}", m.len());
    }
}
