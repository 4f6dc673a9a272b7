//! Tool credentials: the public keys that verify them (`/.well-known/jwks.json`).

use super::Caller;
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;

/// The JWKS of the credential signing keys: public and cacheable, so a tool's server verifies
/// credentials offline.
pub async fn jwks(state: &AppState, _req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let doc = state.signer.jwks().await?;
    Ok(ApiResponse::json(200, &doc).with_header("cache-control", "public, max-age=300"))
}

/// `GET /api/v1/credentials/{jti}`: a credential's state, for tool servers that check online
/// (any principal: a tool server holds an agent key of its own).
pub async fn status(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let d = crate::services::access::get_credential(state, req.path_param("jti")).await?;
    Ok(
        ApiResponse::json(200, &crate::services::access::credential_view(&d))
            .with_header("cache-control", "no-store"),
    )
}

/// `POST /api/v1/credentials/{jti}/revoke` (admin).
pub async fn revoke(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let d = crate::services::access::revoke_credential(
        state,
        &p.actor(),
        req.path_param("jti"),
        &super::meta(req),
    )
    .await?;
    Ok(ApiResponse::json(
        200,
        &crate::services::access::credential_view(&d),
    ))
}
