//! The MCP exchanges: streamable HTTP and legacy SSE, and what their answers mean.

use super::client::describe;
use super::sse::{Event, Parser};
use super::{
    challenge, ssrf, AuthChallenge, DetectedTransport, ProbeOutcome, ProbeSettings, ProbeStatus,
    ProbeTarget, TransportPreference,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

/// The protocol revision toolreg asks for; servers may answer with another (newer is fine).
const PROTOCOL_VERSION: &str = "2025-06-18";
/// `tools/list` pages followed at most (a server whose cursor never ends must not hold us).
const MAX_TOOL_PAGES: usize = 50;

/// Where a probe got to, for the timeout message.
#[derive(Default)]
pub struct Progress(Mutex<String>);

impl Progress {
    fn set(&self, s: impl Into<String>) {
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
    transport: DetectedTransport,
    requires_auth: bool,
    challenge: Option<AuthChallenge>,
    init: Option<Value>,
    tools: Option<Vec<Value>>,
    started: Instant,
}

impl Found {
    pub fn into_outcome(self) -> ProbeOutcome {
        let info = self.init.as_ref().and_then(|i| i.get("serverInfo"));
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let (names, count, hash) = match &self.tools {
            Some(tools) => {
                let mut sorted: Vec<&Value> = tools.iter().collect();
                sorted.sort_by(|a, b| tool_name(a).cmp(tool_name(b)));
                let names = sorted
                    .iter()
                    .map(|t| tool_name(t).to_owned())
                    .collect::<Vec<_>>();
                let canonical = Value::Array(sorted.into_iter().map(canonical).collect());
                let hash = hex::encode(Sha256::digest(canonical.to_string().as_bytes()));
                (names, Some(tools.len() as u32), Some(hash))
            }
            None => (Vec::new(), None, None),
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
        }
    }
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

/// Why a transport attempt stopped.
enum Stop {
    /// 400/404/405 on streamable HTTP: the server may speak legacy SSE instead.
    Fallback(String),
    Failed(String),
}

type Step<T> = Result<T, Stop>;

/// One probe's context.
struct Ctx<'a> {
    client: &'a reqwest::Client,
    settings: &'a ProbeSettings,
    headers: HeaderMap,
    progress: &'a Progress,
    started: Instant,
}

/// Runs the probe for `target`; the caller applies the deadline.
pub async fn run(
    client: &reqwest::Client,
    settings: &ProbeSettings,
    target: &ProbeTarget,
    _deadline: Instant,
    progress: &Progress,
) -> Result<Found, String> {
    let url =
        url::Url::parse(&target.url).map_err(|e| format!("the server URL is not valid ({e})"))?;
    if !settings.allow_private_networks {
        if let Some(host) = url.host() {
            let literal: Option<std::net::IpAddr> = match host {
                url::Host::Ipv4(v4) => Some(v4.into()),
                url::Host::Ipv6(v6) => Some(v6.into()),
                url::Host::Domain(_) => None,
            };
            if let Some(ip) = literal {
                if let Some(why) = ssrf::forbidden_reason(ip) {
                    return Err(format!("address {ip} is {why}; probing it is not allowed"));
                }
            }
        }
    }
    let mut headers = HeaderMap::new();
    for (k, v) in &target.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("static header name {k:?} is not valid"))?;
        // Values are secrets: never echo them in an error.
        let value = HeaderValue::from_str(v)
            .map_err(|_| format!("static header {k} has an invalid value"))?;
        headers.insert(name, value);
    }
    let ctx = Ctx {
        client,
        settings,
        headers,
        progress,
        started: Instant::now(),
    };
    match target.transport {
        TransportPreference::StreamableHttp => streamable(&ctx, &url).await.map_err(reason),
        TransportPreference::Sse => legacy_sse(&ctx, &url).await.map_err(reason),
        TransportPreference::Auto => match streamable(&ctx, &url).await {
            Err(Stop::Fallback(why)) => legacy_sse(&ctx, &url)
                .await
                .map_err(|e| format!("{why}; legacy SSE: {}", reason(e))),
            other => other.map_err(reason),
        },
    }
}

