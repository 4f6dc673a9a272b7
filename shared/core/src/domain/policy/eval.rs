//! The evaluator: deterministic, first matching rule wins, else the default. Matching allocates
//! nothing (globs and CIDRs are compiled at parse time); only the [`Decision`] is allocated.

use super::document::{Effect, Policy, PrincipalKind, ProbeStatus, Rule};
use super::rationale;
use crate::config::RateLimit;
use crate::domain::tool::{RiskLevel, ToolType};
use crate::domain::user::Role;
use chrono::{DateTime, Datelike, Timelike, Utc};
use std::net::IpAddr;

/// Who asks.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub kind: PrincipalKind,
    pub id: &'a str,
    /// A user's role; `None` for agents.
    pub role: Option<Role>,
    pub groups: &'a [String],
    pub tags: &'a [String],
}

/// What the policy may know of the tool asked for.
#[derive(Clone, Copy, Debug)]
pub struct ToolFacts<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub tags: &'a [String],
    pub risk_level: RiskLevel,
    pub tool_type: ToolType,
    /// `None`: never probed (function tools, remote tools not probed yet).
    pub probe_status: Option<ProbeStatus>,
    pub drifted: bool,
    pub is_active: bool,
}

/// What is asked for.
#[derive(Clone, Copy, Debug)]
pub struct AccessRequest<'a> {
    pub scopes: &'a [String],
    pub purpose: Option<&'a str>,
}

/// When and from where.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub now: DateTime<Utc>,
    pub source_ip: Option<IpAddr>,
}

/// What an allow carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obligations {
    /// The longest lifetime of the credential issued.
    pub max_credential_seconds: u32,
    /// The requested scopes the rule grants (requested ∩ the rule's `scopes`), in the order
    /// requested, without repeats.
    pub granted_scopes: Vec<String>,
    /// Requests allowed per principal × tool.
    pub rate: Option<RateLimit>,
}

/// The outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub effect: Effect,
    /// The rule that decided; `None` for the default and the built-in guards.
    pub rule_id: Option<String>,
    /// The rule's rationale, or a built-in code ([`rationale`]).
    pub rationale: String,
    /// `Some` exactly when `effect` is allow.
    pub obligations: Option<Obligations>,
}

impl Decision {
    pub fn is_allow(&self) -> bool {
        self.effect == Effect::Allow
    }

    fn builtin(effect: Effect, code: &str, request: &AccessRequest<'_>) -> Self {
        Self {
            effect,
            rule_id: None,
            rationale: code.to_owned(),
            obligations: (effect == Effect::Allow).then(|| Obligations {
                max_credential_seconds: super::DEFAULT_CREDENTIAL_SECONDS,
                granted_scopes: intersect(request.scopes, None),
                rate: None,
            }),
        }
    }

    fn from_rule(rule: &Rule, request: &AccessRequest<'_>) -> Self {
        Self {
            effect: rule.effect,
            rule_id: Some(rule.id.clone()),
            rationale: rule.rationale.clone(),
            obligations: rule.obligations.as_ref().map(|o| Obligations {
                max_credential_seconds: o.max_credential_seconds.min(super::CREDENTIAL_SECONDS_CAP),
                granted_scopes: intersect(request.scopes, o.scopes.as_deref()),
                rate: o.rate.as_ref().map(|(_, r)| *r),
            }),
        }
    }
}

