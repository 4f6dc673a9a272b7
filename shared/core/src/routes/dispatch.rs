//! The dispatcher every request goes through: the row's transport checks, authentication for
//! the credential kinds the row accepts, the role check (refusals audited once per window), the
//! handler (through the idempotency store when a principal may send a key), and the failure
//! audit of a refused write.

use super::*;
use crate::auth::jwt::TokenType;
use crate::auth::principal::{self, Principal};
use crate::aws::{CallCounts, CALLS};
use crate::domain::agent::CATALOG_READ;
use crate::domain::user::Role;
use crate::error::{AppError, AppResult};
use crate::http::{problem, ApiRequest, ApiResponse};
use crate::state::AppState;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tracing::Instrument;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who is calling, as far as the row's [`Access`] lets the dispatcher ask: the credential kinds
/// a row accepts are decided here, from the row alone, before any part of the state is touched.
/// Routes any principal may call take a user's or an agent's token and an agent's API key;
/// routes for people take a person's token and refuse an API key unread (see
/// `principal::authenticate_person`), so no credential reaches a part their function lacks.
/// Errors are 401s, and that 403.
fn authenticate<'a, R: RowOf>(
    state: &'a AppState,
    row: R,
    req: &'a ApiRequest,
) -> BoxFuture<'a, AppResult<Caller>> {
    let some = |p: Principal| Caller(Some(p));
    match row.route().access {
        Access::Public => Box::pin(std::future::ready(Ok(Caller(None)))),
        Access::AnyPrincipal | Access::Scoped(_) => {
            Box::pin(async move { principal::authenticate(state, req).await.map(some) })
        }
        Access::Person | Access::Admin => Box::pin(async move {
            principal::authenticate_person(state, req, false)
                .await
                .map(some)
        }),
        Access::ElevatedAdmin => Box::pin(async move {
            principal::authenticate_person(state, req, true)
                .await
                .map(some)
        }),
    }
}

fn admins_only() -> AppError {
    AppError::Forbidden("this operation is for admins".into())
}

/// Whether the authenticated `caller` may call a route with `access`: its role, an agent's
/// scopes, an elevated token. No I/O. Every error is a 403.
fn permit(access: Access, caller: &Caller) -> AppResult<()> {
    let scoped = |p: &Principal, scope: &str| match p {
        Principal::Agent(a) if !a.has_scope(scope) => Err(AppError::Forbidden(format!(
            "this route needs the {scope} scope"
        ))),
        _ => Ok(()),
    };
    let Some(p) = &caller.0 else {
        return match access {
            Access::Public => Ok(()),
            _ => Err(AppError::Internal(
                "a route for principals was reached without one".into(),
            )),
        };
    };
    match (access, p) {
        (Access::Public, _) => Ok(()),
        (Access::AnyPrincipal, p) => scoped(p, CATALOG_READ),
        (Access::Scoped(scope), p) => scoped(p, scope),
        (Access::Person, Principal::User(_)) => Ok(()),
        (Access::Person, Principal::Agent(_)) => Err(AppError::Forbidden(
            "this operation is for people, not agents".into(),
        )),
        (Access::Admin, Principal::User(u)) if u.role == Role::Admin => Ok(()),
        (Access::ElevatedAdmin, Principal::User(u)) if u.role == Role::Admin => {
            match u.token_type {
                TokenType::Elevated => Ok(()),
                _ => Err(AppError::ElevationRequired),
            }
        }
        (Access::Admin | Access::ElevatedAdmin, _) => Err(admins_only()),
    }
}

/// The handler, through the idempotency-key store when a principal may send one (a public
/// route has no principal to scope a key to, so it never links the store's idempotency code).
fn run_handler<'a, R: RowOf>(
    state: &'a AppState,
    row: R,
    req: &'a ApiRequest,
    caller: Caller,
    handler: Handler,
) -> HandlerFuture<'a> {
    match row.route().access {
        Access::Public => handler(state, req, caller),
        _ => idempotency::run(state, row.route(), req, caller, handler),
    }
}

