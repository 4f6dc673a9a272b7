//! Refresh tokens and their families.
//!
//! Every login starts a family; each refresh marks the presented token used and issues its
//! successor in one transaction. Presenting a used token revokes the family, cutting off
//! whoever holds the newest token too (a stolen token and its legitimate twin cannot both live).

use super::item::{n, s, ItemBuilder};
use super::{keys, put_new, Store, StoreError};
use crate::domain::audit::AuditEvent;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

/// A refresh token record, as written at login and on rotation.
#[derive(Clone, Debug, PartialEq)]
pub struct RefreshRecord {
    pub jti: String,
    pub family_id: String,
    pub user_id: String,
    /// Epoch seconds; also the item's TTL.
    pub expires_at: i64,
}

pub fn token_item(r: &RefreshRecord) -> super::Item {
    ItemBuilder::new()
        .s("PK", keys::refresh_token_pk(&r.jti))
        .s("SK", keys::RTOKEN_SK)
        .s("entity", "refresh_token")
        .s("family_id", &r.family_id)
        .s("user_id", &r.user_id)
        .bool("used", false)
        .n("expires_at", r.expires_at)
        .build()
}

pub fn family_item(family_id: &str, user_id: &str, expires_at: i64) -> super::Item {
    ItemBuilder::new()
        .s("PK", keys::token_family_pk(family_id))
        .s("SK", keys::RFAMILY_SK)
        .s("entity", "token_family")
        .s("user_id", user_id)
        .n("expires_at", expires_at)
        .build()
}

/// Why a rotation was refused.
#[derive(Debug, PartialEq)]
pub enum RotateError {
    /// The presented token was already used (or is being used concurrently): reuse.
    Reused,
    /// The token is unknown or expired.
    Unknown,
    /// The token's family was revoked earlier.
    Revoked,
    Store(StoreError),
}

impl Store {
    /// Records a login: the new family, its first token and the audit event, atomically.
    pub async fn start_token_family(
        &self,
        first: &RefreshRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.transact(vec![
            put_new(
                &self.table,
                family_item(&first.family_id, &first.user_id, first.expires_at),
            ),
            put_new(&self.table, token_item(first)),
            super::audit::put(&self.table, audit),
        ])
        .await
    }

    /// Marks `old_jti` used and stores `next`, in one transaction, only if `old_jti` is unused and
    /// unexpired and its family is not revoked.
    pub async fn rotate_refresh_token(
        &self,
        old_jti: &str,
        next: &RefreshRecord,
        now: i64,
        audit: &AuditEvent,
    ) -> Result<(), RotateError> {
        let mark_used = Update::builder()
            .table_name(&self.table)
            .key("PK", s(keys::refresh_token_pk(old_jti)))
            .key("SK", s(keys::RTOKEN_SK))
            .update_expression("SET used = :true, used_at = :now")
            .condition_expression(
                "attribute_exists(PK) AND used = :false AND expires_at > :now AND family_id = :fam",
            )
            .expression_attribute_values(
                ":true",
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            )
            .expression_attribute_values(
                ":false",
                aws_sdk_dynamodb::types::AttributeValue::Bool(false),
            )
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":fam", s(&next.family_id))
            .build()
            .expect("update has table, key and expression");
        let extend_family = Update::builder()
            .table_name(&self.table)
            .key("PK", s(keys::token_family_pk(&next.family_id)))
            .key("SK", s(keys::RFAMILY_SK))
            .update_expression("SET expires_at = :exp")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(revoked_at)")
            .expression_attribute_values(":exp", n(next.expires_at))
            .build()
            .expect("update has table, key and expression");
        let result = self
            .transact(vec![
                TransactWriteItem::builder().update(mark_used).build(),
                TransactWriteItem::builder().update(extend_family).build(),
                put_new(&self.table, token_item(next)),
                super::audit::put(&self.table, audit),
            ])
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.is_conflict() => Err(RotateError::Reused),
            Err(e) => match e.failed_condition_index() {
                Some(0) => {
                    // Used, or never existed/expired? Only a used token signals theft.
                    match self
                        .get(keys::refresh_token_pk(old_jti), keys::RTOKEN_SK)
                        .await
                    {
                        Ok(Some(it)) if super::item::get_bool(&it, "used").unwrap_or(false) => {
                            Err(RotateError::Reused)
                        }
                        Ok(_) => Err(RotateError::Unknown),
                        Err(e) => Err(RotateError::Store(e)),
                    }
                }
                Some(1) => Err(RotateError::Revoked),
                _ => Err(RotateError::Store(e)),
            },
        }
    }

    /// Revokes a family (idempotently) and records why, atomically.
    pub async fn revoke_token_family(
        &self,
        family_id: &str,
        now: i64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let revoke = Update::builder()
            .table_name(&self.table)
            .key("PK", s(keys::token_family_pk(family_id)))
            .key("SK", s(keys::RFAMILY_SK))
            .update_expression("SET revoked_at = if_not_exists(revoked_at, :now)")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", n(now))
            .build()
            .expect("update has table, key and expression");
        self.transact(vec![
            TransactWriteItem::builder().update(revoke).build(),
            super::audit::put(&self.table, audit),
        ])
        .await
    }
}
