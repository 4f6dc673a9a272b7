//! Recorded access decisions and the credentials allowed ones carry: reading them, and revoking
//! a credential (one by one, or every one issued from a key, agent or tool that was revoked,
//! disabled, deactivated or deleted).

use crate::domain::audit::{action, Actor, AuditEvent, Outcome, RequestMeta};
use crate::domain::policy;
use crate::error::{AppError, AppResult};
use crate::services::ratelimit;
use crate::state::AppState;
use crate::store::decisions::{
    CredentialSource, DecisionFilter, DecisionItem, DecisionPage, RevokeError,
};
use serde_json::{json, Value};

/// A recorded decision as admins see it.
pub fn decision_view(d: &DecisionItem) -> Value {
    json!({
        "id": d.id,
        "timestamp": d.timestamp,
        "principal_id": d.principal_id,
        "principal_name": d.principal_name,
        "tool_id": d.tool_id,
        "tool_name": d.tool_name,
        "requested_scopes": d.requested_scopes,
        "granted_scopes": d.granted_scopes,
        "purpose": d.purpose,
        "source_ip": d.source_ip,
        "decision": d.decision,
        "rationale": d.rationale,
        "rule_id": d.rule_id,
        "policy_version": d.policy_version,
        "policy_sha256": d.policy_sha256,
        "credential_expires_at": d.credential_expires_at
            .and_then(|e| chrono::DateTime::from_timestamp(e, 0))
            .map(crate::time::stamp),
        "revoked_at": d.revoked_at,
    })
}

pub async fn list_decisions(
    state: &AppState,
    viewer: &str,
    f: &DecisionFilter,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<DecisionPage> {
    let scope = format!("decisions:{}", ratelimit::key_of(&format!("{f:?}")));
    let binding = super::listing::binding(state, viewer, scope).await?;
    Ok(state
        .store
        .list_decisions(f, limit, cursor, &binding)
        .await?)
}

fn no_decision(id: &str) -> AppError {
    AppError::NotFound(format!(
        "no decision {:?}",
        id.chars().take(64).collect::<String>()
    ))
}

pub async fn get_decision(state: &AppState, id: &str) -> AppResult<DecisionItem> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(no_decision(id));
    }
    state
        .store
        .get_decision(id)
        .await?
        .ok_or_else(|| no_decision(id))
}

/// A credential's state, for tool servers that check online: from its decision record.
pub fn credential_view(d: &DecisionItem) -> Value {
    let now = crate::time::now().timestamp();
    let status = match (&d.revoked_at, d.credential_expires_at) {
        (Some(_), _) => "revoked",
        (None, Some(e)) if e <= now => "expired",
        _ => "active",
    };
    json!({
        "jti": d.id,
        "status": status,
        "subject": d.principal_id,
        "tool_id": d.tool_id,
        "scope": d.granted_scopes.join(" "),
        "expires_at": d.credential_expires_at
            .and_then(|e| chrono::DateTime::from_timestamp(e, 0))
            .map(crate::time::stamp),
        "revoked_at": d.revoked_at,
    })
}

/// The allowed decision that issued credential `jti` (a deny issued none).
pub async fn get_credential(state: &AppState, jti: &str) -> AppResult<DecisionItem> {
    match get_decision(state, jti).await {
        Ok(d) if d.decision == "allow" => Ok(d),
        Ok(_) | Err(AppError::NotFound(_)) => Err(AppError::NotFound(format!(
            "no credential {:?}",
            jti.chars().take(64).collect::<String>()
        ))),
        Err(e) => Err(e),
    }
}

/// `POST /credentials/{jti}/revoke` (admin): idempotent; audited once.
pub async fn revoke_credential(
    state: &AppState,
    actor: &Actor,
    jti: &str,
    meta: &RequestMeta,
) -> AppResult<DecisionItem> {
    let d = get_credential(state, jti).await?;
    if d.revoked_at.is_some() {
        return Ok(d);
    }
    let at = crate::time::stamp(crate::time::now());
    let ev = AuditEvent::new(action::CREDENTIAL_REVOKE, Outcome::Success, actor, meta)
        .target("credential", jti)
        .details(json!({"tool_id": d.tool_id, "subject": d.principal_id}));
    match state.store.revoke_credential(jti, &at, &ev).await {
        Ok(()) | Err(RevokeError::NotRevocable) => get_credential(state, jti).await,
        Err(RevokeError::Store(e)) => Err(e.into()),
    }
}

/// Revokes every live credential issued from `source`, because it went: an agent disabled, a
/// key revoked, a tool deactivated or deleted (`cause`, that change's audit action). Audited as
/// `credential.revoke` on `target`, with the cause and the credentials, in the transaction of
/// the marks it covers. It runs after the change itself; if it fails (503), the same request
/// again (each trigger is idempotent) finishes the work. Answers how many were revoked.
pub async fn revoke_issued(
    state: &AppState,
    actor: &Actor,
    source: CredentialSource<'_>,
    target: (&str, &str),
    cause: &str,
    meta: &RequestMeta,
) -> AppResult<usize> {
    let now = crate::time::now();
    let max_lifetime = i64::from(policy::MAX_CREDENTIAL_SECONDS);
    let ids = state
        .store
        .live_credentials(source, now.timestamp(), max_lifetime)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let at = crate::time::stamp(now);
    state
        .store
        .revoke_credentials(&ids, &at, |chunk| {
            AuditEvent::new(action::CREDENTIAL_REVOKE, Outcome::Success, actor, meta)
                .target(target.0, target.1)
                .details(json!({"cause": cause, "credentials": chunk}))
        })
        .await?;
    Ok(ids.len())
}
