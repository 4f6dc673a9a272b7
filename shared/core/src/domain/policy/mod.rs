//! The policy decision point's pure core: the policy document, its validation and canonical
//! hash, and the deterministic evaluator. No I/O here.
//!
//! A policy is `{"default": "deny"|"allow", "rules": [...]}` (JSON, or YAML on upload). Rules are
//! tried top to bottom and the first whose conditions all hold decides; when none does, the
//! `default` does. Built-in guards (inactive tool, failed probe, drifted tool) run before the
//! policy in [`evaluate_with_guards`]. See [`document`] for every field.

pub mod document;
pub mod eval;
pub mod glob;
mod lint;
mod parse;
mod strict;

#[cfg(test)]
mod tests;

pub use document::{
    canonical_json, parse_policy, sha256_hex, Effect, Policy, PrincipalKind, ProbeStatus, Rule,
};
pub use eval::{
    could_allow, evaluate, evaluate_with_guards, AccessRequest, Context, Decision, Obligations,
    Subject, ToolFacts,
};

/// At most this many rules in one document.
pub const MAX_RULES: usize = 1000;
/// A document's largest size in bytes (as uploaded, JSON or YAML).
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// A credential's lifetime when an allow rule does not set `max_credential_seconds`.
pub const DEFAULT_CREDENTIAL_SECONDS: u32 = 900;
/// The longest `max_credential_seconds` a rule may set.
pub const MAX_CREDENTIAL_SECONDS: u32 = 3600;
/// The longest lifetime a credential is issued with, whatever the rule says (a larger value
/// is lowered, with a lint warning): an offline verifier cannot see a revocation, so this
/// bounds how long a revoked credential can still pass one. Documents may keep larger values
/// (versions stored before the cap must still load).
pub const CREDENTIAL_SECONDS_CAP: u32 = 900;
/// At most this many warnings are reported for one document (then one saying how many more).
pub const MAX_WARNINGS: usize = 100;

/// Built-in rationale codes; rules may not use them.
pub mod rationale {
    pub const DEFAULT_DENY: &str = "DEFAULT_DENY";
    pub const DEFAULT_ALLOW: &str = "DEFAULT_ALLOW";
    pub const TOOL_INACTIVE: &str = "TOOL_INACTIVE";
    pub const TOOL_PROBE_FAILED: &str = "TOOL_PROBE_FAILED";
    pub const TOOL_DRIFTED: &str = "TOOL_DRIFTED";
    /// Every code above.
    pub const RESERVED: &[&str] = &[
        DEFAULT_DENY,
        DEFAULT_ALLOW,
        TOOL_INACTIVE,
        TOOL_PROBE_FAILED,
        TOOL_DRIFTED,
    ];
}

/// The first repeated key of a JSON text, located by its pointer (a request body that embeds a
/// policy document, read before the document itself is).
pub fn duplicate_json_key(text: &str) -> Option<PolicyError> {
    match strict::json(text) {
        Err(strict::ReadError::Duplicate(e)) => Some(e),
        _ => None,
    }
}

/// Why a document is refused, located by a JSON pointer (RFC 6901) into it (`""` is the whole
/// document, e.g. for a syntax error or the size limit).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PolicyError {
    pub pointer: String,
    pub message: String,
}

/// Something valid but probably unintended (a rule that can never match, rules that overlap with
/// opposite effects), located like [`PolicyError`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    pub pointer: String,
    pub message: String,
}

impl From<PolicyError> for super::error::FieldError {
    fn from(e: PolicyError) -> Self {
        super::error::FieldError::new(e.pointer, e.message)
    }
}

/// `parent` + `/key`, escaped per RFC 6901.
pub(crate) fn child(parent: &str, key: &str) -> String {
    let mut s = String::with_capacity(parent.len() + key.len() + 1);
    s.push_str(parent);
    s.push('/');
    for c in key.chars() {
        match c {
            '~' => s.push_str("~0"),
            '/' => s.push_str("~1"),
            c => s.push(c),
        }
    }
    s
}
