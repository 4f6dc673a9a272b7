//! Query-string parsing for list routes: known keys only, each at most once.

use crate::error::AppError;
use std::collections::HashMap;

/// Parses `raw` into a map, rejecting unknown and repeated keys with a 400 that names them.
pub fn parse(raw: &str, allowed: &[&str]) -> Result<HashMap<String, String>, AppError> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        if !allowed.contains(&k.as_ref()) {
            return Err(AppError::BadRequest(format!(
                "unknown query parameter {k:?}; allowed: {}",
                allowed.join(", ")
            )));
        }
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(AppError::BadRequest(format!(
                "query parameter {k:?} is repeated"
            )));
        }
    }
    Ok(out)
}

/// Page size: 1..=100, default 20.
pub fn limit(params: &HashMap<String, String>) -> Result<usize, AppError> {
    match params.get("limit") {
        None => Ok(20),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(AppError::BadRequest(format!(
                "limit must be a whole number from 1 to 100, got {v:?}"
            ))),
        },
    }
}

/// A boolean query flag (`true`/`false`).
pub fn flag(params: &HashMap<String, String>, name: &str) -> Result<Option<bool>, AppError> {
    match params.get(name).map(String::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(AppError::BadRequest(format!(
            "{name} must be true or false, got {other:?}"
        ))),
    }
}
