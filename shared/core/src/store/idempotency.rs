//! Idempotency records: what a write request sent with an `Idempotency-Key` did, kept 24 hours
//! so a retry gets the original answer instead of repeating the change (routes/idempotency.rs).
//!
//! The record is written inside the request's own state-change transaction (`Store::transact`
//! appends it), so "the change happened" and "the key is spent" are one fact: a change whose
//! answer was lost to a timeout (a 503 the client saw) still left its record. The answer itself
//! is added right after the transaction; if that write is what got lost, the record still names
//! the change's target and the route re-renders it.

use super::item::{self, n, s, Entity, Item};
use super::{keys, sdk_error, Store, StoreError};
use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// How long a key is remembered.
pub const RETENTION_SECONDS: i64 = 24 * 3600;

/// `IDEMP#<principal>#<sha256(key)>` / `IDEMP`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    /// SHA-256 of method, path and body: the same key with another request is refused.
    pub fingerprint: String,
    /// The target of the audit event written with the change (the tool id, ...).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_id: Option<String>,
    /// The answer, once recorded.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub body: Option<String>,
    /// Response headers worth replaying (content type, location, etag), as JSON text.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub headers: Option<String>,
    pub created_at: i64,
    /// Epoch seconds; the table's TTL attribute (reads check it: expiry is not on time).
    pub expires_at: i64,
}

impl IdempotencyItem {
    pub fn new(principal: &str, key: &str, fingerprint: String, now: i64) -> Self {
        Self {
            pk: keys::idempotency_pk(principal, key),
            sk: keys::IDEMPOTENCY_SK.to_owned(),
            entity: Entity::Idempotency,
            fingerprint,
            target_id: None,
            status: None,
            body: None,
            headers: None,
            created_at: now,
            expires_at: now + RETENTION_SECONDS,
        }
    }
}

tokio::task_local! {
    /// The record the current request's first transaction must carry, if any.
    static PENDING: Mutex<Option<IdempotencyItem>>;
}

/// Runs `f` (a request's handler) so that its first transaction also writes `record`.
/// Returns the handler's output and whether a transaction took the record.
pub async fn with_pending<F: std::future::Future>(
    record: IdempotencyItem,
    f: F,
) -> (F::Output, bool) {
    PENDING
        .scope(Mutex::new(Some(record)), async {
            let out = f.await;
            let taken = PENDING
                .try_with(|p| p.lock().map(|g| g.is_none()).unwrap_or(false))
                .unwrap_or(false);
            (out, taken)
        })
        .await
}

/// The pending record, for the transaction about to be sent (taken once per request).
pub(crate) fn take_pending() -> Option<IdempotencyItem> {
    PENDING
        .try_with(|p| p.lock().ok().and_then(|mut g| g.take()))
        .ok()
        .flatten()
}

/// Puts the pending record back when its transaction did not land.
pub(crate) fn restore_pending(record: IdempotencyItem) {
    let _ = PENDING.try_with(|p| {
        if let Ok(mut g) = p.lock() {
            *g = Some(record);
        }
    });
}

/// The transaction item writing `record`, naming the target of the audit event among `items`.
/// Fails the transaction if a live record with this key exists (a concurrent duplicate).
pub(crate) fn put_in(
    table: &str,
    mut record: IdempotencyItem,
    items: &[TransactWriteItem],
    now: i64,
) -> Result<TransactWriteItem, StoreError> {
    record.target_id = items.iter().find_map(|t| {
        let it = t.put()?.item();
        let is_audit = it.get("entity").and_then(|v| v.as_s().ok())? == "audit_event";
        is_audit
            .then(|| it.get("target_id").and_then(|v| v.as_s().ok()).cloned())
            .flatten()
    });
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(item::to_item(&record)?))
        .condition_expression("attribute_not_exists(PK) OR expires_at < :now")
        .expression_attribute_values(":now", n(now))
        .build()
        .map_err(|e| StoreError::Other(format!("idempotency put: {e}")))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl Store {
    /// The live record for `principal`'s `key`, if any.
    pub async fn get_idempotency(
        &self,
        principal: &str,
        key: &str,
        now: i64,
    ) -> Result<Option<IdempotencyItem>, StoreError> {
        let found = self
            .get(keys::idempotency_pk(principal, key), keys::IDEMPOTENCY_SK)
            .await?;
        match found {
            Some(it) => {
                let record: IdempotencyItem = item::from_item(it)?;
                record.entity.require(Entity::Idempotency)?;
                Ok(Some(record).filter(|r| r.expires_at >= now))
            }
            None => Ok(None),
        }
    }

    /// Adds the answer to a record its transaction wrote.
    pub async fn record_idempotent_answer(
        &self,
        record: &IdempotencyItem,
        status: u16,
        body: String,
        headers: String,
    ) -> Result<(), StoreError> {
        let mut key = Item::new();
        key.insert("PK".into(), s(&record.pk));
        key.insert("SK".into(), s(&record.sk));
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("SET #status = :status, #body = :body, #headers = :headers")
            .condition_expression("attribute_exists(PK) AND fingerprint = :fp")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#body", "body")
            .expression_attribute_names("#headers", "headers")
            .expression_attribute_values(":status", n(status))
            .expression_attribute_values(":body", s(body))
            .expression_attribute_values(":headers", s(headers))
            .expression_attribute_values(":fp", s(&record.fingerprint))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }
}
