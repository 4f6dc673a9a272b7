//! Audit event items and their queries.
//!
//! Partitioned by month (`AUDIT#yyyy-mm`) rather than by day: an unfiltered newest-first
//! listing then reads one partition for most pages instead of walking empty days, and a month partition still spreads writes over time. Per-actor and per-target
//! listings use GSI1 and GSI2 and never touch the month partitions.

use super::item::{self, Entity, Item};
use super::{keys, put_new, PageQuery, Store, StoreError};
use crate::domain::audit::{AuditEvent, Outcome};
use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

/// The first month any toolreg deployment can have audit events in: unfiltered listings without
/// a `from_timestamp` walk back to here and stop.
pub const EPOCH_MONTH: &str = "2026-01";

/// Cursor sort key meaning "from the newest event of the cursor's month partition".
const PARTITION_START: &str = "~";

/// `yyyy-mm` of a stored timestamp.
pub fn month_of(timestamp: &str) -> &str {
    &timestamp[..7.min(timestamp.len())]
}

/// An audit event (`AUDIT#<month>` / `<timestamp>#<id>`), also under GSI1 `ACTOR#<user id>`
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
            pk: keys::audit_pk(month_of(&e.timestamp)),
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

/// The month before `yyyy-mm`.
fn previous_month(month: &str) -> String {
    let (y, m) = month.split_once('-').unwrap_or(("2026", "01"));
    let (y, m): (i32, u32) = (y.parse().unwrap_or(2026), m.parse().unwrap_or(1));
    if m <= 1 {
        format!("{:04}-12", y - 1)
    } else {
        format!("{:04}-{:02}", y, m - 1)
    }
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

    /// Lists events newest first. `scope` binds cursors to this filter set.
    pub async fn list_audit(
        &self,
        f: &AuditFilter,
        limit: usize,
        cursor: Option<&str>,
        scope: &str,
    ) -> Result<AuditPage, crate::error::AppError> {
        use crate::error::AppError;
        let lo = f.from.clone().unwrap_or_else(|| "0".into());
        // `~` sorts after every character of a timestamp or id, so `<to>~` includes `to` itself.
        let hi = format!("{}~", f.to.clone().unwrap_or_else(|| "9999".into()));
        let mut q = PageQuery {
            forward: false,
            ..Default::default()
        };
        let mut filters = Vec::new();
        q.values.insert(":lo".into(), item::s(lo.clone()));
        q.values.insert(":hi".into(), item::s(hi));
        let partitioned = if let Some(actor) = &f.actor_user_id {
            q.index = Some(keys::GSI1);
            q.key_condition = "GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi".into();
            q.values
                .insert(":pk".into(), item::s(keys::audit_actor_pk(actor)));
            if let Some(t) = &f.target_id {
                filters.push("target_id = :target");
                q.values.insert(":target".into(), item::s(t));
            }
            false
        } else if let Some(target) = &f.target_id {
            q.index = Some(keys::GSI2);
            q.key_condition = "GSI2PK = :pk AND GSI2SK BETWEEN :lo AND :hi".into();
            q.values
                .insert(":pk".into(), item::s(keys::audit_target_pk(target)));
            false
        } else {
            q.key_condition = "PK = :pk AND SK BETWEEN :lo AND :hi".into();
            true
        };
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

        let decoded = match cursor {
            Some(c) => Some(
                super::cursor::decode(scope, c, q.key_names())
                    .map_err(|e| AppError::BadRequest(e.to_string()))?,
            ),
            None => None,
        };
        let newest_month =
            f.to.as_deref()
                .map(|t| month_of(t).to_owned())
                .unwrap_or_else(|| month_of(&crate::time::stamp(crate::time::now())).to_owned());
        let oldest_month = f
            .from
            .as_deref()
            .map(|t| month_of(t).to_owned())
            .unwrap_or_else(|| EPOCH_MONTH.to_owned())
            .max(EPOCH_MONTH.to_owned());

        if !partitioned {
            let start = decoded.map(|c| c.key);
            let page = self.query_page(&q, start, limit).await?;
            let next = page.resume.map(|k| super::cursor::encode(scope, &k, None));
            let items = page
                .items
                .into_iter()
                .map(from_item)
                .collect::<Result<_, _>>()?;
            return Ok(AuditPage {
                items,
                next_cursor: next,
            });
        }

        // Walk month partitions newest first until the page is full.
        let (mut month, mut start) = match decoded {
            Some(c) => {
                let m = c.extra.clone().unwrap_or_default();
                let valid =
                    m.len() == 7 && m.as_str() >= oldest_month.as_str() && m <= newest_month;
                if !valid
                    || c.key.get("PK").and_then(|v| v.as_s().ok()) != Some(&keys::audit_pk(&m))
                {
                    return Err(AppError::BadRequest(
                        "the cursor is not valid for this listing; start again without it".into(),
                    ));
                }
                let from_start = c
                    .key
                    .get("SK")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some(PARTITION_START);
                (m, Some(c.key).filter(|_| !from_start))
            }
            None => (newest_month, None),
        };
        let mut items = Vec::new();
        let mut partitions_read = 0;
        loop {
            q.values
                .insert(":pk".into(), item::s(keys::audit_pk(&month)));
            let page = self
                .query_page(&q, start.take(), limit - items.len())
                .await?;
            partitions_read += 1;
            for it in page.items {
                items.push(from_item(it)?);
            }
            if let Some(k) = page.resume {
                let next = super::cursor::encode(scope, &k, Some(month));
                return Ok(AuditPage {
                    items,
                    next_cursor: Some(next),
                });
            }
            if month.as_str() <= oldest_month.as_str() {
                return Ok(AuditPage {
                    items,
                    next_cursor: None,
                });
            }
            month = previous_month(&month);
            if items.len() >= limit || partitions_read >= 12 {
                // Resume at the start of the next (older) partition.
                let mut k = Item::new();
                k.insert("PK".into(), item::s(keys::audit_pk(&month)));
                k.insert("SK".into(), item::s(PARTITION_START));
                let next = super::cursor::encode(scope, &k, Some(month));
                return Ok(AuditPage {
                    items,
                    next_cursor: Some(next),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_step_back_across_years() {
        assert_eq!(previous_month("2026-03"), "2026-02");
        assert_eq!(previous_month("2026-01"), "2025-12");
    }
}
