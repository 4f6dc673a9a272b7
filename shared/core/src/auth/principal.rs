//! Who is calling: the bearer token checked, with no database call.

use super::jwt::{self, Claims, TokenType, VerifyError};
use crate::domain::audit::Actor;
use crate::domain::user::{Role, UserId};
use crate::error::AppError;
use crate::http::ApiRequest;
use crate::state::AppState;

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The token's subject, typed once here.
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
    pub token_type: TokenType,
    /// The session was authenticated with a second factor (the token's `amr`).
    pub mfa: bool,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user_id.to_string()),
            username: Some(self.username.clone()),
        }
    }
}

/// The raw bearer token of a request.
pub fn bearer(req: &ApiRequest) -> Result<&str, AppError> {
    let h = req
        .header("authorization")
        .ok_or_else(|| AppError::Unauthenticated("send an Authorization: Bearer token".into()))?;
    let (scheme, token) = h.split_once(' ').ok_or_else(|| {
        AppError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::Unauthenticated(
            "the Authorization header must be `Bearer <token>`".into(),
        ));
    }
    Ok(token.trim())
}

/// Verifies a token string of the `expected` type. Reloads the keys once when the token names a
/// key id this function has not seen (a rotation since cold start).
pub async fn verify_token(
    state: &AppState,
    token: &str,
    expected: TokenType,
) -> Result<Claims, AppError> {
    let c = &state.config;
    let keys = state.keys.get().await?;
    let claims = match jwt::verify(&keys, token, &c.jwt_issuer, &c.jwt_audience) {
        Err(VerifyError::UnknownKid) => {
            let keys = state.keys.refresh_for_unknown_kid().await?;
            jwt::verify(&keys, token, &c.jwt_issuer, &c.jwt_audience)
        }
        other => other,
    }
    .map_err(|e| match e {
        VerifyError::UnknownKid => {
            AppError::Unauthenticated("the token was signed with an unknown key".into())
        }
        VerifyError::Invalid(why) => AppError::Unauthenticated(why),
    })?;
    if claims.typ != expected {
        let want = match expected {
            TokenType::Access => "an access token",
            TokenType::Refresh => "a refresh token",
            TokenType::Elevated => "an elevated token",
        };
        return Err(AppError::Unauthenticated(format!(
            "this endpoint needs {want}"
        )));
    }
    Ok(claims)
}

fn principal(c: Claims) -> Principal {
    let mfa = c.mfa();
    Principal {
        mfa,
        user_id: UserId::new(c.sub),
        username: c.username,
        role: c.role,
        token_type: c.typ,
    }
}

/// Any valid access token.
pub async fn authenticate(state: &AppState, req: &ApiRequest) -> Result<Principal, AppError> {
    let token = bearer(req)?;
    verify_token(state, token, TokenType::Access)
        .await
        .map(principal)
}

/// An access token of an admin.
pub async fn require_admin(state: &AppState, req: &ApiRequest) -> Result<Principal, AppError> {
    let p = authenticate(state, req).await?;
    if p.role != Role::Admin {
        return Err(AppError::Forbidden("this operation is for admins".into()));
    }
    Ok(p)
}

/// An elevated token (admins only). A plain admin access token is told to elevate.
pub async fn require_elevated(state: &AppState, req: &ApiRequest) -> Result<Principal, AppError> {
    let token = bearer(req)?;
    match verify_token(state, token, TokenType::Elevated).await {
        Ok(c) if c.role == Role::Admin => Ok(principal(c)),
        Ok(_) => Err(AppError::Forbidden("this operation is for admins".into())),
        Err(e) => match verify_token(state, token, TokenType::Access).await {
            Ok(c) if c.role == Role::Admin => Err(AppError::ElevationRequired),
            Ok(_) => Err(AppError::Forbidden("this operation is for admins".into())),
            Err(_) => Err(e),
        },
    }
}
