//! Small helpers for building and reading DynamoDB items.

use super::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// Builds an item attribute by attribute.
#[derive(Default, Debug, Clone)]
pub struct ItemBuilder(Item);

impl ItemBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn s(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0
            .insert(name.to_owned(), AttributeValue::S(value.into()));
        self
    }

    pub fn opt_s(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.s(name, v),
            None => self,
        }
    }

    pub fn n(mut self, name: &str, value: impl ToString) -> Self {
        self.0
            .insert(name.to_owned(), AttributeValue::N(value.to_string()));
        self
    }

    pub fn bool(mut self, name: &str, value: bool) -> Self {
        self.0.insert(name.to_owned(), AttributeValue::Bool(value));
        self
    }

    pub fn b(mut self, name: &str, value: Vec<u8>) -> Self {
        self.0.insert(
            name.to_owned(),
            AttributeValue::B(aws_smithy_types::Blob::new(value)),
        );
        self
    }

    pub fn list_s(mut self, name: &str, values: &[String]) -> Self {
        self.0.insert(
            name.to_owned(),
            AttributeValue::L(values.iter().cloned().map(AttributeValue::S).collect()),
        );
        self
    }

    pub fn build(self) -> Item {
        self.0
    }
}

fn missing(name: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "stored item lacks attribute {name:?} of the expected type"
    ))
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| missing(name))
}

pub fn opt_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

pub fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| missing(name))
}

pub fn get_bool(item: &Item, name: &str) -> Result<bool, StoreError> {
    item.get(name)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .ok_or_else(|| missing(name))
}

pub fn get_b(item: &Item, name: &str) -> Result<Vec<u8>, StoreError> {
    item.get(name)
        .and_then(|v| v.as_b().ok())
        .map(|b| b.as_ref().to_vec())
        .ok_or_else(|| missing(name))
}

pub fn list_s(item: &Item, name: &str) -> Vec<String> {
    item.get(name)
        .and_then(|v| v.as_l().ok())
        .map(|l| l.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
        .unwrap_or_default()
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
