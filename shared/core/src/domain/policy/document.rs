//! The policy document: parsing with every error located, the compiled form the evaluator
//! reads, and the canonical JSON whose SHA-256 is a version's identity.
//!
//! ```yaml
//! default: deny                    # or allow; deny when absent
//! rules:
//!   - id: agents-read-github       # ^[a-z0-9][a-z0-9._-]{0,63}$, unique
//!     effect: allow                # allow | deny
//!     rationale: BUSINESS_HOURS    # ^[A-Z][A-Z0-9_]{0,63}$, not a built-in code
//!     description: optional text
//!     principal:                   # every condition optional; absent = any
//!       kind: agent                # user | agent
//!       ids: [..]                  # the principal's bare id is one of these (an agent's as
//!                                  # /agents/{id} takes it; `agent:<id>` draws a warning)
//!       roles: [admin]             # users' roles (admin | user); agents have none
//!       groups: [..]               # any-of the principal's groups
//!       tags: [..]                 # any-of the principal's tags
//!     tool:
//!       ids: [..]
//!       names: ["github_*"]        # globs, `*` and `?`, ASCII case-insensitive
//!       tags: [..]                 # any-of the tool's tags
//!       risk_level: {max: medium}  # or {in: [low, high]}; low < medium < high < critical
//!       tool_type: remote          # function | remote
//!       probe_status: [passed, stale]   # a tool never probed matches none
//!       drifted: false
//!     request:
//!       allowed_scopes: ["repo:read"]   # requested ⊆ allowed ([] = no scope may be requested)
//!       purpose_required: true     # a non-blank purpose must be given
//!     context:                     # all UTC
//!       weekdays: [mon, tue, wed, thu, fri]
//!       hours: [{from: "09:00", to: "17:00"}]  # from inclusive, to exclusive ("24:00" allowed),
//!                                              # from > to wraps midnight; any-of the windows
//!       source_cidrs: ["10.0.0.0/8", "2001:db8::/32"]   # no source IP matches none
//!     obligations:                 # allow rules only
//!       max_credential_seconds: 900    # 1..=3600, 900 when absent
//!       scopes: ["repo:read"]      # granted = requested ∩ these; absent = requested
//!       rate: 10/minute            # per principal × tool
//! ```
//!
//! A key repeated in one mapping is an error at the repeat's pointer (serde would keep the last
//! silently; see `strict`). Unknown fields anywhere are errors, and so are empty matcher lists (they would match nothing:
//! omit the field to match anything). Hours and weekdays are evaluated independently on the
//! current UTC day: a window `22:00`–`02:00` with `weekdays: [fri]` covers Friday 22:00–24:00
//! and Friday 00:00–02:00, not Saturday morning.

use super::glob::Glob;
use super::parse::Parser;
use super::strict::{self, ReadError};
use super::{lint, PolicyError, Warning};
use super::{DEFAULT_CREDENTIAL_SECONDS, MAX_DOCUMENT_BYTES};
use crate::config::RateLimit;
use crate::domain::tool::{RiskLevel, ToolType};
use crate::domain::user::Role;
use ipnet::IpNet;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// What a rule or the default decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Self::Allow),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }
}

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Agent,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Agent => "agent",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "agent" => Some(Self::Agent),
            _ => None,
        }
    }
}

/// A tool's probe state as policies see it: the last probe's verdict, or `Stale` when the last
/// pass is too old to trust (the caller decides what "too old" is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    Passed,
    Failed,
    Stale,
}

impl ProbeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeStatus::Passed => "passed",
            ProbeStatus::Failed => "failed",
            ProbeStatus::Stale => "stale",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "passed" => Some(Self::Passed),
            "failed" => Some(Self::Failed),
            "stale" => Some(Self::Stale),
            _ => None,
        }
    }
    pub(super) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl From<crate::domain::probe::ProbeStatus> for ProbeStatus {
    fn from(s: crate::domain::probe::ProbeStatus) -> Self {
        match s {
            crate::domain::probe::ProbeStatus::Passed => ProbeStatus::Passed,
            crate::domain::probe::ProbeStatus::Failed => ProbeStatus::Failed,
        }
    }
}

