//! `/api/v1/auth/mfa/totp*` and `/api/v1/auth/login/mfa`, and the `REQUIRE_ADMIN_MFA` gate the
//! dispatcher applies to every route.

use super::auth::bounded;
use super::Caller;
use crate::auth::principal::Principal;
use crate::domain::user::Role;
use crate::error::{AppError, AppResult};
use crate::http::{body, ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::services::mfa as svc;
use crate::state::AppState;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    current_password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginMfaBody {
    mfa_token: String,
    code: String,
}

/// A TOTP code is six ASCII digits; anything else is a 422 naming the field.
pub(crate) fn well_formed_code(pointer: &str, code: &str) -> AppResult<()> {
    if crate::auth::totp::is_well_formed(code) {
        Ok(())
    } else {
        Err(AppError::field(
            pointer,
            "must be the 6 digits of a TOTP code",
        ))
    }
}

/// True for routes whose answer holds a secret (the TOTP secret, a fresh token pair):
/// `Idempotency-Key` is ignored there, because honouring it would store the answer in the
/// table for replay.
pub(crate) fn answer_holds_secret(route: &Route) -> bool {
    [
        super::AUTH_MFA_TOTP_ENROL.function,
        super::AUTH_MFA_TOTP_CONFIRM.function,
    ]
    .contains(&route.function)
}

/// Routes an admin without a second factor may still call when `REQUIRE_ADMIN_MFA` is on:
/// enrolling one and seeing who they are (logging in, refreshing and logging out are public).
const OPEN_WITHOUT_MFA: [&str; 3] = [
    super::AUTH_ME.function,
    super::AUTH_MFA_TOTP_ENROL.function,
    super::AUTH_MFA_TOTP_CONFIRM.function,
];

/// With `REQUIRE_ADMIN_MFA=true`, an admin whose session was not authenticated with a second
/// factor (the token's `amr`, so no read) may only enrol one: every other route is 403
/// `mfa-enrolment-required`.
pub(crate) fn admin_gate(state: &AppState, route: &Route, caller: &Caller) -> AppResult<()> {
    match &caller.0 {
        Some(Principal::User(p))
            if state.config.require_admin_mfa
                && p.role == Role::Admin
                && !p.mfa
                && !OPEN_WITHOUT_MFA.contains(&route.function) =>
        {
            Err(AppError::MfaEnrolmentRequired)
        }
        _ => Ok(()),
    }
}

pub const AUTH_MFA_TOTP_ENROL: Route = Route {
    method: "POST",
    path: "/api/v1/auth/mfa/totp",
    function: "auth-mfa-totp-enrol",
    access: Access::Person,
    openapi: Operation {
        summary: "Start TOTP enrolment with the current password: the secret and otpauth:// URI, shown once",
        tag: "auth",
        request: Some("TotpEnrol"),
        response: Content::Json("TotpEnrolment"),
        problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::GUARDED_WRITE,
        kms: &["GenerateDataKey"],
        ..Iam::NONE
    },
    // argon2id verification of the current password: see AUTH_LOGIN for why 1024 MB.
    memory: 1024,
    ..Route::DEFAULT
};

/// `POST /auth/mfa/totp` with the current password: starts an enrolment; the secret is in this
/// answer only.
pub async fn enrol(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: EnrolBody = body::parse_json(req)?;
    bounded("/current_password", &b.current_password)?;
    let e = svc::enrol(state, &p, &b.current_password, &req.meta()).await?;
    Ok(ApiResponse::json(200, &e).with_header("cache-control", "no-store"))
}

pub const AUTH_MFA_TOTP_CONFIRM: Route = Route {
    method: "POST",
    path: "/api/v1/auth/mfa/totp/confirm",
    function: "auth-mfa-totp-confirm",
    access: Access::Person,
    openapi: Operation {
        summary: "Activate TOTP with a first code; answers a new session authenticated with it",
        tag: "auth",
        request: Some("TotpCode"),
        response: Content::Json("TotpConfirmed"),
        problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        kms: &["Decrypt"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

/// `POST /auth/mfa/totp/confirm`: the first code activates TOTP; answers a session with it.
pub async fn confirm(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: CodeBody = body::parse_json(req)?;
    well_formed_code("/code", &b.code)?;
    let pair = svc::confirm(state, &p, &b.code, &req.meta()).await?;
    let mut answer = serde_json::to_value(&pair).map_err(AppError::internal)?;
    answer["totp_enabled"] = json!(true);
    Ok(ApiResponse::json(200, &answer).with_header("cache-control", "no-store"))
}

pub const AUTH_MFA_TOTP_REMOVE: Route = Route {
    method: "DELETE",
    path: "/api/v1/auth/mfa/totp",
    function: "auth-mfa-totp-remove",
    access: Access::Person,
    openapi: Operation {
        summary: "Remove TOTP with a current code (ends every session of the caller)",
        tag: "auth",
        request: Some("TotpCode"),
        status: 204,
        problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_DELETE,
        kms: &["Decrypt"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

/// `DELETE /auth/mfa/totp` with a current code: removes TOTP and ends every session.
pub async fn remove(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: CodeBody = body::parse_json(req)?;
    well_formed_code("/code", &b.code)?;
    svc::remove(state, &p, &b.code, &req.meta()).await?;
    Ok(ApiResponse::no_content())
}

pub const USERS_MFA_TOTP_RESET: Route = Route {
    method: "DELETE",
    path: "/api/v1/users/{id}/mfa/totp",
    function: "users-mfa-totp-reset",
    access: Access::ElevatedAdmin,
    openapi: Operation {
        summary: "Remove a user's TOTP authenticator (a lost phone) and revoke their sessions (elevated token)",
        tag: "users",
        status: 204,
        problems: &[401, 403, 404, 409, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_DELETE,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

/// `DELETE /users/{id}/mfa/totp` (elevated admin): removes a user's TOTP (a lost phone).
pub async fn reset(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    svc::admin_reset(state, &p, req.path_param("id"), &req.meta()).await?;
    Ok(ApiResponse::no_content())
}

pub const AUTH_LOGIN_MFA: Route = Route {
    method: "POST",
    path: "/api/v1/auth/login/mfa",
    function: "auth-login-mfa",
    access: Access::Public,
    openapi: Operation {
        summary: "Finish a login with the mfa_token from /auth/login and a TOTP code",
        tag: "auth",
        request: Some("LoginMfaRequest"),
        response: Content::Json("TokenPair"),
        problems: &[400, 401, 413, 415, 422, 429, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_DELETE,
        kms: &["Decrypt"],
        secret: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

/// `POST /auth/login/mfa`: the MFA token from login and a code → the token pair.
pub async fn login(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let b: LoginMfaBody = body::parse_json(req)?;
    bounded("/mfa_token", &b.mfa_token)?;
    well_formed_code("/code", &b.code)?;
    let pair = svc::finish_login(state, &b.mfa_token, &b.code, &req.meta()).await?;
    Ok(ApiResponse::json(200, &pair).with_header("cache-control", "no-store"))
}
