//! The route table — the single source of truth for the local server, the Lambda binaries,
//! template.yaml and the Terraform — and the dispatcher every request goes through.

mod audit;
mod auth;
mod docs;
mod health;
mod tools;

use crate::aws::{CallCounts, CALLS};
use crate::domain::audit::RequestMeta;
use crate::error::AppResult;
use crate::http::{problem, ApiRequest, ApiResponse};
use crate::state::AppState;
use std::collections::HashMap;
use std::sync::Arc;
use tracing::Instrument;

/// Every HTTP route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteId {
    Health,
    AuthLogin,
    AuthRefresh,
    AuthMe,
    AuthElevate,
    ToolsCreate,
    ToolsList,
    ToolsGet,
    ToolsUpdate,
    ToolsActivate,
    ToolsDeactivate,
    ToolsDelete,
    ToolsTestConnection,
    ToolsReprobe,
    ToolsProbes,
    AuditList,
    OpenApi,
    Docs,
}

/// A route: method, path template (API Gateway syntax) and the Lambda function serving it.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub id: RouteId,
    pub method: &'static str,
    pub path: &'static str,
    /// The binary and function name (`target/lambda/<function>/bootstrap`).
    pub function: &'static str,
}

const fn r(id: RouteId, method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route {
        id,
        method,
        path,
        function,
    }
}

/// The route table.
pub const ROUTES: &[Route] = &[
    r(RouteId::Health, "GET", "/health", "health"),
    r(
        RouteId::AuthLogin,
        "POST",
        "/api/v1/auth/login",
        "auth-login",
    ),
    r(
        RouteId::AuthRefresh,
        "POST",
        "/api/v1/auth/refresh",
        "auth-refresh",
    ),
    r(RouteId::AuthMe, "GET", "/api/v1/auth/me", "auth-me"),
    r(
        RouteId::AuthElevate,
        "POST",
        "/api/v1/auth/elevate",
        "auth-elevate",
    ),
    r(
        RouteId::ToolsCreate,
        "POST",
        "/api/v1/tools",
        "tools-create",
    ),
    r(RouteId::ToolsList, "GET", "/api/v1/tools", "tools-list"),
    r(RouteId::ToolsGet, "GET", "/api/v1/tools/{id}", "tools-get"),
    r(
        RouteId::ToolsUpdate,
        "PATCH",
        "/api/v1/tools/{id}",
        "tools-update",
    ),
    r(
        RouteId::ToolsActivate,
        "POST",
        "/api/v1/tools/{id}/activate",
        "tools-activate",
    ),
    r(
        RouteId::ToolsDeactivate,
        "POST",
        "/api/v1/tools/{id}/deactivate",
        "tools-deactivate",
    ),
    r(
        RouteId::ToolsDelete,
        "DELETE",
        "/api/v1/tools/{id}",
        "tools-delete",
    ),
    r(
        RouteId::ToolsTestConnection,
        "POST",
        "/api/v1/tools/remote/test-connection",
        "tools-test-connection",
    ),
    r(
        RouteId::ToolsReprobe,
        "POST",
        "/api/v1/tools/{id}/reprobe",
        "tools-reprobe",
    ),
    r(
        RouteId::ToolsProbes,
        "GET",
        "/api/v1/tools/{id}/probes",
        "tools-probes",
    ),
    r(
        RouteId::AuditList,
        "GET",
        "/api/v1/audit-events",
        "audit-list",
    ),
    r(RouteId::OpenApi, "GET", "/openapi.json", "openapi"),
    r(RouteId::Docs, "GET", "/docs", "docs"),
];

/// The route with this id.
pub fn route(id: RouteId) -> &'static Route {
    ROUTES
        .iter()
        .find(|r| r.id == id)
        .expect("every RouteId is in ROUTES")
}

