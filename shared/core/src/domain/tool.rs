//! Tools: the catalog's entries, and the validation of everything a client may send for them.

use super::drift::{Drift, ToolList};
pub use super::error::Errors;
#[cfg(test)]
use super::error::FieldError;
use super::error::Invalid;
use super::pattern;
use crate::domain::probe::{ProbeOutcome, TransportPreference};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_NAME_LEN: usize = 64;
pub const MAX_DISPLAY_NAME_LEN: usize = 128;
pub const MAX_DESCRIPTION_LEN: usize = 4000;
/// Input schemas are stored on the tool item (DynamoDB items max out at 400 KB).
pub const MAX_INPUT_SCHEMA_BYTES: usize = 64 * 1024;
pub const MAX_SERVER_URL_LEN: usize = 2048;
pub const MAX_STATIC_HEADERS: usize = 20;
pub const MAX_HEADER_VALUE_LEN: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolType {
    Function,
    Remote,
}

impl ToolType {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolType::Function => "function",
            ToolType::Remote => "remote",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "function" => Some(Self::Function),
            "remote" => Some(Self::Remote),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }
}

/// Static headers after KMS envelope encryption (see `crypto::envelope`).
#[derive(Clone, Debug, PartialEq)]
pub struct SealedHeaders {
    pub wrapped_key: Vec<u8>,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// One probe of a remote tool, as kept in its history and as the tool's latest result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub id: String,
    pub probed_at: String,
    pub valid_until: String,
    #[serde(flatten)]
    pub outcome: ProbeOutcome,
}

/// A tool's id: a UUID in the canonical lower-case hyphenated form the service mints. Parsed
/// once where it enters (a path, a stored item); any other spelling names no tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ToolId(uuid::Uuid);

impl ToolId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    /// The id spelled `s`, if `s` is the canonical form. Other spellings of a UUID (upper case,
    /// braces, no hyphens) are refused: ids are stored canonical, so they could never match.
    pub fn parse(s: &str) -> Option<Self> {
        let id = uuid::Uuid::parse_str(s).ok()?;
        (id.hyphenated().to_string() == s).then_some(Self(id))
    }
}

impl std::fmt::Display for ToolId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl Serialize for ToolId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What only remote tools have.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteConfig {
    pub server_url: String,
    pub transport_preference: TransportPreference,
    /// Names only: values live sealed in `sealed_headers`.
    pub header_names: Vec<String>,
    pub sealed_headers: Option<SealedHeaders>,
    pub requires_per_user_auth: bool,
    pub last_probe: Option<ProbeRecord>,
    /// The tool list an admin accepted (the first one seen, or the last approved).
    pub approved_tools: Option<ToolList>,
    /// How the latest list found differs from `approved_tools`; `None` when it does not.
    pub drift: Option<Drift>,
}

/// What kind of tool it is, with what only that kind has: a function tool always has its input
/// schema, a remote tool always its server.
// Tools are handled one or a page at a time, never in bulk: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum ToolKind {
    Function { input_schema: serde_json::Value },
    Remote(RemoteConfig),
}

/// A catalog entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Tool {
    pub id: ToolId,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub risk_level: RiskLevel,
    pub is_active: bool,
    /// Labels policies match on (`GET /tools?tag=` filters by one).
    pub tags: Vec<String>,
    /// Incremented on every change; the ETag and the optimistic-concurrency condition.
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
    /// Who created and last changed it: a user id, or a system actor such as the re-prober.
    pub created_by: String,
    pub updated_by: String,
    pub kind: ToolKind,
}

impl Tool {
    pub fn etag(&self) -> String {
        etag(self.version)
    }

    pub fn tool_type(&self) -> ToolType {
        match self.kind {
            ToolKind::Function { .. } => ToolType::Function,
            ToolKind::Remote(_) => ToolType::Remote,
        }
    }

    pub fn remote(&self) -> Option<&RemoteConfig> {
        match &self.kind {
            ToolKind::Remote(r) => Some(r),
            ToolKind::Function { .. } => None,
        }
    }

    pub fn remote_mut(&mut self) -> Option<&mut RemoteConfig> {
        match &mut self.kind {
            ToolKind::Remote(r) => Some(r),
            ToolKind::Function { .. } => None,
        }
    }
}

/// What deleting a tool needs to know of it (the store reads no more than this).
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSummary {
    pub id: ToolId,
    pub tool_type: ToolType,
    pub name: String,
    pub version: u64,
}

/// The entity tag of a version.
pub fn etag(version: u64) -> String {
    format!("\"v{version}\"")
}