/// `requested ∩ allowed` (all of `requested` when `allowed` is `None`), first occurrences only.
fn intersect(requested: &[String], allowed: Option<&[String]>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(requested.len());
    for s in requested {
        if allowed.is_none_or(|a| a.contains(s)) && !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// The context, reduced once per evaluation.
struct Now {
    weekday_bit: u8,
    second_of_day: u32,
    ip: Option<IpAddr>,
}

impl Now {
    fn of(ctx: &Context) -> Self {
        Self {
            weekday_bit: 1 << ctx.now.weekday().num_days_from_monday(),
            second_of_day: ctx.now.num_seconds_from_midnight(),
            // `::ffff:10.1.2.3` is 10.1.2.3.
            ip: ctx.source_ip.map(|ip| ip.to_canonical()),
        }
    }
}

fn any_of(wanted: &Option<Vec<String>>, have: &[String]) -> bool {
    wanted
        .as_ref()
        .is_none_or(|w| have.iter().any(|h| w.contains(h)))
}

fn one_of(wanted: &Option<Vec<String>>, have: &str) -> bool {
    wanted.as_ref().is_none_or(|w| w.iter().any(|x| x == have))
}

fn principal_and_tool_match(rule: &Rule, s: &Subject<'_>, t: &ToolFacts<'_>) -> bool {
    let p = &rule.principal;
    if p.kind.is_some_and(|k| k != s.kind)
        || !one_of(&p.ids, s.id)
        || p.roles
            .as_ref()
            .is_some_and(|r| !s.role.is_some_and(|role| r.contains(&role)))
        || !any_of(&p.groups, s.groups)
        || !any_of(&p.tags, s.tags)
    {
        return false;
    }
    let c = &rule.tool;
    !(c.tool_type.is_some_and(|x| x != t.tool_type)
        || c.drifted.is_some_and(|d| d != t.drifted)
        || (c.risk.is_some() && c.risk_mask & super::document::risk_bit(t.risk_level) == 0)
        || (c.probe_status.is_some()
            && t.probe_status.is_none_or(|ps| c.probe_mask & ps.bit() == 0))
        || !one_of(&c.ids, t.id)
        || c.names
            .as_ref()
            .is_some_and(|n| !n.iter().any(|g| g.matches(t.name)))
        || !any_of(&c.tags, t.tags))
}

fn request_and_context_match(rule: &Rule, r: &AccessRequest<'_>, now: &Now) -> bool {
    if !rule.has_request_or_context {
        return true;
    }
    let q = &rule.request;
    if let Some(allowed) = &q.allowed_scopes {
        if !r.scopes.iter().all(|s| allowed.contains(s)) {
            return false;
        }
    }
    if q.purpose_required && r.purpose.is_none_or(|p| p.trim().is_empty()) {
        return false;
    }
    let c = &rule.context;
    if c.weekdays.is_some() && c.weekday_mask & now.weekday_bit == 0 {
        return false;
    }
    if let Some(h) = &c.hours {
        if !h.iter().any(|w| w.contains(now.second_of_day)) {
            return false;
        }
    }
    if let Some(nets) = &c.source_cidrs {
        match now.ip {
            Some(ip) if nets.iter().any(|n| n.contains(&ip)) => {}
            _ => return false,
        }
    }
    true
}

impl Policy {
    /// The first rule whose conditions all hold, without the built-in guards. Allocates nothing.
    pub fn first_match(
        &self,
        subject: &Subject<'_>,
        tool: &ToolFacts<'_>,
        request: &AccessRequest<'_>,
        ctx: &Context,
    ) -> Option<&Rule> {
        let now = Now::of(ctx);
        self.rules.iter().find(|r| {
            principal_and_tool_match(r, subject, tool)
                && request_and_context_match(r, request, &now)
        })
    }
}

/// The policy alone, without the built-in guards: the first matching rule's decision, else the
/// default's (`DEFAULT_DENY` / `DEFAULT_ALLOW`; a default allow grants the requested scopes for
/// [`DEFAULT_CREDENTIAL_SECONDS`](super::DEFAULT_CREDENTIAL_SECONDS) with no rate).
pub fn evaluate(
    policy: &Policy,
    subject: &Subject<'_>,
    tool: &ToolFacts<'_>,
    request: &AccessRequest<'_>,
    ctx: &Context,
) -> Decision {
    match policy.first_match(subject, tool, request, ctx) {
        Some(rule) => Decision::from_rule(rule, request),
        None => default_decision(policy, request),
    }
}

fn default_decision(policy: &Policy, request: &AccessRequest<'_>) -> Decision {
    match policy.default {
        Effect::Deny => Decision::builtin(Effect::Deny, rationale::DEFAULT_DENY, request),
        Effect::Allow => Decision::builtin(Effect::Allow, rationale::DEFAULT_ALLOW, request),
    }
}

/// The decision for an access request: the built-in guards, then the policy.
///
/// 1. an inactive tool is denied (`TOOL_INACTIVE`);
/// 2. a tool whose last probe failed is denied (`TOOL_PROBE_FAILED`);
/// 3. a drifted tool is denied (`TOOL_DRIFTED`) unless the rule that matches first explicitly
///    has `tool.drifted: true`, in which case that rule decides;
/// 4. otherwise [`evaluate`].
pub fn evaluate_with_guards(
    policy: &Policy,
    subject: &Subject<'_>,
    tool: &ToolFacts<'_>,
    request: &AccessRequest<'_>,
    ctx: &Context,
) -> Decision {
    if !tool.is_active {
        return Decision::builtin(Effect::Deny, rationale::TOOL_INACTIVE, request);
    }
    if tool.probe_status == Some(ProbeStatus::Failed) {
        return Decision::builtin(Effect::Deny, rationale::TOOL_PROBE_FAILED, request);
    }
    let matched = policy.first_match(subject, tool, request, ctx);
    if tool.drifted && !matched.is_some_and(Rule::allows_drifted) {
        return Decision::builtin(Effect::Deny, rationale::TOOL_DRIFTED, request);
    }
    match matched {
        Some(rule) => Decision::from_rule(rule, request),
        None => default_decision(policy, request),
    }
}

/// Whether `subject` could be allowed `tool` by some request at some time from some place: used
/// to narrow tool discovery for agents.
///
/// Exactly: the guards of [`evaluate_with_guards`] apply (an inactive tool, or one whose last
/// probe failed, is never allowed; a drifted tool only through a rule with `tool.drifted: true`),
/// principal and tool conditions are evaluated as they are, and request and context conditions
/// (scopes, purpose, weekdays, hours, source CIDRs) are assumed satisfiable or avoidable at will.
/// Walking the rules in order, among those whose principal and tool conditions hold:
/// - an allow rule (usable for this tool) answers `true`: some request and context may meet its
///   conditions;
/// - a deny rule without request or context conditions answers `false`: it matches every
///   request first;
/// - a deny rule with request or context conditions is passed over: some request or context may
///   miss it;
///
/// and when no rule answers, the default does (`allow` → `true`, for a tool not drifted).
///
/// This over-approximates "some request and context would be allowed" only in that conditions
/// are judged one rule at a time: it never answers `false` for a tool some request would be
/// allowed to use, but may answer `true` when, say, an earlier deny rule's window covers the
/// whole day. Allocates nothing.
pub fn could_allow(policy: &Policy, subject: &Subject<'_>, tool: &ToolFacts<'_>) -> bool {
    if !tool.is_active || tool.probe_status == Some(ProbeStatus::Failed) {
        return false;
    }
    for rule in &policy.rules {
        if !principal_and_tool_match(rule, subject, tool) {
            continue;
        }
        // A drifted tool matched by a rule without `drifted: true` is denied by the guard.
        let usable = !tool.drifted || rule.allows_drifted();
        match (rule.effect, rule.has_request_or_context) {
            (Effect::Allow, _) if usable => return true,
            (_, false) => return false,
            _ => {}
        }
    }
    policy.default == Effect::Allow && !tool.drifted
}
