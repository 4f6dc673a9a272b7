//! Warnings about a valid policy: rules that can never match, and overlapping rules with
//! opposite effects. Conservative and cheap: each rule is compared with each earlier one,
//! condition by condition; cross-condition reasoning and unions of earlier rules are not
//! attempted, so some unreachable rules go unreported (none is reported wrongly).

use super::document::{
    ContextCond, HourWindow, Policy, PrincipalCond, PrincipalKind, Rule, ToolCond,
};
use super::{Warning, CREDENTIAL_SECONDS_CAP, MAX_WARNINGS};

/// How decisions and audit events prefix an agent's id (`auth::principal::AGENT_SUBJECT`; the
/// domain does not import auth).
const AGENT_PREFIX: &str = "agent:";

/// A minute-of-day bitmap (1440 bits).
type Minutes = [u64; 23];

fn minutes(hours: &[HourWindow]) -> Minutes {
    let mut m = [0u64; 23];
    let mut set = |a: u32, b: u32| {
        for i in a..b {
            m[(i / 64) as usize] |= 1 << (i % 64);
        }
    };
    for w in hours {
        if w.from < w.to {
            set(w.from, w.to);
        } else {
            set(w.from, 1440);
            set(0, w.to);
        }
    }
    m
}

fn subset_bits(a: &Minutes, b: &Minutes) -> bool {
    a.iter().zip(b).all(|(x, y)| x & !y == 0)
}

fn disjoint_bits(a: &Minutes, b: &Minutes) -> bool {
    a.iter().zip(b).all(|(x, y)| x & y == 0)
}

/// `a`'s condition holds whenever `b`'s does, for a condition met when the value is in the list
/// (or, for any-of lists, when some value is): true when `a` is absent or `b ⊆ a`.
fn list_covers<T: PartialEq>(a: &Option<Vec<T>>, b: &Option<Vec<T>>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => b.iter().all(|x| a.contains(x)),
    }
}

fn eq_covers<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    a.is_none() || a == b
}

/// `b`'s mask within `a`'s, where a zero-flag means absent.
fn mask_covers(a_set: bool, a: u8, b_set: bool, b: u8) -> bool {
    !a_set || (b_set && b & !a == 0)
}

struct Facts<'r> {
    rule: &'r Rule,
    minutes: Option<Minutes>,
    unconditional: bool,
}

/// Whether every request `b` matches is matched by `a`.
fn covers(a: &Facts<'_>, b: &Facts<'_>) -> bool {
    let (ra, rb) = (a.rule, b.rule);
    let (pa, pb) = (&ra.principal, &rb.principal);
    let principal = eq_covers(&pa.kind, &pb.kind)
        && list_covers(&pa.ids, &pb.ids)
        && list_covers(&pa.roles, &pb.roles)
        && list_covers(&pa.groups, &pb.groups)
        && list_covers(&pa.tags, &pb.tags);
    if !principal {
        return false;
    }
    let (ta, tb) = (&ra.tool, &rb.tool);
    let names = match (&ta.names, &tb.names) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => {
            a.iter().any(|g| g.is_all())
                || b.iter().all(|g| {
                    a.iter()
                        .any(|h| h.source().eq_ignore_ascii_case(g.source()))
                })
        }
    };
    let tool = names
        && list_covers(&ta.ids, &tb.ids)
        && list_covers(&ta.tags, &tb.tags)
        && mask_covers(
            ta.risk.is_some(),
            ta.risk_mask,
            tb.risk.is_some(),
            tb.risk_mask,
        )
        && eq_covers(&ta.tool_type, &tb.tool_type)
        && mask_covers(
            ta.probe_status.is_some(),
            ta.probe_mask,
            tb.probe_status.is_some(),
            tb.probe_mask,
        )
        && eq_covers(&ta.drifted, &tb.drifted);
    if !tool {
        return false;
    }
    let (qa, qb) = (&ra.request, &rb.request);
    // requested ⊆ allowed: a larger allowed set is the weaker condition.
    let request = match (&qa.allowed_scopes, &qb.allowed_scopes) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => b.iter().all(|s| a.contains(s)),
    } && (!qa.purpose_required || qb.purpose_required);
    if !request {
        return false;
    }
    let (ca, cb): (&ContextCond, &ContextCond) = (&ra.context, &rb.context);
    mask_covers(
        ca.weekdays.is_some(),
        ca.weekday_mask,
        cb.weekdays.is_some(),
        cb.weekday_mask,
    ) && match (&a.minutes, &b.minutes) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(x), Some(y)) => subset_bits(y, x),
    } && match (&ca.source_cidrs, &cb.source_cidrs) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(x), Some(y)) => y.iter().all(|n| x.iter().any(|m| m.contains(n))),
    }
}

fn lists_disjoint<T: PartialEq>(a: &Option<Vec<T>>, b: &Option<Vec<T>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => !a.iter().any(|x| b.contains(x)),
        _ => false,
    }
}

fn both_differ<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x != y)
}

