//! Second factors: a user's TOTP authenticator and the token between password and code.

use super::tool::SealedHeaders;
use serde::{Deserialize, Serialize};

/// Where an authenticator is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TotpStatus {
    /// Enrolment started, no code confirmed yet: login does not ask for codes.
    Pending,
    /// Confirmed: login and elevation need a code.
    Active,
}

/// A user's TOTP authenticator. The secret is only ever held sealed (KMS envelope, bound to
/// the user id) outside the moment a code is checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Totp {
    pub user_id: String,
    /// Names one enrolment, so a confirmation cannot activate a newer one it did not check.
    pub enrolment_id: String,
    pub status: TotpStatus,
    pub sealed_secret: SealedHeaders,
    /// The newest time step a code was accepted for: codes of this step or earlier are refused.
    pub last_step: Option<i64>,
    pub created_at: String,
    pub confirmed_at: Option<String>,
    /// Epoch seconds; pending enrolments only (they lapse unconfirmed).
    pub expires_at: Option<i64>,
}

impl Totp {
    /// An enrolment still waiting for its first code at `now` (epoch seconds).
    pub fn is_pending_at(&self, now: i64) -> bool {
        self.status == TotpStatus::Pending && self.expires_at.is_some_and(|e| e > now)
    }

    pub fn is_active(&self) -> bool {
        self.status == TotpStatus::Active
    }
}

/// The state behind an `mfa_token`: whose login it continues, until when, and how many codes
/// were tried with it.
#[derive(Clone, Debug, PartialEq)]
pub struct MfaToken {
    pub user_id: String,
    /// Epoch seconds.
    pub expires_at: i64,
    /// Codes tried with this token, right or wrong: each is counted before it is checked.
    pub attempts: u32,
}

/// Codes one `mfa_token` lets be checked; past them it is useless (log in again).
pub const MFA_TOKEN_MAX_ATTEMPTS: u32 = 5;
