//! Tool items, their name guards and their probe records.

use super::cursor::Must;
use super::item::{self, Entity, Item, KeyItem};
use super::{delete, keys, put_new, sdk_error, PageQuery, Store, StoreError};
use crate::domain::audit::AuditEvent;
#[cfg(doc)]
use crate::domain::drift::{Drift, ToolList};
use crate::domain::probe::TransportPreference;
use crate::domain::tool::{
    ProbeRecord, RemoteConfig, RiskLevel, SealedHeaders, Tool, ToolId, ToolKind, ToolSummary,
    ToolType,
};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

/// The lower-cased text `q` searches: name, display name and description.
pub fn search_text(t: &Tool) -> String {
    format!("{}\n{}\n{}", t.name, t.display_name, t.description).to_lowercase()
}

/// A tool (`TOOL#<id>` / `TOOL`), listed in GSI1 `TOOLS` by lower-cased name. Remote tools add
/// their server, sealed headers and latest probe; active ones with a probe are also in the sparse
/// GSI2 `PROBE_DUE`, sorted by when the probe goes stale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
    #[serde(rename = "GSI2PK", skip_serializing_if = "Option::is_none", default)]
    pub gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", skip_serializing_if = "Option::is_none", default)]
    pub gsi2sk: Option<String>,
    pub entity: Entity,
    pub id: String,
    pub tool_type: ToolType,
    pub name: String,
    pub name_lower: String,
    pub display_name: String,
    pub description: String,
    pub search_text: String,
    pub risk_level: RiskLevel,
    pub is_active: bool,
    /// Tools stored before tags existed have none.
    #[serde(default)]
    pub tags: Vec<String>,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: String,
    pub updated_by: String,
    /// JSON text: a schema's nesting would otherwise become nested maps and lists.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub input_schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub server_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transport_preference: Option<TransportPreference>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub header_names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub requires_per_user_auth: Option<bool>,
    /// The KMS envelope of the static headers (see `crypto::envelope`), stored as binary.
    #[serde(with = "serde_bytes", skip_serializing_if = "Option::is_none", default)]
    pub headers_key: Option<Vec<u8>>,
    #[serde(with = "serde_bytes", skip_serializing_if = "Option::is_none", default)]
    pub headers_nonce: Option<Vec<u8>>,
    #[serde(with = "serde_bytes", skip_serializing_if = "Option::is_none", default)]
    pub headers_ciphertext: Option<Vec<u8>>,
    /// JSON text of the latest [`ProbeRecord`].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_probe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub probe_valid_until: Option<String>,
    /// JSON text of the approved [`ToolList`] (remote tools that have listed tools).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approved_tools: Option<String>,
    /// JSON text of the [`Drift`] from the approved list, while there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tool_drift: Option<String>,
    /// Remote tools: whether `tool_drift` is set (what `?drifted=` filters on). Absent on
    /// function tools and on remote tools stored before drift was tracked.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub drifted: Option<bool>,
    /// Set in place by [`Store::claim_probe`]; never written with the item, so the next write
    /// of the tool drops the claim.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub probe_claimed_until: Option<i64>,
}

impl TryFrom<&Tool> for ToolItem {
    type Error = StoreError;

    fn try_from(t: &Tool) -> Result<Self, StoreError> {
        let lower = t.name.to_lowercase();
        let id = t.id.to_string();
        let remote = t.remote();
        let input_schema = match &t.kind {
            ToolKind::Function { input_schema } => Some(input_schema.to_string()),
            ToolKind::Remote(_) => None,
        };
        let sealed = remote.and_then(|r| r.sealed_headers.as_ref());
        let probe = remote.and_then(|r| r.last_probe.as_ref());
        // Only active remote tools are due for re-probing: the sparse index holds just them.
        let due = probe.filter(|_| t.is_active);
        Ok(Self {
            pk: keys::tool_pk(&id),
            sk: keys::TOOL_SK.to_owned(),
            gsi1pk: keys::TOOLS_INDEX_PK.to_owned(),
            gsi1sk: lower.clone(),
            gsi2pk: due.map(|_| keys::PROBE_DUE_PK.to_owned()),
            gsi2sk: due.map(|p| keys::probe_due_sk(&p.valid_until, &id)),
            entity: Entity::Tool,
            id,
            tool_type: t.tool_type(),
            name: t.name.clone(),
            name_lower: lower,
            display_name: t.display_name.clone(),
            description: t.description.clone(),
            search_text: search_text(t),
            risk_level: t.risk_level,
            is_active: t.is_active,
            tags: t.tags.clone(),
            version: t.version,
            created_at: t.created_at.clone(),
            updated_at: t.updated_at.clone(),
            created_by: t.created_by.clone(),
            updated_by: t.updated_by.clone(),
            input_schema,
            server_url: remote.map(|r| r.server_url.clone()),
            transport_preference: remote.map(|r| r.transport_preference),
            header_names: remote.map(|r| r.header_names.clone()),
            requires_per_user_auth: remote.map(|r| r.requires_per_user_auth),
            headers_key: sealed.map(|h| h.wrapped_key.clone()),
            headers_nonce: sealed.map(|h| h.nonce.clone()),
            headers_ciphertext: sealed.map(|h| h.ciphertext.clone()),
            last_probe: probe.map(|p| item::to_json("last_probe", p)).transpose()?,
            probe_valid_until: probe.map(|p| p.valid_until.clone()),
            approved_tools: remote
                .and_then(|r| r.approved_tools.as_ref())
                .map(|l| item::to_json("approved_tools", l))
                .transpose()?,
            tool_drift: remote
                .and_then(|r| r.drift.as_ref())
                .map(|d| item::to_json("tool_drift", d))
                .transpose()?,
            drifted: remote.map(|r| r.drift.is_some()),
            probe_claimed_until: None,
        })
    }
}

