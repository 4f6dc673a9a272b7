//! `/api/v1/auth/mfa/totp*` and `/api/v1/auth/login/mfa`, and the `REQUIRE_ADMIN_MFA` gate the
//! dispatcher applies to every route.

use super::auth::bounded;
use super::{meta, Caller, Route};
use crate::auth::principal::Principal;
use crate::domain::user::Role;
use crate::error::{AppError, AppResult};
use crate::http::{body, ApiRequest, ApiResponse};
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

/// `POST /auth/mfa/totp` with the current password: starts an enrolment; the secret is in this
/// answer only.
pub async fn enrol(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: EnrolBody = body::parse_json(req)?;
    bounded("/current_password", &b.current_password)?;
    let e = svc::enrol(state, &p, &b.current_password, &meta(req)).await?;
    Ok(ApiResponse::json(200, &e).with_header("cache-control", "no-store"))
}

/// `POST /auth/mfa/totp/confirm`: the first code activates TOTP; answers a session with it.
pub async fn confirm(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: CodeBody = body::parse_json(req)?;
    well_formed_code("/code", &b.code)?;
    let pair = svc::confirm(state, &p, &b.code, &meta(req)).await?;
    let mut answer = serde_json::to_value(&pair).map_err(AppError::internal)?;
    answer["totp_enabled"] = json!(true);
    Ok(ApiResponse::json(200, &answer).with_header("cache-control", "no-store"))
}

/// `DELETE /auth/mfa/totp` with a current code: removes TOTP and ends every session.
pub async fn remove(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: CodeBody = body::parse_json(req)?;
    well_formed_code("/code", &b.code)?;
    svc::remove(state, &p, &b.code, &meta(req)).await?;
    Ok(ApiResponse::no_content())
}

/// `DELETE /users/{id}/mfa/totp` (elevated admin): removes a user's TOTP (a lost phone).
pub async fn reset(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    svc::admin_reset(state, &p, req.path_param("id"), &meta(req)).await?;
    Ok(ApiResponse::no_content())
}

/// `POST /auth/login/mfa`: the MFA token from login and a code → the token pair.
pub async fn login(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let b: LoginMfaBody = body::parse_json(req)?;
    bounded("/mfa_token", &b.mfa_token)?;
    well_formed_code("/code", &b.code)?;
    let pair = svc::finish_login(state, &b.mfa_token, &b.code, &meta(req)).await?;
    Ok(ApiResponse::json(200, &pair).with_header("cache-control", "no-store"))
}
