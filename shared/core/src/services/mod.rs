//! Business rules: validation beyond shape, rate limits, transactions with their audit events.

pub mod access;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod decisions;
pub mod listing;
pub mod mfa;
pub mod oauth;
pub mod policies;
pub mod ratelimit;
pub mod reprobe;
pub mod simulate;
pub mod tools;
pub mod users;

/// Checks a raw `If-Match` header against a resource's current version (`*` matches any
/// existing resource; a tag this service never issued matches nothing): a mismatch is a 412.
pub fn check_if_match(version: u64, if_match: Option<&str>) -> crate::error::AppResult<()> {
    use crate::domain::tool::{etag, IfMatch};
    match if_match {
        Some(raw) if !IfMatch::parse(raw).accepts(version) => {
            Err(crate::error::AppError::PreconditionFailed(format!(
                "If-Match {} does not match the current ETag {}",
                raw.trim(),
                etag(version)
            )))
        }
        _ => Ok(()),
    }
}
