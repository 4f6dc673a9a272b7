//! Refresh tokens and their families.
//!
//! Every login starts a family; each refresh marks the presented token used and issues its
//! successor in one transaction. Presenting a used token revokes the family, cutting off
//! whoever holds the newest token too (a stolen token and its legitimate twin cannot both live).
//!
//! Revoking every session of a user at once (disabling, a role change, a password change or
//! reset) is one attribute on the user item, not a write per family: `sessions_valid_after_ms`.
//! Family ids are UUIDv7s, so a family's start (epoch milliseconds) is part of its id, which is
//! in the signed refresh token; each rotation also checks, in its transaction, that the user
//! is enabled and the family started after that mark. Families with v4 ids (issued before this)
//! count as started at 0: any mark revokes them.

use super::item::{self, n, s, Entity, Item};
use super::{keys, put_new, Store, StoreError};
use crate::domain::audit::AuditEvent;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

/// A refresh token record, as written at login and on rotation.
#[derive(Clone, Debug, PartialEq)]
pub struct RefreshRecord {
    pub jti: String,
    pub family_id: String,
    pub user_id: String,
    /// Epoch seconds; also the item's TTL.
    pub expires_at: i64,
}

/// A refresh token (`RTOKEN#<jti>` / `RTOKEN`). Written unused; `rotate_refresh_token` sets
/// `used` and `used_at` in place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefreshTokenItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub family_id: String,
    pub user_id: String,
    pub used: bool,
    /// Epoch seconds the token was rotated at.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub used_at: Option<i64>,
    /// Epoch seconds; the table's TTL attribute.
    pub expires_at: i64,
}

impl From<&RefreshRecord> for RefreshTokenItem {
    fn from(r: &RefreshRecord) -> Self {
        Self {
            pk: keys::refresh_token_pk(&r.jti),
            sk: keys::RTOKEN_SK.to_owned(),
            entity: Entity::RefreshToken,
            family_id: r.family_id.clone(),
            user_id: r.user_id.clone(),
            used: false,
            used_at: None,
            expires_at: r.expires_at,
        }
    }
}

/// A token family (`RFAMILY#<id>` / `RFAMILY`): every rotation extends `expires_at`; revoking
/// sets `revoked_at` in place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenFamilyItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub user_id: String,
    /// Epoch seconds; the table's TTL attribute.
    pub expires_at: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub revoked_at: Option<i64>,
}

pub fn token_item(r: &RefreshRecord) -> Result<Item, StoreError> {
    item::to_item(&RefreshTokenItem::from(r))
}

pub fn family_item(family_id: &str, user_id: &str, expires_at: i64) -> Result<Item, StoreError> {
    item::to_item(&TokenFamilyItem {
        pk: keys::token_family_pk(family_id),
        sk: keys::RFAMILY_SK.to_owned(),
        entity: Entity::TokenFamily,
        user_id: user_id.to_owned(),
        expires_at,
        revoked_at: None,
    })
}

/// A new family id: a UUIDv7 stamped `started_ms` (epoch milliseconds).
pub fn new_family_id(started_ms: i64) -> String {
    let random: [u8; 10] = rand::random();
    uuid::Builder::from_unix_timestamp_millis(started_ms.max(0) as u64, &random)
        .into_uuid()
        .to_string()
}

/// When a family started (epoch milliseconds), from its id; 0 for ids that are not UUIDv7.
pub fn family_started_ms(family_id: &str) -> i64 {
    match uuid::Uuid::parse_str(family_id) {
        Ok(u) if u.get_version_num() == 7 => {
            let b = u.as_bytes();
            b[..6]
                .iter()
                .fold(0i64, |acc, x| (acc << 8) | i64::from(*x))
        }
        _ => 0,
    }
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
                family_item(&first.family_id, &first.user_id, first.expires_at)?,
            ),
            put_new(&self.table, token_item(first)?),
            super::audit::put(&self.table, audit)?,
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
        // The user is enabled and has not revoked this family's sessions since it started.
        let user_allows = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .key("PK", s(keys::user_pk(&next.user_id)))
            .key("SK", s(keys::USER_SK))
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(#disabled) OR #disabled = :false) \
                 AND (attribute_not_exists(#after) OR #after < :started)",
            )
            .expression_attribute_names("#disabled", "disabled")
            .expression_attribute_names("#after", "sessions_valid_after_ms")
            .expression_attribute_values(
                ":false",
                aws_sdk_dynamodb::types::AttributeValue::Bool(false),
            )
            .expression_attribute_values(":started", n(family_started_ms(&next.family_id)))
            .build()
            .expect("check has table, key and condition");
        let next_item = token_item(next).map_err(RotateError::Store)?;
        let audit_item = super::audit::put(&self.table, audit).map_err(RotateError::Store)?;
        let result = self
            .transact(vec![
                TransactWriteItem::builder().update(mark_used).build(),
                TransactWriteItem::builder().update(extend_family).build(),
                put_new(&self.table, next_item),
                audit_item,
                TransactWriteItem::builder()
                    .condition_check(user_allows)
                    .build(),
            ])
            .await;
        match result {
            Ok(()) => Ok(()),
            // Racing a change of the user item (not of the token) is no sign of reuse.
            Err(StoreError::Cancelled(r))
                if r.iter().position(|c| c == "TransactionConflict") == Some(4) =>
            {
                Err(RotateError::Store(StoreError::Unavailable(
                    "the user changed while the token was refreshed; retry".into(),
                )))
            }
            Err(e) if e.is_conflict() => Err(RotateError::Reused),
            Err(e) => match e.failed_condition_index() {
                Some(0) => {
                    // Used, or never existed/expired? Only a used token signals theft.
                    let stored = self
                        .get(keys::refresh_token_pk(old_jti), keys::RTOKEN_SK)
                        .await
                        .and_then(|it| it.map(item::from_item::<RefreshTokenItem>).transpose());
                    match stored {
                        Ok(Some(t)) if t.used => Err(RotateError::Reused),
                        Ok(_) => Err(RotateError::Unknown),
                        Err(e) => Err(RotateError::Store(e)),
                    }
                }
                Some(1) | Some(4) => Err(RotateError::Revoked),
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
            super::audit::put(&self.table, audit)?,
        ])
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_id_carries_its_start() {
        let id = new_family_id(1_800_000_000_123);
        assert_eq!(family_started_ms(&id), 1_800_000_000_123);
        assert_ne!(new_family_id(5), new_family_id(5));
        // v4 ids (families started before ids carried a time) count as started at 0.
        assert_eq!(family_started_ms(&uuid::Uuid::new_v4().to_string()), 0);
        assert_eq!(family_started_ms("not-a-uuid"), 0);
    }
}
