//! `POST /mcp` (the catalog as an MCP server, `crate::mcp`) and
//! `GET /.well-known/oauth-protected-resource` (RFC 9728: how an MCP client finds where to get
//! a token for it).

use super::Caller;
use crate::domain::agent::{CATALOG_READ, SCOPES};
use crate::error::{AppError, AppResult};
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::table::{Access, Content, Iam, Operation, Route};
use crate::state::AppState;
use serde_json::json;

/// Where the MCP endpoint lives (the metadata document's `resource`).
pub const MCP_PATH: &str = "/mcp";
/// Where its protected-resource metadata lives.
pub const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

pub const MCP: Route = Route {
    method: "POST",
    path: "/mcp",
    function: "mcp",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "The catalog as an MCP server (streamable HTTP, JSON answers; revisions 2026-07-28 and 2025-11-25)",
        tag: "mcp",
        request: Some("JsonRpcMessage"),
        response: Content::Json("JsonRpcResponse"),
        problems: &[401, 403, 415, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "Query",
            "UpdateItem",
            "PutItem",
            "TransactWriteItems",
        ],
        index: true,
        signing: &["Sign", "GetPublicKey"],
        ..Iam::NONE
    },
    memory: 256,
    ..Route::DEFAULT
};

pub async fn serve(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.principal()?;
    Ok(crate::mcp::server::serve(state, req, &p).await)
}

pub const OAUTH_PROTECTED_RESOURCE: Route = Route {
    method: "GET",
    path: "/.well-known/oauth-protected-resource",
    function: "oauth-protected-resource",
    access: Access::Public,
    openapi: Operation {
        summary: "OAuth 2.0 protected resource metadata of the MCP endpoint (RFC 9728)",
        tag: "mcp",
        response: Content::Json("ProtectedResourceMetadata"),
        ..Operation::DEFAULT
    },
    ..Route::DEFAULT
};

/// RFC 9728 metadata, built from `PUBLIC_BASE_URL` alone (cached publicly, like the
/// authorization server's). The authorization server named is toolreg's issuer.
pub async fn resource_metadata(
    state: &AppState,
    _req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    let base = &state.config.public_base_url;
    Ok(ApiResponse::json(
        200,
        &json!({
            "resource": format!("{base}{MCP_PATH}"),
            "authorization_servers": [state.config.jwt_issuer],
            "bearer_methods_supported": ["header"],
            "scopes_supported": SCOPES,
            "resource_name": "toolreg tool catalog (MCP)",
            "resource_documentation": format!("{base}/docs"),
        }),
    )
    .with_header("cache-control", "public, max-age=3600"))
}

/// The dispatcher's hook for the `/mcp` row only: a refusal names the protected-resource
/// metadata (RFC 9728 §5.1), so an MCP client can find where to get a token; an agent without
/// `catalog:read` is told the scope it lacks (RFC 6750 §3.1).
pub(crate) fn challenge(state: &AppState, req: &ApiRequest, resp: &mut ApiResponse) {
    if req
        .header("origin")
        .is_some_and(|o| !state.config.origin_allowed(o))
    {
        // Refused by `screen` for where it came from: no token would help.
        return;
    }
    let metadata = format!("{}{RESOURCE_METADATA_PATH}", state.config.public_base_url);
    let value = match resp.status {
        401 if req.header("authorization").is_some() => {
            format!("Bearer error=\"invalid_token\", resource_metadata=\"{metadata}\"")
        }
        401 => format!("Bearer resource_metadata=\"{metadata}\""),
        403 => format!(
            "Bearer error=\"insufficient_scope\", scope=\"{CATALOG_READ}\", \
             resource_metadata=\"{metadata}\""
        ),
        _ => return,
    };
    resp.header("www-authenticate", &value);
}

/// The transport's own checks, run by the dispatcher before authentication (`/mcp` only), so
/// nothing is read or written for a refused request. Streamable HTTP servers must validate
/// `Origin` (DNS rebinding: a page on a foreign origin whose name now resolves to this server):
/// a present one that is not allowed is 403. A body that is not `application/json` is 415.
/// Both are problems, like the dispatcher's other refusals before a message is read.
pub(crate) fn screen(state: &AppState, req: &ApiRequest) -> AppResult<()> {
    if let Some(origin) = req.header("origin") {
        if !state.config.origin_allowed(origin) {
            let shown: String = origin.chars().take(100).collect();
            return Err(AppError::Forbidden(format!(
                "requests from the origin {shown:?} may not call this MCP server (ALLOWED_ORIGINS; \
                 by default only the service's own origin)"
            )));
        }
    }
    let mime = req
        .header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" {
        return Err(AppError::UnsupportedMediaType);
    }
    Ok(())
}
