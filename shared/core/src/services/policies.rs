//! Policy versions: storing (validated, one version per canonical document), listing,
//! activating (elevated) and simulating against recorded decisions. The active policy as the
//! decision point reads it, cached per warm function, is `store::policy_cache`.

use crate::auth::principal::UserPrincipal;
use crate::domain::audit::{action, AuditEvent, Outcome, RequestMeta};
use crate::domain::policy::{Policy, Warning};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;
use crate::store::policies::{PolicyVersionItem, PolicyWriteError, VersionPage};
pub use crate::store::policy_cache::{ActivePolicy, PolicyCache};
use serde_json::json;

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
