//! The dispatcher every request goes through, and [`ALL`]: every route's row with its handler.
//! A route is one endpoint file (`tools/get.rs`: its row, written as what differs from
//! `Route::DEFAULT`, its types and its handler); the local server serves them all, while each
//! Lambda binary serves only its own row and handler.

pub mod access;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod console;
pub mod credentials;
pub mod docs;
pub mod health;
pub mod idempotency;
pub mod mcp;
pub mod mfa;
pub mod oauth;
pub mod policies;
pub mod registry;
pub mod table;
pub mod tools;
pub mod users;

pub use access::DECISIONS_GET;
pub use access::DECISIONS_LIST;
pub use access::TOOLS_ACCESS;
pub use agents::AGENTS_CREATE;
pub use agents::AGENTS_DISABLE;
pub use agents::AGENTS_ENABLE;
pub use agents::AGENTS_GET;
pub use agents::AGENTS_LIST;
pub use agents::AGENTS_UPDATE;
pub use agents::AGENT_KEYS_CREATE;
pub use agents::AGENT_KEYS_LIST;
pub use agents::AGENT_KEYS_REVOKE;
pub use audit::AUDIT_LIST;
pub use auth::AUTH_ELEVATE;
pub use auth::AUTH_LOGIN;
pub use auth::AUTH_ME;
pub use auth::AUTH_REFRESH;
pub use console::CONSOLE;
pub use console::CONSOLE_ASSET;
pub use credentials::CREDENTIALS_GET;
pub use credentials::CREDENTIALS_REVOKE;
pub use credentials::JWKS;
pub use docs::DOCS;
pub use docs::DOCS_ASSET;
pub use docs::OPENAPI;
pub use docs::REDOC;
pub use health::HEALTH;
pub use mcp::MCP;
pub use mcp::OAUTH_PROTECTED_RESOURCE;
pub use mfa::AUTH_LOGIN_MFA;
pub use mfa::AUTH_MFA_TOTP_CONFIRM;
pub use mfa::AUTH_MFA_TOTP_ENROL;
pub use mfa::AUTH_MFA_TOTP_REMOVE;
pub use mfa::USERS_MFA_TOTP_RESET;
pub use oauth::OAUTH_METADATA;
pub use oauth::OAUTH_TOKEN;
pub use policies::POLICIES_ACTIVATE;
pub use policies::POLICIES_CREATE;
pub use policies::POLICIES_GET;
pub use policies::POLICIES_LIST;
pub use policies::POLICIES_SIMULATE;
pub use registry::REGISTRY_SERVERS_LIST;
pub use registry::REGISTRY_SERVERS_LIST_PREFLIGHT;
pub use registry::REGISTRY_SERVER_VERSION;
pub use registry::REGISTRY_SERVER_VERSIONS;
pub use registry::REGISTRY_SERVER_VERSIONS_PREFLIGHT;
pub use registry::REGISTRY_SERVER_VERSION_PREFLIGHT;
pub use table::*;
pub use tools::create::TOOLS_CREATE;
pub use tools::drift::TOOLS_APPROVE_TOOLS;
pub use tools::get::TOOLS_GET;
pub use tools::lifecycle::TOOLS_ACTIVATE;
pub use tools::lifecycle::TOOLS_DEACTIVATE;
pub use tools::lifecycle::TOOLS_DELETE;
pub use tools::list::TOOLS_LIST;
pub use tools::probe::TOOLS_PROBES;
pub use tools::probe::TOOLS_REPROBE;
pub use tools::probe::TOOLS_TEST_CONNECTION;
pub use tools::update::TOOLS_UPDATE;
pub use users::AUTH_LOGOUT;
pub use users::AUTH_PASSWORD;
pub use users::USERS_CREATE;
pub use users::USERS_DISABLE;
pub use users::USERS_ENABLE;
pub use users::USERS_GET;
pub use users::USERS_LIST;
pub use users::USERS_RESET_PASSWORD;
pub use users::USERS_UPDATE;

