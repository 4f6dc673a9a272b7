//! Applying fixed-window limits: every check of a request runs concurrently, in one round trip.

use crate::config::RateLimit;
use crate::error::AppError;
use crate::store::Store;

/// One limit to count a request against.
pub struct Check<'a> {
    pub scope: &'static str,
    pub key: &'a str,
    pub limit: RateLimit,
}

/// Counts the request against every check at once; the first exhausted one is a 429.
pub async fn enforce(store: &Store, checks: &[Check<'_>]) -> Result<(), AppError> {
    let now = crate::time::now().timestamp();
    let results = futures::future::join_all(
        checks
            .iter()
            .map(|c| store.hit_rate_limit(c.scope, c.key, c.limit, now)),
    )
    .await;
    for r in results {
        let d = r?;
        if !d.allowed {
            return Err(AppError::RateLimited {
                limit: d.limit,
                reset_at: d.reset_at,
            });
        }
    }
    Ok(())
}

/// Rate-limit keys should be short and free of the separator; hash anything user-chosen.
pub fn key_of(raw: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(raw.as_bytes())[..16])
}
