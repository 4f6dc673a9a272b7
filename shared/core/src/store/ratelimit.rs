//! Fixed-window rate-limit counters: one conditional `UpdateItem` per check.

use super::item::{self, n, s};
use super::{keys, sdk_error, Store, StoreError};
use crate::config::RateLimit;
use serde::{Deserialize, Serialize};

/// A fixed-window counter (`RL#<scope>#<key>#<window start>` / `RL`). Never written whole: the
/// conditional `ADD` in [`Store::hit_rate_limit`] creates and counts it, and returns it as this.
/// It carries no `entity` attribute, as counters never had one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateCounterItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(default)]
    pub count: u32,
    /// Epoch seconds; the table's TTL attribute.
    pub expires_at: i64,
    /// Set by the first refusal of the window whose audit event was written.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refusal_audited: Option<bool>,
}

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
            // The whole counter comes back, so it decodes as the item it is.
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let counter: RateCounterItem = item::from_item(out.attributes.unwrap_or_default())?;
                Ok(RateDecision {
                    allowed: true,
                    limit: limit.limit,
                    remaining: limit.limit.saturating_sub(counter.count),
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

    /// Reads `key`'s count in the current window without counting: for limits that count only
    /// some outcomes (failed passwords) but refuse every request once exhausted.
    pub async fn peek_rate_limit(
        &self,
        scope: &str,
        key: &str,
        limit: RateLimit,
        now: i64,
    ) -> Result<RateDecision, StoreError> {
        let (start, end) = window(now, limit.window_secs);
        let stored = self
            .get(keys::rate_counter_pk(scope, key, start), keys::RATE_SK)
            .await?;
        let count = match stored {
            Some(it) => item::from_item::<RateCounterItem>(it)?.count,
            None => 0,
        };
        Ok(RateDecision {
            allowed: count < limit.limit,
            limit: limit.limit,
            remaining: limit.limit.saturating_sub(count),
            reset_at: end,
        })
    }

    /// Records `event` for the first refusal of `key`'s current window only, in one
    /// transaction with a mark on the counter: a flood of refused requests writes one audit
    /// event per window, never one each. Returns whether this call recorded it.
    pub async fn audit_first_refusal(
        &self,
        scope: &str,
        key: &str,
        limit: RateLimit,
        now: i64,
        event: &crate::domain::audit::AuditEvent,
    ) -> Result<bool, StoreError> {
        let (start, end) = window(now, limit.window_secs);
        let mark = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .key("PK", s(keys::rate_counter_pk(scope, key, start)))
            .key("SK", s(keys::RATE_SK))
            .update_expression("SET #audited = :t, #exp = if_not_exists(#exp, :exp)")
            .condition_expression("attribute_not_exists(#audited)")
            .expression_attribute_names("#audited", "refusal_audited")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .expression_attribute_values(":exp", n(end + 60))
            .build()
            .expect("table, key and expression are set");
        let items = vec![
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .update(mark)
                .build(),
            super::audit::put(&self.table, event)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(e) if e.failed_condition_index() == Some(0) => Ok(false),
            Err(e) => Err(e),
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
