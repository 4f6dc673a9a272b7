//! User items and the username guard that makes usernames unique case-insensitively.

use super::cursor::Must;
use super::item::{self, Entity, Item};
use super::tokens::RefreshRecord;
use super::{keys, put_new, sdk_error, Store, StoreError};
use crate::domain::audit::AuditEvent;
use crate::domain::user::{Role, User};
use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

/// A user, under `USER#<id>` / `USER`, listed in GSI1 `USERS` by lower-cased username.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserItem {
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
    pub username: String,
    pub username_lower: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: String,
    // Users written before the users API lack the attributes below: the defaults read them as
    // an enabled user at version 1 named by its username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Lower-cased username and display name, for `q`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_text: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default = "first_version")]
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Epoch milliseconds; see `store::tokens` for how refresh honours it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_valid_after_ms: Option<i64>,
    /// Set by TOTP confirmation, cleared by removal (`store::mfa`); absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub totp_enabled: bool,
    /// Hashed login contexts, newest first (see `services::mfa::context_key`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub login_contexts: Vec<String>,
}

fn first_version() -> u64 {
    1
}

impl From<&User> for UserItem {
    fn from(u: &User) -> Self {
        let lower = u.username.to_lowercase();
        Self {
            pk: keys::user_pk(&u.id),
            sk: keys::USER_SK.to_owned(),
            gsi1pk: keys::USERS_INDEX_PK.to_owned(),
            gsi1sk: lower.clone(),
            entity: Entity::User,
            id: u.id.clone(),
            username: u.username.clone(),
            username_lower: lower,
            role: u.role,
            password_hash: u.password_hash.clone(),
            created_at: u.created_at.clone(),
            display_name: Some(u.display_name.clone()),
            search_text: Some(format!(
                "{}\n{}",
                u.username.to_lowercase(),
                u.display_name.to_lowercase()
            )),
            disabled: u.disabled,
            version: u.version,
            updated_at: Some(u.updated_at.clone()),
            sessions_valid_after_ms: u.sessions_valid_after_ms,
            totp_enabled: u.totp_enabled,
            login_contexts: u.login_contexts.clone(),
        }
    }
}

impl TryFrom<UserItem> for User {
    type Error = StoreError;

    fn try_from(it: UserItem) -> Result<Self, StoreError> {
        it.entity.require(Entity::User)?;
        Ok(User {
            id: it.id,
            display_name: it.display_name.unwrap_or_else(|| it.username.clone()),
            username: it.username,
            role: it.role,
            password_hash: it.password_hash,
            updated_at: it.updated_at.unwrap_or_else(|| it.created_at.clone()),
            created_at: it.created_at,
            disabled: it.disabled,
            version: it.version,
            sessions_valid_after_ms: it.sessions_valid_after_ms,
            totp_enabled: it.totp_enabled,
            login_contexts: it.login_contexts,
        })
    }
}

/// Claims a lower-cased username (`USERNAME#<lower>` / `UNIQUE`) for one user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsernameGuardItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub user_id: String,
}

impl From<&User> for UsernameGuardItem {
    fn from(u: &User) -> Self {
        Self {
            pk: keys::username_guard_pk(&u.username.to_lowercase()),
            sk: keys::UNIQUE_SK.to_owned(),
            entity: Entity::UsernameGuard,
            user_id: u.id.clone(),
        }
    }
}

pub fn to_item(u: &User) -> Result<Item, StoreError> {
    item::to_item(&UserItem::from(u))
}

pub fn guard_item(u: &User) -> Result<Item, StoreError> {
    item::to_item(&UsernameGuardItem::from(u))
}

pub fn from_item(it: Item) -> Result<User, StoreError> {
    item::from_item::<UserItem>(it)?.try_into()
}

impl Store {
    /// Creates a user with its username guard and audit event. A taken username cancels the
    /// transaction (reason at index 1).
    pub async fn create_user(&self, u: &User, audit: &AuditEvent) -> Result<(), StoreError> {
        self.transact(vec![
            put_new(&self.table, to_item(u)?),
            put_new(&self.table, guard_item(u)?),
            super::audit::put(&self.table, audit)?,
        ])
        .await
    }

    /// Finds a user by username, case-insensitively (GSI1 `USERS` / lower-cased name).
    pub async fn find_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk AND GSI1SK = :sk")
            .expression_attribute_values(":pk", item::s(keys::USERS_INDEX_PK))
            .expression_attribute_values(":sk", item::s(username.to_lowercase()))
            .limit(1)
            .send()
            .await
            .map_err(sdk_error)?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(from_item)
            .transpose()
    }

    pub async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.get(keys::user_pk(id), keys::USER_SK)
            .await?
            .map(from_item)
            .transpose()
    }
}

/// Filters of `GET /users`; `q` is lower-cased.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub q: Option<String>,
}

/// A page of users, sorted by lower-cased username.
#[derive(Debug)]
pub struct UserPage {
    pub items: Vec<User>,
    pub next_cursor: Option<String>,
}

/// Why a user change was not stored.
#[derive(Debug)]
pub enum UserWriteError {
    /// The user changed (or vanished) since it was read.
    Stale,
    /// The admin that kept the last-admin rule satisfied is no longer an active admin.
    WitnessGone,
    Store(StoreError),
}

