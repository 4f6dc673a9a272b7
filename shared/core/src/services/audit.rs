//! Listing audit events.

use crate::domain::audit::Outcome;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::audit::{AuditFilter, AuditPage};
use std::collections::HashMap;

pub const QUERY_KEYS: &[&str] = &[
    "actor_user_id",
    "action",
    "target_id",
    "outcome",
    "from_timestamp",
    "to_timestamp",
    "limit",
    "cursor",
];

fn bounded(p: &HashMap<String, String>, name: &str) -> AppResult<Option<String>> {
    match p.get(name) {
        None => Ok(None),
        Some(v) if v.is_empty() || v.len() > 128 => Err(AppError::BadRequest(format!(
            "{name} must be 1 to 128 characters"
        ))),
        Some(v) => Ok(Some(v.clone())),
    }
}

/// Parses the filters of `GET /audit-events`.
pub fn filter_from_query(p: &HashMap<String, String>) -> AppResult<AuditFilter> {
    let time = |name: &str| -> AppResult<Option<String>> {
        match p.get(name) {
            None => Ok(None),
            Some(v) => crate::time::parse(v)
                .map(|t| Some(crate::time::stamp(t)))
                .ok_or_else(|| {
                    AppError::BadRequest(format!("{name} must be an RFC 3339 timestamp, got {v:?}"))
                }),
        }
    };
    let outcome = match p.get("outcome") {
        None => None,
        Some(o) => Some(Outcome::parse(o).ok_or_else(|| {
            AppError::BadRequest(format!("outcome must be success or failure, got {o:?}"))
        })?),
    };
    let f = AuditFilter {
        actor_user_id: bounded(p, "actor_user_id")?,
        action: bounded(p, "action")?,
        target_id: bounded(p, "target_id")?,
        outcome,
        from: time("from_timestamp")?,
        to: time("to_timestamp")?,
    };
    if let (Some(a), Some(b)) = (&f.from, &f.to) {
        if a > b {
            return Err(AppError::BadRequest(
                "from_timestamp is after to_timestamp".into(),
            ));
        }
    }
    Ok(f)
}

/// One page of events, newest first.
pub async fn list(
    state: &AppState,
    viewer: &str,
    f: &AuditFilter,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<AuditPage> {
    // Cursors are bound to the filter set they were issued for.
    let scope = {
        use sha2::Digest;
        let text = format!("{f:?}");
        format!(
            "audit:{}",
            hex::encode(&sha2::Sha256::digest(text.as_bytes())[..8])
        )
    };
    let binding = super::listing::binding(state, viewer, scope).await?;
    Ok(state.store.list_audit(f, limit, cursor, &binding).await?)
}
