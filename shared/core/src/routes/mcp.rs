//! `POST /mcp` (the catalog as an MCP server, `crate::mcp`) and
//! `GET /.well-known/oauth-protected-resource` (RFC 9728: how an MCP client finds where to get
//! a token for it).

use super::oauth::base_url;
use super::Caller;
use crate::domain::agent::{CATALOG_READ, SCOPES};
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;
use serde_json::json;

/// Where the MCP endpoint lives (the metadata document's `resource`).
pub const MCP_PATH: &str = "/mcp";
/// Where its protected-resource metadata lives.
pub const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

pub async fn serve(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.principal()?;
    Ok(crate::mcp::server::serve(state, req, &p).await)
}

pub async fn resource_metadata(
    state: &AppState,
    req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    let base = base_url(state, req);
    Ok(ApiResponse::json(
        200,
        &json!({
            "resource": format!("{base}{MCP_PATH}"),
            "authorization_servers": [base],
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
    let metadata = format!("{}{RESOURCE_METADATA_PATH}", base_url(state, req));
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
