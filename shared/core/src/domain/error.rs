//! The domain's errors: what the catalog's rules refuse, in the domain's own words. Nothing here
//! knows HTTP; `error::AppError` carries these to the edge and `http::problem` renders them.

/// One invalid field of what a client sent, located by a JSON pointer (RFC 6901).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
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

/// Why one value breaks a rule. The text reads after the value's name ("must be ...").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(detail: impl Into<String>) -> Self {
        Self(detail.into())
    }
}

/// Why the domain refuses an operation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Values that break the rules, every one at once.
    #[error("{} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    /// The operation needs a remote tool (only remote tools have a server to probe).
    #[error("function tools have no server to probe; only remote tools can be re-probed")]
    NotRemote,
}

/// Collects field errors so a client sees every problem at once.
#[derive(Default, Debug)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn add(&mut self, pointer: &str, detail: impl Into<String>) {
        self.0.push(FieldError::new(pointer, detail));
    }
    pub fn check(&mut self, pointer: &str, result: Result<(), Invalid>) {
        if let Err(Invalid(d)) = result {
            self.add(pointer, d);
        }
    }
    pub fn into_result(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self.0))
        }
    }
}
