//! `/api/v1/users/*` (admins) and the self-service `/api/v1/auth/password` and
//! `/api/v1/auth/logout`.

use super::Caller;
use crate::domain::user::{Role, User};
use crate::error::{AppError, AppResult};
use crate::http::{body, query, ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
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

const USER_LIST_PARAMS: &[table::Param] = &[
    table::Param {
        name: "role",
        schema: r#"{"type": "string", "enum": ["admin", "user"]}"#,
        description: "Only users of this role.",
    },
    table::flag_filter("disabled", "Only disabled or only enabled users."),
    table::Param {
        name: "q",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 100}"#,
        description: "Case-insensitive text in username or display name.",
    },
    table::LIMIT,
    table::CURSOR,
];

pub const USERS_CREATE: Route = Route {
    method: "POST",
    path: "/api/v1/users",
    function: "users-create",
    access: Access::Admin,
    openapi: Operation {
        summary: "Create a user",
        tag: "users",
        request: Some("CreateUser"),
        status: 201,
        response: Content::Json("User"),
        problems: &[400, 401, 403, 409, 413, 415, 422, 503],
        location: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        ..Iam::NONE
    },
    // argon2id hashing: see AUTH_LOGIN for why 1024 MB.
    memory: 1024,
    ..Route::DEFAULT
};

pub async fn create(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::CreateUser = body::parse_json(req)?;
    let u = svc::create(state, &p.actor(), b, &req.meta()).await?;
    Ok(user_response(201, &u).with_header("location", &format!("/api/v1/users/{}", u.id)))
}

const LIST_KEYS: &[&str] = &["role", "disabled", "q", "limit", "cursor"];

pub const USERS_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/users",
    function: "users-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "List users, sorted by username",
        tag: "users",
        response: Content::Json("UserPage"),
        query: USER_LIST_PARAMS,
        problems: &[400, 401, 403, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["Query"],
        index: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

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

pub const USERS_GET: Route = Route {
    method: "GET",
    path: "/api/v1/users/{id}",
    function: "users-get",
    access: Access::Admin,
    openapi: Operation {
        summary: "One user",
        tag: "users",
        response: Content::Json("User"),
        problems: &[400, 401, 403, 404, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["GetItem"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn get(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let u = svc::get(state, req.path_param("id")).await?;
    Ok(user_response(200, &u))
}

pub const USERS_UPDATE: Route = Route {
    method: "PATCH",
    path: "/api/v1/users/{id}",
    function: "users-update",
    access: Access::Admin,
    openapi: Operation {
        summary: "Change a user's display name or role (a role change revokes their sessions)",
        tag: "users",
        request: Some("UpdateUser"),
        response: Content::Json("User"),
        problems: &[400, 401, 403, 404, 409, 412, 413, 415, 422, 503],
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::GUARDED_WRITE_QUERY,
        index: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn update(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::UpdateUser = body::parse_json(req)?;
    let u = svc::update(
        state,
        &p,
        req.path_param("id"),
        b,
        req.header("if-match"),
        &req.meta(),
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
        &req.meta(),
    )
    .await?;
    Ok(user_response(200, &u))
}

pub const USERS_DISABLE: Route = Route {
    method: "POST",
    path: "/api/v1/users/{id}/disable",
    function: "users-disable",
    access: Access::Admin,
    openapi: Operation {
        summary: "Disable a user and revoke their sessions (idempotent)",
        tag: "users",
        response: Content::Json("User"),
        problems: &[400, 401, 403, 404, 409, 412, 503],
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::GUARDED_WRITE_QUERY,
        index: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn disable(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    set_disabled(state, req, caller, true).await
}

pub const USERS_ENABLE: Route = Route {
    method: "POST",
    path: "/api/v1/users/{id}/enable",
    function: "users-enable",
    access: Access::Admin,
    openapi: Operation {
        summary: "Enable a user (idempotent)",
        tag: "users",
        response: Content::Json("User"),
        problems: &[400, 401, 403, 404, 409, 412, 503],
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn enable(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    set_disabled(state, req, caller, false).await
}

pub const USERS_RESET_PASSWORD: Route = Route {
    method: "POST",
    path: "/api/v1/users/{id}/reset-password",
    function: "users-reset-password",
    access: Access::ElevatedAdmin,
    openapi: Operation {
        summary: "Set a user's password and revoke their sessions (elevated token)",
        tag: "users",
        request: Some("ResetPassword"),
        response: Content::Json("User"),
        problems: &[400, 401, 403, 404, 409, 413, 415, 422, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        ..Iam::NONE
    },
    // argon2id hashing: see AUTH_LOGIN for why 1024 MB.
    memory: 1024,
    ..Route::DEFAULT
};

pub async fn reset_password(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::ResetPassword = body::parse_json(req)?;
    let u = svc::reset_password(state, &p, req.path_param("id"), b, &req.meta()).await?;
    Ok(user_response(200, &u))
}

pub const AUTH_PASSWORD: Route = Route {
    method: "POST",
    path: "/api/v1/auth/password",
    function: "auth-password",
    access: Access::Person,
    openapi: Operation {
        summary: "Change your own password (revokes your other sessions; answers a new token pair)",
        tag: "auth",
        request: Some("ChangePassword"),
        response: Content::Json("TokenPair"),
        problems: &[400, 401, 409, 413, 415, 422, 429, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        ..Iam::NONE
    },
    // argon2id hashing: see AUTH_LOGIN for why 1024 MB.
    memory: 1024,
    ..Route::DEFAULT
};

pub async fn change_password(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::ChangePassword = body::parse_json(req)?;
    let pair = svc::change_own_password(state, &p, b, &req.meta()).await?;
    Ok(ApiResponse::json(200, &pair).with_header("cache-control", "no-store"))
}

pub const AUTH_LOGOUT: Route = Route {
    method: "POST",
    path: "/api/v1/auth/logout",
    function: "auth-logout",
    access: Access::Public,
    openapi: Operation {
        summary: "Log out: revoke the session of a refresh token",
        tag: "auth",
        request: Some("LogoutRequest"),
        status: 204,
        problems: &[400, 401, 413, 415, 422, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["UpdateItem", "PutItem", "TransactWriteItems"],
        secret: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn logout(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let b: svc::Logout = body::parse_json(req)?;
    svc::logout(state, b, &req.meta()).await?;
    Ok(ApiResponse::no_content())
}
