//! Tool items as stored: the tool, its name guard, its probe records, and the conditional
//! writes the tool operations are made of.

#[cfg(doc)]
use crate::domain::drift::{Drift, ToolList};
use crate::domain::probe::TransportPreference;
use crate::domain::tool::{
    ProbeRecord, RemoteConfig, RiskLevel, SealedHeaders, Tool, ToolId, ToolKind, ToolSummary,
    ToolType,
};
use crate::store::item::{self, Entity, Item};
use crate::store::{keys, StoreError};
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

pub(super) fn missing(what: &str) -> StoreError {
    StoreError::Corrupt(format!("remote tool item lacks {what}"))
}

/// A stored tool id; anything but the canonical form is not an item this code wrote.
pub(super) fn tool_id(s: &str) -> Result<ToolId, StoreError> {
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
pub(super) fn put_if_version(
    table: &str,
    t: &Tool,
    expected: u64,
) -> Result<TransactWriteItem, StoreError> {
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
pub(super) fn delete_if(
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
pub(super) const PROBE_DELETES_PER_TRANSACTION: usize = 90;