fn reason(s: Stop) -> String {
    match s {
        Stop::Fallback(r) | Stop::Failed(r) => r,
    }
}

fn rpc(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn initialize() -> Value {
    rpc(
        1,
        "initialize",
        json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "toolreg-prober", "version": env!("CARGO_PKG_VERSION")}
        }),
    )
}

fn content_type(r: &reqwest::Response) -> String {
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

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The initialize result, or why the answer is not one.
fn init_result(msg: &Value) -> Step<Value> {
    if let Some(err) = msg.get("error") {
        let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
        let text = err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(Stop::Failed(format!(
            "the server answered initialize with JSON-RPC error {code}: {text}"
        )));
    }
    let result = msg.get("result").ok_or_else(|| {
        Stop::Failed("the answer to initialize is JSON-RPC without a result".into())
    })?;
    let missing: Vec<&str> = ["protocolVersion", "capabilities", "serverInfo"]
        .into_iter()
        .filter(|k| result.get(*k).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(Stop::Failed(format!(
            "the initialize result lacks {} — not an MCP server",
            missing.join(", ")
        )));
    }
    Ok(result.clone())
}

impl Ctx<'_> {
    fn cap(&self) -> usize {
        self.settings.max_body_bytes
    }

    async fn post(
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
            .map_err(|e| Stop::Failed(describe(&e, url.as_str())))
    }

    /// Reads a whole body, refusing more than the cap.
    async fn body(&self, mut r: reqwest::Response, what: &str) -> Step<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(|e| {
            Stop::Failed(format!(
                "reading {what}: {}",
                describe(&e, r.url().as_str())
            ))
        })? {
            out.extend_from_slice(&chunk);
            if out.len() > self.cap() {
                return Err(Stop::Failed(format!(
                    "{what} is larger than {} bytes",
                    self.cap()
                )));
            }
        }
        Ok(out)
    }

    /// The JSON-RPC message answering request `id`, from a JSON or SSE response.
    async fn answer(&self, r: reqwest::Response, id: u64, what: &str) -> Step<Value> {
        let ct = content_type(&r);
        if ct == "text/event-stream" {
            let mut stream = SseStream::new(r, self.cap());
            loop {
                let ev = stream.next().await?.ok_or_else(|| {
                    Stop::Failed(format!("the SSE stream ended without answering {what}"))
                })?;
                if let Some(msg) = matching(&ev, id) {
                    return Ok(msg);
                }
            }
        }
        if ct == "application/json" || ct.ends_with("+json") {
            let bytes = self.body(r, what).await?;
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
                Stop::Failed(format!("the answer to {what} is not valid JSON ({e})"))
            })?;
            let found = match v {
                Value::Array(items) => items.into_iter().find(|m| m.get("id") == Some(&json!(id))),
                m => Some(m),
            };
            return found.ok_or_else(|| {
                Stop::Failed(format!("the answer to {what} has no response with id {id}"))
            });
        }
        let shown = if ct.is_empty() {
            "no content type".to_string()
        } else {
            ct
        };
        Err(Stop::Failed(format!(
            "the server answered {what} with 200 and {shown}, not an MCP JSON-RPC response"
        )))
    }

    /// 401/403: alive and requiring auth. Reads the challenge and, best effort, its metadata.
    async fn auth_required(&self, r: &reqwest::Response, transport: DetectedTransport) -> Found {
        let www = header(r, "www-authenticate");
        let metadata_url = www
            .as_deref()
            .and_then(|h| challenge::param(h, "resource_metadata"));
        let mut ch = AuthChallenge {
            www_authenticate: www,
            resource_metadata_url: metadata_url.clone(),
            ..Default::default()
        };
        if let Some(m) = metadata_url
            .as_deref()
            .and_then(|m| url::Url::parse(m).ok())
        {
            self.progress
                .set("while fetching the protected-resource metadata");
            let literal_ok = self.settings.allow_private_networks
                || match m.host() {
                    Some(url::Host::Ipv4(v4)) => ssrf::forbidden_reason(v4.into()).is_none(),
                    Some(url::Host::Ipv6(v6)) => ssrf::forbidden_reason(v6.into()).is_none(),
                    _ => true,
                };
            if literal_ok && matches!(m.scheme(), "https" | "http") {
                if let Ok(resp) = self
                    .client
                    .get(m)
                    .header(ACCEPT, "application/json")
                    .send()
                    .await
                {
                    if resp.status().is_success() {
                        if let Ok(bytes) = self.body(resp, "the resource metadata").await {
                            if let Ok(doc) = serde_json::from_slice::<Value>(&bytes) {
                                ch.authorization_servers = doc
                                    .get("authorization_servers")
                                    .and_then(Value::as_array)
                                    .map(|a| {
                                        a.iter()
                                            .filter_map(|s| s.as_str().map(str::to_owned))
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                ch.resource = doc
                                    .get("resource")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned);
                            }
                        }
                    }
                }
            }
        }
        Found {
            transport,
            requires_auth: true,
            challenge: Some(ch),
            init: None,
            tools: None,
            started: self.started,
        }
    }
}

