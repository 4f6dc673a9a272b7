//! Keys read from Secrets Manager: the JWT signing keys, and the API-key peppers (the same
//! secret shape and cache, another secret).
//!
//! The secret holds `{"kid": "...", "key": "..."}`. Tokens are signed with the `AWSCURRENT`
//! version and verified against it and `AWSPREVIOUS`, so rotating the secret (putting a new
//! version) does not cut off tokens signed a moment earlier.
//!
//! The cache (see docs/architecture.md, "Keys"):
//! - the set is reloaded once it is older than `JWT_KEY_TTL_SECONDS` (default 300), on every
//!   path, so a warm function that only signs (login) moves to a rotated key too;
//! - a populated cache is read without waiting on anything: a due reload runs in a background
//!   task while requests keep using the set they have;
//! - a cold load is single-flight, and a failed load is remembered for two seconds so requests
//!   queued behind it answer 503 at once instead of each waiting out its own timeout;
//! - a token with an unknown `kid` (a rotation this function has not seen, or a forgery) triggers
//!   at most one reload per minute (or per TTL, if shorter) and never blocks other requests.

use crate::error::AppError;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const MIN_KEY_BYTES: usize = 32;
/// The longest an unknown `kid` waits for a reload.
const UNKNOWN_KID_INTERVAL: Duration = Duration::from_secs(60);
/// How long a failed load answers for the requests behind it.
const FAILURE_MEMORY: Duration = Duration::from_secs(2);

/// The keys in force: one to sign with, all to verify with.
#[derive(Clone)]
pub struct KeySet {
    pub signing_kid: String,
    pub keys: HashMap<String, Vec<u8>>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("KeySet")
            .field("signing_kid", &self.signing_kid)
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeySet {
    /// Parses one secret version.
    pub fn parse_version(secret: &str) -> Result<(String, Vec<u8>), String> {
        #[derive(serde::Deserialize)]
        struct V {
            kid: String,
            key: String,
        }
        let v: V = serde_json::from_str(secret)
            .map_err(|_| "the secret must be JSON {\"kid\": ..., \"key\": ...}".to_string())?;
        if v.kid.is_empty() || v.kid.len() > 64 {
            return Err("the secret's kid must be 1 to 64 characters".into());
        }
        if v.key.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the secret's key must be at least {MIN_KEY_BYTES} bytes"
            ));
        }
        Ok((v.kid, v.key.into_bytes()))
    }
}

/// What the cache holds: the last good set, and when anything was last attempted.
#[derive(Default)]
struct Slot {
    keys: Option<Arc<KeySet>>,
    loaded_at: Option<Instant>,
    attempted_at: Option<Instant>,
    /// The last attempt's failure, while it is remembered.
    failed: Option<(Instant, String)>,
}

/// Loads and caches the key set. Cheap to clone: clones share one cache.
#[derive(Clone)]
pub struct KeyCache {
    inner: Arc<Inner>,
}

struct Inner {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    ttl: Duration,
    slot: RwLock<Slot>,
    /// Held by the one task that is loading; requests never wait on it while keys exist.
    loading: tokio::sync::Mutex<()>,
}

impl KeyCache {
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        secret_id: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                secret_id: secret_id.into(),
                ttl,
                slot: RwLock::new(Slot::default()),
                loading: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// A cache that never calls Secrets Manager (tests of token logic).
    pub fn fixed(client: aws_sdk_secretsmanager::Client, keys: KeySet) -> Self {
        let cache = Self::new(client, String::new(), Duration::MAX);
        let _ = cache.inner.store(Ok(keys));
        cache
    }

    /// The current key set: loaded on first use; once older than the TTL, reloaded in the
    /// background while requests go on with the set they have.
    pub async fn get(&self) -> Result<Arc<KeySet>, AppError> {
        let inner = &self.inner;
        let (keys, fresh, recently_tried) = {
            let slot = inner.read();
            (
                slot.keys.clone(),
                slot.loaded_at.is_some_and(|at| at.elapsed() < inner.ttl),
                slot.attempted_at
                    .is_some_and(|at| at.elapsed() < FAILURE_MEMORY),
            )
        };
        match keys {
            Some(k) => {
                if !fresh && !recently_tried && !inner.secret_id.is_empty() {
                    let cache = self.clone();
                    tokio::spawn(async move {
                        // A failed reload keeps the old set: verifiers still accept it as
                        // AWSPREVIOUS, and the next stale read tries again.
                        if let Ok(_guard) = cache.inner.loading.try_lock() {
                            // Another task may have reloaded between the read and the lock.
                            let done = cache
                                .inner
                                .read()
                                .loaded_at
                                .is_some_and(|at| at.elapsed() < cache.inner.ttl);
                            if !done {
                                let _ = cache.inner.reload().await;
                            }
                        }
                    });
                }
                Ok(k)
            }
            // Boxed: once per cold start, and the Secrets Manager call's future would
            // otherwise be part of every verification's.
            None => Box::pin(inner.load_cold()).await,
        }
    }

