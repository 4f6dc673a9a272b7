//! The OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for agents: client id = agent id,
//! client secret = one of its API keys. The access token is toolreg's own JWT (subject
//! `agent:<id>`, the granted scopes, the agent's groups and tags), verified like a user's
//! with no database call.
//!
//! Two sequential DynamoDB round trips: first, concurrently, both rate-limit counters (per
//! client id and per source IP) and the key's read; then the audit event (with the key's
//! once-a-minute use stamp beside it).

use crate::auth::agent_keys;
use crate::auth::jwt::{self, Claims, TokenType};
use crate::auth::principal::AGENT_SUBJECT;
use crate::domain::agent;
use crate::domain::audit::{self, action, Actor, AuditEvent, Outcome, RequestMeta};
use crate::domain::user::Role;
use crate::error::AppError;
use crate::services::ratelimit::{self, Check};
use crate::state::AppState;
use serde::Serialize;
use serde_json::json;

/// An RFC 6749 §5.2 error (or a 429 / 503 in the same JSON shape).
#[derive(Debug, PartialEq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
    /// Seconds, for 429.
    pub retry_after: Option<i64>,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            retry_after: None,
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", d)
    }

    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(401, "invalid_client", d)
    }

    /// Maps the service errors met on the way (rate limits, outages) into the same shape.
    fn from_app(e: AppError) -> Self {
        match e {
            AppError::RateLimited { reset_at, .. } => Self {
                retry_after: Some((reset_at - crate::time::now().timestamp()).max(1)),
                ..Self::new(
                    429,
                    "temporarily_unavailable",
                    "too many token requests; retry later",
                )
            },
            AppError::Unauthenticated(_) => Self::invalid_client(INVALID_CLIENT),
            AppError::Unavailable(_) => Self::new(
                503,
                "temporarily_unavailable",
                "a dependency is unavailable; retry shortly",
            ),
            other => {
                tracing::error!(error = %other, "token endpoint failed");
                Self::new(500, "server_error", "the token could not be issued")
            }
        }
    }
}

/// The one description of every client that does not authenticate.
const INVALID_CLIENT: &str = "client authentication failed";

/// The client's credentials, from HTTP Basic or the body.
pub struct ClientAuth {
    pub client_id: String,
    pub client_secret: String,
}

/// A token request after parsing.
pub struct TokenRequest {
    pub grant_type: String,
    pub scope: Option<String>,
    pub client: ClientAuth,
}

/// The success answer (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
}

/// Issues an access token for `r`.
pub async fn token(
    state: &AppState,
    r: TokenRequest,
    meta: &RequestMeta,
) -> Result<TokenResponse, OAuthError> {
    if r.grant_type != "client_credentials" {
        return Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        ));
    }
    let scopes = agent::parse_scope(r.scope.as_deref())
        .map_err(|d| OAuthError::new(400, "invalid_scope", d))?;
    let client_id = r.client.client_id.as_str();
    // A client id that is no agent id, or a secret that is no key, is refused without a read,
    // but still counted: every attempt spends the client's and the address's budget.
    let well_formed = uuid::Uuid::parse_str(client_id).is_ok()
        && crate::auth::apikey::prefix_of(&r.client.client_secret).is_some();
    let c = &state.config;
    let client_key = ratelimit::key_of(client_id);
    let ip_key = ratelimit::key_of(&meta.source_ip);
    let checks = [
        Check {
            scope: "oauth_client",
            key: &client_key,
            limit: c.oauth_rate_limit_client,
        },
        Check {
            scope: "oauth_ip",
            key: &ip_key,
            limit: c.oauth_rate_limit_ip,
        },
    ];
    let verify = async {
        if well_formed {
            agent_keys::verify(state, &r.client.client_secret).await
        } else {
            Err(agent_keys::invalid_key())
        }
    };
    let (limited, verified, keys) = tokio::join!(
        ratelimit::enforce(&state.store, &checks),
        verify,
        state.keys.get(),
    );
    limited.map_err(OAuthError::from_app)?;
    let verified = match verified {
        Ok(v) if v.key.agent_id == client_id => v,
        Ok(_) | Err(AppError::Unauthenticated(_)) => {
            audit_refusal(state, client_id, meta).await;
            return Err(OAuthError::invalid_client(INVALID_CLIENT));
        }
        Err(e) => return Err(OAuthError::from_app(e)),
    };
    let keys = keys.map_err(OAuthError::from_app)?;
    let k = &verified.key;
    let now = crate::time::now().timestamp();
    let ttl = c.access_token_ttl.as_secs();
    let scope = scopes.join(" ");
    let claims = Claims {
        sub: format!("{AGENT_SUBJECT}{}", k.agent_id),
        username: k.agent_name.clone(),
        // Agents have no role; `user` keeps any role check closed to them, and the subject
        // tells the dispatcher it is an agent (auth::principal).
        role: Role::User,
        typ: TokenType::Access,
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now,
        exp: now + ttl as i64,
        iss: c.jwt_issuer.clone(),
        aud: c.jwt_audience.clone(),
        fam: None,
        scope: Some(scope.clone()),
        groups: k.agent_groups.clone(),
        tags: k.agent_tags.clone(),
        key: Some(k.prefix.clone()),
        amr: Vec::new(),
    };
    let access_token = jwt::sign(&keys, &claims).map_err(|e| {
        tracing::error!(error = %e, "signing an agent token failed");
        OAuthError::new(500, "server_error", "the token could not be issued")
    })?;
    let actor = Actor {
        user_id: Some(claims.sub.clone()),
        username: Some(k.agent_name.clone()),
    };
    let ev = AuditEvent::new(action::TOKEN, Outcome::Success, &actor, meta)
        .target("agent", &k.agent_id)
        .details(json!({
            "grant_type": "client_credentials",
            "key_prefix": k.prefix,
            "scope": scope,
            "token_id": claims.jti,
            "expires_at": claims.exp,
        }));
    let (audited, ()) = tokio::join!(
        state.store.put_audit(&ev),
        agent_keys::record_use(state, &verified)
    );
    audited.map_err(|e| OAuthError::from_app(e.into()))?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        scope,
    })
}

/// Audits a refused client (`auth.token`, failure), with the client id it claimed when that is
/// an agent id (a UUID), never anything else: a client that swapped its id and secret sent the
/// key as the id. Never the secret. Never fails the refusal.
async fn audit_refusal(state: &AppState, client_id: &str, meta: &RequestMeta) {
    let is_agent_id = uuid::Uuid::parse_str(client_id).is_ok();
    let ev =
        AuditEvent::new(action::TOKEN, Outcome::Failure, &Actor::default(), meta).details(json!({
            "grant_type": "client_credentials",
            "client_id": audit::unauthenticated_identifier(client_id, is_agent_id),
            "reason": "invalid_client",
        }));
    if let Err(e) = state.store.put_audit(&ev).await {
        tracing::warn!(error = %e, "could not audit a refused token request");
    }
}
