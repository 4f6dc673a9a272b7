//! Policy versions and the head item that names the latest and the active one.
//!
//! All live in the `POLICIES` partition (a handful of versions, read rarely): `V#<version>` per
//! version and `HEAD`. A version is created in one transaction with its SHA-256 guard (one
//! document, one version), the head's `latest_version` bump and the audit event; activation moves
//! the head's active pointer in one transaction with a check that the version exists and the
//! audit event.

use super::cursor::Must;
use super::item::{self, Entity};
use super::{keys, put_new, Store, StoreError};
use crate::domain::audit::AuditEvent;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

/// A stored policy version: the canonical document and what was said about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersionItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub version: u64,
    pub sha256: String,
    /// The canonical JSON document.
    pub document: String,
    pub rule_count: u64,
    /// JSON array of `{pointer, message}` warnings found when it was stored.
    pub warnings: String,
    pub created_at: String,
    pub created_by: String,
}

/// Which version is latest and which is active.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyHeadItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Option<Entity>,
    #[serde(default)]
    pub latest_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_by: Option<String>,
}

/// Claims a document hash for one version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyShaGuardItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub version: u64,
}

/// Why a version was not stored.
#[derive(Debug)]
pub enum PolicyWriteError {
    /// Another version was stored meanwhile: read the head again.
    Stale,
    /// This document is already stored, as this version.
    Exists,
    /// The version to activate does not exist.
    NoSuchVersion,
    Store(StoreError),
}

impl From<StoreError> for PolicyWriteError {
    fn from(e: StoreError) -> Self {
        PolicyWriteError::Store(e)
    }
}

fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("cannot build a request: {e}"))
}

/// A page of versions, newest first.
#[derive(Debug)]
pub struct VersionPage {
    pub items: Vec<PolicyVersionItem>,
    pub next_cursor: Option<String>,
}

impl Store {
    /// The head item (none before the first version).
    pub async fn get_policy_head(&self) -> Result<Option<PolicyHeadItem>, StoreError> {
        self.get(keys::POLICIES_PK.to_owned(), keys::POLICY_HEAD_SK)
            .await?
            .map(item::from_item)
            .transpose()
    }

    pub async fn get_policy_version(
        &self,
        version: u64,
    ) -> Result<Option<PolicyVersionItem>, StoreError> {
        let it = self
            .get(
                keys::POLICIES_PK.to_owned(),
                &keys::policy_version_sk(version),
            )
            .await?;
        let v: Option<PolicyVersionItem> = it.map(item::from_item).transpose()?;
        if let Some(v) = &v {
            v.entity.require(Entity::PolicyVersion)?;
        }
        Ok(v)
    }

    /// The version a document hash is stored as, if any.
    pub async fn policy_version_of(&self, sha256: &str) -> Result<Option<u64>, StoreError> {
        let it = self
            .get(keys::policy_sha_guard_pk(sha256), keys::UNIQUE_SK)
            .await?;
        Ok(it
            .map(item::from_item::<PolicyShaGuardItem>)
            .transpose()?
            .map(|g| g.version))
    }

    /// Stores `v` as version `latest_seen + 1`, with its hash guard and audit event.
    pub async fn create_policy_version(
        &self,
        v: &PolicyVersionItem,
        latest_seen: u64,
        audit: &AuditEvent,
    ) -> Result<(), PolicyWriteError> {
        let head = Update::builder()
            .table_name(&self.table)
            .key("PK", item::s(keys::POLICIES_PK))
            .key("SK", item::s(keys::POLICY_HEAD_SK))
            .update_expression("SET latest_version = :v, entity = :entity")
            .condition_expression("attribute_not_exists(PK) OR latest_version = :seen")
            .expression_attribute_values(":v", item::n(v.version))
            .expression_attribute_values(":seen", item::n(latest_seen))
            .expression_attribute_values(":entity", item::s("policy_head"))
            .build()
            .map_err(build_error)?;
        let guard = PolicyShaGuardItem {
            pk: keys::policy_sha_guard_pk(&v.sha256),
            sk: keys::UNIQUE_SK.to_owned(),
            entity: Entity::PolicyShaGuard,
            version: v.version,
        };
        let items = vec![
            TransactWriteItem::builder().update(head).build(),
            put_new(&self.table, item::to_item(v)?),
            put_new(&self.table, item::to_item(&guard)?),
            super::audit::put(&self.table, audit)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_conflict() => Err(PolicyWriteError::Stale),
            Err(e) => match e.failed_condition_index() {
                Some(0 | 1) => Err(PolicyWriteError::Stale),
                Some(2) => Err(PolicyWriteError::Exists),
                _ => Err(PolicyWriteError::Store(e)),
            },
        }
    }

    /// Versions, newest first.
    pub async fn list_policy_versions(
        &self,
        limit: usize,
        cursor: Option<&str>,
        binding: &super::cursor::Binding,
    ) -> Result<VersionPage, StoreError> {
        let mut q = super::PageQuery {
            key_condition: "PK = :pk AND begins_with(SK, :v)".into(),
            forward: false,
            ..Default::default()
        };
        q.values.insert(":pk".into(), item::s(keys::POLICIES_PK));
        q.values
            .insert(":v".into(), item::s(keys::POLICY_VERSION_SK_PREFIX));
        let (items, next_cursor) = self
            .list_page(
                &q,
                binding,
                cursor,
                &[
                    ("PK", Must::Equal(keys::POLICIES_PK)),
                    ("SK", Must::StartWith(keys::POLICY_VERSION_SK_PREFIX)),
                ],
                limit,
                super::all(item::from_item),
            )
            .await?;
        Ok(VersionPage { items, next_cursor })
    }

    /// Points the head at `version` (which must exist), with the audit event.
    pub async fn activate_policy(
        &self,
        version: u64,
        sha256: &str,
        at: &str,
        by: &str,
        audit: &AuditEvent,
    ) -> Result<(), PolicyWriteError> {
        let exists = ConditionCheck::builder()
            .table_name(&self.table)
            .key("PK", item::s(keys::POLICIES_PK))
            .key("SK", item::s(keys::policy_version_sk(version)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(build_error)?;
        let head = Update::builder()
            .table_name(&self.table)
            .key("PK", item::s(keys::POLICIES_PK))
            .key("SK", item::s(keys::POLICY_HEAD_SK))
            .update_expression(
                "SET active_version = :v, active_sha256 = :sha, activated_at = :at, activated_by = :by",
            )
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":v", item::n(version))
            .expression_attribute_values(":sha", item::s(sha256))
            .expression_attribute_values(":at", item::s(at))
            .expression_attribute_values(":by", item::s(by))
            .build()
            .map_err(build_error)?;
        let items = vec![
            TransactWriteItem::builder().condition_check(exists).build(),
            TransactWriteItem::builder().update(head).build(),
            super::audit::put(&self.table, audit)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(e) => match e.failed_condition_index() {
                Some(0 | 1) => Err(PolicyWriteError::NoSuchVersion),
                _ => Err(PolicyWriteError::Store(e)),
            },
        }
    }
}
