//! `/api/v1/auth/*`.

use super::Caller;
use crate::error::AppResult;
use crate::http::{body, ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::services::auth as svc;
use crate::state::AppState;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ElevateBody {
    password: String,
    /// The current TOTP code; required when the admin has an authenticator.
    #[serde(default)]
    code: Option<String>,
}

/// Anything longer cannot be a valid credential; refusing it early bounds argon2's work.
pub(crate) const MAX_CREDENTIAL_LEN: usize = 1024;

pub(crate) fn bounded(pointer: &str, s: &str) -> AppResult<()> {
    if s.is_empty() || s.len() > MAX_CREDENTIAL_LEN {
        return Err(crate::error::AppError::field(
            pointer,
            format!("must be 1 to {MAX_CREDENTIAL_LEN} bytes"),
        ));
    }
    Ok(())
}

pub const AUTH_LOGIN: Route = Route {
    method: "POST",
    path: "/api/v1/auth/login",
    function: "auth-login",
    access: Access::Public,
    openapi: Operation {
        summary: "Log in with username and password (users with TOTP get an mfa_token for /auth/login/mfa)",
        tag: "auth",
        request: Some("LoginRequest"),
        response: Content::Json("LoginResult"),
        problems: &[400, 401, 413, 415, 422, 429, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::GUARDED_WRITE_QUERY,
        index: true,
        secret: true,
        ..Iam::NONE
    },
    // argon2id (19 MiB, t=2) is CPU work: Lambda gives CPU in proportion to memory, so 1024 MB
    // (~0.6 vCPU) verifies in ~70 ms where 128 MB (~1/14 vCPU) took ~0.6 s, for the same
    // GB-seconds.
    memory: 1024,
    ..Route::DEFAULT
};

pub async fn login(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let b: LoginBody = body::parse_json(req)?;
    bounded("/username", &b.username)?;
    bounded("/password", &b.password)?;
    let outcome = svc::login(state, &b.username, &b.password, &req.meta()).await?;
    Ok(ApiResponse::json(200, &outcome).with_header("cache-control", "no-store"))
}

pub const AUTH_REFRESH: Route = Route {
    method: "POST",
    path: "/api/v1/auth/refresh",
    function: "auth-refresh",
    access: Access::Public,
    openapi: Operation {
        summary: "Exchange a refresh token for a new pair (single use; reuse revokes the session)",
        tag: "auth",
        request: Some("RefreshRequest"),
        response: Content::Json("TokenPair"),
        problems: &[400, 401, 413, 415, 422, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::GUARDED_WRITE,
        secret: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn refresh(
    state: &AppState,
    req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    let b: RefreshBody = body::parse_json(req)?;
    bounded("/refresh_token", &b.refresh_token)?;
    let pair = svc::refresh(state, &b.refresh_token, &req.meta()).await?;
    Ok(ApiResponse::json(200, &pair).with_header("cache-control", "no-store"))
}

pub const AUTH_ME: Route = Route {
    method: "GET",
    path: "/api/v1/auth/me",
    function: "auth-me",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "The caller, from the access token",
        tag: "auth",
        response: Content::Json("Me"),
        problems: &[401],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn me(_state: &AppState, _req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    use crate::auth::principal::Principal;
    let me = match caller.principal()? {
        Principal::User(u) => {
            json!({"kind": "user", "id": u.user_id, "username": u.username, "role": u.role})
        }
        Principal::Agent(a) => json!({
            "kind": "agent",
            "id": a.agent_id,
            "name": a.name,
            "groups": a.groups,
            "tags": a.tags,
            "scopes": a.scopes,
        }),
    };
    Ok(ApiResponse::json(200, &me))
}

pub const AUTH_ELEVATE: Route = Route {
    method: "POST",
    path: "/api/v1/auth/elevate",
    function: "auth-elevate",
    access: Access::Admin,
    openapi: Operation {
        summary:
            "Re-enter the password (and the TOTP code when enrolled) for a 5-minute elevated token",
        tag: "auth",
        request: Some("ElevateRequest"),
        response: Content::Json("ElevatedToken"),
        problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        kms: &["Decrypt"],
        ..Iam::NONE
    },
    // argon2id (19 MiB, t=2) is CPU work: Lambda gives CPU in proportion to memory, so 1024 MB
    // (~0.6 vCPU) verifies in ~70 ms where 128 MB (~1/14 vCPU) took ~0.6 s, for the same
    // GB-seconds.
    memory: 1024,
    ..Route::DEFAULT
};

pub async fn elevate(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: ElevateBody = body::parse_json(req)?;
    bounded("/password", &b.password)?;
    if let Some(code) = &b.code {
        super::mfa::well_formed_code("/code", code)?;
    }
    let t = svc::elevate(state, &p, &b.password, b.code.as_deref(), &req.meta()).await?;
    Ok(ApiResponse::json(200, &t).with_header("cache-control", "no-store"))
}
