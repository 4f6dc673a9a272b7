//! Opaque pagination cursors: where a listing resumes (the key of the last row the caller was
//! shown), sealed with AES-256-GCM and bound to the listing, its filters and the caller.
//!
//! A cursor is `base64url(0x01 | kid length | kid | nonce | sealed)`: the plaintext, JSON of the
//! listing's scope (its filters), the caller's principal id and the resume key, sealed under a
//! key derived from the JWT signing secret's version `kid` (`services::listing`), with the
//! header as associated data. So a caller learns nothing from a cursor (no tool id or name, not
//! even how far a filtered listing read), and the service accepts only cursors it issued, for
//! this listing with these filters, to this caller: anything else is a 400
//! (docs/architecture.md, "Cursors"). Cursors outlive one rotation of the secret (its
//! `AWSPREVIOUS` key still opens them) and no more.
//!
//! The resume key is always a row the caller was shown ([`super::Store::query_page`] resumes
//! from the last row returned, not the last one read), so even a leaked key opens nothing
//! hidden.

use super::item::Item;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The format's first byte.
const VERSION: u8 = 1;
/// The longest cursor accepted (a sealed key of four attributes is about 600 characters).
const MAX_CURSOR_LEN: usize = 2048;

#[derive(Serialize, Deserialize)]
struct Wire {
    /// The listing (and its filters) this cursor continues.
    s: String,
    /// The principal it was issued to.
    p: String,
    /// String key attributes of the last item returned.
    k: BTreeMap<String, String>,
    /// Extra position data (e.g. the audit partition being read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
}

/// A cursor key: the AES-256 key derived from one version (`kid`) of the service's secret.
#[derive(Clone)]
pub struct CursorKey {
    pub kid: String,
    pub key: [u8; 32],
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("CursorKey").field("kid", &self.kid).finish()
    }
}

/// What a listing's cursors are bound to: the listing with its filters (`scope`) and the
/// caller, and the keys that seal them (the first seals; all open).
#[derive(Clone, Debug)]
pub struct Binding {
    scope: String,
    principal: String,
    keys: Vec<CursorKey>,
}

impl Binding {
    /// `keys` must hold the sealing key first.
    pub fn new(
        scope: impl Into<String>,
        principal: impl Into<String>,
        keys: Vec<CursorKey>,
    ) -> Self {
        Self {
            scope: scope.into(),
            principal: principal.into(),
            keys,
        }
    }
}

/// A decoded cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub key: Item,
    pub extra: Option<String>,
}

/// A cursor that is not one this listing issued to this caller (tampered, forged, from another
/// listing, filter set or caller, or sealed under a key no longer in force).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not valid for this listing; start again without it")]
pub struct CursorError;

/// Seals `key` (the last row returned) for `b`.
pub fn encode(b: &Binding, key: &Item, extra: Option<String>) -> String {
    let k = key
        .iter()
        .filter_map(|(name, v)| v.as_s().ok().map(|s| (name.clone(), s.clone())))
        .collect();
    let wire = Wire {
        s: b.scope.clone(),
        p: b.principal.clone(),
        k,
        x: extra,
    };
    let plaintext = serde_json::to_vec(&wire).unwrap_or_default();
    let Some(sealing) = b.keys.first() else {
        // A binding is always built with the key in force (`services::listing`).
        return String::new();
    };
    let mut out = header(&sealing.kid);
    let nonce: [u8; 12] = rand::random();
    let sealed = Aes256Gcm::new((&sealing.key).into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plaintext,
                aad: &out,
            },
        )
        .unwrap_or_default();
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    URL_SAFE_NO_PAD.encode(out)
}

/// `VERSION | kid length | kid`: the associated data.
fn header(kid: &str) -> Vec<u8> {
    let kid = &kid.as_bytes()[..kid.len().min(255)];
    let mut h = Vec::with_capacity(2 + kid.len() + 12 + 256);
    h.push(VERSION);
    h.push(kid.len() as u8);
    h.extend_from_slice(kid);
    h
}