/// Whether no request can match both (judged on single-valued facts only; any-of lists such as
/// tags never prove disjointness, since one principal or tool may hold both).
fn disjoint(a: &Facts<'_>, b: &Facts<'_>) -> bool {
    let (pa, pb): (&PrincipalCond, &PrincipalCond) = (&a.rule.principal, &b.rule.principal);
    let (ta, tb): (&ToolCond, &ToolCond) = (&a.rule.tool, &b.rule.tool);
    let (ca, cb) = (&a.rule.context, &b.rule.context);
    let literal_names_disjoint = match (&ta.names, &tb.names) {
        (Some(x), Some(y)) => {
            x.iter().all(|g| g.literal().is_some())
                && y.iter().all(|g| g.literal().is_some())
                && !x
                    .iter()
                    .any(|g| y.iter().any(|h| g.literal() == h.literal()))
        }
        _ => false,
    };
    both_differ(&pa.kind, &pb.kind)
        // Roles belong to users only.
        || (pa.roles.is_some() && pb.kind == Some(PrincipalKind::Agent))
        || (pb.roles.is_some() && pa.kind == Some(PrincipalKind::Agent))
        || lists_disjoint(&pa.ids, &pb.ids)
        || lists_disjoint(&pa.roles, &pb.roles)
        || lists_disjoint(&ta.ids, &tb.ids)
        || literal_names_disjoint
        || (ta.risk.is_some() && tb.risk.is_some() && ta.risk_mask & tb.risk_mask == 0)
        || both_differ(&ta.tool_type, &tb.tool_type)
        || (ta.probe_status.is_some() && tb.probe_status.is_some() && ta.probe_mask & tb.probe_mask == 0)
        || both_differ(&ta.drifted, &tb.drifted)
        || (ca.weekdays.is_some() && cb.weekdays.is_some() && ca.weekday_mask & cb.weekday_mask == 0)
        || matches!((&a.minutes, &b.minutes), (Some(x), Some(y)) if disjoint_bits(x, y))
        || matches!((&ca.source_cidrs, &cb.source_cidrs),
            (Some(x), Some(y)) if !x.iter().any(|n| y.iter().any(|m| n.contains(m) || m.contains(n))))
}

pub(super) fn warnings(policy: &Policy) -> Vec<Warning> {
    let facts: Vec<Facts<'_>> = policy
        .rules
        .iter()
        .map(|rule| Facts {
            rule,
            minutes: rule.context.hours.as_deref().map(minutes),
            unconditional: rule.principal == PrincipalCond::default()
                && rule.tool == ToolCond::default()
                && !rule.has_request_or_context,
        })
        .collect();
    let mut out = Vec::new();
    let mut push = |pointer: String, message: String| {
        out.push(Warning { pointer, message });
    };
    for (j, b) in facts.iter().enumerate() {
        let at = format!("/rules/{j}");
        let rb = b.rule;
        // Principal ids are bare (an agent's id as `/agents/{id}` takes it), in decisions and
        // discovery alike; the `agent:<id>` form decisions and audit events show never matches.
        for (k, id) in rb.principal.ids.iter().flatten().enumerate() {
            if let Some(bare) = id.strip_prefix(AGENT_PREFIX) {
                push(
                    format!("{at}/principal/ids/{k}"),
                    format!(
                        "{id:?} never matches: `principal.ids` takes the bare agent id (write {bare:?}); the `agent:` form is how decisions and audit events name an agent, not how policies do"
                    ),
                );
            }
        }
        if let Some(o) = rb.obligations.as_ref() {
            if o.max_credential_seconds > CREDENTIAL_SECONDS_CAP {
                push(
                    format!("{at}/obligations/max_credential_seconds"),
                    format!(
                        "credentials live at most {CREDENTIAL_SECONDS_CAP} seconds: {} is lowered to {CREDENTIAL_SECONDS_CAP}",
                        o.max_credential_seconds
                    ),
                );
            }
        }
        // Never matches on its own.
        if rb.principal.roles.is_some() && rb.principal.kind == Some(PrincipalKind::Agent) {
            push(
                format!("{at}/principal/roles"),
                format!(
                    "rule {:?} can never match: agents have no role, so `roles` never holds with `kind: agent`",
                    rb.id
                ),
            );
        }
        if let (Some(o), Some(allowed)) = (&rb.obligations, &rb.request.allowed_scopes) {
            if let Some(granted) = &o.scopes {
                if !allowed.is_empty() && !allowed.iter().any(|s| granted.contains(s)) {
                    push(
                        format!("{at}/obligations/scopes"),
                        format!(
                            "rule {:?} never grants a scope: no scope in `request.allowed_scopes` is in `obligations.scopes`",
                            rb.id
                        ),
                    );
                }
            }
        }
        // Shadowed by an earlier rule.
        let shadow = facts[..j].iter().enumerate().find(|(_, a)| covers(a, b));
        if let Some((i, a)) = shadow {
            let ra = a.rule;
            let why = if a.unconditional {
                format!(
                    "rule {:?} (/rules/{i}) has no conditions and matches every request first",
                    ra.id
                )
            } else if covers(b, a) {
                format!(
                    "rule {:?} (/rules/{i}) has the same conditions and comes first",
                    ra.id
                )
            } else {
                format!("every request it matches is matched first by rule {:?} (/rules/{i}), whose conditions are broader", ra.id)
            };
            push(at, format!("rule {:?} can never match: {why}", rb.id));
            continue;
        }
        // Overlaps an earlier rule of the opposite effect (reported once per rule).
        if let Some((i, a)) = facts[..j]
            .iter()
            .enumerate()
            .find(|(_, a)| a.rule.effect != rb.effect && !disjoint(a, b))
        {
            push(
                at,
                format!(
                    "rule {:?} ({}) may overlap the earlier rule {:?} (/rules/{i}, {}): requests matching both get {} from {:?}",
                    rb.id,
                    rb.effect.as_str(),
                    a.rule.id,
                    a.rule.effect.as_str(),
                    a.rule.effect.as_str(),
                    a.rule.id
                ),
            );
        }
    }
    if out.len() > MAX_WARNINGS {
        let more = out.len() - MAX_WARNINGS;
        out.truncate(MAX_WARNINGS);
        out.push(Warning {
            pointer: "/rules".into(),
            message: format!("{more} more warnings not shown"),
        });
    }
    out
}