/// The versions a client's `If-Match` accepts, parsed once where the request enters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// A list of entity tags. `versions` are those that name a version (`"v3"`, weak or
    /// strong); tags this service never issues match nothing. `raw` is kept for messages.
    Tags { raw: String, versions: Vec<u64> },
}

impl IfMatch {
    pub fn parse(raw: &str) -> Self {
        if raw.trim() == "*" {
            return Self::Any;
        }
        let versions = raw
            .split(',')
            .filter_map(|tag| {
                let tag = tag.trim();
                let tag = tag.trim_start_matches("W/");
                let n: u64 = tag.strip_prefix("\"v")?.strip_suffix('"')?.parse().ok()?;
                // Only the exact spelling `etag` produces ("v01" is no version of ours).
                (etag(n) == tag).then_some(n)
            })
            .collect();
        Self::Tags {
            raw: raw.to_owned(),
            versions,
        }
    }

    pub fn accepts(&self, version: u64) -> bool {
        match self {
            Self::Any => true,
            Self::Tags { versions, .. } => versions.contains(&version),
        }
    }
}

pub fn validate_name(name: &str) -> Result<(), Invalid> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(Invalid(format!(
            "must be 1 to {MAX_NAME_LEN} characters long"
        )));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Invalid::new(
            "must match ^[A-Za-z][A-Za-z0-9_]*$ (a letter, then letters, digits or _)",
        ));
    }
    Ok(())
}

pub fn validate_display_name(s: &str) -> Result<(), Invalid> {
    let n = s.chars().count();
    if s.trim().is_empty() || n > MAX_DISPLAY_NAME_LEN {
        return Err(Invalid(format!(
            "must be 1 to {MAX_DISPLAY_NAME_LEN} characters and not blank"
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::new("must not contain control characters"));
    }
    Ok(())
}

pub fn validate_description(s: &str) -> Result<(), Invalid> {
    if s.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(Invalid(format!(
            "must be at most {MAX_DESCRIPTION_LEN} characters"
        )));
    }
    Ok(())
}

/// The JSON Schema drafts an input schema may declare in `$schema` (2020-12 when absent).
const KNOWN_DRAFTS: &[&str] = &[
    "https://json-schema.org/draft/2020-12/schema",
    "https://json-schema.org/draft/2019-09/schema",
    "http://json-schema.org/draft-07/schema",
    "http://json-schema.org/draft-06/schema",
    "http://json-schema.org/draft-04/schema",
];

/// Checks that `schema` is a valid JSON Schema (against the meta-schema of its `$schema`) that
/// describes an object. Errors point into the request at `base` (e.g. `/input_schema`).
pub fn validate_input_schema(schema: &serde_json::Value, base: &str, errors: &mut Errors) {
    let size = serde_json::to_vec(schema)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_INPUT_SCHEMA_BYTES {
        errors.add(
            base,
            format!("must be at most {MAX_INPUT_SCHEMA_BYTES} bytes of JSON"),
        );
        return;
    }
    let Some(obj) = schema.as_object() else {
        errors.add(base, "must be a JSON Schema object");
        return;
    };
    // Bound the regex work before anything compiles a pattern (see domain/pattern.rs).
    let found = pattern::collect(schema, pattern::MAX_PATTERNS + 1);
    if let Some(extra) = found.get(pattern::MAX_PATTERNS) {
        errors.add(
            &format!("{base}{}", extra.pointer),
            format!(
                "an input schema may hold at most {} patterns",
                pattern::MAX_PATTERNS
            ),
        );
        return;
    }
    let mut refused = false;
    for f in &found {
        if let Err(why) = pattern::check(&f.pattern) {
            errors.add(&format!("{base}{}", f.pointer), why.0);
            refused = true;
        }
    }
    if refused {
        return;
    }
    let mut schema = schema.clone();
    match obj.get("$schema") {
        None => {
            // Validate as 2020-12, the default the issue names.
            if let Some(o) = schema.as_object_mut() {
                o.insert("$schema".into(), KNOWN_DRAFTS[0].into());
            }
        }
        Some(serde_json::Value::String(uri)) => {
            let normalized = uri.trim_end_matches('#');
            if !KNOWN_DRAFTS.contains(&normalized) {
                errors.add(
                    &format!("{base}/$schema"),
                    "must name a JSON Schema draft: 2020-12, 2019-09, draft-07, draft-06 or draft-04",
                );
                return;
            }
        }
        Some(_) => {
            errors.add(&format!("{base}/$schema"), "must be a string URI");
            return;
        }
    }
    let meta = match jsonschema::meta::validator_for(&schema) {
        Ok(v) => v,
        Err(e) => {
            errors.add(base, format!("cannot be checked: {e}"));
            return;
        }
    };
    let mut invalid = false;
    for e in meta.iter_errors(&schema).take(10) {
        invalid = true;
        errors.add(
            &format!("{base}{}", e.instance_path()),
            format!("is not valid JSON Schema: {e}"),
        );
    }
    if invalid {
        return;
    }
    if let Err(e) = jsonschema::validator_for(&schema) {
        errors.add(base, format!("cannot be used as a schema: {e}"));
        return;
    }
    if schema.get("type") != Some(&serde_json::Value::String("object".into())) {
        errors.add(
            &format!("{base}/type"),
            "must be \"object\": tool inputs are JSON objects",
        );
    }
}

/// Header names that are the transport's business, not a tool's.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
    "accept",
    "mcp-session-id",
    "mcp-protocol-version",
];

