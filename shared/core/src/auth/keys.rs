//! The JWT signing keys, read from Secrets Manager.
//!
//! The secret holds `{"kid": "...", "key": "..."}`. Tokens are signed with the `AWSCURRENT`
//! version and verified against it and `AWSPREVIOUS`, so rotating the secret (putting a new
//! version) does not cut off tokens signed a moment earlier. Keys are cached per cold start; a
//! token with an unknown `kid` triggers at most one reload a minute, so a fresh key reaches warm
//! functions without a redeploy.

use crate::error::AppError;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const MIN_KEY_BYTES: usize = 32;
const RELOAD_INTERVAL: Duration = Duration::from_secs(60);

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
            .map_err(|_| "the JWT secret must be JSON {\"kid\": ..., \"key\": ...}".to_string())?;
        if v.kid.is_empty() || v.kid.len() > 64 {
            return Err("the JWT secret's kid must be 1 to 64 characters".into());
        }
        if v.key.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the JWT secret's key must be at least {MIN_KEY_BYTES} bytes"
            ));
        }
        Ok((v.kid, v.key.into_bytes()))
    }
}

/// Loads and caches the key set.
pub struct KeyCache {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    state: Mutex<(Option<Arc<KeySet>>, Option<Instant>)>,
}

impl KeyCache {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
            state: Mutex::new((None, None)),
        }
    }

    /// A cache that never calls Secrets Manager (tests of token logic).
    pub fn fixed(client: aws_sdk_secretsmanager::Client, keys: KeySet) -> Self {
        Self {
            client,
            secret_id: String::new(),
            state: Mutex::new((Some(Arc::new(keys)), Some(Instant::now()))),
        }
    }

    /// The current key set, loading it on first use.
    pub async fn get(&self) -> Result<Arc<KeySet>, AppError> {
        let mut st = self.state.lock().await;
        if let Some(k) = &st.0 {
            return Ok(Arc::clone(k));
        }
        let loaded = Arc::new(self.load().await?);
        *st = (Some(Arc::clone(&loaded)), Some(Instant::now()));
        Ok(loaded)
    }

    /// Reloads if the last load is older than a minute; returns the (possibly new) set.
    pub async fn refresh_for_unknown_kid(&self) -> Result<Arc<KeySet>, AppError> {
        let mut st = self.state.lock().await;
        if let (Some(k), Some(at)) = (&st.0, st.1) {
            if at.elapsed() < RELOAD_INTERVAL || self.secret_id.is_empty() {
                return Ok(Arc::clone(k));
            }
        }
        let loaded = Arc::new(self.load().await?);
        *st = (Some(Arc::clone(&loaded)), Some(Instant::now()));
        Ok(loaded)
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
                    return Err(AppError::Unavailable(format!("secretsmanager: {e:?}")));
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
            .ok_or_else(|| AppError::Internal("the JWT secret has no string value".into()))?;
        let (kid, key) = KeySet::parse_version(&current).map_err(AppError::Internal)?;
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