/// `(attribute_not_exists(disabled) OR disabled = false)`: users written before the users API
/// have no `disabled` attribute and are enabled.
const ENABLED: &str = "(attribute_not_exists(#disabled) OR #disabled = :false)";

fn bool_value(b: bool) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::Bool(b)
}

impl Store {
    /// Users sorted by lower-cased username (GSI1 `USERS`), filtered.
    pub async fn list_users(
        &self,
        f: &UserFilter,
        limit: usize,
        cursor: Option<&str>,
        binding: &super::cursor::Binding,
    ) -> Result<UserPage, StoreError> {
        let mut q = super::PageQuery {
            index: Some(keys::GSI1),
            key_condition: "GSI1PK = :pk".into(),
            forward: true,
            ..Default::default()
        };
        q.values.insert(":pk".into(), item::s(keys::USERS_INDEX_PK));
        let mut filters: Vec<&str> = Vec::new();
        if let Some(r) = f.role {
            filters.push("#role = :role");
            q.names.insert("#role".into(), "role".into());
            q.values.insert(":role".into(), item::s(r.as_str()));
        }
        match f.disabled {
            Some(true) => {
                filters.push("#disabled = :true");
                q.values.insert(":true".into(), bool_value(true));
            }
            Some(false) => {
                filters.push(ENABLED);
                q.values.insert(":false".into(), bool_value(false));
            }
            None => {}
        }
        if f.disabled.is_some() {
            q.names.insert("#disabled".into(), "disabled".into());
        }
        if let Some(text) = &f.q {
            filters.push("(contains(search_text, :q) OR contains(username_lower, :q))");
            q.values.insert(":q".into(), item::s(text));
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
                    ("GSI1PK", Must::Equal(keys::USERS_INDEX_PK)),
                    ("PK", Must::StartWith(keys::USER_PK_PREFIX)),
                    ("SK", Must::Equal(keys::USER_SK)),
                ],
                limit,
                super::all(from_item),
            )
            .await?;
        Ok(UserPage { items, next_cursor })
    }

    /// Some active admin other than `except_id`, if there is one.
    pub async fn other_active_admin(&self, except_id: &str) -> Result<Option<User>, StoreError> {
        let mut q = super::PageQuery {
            index: Some(keys::GSI1),
            key_condition: "GSI1PK = :pk".into(),
            filter: Some(format!("#role = :admin AND {ENABLED} AND #id <> :me")),
            forward: true,
            ..Default::default()
        };
        for (k, v) in [("#role", "role"), ("#disabled", "disabled"), ("#id", "id")] {
            q.names.insert(k.into(), v.into());
        }
        q.values.insert(":pk".into(), item::s(keys::USERS_INDEX_PK));
        q.values
            .insert(":admin".into(), item::s(Role::Admin.as_str()));
        q.values.insert(":false".into(), bool_value(false));
        q.values.insert(":me".into(), item::s(except_id));
        let mut start = None;
        loop {
            let page = self.query_page(&q, start, 1).await?;
            if let Some(it) = page.items.into_iter().next() {
                return from_item(it).map(Some);
            }
            match page.resume {
                Some(k) => start = Some(k),
                None => return Ok(None),
            }
        }
    }

    /// Stores `new` in place of version `old_version` of the same user, with `audit` and, when
    /// given, a new session's token family and first refresh token, in one transaction.
    /// `witness`: another admin who must still be an active admin when it commits (the
    /// last-admin rule, see `services::users`).
    pub async fn save_user(
        &self,
        new: &User,
        old_version: u64,
        witness: Option<&str>,
        session: Option<&RefreshRecord>,
        audit: &AuditEvent,
    ) -> Result<(), UserWriteError> {
        use aws_sdk_dynamodb::types::{ConditionCheck, Put};
        // Users stored before versions existed are version 1 without the attribute.
        let condition = if old_version == 1 {
            "attribute_exists(PK) AND (attribute_not_exists(#version) OR #version = :old)"
        } else {
            "attribute_exists(PK) AND #version = :old"
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(new).map_err(UserWriteError::Store)?))
            .condition_expression(condition)
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":old", item::n(old_version))
            .build()
            .expect("table, item and condition are set");
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        if let Some(w) = witness {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .key("PK", item::s(keys::user_pk(w)))
                .key("SK", item::s(keys::USER_SK))
                .condition_expression(format!("#role = :admin AND {ENABLED}"))
                .expression_attribute_names("#role", "role")
                .expression_attribute_names("#disabled", "disabled")
                .expression_attribute_values(":admin", item::s(Role::Admin.as_str()))
                .expression_attribute_values(":false", bool_value(false))
                .build()
                .expect("table, key and condition are set");
            items.push(TransactWriteItem::builder().condition_check(check).build());
        }
        if let Some(first) = session {
            let family =
                super::tokens::family_item(&first.family_id, &first.user_id, first.expires_at);
            let token = super::tokens::token_item(first);
            items.push(put_new(&self.table, family.map_err(UserWriteError::Store)?));
            items.push(put_new(&self.table, token.map_err(UserWriteError::Store)?));
        }
        items.push(super::audit::put(&self.table, audit).map_err(UserWriteError::Store)?);
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_conflict() => Err(UserWriteError::Stale),
            Err(e) => match e.failed_condition_index() {
                Some(0) => Err(UserWriteError::Stale),
                Some(1) if witness.is_some() => Err(UserWriteError::WitnessGone),
                _ => Err(UserWriteError::Store(e)),
            },
        }
    }
}
