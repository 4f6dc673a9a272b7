//! Tool credentials: the public keys that verify them (`/.well-known/jwks.json`).

use super::Caller;
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::state::AppState;

pub const JWKS: Route = Route {
    method: "GET",
    path: "/.well-known/jwks.json",
    function: "jwks",
    access: Access::Public,
    openapi: Operation {
        summary: "The public keys that verify tool credentials (RFC 7517)",
        tag: "credentials",
        response: Content::Json("Jwks"),
        problems: &[503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        signing: &["GetPublicKey"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

/// The JWKS of the credential signing keys: public and cacheable, so a tool's server verifies
/// credentials offline.
pub async fn jwks(state: &AppState, _req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let doc = state.signer.jwks().await?;
    Ok(ApiResponse::json(200, &doc).with_header("cache-control", "public, max-age=300"))
}

pub const CREDENTIALS_GET: Route = Route {
    method: "GET",
    path: "/api/v1/credentials/{jti}",
    function: "credentials-get",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "The state of a credential (active, expired, revoked), for tool servers that check online",
        tag: "credentials",
        response: Content::Json("CredentialStatus"),
        problems: &[401, 403, 404, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

/// `GET /api/v1/credentials/{jti}`: a credential's state, for tool servers that check online
/// (any principal: a tool server holds an agent key of its own).
pub async fn status(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let d = crate::services::access::get_credential(state, req.path_param("jti")).await?;
    Ok(
        ApiResponse::json(200, &crate::services::access::credential_view(&d))
            .with_header("cache-control", "no-store"),
    )
}

pub const CREDENTIALS_REVOKE: Route = Route {
    method: "POST",
    path: "/api/v1/credentials/{jti}/revoke",
    function: "credentials-revoke",
    access: Access::Admin,
    openapi: Operation {
        summary: "Revoke a credential",
        tag: "credentials",
        response: Content::Json("CredentialStatus"),
        problems: &[401, 403, 404, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

/// `POST /api/v1/credentials/{jti}/revoke` (admin).
pub async fn revoke(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let d = crate::services::access::revoke_credential(
        state,
        &p.actor(),
        req.path_param("jti"),
        &req.meta(),
    )
    .await?;
    Ok(ApiResponse::json(
        200,
        &crate::services::access::credential_view(&d),
    ))
}