/// RFC 9110 token characters.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

pub fn validate_static_headers(h: &BTreeMap<String, String>, base: &str, errors: &mut Errors) {
    if h.len() > MAX_STATIC_HEADERS {
        errors.add(base, format!("at most {MAX_STATIC_HEADERS} headers"));
        return;
    }
    let mut seen = std::collections::HashSet::new();
    for (name, value) in h {
        let ptr = format!("{base}/{}", name.replace('~', "~0").replace('/', "~1"));
        if !is_token(name) || name.len() > 128 {
            errors.add(&ptr, "is not a valid HTTP header name");
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            errors.add(
                &ptr,
                "is set by the prober itself and cannot be a static header",
            );
        }
        if !seen.insert(lower) {
            errors.add(&ptr, "is given twice (header names are case-insensitive)");
        }
        // RFC 9110 field values: visible ASCII, spaces and tabs (no obs-text, no controls).
        if value.len() > MAX_HEADER_VALUE_LEN
            || !value
                .bytes()
                .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        {
            // Never echo the value: it is a secret.
            errors.add(
                &ptr,
                format!(
                    "value must be at most {MAX_HEADER_VALUE_LEN} characters of visible ASCII, spaces or tabs"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema_errors(s: serde_json::Value) -> Vec<FieldError> {
        let mut e = Errors::default();
        validate_input_schema(&s, "/input_schema", &mut e);
        e.0
    }

    #[test]
    fn tool_ids_are_canonical_uuids_only() {
        let id = ToolId::generate();
        assert_eq!(ToolId::parse(&id.to_string()), Some(id));
        for bad in [
            "",
            "abc",
            &id.to_string().to_uppercase(),
            &id.to_string().replace('-', ""),
        ] {
            assert_eq!(ToolId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn if_match_accepts_its_etags_weak_or_strong_in_lists() {
        assert!(IfMatch::parse(" * ").accepts(7));
        let m = IfMatch::parse("\"v1\", W/\"v3\"");
        assert!(m.accepts(1) && m.accepts(3) && !m.accepts(2));
        for bad in ["v3", "\"v03\"", "\"x3\"", ""] {
            assert!(!IfMatch::parse(bad).accepts(3), "{bad:?}");
        }
    }

    #[test]
    fn names_follow_the_pattern() {
        assert!(validate_name("get_weather").is_ok());
        assert!(validate_name("A1").is_ok());
        for bad in ["", "1abc", "_x", "get-weather", "héllo", &"a".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn object_schemas_pass_and_others_say_where() {
        assert!(
            schema_errors(json!({"type":"object","properties":{"city":{"type":"string"}}}))
                .is_empty()
        );
        let e = schema_errors(json!({"type":"object","properties":{"city":{"type":"strng"}}}));
        assert_eq!(e.len(), 1);
        assert!(
            e[0].pointer.starts_with("/input_schema/properties/city"),
            "{e:?}"
        );
        let e = schema_errors(json!({"type":"string"}));
        assert_eq!(e[0].pointer, "/input_schema/type");
        let e = schema_errors(json!({"$schema":"https://example.com/mine","type":"object"}));
        assert_eq!(e[0].pointer, "/input_schema/$schema");
        assert!(schema_errors(
            json!({"$schema":"http://json-schema.org/draft-07/schema#","type":"object"})
        )
        .is_empty());
        assert!(!schema_errors(json!([1])).is_empty());
    }

    #[test]
    fn header_names_are_checked_and_values_never_echoed() {
        let mut e = Errors::default();
        let mut h = BTreeMap::new();
        h.insert(
            "X-Api-Key".to_string(),
            "sk-secret\r\nInjected: 1".to_string(),
        );
        h.insert("bad name".to_string(), "v".to_string());
        h.insert("Host".to_string(), "v".to_string());
        validate_static_headers(&h, "/static_headers", &mut e);
        assert_eq!(e.0.len(), 3, "{:?}", e.0);
        assert!(e.0.iter().all(|f| !f.detail.contains("sk-secret")));
    }
}
