//! Audit event items and their queries.
//!
//! Every event lives in one partition, `AUDIT`, sorted by `<timestamp>#<id>`, so the admin's
//! unfiltered newest-first listing is one query however young or old the table is (month
//! partitions cost a query per empty month walked). One partition key takes about 1,000 writes
//! a second; audit events are written at the pace of admin changes and rate-limited logins, far
//! below that (docs/architecture.md, "Key schema", says how to shard if that ever changes).
//! Per-actor and per-target listings use GSI1 and GSI2.

use super::item::{self, Entity, Item};
use super::{keys, put_new, PageQuery, Store, StoreError};
use crate::domain::audit::{AuditEvent, Outcome};
use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

/// An audit event (`AUDIT` / `<timestamp>#<id>`), also under GSI1 `ACTOR#<user id>`
/// when someone acted and GSI2 `TARGET#<id>` when it concerns something.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEventItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK", skip_serializing_if = "Option::is_none", default)]
    pub gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", skip_serializing_if = "Option::is_none", default)]
    pub gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK", skip_serializing_if = "Option::is_none", default)]
    pub gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", skip_serializing_if = "Option::is_none", default)]
    pub gsi2sk: Option<String>,
    pub entity: Entity,
    pub id: String,
    pub timestamp: String,
    pub action: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub actor_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub actor_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
    /// JSON text: free-form details would otherwise become nested maps of any shape.
    pub details: String,
}

impl From<&AuditEvent> for AuditEventItem {
    fn from(e: &AuditEvent) -> Self {
        let sk = keys::audit_sk(&e.timestamp, &e.id);
        let actor = e.actor_user_id.as_deref();
        let target = e.target_id.as_deref();
        Self {
            pk: keys::AUDIT_PK.to_owned(),
            gsi1pk: actor.map(keys::audit_actor_pk),
            gsi1sk: actor.map(|_| sk.clone()),
            gsi2pk: target.map(keys::audit_target_pk),
            gsi2sk: target.map(|_| sk.clone()),
            sk,
            entity: Entity::AuditEvent,
            id: e.id.clone(),
            timestamp: e.timestamp.clone(),
            action: e.action.clone(),
            outcome: e.outcome,
            actor_user_id: e.actor_user_id.clone(),
            actor_username: e.actor_username.clone(),
            target_type: e.target_type.clone(),
            target_id: e.target_id.clone(),
            source_ip: e.source_ip.clone(),
            user_agent: e.user_agent.clone(),
            request_id: e.request_id.clone(),
            details: e.details.to_string(),
        }
    }
}

impl TryFrom<AuditEventItem> for AuditEvent {
    type Error = StoreError;

    fn try_from(it: AuditEventItem) -> Result<Self, StoreError> {
        it.entity.require(Entity::AuditEvent)?;
        Ok(AuditEvent {
            id: it.id,
            timestamp: it.timestamp,
            action: it.action,
            outcome: it.outcome,
            actor_user_id: it.actor_user_id,
            actor_username: it.actor_username,
            target_type: it.target_type,
            target_id: it.target_id,
            source_ip: it.source_ip,
            user_agent: it.user_agent,
            request_id: it.request_id,
            details: item::from_json("audit details", &it.details)?,
        })
    }
}

/// The stored form of an event.
pub fn to_item(e: &AuditEvent) -> Result<Item, StoreError> {
    item::to_item(&AuditEventItem::from(e))
}

pub fn from_item(it: Item) -> Result<AuditEvent, StoreError> {
    item::from_item::<AuditEventItem>(it)?.try_into()
}

/// The transaction item that records `e` (never overwrites: event ids are fresh UUIDs).
pub fn put(table: &str, e: &AuditEvent) -> Result<TransactWriteItem, StoreError> {
    Ok(put_new(table, to_item(e)?))
}

/// Filters for listing audit events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditFilter {
    pub actor_user_id: Option<String>,
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub outcome: Option<Outcome>,
    /// Inclusive bounds as stored timestamps.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A page of events, newest first, and a cursor for the next.
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

