//! Policy versions: storing (validated, one version per canonical document), listing,
//! activating (elevated), simulating against recorded decisions, and the active policy as the
//! decision point reads it.
//!
//! The active policy is cached per warm function: the head item (which version is active) is
//! re-read at most every `POLICY_CACHE_TTL_SECONDS` (30 s by default), and the version itself
//! only when the head names another one, so a decision costs no extra round trip on a warm
//! function. Before any version is activated, the active policy is the empty document, which
//! denies everything (`DEFAULT_DENY`).

use crate::auth::principal::UserPrincipal;
use crate::domain::audit::{action, AuditEvent, Outcome, RequestMeta};
use crate::domain::policy::{Policy, Warning};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;
use crate::store::policies::{PolicyVersionItem, PolicyWriteError, VersionPage};
use serde_json::json;
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// The policy decisions are made with, and which version it is (0: none activated yet).
#[derive(Debug)]
pub struct ActivePolicy {
    pub version: u64,
    pub sha256: String,
    pub policy: Policy,
}

impl ActivePolicy {
    fn none() -> Self {
        let (policy, _) = Policy::parse("{}").expect("the empty policy parses");
        Self {
            version: 0,
            sha256: policy.sha256_hex(),
            policy,
        }
    }
}

/// The per-function cache of the active policy (see the module docs).
#[derive(Default)]
pub struct PolicyCache {
    slot: RwLock<Option<(Arc<ActivePolicy>, Instant)>>,
}

impl PolicyCache {
    /// Forgets the cached policy: the next read goes to the store (after an activation in this
    /// process, e.g. the local server, which serves every route).
    pub fn clear(&self) {
        if let Ok(mut slot) = self.slot.write() {
            *slot = None;
        }
    }

    /// The active policy: cached for `ttl`, then the head is read again (and the version, only
    /// if it changed).
    pub async fn get(&self, state: &AppState) -> AppResult<Arc<ActivePolicy>> {
        let ttl = state.config.policy_cache_ttl;
        let cached = self
            .slot
            .read()
            .map_err(|_| AppError::Internal("policy cache poisoned".into()))?
            .clone();
        if let Some((p, at)) = &cached {
            if at.elapsed() < ttl {
                return Ok(Arc::clone(p));
            }
        }
        let head = state.store.get_policy_head().await?;
        let active = head.as_ref().and_then(|h| h.active_version);
        let fresh = match (active, &cached) {
            (None, _) => Arc::new(ActivePolicy::none()),
            (Some(v), Some((p, _))) if p.version == v => Arc::clone(p),
            (Some(v), _) => Arc::new(load(state, v).await?),
        };
        *self
            .slot
            .write()
            .map_err(|_| AppError::Internal("policy cache poisoned".into()))? =
            Some((Arc::clone(&fresh), Instant::now()));
        Ok(fresh)
    }
}

async fn load(state: &AppState, version: u64) -> AppResult<ActivePolicy> {
    let item = state
        .store
        .get_policy_version(version)
        .await?
        .ok_or_else(|| AppError::Internal(format!("active policy version {version} is missing")))?;
    let (policy, _) = Policy::parse(&item.document).map_err(|e| {
        AppError::Internal(format!(
            "stored policy version {version} does not parse: {e:?}"
        ))
    })?;
    Ok(ActivePolicy {
        version,
        sha256: item.sha256,
        policy,
    })
}

/// Parses an uploaded document (JSON or YAML); its errors are 422s with pointers.
pub fn parse(text: &str) -> AppResult<(Policy, Vec<Warning>)> {
    Policy::parse(text)
        .map_err(|errors| AppError::Validation(errors.into_iter().map(FieldError::from).collect()))
}

/// What storing a document did.
pub struct Stored {
    pub version: PolicyVersionItem,
    pub warnings: Vec<Warning>,
    /// False when the same document was already stored (as `version`).
    pub created: bool,
}