pub(super) fn risk_bit(r: RiskLevel) -> u8 {
    match r {
        RiskLevel::Low => 1,
        RiskLevel::Medium => 2,
        RiskLevel::High => 4,
        RiskLevel::Critical => 8,
    }
}

pub(super) const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A validated, compiled policy. Only [`parse_policy`] (or [`Policy::parse`],
/// [`Policy::from_value`]) makes one.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(super) default: Effect,
    pub(super) rules: Vec<Rule>,
}

/// One rule, compiled.
#[derive(Clone, Debug)]
pub struct Rule {
    pub(super) id: String,
    pub(super) effect: Effect,
    pub(super) rationale: String,
    pub(super) description: Option<String>,
    pub(super) principal: PrincipalCond,
    pub(super) tool: ToolCond,
    pub(super) request: RequestCond,
    pub(super) context: ContextCond,
    /// `Some` exactly for allow rules (defaults filled in).
    pub(super) obligations: Option<ObligationSpec>,
    /// Whether any request or context condition is set (for `could_allow`).
    pub(super) has_request_or_context: bool,
}

impl Rule {
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn effect(&self) -> Effect {
        self.effect
    }
    pub fn rationale(&self) -> &str {
        &self.rationale
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// Whether the rule explicitly matches drifted tools (`tool.drifted: true`).
    pub fn allows_drifted(&self) -> bool {
        self.tool.drifted == Some(true)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct PrincipalCond {
    pub kind: Option<PrincipalKind>,
    pub ids: Option<Vec<String>>,
    pub roles: Option<Vec<Role>>,
    pub groups: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum RiskCond {
    Max(RiskLevel),
    In(Vec<RiskLevel>),
}

impl RiskCond {
    pub fn mask(&self) -> u8 {
        match self {
            RiskCond::Max(m) => (risk_bit(*m) << 1) - 1,
            RiskCond::In(v) => v.iter().fold(0, |a, r| a | risk_bit(*r)),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct ToolCond {
    pub ids: Option<Vec<String>>,
    pub names: Option<Vec<Glob>>,
    pub tags: Option<Vec<String>>,
    pub risk: Option<RiskCond>,
    /// `risk`'s mask, precomputed.
    pub risk_mask: u8,
    pub tool_type: Option<ToolType>,
    pub probe_status: Option<Vec<ProbeStatus>>,
    pub probe_mask: u8,
    pub drifted: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct RequestCond {
    pub allowed_scopes: Option<Vec<String>>,
    pub purpose_required: bool,
}

/// An hour window in minutes since midnight UTC: `from` in 0..1440, `to` in 0..=1440, `from != to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct HourWindow {
    pub from: u32,
    pub to: u32,
}

impl HourWindow {
    /// Whether the second of the day `t` (0..86400) falls in the window.
    pub fn contains(self, t: u32) -> bool {
        let (f, e) = (self.from * 60, self.to * 60);
        if f < e {
            f <= t && t < e
        } else {
            t >= f || t < e
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct ContextCond {
    /// Indexes into [`WEEKDAYS`] as written, and their mask.
    pub weekdays: Option<Vec<u8>>,
    pub weekday_mask: u8,
    pub hours: Option<Vec<HourWindow>>,
    pub source_cidrs: Option<Vec<IpNet>>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct ObligationSpec {
    pub max_credential_seconds: u32,
    pub scopes: Option<Vec<String>>,
    /// As written, and parsed.
    pub rate: Option<(String, RateLimit)>,
}

impl Default for ObligationSpec {
    fn default() -> Self {
        Self {
            max_credential_seconds: DEFAULT_CREDENTIAL_SECONDS,
            scopes: None,
            rate: None,
        }
    }
}

/// Parses a policy document, JSON or YAML (JSON when the first non-blank character is `{` and it
/// parses as JSON; YAML otherwise). Answers the policy and its warnings, or every error found.
pub fn parse_policy(text: &str) -> Result<(Policy, Vec<Warning>), Vec<PolicyError>> {
    Policy::parse(text)
}

/// The canonical JSON of a policy: keys sorted, no whitespace, defaults filled in (`default`,
/// every allow rule's `obligations.max_credential_seconds`), conditions that constrain nothing
/// left out (empty condition objects, `purpose_required: false`), CIDRs in their normal form.
/// Lists keep their written order. Parsing it gives the same policy.
pub fn canonical_json(policy: &Policy) -> String {
    let mut out = String::new();
    write_sorted(&policy.to_value(), &mut out);
    out
}

/// The lowercase hex SHA-256 of [`canonical_json`]: a policy version's identity.
pub fn sha256_hex(policy: &Policy) -> String {
    hex::encode(Sha256::digest(canonical_json(policy).as_bytes()))
}

fn top_error(message: impl Into<String>) -> Vec<PolicyError> {
    vec![PolicyError {
        pointer: String::new(),
        message: message.into(),
    }]
}

impl Policy {
    /// See [`parse_policy`].
    pub fn parse(text: &str) -> Result<(Policy, Vec<Warning>), Vec<PolicyError>> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(top_error(format!(
                "the document is {} bytes; at most {MAX_DOCUMENT_BYTES} are accepted",
                text.len()
            )));
        }
        // Both readers refuse a repeated key (which serde would resolve to the last, silently).
        let value: Value = if text.trim_start().starts_with('{') {
            match strict::json(text) {
                Ok(v) => v,
                Err(ReadError::Duplicate(e)) => return Err(vec![e]),
                // Flow-style YAML (`{default: deny}`) starts with `{` too.
                Err(ReadError::Syntax(json_err)) => match strict::yaml(text) {
                    Ok(v) => v,
                    Err(ReadError::Duplicate(e)) => return Err(vec![e]),
                    Err(ReadError::Syntax(_)) => {
                        return Err(top_error(format!("invalid JSON: {json_err}")))
                    }
                },
            }
        } else {
            match strict::yaml(text) {
                Ok(v) => v,
                Err(ReadError::Duplicate(e)) => return Err(vec![e]),
                Err(ReadError::Syntax(e)) => return Err(top_error(format!("invalid YAML: {e}"))),
            }
        };
        Self::from_value_unchecked_size(&value)
    }

    /// Validates an already parsed document (e.g. the `document` member of a JSON request body).
    pub fn from_value(value: &Value) -> Result<(Policy, Vec<Warning>), Vec<PolicyError>> {
        let size = serde_json::to_vec(value).map_or(0, |v| v.len());
        if size > MAX_DOCUMENT_BYTES {
            return Err(top_error(format!(
                "the document is {size} bytes as JSON; at most {MAX_DOCUMENT_BYTES} are accepted"
            )));
        }
        Self::from_value_unchecked_size(value)
    }

    fn from_value_unchecked_size(
        value: &Value,
    ) -> Result<(Policy, Vec<Warning>), Vec<PolicyError>> {
        let mut p = Parser { errors: Vec::new() };
        let policy = p.policy(value);
        match policy {
            Some(policy) if p.errors.is_empty() => {
                let warnings = lint::warnings(&policy);
                Ok((policy, warnings))
            }
            _ => Err(p.errors),
        }
    }

    /// What applies when no rule matches.
    pub fn default_effect(&self) -> Effect {
        self.default
    }

    /// The rules in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// See [`canonical_json`].
    pub fn canonical_json(&self) -> String {
        canonical_json(self)
    }

    /// See [`sha256_hex`].
    pub fn sha256_hex(&self) -> String {
        sha256_hex(self)
    }

    /// The canonical document as a JSON value.
    pub fn to_value(&self) -> Value {
        let mut top = Map::new();
        top.insert("default".into(), self.default.as_str().into());
        top.insert(
            "rules".into(),
            Value::Array(self.rules.iter().map(Rule::to_value).collect()),
        );
        Value::Object(top)
    }
}

fn strs(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

impl Rule {
    fn to_value(&self) -> Value {
        let mut r = Map::new();
        r.insert("id".into(), self.id.clone().into());
        r.insert("effect".into(), self.effect.as_str().into());
        r.insert("rationale".into(), self.rationale.clone().into());
        if let Some(d) = &self.description {
            r.insert("description".into(), d.clone().into());
        }
        let mut put = |key: &str, m: Map<String, Value>| {
            if !m.is_empty() {
                r.insert(key.into(), Value::Object(m));
            }
        };

        let pc = &self.principal;
        let mut m = Map::new();
        if let Some(k) = pc.kind {
            m.insert("kind".into(), k.as_str().into());
        }
        if let Some(v) = &pc.ids {
            m.insert("ids".into(), strs(v));
        }
        if let Some(v) = &pc.roles {
            m.insert(
                "roles".into(),
                Value::Array(v.iter().map(|r| r.as_str().into()).collect()),
            );
        }
        if let Some(v) = &pc.groups {
            m.insert("groups".into(), strs(v));
        }
        if let Some(v) = &pc.tags {
            m.insert("tags".into(), strs(v));
        }
        put("principal", m);

        let tc = &self.tool;
        let mut m = Map::new();
        if let Some(v) = &tc.ids {
            m.insert("ids".into(), strs(v));
        }
        if let Some(v) = &tc.names {
            m.insert(
                "names".into(),
                Value::Array(v.iter().map(|g| g.source().into()).collect()),
            );
        }
        if let Some(v) = &tc.tags {
            m.insert("tags".into(), strs(v));
        }
        match &tc.risk {
            Some(RiskCond::Max(l)) => {
                m.insert("risk_level".into(), serde_json::json!({"max": l.as_str()}));
            }
            Some(RiskCond::In(v)) => {
                let v: Vec<&str> = v.iter().map(|l| l.as_str()).collect();
                m.insert("risk_level".into(), serde_json::json!({ "in": v }));
            }
            None => {}
        }
        if let Some(t) = tc.tool_type {
            m.insert("tool_type".into(), t.as_str().into());
        }
        if let Some(v) = &tc.probe_status {
            m.insert(
                "probe_status".into(),
                Value::Array(v.iter().map(|s| s.as_str().into()).collect()),
            );
        }
        if let Some(d) = tc.drifted {
            m.insert("drifted".into(), d.into());
        }
        put("tool", m);

        let rc = &self.request;
        let mut m = Map::new();
        if let Some(v) = &rc.allowed_scopes {
            m.insert("allowed_scopes".into(), strs(v));
        }
        if rc.purpose_required {
            m.insert("purpose_required".into(), true.into());
        }
        put("request", m);

        let cc = &self.context;
        let mut m = Map::new();
        if let Some(v) = &cc.weekdays {
            m.insert(
                "weekdays".into(),
                Value::Array(v.iter().map(|d| WEEKDAYS[*d as usize].into()).collect()),
            );
        }
        if let Some(v) = &cc.hours {
            m.insert(
                "hours".into(),
                Value::Array(
                    v.iter()
                        .map(|w| serde_json::json!({"from": hhmm(w.from), "to": hhmm(w.to)}))
                        .collect(),
                ),
            );
        }
        if let Some(v) = &cc.source_cidrs {
            m.insert(
                "source_cidrs".into(),
                Value::Array(v.iter().map(|n| n.to_string().into()).collect()),
            );
        }
        put("context", m);

        if let Some(o) = &self.obligations {
            let mut m = Map::new();
            m.insert(
                "max_credential_seconds".into(),
                o.max_credential_seconds.into(),
            );
            if let Some(v) = &o.scopes {
                m.insert("scopes".into(), strs(v));
            }
            if let Some((s, _)) = &o.rate {
                m.insert("rate".into(), s.clone().into());
            }
            r.insert("obligations".into(), Value::Object(m));
        }
        Value::Object(r)
    }
}

/// Writes `v` as compact JSON with every object's keys in byte order, whatever the map type's
/// own order.
fn write_sorted(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_sorted(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
