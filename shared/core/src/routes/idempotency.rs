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
//! is a 409. Public routes (login, refresh), reads, `/mcp` (JSON-RPC has no such header) and
//! the routes whose answer holds a secret that must not be stored
//! (`routes::mfa::answer_holds_secret`) ignore the header.
//!
//! What is replayed is what the first request answered, whatever it was, once its change landed
//! (the record was spent): a success, or a refusal that came after the change (a denied access
//! request is recorded, then answered 403). A retry never renders anything the first answer did
//! not hold, and only the principal the key belongs to can reach its record.
//!
//! An answer holding a secret (an API key, a token pair, a credential: marked
//! `Cache-Control: no-store`) is never stored, sealed or not (docs/architecture.md,
//! "Idempotency"): the record keeps the `answer-not-kept` problem a retry gets instead, with the
//! resource minus its secret ([`SECRET_MEMBERS`]).

use super::{Caller, Handler, HandlerFuture, Route};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::{problem, ApiRequest, ApiResponse};
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
        Some(k)
            if is_write(route.method)
                && !super::mfa::answer_holds_secret(route)
                && route.function != super::MCP.function =>
        {
            k
        }
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
    // Recorded under the signing version; recognised under any version still in force, so a
    // retry across a rotation of the JWT secret is still the same request.
    let keys = state.keys.get().await?;
    let signing = keys
        .keys
        .get(&keys.signing_kid)
        .ok_or_else(|| AppError::Internal("the JWT key set lacks its signing version".into()))?;
    let fingerprint = fingerprint(signing, req);
    let now = crate::time::now().timestamp();
    match state.store.get_idempotency(&principal, key, now).await? {
        Some(record)
            if record.fingerprint != fingerprint
                && !keys
                    .keys
                    .values()
                    .any(|k| self::fingerprint(k, req) == record.fingerprint) =>
        {
            Err(AppError::Validation(vec![FieldError::new(
                "",
                "this Idempotency-Key was used for a different request; use a new key",
            )]))
        }
        Some(record) => replay(state, route, req, record).await,
        None => {
            let record = IdempotencyItem::new(&principal, key, fingerprint, now);
            let (answer, spent) = with_pending(record.clone(), handler(state, req, caller)).await;
            // Only a change that landed spent the key; its answer is the request's outcome, a
            // refusal after the change included. A 5xx is not an outcome (the client retries).
            let kept = match (&answer, spent) {
                (Ok(a), true) if (200..300).contains(&a.status) => Some(keepable(route, a, req)),
                (Err(e), true)
                    if !matches!(e, AppError::Unavailable(_) | AppError::Internal(_)) =>
                {
                    Some(problem::from_error(e, &req.request_id).finish())
                }
                _ => None,
            };
            if let Some(kept) = kept {
                let headers: BTreeMap<&str, &str> = REPLAYED_HEADERS
                    .iter()
                    .filter_map(|h| kept.headers.get(*h).map(|v| (*h, v.as_str())))
                    .collect();
                let saved = state
                    .store
                    .record_idempotent_answer(
                        &record,
                        kept.status,
                        String::from_utf8_lossy(&kept.body).into_owned(),
                        serde_json::to_string(&headers).unwrap_or_default(),
                    )
                    .await;
                // The change and the spent key are already one fact; a lost answer is
                // re-rendered from the target on replay.
                if let Err(e) = saved {
                    tracing::warn!(error = %e, "could not record an idempotent answer");
                }
            }
            answer
        }
    }
}

/// The JSON members (pointers) of a route's success answer that are secrets. A retry gets the
/// answer without them, inside an `answer-not-kept` problem.
const SECRET_MEMBERS: &[(&str, &[&str])] = &[
    (super::AGENT_KEYS_CREATE.function, &["/key"]),
    (super::TOOLS_ACCESS.function, &["/credential/token"]),
    (
        super::AUTH_PASSWORD.function,
        &["/access_token", "/refresh_token"],
    ),
    (super::AUTH_ELEVATE.function, &["/elevated_token"]),
];

fn secret_members(route: &Route) -> Option<&'static [&'static str]> {
    SECRET_MEMBERS
        .iter()
        .find(|(f, _)| *f == route.function)
        .map(|(_, m)| *m)
}

