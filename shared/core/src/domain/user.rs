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
