//! Fixed-window rate-limit counters: one conditional `UpdateItem` per check.

use super::item::{n, s};
use super::{keys, sdk_error, Store, StoreError};
use crate::config::RateLimit;

/// The result of counting one request against a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds when the current window ends.
    pub reset_at: i64,
}

/// Where `now` falls: the window's start and end (epoch seconds).
pub fn window(now: i64, window_secs: u64) -> (i64, i64) {
    let w = window_secs as i64;
    let start = now - now.rem_euclid(w);
    (start, start + w)
}

impl Store {
    /// Counts one hit for `key` in `scope` under `limit`, atomically: the increment happens only
    /// while the count is below the limit, so concurrent callers can never exceed it.
    pub async fn hit_rate_limit(
        &self,
        scope: &str,
        key: &str,
        limit: RateLimit,
        now: i64,
    ) -> Result<RateDecision, StoreError> {
        let (start, end) = window(now, limit.window_secs);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(keys::rate_counter_pk(scope, key, start)))
            .key("SK", s(keys::RATE_SK))
            .update_expression("ADD #count :one SET #exp = :exp")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit.limit))
            // Kept a minute past the window so clock skew between functions cannot resurrect it.
            .expression_attribute_values(":exp", n(end + 60))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let count: u32 = out
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get("count"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(limit.limit);
                Ok(RateDecision {
                    allowed: true,
                    limit: limit.limit,
                    remaining: limit.limit.saturating_sub(count),
                    reset_at: end,
                })
            }
            Err(e) => match sdk_error(e) {
                StoreError::ConditionFailed => Ok(RateDecision {
                    allowed: false,
                    limit: limit.limit,
                    remaining: 0,
                    reset_at: end,
                }),
                other => Err(other),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_to_their_length() {
        assert_eq!(window(125, 60), (120, 180));
        assert_eq!(window(120, 60), (120, 180));
        assert_eq!(window(899, 900), (0, 900));
    }
}
