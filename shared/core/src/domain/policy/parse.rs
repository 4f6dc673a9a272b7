//! Reading a policy document: every field checked, every error located by a JSON pointer,
//! into the compiled form of `document`.

use super::document::*;
use super::glob::Glob;
use super::{child, PolicyError};
use super::{MAX_CREDENTIAL_SECONDS, MAX_RULES};
use crate::config::RateLimit;
use crate::domain::tool::{RiskLevel, ToolType};
use crate::domain::user::Role;
use ipnet::IpNet;
use serde_json::{Map, Value};
use std::collections::HashMap;

pub(super) fn valid_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b[1..].iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        })
}

pub(super) fn valid_rationale(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_uppercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// Parses `HH:MM` (two digits each) into minutes; `24:00` only when `end`.
pub(super) fn parse_hhmm(s: &str, end: bool) -> Option<u32> {
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

pub(super) fn type_name(v: &Value) -> &'static str {
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
pub(super) const MAX_STRING_LEN: usize = 256;
pub(super) const MAX_DESCRIPTION_LEN: usize = 1000;

pub(super) struct Parser {
    pub(super) errors: Vec<PolicyError>,
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

    pub(super) fn policy(&mut self, v: &Value) -> Option<Policy> {
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
