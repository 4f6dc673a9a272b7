//! TOTP authenticators (`USER#<id>` / `MFA#TOTP`) and MFA tokens (`MFATOKEN#<sha256>` /
//! `MFATOKEN`), and the transactions that use them.
//!
//! Replay protection: the authenticator item keeps `last_step`, the newest time step a code was
//! accepted for. Every write a code authorises (confirmation, finishing a login, elevation,
//! removal) sets it in the same transaction, conditional on the stored value being older, so
//! two requests racing with the same code cannot both win, and no separate "used code" item is
//! needed (nothing to expire, nothing to read first: the value read for the KMS unwrap is
//! enough). It also refuses codes of earlier steps, as RFC 6238 §5.2 asks.
//!
//! The transactions name their items by position; the services read a failed condition's
//! index (see each function) to tell a spent token from a replayed code.

use super::item::{self, n, s, Entity, Item};
use super::tokens::RefreshRecord;
use super::{keys, put_new, Store, StoreError};
use crate::domain::audit::AuditEvent;
use crate::domain::mfa::{MfaToken, Totp, TotpStatus, MFA_TOKEN_MAX_ATTEMPTS};
use crate::domain::tool::SealedHeaders;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

/// A TOTP authenticator as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TotpItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub user_id: String,
    pub enrolment_id: String,
    pub status: TotpStatus,
    /// The KMS envelope of the secret (see `crypto::envelope`), stored as binary.
    #[serde(with = "serde_bytes")]
    pub secret_key: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub secret_nonce: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub secret_ciphertext: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_step: Option<i64>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
    /// TTL of a pending enrolment; removed on confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl From<&Totp> for TotpItem {
    fn from(t: &Totp) -> Self {
        Self {
            pk: keys::user_pk(&t.user_id),
            sk: keys::TOTP_SK.to_owned(),
            entity: Entity::Totp,
            user_id: t.user_id.clone(),
            enrolment_id: t.enrolment_id.clone(),
            status: t.status,
            secret_key: t.sealed_secret.wrapped_key.clone(),
            secret_nonce: t.sealed_secret.nonce.clone(),
            secret_ciphertext: t.sealed_secret.ciphertext.clone(),
            last_step: t.last_step,
            created_at: t.created_at.clone(),
            confirmed_at: t.confirmed_at.clone(),
            expires_at: t.expires_at,
        }
    }
}

impl TryFrom<TotpItem> for Totp {
    type Error = StoreError;

    fn try_from(it: TotpItem) -> Result<Self, StoreError> {
        it.entity.require(Entity::Totp)?;
        Ok(Totp {
            user_id: it.user_id,
            enrolment_id: it.enrolment_id,
            status: it.status,
            sealed_secret: SealedHeaders {
                wrapped_key: it.secret_key,
                nonce: it.secret_nonce,
                ciphertext: it.secret_ciphertext,
            },
            last_step: it.last_step,
            created_at: it.created_at,
            confirmed_at: it.confirmed_at,
            expires_at: it.expires_at,
        })
    }
}

pub fn totp_item(t: &Totp) -> Result<Item, StoreError> {
    item::to_item(&TotpItem::from(t))
}

pub fn totp_from_item(it: Item) -> Result<Totp, StoreError> {
    item::from_item::<TotpItem>(it)?.try_into()
}

/// An MFA token as stored: the hash of the token is its key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MfaTokenItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub user_id: String,
    /// Epoch seconds; the table's TTL attribute (and checked on every read and use).
    pub expires_at: i64,
    /// Codes tried so far (see [`Store::count_mfa_attempt`]).
    #[serde(default)]
    pub attempts: u32,
}

pub fn mfa_token_item(token: &str, t: &MfaToken) -> Result<Item, StoreError> {
    item::to_item(&MfaTokenItem {
        pk: keys::mfa_token_pk(token),
        sk: keys::MFA_TOKEN_SK.to_owned(),
        entity: Entity::MfaToken,
        user_id: t.user_id.clone(),
        expires_at: t.expires_at,
        attempts: t.attempts,
    })
}

pub fn mfa_token_from_item(it: Item) -> Result<MfaToken, StoreError> {
    let it: MfaTokenItem = item::from_item(it)?;
    it.entity.require(Entity::MfaToken)?;
    Ok(MfaToken {
        user_id: it.user_id,
        expires_at: it.expires_at,
        attempts: it.attempts,
    })
}

/// The condition under which a code of step `:step` may be spent on an active authenticator.
const STEP_IS_NEW: &str =
    "#status = :active AND (attribute_not_exists(last_step) OR last_step < :step)";

/// The user exists and is enabled.
const USER_ENABLED: &str =
    "attribute_exists(PK) AND (attribute_not_exists(#disabled) OR #disabled = :false)";

/// The user has no confirmed authenticator (what a password-only login relies on).
const NO_TOTP: &str =
    "attribute_exists(PK) AND (attribute_not_exists(totp_enabled) OR totp_enabled = :false)";

fn tx_update(u: Update) -> TransactWriteItem {
    TransactWriteItem::builder().update(u).build()
}