/// Recording a refused write by an authenticated caller, when the row can have one.
fn audit_refusal<'a, R: RowOf>(
    state: &'a AppState,
    row: R,
    req: &'a ApiRequest,
    actor: Option<&'a crate::domain::audit::Actor>,
    answer: &'a ApiResponse,
) -> Option<BoxFuture<'a, ()>> {
    let route = row.route();
    if route.access == Access::Public || !idempotency::is_write(route.method) {
        return None;
    }
    let actor = actor?;
    Some(Box::pin(audit_failure(state, route, req, actor, answer)))
}

/// Recording a refusal before the handler (see [`audit_refused_once`]), when the row has a
/// principal to refuse.
fn audit_refused<'a, R: RowOf>(
    state: &'a AppState,
    row: R,
    req: &'a ApiRequest,
    principal: Option<&'a Principal>,
    answer: &'a ApiResponse,
) -> Option<BoxFuture<'a, ()>> {
    let route = row.route();
    if route.access == Access::Public {
        return None;
    }
    let principal = principal?;
    Some(Box::pin(audit_refused_once(
        state, route, req, principal, answer,
    )))
}

/// How long one principal's refusals on one route are recorded once: a loop of refused
/// requests writes one audit event per window, never one each.
pub const REFUSAL_AUDIT_WINDOW_SECS: u64 = 900;

/// The rate-limit scope whose window marks record that a refusal was audited.
const REFUSED_SCOPE: &str = "refused";

/// Records an authenticated caller's refusal before the handler (403: role, scope, elevation,
/// second factor) as `request.failed`, at most once per principal × route ×
/// [`REFUSAL_AUDIT_WINDOW_SECS`]: one transaction writes the event with a conditional mark, so
/// concurrent refusals cannot record it twice. Only refusals pay for it. Never changes the
/// answer.
async fn audit_refused_once(
    state: &AppState,
    route: &Route,
    req: &ApiRequest,
    principal: &Principal,
    answer: &ApiResponse,
) {
    let Some(mut ev) = failure_event(route, req, &principal.actor(), answer) else {
        return;
    };
    ev.details["window_seconds"] = REFUSAL_AUDIT_WINDOW_SECS.into();
    ev.details["note"] = "first refusal of this principal on this route in the window; later \
                          ones in the same window are not recorded"
        .into();
    let window = crate::config::RateLimit {
        limit: 1,
        window_secs: REFUSAL_AUDIT_WINDOW_SECS,
    };
    let key = format!("{}#{}", principal.id(), route.function);
    let now = crate::time::now().timestamp();
    if let Err(e) = state
        .store
        .audit_first_refusal(REFUSED_SCOPE, &key, window, now, &ev)
        .await
    {
        tracing::warn!(error = %e, "could not audit a refused request");
    }
}

