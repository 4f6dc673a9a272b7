//! Agents: the machines the catalog exists for. An agent has an owner (a user), groups and tags
//! that policies match on, and API keys it authenticates with.

use super::error::Invalid;

/// The scopes an agent may hold (RFC 6749 §3.3). A key grants all of them; an OAuth token
/// grants what its request asked for (all when it asked for none).
pub const SCOPES: &[&str] = &[CATALOG_READ, TOOLS_ACCESS];
/// Read the catalog: what every route an agent may call needs today.
pub const CATALOG_READ: &str = "catalog:read";
/// Ask for tool access and credentials (the policy decision point).
pub const TOOLS_ACCESS: &str = "tools:access";

/// At most this many unrevoked keys per agent: an agent change rewrites each key's copy of the
/// agent in its own transaction, which holds at most 100 items.
/// The subject prefix of agents' tokens and audit actors: `agent:<id>`.
pub const AGENT_SUBJECT: &str = "agent:";

pub const MAX_ACTIVE_KEYS: usize = 10;

/// A stored agent.
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    pub id: String,
    /// Unique case-insensitively; fixed once created (keys and audit events name it).
    pub name: String,
    pub description: String,
    /// The user answerable for the agent.
    pub owner_user_id: String,
    pub groups: Vec<String>,
    pub tags: Vec<String>,
    pub disabled: bool,
    /// Starts at 1; every change adds one. The ETag is `"v<version>"`.
    pub version: u64,
    /// The public prefixes of the agent's unrevoked keys: what an agent change must rewrite.
    pub active_keys: Vec<String>,
    /// Counts key creations and revocations: an agent change is conditional on it, so a key made
    /// meanwhile cannot miss the change to its copy of the agent.
    pub keys_rev: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl Agent {
    pub fn etag(&self) -> String {
        format!("\"v{}\"", self.version)
    }
}

/// A stored API key: never the secret, only its HMAC under a pepper. It carries a copy of its
/// agent (name, groups, tags, disabled) so authentication is one read; every agent change
/// rewrites the copies in the same transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiKey {
    /// The public prefix: the key's id.
    pub prefix: String,
    pub agent_id: String,
    /// Which pepper the digest was made with.
    pub pepper_kid: String,
    /// Hex HMAC-SHA256 of the whole key under the pepper.
    pub digest: String,
    pub description: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub agent_name: String,
    pub agent_groups: Vec<String>,
    pub agent_tags: Vec<String>,
    pub agent_disabled: bool,
}

impl ApiKey {
    /// Copies the agent's facts that authentication needs onto the key.
    pub fn copy_agent(&mut self, a: &Agent) {
        self.agent_name = a.name.clone();
        self.agent_groups = a.groups.clone();
        self.agent_tags = a.tags.clone();
        self.agent_disabled = a.disabled;
    }

    /// Whether the key is expired at `now` (RFC 3339 stamps compare as text).
    pub fn expired(&self, now: &str) -> bool {
        self.expires_at.as_deref().is_some_and(|e| e <= now)
    }
}

/// Agent names: 3–64 characters of lower-case letters, digits, `.`, `_`, `-`, starting with a
/// letter or digit (they appear in tokens, logs and policy rules).
pub fn validate_name(n: &str) -> Result<(), Invalid> {
    if !(3..=64).contains(&n.len()) {
        return Err(Invalid::new("must be 3 to 64 characters long"));
    }
    if !n.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        || !n
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Err(Invalid::new(
            "may contain only lower-case letters, digits and . _ -, starting with a letter or digit",
        ));
    }
    Ok(())
}

/// Descriptions: at most 1,000 characters, no control characters but newlines and tabs.
pub fn validate_description(d: &str) -> Result<(), Invalid> {
    if d.chars().count() > 1000 {
        return Err(Invalid::new("must be at most 1000 characters"));
    }
    if d.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Invalid::new("must not contain control characters"));
    }
    Ok(())
}

/// Groups and tags: at most 32 labels, each 1–64 characters of lower-case letters, digits and
/// `.`, `_`, `-`, `:`, `/`; no duplicates.
pub fn validate_labels(labels: &[String]) -> Result<(), Invalid> {
    if labels.len() > 32 {
        return Err(Invalid::new("at most 32 labels"));
    }
    for (i, l) in labels.iter().enumerate() {
        if l.is_empty()
            || l.len() > 64
            || !l.chars().all(|c| {
                c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || matches!(c, '.' | '_' | '-' | ':' | '/')
            })
        {
            return Err(Invalid::new(format!(
                "label {i} must be 1 to 64 characters of lower-case letters, digits and . _ - : /"
            )));
        }
        if labels[..i].contains(l) {
            return Err(Invalid::new(format!("label {l:?} appears twice")));
        }
    }
    Ok(())
}

/// Parses a space-separated scope request (RFC 6749 §3.3) against [`SCOPES`]; empty or absent
/// means all of them. Answers the granted scopes in canonical order.
pub fn parse_scope(requested: Option<&str>) -> Result<Vec<&'static str>, String> {
    let Some(raw) = requested.filter(|s| !s.trim().is_empty()) else {
        return Ok(SCOPES.to_vec());
    };
    let mut wanted = Vec::new();
    for s in raw.split(' ').filter(|s| !s.is_empty()) {
        match SCOPES.iter().find(|k| **k == s) {
            Some(k) => wanted.push(*k),
            None => {
                return Err(format!(
                    "unknown scope {:?}; known scopes: {}",
                    s.chars().take(64).collect::<String>(),
                    SCOPES.join(" ")
                ))
            }
        }
    }
    Ok(SCOPES
        .iter()
        .copied()
        .filter(|k| wanted.contains(k))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_labels() {
        assert!(validate_name("build-bot.v2").is_ok());
        for bad in ["ab", "Build", "-bot", "bot bot", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels_are_bounded_and_unique() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(validate_labels(&l(&["team:search", "prod"])).is_ok());
        assert!(validate_labels(&l(&["Prod"])).is_err());
        assert!(validate_labels(&l(&["a", "a"])).is_err());
        assert!(validate_labels(&l(&[""])).is_err());
        assert!(validate_labels(&vec!["a".to_string(); 33]).is_err());
    }

    #[test]
    fn scopes_default_to_all_and_refuse_unknown_ones() {
        assert_eq!(parse_scope(None).unwrap(), SCOPES);
        assert_eq!(parse_scope(Some("  ")).unwrap(), SCOPES);
        assert_eq!(
            parse_scope(Some("tools:access catalog:read")).unwrap(),
            vec![CATALOG_READ, TOOLS_ACCESS]
        );
        assert_eq!(
            parse_scope(Some("catalog:read")).unwrap(),
            vec![CATALOG_READ]
        );
        assert!(parse_scope(Some("catalog:read admin")).is_err());
    }
}