use crate::auth::jwt::TokenType;
use crate::auth::principal::{self, Principal, UserPrincipal};
use crate::aws::{CallCounts, CALLS};
use crate::domain::agent::CATALOG_READ;
use crate::domain::audit::RequestMeta;
use crate::domain::user::Role;
use crate::error::{AppError, AppResult};
use crate::http::{problem, ApiRequest, ApiResponse};
use crate::state::AppState;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tracing::Instrument;

/// Who is calling, as the dispatcher established it from the row's [`Access`].
#[derive(Clone, Debug)]
pub struct Caller(Option<Principal>);

impl Caller {
    /// The principal's id, if there is one (scopes idempotency keys).
    pub fn principal_id(&self) -> Option<String> {
        self.0.as_ref().map(Principal::id)
    }

    /// The authenticated principal; routes with [`Access::Public`] have none.
    pub fn principal(self) -> AppResult<Principal> {
        self.0.ok_or_else(|| {
            AppError::Internal("the handler wants a principal but its route is public".into())
        })
    }

    /// The person calling: what routes for people and admins get.
    pub fn user(self) -> AppResult<UserPrincipal> {
        match self.principal()? {
            Principal::User(u) => Ok(u),
            Principal::Agent(_) => Err(AppError::Internal(
                "the handler wants a person but its route lets agents in".into(),
            )),
        }
    }
}

/// What a handler returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = AppResult<ApiResponse>> + Send + 'a>>;

/// A route handler: the request and the caller the dispatcher authorised.
pub type Handler = for<'a> fn(&'a AppState, &'a ApiRequest, Caller) -> HandlerFuture<'a>;

/// Turns `async fn(&AppState, &ApiRequest, Caller) -> AppResult<ApiResponse>` into a [`Handler`].
#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        let h: $crate::routes::Handler =
            |state, req, caller| ::std::boxed::Box::pin($f(state, req, caller));
        h
    }};
}

/// A row with its handler, and both their names: the Lambda binaries in functions/src/bin/ are
/// generated from these by `make infra` (see `routes::infra`).
#[derive(Clone, Copy)]
pub struct Served {
    pub route: &'static Route,
    pub handler: Handler,
    /// The row's constant, e.g. `TOOLS_GET`.
    pub row: &'static str,
    /// The handler's path under `routes`, e.g. `tools::get::get`.
    pub handler_path: &'static str,
}

/// `served!(TOOLS_GET => tools::get::get)`: a [`Served`] entry.
#[macro_export]
macro_rules! served {
    ($row:ident => $($seg:ident)::+) => {
        $crate::routes::Served {
            route: &$row,
            handler: $crate::handler!($($seg)::+),
            row: stringify!($row),
            handler_path: stringify!($($seg)::+),
        }
    };
}