fn missing(what: &str) -> StoreError {
    StoreError::Corrupt(format!("remote tool item lacks {what}"))
}

/// A stored tool id; anything but the canonical form is not an item this code wrote.
fn tool_id(s: &str) -> Result<ToolId, StoreError> {
    ToolId::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("stored tool id {s:?} is not a UUID")))
}

impl TryFrom<ToolItem> for Tool {
    type Error = StoreError;

    fn try_from(it: ToolItem) -> Result<Self, StoreError> {
        it.entity.require(Entity::Tool)?;
        let kind = match it.tool_type {
            ToolType::Function => ToolKind::Function {
                input_schema: item::from_json(
                    "input_schema",
                    it.input_schema.as_deref().ok_or_else(|| {
                        StoreError::Corrupt("function tool item lacks input_schema".into())
                    })?,
                )?,
            },
            ToolType::Remote => {
                if it.input_schema.is_some() {
                    return Err(StoreError::Corrupt(
                        "remote tool item has an input_schema".into(),
                    ));
                }
                let sealed_headers = match it.headers_ciphertext {
                    Some(ciphertext) => Some(SealedHeaders {
                        wrapped_key: it.headers_key.ok_or_else(|| missing("headers_key"))?,
                        nonce: it.headers_nonce.ok_or_else(|| missing("headers_nonce"))?,
                        ciphertext,
                    }),
                    None => None,
                };
                ToolKind::Remote(RemoteConfig {
                    server_url: it.server_url.ok_or_else(|| missing("server_url"))?,
                    transport_preference: it
                        .transport_preference
                        .ok_or_else(|| missing("transport_preference"))?,
                    header_names: it.header_names.unwrap_or_default(),
                    sealed_headers,
                    requires_per_user_auth: it
                        .requires_per_user_auth
                        .ok_or_else(|| missing("requires_per_user_auth"))?,
                    last_probe: it
                        .last_probe
                        .as_deref()
                        .map(|p| item::from_json("last_probe", p))
                        .transpose()?,
                    approved_tools: it
                        .approved_tools
                        .as_deref()
                        .map(|l| item::from_json("approved_tools", l))
                        .transpose()?,
                    drift: it
                        .tool_drift
                        .as_deref()
                        .map(|d| item::from_json("tool_drift", d))
                        .transpose()?,
                })
            }
        };
        Ok(Tool {
            id: tool_id(&it.id)?,
            name: it.name,
            display_name: it.display_name,
            description: it.description,
            risk_level: it.risk_level,
            is_active: it.is_active,
            tags: it.tags,
            version: it.version,
            created_at: it.created_at,
            updated_at: it.updated_at,
            created_by: it.created_by,
            updated_by: it.updated_by,
            kind,
        })
    }
}

/// What `delete_tool` reads of a tool ([`TOOL_SUMMARY_PROJECTION`]): enough for the version
/// check and the audit event, without the schema, headers or probe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSummaryItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub id: String,
    pub tool_type: ToolType,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub risk_level: RiskLevel,
    pub is_active: bool,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: String,
    pub updated_by: String,
}

/// The attributes of [`ToolSummaryItem`]; `#n` stands for `name`, a DynamoDB reserved word.
/// Probe records in the same partition answer with just their `PK`, `SK` and `entity`.
pub const TOOL_SUMMARY_PROJECTION: &str = "PK, SK, entity, id, tool_type, #n, display_name, \
    description, risk_level, is_active, version, created_at, updated_at, created_by, updated_by";

