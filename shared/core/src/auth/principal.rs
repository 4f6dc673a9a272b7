//! Who is calling. A user's or an agent's token is checked with no database call; an agent's
//! API key with one read (see `auth::agent_keys`).

use super::jwt::{self, Claims, TokenType, VerifyError};
use crate::domain::audit::Actor;
use crate::domain::user::{Role, UserId};
use crate::error::AppError;
use crate::http::ApiRequest;
use crate::state::AppState;

/// An authenticated caller: a person or an agent.
#[derive(Clone, Debug)]
pub enum Principal {
    User(UserPrincipal),
    Agent(AgentPrincipal),
}

/// A person, from their access (or elevated) token.
#[derive(Clone, Debug)]
pub struct UserPrincipal {
    /// The token's subject, typed once here.
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
    pub token_type: TokenType,
    /// The session was authenticated with a second factor (the token's `amr`).
    pub mfa: bool,
}

/// An agent, from an API key or an OAuth access token.
#[derive(Clone, Debug)]
pub struct AgentPrincipal {
    pub agent_id: String,
    pub name: String,
    pub groups: Vec<String>,
    pub tags: Vec<String>,
    /// What the credential grants (a key grants every scope).
    pub scopes: Vec<String>,
    pub via: AgentCredential,
}

/// How an agent proved who it is.
#[derive(Clone, Debug, PartialEq)]
pub enum AgentCredential {
    /// The key's public prefix.
    ApiKey(String),
    /// An OAuth access token: its id, and the prefix of the key it was minted with (`None` for
    /// tokens minted before tokens named their key).
    OAuthToken {
        token_id: String,
        key_prefix: Option<String>,
    },
}

pub use crate::domain::agent::AGENT_SUBJECT;

impl UserPrincipal {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user_id.to_string()),
            username: Some(self.username.clone()),
        }
    }
}

impl AgentPrincipal {
    /// `agent:<id>`: what audit events and tokens name the agent by.
    pub fn subject(&self) -> String {
        format!("{AGENT_SUBJECT}{}", self.agent_id)
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.subject()),
            username: Some(self.name.clone()),
        }
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The public prefix of the API key behind the credential: the key itself, or the one an
    /// OAuth token was minted with.
    pub fn key_prefix(&self) -> Option<&str> {
        match &self.via {
            AgentCredential::ApiKey(prefix) => Some(prefix.as_str()),
            AgentCredential::OAuthToken { key_prefix, .. } => key_prefix.as_deref(),
        }
    }
}

impl Principal {
    /// The user id, or `agent:<id>`: unique across both kinds.
    pub fn id(&self) -> String {
        match self {
            Principal::User(u) => u.user_id.to_string(),
            Principal::Agent(a) => a.subject(),
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Principal::User(u) => u.actor(),
            Principal::Agent(a) => a.actor(),
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

/// The principal a verified token names: an agent when its subject is `agent:<id>`.
fn principal(c: Claims) -> Principal {
    match c.sub.strip_prefix(AGENT_SUBJECT) {
        Some(agent_id) => Principal::Agent(AgentPrincipal {
            agent_id: agent_id.to_owned(),
            name: c.username,
            groups: c.groups,
            tags: c.tags,
            scopes: c
                .scope
                .as_deref()
                .unwrap_or_default()
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            via: AgentCredential::OAuthToken {
                token_id: c.jti,
                key_prefix: c.key,
            },
        }),
        None => Principal::User(user_principal(c)),
    }
}

fn user_principal(c: Claims) -> UserPrincipal {
    let mfa = c.mfa();
    UserPrincipal {
        mfa,
        user_id: UserId::new(c.sub),
        username: c.username,
        role: c.role,
        token_type: c.typ,
    }
}

/// The API key of a request, if it sent one: `X-Api-Key: trk_…` or `Authorization: Bearer
/// trk_…`. Sending both an API key and a bearer token is refused rather than guessed at.
fn api_key(req: &ApiRequest) -> Result<Option<&str>, AppError> {
    let header = req.header("x-api-key").map(str::trim);
    let bearer = bearer(req).ok();
    match (header, bearer) {
        (Some(_), Some(_)) => Err(AppError::Unauthenticated(
            "send either X-Api-Key or an Authorization header, not both".into(),
        )),
        (Some(k), None) => Ok(Some(k)),
        (None, Some(b)) if super::apikey::looks_like_key(b) => Ok(Some(b)),
        _ => Ok(None),
    }
}

/// Any valid credential: a user's access token, an agent's OAuth access token or API key.
pub async fn authenticate(state: &AppState, req: &ApiRequest) -> Result<Principal, AppError> {
    if let Some(key) = api_key(req)? {
        // Boxed: the key read's future is large, and tokens need none (see `routes::dispatch`).
        return Box::pin(super::agent_keys::authenticate(state, key))
            .await
            .map(Principal::Agent);
    }
    let token = bearer(req)?;
    verify_token(state, token, TokenType::Access)
        .await
        .map(principal)
}

/// A person's token, for the routes that only people may call (`Access::Person`, `Admin`,
/// `ElevatedAdmin`): an access token, or with `elevated` also an elevated one. The principal it
/// names may still be an agent (an OAuth access token); the route's role check refuses that.
///
/// These routes never take an agent's API key, so one is refused here, before anything is read:
/// their functions are built without the API-key pepper (`Iam::pepper`), and checking the key
/// would reach for a part they lack (`state::Part`). Refused unchecked, a key, valid or not,
/// learns nothing here.
pub async fn authenticate_person(
    state: &AppState,
    req: &ApiRequest,
    elevated: bool,
) -> Result<Principal, AppError> {
    if api_key(req)?.is_some() {
        return Err(AppError::Forbidden(
            "this operation is for people: an agent's API key is not accepted here".into(),
        ));
    }
    let token = bearer(req)?;
    if !elevated {
        return verify_token(state, token, TokenType::Access)
            .await
            .map(principal);
    }
    match verify_token(state, token, TokenType::Elevated).await {
        Ok(c) => Ok(principal(c)),
        // An admin's plain access token is told to elevate by the role check.
        Err(e) => match verify_token(state, token, TokenType::Access).await {
            Ok(c) => Ok(principal(c)),
            Err(_) => Err(e),
        },
    }
}