/// Opens a cursor issued for `b`, holding exactly `key_names`.
pub fn decode(b: &Binding, raw: &str, key_names: &[&str]) -> Result<Cursor, CursorError> {
    let bad = || CursorError;
    if raw.len() > MAX_CURSOR_LEN {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let (&version, rest) = bytes.split_first().ok_or_else(bad)?;
    let (&kid_len, rest) = rest.split_first().ok_or_else(bad)?;
    let kid_len = usize::from(kid_len);
    if version != VERSION || rest.len() < kid_len + 12 + 16 {
        return Err(bad());
    }
    let (kid, rest) = rest.split_at(kid_len);
    let (nonce, sealed) = rest.split_at(12);
    let key = b
        .keys
        .iter()
        .find(|k| k.kid.as_bytes() == kid)
        .ok_or_else(bad)?;
    let plaintext = Aes256Gcm::new((&key.key).into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: &bytes[..2 + kid_len],
            },
        )
        .map_err(|_| bad())?;
    let wire: Wire = serde_json::from_slice(&plaintext).map_err(|_| bad())?;
    if wire.s != b.scope || wire.p != b.principal || wire.k.len() != key_names.len() {
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
/// Sealed cursors cannot be forged; this still holds should a key ever leak.
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

    fn keys(kids: &[(&str, u8)]) -> Vec<CursorKey> {
        kids.iter()
            .map(|(kid, b)| CursorKey {
                kid: (*kid).into(),
                key: [*b; 32],
            })
            .collect()
    }

    fn binding(scope: &str, principal: &str) -> Binding {
        Binding::new(scope, principal, keys(&[("k2", 2), ("k1", 1)]))
    }

    #[test]
    fn round_trips_within_its_scope_and_for_its_caller() {
        let b = binding("tools", "u1");
        let c = encode(&b, &key(), Some("x".into()));
        let d = decode(&b, &c, &["PK", "SK"]).unwrap();
        assert_eq!(d.key, key());
        assert_eq!(d.extra.as_deref(), Some("x"));
        // Opaque: no key attribute shows through.
        let raw = URL_SAFE_NO_PAD.decode(&c).unwrap();
        assert!(!raw.windows(4).any(|w| w == b"TOOL"));
        // Sealed under the previous key: still opens while that key is in force.
        let old = Binding::new("tools", "u1", keys(&[("k1", 1)]));
        let c = encode(&old, &key(), None);
        assert!(decode(&b, &c, &["PK", "SK"]).is_ok());
        let rotated_twice = Binding::new("tools", "u1", keys(&[("k3", 3), ("k2", 2)]));
        assert!(decode(&rotated_twice, &c, &["PK", "SK"]).is_err());
    }

    #[test]
    fn foreign_tampered_and_other_callers_cursors_are_rejected() {
        let b = binding("tools", "u1");
        let c = encode(&b, &key(), None);
        assert!(decode(&binding("audit", "u1"), &c, &["PK", "SK"]).is_err());
        assert!(decode(&binding("tools", "u2"), &c, &["PK", "SK"]).is_err());
        assert!(decode(&b, &c, &["PK", "SK", "GSI1PK"]).is_err());
        assert!(decode(&b, "not-a-cursor!", &["PK", "SK"]).is_err());
        assert!(decode(&b, "", &["PK", "SK"]).is_err());
        for i in 0..c.len() {
            let mut t = c.clone().into_bytes();
            t[i] = if t[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(t).unwrap();
            assert!(decode(&b, &t, &["PK", "SK"]).is_err(), "byte {i}");
        }
        // The old, unsealed format.
        let plain =
            URL_SAFE_NO_PAD.encode(r#"{"s":"tools","p":"u1","k":{"PK":"TOOL#1","SK":"TOOL"}}"#);
        assert!(decode(&b, &plain, &["PK", "SK"]).is_err());
    }
}
