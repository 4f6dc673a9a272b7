//! Tool items, their name guards and their probe records: the operations (`items` holds the
//! stored shapes and their conversions).

mod items;
pub use items::*;

use super::cursor::Must;
use super::item::{self, KeyItem};
use super::{delete, keys, put_new, sdk_error, PageQuery, Store, StoreError};
use crate::domain::audit::AuditEvent;
#[cfg(doc)]
use crate::domain::drift::{Drift, ToolList};
use crate::domain::tool::{ProbeRecord, Tool, ToolId, ToolSummary};
use aws_sdk_dynamodb::types::TransactWriteItem;

impl Store {
    /// Stores a new tool, its name guard, its first probe record (remote tools) and the audit
    /// event, atomically.
    pub async fn create_tool(
        &self,
        t: &Tool,
        probe_expires_at: i64,
        audit: &AuditEvent,
    ) -> Result<(), ToolWriteError> {
        let mut items = vec![
            put_new(&self.table, to_item(t)?),
            put_new(&self.table, guard_item(&t.name, t.id)?),
            super::audit::put(&self.table, audit)?,
        ];
        if let Some(p) = t.remote().and_then(|r| r.last_probe.as_ref()) {
            items.push(put_new(&self.table, probe_item(t.id, p, probe_expires_at)?));
        }
        self.transact(items)
            .await
            .map_err(|e| match e.failed_condition_index() {
                Some(1) => ToolWriteError::NameTaken,
                _ => ToolWriteError::Store(e),
            })
    }

    /// The tool named `name` (case-insensitively, as names are unique): one query of the
    /// catalog index on its name key.
    pub async fn get_tool_by_name(&self, name: &str) -> Result<Option<Tool>, StoreError> {
        let mut q = PageQuery {
            index: Some(keys::GSI1),
            key_condition: "GSI1PK = :pk AND GSI1SK = :sk".into(),
            forward: true,
            ..Default::default()
        };
        q.values.insert(":pk".into(), item::s(keys::TOOLS_INDEX_PK));
        q.values.insert(":sk".into(), item::s(name.to_lowercase()));
        let page = self.query_page(&q, None, 1).await?;
        page.items.into_iter().next().map(from_item).transpose()
    }