/// Serves `req` with `row` and its `handler`: logging span, AWS call counting, authorisation
/// from the row, error mapping, request id.
pub async fn dispatch<R: RowOf>(
    state: &AppState,
    row: R,
    handler: Handler,
    req: ApiRequest,
) -> ApiResponse {
    let route = row.route();
    let counts = Arc::new(CallCounts::default());
    let request_id = req.request_id.clone();
    let span = tracing::info_span!("request", request_id = %request_id, route = route.function);
    let started = std::time::Instant::now();
    let result = CALLS
        .scope(
            Arc::clone(&counts),
            async {
                // /mcp's transport checks (Origin, content type) come before authentication.
                if row.route().function == MCP.function {
                    mcp::screen(state, &req)?;
                }
                let caller = authenticate(state, row, &req).await?;
                // Refused before the handler (role, scope, elevation, second factor): recorded
                // once per principal, route and window, never on the way to a handler.
                if let Err(e) = permit(row.route().access, &caller)
                    .and_then(|()| mfa::admin_gate(state, route, &caller))
                {
                    let answer = problem::from_error(&e, &request_id);
                    if let Some(audit) = audit_refused(state, row, &req, caller.0.as_ref(), &answer)
                    {
                        audit.await;
                    }
                    return Ok(answer);
                }
                let actor = caller.0.as_ref().map(Principal::actor);
                let result = run_handler(state, row, &req, caller, handler).await;
                match result {
                    Ok(r) => Ok(r),
                    Err(e) => {
                        let answer = problem::from_error(&e, &request_id);
                        if let Some(audit) =
                            audit_refusal(state, row, &req, actor.as_ref(), &answer)
                        {
                            audit.await;
                        }
                        Ok(answer)
                    }
                }
            }
            .instrument(span.clone()),
        )
        .await;
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => problem::from_error(&e, &request_id),
    };
    // The one route-keyed hook: MCP clients find the token endpoint from /mcp's refusals.
    if route.function == MCP.function {
        mcp::challenge(state, &req, &mut resp);
    }
    if req.method == "HEAD" {
        resp.body.clear();
    }
    resp.header("x-request-id", &request_id);
    if cors(route) {
        resp.header("access-control-allow-origin", "*");
    }
    if state.config.expose_call_counts {
        resp.header("x-toolreg-aws-calls", &counts.header_value());
    }
    span.in_scope(|| {
        tracing::info!(
            method = %req.method,
            // A key pasted into a path (say, as a credential id) is not written to the log.
            path = %crate::auth::apikey::redact(&req.path),
            status = resp.status,
            duration_ms = started.elapsed().as_millis() as u64,
            aws_calls = %counts.header_value(),
            "request served"
        );
    });
    resp
}

/// Records a write by an authenticated caller that its handler refused (`request.failed`,
/// outcome failure, the problem's type and detail), so failed attempts are as visible as
/// successful ones. Reads refused by their handler and anonymous requests are not recorded;
/// refusals before the handler are recorded once per window ([`audit_refused_once`]). Never
/// changes the answer.
async fn audit_failure(
    state: &AppState,
    route: &Route,
    req: &ApiRequest,
    actor: &crate::domain::audit::Actor,
    answer: &ApiResponse,
) {
    let Some(ev) = failure_event(route, req, actor, answer) else {
        return;
    };
    if let Err(e) = state.store.put_audit(&ev).await {
        tracing::warn!(error = %e, "could not audit a failed request");
    }
}

/// The `request.failed` event of a refused request: the problem's type and detail, and the
/// resource the path names. `None` when the answer is not a problem.
fn failure_event(
    route: &Route,
    req: &ApiRequest,
    actor: &crate::domain::audit::Actor,
    answer: &ApiResponse,
) -> Option<crate::domain::audit::AuditEvent> {
    let body = answer.pending_problem()?;
    let detail: String = body["detail"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let mut ev = crate::domain::audit::AuditEvent::new(
        crate::domain::audit::action::REQUEST_FAILED,
        crate::domain::audit::Outcome::Failure,
        actor,
        &req.meta(),
    )
    .details(serde_json::json!({
        "route": route.function,
        "status": answer.status,
        "reason": body["type"],
        "detail": detail,
    }));
    if let Some(id) = req.path_params.get("id") {
        ev = ev.target(route.path.split('/').nth(3).unwrap_or("resource"), id);
    }
    Some(ev)
}

/// Serves a request whose route is not known yet (the local server): 404 and 405 problems for
/// paths and methods the table lacks.
pub async fn dispatch_any(state: &AppState, mut req: ApiRequest) -> ApiResponse {
    match resolve(&req.method, &req.path) {
        Ok((route, params)) => match handler_for(route) {
            Some(handler) => {
                req.path_params = params;
                dispatch(state, route, handler, req).await
            }
            None => not_found(&req),
        },
        Err(MatchError::NotFound) => not_found(&req),
        Err(MatchError::MethodNotAllowed(allowed)) => method_not_allowed(&req, &allowed),
    }
}
