//! The active policy as the decision point reads it, cached per warm function: the head item
//! (which version is active) is re-read at most every `POLICY_CACHE_TTL_SECONDS` (30 s by
//! default), and the version itself only when the head names another one, so a decision costs
//! no extra round trip on a warm function. Before any version is activated, the active policy is
//! the empty document, which denies everything (`DEFAULT_DENY`).

use super::{Store, StoreError};
use crate::domain::policy::Policy;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

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
    pub async fn get(&self, store: &Store, ttl: Duration) -> Result<Arc<ActivePolicy>, StoreError> {
        let cached = self
            .slot
            .read()
            .map_err(|_| StoreError::Other("policy cache poisoned".into()))?
            .clone();
        if let Some((p, at)) = &cached {
            if at.elapsed() < ttl {
                return Ok(Arc::clone(p));
            }
        }
        let head = store.get_policy_head().await?;
        let active = head.as_ref().and_then(|h| h.active_version);
        let fresh = match (active, &cached) {
            (None, _) => Arc::new(ActivePolicy::none()),
            (Some(v), Some((p, _))) if p.version == v => Arc::clone(p),
            (Some(v), _) => Arc::new(load(store, v).await?),
        };
        *self
            .slot
            .write()
            .map_err(|_| StoreError::Other("policy cache poisoned".into()))? =
            Some((Arc::clone(&fresh), Instant::now()));
        Ok(fresh)
    }
}

async fn load(store: &Store, version: u64) -> Result<ActivePolicy, StoreError> {
    let item = store.get_policy_version(version).await?.ok_or_else(|| {
        StoreError::Corrupt(format!("active policy version {version} is missing"))
    })?;
    let (policy, _) = Policy::parse(&item.document).map_err(|e| {
        StoreError::Corrupt(format!(
            "stored policy version {version} does not parse: {e:?}"
        ))
    })?;
    Ok(ActivePolicy {
        version,
        sha256: item.sha256,
        policy,
    })
}