fn status_problem(status: reqwest::StatusCode, r: &reqwest::Response, what: &str) -> Stop {
    let code = status.as_u16();
    if status.is_redirection() {
        let to = header(r, "location").unwrap_or_else(|| "nowhere".into());
        return Stop::Failed(format!(
            "the server redirected {what} to {to}; redirects are not followed"
        ));
    }
    if status.is_server_error() {
        return Stop::Failed(format!("the server failed {what} with HTTP {code}"));
    }
    Stop::Failed(format!("the server answered {what} with HTTP {code}"))
}

/// The JSON-RPC message in `ev` answering `id`, if it is one.
fn matching(ev: &Event, id: u64) -> Option<Value> {
    if ev.event != "message" {
        return None;
    }
    let v: Value = serde_json::from_str(&ev.data).ok()?;
    (v.get("id") == Some(&json!(id)) && (v.get("result").is_some() || v.get("error").is_some()))
        .then_some(v)
}

/// Reads events off a streaming response, capped in bytes.
struct SseStream {
    resp: reqwest::Response,
    parser: Parser,
    pending: VecDeque<Event>,
    read: usize,
    cap: usize,
}

impl SseStream {
    fn new(resp: reqwest::Response, cap: usize) -> Self {
        Self {
            resp,
            parser: Parser::default(),
            pending: VecDeque::new(),
            read: 0,
            cap,
        }
    }

    async fn next(&mut self) -> Step<Option<Event>> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(Some(ev));
            }
            let url = self.resp.url().to_string();
            let chunk = self.resp.chunk().await.map_err(|e| {
                Stop::Failed(format!("the event stream broke: {}", describe(&e, &url)))
            })?;
            let Some(chunk) = chunk else { return Ok(None) };
            self.read += chunk.len();
            if self.read > self.cap {
                return Err(Stop::Failed(format!(
                    "the event stream sent more than {} bytes without the answer",
                    self.cap
                )));
            }
            self.pending.extend(self.parser.feed(&chunk));
        }
    }
}

