//! Legacy HTTP+SSE: a GET opens the event stream, whose `endpoint` event names where to POST;
//! requests go by POST and their answers come back on the stream.

use super::client::describe;
use super::error::{ProbeError, Step};
use super::exchange::{
    content_type, has_tools_capability, init_result, initialize, list_tools, matching, quoted,
    status_problem, Ctx, Found, Requester, SseStream,
};
use super::DetectedTransport;
use reqwest::header::ACCEPT;
use serde_json::{json, Value};

/// POSTs to the endpoint, answers read off the one stream.
struct OverStream<'c, 'a> {
    ctx: &'c Ctx<'a>,
    post_url: &'c url::Url,
    stream: &'c mut SseStream,
}

impl OverStream<'_, '_> {
    /// POSTs `body`; the answer (if any) comes on the stream.
    async fn send(&self, body: &Value, what: &str) -> Step<()> {
        let r = self.ctx.post(self.post_url, body, None, None).await?;
        let status = r.status();
        if !status.is_success() {
            return Err(status_problem(status, &r, what));
        }
        let _ = self.ctx.body(r, what).await;
        Ok(())
    }

    /// The message on the stream answering `id`.
    async fn await_answer(&mut self, id: u64, what: &str) -> Step<Value> {
        loop {
            let ev = self.stream.next().await?.ok_or_else(|| {
                ProbeError::Failed(format!("the SSE stream ended without answering {what}"))
            })?;
            if let Some(m) = matching(&ev, id) {
                return Ok(m);
            }
        }
    }
}

impl Requester for OverStream<'_, '_> {
    async fn request(&mut self, id: u64, body: &Value, what: &str) -> Step<Value> {
        self.send(body, what).await?;
        self.await_answer(id, what).await
    }
}

pub(super) async fn probe(ctx: &Ctx<'_>, url: &url::Url) -> Step<Found> {
    ctx.progress.set("waiting for the SSE stream (legacy SSE)");
    let r = ctx
        .client
        .get(url.clone())
        .headers(ctx.headers.clone())
        .header(ACCEPT, "text/event-stream")
        .send()
        .await
        .map_err(|e| ProbeError::Failed(describe(&e, url.as_str())))?;
    let status = r.status();
    match status.as_u16() {
        401 | 403 => return ctx.auth_required(&r, url, DetectedTransport::Sse).await,
        200 => {}
        _ => return Err(status_problem(status, &r, "the SSE stream request")),
    }
    let ct = content_type(&r);
    if ct != "text/event-stream" {
        let shown = if ct.is_empty() {
            "no content type".to_string()
        } else {
            quoted(&ct)
        };
        return Err(ProbeError::Failed(format!(
            "the server answered 200 with {shown}, neither an MCP JSON-RPC response nor an SSE stream"
        )));
    }
    let mut stream = SseStream::new(r, ctx.cap());
    ctx.progress.set("waiting for the SSE endpoint event");
    let endpoint = loop {
        let ev = stream.next().await?.ok_or_else(|| {
            ProbeError::Failed("the SSE stream ended before its endpoint event".into())
        })?;
        if ev.event == "endpoint" {
            break ev.data;
        }
    };
    let post_url = url.join(endpoint.trim()).map_err(|_| {
        ProbeError::Failed(format!(
            "the SSE endpoint event {:?} is not a URL",
            quoted(&endpoint)
        ))
    })?;
    if post_url.origin() != url.origin() {
        return Err(ProbeError::Failed(format!(
            "the SSE endpoint event points to another origin ({}); refusing to follow it",
            quoted(&post_url.origin().ascii_serialization())
        )));
    }

    ctx.progress
        .set("waiting for the initialize response (legacy SSE)");
    let r = ctx.post(&post_url, &initialize(), None, None).await?;
    match r.status().as_u16() {
        401 | 403 => return ctx.auth_required(&r, url, DetectedTransport::Sse).await,
        s if (200..300).contains(&s) => {
            let _ = ctx.body(r, "initialize").await;
        }
        _ => return Err(status_problem(r.status(), &r, "initialize")),
    }
    let mut over = OverStream {
        ctx,
        post_url: &post_url,
        stream: &mut stream,
    };
    let init = init_result(&over.await_answer(1, "initialize").await?)?;
    over.send(
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        "notifications/initialized",
    )
    .await?;
    let tools = if has_tools_capability(&init) {
        ctx.progress.set("waiting for tools/list (legacy SSE)");
        list_tools(&mut over).await?
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
