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
use super::strict::{self, ReadError};
use super::{child, lint, PolicyError, Warning};
use super::{DEFAULT_CREDENTIAL_SECONDS, MAX_CREDENTIAL_SECONDS, MAX_DOCUMENT_BYTES, MAX_RULES};
use crate::config::RateLimit;
use crate::domain::tool::{RiskLevel, ToolType};
use crate::domain::user::Role;
use ipnet::IpNet;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

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

fn valid_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b[1..].iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        })
}

fn valid_rationale(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_uppercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// Parses `HH:MM` (two digits each) into minutes; `24:00` only when `end`.
fn parse_hhmm(s: &str, end: bool) -> Option<u32> {
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' || ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
        return None;
    }
    let h = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
    let m = u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0');
    match (h, m) {
        (24, 0) if end => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Longest free-form string (ids, tags, groups, scopes) in a condition.
const MAX_STRING_LEN: usize = 256;
const MAX_DESCRIPTION_LEN: usize = 1000;

struct Parser {
    errors: Vec<PolicyError>,
}

impl Parser {
    fn err(&mut self, pointer: &str, message: impl Into<String>) {
        self.errors.push(PolicyError {
            pointer: pointer.to_owned(),
            message: message.into(),
        });
    }

    /// The object at `ptr`, with every key outside `allowed` reported.
    fn object<'v>(
        &mut self,
        v: &'v Value,
        ptr: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(m) = v.as_object() else {
            self.err(ptr, format!("must be an object, not {}", type_name(v)));
            return None;
        };
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                self.err(
                    &child(ptr, k),
                    format!(
                        "unknown field `{k}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        Some(m)
    }

    fn string<'v>(&mut self, v: &'v Value, ptr: &str) -> Option<&'v str> {
        match v.as_str() {
            Some(s) => Some(s),
            None => {
                self.err(ptr, format!("must be a string, not {}", type_name(v)));
                None
            }
        }
    }

    fn boolean(&mut self, v: &Value, ptr: &str) -> Option<bool> {
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.err(ptr, format!("must be true or false, not {}", type_name(v)));
                None
            }
        }
    }

    /// An array whose items `item` converts; `None` when anything is wrong (all reported).
    fn list<'v, T>(
        &mut self,
        v: &'v Value,
        ptr: &str,
        allow_empty: bool,
        mut item: impl FnMut(&mut Self, &'v Value, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Some(a) = v.as_array() else {
            self.err(ptr, format!("must be an array, not {}", type_name(v)));
            return None;
        };
        if a.is_empty() && !allow_empty {
            self.err(
                ptr,
                "must not be empty: an empty list matches nothing (omit the field to match anything)",
            );
            return None;
        }
        let mut out = Vec::with_capacity(a.len());
        let mut ok = true;
        for (i, x) in a.iter().enumerate() {
            match item(self, x, &child(ptr, &i.to_string())) {
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn str_list(&mut self, v: &Value, ptr: &str, allow_empty: bool) -> Option<Vec<String>> {
        self.list(v, ptr, allow_empty, |p, x, at| {
            let s = p.string(x, at)?;
            if s.is_empty() || s.len() > MAX_STRING_LEN {
                p.err(at, format!("must be 1 to {MAX_STRING_LEN} bytes long"));
                return None;
            }
            Some(s.to_owned())
        })
    }

    /// A list of names from a closed set.
    fn enum_list<T>(
        &mut self,
        v: &Value,
        ptr: &str,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<Vec<T>> {
        self.list(v, ptr, false, |p, x, at| {
            let s = p.string(x, at)?;
            let t = parse(s);
            if t.is_none() {
                p.err(at, format!("unknown {what} {s:?}"));
            }
            t
        })
    }

    fn enum_value<T>(
        &mut self,
        v: &Value,
        ptr: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let s = self.string(v, ptr)?;
        let t = parse(s);
        if t.is_none() {
            self.err(ptr, format!("must be one of {expected}, not {s:?}"));
        }
        t
    }

    fn policy(&mut self, v: &Value) -> Option<Policy> {
        let m = self.object(v, "", &["default", "rules"])?;
        let default = match m.get("default") {
            None => Some(Effect::Deny),
            Some(d) => self.enum_value(d, "/default", "allow, deny", Effect::parse),
        };
        let mut rules = Vec::new();
        if let Some(rv) = m.get("rules") {
            match rv.as_array() {
                None => self.err("/rules", format!("must be an array, not {}", type_name(rv))),
                Some(a) if a.len() > MAX_RULES => self.err(
                    "/rules",
                    format!("{} rules; at most {MAX_RULES} are accepted", a.len()),
                ),
                Some(a) => {
                    let mut seen: HashMap<String, usize> = HashMap::new();
                    for (i, r) in a.iter().enumerate() {
                        let ptr = format!("/rules/{i}");
                        if let Some(rule) = self.rule(r, &ptr) {
                            if let Some(first) = seen.get(&rule.id) {
                                self.err(
                                    &format!("{ptr}/id"),
                                    format!(
                                        "duplicate rule id {:?} (first at /rules/{first})",
                                        rule.id
                                    ),
                                );
                            } else {
                                seen.insert(rule.id.clone(), i);
                            }
                            rules.push(rule);
                        }
                    }
                }
            }
        }
        Some(Policy {
            default: default?,
            rules,
        })
    }

    fn rule(&mut self, v: &Value, ptr: &str) -> Option<Rule> {
        let m = self.object(
            v,
            ptr,
            &[
                "id",
                "effect",
                "rationale",
                "description",
                "principal",
                "tool",
                "request",
                "context",
                "obligations",
            ],
        )?;
        let before = self.errors.len();
        let required = |p: &mut Self, key: &str| -> Option<&Value> {
            let x = m.get(key);
            if x.is_none() {
                p.err(ptr, format!("missing required field `{key}`"));
            }
            x
        };
        let id = required(self, "id").and_then(|x| {
            let at = child(ptr, "id");
            let s = self.string(x, &at)?;
            if !valid_id(s) {
                self.err(
                    &at,
                    format!("{s:?} must match ^[a-z0-9][a-z0-9._-]{{0,63}}$"),
                );
                return None;
            }
            Some(s.to_owned())
        });
        let effect = required(self, "effect")
            .and_then(|x| self.enum_value(x, &child(ptr, "effect"), "allow, deny", Effect::parse));
        let rationale = required(self, "rationale").and_then(|x| {
            let at = child(ptr, "rationale");
            let s = self.string(x, &at)?;
            if !valid_rationale(s) {
                self.err(&at, format!("{s:?} must match ^[A-Z][A-Z0-9_]{{0,63}}$"));
                return None;
            }
            if super::rationale::RESERVED.contains(&s) {
                self.err(&at, format!("{s} is reserved for built-in decisions"));
                return None;
            }
            Some(s.to_owned())
        });
        let description = m.get("description").and_then(|x| {
            let at = child(ptr, "description");
            let s = self.string(x, &at)?;
            if s.chars().count() > MAX_DESCRIPTION_LEN {
                self.err(
                    &at,
                    format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
                );
                return None;
            }
            Some(s.to_owned())
        });
        let principal = m
            .get("principal")
            .map(|x| self.principal(x, &child(ptr, "principal")))
            .unwrap_or_default();
        let tool = m
            .get("tool")
            .map(|x| self.tool(x, &child(ptr, "tool")))
            .unwrap_or_default();
        let request = m
            .get("request")
            .map(|x| self.request(x, &child(ptr, "request")))
            .unwrap_or_default();
        let context = m
            .get("context")
            .map(|x| self.context(x, &child(ptr, "context")))
            .unwrap_or_default();
        let obligations = match (effect, m.get("obligations")) {
            (Some(Effect::Deny), Some(_)) => {
                self.err(
                    &child(ptr, "obligations"),
                    "obligations apply only to allow rules",
                );
                None
            }
            (Some(Effect::Allow), Some(x)) => Some(self.obligations(x, &child(ptr, "obligations"))),
            (Some(Effect::Allow), None) => Some(ObligationSpec::default()),
            _ => None,
        };
        if self.errors.len() != before {
            return None;
        }
        let has_request_or_context =
            request != RequestCond::default() || context != ContextCond::default();
        Some(Rule {
            id: id?,
            effect: effect?,
            rationale: rationale?,
            description,
            principal,
            tool,
            request,
            context,
            obligations,
            has_request_or_context,
        })
    }

    fn principal(&mut self, v: &Value, ptr: &str) -> PrincipalCond {
        let mut c = PrincipalCond::default();
        let Some(m) = self.object(v, ptr, &["kind", "ids", "roles", "groups", "tags"]) else {
            return c;
        };
        if let Some(x) = m.get("kind") {
            c.kind = self.enum_value(x, &child(ptr, "kind"), "user, agent", PrincipalKind::parse);
        }
        if let Some(x) = m.get("ids") {
            c.ids = self.str_list(x, &child(ptr, "ids"), false);
        }
        if let Some(x) = m.get("roles") {
            c.roles = self.enum_list(x, &child(ptr, "roles"), "role (admin, user)", Role::parse);
        }
        if let Some(x) = m.get("groups") {
            c.groups = self.str_list(x, &child(ptr, "groups"), false);
        }
        if let Some(x) = m.get("tags") {
            c.tags = self.str_list(x, &child(ptr, "tags"), false);
        }
        c
    }

    fn tool(&mut self, v: &Value, ptr: &str) -> ToolCond {
        let mut c = ToolCond::default();
        let Some(m) = self.object(
            v,
            ptr,
            &[
                "ids",
                "names",
                "tags",
                "risk_level",
                "tool_type",
                "probe_status",
                "drifted",
            ],
        ) else {
            return c;
        };
        if let Some(x) = m.get("ids") {
            c.ids = self.str_list(x, &child(ptr, "ids"), false);
        }
        if let Some(x) = m.get("names") {
            c.names = self.list(x, &child(ptr, "names"), false, |p, x, at| {
                let s = p.string(x, at)?;
                match Glob::compile(s) {
                    Ok(g) => Some(g),
                    Err(e) => {
                        p.err(at, e);
                        None
                    }
                }
            });
        }
        if let Some(x) = m.get("tags") {
            c.tags = self.str_list(x, &child(ptr, "tags"), false);
        }
        if let Some(x) = m.get("risk_level") {
            let at = child(ptr, "risk_level");
            if let Some(r) = self.object(x, &at, &["max", "in"]) {
                const LEVELS: &str = "risk level (low, medium, high, critical)";
                c.risk = match (r.get("max"), r.get("in")) {
                    (Some(_), Some(_)) | (None, None) => {
                        self.err(&at, "must have exactly one of `max` and `in`");
                        None
                    }
                    (Some(mx), None) => self
                        .enum_value(
                            mx,
                            &child(&at, "max"),
                            "low, medium, high, critical",
                            RiskLevel::parse,
                        )
                        .map(RiskCond::Max),
                    (None, Some(i)) => self
                        .enum_list(i, &child(&at, "in"), LEVELS, RiskLevel::parse)
                        .map(RiskCond::In),
                };
                c.risk_mask = c.risk.as_ref().map_or(0, RiskCond::mask);
            }
        }
        if let Some(x) = m.get("tool_type") {
            c.tool_type = self.enum_value(
                x,
                &child(ptr, "tool_type"),
                "function, remote",
                ToolType::parse,
            );
        }
        if let Some(x) = m.get("probe_status") {
            c.probe_status = self.enum_list(
                x,
                &child(ptr, "probe_status"),
                "probe status (passed, failed, stale)",
                ProbeStatus::parse,
            );
            c.probe_mask = c
                .probe_status
                .as_ref()
                .map_or(0, |v| v.iter().fold(0, |a, s| a | s.bit()));
        }
        if let Some(x) = m.get("drifted") {
            c.drifted = self.boolean(x, &child(ptr, "drifted"));
        }
        c
    }

    fn request(&mut self, v: &Value, ptr: &str) -> RequestCond {
        let mut c = RequestCond::default();
        let Some(m) = self.object(v, ptr, &["allowed_scopes", "purpose_required"]) else {
            return c;
        };
        if let Some(x) = m.get("allowed_scopes") {
            c.allowed_scopes = self.str_list(x, &child(ptr, "allowed_scopes"), true);
        }
        if let Some(x) = m.get("purpose_required") {
            c.purpose_required = self
                .boolean(x, &child(ptr, "purpose_required"))
                .unwrap_or(false);
        }
        c
    }

    fn context(&mut self, v: &Value, ptr: &str) -> ContextCond {
        let mut c = ContextCond::default();
        let Some(m) = self.object(v, ptr, &["weekdays", "hours", "source_cidrs"]) else {
            return c;
        };
        if let Some(x) = m.get("weekdays") {
            c.weekdays = self.enum_list(
                x,
                &child(ptr, "weekdays"),
                "weekday (mon, tue, wed, thu, fri, sat, sun)",
                |s| WEEKDAYS.iter().position(|d| *d == s).map(|i| i as u8),
            );
            c.weekday_mask = c
                .weekdays
                .as_ref()
                .map_or(0, |v| v.iter().fold(0, |a, d| a | (1 << d)));
        }
        if let Some(x) = m.get("hours") {
            c.hours = self.list(x, &child(ptr, "hours"), false, |p, w, at| {
                let o = p.object(w, at, &["from", "to"])?;
                let end = |p: &mut Self, key: &str, is_end: bool| -> Option<u32> {
                    let Some(x) = o.get(key) else {
                        p.err(at, format!("missing required field `{key}`"));
                        return None;
                    };
                    let at = child(at, key);
                    let s = p.string(x, &at)?;
                    let t = parse_hhmm(s, is_end);
                    if t.is_none() {
                        let range = if is_end { "00:00 to 24:00" } else { "00:00 to 23:59" };
                        p.err(&at, format!("{s:?} must be a time HH:MM from {range} (UTC)"));
                    }
                    t
                };
                let from = end(p, "from", false);
                let to = end(p, "to", true);
                let (from, to) = (from?, to?);
                if from == to {
                    p.err(
                        at,
                        "`from` equals `to`: the window is empty (use 00:00 to 24:00 for the whole day)",
                    );
                    return None;
                }
                Some(HourWindow { from, to })
            });
        }
        if let Some(x) = m.get("source_cidrs") {
            c.source_cidrs = self.list(x, &child(ptr, "source_cidrs"), false, |p, x, at| {
                let s = p.string(x, at)?;
                match s.parse::<IpNet>() {
                    Ok(n) if n.trunc() != n => {
                        p.err(
                            at,
                            format!("{s:?} has host bits set; did you mean {}?", n.trunc()),
                        );
                        None
                    }
                    Ok(n) => Some(n),
                    Err(_) => {
                        p.err(
                            at,
                            format!(
                                "{s:?} is not a CIDR block such as 10.0.0.0/8 or 2001:db8::/32"
                            ),
                        );
                        None
                    }
                }
            });
        }
        c
    }

    fn obligations(&mut self, v: &Value, ptr: &str) -> ObligationSpec {
        let mut o = ObligationSpec::default();
        let Some(m) = self.object(v, ptr, &["max_credential_seconds", "scopes", "rate"]) else {
            return o;
        };
        if let Some(x) = m.get("max_credential_seconds") {
            let at = child(ptr, "max_credential_seconds");
            match x.as_u64() {
                Some(n) if (1..=u64::from(MAX_CREDENTIAL_SECONDS)).contains(&n) => {
                    o.max_credential_seconds = n as u32;
                }
                _ => self.err(
                    &at,
                    format!("must be a whole number of seconds from 1 to {MAX_CREDENTIAL_SECONDS}, not {x}"),
                ),
            }
        }
        if let Some(x) = m.get("scopes") {
            o.scopes = self.str_list(x, &child(ptr, "scopes"), true);
        }
        if let Some(x) = m.get("rate") {
            let at = child(ptr, "rate");
            if let Some(s) = self.string(x, &at) {
                match RateLimit::parse(s) {
                    Ok(r) => o.rate = Some((s.trim().to_owned(), r)),
                    Err(e) => self.err(&at, format!("{s:?}: {e}")),
                }
            }
        }
        o
    }
}
