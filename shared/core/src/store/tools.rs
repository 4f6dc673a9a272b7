//! Tool items, their name guards and their probe records.

use super::item::{self, get_b, get_bool, get_n, get_s, list_s, opt_s, Item, ItemBuilder};
use super::{delete, keys, put_new, sdk_error, PageQuery, Store, StoreError};
use crate::domain::audit::AuditEvent;
use crate::domain::tool::{ProbeRecord, RemoteConfig, RiskLevel, SealedHeaders, Tool, ToolType};
use crate::probe::TransportPreference;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

/// The lower-cased text `q` searches: name, display name and description.
pub fn search_text(t: &Tool) -> String {
    format!("{}\n{}\n{}", t.name, t.display_name, t.description).to_lowercase()
}

pub fn to_item(t: &Tool) -> Item {
    let mut b = ItemBuilder::new()
        .s("PK", keys::tool_pk(&t.id))
        .s("SK", keys::TOOL_SK)
        .s("GSI1PK", keys::TOOLS_INDEX_PK)
        .s("GSI1SK", t.name.to_lowercase())
        .s("entity", "tool")
        .s("id", &t.id)
        .s("tool_type", t.tool_type.as_str())
        .s("name", &t.name)
        .s("name_lower", t.name.to_lowercase())
        .s("display_name", &t.display_name)
        .s("description", &t.description)
        .s("search_text", search_text(t))
        .s("risk_level", t.risk_level.as_str())
        .bool("is_active", t.is_active)
        .n("version", t.version)
        .s("created_at", &t.created_at)
        .s("updated_at", &t.updated_at)
        .s("created_by", &t.created_by)
        .s("updated_by", &t.updated_by);
    if let Some(schema) = &t.input_schema {
        b = b.s("input_schema", schema.to_string());
    }
    if let Some(r) = &t.remote {
        b = b
            .s("server_url", &r.server_url)
            .s(
                "transport_preference",
                transport_str(r.transport_preference),
            )
            .list_s("header_names", &r.header_names)
            .bool("requires_per_user_auth", r.requires_per_user_auth);
        if let Some(h) = &r.sealed_headers {
            b = b
                .b("headers_key", h.wrapped_key.clone())
                .b("headers_nonce", h.nonce.clone())
                .b("headers_ciphertext", h.ciphertext.clone());
        }
        if let Some(p) = &r.last_probe {
            b = b
                .s("last_probe", serde_json::to_string(p).unwrap_or_default())
                .s("probe_valid_until", &p.valid_until);
            // Only active remote tools are due for re-probing: the sparse index holds just them.
            if t.is_active {
                b = b
                    .s("GSI2PK", keys::PROBE_DUE_PK)
                    .s("GSI2SK", keys::probe_due_sk(&p.valid_until, &t.id));
            }
        }
    }
    b.build()
}

fn transport_str(t: TransportPreference) -> &'static str {
    match t {
        TransportPreference::Auto => "auto",
        TransportPreference::StreamableHttp => "streamable_http",
        TransportPreference::Sse => "sse",
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("tool item has a bad {what}"))
}

pub fn from_item(it: &Item) -> Result<Tool, StoreError> {
    let tool_type = ToolType::parse(get_s(it, "tool_type")?).ok_or_else(|| corrupt("tool_type"))?;
    let remote = if tool_type == ToolType::Remote {
        let sealed_headers = match it.get("headers_ciphertext") {
            Some(_) => Some(SealedHeaders {
                wrapped_key: get_b(it, "headers_key")?,
                nonce: get_b(it, "headers_nonce")?,
                ciphertext: get_b(it, "headers_ciphertext")?,
            }),
            None => None,
        };
        let transport = match get_s(it, "transport_preference")? {
            "auto" => TransportPreference::Auto,
            "streamable_http" => TransportPreference::StreamableHttp,
            "sse" => TransportPreference::Sse,
            _ => return Err(corrupt("transport_preference")),
        };
        Some(RemoteConfig {
            server_url: get_s(it, "server_url")?.to_owned(),
            transport_preference: transport,
            header_names: list_s(it, "header_names"),
            sealed_headers,
            requires_per_user_auth: get_bool(it, "requires_per_user_auth")?,
            last_probe: opt_s(it, "last_probe")
                .map(|p| serde_json::from_str(&p).map_err(|_| corrupt("last_probe")))
                .transpose()?,
        })
    } else {
        None
    };
    Ok(Tool {
        id: get_s(it, "id")?.to_owned(),
        tool_type,
        name: get_s(it, "name")?.to_owned(),
        display_name: get_s(it, "display_name")?.to_owned(),
        description: get_s(it, "description")?.to_owned(),
        risk_level: RiskLevel::parse(get_s(it, "risk_level")?)
            .ok_or_else(|| corrupt("risk_level"))?,
        is_active: get_bool(it, "is_active")?,
        version: get_n(it, "version")?,
        created_at: get_s(it, "created_at")?.to_owned(),
        updated_at: get_s(it, "updated_at")?.to_owned(),
        created_by: get_s(it, "created_by")?.to_owned(),
        updated_by: get_s(it, "updated_by")?.to_owned(),
        input_schema: opt_s(it, "input_schema")
            .map(|s| serde_json::from_str(&s).map_err(|_| corrupt("input_schema")))
            .transpose()?,
        remote,
    })
}

