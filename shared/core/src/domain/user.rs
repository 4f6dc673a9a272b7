//! Users and roles.

use super::error::Invalid;
use serde::{Deserialize, Serialize};

/// What a user may do (baseline permission table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

/// A user's id, typed from where it enters (a token's subject, a stored item) on. Derefs to
/// the text it is, for keys and messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for UserId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored user.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: String,
    /// Shown to people; the username when none was given.
    pub display_name: String,
    /// A disabled user cannot log in, and their refresh tokens are refused.
    pub disabled: bool,
    /// Starts at 1; every change adds one. The ETag is `"v<version>"`.
    pub version: u64,
    pub updated_at: String,
    /// Epoch milliseconds: refresh-token families started at or before this are revoked (set
    /// by disabling, a role change, a password change or reset). See `store::tokens`.
    pub sessions_valid_after_ms: Option<i64>,
    /// A confirmed TOTP authenticator: login and elevation need a code (`services::mfa`).
    pub totp_enabled: bool,
    /// Hashes of the (source IP, user agent) pairs this user logged in from, newest first and
    /// bounded; a login from any other is audited as `auth.login.new_context`.
    pub login_contexts: Vec<String>,
}

impl User {
    /// A new, enabled user at version 1.
    pub fn new(id: String, username: &str, role: Role, password_hash: String, at: String) -> Self {
        Self {
            id,
            username: username.to_owned(),
            role,
            password_hash,
            display_name: username.to_owned(),
            created_at: at.clone(),
            updated_at: at,
            disabled: false,
            version: 1,
            sessions_valid_after_ms: None,
            totp_enabled: false,
            login_contexts: Vec::new(),
        }
    }

    pub fn etag(&self) -> String {
        format!("\"v{}\"", self.version)
    }

    /// An admin who may log in: what the last-admin rule counts.
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::Admin && !self.disabled
    }
}

/// Display names: 1–128 characters, not blank, no control characters.
pub fn validate_display_name(s: &str) -> Result<(), String> {
    if s.trim().is_empty() || s.chars().count() > 128 {
        return Err("must be 1 to 128 characters and not blank".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// Usernames: 3–64 characters of letters, digits, `.`, `_`, `-`, `@`; compared case-insensitively.
pub fn validate_username(u: &str) -> Result<(), Invalid> {
    if !(3..=64).contains(&u.chars().count()) {
        return Err(Invalid::new("must be 3 to 64 characters long"));
    }
    if !u
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(Invalid::new("may contain only letters, digits and . _ - @"));
    }
    Ok(())
}

/// Passwords: 12–256 characters (NIST 800-63B favours length over composition rules).
pub fn validate_password(p: &str) -> Result<(), Invalid> {
    let n = p.chars().count();
    if n < 12 {
        return Err(Invalid::new("must be at least 12 characters long"));
    }
    if n > 256 {
        return Err(Invalid::new("must be at most 256 characters long"));
    }
    Ok(())
}