/// Every route's row with its handler, in the order the documents list them: what the local
/// server dispatches across, and what the OpenAPI document, the deployment and the Lambda
/// binaries are generated from. Adding a route is one line here.
pub const ALL: &[Served] = &[
    served!(HEALTH => health::health),
    served!(AUTH_LOGIN => auth::login),
    served!(AUTH_REFRESH => auth::refresh),
    served!(AUTH_ME => auth::me),
    served!(AUTH_ELEVATE => auth::elevate),
    served!(AUTH_PASSWORD => users::change_password),
    served!(AUTH_LOGOUT => users::logout),
    served!(AUTH_LOGIN_MFA => mfa::login),
    served!(AUTH_MFA_TOTP_ENROL => mfa::enrol),
    served!(AUTH_MFA_TOTP_CONFIRM => mfa::confirm),
    served!(AUTH_MFA_TOTP_REMOVE => mfa::remove),
    served!(USERS_CREATE => users::create),
    served!(USERS_LIST => users::list),
    served!(USERS_GET => users::get),
    served!(USERS_UPDATE => users::update),
    served!(USERS_DISABLE => users::disable),
    served!(USERS_ENABLE => users::enable),
    served!(USERS_RESET_PASSWORD => users::reset_password),
    served!(USERS_MFA_TOTP_RESET => mfa::reset),
    served!(TOOLS_CREATE => tools::create::create),
    served!(TOOLS_LIST => tools::list::list),
    served!(TOOLS_GET => tools::get::get),
    served!(TOOLS_UPDATE => tools::update::update),
    served!(TOOLS_ACTIVATE => tools::lifecycle::activate),
    served!(TOOLS_DEACTIVATE => tools::lifecycle::deactivate),
    served!(TOOLS_DELETE => tools::lifecycle::delete),
    served!(TOOLS_TEST_CONNECTION => tools::probe::test_connection),
    served!(TOOLS_REPROBE => tools::probe::reprobe),
    served!(TOOLS_PROBES => tools::probe::probes),
    served!(TOOLS_APPROVE_TOOLS => tools::drift::approve_tools),
    served!(AGENTS_CREATE => agents::create),
    served!(AGENTS_LIST => agents::list),
    served!(AGENTS_GET => agents::get),
    served!(AGENTS_UPDATE => agents::update),
    served!(AGENTS_DISABLE => agents::disable),
    served!(AGENTS_ENABLE => agents::enable),
    served!(AGENT_KEYS_CREATE => agents::create_key),
    served!(AGENT_KEYS_LIST => agents::list_keys),
    served!(AGENT_KEYS_REVOKE => agents::revoke_key),
    served!(OAUTH_TOKEN => oauth::token),
    served!(OAUTH_METADATA => oauth::metadata),
    served!(JWKS => credentials::jwks),
    served!(POLICIES_CREATE => policies::create),
    served!(POLICIES_LIST => policies::list),
    served!(POLICIES_SIMULATE => policies::simulate),
    served!(POLICIES_GET => policies::get),
    served!(POLICIES_ACTIVATE => policies::activate),
    served!(TOOLS_ACCESS => access::request),
    served!(DECISIONS_LIST => access::list),
    served!(DECISIONS_GET => access::get),
    served!(CREDENTIALS_GET => credentials::status),
    served!(CREDENTIALS_REVOKE => credentials::revoke),
    served!(AUDIT_LIST => audit::list),
    served!(MCP => mcp::serve),
    served!(OAUTH_PROTECTED_RESOURCE => mcp::resource_metadata),
    served!(OPENAPI => docs::openapi),
    served!(DOCS => docs::page),
    served!(REGISTRY_SERVERS_LIST => registry::list),
    served!(REGISTRY_SERVER_VERSIONS => registry::versions),
    served!(REGISTRY_SERVER_VERSION => registry::version),
    served!(REGISTRY_SERVERS_LIST_PREFLIGHT => registry::preflight),
    served!(REGISTRY_SERVER_VERSIONS_PREFLIGHT => registry::preflight),
    served!(REGISTRY_SERVER_VERSION_PREFLIGHT => registry::preflight),
    served!(REDOC => docs::redoc),
    served!(DOCS_ASSET => docs::asset),
    served!(CONSOLE => console::page),
    served!(CONSOLE_ASSET => console::asset),
];

/// Every row, in [`ALL`]'s order.
pub const ROUTES: &[&Route] = &rows::<{ ALL.len() }>(ALL);

const fn rows<const N: usize>(all: &[Served]) -> [&'static Route; N] {
    let mut out = [&Route::DEFAULT; N];
    let mut i = 0;
    while i < N {
        out[i] = all[i].route;
        i += 1;
    }
    out
}

/// The handler of `route` (the local server).
pub fn handler_for(route: &Route) -> Option<Handler> {
    ALL.iter()
        .find(|s| s.route.function == route.function)
        .map(|s| s.handler)
}