pub fn guard_item(name: &str, tool_id: &str) -> Item {
    ItemBuilder::new()
        .s("PK", keys::tool_name_guard_pk(&name.to_lowercase()))
        .s("SK", keys::UNIQUE_SK)
        .s("entity", "tool_name_guard")
        .s("tool_id", tool_id)
        .build()
}

pub fn probe_item(tool_id: &str, p: &ProbeRecord, expires_at: i64) -> Item {
    ItemBuilder::new()
        .s("PK", keys::tool_pk(tool_id))
        .s("SK", keys::probe_sk(&p.probed_at, &p.id))
        .s("entity", "probe")
        .s("tool_id", tool_id)
        .s("record", serde_json::to_string(p).unwrap_or_default())
        .n("expires_at", expires_at)
        .build()
}

/// Why a tool write was refused.
#[derive(Debug, PartialEq)]
pub enum ToolWriteError {
    /// Another tool has this name (case-insensitively).
    NameTaken,
    /// The tool changed (or vanished) since it was read.
    Stale,
    Store(StoreError),
}

impl From<StoreError> for ToolWriteError {
    fn from(e: StoreError) -> Self {
        ToolWriteError::Store(e)
    }
}

/// Filters for the catalog listing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolFilter {
    pub tool_type: Option<ToolType>,
    pub risk_level: Option<RiskLevel>,
    pub is_active: Option<bool>,
    /// Lower-cased search text.
    pub q: Option<String>,
}

/// A page of tools and the cursor for the next.
pub struct ToolPage {
    pub items: Vec<Tool>,
    pub next_cursor: Option<String>,
}

