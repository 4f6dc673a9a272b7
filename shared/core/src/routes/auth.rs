//! `/api/v1/auth/*`.

use super::meta;
use super::Caller;
use crate::error::AppResult;
use crate::http::{body, ApiRequest, ApiResponse};
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
}

/// Anything longer cannot be a valid credential; refusing it early bounds argon2's work.
const MAX_CREDENTIAL_LEN: usize = 1024;

fn bounded(pointer: &str, s: &str) -> AppResult<()> {
    if s.is_empty() || s.len() > MAX_CREDENTIAL_LEN {
        return Err(crate::error::AppError::field(
            pointer,
            format!("must be 1 to {MAX_CREDENTIAL_LEN} bytes"),
        ));
    }
    Ok(())
}

pub async fn login(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let b: LoginBody = body::parse_json(req)?;
    bounded("/username", &b.username)?;
    bounded("/password", &b.password)?;
    let pair = svc::login(state, &b.username, &b.password, &meta(req)).await?;
    Ok(ApiResponse::json(200, &pair).with_header("cache-control", "no-store"))
}

pub async fn refresh(
    state: &AppState,
    req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    let b: RefreshBody = body::parse_json(req)?;
    bounded("/refresh_token", &b.refresh_token)?;
    let pair = svc::refresh(state, &b.refresh_token, &meta(req)).await?;
    Ok(ApiResponse::json(200, &pair).with_header("cache-control", "no-store"))
}

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

pub async fn elevate(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: ElevateBody = body::parse_json(req)?;
    bounded("/password", &b.password)?;
    let t = svc::elevate(state, &p, &b.password, &meta(req)).await?;
    Ok(ApiResponse::json(200, &t).with_header("cache-control", "no-store"))
}