    /// For a token whose `kid` is not in the set: reloads at most once per interval, waiting
    /// only for its own reload (a real rotation needs the new key now), never for another's.
    pub async fn refresh_for_unknown_kid(&self) -> Result<Arc<KeySet>, AppError> {
        let inner = &self.inner;
        let current = self.get().await?;
        if inner.secret_id.is_empty() {
            return Ok(current);
        }
        let interval = UNKNOWN_KID_INTERVAL.min(inner.ttl);
        if inner
            .read()
            .attempted_at
            .is_some_and(|at| at.elapsed() < interval)
        {
            return Ok(current);
        }
        match inner.loading.try_lock() {
            Ok(_guard) => Ok(Box::pin(inner.reload()).await.unwrap_or(current)),
            Err(_) => Ok(current),
        }
    }
}

impl Inner {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Slot> {
        self.slot.read().unwrap_or_else(|p| p.into_inner())
    }

    fn store(&self, result: Result<KeySet, AppError>) -> Result<Arc<KeySet>, AppError> {
        let mut slot = self.slot.write().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        slot.attempted_at = Some(now);
        match result {
            Ok(keys) => {
                let keys = Arc::new(keys);
                slot.keys = Some(Arc::clone(&keys));
                slot.loaded_at = Some(now);
                slot.failed = None;
                Ok(keys)
            }
            Err(e) => {
                let why = match &e {
                    AppError::Unavailable(m) => m.clone(),
                    _ => "the JWT signing key could not be loaded".to_owned(),
                };
                slot.failed = Some((now, why));
                Err(e)
            }
        }
    }

    /// The first load: single-flight, and a recent failure answers at once.
    async fn load_cold(&self) -> Result<Arc<KeySet>, AppError> {
        let _guard = self.loading.lock().await;
        {
            let slot = self.read();
            if let Some(k) = &slot.keys {
                return Ok(Arc::clone(k));
            }
            if let Some((at, why)) = &slot.failed {
                if at.elapsed() < FAILURE_MEMORY {
                    return Err(AppError::Unavailable(why.clone()));
                }
            }
        }
        self.reload().await
    }

    async fn reload(&self) -> Result<Arc<KeySet>, AppError> {
        let loaded = self.load().await;
        if let Err(e) = &loaded {
            tracing::warn!(error = ?e, secret = %self.secret_id, "loading keys from Secrets Manager failed");
        }
        self.store(loaded)
    }

    async fn fetch(&self, stage: &str) -> Result<Option<String>, AppError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .version_stage(stage)
            .send()
            .await;
        match out {
            Ok(o) => Ok(o.secret_string),
            Err(e) => {
                use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
                if crate::aws::is_unavailable(&e) {
                    return Err(AppError::Unavailable(format!(
                        "secretsmanager: {}",
                        crate::aws::describe(&e)
                    )));
                }
                if stage == "AWSPREVIOUS" && e.code() == Some("ResourceNotFoundException") {
                    return Ok(None);
                }
                Err(AppError::Internal(format!(
                    "secretsmanager: {}: {}",
                    e.code().unwrap_or("unknown"),
                    e.message().unwrap_or_default()
                )))
            }
        }
    }

    async fn load(&self) -> Result<KeySet, AppError> {
        let (current, previous) = tokio::join!(self.fetch("AWSCURRENT"), self.fetch("AWSPREVIOUS"));
        let current = current?
            .ok_or_else(|| AppError::Internal(format!("{} has no string value", self.secret_id)))?;
        let (kid, key) = KeySet::parse_version(&current)
            .map_err(|e| AppError::Internal(format!("{}: {e}", self.secret_id)))?;
        let mut keys = HashMap::new();
        // A broken previous version only costs its tokens; the current one must be sound.
        if let Ok(Some(prev)) = previous {
            if let Ok((pkid, pkey)) = KeySet::parse_version(&prev) {
                keys.insert(pkid, pkey);
            }
        }
        keys.insert(kid.clone(), key);
        Ok(KeySet {
            signing_kid: kid,
            keys,
        })
    }
}