/// Why a path did not resolve to a route.
#[derive(Debug, PartialEq)]
pub enum MatchError {
    NotFound,
    MethodNotAllowed(Vec<&'static str>),
}

/// The path parameters of `path` when it matches `template`.
pub fn match_template(template: &str, path: &str) -> Option<HashMap<String, String>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (ts, ps) in t.iter().zip(&p) {
        if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if ps.is_empty() {
                return None;
            }
            let value = url::form_urlencoded::parse(format!("v={ps}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            params.insert(name.to_owned(), value);
        } else if ts != ps {
            return None;
        }
    }
    Some(params)
}

/// Resolves `method path` the way API Gateway does: literal segments beat parameters.
pub fn resolve(method: &str, path: &str) -> Result<(RouteId, HashMap<String, String>), MatchError> {
    let mut candidates: Vec<(&Route, HashMap<String, String>)> = ROUTES
        .iter()
        .filter_map(|r| match_template(r.path, path).map(|p| (r, p)))
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
        Some((r, p)) => Ok((r.id, p)),
        None => Err(MatchError::MethodNotAllowed(allowed)),
    }
}

/// Who and where, for audit events.
pub(crate) fn meta(req: &ApiRequest) -> RequestMeta {
    RequestMeta {
        source_ip: req.source_ip.clone(),
        user_agent: req.user_agent().to_owned(),
        request_id: req.request_id.clone(),
    }
}

async fn call(state: &AppState, id: RouteId, req: &ApiRequest) -> AppResult<ApiResponse> {
    use RouteId::*;
    match id {
        Health => health::health(state, req).await,
        AuthLogin => auth::login(state, req).await,
        AuthRefresh => auth::refresh(state, req).await,
        AuthMe => auth::me(state, req).await,
        AuthElevate => auth::elevate(state, req).await,
        ToolsCreate => tools::create(state, req).await,
        ToolsList => tools::list(state, req).await,
        ToolsGet => tools::get(state, req).await,
        ToolsUpdate => tools::update(state, req).await,
        ToolsActivate => tools::set_active(state, req, true).await,
        ToolsDeactivate => tools::set_active(state, req, false).await,
        ToolsDelete => tools::delete(state, req).await,
        ToolsTestConnection => tools::test_connection(state, req).await,
        ToolsReprobe => tools::reprobe(state, req).await,
        ToolsProbes => tools::probes(state, req).await,
        AuditList => audit::list(state, req).await,
        OpenApi => docs::openapi(state, req).await,
        Docs => docs::page(state, req).await,
    }
}

/// Serves `req` with route `id`: logging span, AWS call counting, error mapping, request id.
pub async fn dispatch(state: &AppState, id: RouteId, req: ApiRequest) -> ApiResponse {
    let counts = Arc::new(CallCounts::default());
    let request_id = req.request_id.clone();
    let span = tracing::info_span!("request", request_id = %request_id, route = route(id).function);
    let started = std::time::Instant::now();
    let result = CALLS
        .scope(
            Arc::clone(&counts),
            call(state, id, &req).instrument(span.clone()),
        )
        .await;
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => problem::from_error(&e, &request_id),
    };
    if req.method == "HEAD" {
        resp.body.clear();
    }
    resp.header("x-request-id", &request_id);
    if state.config.expose_call_counts {
        resp.header("x-toolreg-aws-calls", &counts.header_value());
    }
    span.in_scope(|| {
        tracing::info!(
            method = %req.method,
            path = %req.path,
            status = resp.status,
            duration_ms = started.elapsed().as_millis() as u64,
            aws_calls = %counts.header_value(),
            "request served"
        );
    });
    resp
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
        Ok((id, params)) => {
            req.path_params = params;
            dispatch(state, id, req).await
        }
        Err(MatchError::NotFound) => not_found(&req),
        Err(MatchError::MethodNotAllowed(allowed)) => method_not_allowed(&req, &allowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_beat_parameters() {
        let (id, p) = resolve("POST", "/api/v1/tools/remote/test-connection").unwrap();
        assert_eq!(id, RouteId::ToolsTestConnection);
        assert!(p.is_empty());
        let (id, p) = resolve("POST", "/api/v1/tools/abc/activate").unwrap();
        assert_eq!(id, RouteId::ToolsActivate);
        assert_eq!(p["id"], "abc");
    }

    #[test]
    fn unknown_paths_and_methods_are_told_apart() {
        assert_eq!(resolve("GET", "/nope"), Err(MatchError::NotFound));
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
            let path = r.path.replace("{id}", "x");
            assert_eq!(resolve(r.method, &path).unwrap().0, r.id, "{}", r.path);
            assert!(
                names.insert(r.function),
                "duplicate function {}",
                r.function
            );
        }
    }
}
