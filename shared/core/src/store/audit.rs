//! Audit event items and their queries.
//!
//! Partitioned by month (`AUDIT#yyyy-mm`) rather than by day as DESIGN.md first suggested: an
//! unfiltered newest-first listing then reads one partition for most pages instead of walking
//! empty days, and a month partition still spreads writes over time. Per-actor and per-target
//! listings use GSI1 and GSI2 and never touch the month partitions.

use super::item::{self, get_s, opt_s, Item, ItemBuilder};
use super::{keys, put_new, PageQuery, Store, StoreError};
use crate::domain::audit::{AuditEvent, Outcome};
use aws_sdk_dynamodb::types::TransactWriteItem;

/// The first month any toolreg deployment can have audit events in: unfiltered listings without
/// a `from_timestamp` walk back to here and stop.
pub const EPOCH_MONTH: &str = "2026-01";

/// Cursor sort key meaning "from the newest event of the cursor's month partition".
const PARTITION_START: &str = "~";

/// `yyyy-mm` of a stored timestamp.
pub fn month_of(timestamp: &str) -> &str {
    &timestamp[..7.min(timestamp.len())]
}

/// The stored form of an event.
pub fn to_item(e: &AuditEvent) -> Item {
    let sk = keys::audit_sk(&e.timestamp, &e.id);
    let mut b = ItemBuilder::new()
        .s("PK", keys::audit_pk(month_of(&e.timestamp)))
        .s("SK", sk.clone())
        .s("entity", "audit_event")
        .s("id", &e.id)
        .s("timestamp", &e.timestamp)
        .s("action", &e.action)
        .s("outcome", e.outcome.as_str())
        .opt_s("actor_user_id", e.actor_user_id.clone())
        .opt_s("actor_username", e.actor_username.clone())
        .opt_s("target_type", e.target_type.clone())
        .opt_s("target_id", e.target_id.clone())
        .opt_s("source_ip", e.source_ip.clone())
        .opt_s("user_agent", e.user_agent.clone())
        .opt_s("request_id", e.request_id.clone())
        .s("details", e.details.to_string());
    if let Some(actor) = &e.actor_user_id {
        b = b
            .s("GSI1PK", keys::audit_actor_pk(actor))
            .s("GSI1SK", sk.clone());
    }
    if let Some(target) = &e.target_id {
        b = b.s("GSI2PK", keys::audit_target_pk(target)).s("GSI2SK", sk);
    }
    b.build()
}

pub fn from_item(it: &Item) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        id: get_s(it, "id")?.to_owned(),
        timestamp: get_s(it, "timestamp")?.to_owned(),
        action: get_s(it, "action")?.to_owned(),
        outcome: Outcome::parse(get_s(it, "outcome")?)
            .ok_or_else(|| StoreError::Corrupt("bad audit outcome".into()))?,
        actor_user_id: opt_s(it, "actor_user_id"),
        actor_username: opt_s(it, "actor_username"),
        target_type: opt_s(it, "target_type"),
        target_id: opt_s(it, "target_id"),
        source_ip: opt_s(it, "source_ip"),
        user_agent: opt_s(it, "user_agent"),
        request_id: opt_s(it, "request_id"),
        details: opt_s(it, "details")
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or(serde_json::Value::Null),
    })
}

/// The transaction item that records `e` (never overwrites: event ids are fresh UUIDs).
pub fn put(table: &str, e: &AuditEvent) -> TransactWriteItem {
    put_new(table, to_item(e))
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
            .set_item(Some(to_item(e)))
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
            Some(c) => {
                Some(super::cursor::decode(scope, c, q.key_names()).map_err(AppError::BadRequest)?)
            }
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
            let items = page.items.iter().map(from_item).collect::<Result<_, _>>()?;
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
            for it in &page.items {
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
