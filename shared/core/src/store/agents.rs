//! Agent items, their name guard, and API key items.
//!
//! A key item carries a copy of its agent (name, groups, tags, disabled) so that authenticating
//! a key is one `GetItem`. Every agent change rewrites the copies of its unrevoked keys
//! (listed on the agent item, at most `MAX_ACTIVE_KEYS`) in the same transaction, conditional
//! on the agent's `version` and `keys_rev`; creating or revoking a key bumps `keys_rev`, so a
//! key made while the agent changes makes one of the two transactions fail and retry.

use super::cursor::Must;
use super::item::{self, Entity, Item};
use super::{keys, put_new, Store, StoreError};
use crate::domain::agent::{Agent, ApiKey};
use crate::domain::audit::AuditEvent;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

/// An agent, under `AGENT#<id>` / `AGENT`, listed in GSI1 `AGENTS` by name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentItem {
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
    pub name: String,
    pub description: String,
    pub owner_user_id: String,
    pub groups: Vec<String>,
    pub tags: Vec<String>,
    pub disabled: bool,
    pub version: u64,
    pub active_keys: Vec<String>,
    pub keys_rev: u64,
    /// Lower-cased name and description, for `q`.
    pub search_text: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Agent> for AgentItem {
    fn from(a: &Agent) -> Self {
        Self {
            pk: keys::agent_pk(&a.id),
            sk: keys::AGENT_SK.to_owned(),
            gsi1pk: keys::AGENTS_INDEX_PK.to_owned(),
            gsi1sk: a.name.clone(),
            entity: Entity::Agent,
            id: a.id.clone(),
            name: a.name.clone(),
            description: a.description.clone(),
            owner_user_id: a.owner_user_id.clone(),
            groups: a.groups.clone(),
            tags: a.tags.clone(),
            disabled: a.disabled,
            version: a.version,
            active_keys: a.active_keys.clone(),
            keys_rev: a.keys_rev,
            search_text: format!("{}\n{}", a.name, a.description.to_lowercase()),
            created_at: a.created_at.clone(),
            updated_at: a.updated_at.clone(),
        }
    }
}

impl TryFrom<AgentItem> for Agent {
    type Error = StoreError;

    fn try_from(it: AgentItem) -> Result<Self, StoreError> {
        it.entity.require(Entity::Agent)?;
        Ok(Agent {
            id: it.id,
            name: it.name,
            description: it.description,
            owner_user_id: it.owner_user_id,
            groups: it.groups,
            tags: it.tags,
            disabled: it.disabled,
            version: it.version,
            active_keys: it.active_keys,
            keys_rev: it.keys_rev,
            created_at: it.created_at,
            updated_at: it.updated_at,
        })
    }
}

/// Claims an agent name (`AGENTNAME#<name>` / `UNIQUE`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentNameGuardItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub agent_id: String,
}

/// An API key, under `APIKEY#<prefix>` / `APIKEY`, listed in GSI1 `AGENTKEYS#<agent>` by
/// creation time. Holds the key's HMAC, never the key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
    pub entity: Entity,
    pub prefix: String,
    pub agent_id: String,
    pub pepper_kid: String,
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    pub agent_name: String,
    pub agent_groups: Vec<String>,
    pub agent_tags: Vec<String>,
    pub agent_disabled: bool,
}

impl From<&ApiKey> for ApiKeyItem {
    fn from(k: &ApiKey) -> Self {
        Self {
            pk: keys::api_key_pk(&k.prefix),
            sk: keys::API_KEY_SK.to_owned(),
            gsi1pk: keys::agent_keys_index_pk(&k.agent_id),
            gsi1sk: format!("{}#{}", k.created_at, k.prefix),
            entity: Entity::ApiKey,
            prefix: k.prefix.clone(),
            agent_id: k.agent_id.clone(),
            pepper_kid: k.pepper_kid.clone(),
            digest: k.digest.clone(),
            description: k.description.clone(),
            created_at: k.created_at.clone(),
            expires_at: k.expires_at.clone(),
            last_used_at: k.last_used_at.clone(),
            revoked_at: k.revoked_at.clone(),
            agent_name: k.agent_name.clone(),
            agent_groups: k.agent_groups.clone(),
            agent_tags: k.agent_tags.clone(),
            agent_disabled: k.agent_disabled,
        }
    }
}