/// Why a path did not resolve to a route.
#[derive(Debug, PartialEq)]
pub enum MatchError {
    NotFound,
    MethodNotAllowed(Vec<&'static str>),
}

/// The path parameters of `path` when it matches `template`, each the raw (still encoded)
/// segment.
pub fn match_template(template: &str, path: &str) -> Option<HashMap<String, String>> {
    // The local server tries every row for every request: decide without allocating, and
    // build the parameters only for a match.
    if !segment_pairs(template, path).all(|pair| match pair {
        Some((ts, ps)) => param_name(ts).map_or(ts == ps, |_| !ps.is_empty()),
        None => false,
    }) {
        return None;
    }
    let params = segment_pairs(template, path)
        .flatten()
        .filter_map(|(ts, ps)| {
            // The raw segment, still percent-encoded, as API Gateway passes path parameters:
            // a handler that takes encoded values (a registry server name's `%2F`) decodes
            // them itself, the same way behind API Gateway and on the local server.
            param_name(ts).map(|name| (name.to_owned(), ps.to_owned()))
        })
        .collect();
    Some(params)
}

/// `{name}` → `name`.
fn param_name(segment: &str) -> Option<&str> {
    segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
}

/// The template's and the path's segments side by side; `None` where one is longer.
fn segment_pairs<'a>(
    template: &'a str,
    path: &'a str,
) -> impl Iterator<Item = Option<(&'a str, &'a str)>> + 'a {
    let mut t = template.trim_matches('/').split('/');
    let mut p = path.trim_matches('/').split('/');
    std::iter::from_fn(move || match (t.next(), p.next()) {
        (None, None) => None,
        (Some(ts), Some(ps)) => Some(Some((ts, ps))),
        _ => Some(None),
    })
}

