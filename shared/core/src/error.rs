//! The service layer's error type. It knows nothing of HTTP: `http::problem` maps it to a
//! response in one place.

use crate::probe::ProbeOutcome;
use crate::store::StoreError;

/// One invalid field in a request, located by a JSON pointer (RFC 6901).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }
}

/// Why a request could not be served.
#[derive(Debug)]
pub enum AppError {
    /// The request is malformed (bad JSON, bad query parameter, bad cursor).
    BadRequest(String),
    /// The request parsed but its values are invalid.
    Validation(Vec<FieldError>),
    /// No or bad credentials.
    Unauthenticated(String),
    /// Authenticated but not allowed.
    Forbidden(String),
    /// Allowed only with an elevated token.
    ElevationRequired,
    NotFound(String),
    Conflict(String),
    /// `If-Match` did not match the current version.
    PreconditionFailed(String),
    PayloadTooLarge(usize),
    UnsupportedMediaType,
    /// A fixed-window limit is exhausted until `reset_at` (epoch seconds).
    RateLimited {
        limit: u32,
        reset_at: i64,
    },
    /// A remote tool's probe failed, so nothing was stored.
    ProbeFailed(Box<ProbeOutcome>),
    /// A dependency (DynamoDB, KMS, Secrets Manager) is unreachable or timed out.
    Unavailable(String),
    /// A bug or an unexpected dependency answer. The detail is logged, never sent.
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

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => Self::Unavailable(m),
            StoreError::ConditionFailed => {
                Self::Conflict("the item changed while the request was served; retry".into())
            }
            StoreError::Corrupt(m) | StoreError::Other(m) => Self::Internal(m),
            StoreError::Cancelled(reasons) => {
                Self::Internal(format!("unexpected transaction cancellation: {reasons:?}"))
            }
        }
    }
}

/// Service results.
pub type AppResult<T> = Result<T, AppError>;