impl TryFrom<ApiKeyItem> for ApiKey {
    type Error = StoreError;

    fn try_from(it: ApiKeyItem) -> Result<Self, StoreError> {
        it.entity.require(Entity::ApiKey)?;
        Ok(ApiKey {
            prefix: it.prefix,
            agent_id: it.agent_id,
            pepper_kid: it.pepper_kid,
            digest: it.digest,
            description: it.description,
            created_at: it.created_at,
            expires_at: it.expires_at,
            last_used_at: it.last_used_at,
            revoked_at: it.revoked_at,
            agent_name: it.agent_name,
            agent_groups: it.agent_groups,
            agent_tags: it.agent_tags,
            agent_disabled: it.agent_disabled,
        })
    }
}

fn agent_item(a: &Agent) -> Result<Item, StoreError> {
    item::to_item(&AgentItem::from(a))
}

fn agent_from(it: Item) -> Result<Agent, StoreError> {
    item::from_item::<AgentItem>(it)?.try_into()
}

fn key_from(it: Item) -> Result<ApiKey, StoreError> {
    item::from_item::<ApiKeyItem>(it)?.try_into()
}

/// Filters of `GET /agents`.
#[derive(Clone, Debug, Default)]
pub struct AgentFilter {
    pub disabled: Option<bool>,
    pub group: Option<String>,
    pub tag: Option<String>,
    pub owner_user_id: Option<String>,
    /// Lower-cased.
    pub q: Option<String>,
}

/// A page of a listing.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Why an agent change was not stored.
#[derive(Debug)]
pub enum AgentWriteError {
    /// The agent changed (or a key was made or revoked) since it was read.
    Stale,
    /// The key to revoke was revoked meanwhile, or belongs to another agent.
    KeyGone,
    /// The owner named does not exist.
    NoOwner,
    Store(StoreError),
}

impl From<StoreError> for AgentWriteError {
    fn from(e: StoreError) -> Self {
        AgentWriteError::Store(e)
    }
}

/// The agent item in place of (`version`, `keys_rev`) of the same agent.
fn replace_agent(table: &str, new: &Agent, old: &Agent) -> Result<TransactWriteItem, StoreError> {
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(agent_item(new)?))
        .condition_expression("#version = :version AND keys_rev = :keys_rev")
        .expression_attribute_names("#version", "version")
        .expression_attribute_values(":version", item::n(old.version))
        .expression_attribute_values(":keys_rev", item::n(old.keys_rev))
        .build()
        .expect("table, item and condition are set");
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The owner must be a stored user when the transaction commits.
fn owner_exists(table: &str, user_id: &str) -> TransactWriteItem {
    let check = ConditionCheck::builder()
        .table_name(table)
        .key("PK", item::s(keys::user_pk(user_id)))
        .key("SK", item::s(keys::USER_SK))
        .condition_expression("attribute_exists(PK)")
        .build()
        .expect("table, key and condition are set");
    TransactWriteItem::builder().condition_check(check).build()
}