/// Resolves `method path` the way API Gateway does: literal segments beat parameters.
pub fn resolve(
    method: &str,
    path: &str,
) -> Result<(&'static Route, HashMap<String, String>), MatchError> {
    let mut candidates: Vec<(&'static Route, HashMap<String, String>)> = ROUTES
        .iter()
        .filter_map(|r| match_template(r.path, path).map(|p| (*r, p)))
        .collect();
    if candidates.is_empty() {
        return Err(MatchError::NotFound);
    }
    // Prefer the most specific template (fewest parameters).
    candidates.sort_by_key(|(r, _)| r.path.matches('{').count());
    let best = candidates[0].0.path.matches('{').count();
    let same: Vec<_> = candidates
        .into_iter()
        .filter(|(r, _)| r.path.matches('{').count() == best)
        .collect();
    let allowed: Vec<&'static str> = same.iter().map(|(r, _)| r.method).collect();
    match same
        .into_iter()
        .find(|(r, _)| r.method == method || (method == "HEAD" && r.method == "GET"))
    {
        Some((r, p)) => Ok((r, p)),
        None => Err(MatchError::MethodNotAllowed(allowed)),
    }
}

/// Who and where, for audit events.
pub(crate) fn meta(req: &ApiRequest) -> RequestMeta {
    req.meta()
}

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
        &meta(req),
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

/// The 404 problem for a path no route serves.
pub fn not_found(req: &ApiRequest) -> ApiResponse {
    problem::problem(
        404,
        "not-found",
        "Not found",
        &format!(
            "no route for {}",
            req.path.chars().take(200).collect::<String>()
        ),
        &req.request_id,
    )
    .with_header("x-request-id", &req.request_id)
}

/// The 405 problem for a method the path's routes lack.
pub fn method_not_allowed(req: &ApiRequest, allowed: &[&str]) -> ApiResponse {
    problem::problem(
        405,
        "method-not-allowed",
        "Method not allowed",
        &format!(
            "{} is not allowed here; allowed: {}",
            req.method,
            allowed.join(", ")
        ),
        &req.request_id,
    )
    .with_header("allow", &allowed.join(", "))
    .with_header("x-request-id", &req.request_id)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_beat_parameters() {
        let (r, p) = resolve("POST", "/api/v1/tools/remote/test-connection").unwrap();
        assert_eq!(r.function, TOOLS_TEST_CONNECTION.function);
        assert!(p.is_empty());
        let (r, p) = resolve("POST", "/api/v1/tools/abc/activate").unwrap();
        assert_eq!(r.function, TOOLS_ACTIVATE.function);
        assert_eq!(p["id"], "abc");
    }

    #[test]
    fn unknown_paths_and_methods_are_told_apart() {
        assert!(matches!(resolve("GET", "/nope"), Err(MatchError::NotFound)));
        match resolve("PUT", "/api/v1/tools/abc") {
            Err(MatchError::MethodNotAllowed(m)) => {
                assert!(m.contains(&"GET") && m.contains(&"PATCH") && m.contains(&"DELETE"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_route_resolves_to_itself_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for r in ROUTES {
            let path = r
                .path
                .replace("{id}", "x")
                .replace("{key_id}", "y")
                .replace("{version}", "1")
                .replace("{jti}", "j")
                .replace("{name}", "n")
                .replace("{asset}", "a.js");
            assert_eq!(
                resolve(r.method, &path).unwrap().0.function,
                r.function,
                "{}",
                r.path
            );
            assert!(
                names.insert(r.function),
                "duplicate function {}",
                r.function
            );
        }
    }

    /// A Lambda function holds only the parts its row's `Iam` grants (`state::Part`), and the
    /// dispatcher reads some before any handler runs: every row with a principal grants the JWT
    /// key and the store (refusals are audited through it). Routes for people refuse API keys
    /// unread; the routes that take them are held to the pepper by
    /// `table::tests::routes_agents_may_call_can_check_api_keys`.
    #[test]
    fn every_row_grants_what_its_access_makes_the_dispatcher_read() {
        for r in ROUTES.iter().filter(|r| r.access != Access::Public) {
            assert!(r.iam.secret, "{} checks tokens", r.function);
            assert!(
                !r.iam.dynamodb.is_empty(),
                "{} audits refusals without DynamoDB",
                r.function
            );
            assert_eq!(r.dispatcher_dynamodb(), REFUSAL_AUDIT, "{}", r.function);
        }
    }

    #[test]
    fn the_table_spells_the_tools_access_scope_as_the_domain_does() {
        assert_eq!(TOOLS_ACCESS_SCOPE, crate::domain::agent::TOOLS_ACCESS);
    }

    #[test]
    fn every_route_has_exactly_one_handler() {
        for r in ROUTES {
            let n = ALL
                .iter()
                .filter(|s| s.route.function == r.function)
                .count();
            assert_eq!(n, 1, "{} has {n} handlers in ALL", r.function);
        }
        assert_eq!(ALL.len(), ROUTES.len());
    }

    /// A row leaves out only what `Route::DEFAULT` may fill in: nothing may fall back to its
    /// blank method, path, function, summary or tag.
    #[test]
    fn every_row_names_itself() {
        for r in ROUTES {
            assert!(
                ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"].contains(&r.method),
                "{}: method {:?}",
                r.function,
                r.method
            );
            assert!(r.path.starts_with('/'), "{}: path {:?}", r.function, r.path);
            assert!(!r.function.is_empty(), "{}: no function", r.path);
            assert!(!r.openapi.summary.is_empty(), "{}: no summary", r.function);
            assert!(!r.openapi.tag.is_empty(), "{}: no tag", r.function);
        }
    }

    /// An agent's API key is checked with a read of the key, an occasional `last_used_at`
    /// stamp and the pepper: every route agents may call needs those permissions.
    #[test]
    fn routes_agents_may_call_can_check_api_keys() {
        for r in ROUTES
            .iter()
            .filter(|r| matches!(r.access, Access::AnyPrincipal | Access::Scoped(_)))
        {
            assert!(r.iam.pepper, "{} must read the pepper", r.function);
            for action in ["GetItem", "UpdateItem"] {
                assert!(
                    r.iam.dynamodb.contains(&action),
                    "{} needs dynamodb:{action}",
                    r.function
                );
            }
            assert!(r.iam.secret, "{} verifies tokens", r.function);
        }
    }
}
