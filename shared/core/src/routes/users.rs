//! `/api/v1/users/*` (admins) and the self-service `/api/v1/auth/password` and
//! `/api/v1/auth/logout`.

use super::meta;
use super::Caller;
use crate::domain::user::{Role, User};
use crate::error::{AppError, AppResult};
use crate::http::{body, query, ApiRequest, ApiResponse};
use crate::services::users as svc;
use crate::state::AppState;
use crate::store::users::UserFilter;
use serde_json::{json, Value};

/// A user as clients see it: never the password hash.
pub fn view(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "disabled": u.disabled,
        "totp_enabled": u.totp_enabled,
        "version": u.version,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
    })
}

fn user_response(status: u16, u: &User) -> ApiResponse {
    ApiResponse::json(status, &view(u)).with_header("etag", &u.etag())
}

pub async fn create(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::CreateUser = body::parse_json(req)?;
    let u = svc::create(state, &p.actor(), b, &meta(req)).await?;
    Ok(user_response(201, &u).with_header("location", &format!("/api/v1/users/{}", u.id)))
}

const LIST_KEYS: &[&str] = &["role", "disabled", "q", "limit", "cursor"];

pub async fn list(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let q = query::parse(&req.raw_query, LIST_KEYS)?;
    let limit = query::limit(&q)?;
    let f =
        UserFilter {
            role: match q.get("role") {
                None => None,
                Some(v) => Some(Role::parse(v).ok_or_else(|| {
                    AppError::BadRequest("role must be one of admin, user".into())
                })?),
            },
            disabled: query::flag(&q, "disabled")?,
            q: match q.get("q") {
                None => None,
                Some(v) if v.is_empty() || v.chars().count() > 100 => {
                    return Err(AppError::BadRequest("q must be 1 to 100 characters".into()))
                }
                Some(v) => Some(v.to_lowercase()),
            },
        };
    let viewer = caller.principal()?.id();
    let page = svc::list(
        state,
        &viewer,
        &f,
        limit,
        q.get("cursor").map(String::as_str),
    )
    .await?;
    let items: Vec<Value> = page.items.iter().map(view).collect();
    Ok(ApiResponse::json(
        200,
        &json!({"items": items, "next_cursor": page.next_cursor}),
    ))
}

pub async fn get(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let u = svc::get(state, req.path_param("id")).await?;
    Ok(user_response(200, &u))
}

pub async fn update(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::UpdateUser = body::parse_json(req)?;
    let u = svc::update(
        state,
        &p,
        req.path_param("id"),
        b,
        req.header("if-match"),
        &meta(req),
    )
    .await?;
    Ok(user_response(200, &u))
}

async fn set_disabled(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
    disabled: bool,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let u = svc::set_disabled(
        state,
        &p,
        req.path_param("id"),
        disabled,
        req.header("if-match"),
        &meta(req),
    )
    .await?;
    Ok(user_response(200, &u))
}

pub async fn disable(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    set_disabled(state, req, caller, true).await
}

pub async fn enable(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    set_disabled(state, req, caller, false).await
}

pub async fn reset_password(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::ResetPassword = body::parse_json(req)?;
    let u = svc::reset_password(state, &p, req.path_param("id"), b, &meta(req)).await?;
    Ok(user_response(200, &u))
}

pub async fn change_password(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::ChangePassword = body::parse_json(req)?;
    let pair = svc::change_own_password(state, &p, b, &meta(req)).await?;
    Ok(ApiResponse::json(200, &pair).with_header("cache-control", "no-store"))
}

pub async fn logout(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let b: svc::Logout = body::parse_json(req)?;
    svc::logout(state, b, &meta(req)).await?;
    Ok(ApiResponse::no_content())
}
