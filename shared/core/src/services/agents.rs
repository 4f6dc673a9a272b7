//! Agents and their API keys: admins register agents, change and disable them, and issue and
//! revoke keys.
//!
//! Every change is one transaction holding the agent item, the copies of the agent on its
//! unrevoked keys (see `store::agents`) and the audit event. A key's secret is generated here,
//! answered once, and stored only as an HMAC under the current pepper.

use crate::auth::apikey;
use crate::auth::principal::{UserPrincipal, AGENT_SUBJECT};
use crate::domain::agent::{self, Agent, ApiKey, MAX_ACTIVE_KEYS};
use crate::domain::audit::{action, Actor, AuditEvent, Outcome, RequestMeta};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::body::present;
use crate::services::{access, ratelimit};
use crate::state::AppState;
use crate::store::agents::{AgentFilter, AgentWriteError, Page};
use crate::store::decisions::CredentialSource;
use serde::Deserialize;
use serde_json::{json, Value};

/// `POST /agents` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Defaults to the admin creating the agent.
    #[serde(default, deserialize_with = "present")]
    pub owner_user_id: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `PATCH /agents/{id}` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgent {
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub owner_user_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub groups: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub tags: Option<Vec<String>>,
}

/// `POST /agents/{id}/keys` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    /// RFC 3339, in the future; none means the key does not expire.
    #[serde(default, deserialize_with = "present")]
    pub expires_at: Option<String>,
}

/// The longest a key may live when it expires at all.
const MAX_KEY_LIFETIME_DAYS: i64 = 3 * 366;

fn now_stamp() -> String {
    crate::time::stamp(crate::time::now())
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!(
        "no agent with id {:?}",
        id.chars().take(64).collect::<String>()
    ))
}

fn no_owner(id: &str) -> AppError {
    AppError::field(
        "/owner_user_id",
        format!(
            "no user with id {:?}",
            id.chars().take(64).collect::<String>()
        ),
    )
}

fn check_labels(pointer: &str, labels: &[String], errors: &mut Vec<FieldError>) {
    if let Err(e) = agent::validate_labels(labels) {
        errors.push(FieldError::new(pointer, e.0));
    }
}

fn check_description(d: &str, errors: &mut Vec<FieldError>) {
    if let Err(e) = agent::validate_description(d) {
        errors.push(FieldError::new("/description", e.0));
    }
}

fn check_owner_id(id: &str, errors: &mut Vec<FieldError>) {
    if uuid::Uuid::parse_str(id).is_err() {
        errors.push(FieldError::new("/owner_user_id", "must be a user id"));
    }
}

fn done(errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// `POST /agents`, audited as `agent.create`.
pub async fn create(
    state: &AppState,
    p: &UserPrincipal,
    b: CreateAgent,
    meta: &RequestMeta,
) -> AppResult<Agent> {
    let mut errors = Vec::new();
    if let Err(e) = agent::validate_name(&b.name) {
        errors.push(FieldError::new("/name", e.0));
    }
    check_description(&b.description, &mut errors);
    let owner = b.owner_user_id.unwrap_or_else(|| p.user_id.to_string());
    check_owner_id(&owner, &mut errors);
    check_labels("/groups", &b.groups, &mut errors);
    check_labels("/tags", &b.tags, &mut errors);
    done(errors)?;
    let at = now_stamp();
    let a = Agent {
        id: uuid::Uuid::now_v7().to_string(),
        name: b.name,
        description: b.description,
        owner_user_id: owner,
        groups: b.groups,
        tags: b.tags,
        disabled: false,
        version: 1,
        active_keys: vec![],
        keys_rev: 0,
        created_at: at.clone(),
        updated_at: at,
    };
    let ev = AuditEvent::new(action::AGENT_CREATE, Outcome::Success, &p.actor(), meta)
        .target("agent", &a.id)
        .details(json!({
            "name": a.name,
            "owner_user_id": a.owner_user_id,
            "groups": a.groups,
            "tags": a.tags,
        }));
    match state.store.create_agent(&a, &ev).await {
        Ok(()) => Ok(a),
        Err(e) => match e.failed_condition_index() {
            Some(1) => Err(AppError::Conflict(format!(
                "an agent named {:?} already exists",
                a.name
            ))),
            Some(2) => Err(no_owner(&a.owner_user_id)),
            _ => Err(e.into()),
        },
    }
}

pub async fn get(state: &AppState, id: &str) -> AppResult<Agent> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(not_found(id));
    }
    state
        .store
        .get_agent(id)
        .await?
        .ok_or_else(|| not_found(id))
}