/// Rewrites a key's copy of its agent (see the module docs).
fn copy_agent_to_key(
    table: &str,
    prefix: &str,
    a: &Agent,
) -> Result<TransactWriteItem, StoreError> {
    let list = |v: &[String]| {
        aws_sdk_dynamodb::types::AttributeValue::L(v.iter().map(|s| item::s(s.clone())).collect())
    };
    let update = Update::builder()
        .table_name(table)
        .key("PK", item::s(keys::api_key_pk(prefix)))
        .key("SK", item::s(keys::API_KEY_SK))
        .update_expression(
            "SET agent_name = :name, agent_groups = :groups, agent_tags = :tags, agent_disabled = :disabled",
        )
        .condition_expression("attribute_exists(PK) AND agent_id = :agent")
        .expression_attribute_values(":name", item::s(a.name.clone()))
        .expression_attribute_values(":groups", list(&a.groups))
        .expression_attribute_values(":tags", list(&a.tags))
        .expression_attribute_values(
            ":disabled",
            aws_sdk_dynamodb::types::AttributeValue::Bool(a.disabled),
        )
        .expression_attribute_values(":agent", item::s(a.id.clone()))
        .build()
        .map_err(|e| StoreError::Other(format!("cannot build an update: {e}")))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

impl Store {
    /// Creates an agent with its name guard and audit event; the owner must exist. A taken name
    /// cancels at index 1, a missing owner at index 2.
    pub async fn create_agent(&self, a: &Agent, audit: &AuditEvent) -> Result<(), StoreError> {
        let guard = AgentNameGuardItem {
            pk: keys::agent_name_guard_pk(&a.name),
            sk: keys::UNIQUE_SK.to_owned(),
            entity: Entity::AgentNameGuard,
            agent_id: a.id.clone(),
        };
        self.transact(vec![
            put_new(&self.table, agent_item(a)?),
            put_new(&self.table, item::to_item(&guard)?),
            owner_exists(&self.table, &a.owner_user_id),
            super::audit::put(&self.table, audit)?,
        ])
        .await
    }

    pub async fn get_agent(&self, id: &str) -> Result<Option<Agent>, StoreError> {
        self.get(keys::agent_pk(id), keys::AGENT_SK)
            .await?
            .map(agent_from)
            .transpose()
    }

    /// Stores `new` in place of `old` with the audit event, rewriting every unrevoked key's copy
    /// of the agent; `check_owner` when the owner changed.
    pub async fn save_agent(
        &self,
        new: &Agent,
        old: &Agent,
        check_owner: bool,
        audit: &AuditEvent,
    ) -> Result<(), AgentWriteError> {
        let mut items = vec![replace_agent(&self.table, new, old)?];
        for prefix in &new.active_keys {
            items.push(copy_agent_to_key(&self.table, prefix, new)?);
        }
        let owner_at = check_owner.then_some(items.len());
        if check_owner {
            items.push(owner_exists(&self.table, &new.owner_user_id));
        }
        items.push(super::audit::put(&self.table, audit)?);
        self.agent_transaction(items, owner_at).await
    }

    async fn agent_transaction(
        &self,
        items: Vec<TransactWriteItem>,
        owner_at: Option<usize>,
    ) -> Result<(), AgentWriteError> {
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_conflict() => Err(AgentWriteError::Stale),
            Err(e) => match e.failed_condition_index() {
                Some(0) => Err(AgentWriteError::Stale),
                Some(i) if Some(i) == owner_at => Err(AgentWriteError::NoOwner),
                Some(_) => Err(AgentWriteError::KeyGone),
                None => Err(AgentWriteError::Store(e)),
            },
        }
    }

    /// Agents sorted by name (GSI1 `AGENTS`), filtered.
    pub async fn list_agents(
        &self,
        f: &AgentFilter,
        limit: usize,
        cursor: Option<&str>,
        binding: &super::cursor::Binding,
    ) -> Result<Page<Agent>, StoreError> {
        let mut q = super::PageQuery {
            index: Some(keys::GSI1),
            key_condition: "GSI1PK = :pk".into(),
            forward: true,
            ..Default::default()
        };
        q.values
            .insert(":pk".into(), item::s(keys::AGENTS_INDEX_PK));
        let mut filters: Vec<&str> = Vec::new();
        if let Some(d) = f.disabled {
            filters.push("disabled = :disabled");
            q.values.insert(
                ":disabled".into(),
                aws_sdk_dynamodb::types::AttributeValue::Bool(d),
            );
        }
        if let Some(g) = &f.group {
            filters.push("contains(#groups, :group)");
            q.names.insert("#groups".into(), "groups".into());
            q.values.insert(":group".into(), item::s(g.clone()));
        }
        if let Some(t) = &f.tag {
            filters.push("contains(tags, :tag)");
            q.values.insert(":tag".into(), item::s(t.clone()));
        }
        if let Some(o) = &f.owner_user_id {
            filters.push("owner_user_id = :owner");
            q.values.insert(":owner".into(), item::s(o.clone()));
        }
        if let Some(text) = &f.q {
            filters.push("contains(search_text, :q)");
            q.values.insert(":q".into(), item::s(text.clone()));
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
                    ("GSI1PK", Must::Equal(keys::AGENTS_INDEX_PK)),
                    ("PK", Must::StartWith(keys::AGENT_PK_PREFIX)),
                    ("SK", Must::Equal(keys::AGENT_SK)),
                ],
                limit,
                super::all(agent_from),
            )
            .await?;
        Ok(Page { items, next_cursor })
    }

    /// Stores a new key and the agent with the key added (`new_agent`, from `old_agent`), with
    /// the audit event.
    pub async fn create_api_key(
        &self,
        key: &ApiKey,
        new_agent: &Agent,
        old_agent: &Agent,
        audit: &AuditEvent,
    ) -> Result<(), AgentWriteError> {
        let items = vec![
            replace_agent(&self.table, new_agent, old_agent)?,
            put_new(&self.table, item::to_item(&ApiKeyItem::from(key))?),
            super::audit::put(&self.table, audit)?,
        ];
        self.agent_transaction(items, None).await
    }

    /// The key with this public prefix.
    pub async fn get_api_key(&self, prefix: &str) -> Result<Option<ApiKey>, StoreError> {
        self.get(keys::api_key_pk(prefix), keys::API_KEY_SK)
            .await?
            .map(key_from)
            .transpose()
    }

    /// One agent's keys, oldest first (GSI1 `AGENTKEYS#<agent>`).
    pub async fn list_api_keys(
        &self,
        agent_id: &str,
        limit: usize,
        cursor: Option<&str>,
        binding: &super::cursor::Binding,
    ) -> Result<Page<ApiKey>, StoreError> {
        let index_pk = keys::agent_keys_index_pk(agent_id);
        let mut q = super::PageQuery {
            index: Some(keys::GSI1),
            key_condition: "GSI1PK = :pk".into(),
            forward: true,
            ..Default::default()
        };
        q.values.insert(":pk".into(), item::s(index_pk.clone()));
        let (items, next_cursor) = self
            .list_page(
                &q,
                binding,
                cursor,
                &[
                    ("GSI1PK", Must::Equal(&index_pk)),
                    ("PK", Must::StartWith(keys::API_KEY_PK_PREFIX)),
                    ("SK", Must::Equal(keys::API_KEY_SK)),
                ],
                limit,
                super::all(key_from),
            )
            .await?;
        Ok(Page { items, next_cursor })
    }

    /// Marks the key revoked and stores the agent without it, with the audit event. A key
    /// already revoked, or another agent's, cancels at index 1 (`KeyGone`).
    pub async fn revoke_api_key(
        &self,
        prefix: &str,
        revoked_at: &str,
        new_agent: &Agent,
        old_agent: &Agent,
        audit: &AuditEvent,
    ) -> Result<(), AgentWriteError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("PK", item::s(keys::api_key_pk(prefix)))
            .key("SK", item::s(keys::API_KEY_SK))
            .update_expression("SET revoked_at = :at")
            .condition_expression(
                "attribute_exists(PK) AND agent_id = :agent AND attribute_not_exists(revoked_at)",
            )
            .expression_attribute_values(":at", item::s(revoked_at))
            .expression_attribute_values(":agent", item::s(old_agent.id.clone()))
            .build()
            .map_err(|e| StoreError::Other(format!("cannot build an update: {e}")))?;
        let items = vec![
            replace_agent(&self.table, new_agent, old_agent)?,
            TransactWriteItem::builder().update(update).build(),
            super::audit::put(&self.table, audit)?,
        ];
        self.agent_transaction(items, None).await
    }

    /// Records a key's use, unless it was recorded since `cutoff` (at most one write a minute
    /// per key, whatever the request rate). Losing the condition is not an error.
    pub async fn touch_api_key(
        &self,
        prefix: &str,
        now: &str,
        cutoff: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", item::s(keys::api_key_pk(prefix)))
            .key("SK", item::s(keys::API_KEY_SK))
            .update_expression("SET last_used_at = :now")
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(last_used_at) OR last_used_at < :cutoff)",
            )
            .expression_attribute_values(":now", item::s(now))
            .expression_attribute_values(":cutoff", item::s(cutoff))
            .send()
            .await;
        match result.map_err(super::sdk_error) {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