impl Store {
    fn spend_step(&self, user_id: &str, step: i64) -> TransactWriteItem {
        tx_update(
            Update::builder()
                .table_name(&self.table)
                .key("PK", s(keys::user_pk(user_id)))
                .key("SK", s(keys::TOTP_SK))
                .update_expression("SET last_step = :step")
                .condition_expression(STEP_IS_NEW)
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":active", s("active"))
                .expression_attribute_values(":step", n(step))
                .build()
                .expect("update has table, key and expression"),
        )
    }

    fn session_items(&self, first: &RefreshRecord) -> Result<Vec<TransactWriteItem>, StoreError> {
        Ok(vec![
            put_new(
                &self.table,
                super::tokens::family_item(&first.family_id, &first.user_id, first.expires_at)?,
            ),
            put_new(&self.table, super::tokens::token_item(first)?),
        ])
    }

    /// The user's authenticator, pending or active (a strongly consistent read). Pending ones
    /// past their `expires_at` are returned as stored: the caller checks the time.
    pub async fn get_totp(&self, user_id: &str) -> Result<Option<Totp>, StoreError> {
        self.get(keys::user_pk(user_id), keys::TOTP_SK)
            .await?
            .map(totp_from_item)
            .transpose()
    }

    /// Stores a pending enrolment in place of none or another pending one. Fails at index 0
    /// when an active authenticator exists, at index 1 when the user is gone or disabled.
    pub async fn put_totp_enrolment(&self, t: &Totp, audit: &AuditEvent) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::Put;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(totp_item(t)?))
            .condition_expression("attribute_not_exists(PK) OR #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .build()
            .expect("table, item and condition are set");
        let user = ConditionCheck::builder()
            .table_name(&self.table)
            .key("PK", s(keys::user_pk(&t.user_id)))
            .key("SK", s(keys::USER_SK))
            .condition_expression(USER_ENABLED)
            .expression_attribute_names("#disabled", "disabled")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .build()
            .expect("check has table, key and condition");
        self.transact(vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().condition_check(user).build(),
            super::audit::put(&self.table, audit)?,
        ])
        .await
    }

    /// Activates the pending enrolment `enrolment_id` with the code of `step`, marks the user
    /// (`totp_enabled`, a new version) and starts the session `first`, in one transaction.
    /// Fails at index 0 when that enrolment is no longer pending (confirmed meanwhile, replaced
    /// or lapsed), at index 1 when the user is gone or disabled.
    pub async fn confirm_totp(
        &self,
        user_id: &str,
        enrolment_id: &str,
        step: i64,
        now: i64,
        first: &RefreshRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let stamp = crate::time::stamp(crate::time::now());
        let activate = Update::builder()
            .table_name(&self.table)
            .key("PK", s(keys::user_pk(user_id)))
            .key("SK", s(keys::TOTP_SK))
            .update_expression(
                "SET #status = :active, last_step = :step, confirmed_at = :at REMOVE expires_at",
            )
            .condition_expression(
                "#status = :pending AND enrolment_id = :eid AND expires_at > :now",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s("active"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":eid", s(enrolment_id))
            .expression_attribute_values(":step", n(step))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":at", s(&stamp))
            .build()
            .expect("update has table, key and expression");
        let mark_user = Update::builder()
            .table_name(&self.table)
            .key("PK", s(keys::user_pk(user_id)))
            .key("SK", s(keys::USER_SK))
            .update_expression(
                "SET totp_enabled = :true, #version = if_not_exists(#version, :one) + :one, \
                 updated_at = :at",
            )
            .condition_expression(USER_ENABLED)
            .expression_attribute_names("#disabled", "disabled")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":at", s(&stamp))
            .build()
            .expect("update has table, key and expression");
        let mut items = vec![tx_update(activate), tx_update(mark_user)];
        items.extend(self.session_items(first)?);
        items.push(super::audit::put(&self.table, audit)?);
        self.transact(items).await
    }

    /// Deletes the authenticator, clears the user's mark and revokes every session of the user
    /// (`sessions_valid_after_ms`), in one transaction. With `Some(step)` (the user's own
    /// removal) the authenticator must be active and the code's step new, and is spent; with
    /// `None` (an admin's reset) any authenticator, pending or active, goes. Fails at index 0
    /// when the step was spent meanwhile or the authenticator is gone.
    pub async fn remove_totp(
        &self,
        user_id: &str,
        step: Option<i64>,
        now_ms: i64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let stamp = crate::time::stamp(crate::time::now());
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("PK", s(keys::user_pk(user_id)))
            .key("SK", s(keys::TOTP_SK));
        let delete = match step {
            Some(step) => delete
                .condition_expression(STEP_IS_NEW)
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":active", s("active"))
                .expression_attribute_values(":step", n(step)),
            None => delete.condition_expression("attribute_exists(PK)"),
        }
        .build()
        .expect("delete has table, key and condition");
        let unmark_user = Update::builder()
            .table_name(&self.table)
            .key("PK", s(keys::user_pk(user_id)))
            .key("SK", s(keys::USER_SK))
            .update_expression(
                "REMOVE totp_enabled SET sessions_valid_after_ms = :ms, \
                 #version = if_not_exists(#version, :one) + :one, updated_at = :at",
            )
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":ms", n(now_ms))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":at", s(&stamp))
            .build()
            .expect("update has table, key and expression");
        self.transact(vec![
            TransactWriteItem::builder().delete(delete).build(),
            tx_update(unmark_user),
            super::audit::put(&self.table, audit)?,
        ])
        .await
    }

    /// Spends a code of `step` (elevation), with its audit event. Fails at index 0 when the
    /// step was spent meanwhile or the authenticator is no longer active.
    pub async fn spend_totp_step(
        &self,
        user_id: &str,
        step: i64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.transact(vec![
            self.spend_step(user_id, step),
            super::audit::put(&self.table, audit)?,
        ])
        .await
    }

    /// Stores a new MFA token with its audit event.
    pub async fn put_mfa_token(
        &self,
        token: &str,
        t: &MfaToken,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.transact(vec![
            put_new(&self.table, mfa_token_item(token, t)?),
            super::audit::put(&self.table, audit)?,
        ])
        .await
    }

    /// The MFA token's state (a strongly consistent read), expired or not: the caller checks.
    pub async fn get_mfa_token(&self, token: &str) -> Result<Option<MfaToken>, StoreError> {
        self.get(keys::mfa_token_pk(token), keys::MFA_TOKEN_SK)
            .await?
            .map(mfa_token_from_item)
            .transpose()
    }

    /// Counts one code attempt against the MFA token before the code is looked at, atomically:
    /// the increment happens only while the token exists, belongs to `user_id`, is unexpired at
    /// `now` and has attempts left, so however many requests race, at most
    /// [`MFA_TOKEN_MAX_ATTEMPTS`] are counted (and so checked). `false`: not counted (a made-up,
    /// foreign, spent, lapsed or exhausted token); nothing was written then.
    pub async fn count_mfa_attempt(
        &self,
        token: &str,
        user_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(keys::mfa_token_pk(token)))
            .key("SK", s(keys::MFA_TOKEN_SK))
            .update_expression("ADD attempts :one")
            .condition_expression(
                "attribute_exists(PK) AND user_id = :uid AND expires_at > :now \
                 AND (attribute_not_exists(attempts) OR attempts < :max)",
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":uid", s(user_id))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":max", n(MFA_TOKEN_MAX_ATTEMPTS))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => match super::sdk_error(e) {
                StoreError::ConditionFailed => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Finishes a login: consumes the MFA token (single use, unexpired at `now`; its attempt
    /// was counted before the code was checked, so the attempt bound needs no second look),
    /// spends the code's step and starts the session, in one transaction. Fails at index 0 when
    /// the token was spent meanwhile, at index 1 when the step was spent meanwhile (a replay).
    pub async fn finish_mfa_login(
        &self,
        token: &str,
        user_id: &str,
        step: i64,
        now: i64,
        first: &RefreshRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let consume = Delete::builder()
            .table_name(&self.table)
            .key("PK", s(keys::mfa_token_pk(token)))
            .key("SK", s(keys::MFA_TOKEN_SK))
            .condition_expression("attribute_exists(PK) AND user_id = :uid AND expires_at > :now")
            .expression_attribute_values(":uid", s(user_id))
            .expression_attribute_values(":now", n(now))
            .build()
            .expect("delete has table, key and condition");
        let mut items = vec![
            TransactWriteItem::builder().delete(consume).build(),
            self.spend_step(user_id, step),
        ];
        items.extend(self.session_items(first)?);
        items.push(super::audit::put(&self.table, audit)?);
        self.transact(items).await
    }

    /// A password-only login: starts the session `first` with its audit events, on condition
    /// that the user still has no confirmed authenticator (the login read the user from an
    /// eventually consistent index). `contexts`, when given, replaces the user's remembered
    /// login contexts in the same write. Fails at index 2 when the user has TOTP by now.
    pub async fn start_password_session(
        &self,
        first: &RefreshRecord,
        contexts: Option<&[String]>,
        audits: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let mut items = self.session_items(first)?;
        let pk = s(keys::user_pk(&first.user_id));
        items.push(match contexts {
            Some(list) => tx_update(
                Update::builder()
                    .table_name(&self.table)
                    .key("PK", pk)
                    .key("SK", s(keys::USER_SK))
                    .update_expression("SET login_contexts = :list")
                    .condition_expression(NO_TOTP)
                    .expression_attribute_values(":false", AttributeValue::Bool(false))
                    .expression_attribute_values(
                        ":list",
                        AttributeValue::L(list.iter().map(|h| s(h.as_str())).collect()),
                    )
                    .build()
                    .expect("update has table, key and expression"),
            ),
            None => TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(&self.table)
                        .key("PK", pk)
                        .key("SK", s(keys::USER_SK))
                        .condition_expression(NO_TOTP)
                        .expression_attribute_values(":false", AttributeValue::Bool(false))
                        .build()
                        .expect("check has table, key and condition"),
                )
                .build(),
        });
        for a in audits {
            items.push(super::audit::put(&self.table, a)?);
        }
        self.transact(items).await
    }
}
