//! `Idempotency-Key` on write routes: a retry of a request returns the original answer instead
//! of repeating the change.
//!
//! A 503 means the service could not confirm the outcome (a dependency timed out): the change
//! may or may not have been applied. Retrying with the same key is always safe: if the first
//! attempt landed, its record (written in the same transaction as the change, see
//! store/idempotency.rs) answers; if it did not, the retry applies the change once.
//!
//! Keys are scoped to the caller and kept 24 hours. The same key with a different request
//! (method, path, query or body) is a 422; one that another request is spending at this moment
//! is a 409. Public routes (login, refresh), reads, and the routes whose answer holds a secret
//! that must not be stored (`routes::mfa::answer_holds_secret`) ignore the header.

use super::{Caller, Handler, HandlerFuture, Route};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;
use crate::store::idempotency::{with_pending, IdempotencyItem};
use std::collections::BTreeMap;

/// Headers of an answer worth replaying.
const REPLAYED_HEADERS: &[&str] = &["content-type", "location", "etag"];

/// `handler`'s future, through the request's `Idempotency-Key` if it has one. Decided before
/// anything runs, so a request without a key costs nothing more than its handler (no extra
/// future or allocation), and the keyed path's store calls live in their own boxed future.
pub fn run<'a>(
    state: &'a AppState,
    route: &'static Route,
    req: &'a ApiRequest,
    caller: Caller,
    handler: Handler,
) -> HandlerFuture<'a> {
    let key = match req.header("idempotency-key") {
        Some(k) if is_write(route.method) && !super::mfa::answer_holds_secret(route) => k,
        _ => return handler(state, req, caller),
    };
    let Some(principal) = caller.principal_id() else {
        return handler(state, req, caller);
    };
    Box::pin(run_keyed(
        state, route, req, caller, handler, key, principal,
    ))
}

/// [`run`] for a write sent with an Idempotency-Key by `principal`.
async fn run_keyed(
    state: &AppState,
    route: &Route,
    req: &ApiRequest,
    caller: Caller,
    handler: Handler,
    key: &str,
    principal: String,
) -> AppResult<ApiResponse> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(AppError::BadRequest(
            "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
        ));
    }
    let fingerprint = fingerprint(req);
    let now = crate::time::now().timestamp();
    match state.store.get_idempotency(&principal, key, now).await? {
        Some(record) if record.fingerprint != fingerprint => {
            Err(AppError::Validation(vec![FieldError::new(
                "",
                "this Idempotency-Key was used for a different request; use a new key",
            )]))
        }
        Some(record) => replay(state, route, record).await,
        None => {
            let record = IdempotencyItem::new(&principal, key, fingerprint, now);
            let (answer, spent) = with_pending(record.clone(), handler(state, req, caller)).await;
            let answer = answer?;
            if spent && (200..300).contains(&answer.status) {
                let headers: BTreeMap<&str, &str> = REPLAYED_HEADERS
                    .iter()
                    .filter_map(|h| answer.headers.get(*h).map(|v| (*h, v.as_str())))
                    .collect();
                let saved = state
                    .store
                    .record_idempotent_answer(
                        &record,
                        answer.status,
                        String::from_utf8_lossy(&answer.body).into_owned(),
                        serde_json::to_string(&headers).unwrap_or_default(),
                    )
                    .await;
                // The change and the spent key are already one fact; a lost answer is
                // re-rendered from the target on replay.
                if let Err(e) = saved {
                    tracing::warn!(error = %e, "could not record an idempotent answer");
                }
            }
            Ok(answer)
        }
    }
}

#[inline]
pub(crate) fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

/// SHA-256 over what identifies a request: method, path, query and body.
fn fingerprint(req: &ApiRequest) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        req.method.as_bytes(),
        req.path.as_bytes(),
        req.raw_query.as_bytes(),
    ] {
        h.update(part);
        h.update([0]);
    }
    h.update(&req.body);
    hex::encode(h.finalize())
}

/// The original answer, or (when only the change was recorded) the target as it is now.
async fn replay(
    state: &AppState,
    route: &Route,
    record: IdempotencyItem,
) -> AppResult<ApiResponse> {
    let mut answer = match (record.status, record.body) {
        (Some(status), Some(body)) => {
            let headers: BTreeMap<String, String> = record
                .headers
                .as_deref()
                .and_then(|h| serde_json::from_str(h).ok())
                .unwrap_or_default();
            let content_type = headers
                .get("content-type")
                .cloned()
                .unwrap_or_else(|| "application/json".into());
            let mut a = if status == 204 {
                ApiResponse::no_content()
            } else {
                ApiResponse::bytes(status, &content_type, body.into_bytes())
            };
            for (k, v) in headers.iter().filter(|(k, _)| *k != "content-type") {
                a.header(k, v);
            }
            a
        }
        _ => rerender(state, route, record.target_id.as_deref()).await?,
    };
    answer.header("idempotent-replayed", "true");
    Ok(answer)
}

/// The answer of a change whose answer was lost: the route's success status with the target as
/// it is now (tools), or no content (deletes).
async fn rerender(state: &AppState, route: &Route, target: Option<&str>) -> AppResult<ApiResponse> {
    if route.method == "DELETE" {
        return Ok(ApiResponse::no_content());
    }
    let tool_id = target.and_then(crate::domain::tool::ToolId::parse);
    if let (Some(id), true) = (tool_id, route.path.starts_with("/api/v1/tools")) {
        if let Some(tool) = state.store.get_tool(id).await? {
            let mut a = super::tools::tool_response(route.openapi.status, &tool)?;
            if route.openapi.location {
                a.header("location", &format!("/api/v1/tools/{id}"));
            }
            return Ok(a);
        }
    }
    Err(AppError::Conflict(format!(
        "this request was applied{} but its answer was not kept; read the resource",
        target.map(|t| format!(" (target {t})")).unwrap_or_default()
    )))
}