/// A transaction Put of the tool that succeeds only if the stored version is `expected`.
fn put_if_version(table: &str, t: &Tool, expected: u64) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(to_item(t)))
        .condition_expression("attribute_exists(PK) AND version = :expected")
        .expression_attribute_values(":expected", item::n(expected))
        .build()
        .expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
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
            put_new(&self.table, to_item(t)),
            put_new(&self.table, guard_item(&t.name, &t.id)),
            super::audit::put(&self.table, audit),
        ];
        if let Some(p) = t.remote.as_ref().and_then(|r| r.last_probe.as_ref()) {
            items.push(put_new(&self.table, probe_item(&t.id, p, probe_expires_at)));
        }
        self.transact(items)
            .await
            .map_err(|e| match e.failed_condition_index() {
                Some(1) => ToolWriteError::NameTaken,
                _ => ToolWriteError::Store(e),
            })
    }

    pub async fn get_tool(&self, id: &str) -> Result<Option<Tool>, StoreError> {
        match self.get(keys::tool_pk(id), keys::TOOL_SK).await? {
            Some(it) => Ok(Some(from_item(&it)?)),
            None => Ok(None),
        }
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
        let mut items = vec![
            put_if_version(&self.table, new, old.version),
            super::audit::put(&self.table, audit),
        ];
        let renamed = old.name.to_lowercase() != new.name.to_lowercase();
        if renamed {
            items.push(put_new(&self.table, guard_item(&new.name, &new.id)));
            items.push(delete_if(
                &self.table,
                keys::tool_name_guard_pk(&old.name.to_lowercase()),
                keys::UNIQUE_SK,
                "tool_id = :id",
                ":id",
                &old.id,
            ));
        }
        if let Some((p, expires_at)) = probe {
            items.push(put_new(&self.table, probe_item(&new.id, p, expires_at)));
        }
        self.transact(items)
            .await
            .map_err(|e| match e.failed_condition_index() {
                Some(0) => ToolWriteError::Stale,
                Some(2) if renamed => ToolWriteError::NameTaken,
                _ if e.is_conflict() => ToolWriteError::Stale,
                _ => ToolWriteError::Store(e),
            })
    }

    /// Deletes a tool, its name guard and its probe history, with the audit event. The tool,
    /// guard, event and the first probe records go in one transaction; any history beyond what a
    /// transaction holds is removed right after (and expires by TTL regardless).
    pub async fn delete_tool(
        &self,
        id: &str,
        expected_version: Option<u64>,
        audit_for: impl FnOnce(&Tool) -> AuditEvent,
    ) -> Result<Option<Tool>, ToolWriteError> {
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
                .projection_expression("PK, SK, entity, #n, id, tool_type, display_name, description, risk_level, is_active, version, created_at, updated_at, created_by, updated_by, server_url, transport_preference, requires_per_user_auth")
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
        let Some(tool_item) = all
            .iter()
            .find(|it| opt_s(it, "SK").as_deref() == Some(keys::TOOL_SK))
        else {
            return Ok(None);
        };
        let tool = from_item_minimal(tool_item)?;
        if expected_version.is_some_and(|v| v != tool.version) {
            return Err(ToolWriteError::Stale);
        }
        let probe_keys: Vec<String> = all
            .iter()
            .filter_map(|it| opt_s(it, "SK"))
            .filter(|sk| sk.starts_with(keys::PROBE_SK_PREFIX))
            .collect();
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
            super::audit::put(&self.table, &audit),
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

    /// Lists the catalog sorted by name (GSI1 `TOOLS`), filtered, one page.
    pub async fn list_tools(
        &self,
        f: &ToolFilter,
        limit: usize,
        cursor: Option<&str>,
        scope: &str,
    ) -> Result<ToolPage, crate::error::AppError> {
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
        if let Some(text) = &f.q {
            filters.push("contains(search_text, :q)");
            q.values.insert(":q".into(), item::s(text));
        }
        if !filters.is_empty() {
            q.filter = Some(filters.join(" AND "));
        }
        let start = match cursor {
            Some(c) => Some(
                super::cursor::decode(scope, c, q.key_names())
                    .map_err(crate::error::AppError::BadRequest)?
                    .key,
            ),
            None => None,
        };
        let page = self.query_page(&q, start, limit).await?;
        Ok(ToolPage {
            items: page.items.iter().map(from_item).collect::<Result<_, _>>()?,
            next_cursor: page.resume.map(|k| super::cursor::encode(scope, &k, None)),
        })
    }

    /// A tool's probe history, newest first, and whether the tool exists. Reads the partition
    /// backwards from the tool item (`TOOL` sorts after every `PROBE#…` key), so a first page
    /// sees the tool item too and one query answers both questions.
    pub async fn list_probes(
        &self,
        tool_id: &str,
        limit: usize,
        cursor: Option<&str>,
        scope: &str,
    ) -> Result<(bool, Vec<ProbeRecord>, Option<String>), crate::error::AppError> {
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
        let start = match cursor {
            Some(c) => Some(
                super::cursor::decode(scope, c, q.key_names())
                    .map_err(crate::error::AppError::BadRequest)?
                    .key,
            ),
            None => None,
        };
        let first_page = start.is_none();
        // The first page also holds the tool item: ask for one more.
        let want = if first_page { limit + 1 } else { limit };
        let page = self.query_page(&q, start, want).await?;
        let mut exists = !first_page;
        let mut records = Vec::new();
        for it in &page.items {
            if opt_s(it, "SK").as_deref() == Some(keys::TOOL_SK) {
                exists = true;
                continue;
            }
            records.push(
                serde_json::from_str(get_s(it, "record")?).map_err(|_| corrupt("probe record"))?,
            );
        }
        Ok((
            exists,
            records,
            page.resume.map(|k| super::cursor::encode(scope, &k, None)),
        ))
    }

    /// Claims a due tool for one re-probe run until `until` (epoch seconds), so overlapping runs
    /// do not probe the same server twice. Fails if the tool changed or another run holds an
    /// unexpired claim. The claim needs no release: the result's write replaces the whole item.
    pub async fn claim_probe(
        &self,
        id: &str,
        version: u64,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", item::s(keys::tool_pk(id)))
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
    pub async fn due_tool_ids(&self, now: &str, max: usize) -> Result<Vec<String>, StoreError> {
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
        page.items
            .iter()
            .map(|it| get_s(it, "id").map(str::to_owned))
            .collect()
    }
}

/// Reads the fields `delete_tool` projects (no schema, headers or probe).
fn from_item_minimal(it: &Item) -> Result<Tool, StoreError> {
    Ok(Tool {
        id: get_s(it, "id")?.to_owned(),
        tool_type: ToolType::parse(get_s(it, "tool_type")?).ok_or_else(|| corrupt("tool_type"))?,
        name: get_s(it, "name")?.to_owned(),
        display_name: get_s(it, "display_name")?.to_owned(),
        description: get_s(it, "description")?.to_owned(),
        risk_level: RiskLevel::parse(get_s(it, "risk_level")?)
            .ok_or_else(|| corrupt("risk_level"))?,
        is_active: get_bool(it, "is_active")?,
        version: get_n(it, "version")?,
        created_at: get_s(it, "created_at")?.to_owned(),
        updated_at: get_s(it, "updated_at")?.to_owned(),
        created_by: get_s(it, "created_by")?.to_owned(),
        updated_by: get_s(it, "updated_by")?.to_owned(),
        input_schema: None,
        remote: None,
    })
}
