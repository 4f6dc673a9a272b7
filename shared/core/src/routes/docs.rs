//! `GET /openapi.json`, and the API's documentation on it: `GET /docs` (Swagger UI, whose
//! "Authorize" takes a bearer token for "Try it out"), `GET /redoc` (Redoc) and their scripts
//! and styles at `GET /docs/assets/{asset}`. The Swagger UI and Redoc bundles come from npm at
//! build time (`make console`) and are served from here: nothing loads from elsewhere.

use super::console::{embedded, html};
use super::Caller;
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::table::{Access, Content, Operation, Route};
use crate::state::AppState;

/// The docs pages' CSP: no inline script, nothing from elsewhere. Swagger UI and Redoc set
/// inline styles (Redoc through styled-components) and Redoc runs its search in a worker made
/// from a blob, hence those two allowances, which the console does without.
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
form-action 'self'";

/// The OpenAPI document, rendered from the route rows at build time by `make infra`
/// (`toolreg_build::openapi`); tests/api/deploy.rs fails when the file is stale.
const OPENAPI_JSON: &str = include_str!("../../../../infra/openapi.json");

pub const OPENAPI: Route = Route {
    method: "GET",
    path: "/openapi.json",
    function: "openapi",
    access: Access::Public,
    openapi: Operation {
        summary: "This document",
        tag: "meta",
        response: Content::AnyJson,
        ..Operation::DEFAULT
    },
    ..Route::DEFAULT
};

pub async fn openapi(
    _state: &AppState,
    _req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    Ok(ApiResponse::bytes(
        200,
        "application/json",
        OPENAPI_JSON.as_bytes().to_vec(),
    ))
}

fn docs_page(page: &str) -> ApiResponse {
    if toolreg_web::docs_vendored() {
        html(page.as_bytes(), DOCS_CSP)
    } else {
        html(toolreg_web::NOT_BUILT_PAGE.as_bytes(), DOCS_CSP)
    }
}

pub const DOCS: Route = Route {
    method: "GET",
    path: "/docs",
    function: "docs",
    access: Access::Public,
    openapi: Operation {
        summary: "Interactive API documentation (HTML)",
        tag: "meta",
        response: Content::Html,
        ..Operation::DEFAULT
    },
    ..Route::DEFAULT
};

/// Swagger UI.
pub async fn page(_state: &AppState, _req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    Ok(docs_page(toolreg_web::SWAGGER_PAGE))
}

pub const REDOC: Route = Route {
    method: "GET",
    path: "/redoc",
    function: "redoc",
    access: Access::Public,
    openapi: Operation {
        summary: "API documentation in Redoc (HTML)",
        tag: "meta",
        response: Content::Html,
        ..Operation::DEFAULT
    },
    ..Route::DEFAULT
};

/// Redoc.
pub async fn redoc(
    _state: &AppState,
    _req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    Ok(docs_page(toolreg_web::REDOC_PAGE))
}

pub const DOCS_ASSET: Route = Route {
    method: "GET",
    path: "/docs/assets/{asset}",
    function: "docs-asset",
    access: Access::Public,
    openapi: Operation {
        summary: "A script or style sheet of the API documentation pages",
        tag: "meta",
        response: Content::Asset,
        problems: &[404],
        ..Operation::DEFAULT
    },
    ..Route::DEFAULT
};

pub async fn asset(_state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    embedded(req, toolreg_web::docs_asset, "docs asset", DOCS_CSP).map(|r| {
        // Not content-hashed (the page names them plainly): cached for an hour.
        r.with_header("cache-control", "public, max-age=3600")
    })
}
