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
