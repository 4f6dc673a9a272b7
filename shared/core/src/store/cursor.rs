//! Opaque pagination cursors: a DynamoDB `LastEvaluatedKey` plus the scope it belongs to,
//! base64url-encoded JSON.
//!
//! Cursors are validated, not signed: a cursor from another listing (a different scope) or one
//! that does not decode is a 400. A hand-edited cursor that still decodes can only move the
//! start of a listing the caller may read anyway.

use super::item::Item;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize)]
struct Wire {
    /// The listing (and its filters) this cursor continues.
    s: String,
    /// String key attributes of the last item returned.
    k: BTreeMap<String, String>,
    /// Extra position data (e.g. the audit partition being read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
}

/// A decoded cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub key: Item,
    pub extra: Option<String>,
}

/// Encodes `key` for `scope`.
pub fn encode(scope: &str, key: &Item, extra: Option<String>) -> String {
    let k = key
        .iter()
        .filter_map(|(name, v)| v.as_s().ok().map(|s| (name.clone(), s.clone())))
        .collect();
    let wire = Wire {
        s: scope.to_owned(),
        k,
        x: extra,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
}

/// Decodes a cursor, requiring it to belong to `scope` and to hold exactly `key_names`.
/// A cursor that is not one this listing issued (tampered, foreign, or from another scope).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not valid for this listing; start again without it")]
pub struct CursorError;

pub fn decode(scope: &str, raw: &str, key_names: &[&str]) -> Result<Cursor, CursorError> {
    let bad = || CursorError;
    if raw.len() > 2048 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if wire.s != scope || wire.k.len() != key_names.len() {
        return Err(bad());
    }
    let mut key = Item::new();
    for name in key_names {
        let v = wire.k.get(*name).ok_or_else(bad)?;
        if v.is_empty() || v.len() > 512 {
            return Err(bad());
        }
        key.insert((*name).to_owned(), AttributeValue::S(v.clone()));
    }
    Ok(Cursor { key, extra: wire.x })
}

/// What a key attribute of a cursor must hold to continue its listing.
pub enum Must<'a> {
    Equal(&'a str),
    StartWith(&'a str),
}

/// Refuses a cursor whose key lies outside its listing's partition or index: DynamoDB would
/// answer such a start key with a `ValidationException` (a 500), or read another listing.
pub fn within(cursor: &Cursor, rules: &[(&str, Must<'_>)]) -> Result<(), CursorError> {
    let ok = rules.iter().all(|(name, must)| {
        let value = cursor.key.get(*name).and_then(|v| v.as_s().ok());
        match (value, must) {
            (Some(v), Must::Equal(e)) => v == e,
            (Some(v), Must::StartWith(p)) => v.starts_with(p),
            (None, _) => false,
        }
    });
    if ok {
        Ok(())
    } else {
        Err(CursorError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Item {
        let mut k = Item::new();
        k.insert("PK".into(), AttributeValue::S("TOOL#1".into()));
        k.insert("SK".into(), AttributeValue::S("TOOL".into()));
        k
    }

    #[test]
    fn round_trips_within_its_scope() {
        let c = encode("tools", &key(), Some("x".into()));
        let d = decode("tools", &c, &["PK", "SK"]).unwrap();
        assert_eq!(d.key, key());
        assert_eq!(d.extra.as_deref(), Some("x"));
    }

    #[test]
    fn foreign_and_tampered_cursors_are_rejected() {
        let c = encode("tools", &key(), None);
        assert!(decode("audit", &c, &["PK", "SK"]).is_err());
        assert!(decode("tools", &c, &["PK", "SK", "GSI1PK"]).is_err());
        assert!(decode("tools", "not-a-cursor!", &["PK", "SK"]).is_err());
        let mut tampered = c.clone();
        tampered.insert(3, 'x');
        assert!(decode("tools", &tampered, &["PK", "SK"]).is_err());
    }
}