impl Store {
    /// Writes a single audit event on its own (for actions that change nothing else).
    pub async fn put_audit(&self, e: &AuditEvent) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(e)?))
            .send()
            .await
            .map_err(super::sdk_error)?;
        Ok(())
    }

    /// Lists events newest first. `binding` binds cursors to this filter set and caller.
    pub async fn list_audit(
        &self,
        f: &AuditFilter,
        limit: usize,
        cursor: Option<&str>,
        binding: &super::cursor::Binding,
    ) -> Result<AuditPage, StoreError> {
        let lo = f.from.clone().unwrap_or_else(|| "0".into());
        // `~` sorts after every character of a timestamp or id, so `<to>~` includes `to` itself.
        let hi = format!("{}~", f.to.clone().unwrap_or_else(|| "9999".into()));
        let mut q = PageQuery {
            forward: false,
            ..Default::default()
        };
        let mut filters = Vec::new();
        q.values.insert(":lo".into(), item::s(lo.clone()));
        q.values.insert(":hi".into(), item::s(hi.clone()));
        if let Some(actor) = &f.actor_user_id {
            q.index = Some(keys::GSI1);
            q.key_condition = "GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi".into();
            q.values
                .insert(":pk".into(), item::s(keys::audit_actor_pk(actor)));
            if let Some(t) = &f.target_id {
                filters.push("target_id = :target");
                q.values.insert(":target".into(), item::s(t));
            }
        } else if let Some(target) = &f.target_id {
            q.index = Some(keys::GSI2);
            q.key_condition = "GSI2PK = :pk AND GSI2SK BETWEEN :lo AND :hi".into();
            q.values
                .insert(":pk".into(), item::s(keys::audit_target_pk(target)));
        } else {
            q.key_condition = "PK = :pk AND SK BETWEEN :lo AND :hi".into();
            q.values.insert(":pk".into(), item::s(keys::AUDIT_PK));
        }
        if let Some(a) = &f.action {
            filters.push("#action = :action");
            q.names.insert("#action".into(), "action".into());
            q.values.insert(":action".into(), item::s(a));
        }
        if let Some(o) = f.outcome {
            filters.push("#outcome = :outcome");
            q.names.insert("#outcome".into(), "outcome".into());
            q.values.insert(":outcome".into(), item::s(o.as_str()));
        }
        if !filters.is_empty() {
            q.filter = Some(filters.join(" AND "));
        }

        // A cursor must continue this very listing: its keys inside the queried partition and
        // range, or DynamoDB would refuse the start key (a 500) or read another listing.
        let (partition_attr, sort_attr) = match q.index {
            Some(keys::GSI1) => ("GSI1PK", Some("GSI1SK")),
            Some(keys::GSI2) => ("GSI2PK", Some("GSI2SK")),
            _ => ("PK", None),
        };
        let partition = q.values[":pk"].as_s().cloned().unwrap_or_default();
        let start = match cursor {
            Some(c) => {
                let decoded = super::cursor::decode(binding, c, q.key_names())?;
                let attr = |name: &str| decoded.key.get(name).and_then(|v| v.as_s().ok());
                let sk = attr("SK").map(String::as_str).unwrap_or_default();
                let inside = attr(partition_attr) == Some(&partition)
                    && attr("PK").map(String::as_str) == Some(keys::AUDIT_PK)
                    && sort_attr.is_none_or(|a| attr(a).map(String::as_str) == Some(sk))
                    && sk >= lo.as_str()
                    && sk <= hi.as_str();
                if !inside {
                    return Err(super::cursor::CursorError.into());
                }
                Some(decoded.key)
            }
            None => None,
        };
        let page = self.query_page(&q, start, limit).await?;
        let next = page
            .resume
            .map(|k| super::cursor::encode(binding, &k, None));
        let items = page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok(AuditPage {
            items,
            next_cursor: next,
        })
    }
}
