//! Which error is used where. Each layer speaks its own error and knows nothing of the layers
//! above it:
//!
//! - `domain::error::DomainError` (with `Invalid` for one broken rule and `FieldError` for where
//!   it is): what the catalog's rules refuse. No HTTP words.
//! - `store::StoreError` (and `store::tools::ToolWriteError` for the tool writes' named
//!   refusals): what DynamoDB said, in the store's terms.
//! - `crypto::envelope::EnvelopeError`, `auth::jwt::SignError`, `auth::password::HashError`,
//!   `config::ConfigError`: the errors of those modules alone.
//! - [`AppError`], below: the API error at the edge. Services and routes return it; every error
//!   above converts into it through the `From` impls here, which decide what each one means to
//!   a client (a stale write is 409, a KMS timeout 503, ...). `http::problem::from_error` is the
//!   one place that turns it into an RFC 9457 problem+json response.
//!
//! The prober (`probe`) still reports failures as text inside its `ProbeOutcome`: a failed
//! probe is a result, not an error.

use crate::crypto::envelope::EnvelopeError;
use crate::domain::error::DomainError;
pub use crate::domain::error::FieldError;
use crate::probe::ProbeOutcome;
use crate::store::StoreError;

/// Why a request could not be served: the API error. Only `http::problem` maps it to HTTP.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed (bad JSON, bad query parameter, bad cursor).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request parsed but its values are invalid.
    #[error("{} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    /// No or bad credentials.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// Authenticated but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Allowed only with an elevated token.
    #[error("elevation required")]
    ElevationRequired,
    /// `REQUIRE_ADMIN_MFA` is on and the admin's session has no second factor.
    #[error("mfa enrolment required")]
    MfaEnrolmentRequired,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// `If-Match` did not match the current version.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("payload larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A fixed-window limit is exhausted until `reset_at` (epoch seconds).
    #[error("rate limited ({limit}) until {reset_at}")]
    RateLimited { limit: u32, reset_at: i64 },
    /// The policy decision point denied an access request (403 with the decision's fields).
    #[error("access denied: {rationale}")]
    AccessDenied {
        rationale: String,
        rule_id: Option<String>,
        decision_id: String,
        policy_sha256: String,
    },
    /// A retry (same `Idempotency-Key`) of a request that was applied and whose answer held a
    /// secret, which is never stored (routes/idempotency.rs): what was made, without it.
    #[error("the answer held a secret that is not kept")]
    AnswerNotKept { resource: Option<serde_json::Value> },
    /// A remote tool's probe failed, so nothing was stored.
    #[error("probe failed")]
    ProbeFailed(Box<ProbeOutcome>),
    /// A dependency (DynamoDB, KMS, Secrets Manager) is unreachable or timed out.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected dependency answer. The detail is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    pub fn field(pointer: &str, detail: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(pointer, detail)])
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(errors) => Self::Validation(errors),
            DomainError::NotRemote => Self::Conflict(e.to_string()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => Self::Unavailable(m),
            StoreError::ConditionFailed => {
                Self::Conflict("the item changed while the request was served; retry".into())
            }
            StoreError::BadCursor(c) => Self::BadRequest(c.to_string()),
            StoreError::IdempotencyKeySpent => Self::Conflict(
                "another request with this Idempotency-Key was applied meanwhile; retry with the \
                 same key to get its answer"
                    .into(),
            ),
            StoreError::Corrupt(m) | StoreError::Other(m) => Self::Internal(m),
            StoreError::Cancelled(reasons) => {
                Self::Internal(format!("unexpected transaction cancellation: {reasons:?}"))
            }
        }
    }
}

impl From<crate::crypto::signer::SignerError> for AppError {
    fn from(e: crate::crypto::signer::SignerError) -> Self {
        match e {
            crate::crypto::signer::SignerError::Unavailable(_) => Self::Unavailable(e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<EnvelopeError> for AppError {
    fn from(e: EnvelopeError) -> Self {
        match e {
            EnvelopeError::Unavailable(_) => Self::Unavailable(e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Service results.
pub type AppResult<T> = Result<T, AppError>;
