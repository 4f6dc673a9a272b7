//! Access decisions: one item per decision, listed newest first in GSI1 `DECISIONS`.
//!
//! A decision and its audit event land in one transaction. An allowed decision's id is its
//! credential's `jti`; revoking the credential marks the decision (`revoked_at`), so a tool's
//! server that checks online reads one item.

use super::cursor::Must;
use super::item::{self, Entity};
use super::{keys, put_new, Store, StoreError};
use crate::domain::audit::AuditEvent;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

/// A recorded decision: who asked for which tool with what, what was decided and why, and the
/// facts it was decided on (so a simulation can replay it against another policy).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
    pub entity: Entity,
    pub id: String,
    pub timestamp: String,
    /// A user id or `agent:<id>`.
    pub principal_id: String,
    pub principal_name: String,
    pub tool_id: String,
    pub tool_name: String,
    pub requested_scopes: Vec<String>,
    pub granted_scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    pub source_ip: String,
    /// `allow` or `deny`.
    pub decision: String,
    pub rationale: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    pub policy_version: u64,
    pub policy_sha256: String,
    /// The credential's expiry (epoch seconds) for an allowed decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// An agent's decision: the public prefix of the API key behind its credential (the key
    /// itself, or the key its OAuth token was minted with), so revoking the key revokes what
    /// was issued through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    /// JSON of the facts evaluated (principal, tool, request, context).
    pub facts: String,
}

impl DecisionItem {
    /// Fills the keys from `id` and `timestamp`.
    pub fn keyed(mut self) -> Self {
        self.pk = keys::decision_pk(&self.id);
        self.sk = keys::DECISION_SK.to_owned();
        self.gsi1pk = keys::DECISIONS_INDEX_PK.to_owned();
        self.gsi1sk = format!("{}#{}", self.timestamp, self.id);
        self.entity = Entity::Decision;
        self
    }
}

/// Filters of `GET /decisions`.
#[derive(Clone, Debug, Default)]
pub struct DecisionFilter {
    pub principal_id: Option<String>,
    pub tool_id: Option<String>,
    pub decision: Option<String>,
    /// Inclusive bounds, as stored timestamps.
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug)]
pub struct DecisionPage {
    pub items: Vec<DecisionItem>,
    pub next_cursor: Option<String>,
}