impl TryFrom<ToolSummaryItem> for ToolSummary {
    type Error = StoreError;

    fn try_from(it: ToolSummaryItem) -> Result<Self, StoreError> {
        it.entity.require(Entity::Tool)?;
        Ok(ToolSummary {
            id: tool_id(&it.id)?,
            tool_type: it.tool_type,
            name: it.name,
            version: it.version,
        })
    }
}

/// Claims a lower-cased tool name (`TOOLNAME#<lower>` / `UNIQUE`) for one tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolNameGuardItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub tool_id: String,
}

/// One probe in a tool's history (`TOOL#<id>` / `PROBE#<probed_at>#<probe id>`), kept until
/// its TTL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub tool_id: String,
    /// JSON text of the [`ProbeRecord`].
    pub record: String,
    /// Epoch seconds; the table's TTL attribute.
    pub expires_at: i64,
}

impl TryFrom<ProbeItem> for ProbeRecord {
    type Error = StoreError;

    fn try_from(it: ProbeItem) -> Result<Self, StoreError> {
        it.entity.require(Entity::Probe)?;
        item::from_json("probe record", &it.record)
    }
}

pub fn to_item(t: &Tool) -> Result<Item, StoreError> {
    item::to_item(&ToolItem::try_from(t)?)
}

pub fn from_item(it: Item) -> Result<Tool, StoreError> {
    item::from_item::<ToolItem>(it)?.try_into()
}

pub fn guard_item(name: &str, tool_id: ToolId) -> Result<Item, StoreError> {
    item::to_item(&ToolNameGuardItem {
        pk: keys::tool_name_guard_pk(&name.to_lowercase()),
        sk: keys::UNIQUE_SK.to_owned(),
        entity: Entity::ToolNameGuard,
        tool_id: tool_id.to_string(),
    })
}

pub fn probe_item(tool_id: ToolId, p: &ProbeRecord, expires_at: i64) -> Result<Item, StoreError> {
    let tool_id = tool_id.to_string();
    item::to_item(&ProbeItem {
        pk: keys::tool_pk(&tool_id),
        sk: keys::probe_sk(&p.probed_at, &p.id),
        entity: Entity::Probe,
        tool_id,
        record: item::to_json("probe record", p)?,
        expires_at,
    })
}

/// Why a tool write was refused.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ToolWriteError {
    /// Another tool has this name (case-insensitively).
    #[error("the tool name is taken")]
    NameTaken,
    /// The tool changed (or vanished) since it was read.
    #[error("the tool changed since it was read")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Filters for the catalog listing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolFilter {
    pub tool_type: Option<ToolType>,
    pub risk_level: Option<RiskLevel>,
    pub is_active: Option<bool>,
    pub tag: Option<String>,
    /// Lower-cased search text.
    pub q: Option<String>,
    /// Only tools whose tool list drifted (`true`) or did not (`false`, function tools too).
    pub drifted: Option<bool>,
    /// Only tools changed at or after this stored timestamp (`time::stamp` form).
    pub updated_since: Option<String>,
}

/// A page of tools and the cursor for the next.
pub struct ToolPage {
    pub items: Vec<Tool>,
    pub next_cursor: Option<String>,
}

/// A transaction Put of the tool that succeeds only if the stored version is `expected`.
fn put_if_version(table: &str, t: &Tool, expected: u64) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(to_item(t)?))
        .condition_expression("attribute_exists(PK) AND version = :expected")
        .expression_attribute_values(":expected", item::n(expected))
        .build()
        .expect("table and item are set");
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A transaction Delete of an item that must exist with the given string attribute.
fn delete_if(
    table: &str,
    pk: String,
    sk: &str,
    cond: &str,
    name: &str,
    value: &str,
) -> TransactWriteItem {
    let del = aws_sdk_dynamodb::types::Delete::builder()
        .table_name(table)
        .key("PK", item::s(pk))
        .key("SK", item::s(sk))
        .condition_expression(cond)
        .expression_attribute_values(name, item::s(value))
        .build()
        .expect("table and key are set");
    TransactWriteItem::builder().delete(del).build()
}

/// Transactions hold at most 100 items; keep room for the tool, guard and audit event.
const PROBE_DELETES_PER_TRANSACTION: usize = 90;

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

    /// The tool named `name` (case-insensitive), from the catalog index (GSI1 `TOOLS` /
    /// `<name_lower>`): one query. The index is eventually consistent, as every listing is.
    pub async fn find_tool_by_name(&self, name: &str) -> Result<Option<Tool>, StoreError> {
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
