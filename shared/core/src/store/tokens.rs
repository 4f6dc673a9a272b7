//! Refresh tokens and their families.
//!
//! Every login starts a family; each refresh marks the presented token used and issues its
//! successor in one transaction. Presenting a used token revokes the family, cutting off
//! whoever holds the newest token too (a stolen token and its legitimate twin cannot both live).

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
        let next_item = token_item(next).map_err(RotateError::Store)?;
        let audit_item = super::audit::put(&self.table, audit).map_err(RotateError::Store)?;
        let result = self
            .transact(vec![
                TransactWriteItem::builder().update(mark_used).build(),
                TransactWriteItem::builder().update(extend_family).build(),
                put_new(&self.table, next_item),
                audit_item,
            ])
            .await;
        match result {
            Ok(()) => Ok(()),
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
            super::audit::put(&self.table, audit)?,
        ])
        .await
    }
}
