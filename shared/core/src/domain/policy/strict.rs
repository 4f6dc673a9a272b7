//! Reading a document into a JSON value while refusing duplicate keys.
//!
//! serde_json and serde_yaml_ng both keep the last of two equal keys in a mapping, silently: a
//! rule written `effect: deny` and then `effect: allow` would be stored as an allow. A policy is
//! a security document, so a repeated key is an error located by the JSON pointer of the
//! repeat, in JSON and in YAML alike.

use super::{child, PolicyError};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// Why a text did not become a value.
pub(super) enum ReadError<E> {
    /// A key repeated in one mapping: where the repeat is, and its key.
    Duplicate(PolicyError),
    /// Any other parse error of the format.
    Syntax(E),
}

/// Parses JSON text (one value, nothing after it) into a value, refusing duplicate keys.
pub(super) fn json(text: &str) -> Result<Value, ReadError<serde_json::Error>> {
    let dup = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let read = Strict {
        path: String::new(),
        dup: &dup,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    finish(read, dup)
}

/// Parses YAML text (one document) into a value, refusing duplicate keys.
pub(super) fn yaml(text: &str) -> Result<Value, ReadError<serde_yaml_ng::Error>> {
    let dup = RefCell::new(None);
    let read = Strict {
        path: String::new(),
        dup: &dup,
    }
    .deserialize(serde_yaml_ng::Deserializer::from_str(text));
    finish(read, dup)
}

fn finish<E>(
    read: Result<Value, E>,
    dup: RefCell<Option<PolicyError>>,
) -> Result<Value, ReadError<E>> {
    match (read, dup.into_inner()) {
        (_, Some(e)) => Err(ReadError::Duplicate(e)),
        (Ok(v), None) => Ok(v),
        (Err(e), None) => Err(ReadError::Syntax(e)),
    }
}

/// Builds a value at `path`; the first duplicate key met is left in `dup` (the parser's own
/// error then only stops the parse).
struct Strict<'a> {
    path: String,
    dup: &'a RefCell<Option<PolicyError>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-compatible value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let item = Strict {
                path: child(&self.path, &out.len().to_string()),
                dup: self.dup,
            };
            match seq.next_element_seed(item)? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let at = child(&self.path, &key);
            if out.contains_key(&key) {
                let message = format!(
                    "duplicate key {key:?}: each key may appear once in a mapping (the last one would silently win)"
                );
                *self.dup.borrow_mut() = Some(PolicyError {
                    pointer: at,
                    message: message.clone(),
                });
                return Err(de::Error::custom(message));
            }
            let value = map.next_value_seed(Strict {
                path: at,
                dup: self.dup,
            })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}
