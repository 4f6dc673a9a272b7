//! User items and the username guard that makes usernames unique case-insensitively.

use super::item::{self, Entity, Item};
use super::{keys, put_new, sdk_error, Store, StoreError};
use crate::domain::audit::AuditEvent;
use crate::domain::user::{Role, User};
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
        }
    }
}

impl TryFrom<UserItem> for User {
    type Error = StoreError;

    fn try_from(it: UserItem) -> Result<Self, StoreError> {
        it.entity.require(Entity::User)?;
        Ok(User {
            id: it.id,
            username: it.username,
            role: it.role,
            password_hash: it.password_hash,
            created_at: it.created_at,
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