pub async fn list(
    state: &AppState,
    viewer: &str,
    f: &AgentFilter,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<Page<Agent>> {
    let scope = format!(
        "agents:{}:{}",
        f.disabled.map(|d| d.to_string()).unwrap_or_default(),
        ratelimit::key_of(&format!(
            "{:?}\n{:?}\n{:?}\n{:?}",
            f.group, f.tag, f.owner_user_id, f.q
        ))
    );
    let binding = super::listing::binding(state, viewer, scope).await?;
    Ok(state.store.list_agents(f, limit, cursor, &binding).await?)
}

/// What an edit of an agent does: the new agent and the audit details, or nothing to do.
type Edit = Option<(Agent, Value)>;

/// Reads the agent, applies `edit`, and stores the result with its audit event in one
/// transaction. Without `If-Match` a concurrent change is retried on the fresh copy; with it,
/// it is a 412.
async fn change<F>(
    state: &AppState,
    id: &str,
    if_match: Option<&str>,
    actor: &Actor,
    meta: &RequestMeta,
    act: &str,
    mut edit: F,
) -> AppResult<Agent>
where
    F: FnMut(&Agent) -> AppResult<Edit>,
{
    for _ in 0..3 {
        let old = get(state, id).await?;
        super::check_if_match(old.version, if_match)?;
        let Some((mut new, details)) = edit(&old)? else {
            return Ok(old);
        };
        new.version = old.version + 1;
        new.updated_at = now_stamp();
        let ev = AuditEvent::new(act, Outcome::Success, actor, meta)
            .target("agent", &old.id)
            .details(details);
        let owner_changed = new.owner_user_id != old.owner_user_id;
        match state.store.save_agent(&new, &old, owner_changed, &ev).await {
            Ok(()) => return Ok(new),
            Err(AgentWriteError::Stale) if if_match.is_some() => {
                return Err(AppError::PreconditionFailed(
                    "the agent changed since the given ETag; fetch it again".into(),
                ))
            }
            Err(AgentWriteError::Stale | AgentWriteError::KeyGone) => continue,
            Err(AgentWriteError::NoOwner) => return Err(no_owner(&new.owner_user_id)),
            Err(AgentWriteError::Store(e)) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict(
        "the agent was changed concurrently; retry".into(),
    ))
}

/// `PATCH /agents/{id}`: description, owner, groups, tags. Keys follow at once: their copies
/// of the agent change in the same transaction.
pub async fn update(
    state: &AppState,
    p: &UserPrincipal,
    id: &str,
    b: UpdateAgent,
    if_match: Option<&str>,
    meta: &RequestMeta,
) -> AppResult<Agent> {
    if b.description.is_none()
        && b.owner_user_id.is_none()
        && b.groups.is_none()
        && b.tags.is_none()
    {
        return Err(AppError::field(
            "",
            "send at least one of description, owner_user_id, groups, tags",
        ));
    }
    let mut errors = Vec::new();
    if let Some(d) = &b.description {
        check_description(d, &mut errors);
    }
    if let Some(o) = &b.owner_user_id {
        check_owner_id(o, &mut errors);
    }
    if let Some(g) = &b.groups {
        check_labels("/groups", g, &mut errors);
    }
    if let Some(t) = &b.tags {
        check_labels("/tags", t, &mut errors);
    }
    done(errors)?;
    change(
        state,
        id,
        if_match,
        &p.actor(),
        meta,
        action::AGENT_UPDATE,
        |old| {
            let mut new = old.clone();
            let mut changed = Vec::new();
            if let Some(d) = &b.description {
                if *d != old.description {
                    new.description = d.clone();
                    changed.push("description");
                }
            }
            if let Some(o) = &b.owner_user_id {
                if *o != old.owner_user_id {
                    new.owner_user_id = o.clone();
                    changed.push("owner_user_id");
                }
            }
            if let Some(g) = &b.groups {
                if *g != old.groups {
                    new.groups = g.clone();
                    changed.push("groups");
                }
            }
            if let Some(t) = &b.tags {
                if *t != old.tags {
                    new.tags = t.clone();
                    changed.push("tags");
                }
            }
            if changed.is_empty() {
                return Ok(None);
            }
            let details = json!({
                "changed": changed,
                "owner_user_id": new.owner_user_id,
                "groups": new.groups,
                "tags": new.tags,
                "version": old.version + 1,
            });
            Ok(Some((new, details)))
        },
    )
    .await
}

/// `POST /agents/{id}/disable` and `/enable` (idempotent: no change, no event). A disabled
/// agent's keys stop working at once (their copies say so), its OAuth tokens can no longer
/// ask for access (an access request re-reads the key behind the token), it gets no new
/// tokens, and the credentials issued to it are revoked. Disabling an agent already disabled
/// revokes any credential a failed earlier attempt left.
pub async fn set_disabled(
    state: &AppState,
    p: &UserPrincipal,
    id: &str,
    disabled: bool,
    if_match: Option<&str>,
    meta: &RequestMeta,
) -> AppResult<Agent> {
    let act = if disabled {
        action::AGENT_DISABLE
    } else {
        action::AGENT_ENABLE
    };
    let agent = change(state, id, if_match, &p.actor(), meta, act, |old| {
        if old.disabled == disabled {
            return Ok(None);
        }
        let mut new = old.clone();
        new.disabled = disabled;
        let details = json!({"keys": old.active_keys.len(), "version": old.version + 1});
        Ok(Some((new, details)))
    })
    .await?;
    if disabled {
        let subject = format!("{AGENT_SUBJECT}{}", agent.id);
        access::revoke_issued(
            state,
            &p.actor(),
            CredentialSource::Principal(&subject),
            ("agent", &agent.id),
            act,
            meta,
        )
        .await?;
    }
    Ok(agent)
}

/// A key just made: the record and the secret, which is never shown again.
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: String,
}

/// `POST /agents/{id}/keys`, audited as `agent.key.create` (with the prefix, never the key).
pub async fn create_key(
    state: &AppState,
    p: &UserPrincipal,
    agent_id: &str,
    b: CreateKey,
    meta: &RequestMeta,
) -> AppResult<IssuedKey> {
    let now = crate::time::now();
    let mut errors = Vec::new();
    if let Some(d) = &b.description {
        check_description(d, &mut errors);
    }
    let expires_at = match &b.expires_at {
        None => None,
        Some(raw) => match crate::time::parse(raw) {
            Some(t) if t <= now => {
                errors.push(FieldError::new("/expires_at", "must be in the future"));
                None
            }
            Some(t) if t > now + chrono::Duration::days(MAX_KEY_LIFETIME_DAYS) => {
                errors.push(FieldError::new(
                    "/expires_at",
                    format!("must be within {MAX_KEY_LIFETIME_DAYS} days"),
                ));
                None
            }
            Some(t) => Some(crate::time::stamp(t)),
            None => {
                errors.push(FieldError::new(
                    "/expires_at",
                    "must be an RFC 3339 date-time",
                ));
                None
            }
        },
    };
    done(errors)?;
    let peppers = state.peppers.get().await?;
    let pepper = peppers
        .keys
        .get(&peppers.signing_kid)
        .ok_or_else(|| AppError::Internal("the current pepper is missing from its set".into()))?;
    let issued = apikey::generate();
    for _ in 0..3 {
        let old = get(state, agent_id).await?;
        if old.disabled {
            return Err(AppError::Conflict(
                "the agent is disabled: enable it before issuing keys".into(),
            ));
        }
        if old.active_keys.len() >= MAX_ACTIVE_KEYS {
            return Err(AppError::Conflict(format!(
                "the agent already has {MAX_ACTIVE_KEYS} unrevoked keys: revoke one first"
            )));
        }
        let mut key = ApiKey {
            prefix: issued.prefix.clone(),
            agent_id: old.id.clone(),
            pepper_kid: peppers.signing_kid.clone(),
            digest: apikey::digest(pepper, &issued.key),
            description: b.description.clone(),
            created_at: crate::time::stamp(now),
            expires_at: expires_at.clone(),
            last_used_at: None,
            revoked_at: None,
            agent_name: String::new(),
            agent_groups: vec![],
            agent_tags: vec![],
            agent_disabled: false,
        };
        key.copy_agent(&old);
        let mut new = old.clone();
        new.active_keys.push(key.prefix.clone());
        new.keys_rev = old.keys_rev + 1;
        let ev = AuditEvent::new(action::AGENT_KEY_CREATE, Outcome::Success, &p.actor(), meta)
            .target("agent", &old.id)
            .details(json!({
                "key_prefix": key.prefix,
                "expires_at": key.expires_at,
                "description": key.description,
            }));
        match state.store.create_api_key(&key, &new, &old, &ev).await {
            Ok(()) => {
                return Ok(IssuedKey {
                    key,
                    secret: issued.key,
                })
            }
            Err(AgentWriteError::Stale) => continue,
            Err(AgentWriteError::Store(e)) => return Err(e.into()),
            Err(AgentWriteError::KeyGone | AgentWriteError::NoOwner) => {
                return Err(AppError::Internal("unexpected key-creation refusal".into()))
            }
        }
    }
    Err(AppError::Conflict(
        "the agent was changed concurrently; retry".into(),
    ))
}

pub async fn list_keys(
    state: &AppState,
    viewer: &str,
    agent_id: &str,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<Page<ApiKey>> {
    // 404 for an unknown agent rather than an empty list.
    get(state, agent_id).await?;
    let binding = super::listing::binding(state, viewer, format!("agent-keys:{agent_id}")).await?;
    Ok(state
        .store
        .list_api_keys(agent_id, limit, cursor, &binding)
        .await?)
}

/// `DELETE /agents/{id}/keys/{key_id}`: revokes the key at once (idempotent for a key already
/// revoked: 204, no second event).
pub async fn revoke_key(
    state: &AppState,
    p: &UserPrincipal,
    agent_id: &str,
    prefix: &str,
    meta: &RequestMeta,
) -> AppResult<()> {
    let key_not_found = || {
        AppError::NotFound(format!(
            "the agent has no key {:?}",
            prefix.chars().take(64).collect::<String>()
        ))
    };
    if !apikey::is_prefix(prefix) {
        return Err(key_not_found());
    }
    for _ in 0..3 {
        let old = get(state, agent_id).await?;
        if !old.active_keys.iter().any(|k| k == prefix) {
            // Revoked already (finish revoking what it issued, should an earlier attempt have
            // stopped short), or never this agent's.
            return match state.store.get_api_key(prefix).await? {
                Some(k) if k.agent_id == old.id => {
                    revoke_issued_by_key(state, p, prefix, meta).await
                }
                _ => Err(key_not_found()),
            };
        }
        let mut new = old.clone();
        new.active_keys.retain(|k| k != prefix);
        new.keys_rev = old.keys_rev + 1;
        let ev = AuditEvent::new(action::AGENT_KEY_REVOKE, Outcome::Success, &p.actor(), meta)
            .target("agent", &old.id)
            .details(json!({"key_prefix": prefix}));
        match state
            .store
            .revoke_api_key(prefix, &now_stamp(), &new, &old, &ev)
            .await
        {
            Ok(()) => return revoke_issued_by_key(state, p, prefix, meta).await,
            Err(AgentWriteError::Stale | AgentWriteError::KeyGone) => continue,
            Err(AgentWriteError::Store(e)) => return Err(e.into()),
            Err(AgentWriteError::NoOwner) => {
                return Err(AppError::Internal("unexpected revocation refusal".into()))
            }
        }
    }
    Err(AppError::Conflict(
        "the agent was changed concurrently; retry".into(),
    ))
}

/// Revokes the credentials issued through key `prefix` (directly, or through OAuth tokens
/// minted with it).
async fn revoke_issued_by_key(
    state: &AppState,
    p: &UserPrincipal,
    prefix: &str,
    meta: &RequestMeta,
) -> AppResult<()> {
    access::revoke_issued(
        state,
        &p.actor(),
        CredentialSource::Key(prefix),
        ("api_key", prefix),
        action::AGENT_KEY_REVOKE,
        meta,
    )
    .await
    .map(|_| ())
}
