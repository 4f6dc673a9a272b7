//! Streamable HTTP: the 2026-07-28 revision first (`modern`); a server that is not modern gets
//! the handshake: `initialize` (answered as JSON or as an SSE stream),
//! `notifications/initialized`, `tools/list` following cursors, then the session is deleted.

use super::error::{ProbeError, Step};
use super::exchange::{
    has_tools_capability, header, init_result, initialize, list_tools, status_problem, Ctx, Found,
    Requester,
};
use super::DetectedTransport;
use serde_json::{json, Value};

/// Each request is its own POST, answered in its own response.
struct Posts<'c, 'a> {
    ctx: &'c Ctx<'a>,
    url: &'c url::Url,
    session: Option<&'c str>,
    protocol: Option<&'c str>,
}

impl Requester for Posts<'_, '_> {
    async fn request(&mut self, id: u64, body: &Value, what: &str) -> Step<Value> {
        let r = self
            .ctx
            .post(self.url, body, self.session, self.protocol)
            .await?;
        if !r.status().is_success() {
            return Err(status_problem(r.status(), &r, what));
        }
        self.ctx.answer(r, id, what).await
    }
}

pub(super) async fn probe(ctx: &Ctx<'_>, url: &url::Url) -> Step<Found> {
    match super::modern::probe(ctx, url).await {
        Err(ProbeError::Legacy(modern)) => handshake(ctx, url).await.map_err(|e| match e {
            ProbeError::Fallback(m) => ProbeError::Fallback(format!("{modern}; {m}")),
            ProbeError::Failed(m) => ProbeError::Failed(format!("{modern}; {m}")),
            other => other,
        }),
        other => other,
    }
}

/// The `initialize` handshake (revisions up to 2025-11-25).
async fn handshake(ctx: &Ctx<'_>, url: &url::Url) -> Step<Found> {
    ctx.progress
        .set("waiting for the initialize response (streamable HTTP)");
    let r = ctx.post(url, &initialize(), None, None).await?;
    let status = r.status();
    match status.as_u16() {
        401 | 403 => {
            return ctx
                .auth_required(&r, url, DetectedTransport::StreamableHttp)
                .await
        }
        400 | 404 | 405 => {
            return Err(ProbeError::Fallback(format!(
                "streamable HTTP: the server answered initialize with HTTP {}",
                status.as_u16()
            )))
        }
        200 => {}
        _ => return Err(status_problem(status, &r, "initialize")),
    }
    let session = header(&r, "mcp-session-id");
    let msg = ctx.answer(r, 1, "initialize").await?;
    let init = init_result(&msg)?;
    let proto = init
        .get("protocolVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut posts = Posts {
        ctx,
        url,
        session: session.as_deref(),
        protocol: proto.as_deref(),
    };

    ctx.progress
        .set("after initialize, sending notifications/initialized");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    if let Ok(r) = ctx.post(url, &note, posts.session, posts.protocol).await {
        // Drain so the connection closes cleanly; the status does not decide the verdict.
        let _ = ctx.body(r, "the initialized notification").await;
    }

    let tools = if has_tools_capability(&init) {
        ctx.progress.set("waiting for tools/list");
        list_tools(&mut posts).await?
    } else {
        Vec::new()
    };

    if let Some(sid) = posts.session {
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
        tools: Some(tools),
        started: ctx.started,
    })
}