/// Where credentials came from: revoking it revokes them (`Store::live_credentials`).
#[derive(Clone, Copy, Debug)]
pub enum CredentialSource<'a> {
    /// A principal id as decisions record it (`agent:<id>`).
    Principal(&'a str),
    /// An API key's public prefix.
    Key(&'a str),
    Tool(&'a str),
}

/// How many credentials one transaction revokes (with its one audit event).
const REVOKE_CHUNK: usize = 99;

/// Why a revocation was not recorded.
#[derive(Debug)]
pub enum RevokeError {
    /// No allowed decision with this id (or it is revoked already).
    NotRevocable,
    Store(StoreError),
}

impl Store {
    /// Records a decision with its audit event.
    pub async fn put_decision(
        &self,
        d: &DecisionItem,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.transact(vec![
            put_new(&self.table, item::to_item(d)?),
            super::audit::put(&self.table, audit)?,
        ])
        .await
    }

    pub async fn get_decision(&self, id: &str) -> Result<Option<DecisionItem>, StoreError> {
        let d: Option<DecisionItem> = self
            .get(keys::decision_pk(id), keys::DECISION_SK)
            .await?
            .map(item::from_item)
            .transpose()?;
        if let Some(d) = &d {
            d.entity.require(Entity::Decision)?;
        }
        Ok(d)
    }

    /// Decisions newest first, filtered.
    pub async fn list_decisions(
        &self,
        f: &DecisionFilter,
        limit: usize,
        cursor: Option<&str>,
        binding: &super::cursor::Binding,
    ) -> Result<DecisionPage, StoreError> {
        let q = decisions_query(f);
        let (items, next_cursor) = self
            .list_page(
                &q,
                binding,
                cursor,
                &[
                    ("GSI1PK", Must::Equal(keys::DECISIONS_INDEX_PK)),
                    ("PK", Must::StartWith(keys::DECISION_PK_PREFIX)),
                    ("SK", Must::Equal(keys::DECISION_SK)),
                ],
                limit,
                super::all(item::from_item),
            )
            .await?;
        Ok(DecisionPage { items, next_cursor })
    }

    /// The newest `n` decisions (simulation), newest first.
    pub async fn recent_decisions(&self, n: usize) -> Result<Vec<DecisionItem>, StoreError> {
        let q = decisions_query(&DecisionFilter::default());
        let mut out = Vec::new();
        let mut start = None;
        while out.len() < n {
            let page = self
                .query_page_of(&q, start, (n - out.len()).min(100), |it| {
                    item::from_item(it).map(Some)
                })
                .await?;
            out.extend(page.items);
            match page.resume {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        Ok(out)
    }

    /// The ids of the credentials issued from `source` that are neither expired nor revoked at
    /// `now` (epoch seconds). A credential lives at most `max_lifetime` seconds, so only the
    /// decisions of that last stretch are read (GSI1 by time, filtered).
    pub async fn live_credentials(
        &self,
        source: CredentialSource<'_>,
        now: i64,
        max_lifetime: i64,
    ) -> Result<Vec<String>, StoreError> {
        let (attr, value) = match source {
            CredentialSource::Principal(p) => ("principal_id", p),
            CredentialSource::Key(k) => ("key_prefix", k),
            CredentialSource::Tool(t) => ("tool_id", t),
        };
        // A minute of slack for clocks: an older decision's credential has expired anyway,
        // which the filter checks.
        let from = chrono::DateTime::from_timestamp(now - max_lifetime - 60, 0)
            .map(crate::time::stamp)
            .unwrap_or_default();
        let mut q = super::PageQuery {
            index: Some(keys::GSI1),
            key_condition: "GSI1PK = :pk AND GSI1SK >= :from".into(),
            filter: Some(
                "#decision = :allow AND attribute_not_exists(revoked_at) \
                 AND credential_expires_at > :now AND #source = :source"
                    .into(),
            ),
            projection: Some("PK, SK, GSI1PK, GSI1SK, id"),
            forward: true,
            ..Default::default()
        };
        q.names.insert("#decision".into(), "decision".into());
        q.names.insert("#source".into(), attr.into());
        q.values
            .insert(":pk".into(), item::s(keys::DECISIONS_INDEX_PK));
        q.values.insert(":from".into(), item::s(from));
        q.values.insert(":allow".into(), item::s("allow"));
        q.values.insert(":now".into(), item::n(now));
        q.values.insert(":source".into(), item::s(value));
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let page = self.query_page(&q, start, 1000).await?;
            for it in &page.items {
                if let Some(id) = it.get("id").and_then(|v| v.as_s().ok()) {
                    ids.push(id.clone());
                }
            }
            match page.resume {
                Some(k) => start = Some(k),
                None => return Ok(ids),
            }
        }
    }

    /// Marks the credentials `ids` revoked at `at`: one transaction per chunk of ids, each with
    /// its audit event (`audit(chunk)`). A credential revoked meanwhile keeps its first mark.
    pub async fn revoke_credentials(
        &self,
        ids: &[String],
        at: &str,
        audit: impl Fn(&[String]) -> AuditEvent,
    ) -> Result<(), StoreError> {
        for chunk in ids.chunks(REVOKE_CHUNK) {
            let mut writes = Vec::with_capacity(chunk.len() + 1);
            for id in chunk {
                let update = Update::builder()
                    .table_name(&self.table)
                    .key("PK", item::s(keys::decision_pk(id)))
                    .key("SK", item::s(keys::DECISION_SK))
                    .update_expression("SET revoked_at = if_not_exists(revoked_at, :at)")
                    .condition_expression("attribute_exists(PK)")
                    .expression_attribute_values(":at", item::s(at))
                    .build()
                    .map_err(|e| StoreError::Other(e.to_string()))?;
                writes.push(TransactWriteItem::builder().update(update).build());
            }
            writes.push(super::audit::put(&self.table, &audit(chunk))?);
            self.transact(writes).await?;
        }
        Ok(())
    }

    /// Marks an allowed decision's credential revoked, with the audit event.
    pub async fn revoke_credential(
        &self,
        id: &str,
        at: &str,
        audit: &AuditEvent,
    ) -> Result<(), RevokeError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("PK", item::s(keys::decision_pk(id)))
            .key("SK", item::s(keys::DECISION_SK))
            .update_expression("SET revoked_at = :at")
            .condition_expression(
                "attribute_exists(PK) AND #decision = :allow AND attribute_not_exists(revoked_at)",
            )
            .expression_attribute_names("#decision", "decision")
            .expression_attribute_values(":at", item::s(at))
            .expression_attribute_values(":allow", item::s("allow"))
            .build()
            .map_err(|e| RevokeError::Store(StoreError::Other(e.to_string())))?;
        let audit = super::audit::put(&self.table, audit).map_err(RevokeError::Store)?;
        match self
            .transact(vec![
                TransactWriteItem::builder().update(update).build(),
                audit,
            ])
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.failed_condition_index() == Some(0) => Err(RevokeError::NotRevocable),
            Err(e) => Err(RevokeError::Store(e)),
        }
    }
}

/// The query of the decisions listing with `f`'s filters.
fn decisions_query(f: &DecisionFilter) -> super::PageQuery {
    let mut q = super::PageQuery {
        index: Some(keys::GSI1),
        key_condition: "GSI1PK = :pk".into(),
        forward: false,
        ..Default::default()
    };
    q.values
        .insert(":pk".into(), item::s(keys::DECISIONS_INDEX_PK));
    match (&f.from, &f.to) {
        (Some(a), Some(b)) => {
            q.key_condition
                .push_str(" AND GSI1SK BETWEEN :from AND :to");
            q.values.insert(":from".into(), item::s(a.clone()));
            q.values.insert(":to".into(), item::s(format!("{b}~")));
        }
        (Some(a), None) => {
            q.key_condition.push_str(" AND GSI1SK >= :from");
            q.values.insert(":from".into(), item::s(a.clone()));
        }
        (None, Some(b)) => {
            q.key_condition.push_str(" AND GSI1SK <= :to");
            q.values.insert(":to".into(), item::s(format!("{b}~")));
        }
        (None, None) => {}
    }
    let mut filters = Vec::new();
    if let Some(p) = &f.principal_id {
        filters.push("principal_id = :principal");
        q.values.insert(":principal".into(), item::s(p.clone()));
    }
    if let Some(t) = &f.tool_id {
        filters.push("tool_id = :tool");
        q.values.insert(":tool".into(), item::s(t.clone()));
    }
    if let Some(d) = &f.decision {
        filters.push("#decision = :decision");
        q.names.insert("#decision".into(), "decision".into());
        q.values.insert(":decision".into(), item::s(d.clone()));
    }
    if !filters.is_empty() {
        q.filter = Some(filters.join(" AND "));
    }
    q
}
