//! `GET /console` and `GET /console/assets/{asset}`: the admin console, a single-page app built
//! from `console/` (TypeScript + Vite) by `make console` and embedded by `toolreg-web`. Same
//! origin as the API, so it needs no CORS; its pages are switched by the URL fragment, so these
//! two routes are all it needs. Content-hashed assets are cached for a year, the page never.

use super::Caller;
use crate::error::{AppError, AppResult};
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::table::{Access, Content, Operation, Route};
use crate::state::AppState;

/// The console's Content-Security-Policy: nothing inline, nothing from elsewhere.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// What every page and asset of the console and the docs carries besides its CSP.
pub fn browser_headers(resp: ApiResponse, csp: &str) -> ApiResponse {
    resp.with_header("content-security-policy", csp)
        .with_header("x-frame-options", "DENY")
        .with_header("x-content-type-options", "nosniff")
        .with_header("referrer-policy", "no-referrer")
        .with_header("cross-origin-opener-policy", "same-origin")
}

/// A page of HTML that must always be fetched anew.
pub(crate) fn html(body: &[u8], csp: &str) -> ApiResponse {
    browser_headers(
        ApiResponse::bytes(200, "text/html; charset=utf-8", body.to_vec()),
        csp,
    )
    .with_header("cache-control", "no-cache")
}

pub const CONSOLE: Route = Route {
    method: "GET",
    path: "/console",
    function: "console",
    access: Access::Public,
    openapi: Operation {
        summary: "The admin console, a single-page app (HTML)",
        tag: "meta",
        response: Content::Html,
        ..Operation::DEFAULT
    },
    ..Route::DEFAULT
};

pub async fn page(_state: &AppState, _req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let body = toolreg_web::console_index().unwrap_or(toolreg_web::NOT_BUILT_PAGE.as_bytes());
    Ok(html(body, CONSOLE_CSP))
}

pub const CONSOLE_ASSET: Route = Route {
    method: "GET",
    path: "/console/assets/{asset}",
    function: "console-asset",
    access: Access::Public,
    openapi: Operation {
        summary: "A content-hashed script or style sheet of the admin console",
        tag: "meta",
        response: Content::Asset,
        problems: &[404],
        ..Operation::DEFAULT
    },
    ..Route::DEFAULT
};

pub async fn asset(_state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    embedded(
        req,
        toolreg_web::console_asset,
        "console asset",
        CONSOLE_CSP,
    )
    .map(|r| {
        // Vite names every asset after a hash of its content: a name never changes meaning.
        r.with_header("cache-control", "public, max-age=31536000, immutable")
    })
}

/// The embedded file `find` has under the path's `{asset}` name, with the browser headers and
/// `csp`; a 404 naming `what` otherwise.
pub(crate) fn embedded(
    req: &ApiRequest,
    find: fn(&str) -> Option<&'static [u8]>,
    what: &str,
    csp: &str,
) -> AppResult<ApiResponse> {
    let name = req
        .path_params
        .get("asset")
        .map(String::as_str)
        .unwrap_or("");
    let body = find(name).ok_or_else(|| AppError::NotFound(format!("no such {what}")))?;
    Ok(browser_headers(
        ApiResponse::bytes(200, toolreg_web::content_type(name), body.to_vec()),
        csp,
    ))
}
