//! User items and the username guard that makes usernames unique case-insensitively.

use super::item::{get_s, Item, ItemBuilder};
use super::{keys, put_new, sdk_error, Store, StoreError};
use crate::domain::audit::AuditEvent;
use crate::domain::user::{Role, User};

pub fn to_item(u: &User) -> Item {
    let lower = u.username.to_lowercase();
    ItemBuilder::new()
        .s("PK", keys::user_pk(&u.id))
        .s("SK", keys::USER_SK)
        .s("GSI1PK", keys::USERS_INDEX_PK)
        .s("GSI1SK", lower.clone())
        .s("entity", "user")
        .s("id", &u.id)
        .s("username", &u.username)
        .s("username_lower", lower)
        .s("role", u.role.as_str())
        .s("password_hash", &u.password_hash)
        .s("created_at", &u.created_at)
        .build()
}

pub fn guard_item(u: &User) -> Item {
    ItemBuilder::new()
        .s("PK", keys::username_guard_pk(&u.username.to_lowercase()))
        .s("SK", keys::UNIQUE_SK)
        .s("entity", "username_guard")
        .s("user_id", &u.id)
        .build()
}

pub fn from_item(it: &Item) -> Result<User, StoreError> {
    Ok(User {
        id: get_s(it, "id")?.to_owned(),
        username: get_s(it, "username")?.to_owned(),
        role: Role::parse(get_s(it, "role")?)
            .ok_or_else(|| StoreError::Corrupt("unknown role".into()))?,
        password_hash: get_s(it, "password_hash")?.to_owned(),
        created_at: get_s(it, "created_at")?.to_owned(),
    })
}

impl Store {
    /// Creates a user with its username guard and audit event. A taken username cancels the
    /// transaction (reason at index 1).
    pub async fn create_user(&self, u: &User, audit: &AuditEvent) -> Result<(), StoreError> {
        self.transact(vec![
            put_new(&self.table, to_item(u)),
            put_new(&self.table, guard_item(u)),
            super::audit::put(&self.table, audit),
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
            .expression_attribute_values(":pk", super::item::s(keys::USERS_INDEX_PK))
            .expression_attribute_values(":sk", super::item::s(username.to_lowercase()))
            .limit(1)
            .send()
            .await
            .map_err(sdk_error)?;
        match out.items.unwrap_or_default().first() {
            Some(it) => Ok(Some(from_item(it)?)),
            None => Ok(None),
        }
    }

    pub async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        match self.get(keys::user_pk(id), keys::USER_SK).await? {
            Some(it) => Ok(Some(from_item(&it)?)),
            None => Ok(None),
        }
    }
}
