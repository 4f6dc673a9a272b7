//! Authenticating an agent by API key: one `GetItem` by the key's public prefix (concurrently
//! with the pepper, which is cached), then a constant-time HMAC compare.
//!
//! An unknown, revoked or expired key and a disabled agent all get the same 401, so a caller
//! learns nothing about which keys exist. A key's `last_used_at` is written at most once a
//! minute (when the item read shows an older stamp), never once per request.

use super::apikey;
use super::principal::{AgentCredential, AgentPrincipal};
use crate::domain::agent::{ApiKey, SCOPES};
use crate::error::AppError;
use crate::state::AppState;

/// The one answer to every key that does not authenticate.
pub fn invalid_key() -> AppError {
    AppError::Unauthenticated("the API key is invalid, revoked or expired".into())
}

/// How often `last_used_at` may be rewritten.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// A key that authenticated, and whether its use should be recorded (see [`record_use`]).
pub struct Verified {
    pub key: ApiKey,
    touch: bool,
}

/// Checks `key`: one read, one HMAC. The caller records the use with [`record_use`], alongside
/// whatever else it writes, so the rare stamp never adds a sequential round trip to a budget.
pub async fn verify(state: &AppState, key: &str) -> Result<Verified, AppError> {
    let prefix = apikey::prefix_of(key).ok_or_else(invalid_key)?;
    // Never reached where the row withholds them (the dispatcher refuses keys first there, and
    // a unit test holds the table to it); an error rather than a stopped process if ever.
    if !state.peppers.is_built() || !state.store.is_built() {
        return Err(AppError::Internal(
            "an API key reached a function built without the pepper".into(),
        ));
    }
    let (peppers, stored) = tokio::join!(state.peppers.get(), state.store.get_api_key(prefix));
    let stored = stored?.ok_or_else(invalid_key)?;
    let mut peppers = peppers?;
    if !peppers.keys.contains_key(&stored.pepper_kid) {
        // A pepper rotated in since this function loaded its set.
        peppers = state.peppers.refresh_for_unknown_kid().await?;
    }
    let pepper = peppers
        .keys
        .get(&stored.pepper_kid)
        .ok_or_else(invalid_key)?;
    if !apikey::matches(pepper, key, &stored.digest) {
        return Err(invalid_key());
    }
    let now = crate::time::now();
    let stamp = crate::time::stamp(now);
    if stored.revoked_at.is_some() || stored.expired(&stamp) || stored.agent_disabled {
        return Err(invalid_key());
    }
    let cutoff = crate::time::stamp(now - TOUCH_EVERY);
    let touch = stored
        .last_used_at
        .as_deref()
        .is_none_or(|t| t < cutoff.as_str());
    Ok(Verified { key: stored, touch })
}

/// Stamps the key's `last_used_at` when the read showed it older than a minute: at most one
/// write a minute per key. A failure to record use never fails the request.
pub async fn record_use(state: &AppState, v: &Verified) {
    if !v.touch {
        return;
    }
    let now = crate::time::now();
    let (stamp, cutoff) = (
        crate::time::stamp(now),
        crate::time::stamp(now - TOUCH_EVERY),
    );
    if let Err(e) = state
        .store
        .touch_api_key(&v.key.prefix, &stamp, &cutoff)
        .await
    {
        tracing::warn!(error = %e, key_prefix = %v.key.prefix, "could not record an API key's use");
    }
}

/// The agent a key authenticates. A key grants every scope.
pub async fn authenticate(state: &AppState, key: &str) -> Result<AgentPrincipal, AppError> {
    let v = verify(state, key).await?;
    record_use(state, &v).await;
    let k = v.key;
    Ok(AgentPrincipal {
        agent_id: k.agent_id,
        name: k.agent_name,
        groups: k.agent_groups,
        tags: k.agent_tags,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        via: AgentCredential::ApiKey(k.prefix),
    })
}

/// An agent's OAuth token, checked against the key it was minted with as that key stands now.
/// The token itself was verified with no read; what it grants beyond reading the catalog (an
/// access request, which mints a credential) costs this one read, made beside the route's own.
/// A revoked or expired key, a disabled agent, and a token that names no key all get the same
/// 401; groups and tags come from the key's current copy of the agent, so a change to them
/// counts at once. Other credentials are returned as they are (a key was read already).
pub async fn recheck(state: &AppState, a: &AgentPrincipal) -> Result<AgentPrincipal, AppError> {
    let AgentCredential::OAuthToken { key_prefix, .. } = &a.via else {
        return Ok(a.clone());
    };
    let refused = || {
        AppError::Unauthenticated(
            "the token's API key is revoked or expired, or its agent is disabled: request a new token"
                .into(),
        )
    };
    let prefix = key_prefix.as_deref().ok_or_else(refused)?;
    let k = state.store.get_api_key(prefix).await?.ok_or_else(refused)?;
    let now = crate::time::stamp(crate::time::now());
    if k.agent_id != a.agent_id || k.revoked_at.is_some() || k.expired(&now) || k.agent_disabled {
        return Err(refused());
    }
    Ok(AgentPrincipal {
        name: k.agent_name,
        groups: k.agent_groups,
        tags: k.agent_tags,
        ..a.clone()
    })
}