    pub async fn get_tool(&self, id: ToolId) -> Result<Option<Tool>, StoreError> {
        self.get(keys::tool_pk(&id.to_string()), keys::TOOL_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    /// Replaces `old` by `new` if `old` is still the stored version, moving the name guard when
    /// the name changed and adding `probe` to the history, with the audit event, atomically.
    pub async fn update_tool(
        &self,
        old: &Tool,
        new: &Tool,
        probe: Option<(&ProbeRecord, i64)>,
        audit: &AuditEvent,
    ) -> Result<(), ToolWriteError> {
        self.update_tool_audited(old, new, probe, &[audit]).await
    }

    /// [`Store::update_tool`] with several audit events (a probe result and the drift it found),
    /// all in the one transaction.
    pub async fn update_tool_audited(
        &self,
        old: &Tool,
        new: &Tool,
        probe: Option<(&ProbeRecord, i64)>,
        audits: &[&AuditEvent],
    ) -> Result<(), ToolWriteError> {
        let mut items = vec![put_if_version(&self.table, new, old.version)?];
        let renamed = old.name.to_lowercase() != new.name.to_lowercase();
        if renamed {
            items.push(put_new(&self.table, guard_item(&new.name, new.id)?));
            items.push(delete_if(
                &self.table,
                keys::tool_name_guard_pk(&old.name.to_lowercase()),
                keys::UNIQUE_SK,
                "tool_id = :id",
                ":id",
                &old.id.to_string(),
            ));
        }
        for ev in audits {
            items.push(super::audit::put(&self.table, ev)?);
        }
        if let Some((p, expires_at)) = probe {
            items.push(put_new(&self.table, probe_item(new.id, p, expires_at)?));
        }
        self.transact(items)
            .await
            .map_err(|e| match e.failed_condition_index() {
                Some(0) => ToolWriteError::Stale,
                Some(1) if renamed => ToolWriteError::NameTaken,
                _ if e.is_conflict() => ToolWriteError::Stale,
                _ => ToolWriteError::Store(e),
            })
    }

    /// Deletes a tool, its name guard and its probe history, with the audit event, if
    /// `accept_version` accepts the stored version (else `Stale`). The tool, guard, event and
    /// the first probe records go in one transaction; any history beyond what a transaction
    /// holds is removed right after (and expires by TTL regardless).
    pub async fn delete_tool(
        &self,
        id: ToolId,
        accept_version: impl FnOnce(u64) -> bool,
        audit_for: impl FnOnce(&ToolSummary) -> AuditEvent,
    ) -> Result<Option<ToolSummary>, ToolWriteError> {
        let id = &id.to_string();
        // One query reads the tool and its whole history: they share a partition.
        let mut all = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", item::s(keys::tool_pk(id)))
                .projection_expression(TOOL_SUMMARY_PROJECTION)
                .expression_attribute_names("#n", "name")
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            all.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        let mut tool = None;
        let mut probe_keys = Vec::new();
        for it in all {
            // The keys tell the tool from its probe records, which answer with nothing else.
            let key: KeyItem = item::from_item(it.clone())?;
            if key.sk == keys::TOOL_SK {
                tool = Some(ToolSummary::try_from(item::from_item::<ToolSummaryItem>(
                    it,
                )?)?);
            } else if key.sk.starts_with(keys::PROBE_SK_PREFIX) {
                probe_keys.push(key.sk);
            }
        }
        let Some(tool) = tool else {
            return Ok(None);
        };
        if !accept_version(tool.version) {
            return Err(ToolWriteError::Stale);
        }
        let (now_keys, later_keys) =
            probe_keys.split_at(probe_keys.len().min(PROBE_DELETES_PER_TRANSACTION));
        let audit = audit_for(&tool);
        let mut items = vec![
            {
                let del = aws_sdk_dynamodb::types::Delete::builder()
                    .table_name(&self.table)
                    .key("PK", item::s(keys::tool_pk(id)))
                    .key("SK", item::s(keys::TOOL_SK))
                    .condition_expression("version = :v")
                    .expression_attribute_values(":v", item::n(tool.version))
                    .build()
                    .expect("table and key are set");
                TransactWriteItem::builder().delete(del).build()
            },
            delete(
                &self.table,
                keys::tool_name_guard_pk(&tool.name.to_lowercase()),
                keys::UNIQUE_SK,
            ),
            super::audit::put(&self.table, &audit)?,
        ];
        for sk in now_keys {
            items.push(delete(&self.table, keys::tool_pk(id), sk));
        }
        self.transact(items)
            .await
            .map_err(|e| match e.failed_condition_index() {
                Some(0) => ToolWriteError::Stale,
                _ if e.is_conflict() => ToolWriteError::Stale,
                _ => ToolWriteError::Store(e),
            })?;
        for chunk in later_keys.chunks(25) {
            let requests = chunk
                .iter()
                .map(|sk| {
                    let del = aws_sdk_dynamodb::types::DeleteRequest::builder()
                        .key("PK", item::s(keys::tool_pk(id)))
                        .key("SK", item::s(sk.clone()))
                        .build()
                        .expect("key is set");
                    aws_sdk_dynamodb::types::WriteRequest::builder()
                        .delete_request(del)
                        .build()
                })
                .collect();
            // Best effort: leftovers expire through their TTL.
            if let Err(e) = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
            {
                tracing::warn!(tool_id = id, error = ?e, "probe history cleanup incomplete");
            }
        }
        Ok(Some(tool))
    }

    /// Lists the catalog sorted by name (GSI1 `TOOLS`), filtered, one page of the tools `shown`
    /// keeps (what the caller may see): the page fills with them, and its cursor resumes after
    /// the last one.
    pub async fn list_tools(
        &self,
        f: &ToolFilter,
        limit: usize,
        cursor: Option<&str>,
        binding: &super::cursor::Binding,
        shown: impl Fn(&Tool) -> bool,
    ) -> Result<ToolPage, StoreError> {
        let mut q = PageQuery {
            index: Some(keys::GSI1),
            key_condition: "GSI1PK = :pk".into(),
            forward: true,
            ..Default::default()
        };
        q.values.insert(":pk".into(), item::s(keys::TOOLS_INDEX_PK));
        let mut filters = Vec::new();
        if let Some(t) = f.tool_type {
            filters.push("tool_type = :tt");
            q.values.insert(":tt".into(), item::s(t.as_str()));
        }
        if let Some(r) = f.risk_level {
            filters.push("risk_level = :rl");
            q.values.insert(":rl".into(), item::s(r.as_str()));
        }
        if let Some(a) = f.is_active {
            filters.push("is_active = :ia");
            q.values.insert(
                ":ia".into(),
                aws_sdk_dynamodb::types::AttributeValue::Bool(a),
            );
        }
        match f.drifted {
            Some(true) => {
                filters.push("drifted = :dr");
                q.values.insert(
                    ":dr".into(),
                    aws_sdk_dynamodb::types::AttributeValue::Bool(true),
                );
            }
            Some(false) => {
                filters.push("(attribute_not_exists(drifted) OR drifted = :dr)");
                q.values.insert(
                    ":dr".into(),
                    aws_sdk_dynamodb::types::AttributeValue::Bool(false),
                );
            }
            None => {}
        }
        if let Some(tag) = &f.tag {
            filters.push("contains(tags, :tag)");
            q.values.insert(":tag".into(), item::s(tag));
        }
        if let Some(text) = &f.q {
            filters.push("contains(search_text, :q)");
            q.values.insert(":q".into(), item::s(text));
        }
        if let Some(since) = &f.updated_since {
            filters.push("updated_at >= :us");
            q.values.insert(":us".into(), item::s(since));
        }
        if !filters.is_empty() {
            q.filter = Some(filters.join(" AND "));
        }
        let (items, next_cursor) = self
            .list_page(
                &q,
                binding,
                cursor,
                &[
                    ("GSI1PK", Must::Equal(keys::TOOLS_INDEX_PK)),
                    ("PK", Must::StartWith(keys::TOOL_PK_PREFIX)),
                    ("SK", Must::Equal(keys::TOOL_SK)),
                ],
                limit,
                |it| from_item(it).map(|t| Some(t).filter(|t| shown(t))),
            )
            .await?;
        Ok(ToolPage { items, next_cursor })
    }

    /// A tool's probe history, newest first, and whether the tool exists. Reads the partition
    /// backwards from the tool item (`TOOL` sorts after every `PROBE#…` key), so a first page
    /// sees the tool item too and one query answers both questions.
    pub async fn list_probes(
        &self,
        tool_id: ToolId,
        limit: usize,
        cursor: Option<&str>,
        binding: &super::cursor::Binding,
    ) -> Result<(bool, Vec<ProbeRecord>, Option<String>), StoreError> {
        let tool_id = &tool_id.to_string();
        let mut q = PageQuery {
            key_condition: "PK = :pk AND SK BETWEEN :lo AND :hi".into(),
            forward: false,
            ..Default::default()
        };
        q.values
            .insert(":pk".into(), item::s(keys::tool_pk(tool_id)));
        q.values
            .insert(":lo".into(), item::s(keys::PROBE_SK_PREFIX));
        q.values.insert(":hi".into(), item::s(keys::TOOL_SK));
        let pk = keys::tool_pk(tool_id);
        let start = q.start_from(
            binding,
            cursor,
            &[
                ("PK", Must::Equal(&pk)),
                ("SK", Must::StartWith(keys::PROBE_SK_PREFIX)),
            ],
        )?;
        let first_page = start.is_none();
        // The first page also holds the tool item: ask for one more.
        let want = if first_page { limit + 1 } else { limit };
        let page = self.query_page(&q, start, want).await?;
        let mut exists = !first_page;
        let mut records = Vec::new();
        for it in page.items {
            let key: KeyItem = item::from_item(it.clone())?;
            if key.sk == keys::TOOL_SK {
                exists = true;
                continue;
            }
            records.push(ProbeRecord::try_from(item::from_item::<ProbeItem>(it)?)?);
        }
        // A later page that finds nothing cannot tell a finished history from a tool that never
        // existed (a forged cursor): only then is the tool looked up.
        if !first_page && records.is_empty() {
            exists = self
                .get(keys::tool_pk(tool_id), keys::TOOL_SK)
                .await?
                .is_some();
        }
        Ok((
            exists,
            records,
            page.resume
                .map(|k| super::cursor::encode(binding, &k, None)),
        ))
    }

    /// Claims a due tool for one re-probe run until `until` (epoch seconds), so overlapping runs
    /// do not probe the same server twice. Fails if the tool changed or another run holds an
    /// unexpired claim. The claim needs no release: the result's write replaces the whole item.
    pub async fn claim_probe(
        &self,
        id: ToolId,
        version: u64,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", item::s(keys::tool_pk(&id.to_string())))
            .key("SK", item::s(keys::TOOL_SK))
            .update_expression("SET probe_claimed_until = :until")
            .condition_expression(
                "version = :v AND (attribute_not_exists(probe_claimed_until) OR probe_claimed_until < :now)",
            )
            .expression_attribute_values(":until", item::n(until))
            .expression_attribute_values(":now", item::n(now))
            .expression_attribute_values(":v", item::n(version))
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) => match sdk_error(e) {
                StoreError::ConditionFailed => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Active remote tools whose probe is stale at `now`, oldest first (GSI2 `PROBE_DUE`).
    /// The tools due for re-probing, whole (the index projects every attribute): the re-prober
    /// then needs no read per tool. An item read here may be outdated by the time its probe
    /// starts; the claim is conditional on its version, so such a tool is skipped and picked up
    /// again by the next run.
    pub async fn due_tools(&self, now: &str, max: usize) -> Result<Vec<Tool>, StoreError> {
        let q = PageQuery {
            index: Some(keys::GSI2),
            key_condition: "GSI2PK = :pk AND GSI2SK < :now".into(),
            forward: true,
            values: [
                (":pk".to_string(), item::s(keys::PROBE_DUE_PK)),
                (":now".to_string(), item::s(now)),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let page = self.query_page(&q, None, max).await?;
        page.items.into_iter().map(from_item).collect()
    }
}