/// What may be stored of a success answer: the answer itself, or, when it holds a secret (a
/// route of [`SECRET_MEMBERS`], or any answer marked `no-store`), the `answer-not-kept` problem
/// a retry gets, holding the resource without its secret members. An answer marked `no-store`
/// whose secret members are not listed keeps no resource at all: nothing unknown is stored.
fn keepable(route: &Route, answer: &ApiResponse, req: &ApiRequest) -> ApiResponse {
    let no_store = answer
        .headers
        .get("cache-control")
        .is_some_and(|c| c.contains("no-store"));
    if !no_store && secret_members(route).is_none() {
        return answer.clone();
    }
    withheld(route, answer.status, &answer.body, &answer.headers, req)
}

/// The `answer-not-kept` problem for a secret-bearing answer (`status`, `body`, `headers`).
fn withheld(
    route: &Route,
    status: u16,
    body: &[u8],
    headers: &BTreeMap<String, String>,
    req: &ApiRequest,
) -> ApiResponse {
    let resource = secret_members(route)
        .filter(|_| (200..300).contains(&status))
        .and_then(|members| {
            let mut v: serde_json::Value = serde_json::from_slice(body).ok()?;
            for m in members {
                let (parent, last) = m.rsplit_once('/')?;
                if let Some(serde_json::Value::Object(o)) = v.pointer_mut(parent) {
                    o.remove(last);
                }
            }
            Some(v)
        });
    let mut r = problem::from_error(&AppError::AnswerNotKept { resource }, &req.request_id);
    if let Some(location) = headers.get("location") {
        r.header("location", location);
    }
    r.finish()
}

#[inline]
pub(crate) fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

/// Makes fingerprint keys differ from the JWT keys they come from (and from the cursor keys).
const FINGERPRINT_KEY_LABEL: &[u8] = b"toolreg/idempotency/v1";

/// HMAC-SHA256 over what identifies a request (method, path, query and body) under a key
/// derived from one version of the JWT secret. Keyed, because a body may hold a password: a
/// plain hash kept for 24 h would let anyone who reads the table test guesses against it.
fn fingerprint(secret: &[u8], req: &ApiRequest) -> String {
    use hmac::{Hmac, Mac};
    type HmacSha256 = Hmac<sha2::Sha256>;
    let mut derive = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    derive.update(FINGERPRINT_KEY_LABEL);
    let key = derive.finalize().into_bytes();
    let mut h = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
    for part in [
        req.method.as_bytes(),
        req.path.as_bytes(),
        req.raw_query.as_bytes(),
    ] {
        h.update(part);
        h.update(&[0]);
    }
    h.update(&req.body);
    hex::encode(h.finalize().into_bytes())
}

/// The original answer, or (when only the change was recorded) the target as it is now.
async fn replay(
    state: &AppState,
    route: &Route,
    req: &ApiRequest,
    record: IdempotencyItem,
) -> AppResult<ApiResponse> {
    let mut answer = match (record.status, record.body) {
        (Some(status), Some(body)) => {
            let headers: BTreeMap<String, String> = record
                .headers
                .as_deref()
                .and_then(|h| serde_json::from_str(h).ok())
                .unwrap_or_default();
            // A record written before secrets were withheld may hold one: never replay it.
            if (200..300).contains(&status) && secret_members(route).is_some() {
                let mut a = withheld(route, status, body.as_bytes(), &headers, req);
                a.header("idempotent-replayed", "true");
                return Ok(a);
            }
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
/// it is now (routes answering the tool itself, all admin routes, so the caller may see it),
/// or no content (deletes). Anything else, an access request above all (its target is a tool
/// the caller may not be shown), is a 409 naming nothing.
async fn rerender(state: &AppState, route: &Route, target: Option<&str>) -> AppResult<ApiResponse> {
    if route.method == "DELETE" {
        return Ok(ApiResponse::no_content());
    }
    let tool_id = target.and_then(crate::domain::tool::ToolId::parse);
    let answers_the_tool = route.openapi.response == super::Content::Json("Tool")
        && matches!(
            route.access,
            super::Access::Admin | super::Access::ElevatedAdmin
        );
    if let (Some(id), true) = (tool_id, answers_the_tool) {
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