/// `POST /policies`: stores a new version, or answers the version that already holds the same
/// canonical document.
pub async fn create(
    state: &AppState,
    p: &UserPrincipal,
    text: &str,
    meta: &RequestMeta,
) -> AppResult<Stored> {
    let (policy, warnings) = parse(text)?;
    let sha = policy.sha256_hex();
    for _ in 0..3 {
        if let Some(v) = state.store.policy_version_of(&sha).await? {
            let version = get(state, v).await?;
            return Ok(Stored {
                version,
                warnings,
                created: false,
            });
        }
        let latest = state
            .store
            .get_policy_head()
            .await?
            .map(|h| h.latest_version)
            .unwrap_or(0);
        let item = PolicyVersionItem {
            pk: crate::store::keys::POLICIES_PK.to_owned(),
            sk: crate::store::keys::policy_version_sk(latest + 1),
            entity: crate::store::item::Entity::PolicyVersion,
            version: latest + 1,
            sha256: sha.clone(),
            document: policy.canonical_json(),
            rule_count: policy.rules().len() as u64,
            warnings: serde_json::to_string(&warnings).map_err(AppError::internal)?,
            created_at: crate::time::stamp(crate::time::now()),
            created_by: p.user_id.to_string(),
        };
        let ev = AuditEvent::new(action::POLICY_CREATE, Outcome::Success, &p.actor(), meta)
            .target("policy", &item.version.to_string())
            .details(
                json!({"version": item.version, "sha256": sha, "rules": item.rule_count,
                            "warnings": warnings.len()}),
            );
        match state.store.create_policy_version(&item, latest, &ev).await {
            Ok(()) => {
                return Ok(Stored {
                    version: item,
                    warnings,
                    created: true,
                })
            }
            // Another version landed meanwhile (maybe this very document): look again.
            Err(PolicyWriteError::Stale | PolicyWriteError::Exists) => continue,
            Err(PolicyWriteError::Store(e)) => return Err(e.into()),
            Err(PolicyWriteError::NoSuchVersion) => {
                return Err(AppError::Internal("unexpected policy write refusal".into()))
            }
        }
    }
    Err(AppError::Conflict(
        "policies were stored concurrently; retry".into(),
    ))
}

/// A version number from a path.
pub fn version_of(raw: &str) -> AppResult<u64> {
    raw.parse::<u64>().ok().filter(|v| *v > 0).ok_or_else(|| {
        AppError::NotFound(format!(
            "no policy version {:?}",
            raw.chars().take(32).collect::<String>()
        ))
    })
}

pub async fn get(state: &AppState, version: u64) -> AppResult<PolicyVersionItem> {
    state
        .store
        .get_policy_version(version)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no policy version {version}")))
}

pub async fn list(
    state: &AppState,
    viewer: &str,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<VersionPage> {
    let binding = super::listing::binding(state, viewer, "policies".into()).await?;
    Ok(state
        .store
        .list_policy_versions(limit, cursor, &binding)
        .await?)
}

/// Which version is active (0 when none).
pub async fn active_version(state: &AppState) -> AppResult<u64> {
    Ok(state
        .store
        .get_policy_head()
        .await?
        .and_then(|h| h.active_version)
        .unwrap_or(0))
}

/// `POST /policies/{version}/activate` (elevated admin): moves the active pointer.
pub async fn activate(
    state: &AppState,
    p: &UserPrincipal,
    version: u64,
    meta: &RequestMeta,
) -> AppResult<PolicyVersionItem> {
    let v = get(state, version).await?;
    let previous = active_version(state).await?;
    let at = crate::time::stamp(crate::time::now());
    let ev = AuditEvent::new(action::POLICY_ACTIVATE, Outcome::Success, &p.actor(), meta)
        .target("policy", &version.to_string())
        .details(json!({"version": version, "sha256": v.sha256, "previous_version": previous}));
    match state
        .store
        .activate_policy(version, &v.sha256, &at, p.user_id.as_str(), &ev)
        .await
    {
        Ok(()) => {
            state.policies.clear();
            Ok(v)
        }
        Err(PolicyWriteError::NoSuchVersion) => {
            Err(AppError::NotFound(format!("no policy version {version}")))
        }
        Err(PolicyWriteError::Store(e)) => Err(e.into()),
        Err(PolicyWriteError::Stale | PolicyWriteError::Exists) => Err(AppError::Conflict(
            "the policy head changed concurrently; retry".into(),
        )),
    }
}
