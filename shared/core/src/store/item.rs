//! Converting between item structs and DynamoDB items, and the values expressions need.
//!
//! Every stored item kind is a plain serde struct (`UserItem` in `users.rs`, `ToolItem` in
//! `tools.rs`, ...) converted by `serde_dynamo`: strings become `S`, integers `N`, booleans
//! `BOOL`, byte fields marked `serde_bytes` `B` and vectors `L`. `shapes.rs` pins the result.

use super::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// The `entity` attribute every item except rate-limit counters carries: what kind it is.
/// Decoding an item as the wrong kind fails instead of yielding a half-filled value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    User,
    UsernameGuard,
    RefreshToken,
    TokenFamily,
    Tool,
    ToolNameGuard,
    Probe,
    AuditEvent,
    Idempotency,
    Agent,
    AgentNameGuard,
    ApiKey,
    PolicyHead,
    PolicyVersion,
    PolicyShaGuard,
    Decision,
}

impl Entity {
    /// `Corrupt` unless an item decoded as `expected` says it is one.
    pub fn require(self, expected: Entity) -> Result<(), StoreError> {
        if self == expected {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!(
                "expected a {expected:?} item, found a {self:?} item"
            )))
        }
    }
}

/// The table's key attributes alone: enough to tell the items of one partition apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
}

/// The stored form of `value`.
pub fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value)
        .map_err(|e| StoreError::Other(format!("cannot build a stored item: {e}")))
}

/// Reads a stored item as `T`; any mismatch (missing attribute, wrong type, unknown enum value)
/// is `Corrupt`, carrying serde_dynamo's explanation.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(corrupt)
}

/// Reads every item of a query answer as `T` (see [`from_item`]).
pub fn from_items<T: DeserializeOwned>(items: Vec<Item>) -> Result<Vec<T>, StoreError> {
    serde_dynamo::from_items(items).map_err(corrupt)
}

fn corrupt(e: serde_dynamo::Error) -> StoreError {
    StoreError::Corrupt(format!("stored item does not decode: {e}"))
}

/// A JSON text attribute (input schemas, probe records) that does not parse is corruption too.
pub fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("stored {what} is not valid JSON: {e}")))
}

/// JSON text for an attribute stored as a string.
pub fn to_json<T: Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Other(format!("cannot encode {what} as JSON: {e}")))
}

/// A string expression value.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number expression value.
pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