/// Lists tools following `nextCursor`, with `call` sending one request and returning its answer.
async fn list_tools<F, Fut>(mut call: F) -> Step<Vec<Value>>
where
    F: FnMut(u64, Value) -> Fut,
    Fut: std::future::Future<Output = Step<Value>>,
{
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0..MAX_TOOL_PAGES {
        let id = 2 + page as u64;
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let msg = call(id, rpc(id, "tools/list", params)).await?;
        if let Some(err) = msg.get("error") {
            let text = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(Stop::Failed(format!("tools/list failed: {text}")));
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

fn has_tools_capability(init: &Value) -> bool {
    init.get("capabilities")
        .and_then(|c| c.get("tools"))
        .is_some()
}

async fn streamable(ctx: &Ctx<'_>, url: &url::Url) -> Step<Found> {
    ctx.progress
        .set("waiting for the initialize response (streamable HTTP)");
    let r = ctx.post(url, &initialize(), None, None).await?;
    let status = r.status();
    match status.as_u16() {
        401 | 403 => {
            return Ok(ctx
                .auth_required(&r, DetectedTransport::StreamableHttp)
                .await)
        }
        400 | 404 | 405 => {
            return Err(Stop::Fallback(format!(
                "streamable HTTP: the server answered initialize with HTTP {}",
                status.as_u16()
            )))
        }
        200 => {}
        _ => return Err(status_problem(status, &r, "initialize")),
    }
    let session = header(&r, "mcp-session-id");
    let msg = ctx.answer(r, 1, "initialize").await?;
    let init = match init_result(&msg) {
        Ok(i) => i,
        // A server on a newer protocol revision may refuse initialize but answer discovery.
        Err(e) => match discover(ctx, url).await {
            Some(d) => d,
            None => return Err(e),
        },
    };
    let proto = init
        .get("protocolVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let s = session.as_deref();
    let p = proto.as_deref();

    ctx.progress
        .set("after initialize, sending notifications/initialized");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    if let Ok(r) = ctx.post(url, &note, s, p).await {
        // Drain so the connection closes cleanly; the status does not decide the verdict.
        let _ = ctx.body(r, "the initialized notification").await;
    }

    let tools = if has_tools_capability(&init) {
        ctx.progress.set("waiting for tools/list");
        Some(
            list_tools(|id, body| async move {
                let r = ctx.post(url, &body, s, p).await?;
                if !r.status().is_success() {
                    return Err(status_problem(r.status(), &r, "tools/list"));
                }
                ctx.answer(r, id, "tools/list").await
            })
            .await?,
        )
    } else {
        Some(Vec::new())
    };

    if let Some(sid) = s {
        // Ending the session is a courtesy; 405 (not supported) and failures are fine.
        let _ = ctx
            .client
            .delete(url.clone())
            .headers(ctx.headers.clone())
            .header("mcp-session-id", sid)
            .send()
            .await;
    }
    Ok(Found {
        transport: DetectedTransport::StreamableHttp,
        requires_auth: false,
        challenge: None,
        init: Some(init),
        tools,
        started: ctx.started,
    })
}

/// `server/discover` (protocol revisions after 2025): a result with `serverInfo` is an MCP server.
async fn discover(ctx: &Ctx<'_>, url: &url::Url) -> Option<Value> {
    let r = ctx
        .post(url, &rpc(9, "server/discover", json!({})), None, None)
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let msg = ctx.answer(r, 9, "server/discover").await.ok()?;
    let result = msg.get("result")?.clone();
    result.get("serverInfo")?;
    let mut init = result.clone();
    if init.get("protocolVersion").is_none() {
        if let Some(v) = result
            .get("supportedVersions")
            .and_then(|v| v.get(0))
            .cloned()
        {
            init["protocolVersion"] = v;
        }
    }
    if init.get("capabilities").is_none() {
        init["capabilities"] = json!({});
    }
    Some(init)
}

async fn legacy_sse(ctx: &Ctx<'_>, url: &url::Url) -> Step<Found> {
    ctx.progress.set("waiting for the SSE stream (legacy SSE)");
    let r = ctx
        .client
        .get(url.clone())
        .headers(ctx.headers.clone())
        .header(ACCEPT, "text/event-stream")
        .send()
        .await
        .map_err(|e| Stop::Failed(describe(&e, url.as_str())))?;
    let status = r.status();
    match status.as_u16() {
        401 | 403 => return Ok(ctx.auth_required(&r, DetectedTransport::Sse).await),
        200 => {}
        _ => return Err(status_problem(status, &r, "the SSE stream request")),
    }
    let ct = content_type(&r);
    if ct != "text/event-stream" {
        let shown = if ct.is_empty() {
            "no content type".to_string()
        } else {
            ct
        };
        return Err(Stop::Failed(format!(
            "the server answered 200 with {shown}, neither an MCP JSON-RPC response nor an SSE stream"
        )));
    }
    let mut stream = SseStream::new(r, ctx.cap());
    ctx.progress.set("waiting for the SSE endpoint event");
    let endpoint = loop {
        let ev = stream
            .next()
            .await?
            .ok_or_else(|| Stop::Failed("the SSE stream ended before its endpoint event".into()))?;
        if ev.event == "endpoint" {
            break ev.data;
        }
    };
    let post_url = url
        .join(endpoint.trim())
        .map_err(|_| Stop::Failed(format!("the SSE endpoint event {endpoint:?} is not a URL")))?;
    if post_url.origin() != url.origin() {
        return Err(Stop::Failed(format!(
            "the SSE endpoint event points to another origin ({}); refusing to follow it",
            post_url.origin().ascii_serialization()
        )));
    }

    // Requests go by POST; answers come back on the stream.
    async fn send(ctx: &Ctx<'_>, to: &url::Url, body: &Value, what: &str) -> Step<()> {
        let r = ctx.post(to, body, None, None).await?;
        let status = r.status();
        if !status.is_success() {
            return Err(status_problem(status, &r, what));
        }
        let _ = ctx.body(r, what).await;
        Ok(())
    }
    async fn await_answer(stream: &mut SseStream, id: u64, what: &str) -> Step<Value> {
        loop {
            let ev = stream.next().await?.ok_or_else(|| {
                Stop::Failed(format!("the SSE stream ended without answering {what}"))
            })?;
            if let Some(m) = matching(&ev, id) {
                return Ok(m);
            }
        }
    }

    ctx.progress
        .set("waiting for the initialize response (legacy SSE)");
    let r = ctx.post(&post_url, &initialize(), None, None).await?;
    match r.status().as_u16() {
        401 | 403 => return Ok(ctx.auth_required(&r, DetectedTransport::Sse).await),
        s if (200..300).contains(&s) => {
            let _ = ctx.body(r, "initialize").await;
        }
        _ => return Err(status_problem(r.status(), &r, "initialize")),
    }
    let init = init_result(&await_answer(&mut stream, 1, "initialize").await?)?;
    send(
        ctx,
        &post_url,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        "notifications/initialized",
    )
    .await?;
    let tools = if has_tools_capability(&init) {
        ctx.progress.set("waiting for tools/list (legacy SSE)");
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        for page in 0..MAX_TOOL_PAGES {
            let id = 2 + page as u64;
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            send(ctx, &post_url, &rpc(id, "tools/list", params), "tools/list").await?;
            let msg = await_answer(&mut stream, id, "tools/list").await?;
            if let Some(err) = msg.get("error") {
                let text = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message");
                return Err(Stop::Failed(format!("tools/list failed: {text}")));
            }
            let result = msg.get("result").cloned().unwrap_or(Value::Null);
            if let Some(list) = result.get("tools").and_then(Value::as_array) {
                all.extend(list.iter().cloned());
            }
            match result.get("nextCursor").and_then(Value::as_str) {
                Some(c) if !c.is_empty() => cursor = Some(c.to_owned()),
                _ => break,
            }
        }
        all
    } else {
        Vec::new()
    };
    Ok(Found {
        transport: DetectedTransport::Sse,
        requires_auth: false,
        challenge: None,
        init: Some(init),
        tools: Some(tools),
        started: ctx.started,
    })
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
            matches!(err, Err(Stop::Failed(m)) if m.contains("-32601") && m.contains("Method not found"))
        );
        let partial =
            init_result(&json!({"jsonrpc": "2.0", "id": 1, "result": {"capabilities": {}}}));
        assert!(matches!(partial, Err(Stop::Failed(m)) if m.contains("protocolVersion")));
    }
}
