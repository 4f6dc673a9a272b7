use super::*;
use crate::domain::tool::{RiskLevel, ToolType};
use crate::domain::user::Role;
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::net::IpAddr;

fn policy(v: Value) -> Policy {
    match Policy::from_value(&v) {
        Ok((p, _)) => p,
        Err(e) => panic!("{e:?}"),
    }
}

fn warnings(v: Value) -> Vec<Warning> {
    Policy::from_value(&v).expect("valid").1
}

fn errors(v: Value) -> Vec<(String, String)> {
    match Policy::from_value(&v) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.into_iter().map(|e| (e.pointer, e.message)).collect(),
    }
}

/// The single error's pointer, with its message containing `needle`.
fn error_at(v: Value, pointer: &str, needle: &str) {
    let e = errors(v);
    assert!(
        e.iter().any(|(p, m)| p == pointer && m.contains(needle)),
        "wanted {pointer} ~ {needle:?}, got {e:?}"
    );
}

fn rule(extra: Value) -> Value {
    let mut r = json!({"id": "r", "effect": "allow", "rationale": "OK"});
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

fn one(extra: Value) -> Policy {
    policy(json!({"rules": [rule(extra)]}))
}

struct Fx {
    groups: Vec<String>,
    tags: Vec<String>,
    tool_tags: Vec<String>,
    scopes: Vec<String>,
}

fn fx() -> Fx {
    Fx {
        groups: vec!["eng".into()],
        tags: vec!["ci".into()],
        tool_tags: vec!["vcs".into(), "beta".into()],
        scopes: vec!["repo:read".into()],
    }
}

fn subject(f: &Fx) -> Subject<'_> {
    Subject {
        kind: PrincipalKind::Agent,
        id: "agent-1",
        role: None,
        groups: &f.groups,
        tags: &f.tags,
    }
}

fn tool(f: &Fx) -> ToolFacts<'_> {
    ToolFacts {
        id: "tool-1",
        name: "github_search",
        tags: &f.tool_tags,
        risk_level: RiskLevel::Medium,
        tool_type: ToolType::Remote,
        probe_status: Some(ProbeStatus::Passed),
        drifted: false,
        is_active: true,
    }
}

fn req(f: &Fx) -> AccessRequest<'_> {
    AccessRequest {
        scopes: &f.scopes,
        purpose: Some("triage"),
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Wednesday noon UTC, from 10.1.2.3.
fn ctx() -> Context {
    Context {
        now: at("2025-01-15T12:00:00Z"),
        source_ip: Some("10.1.2.3".parse().unwrap()),
    }
}

fn allowed(p: &Policy, s: &Subject, t: &ToolFacts, r: &AccessRequest, c: &Context) -> bool {
    evaluate(p, s, t, r, c).effect == Effect::Allow
}

/// Whether rule `r` with `cond` allows the default fixture after `tweak`.
fn check(
    cond: Value,
    tweak: impl Fn(&mut Subject, &mut ToolFacts, &mut AccessRequest, &mut Context),
) -> bool {
    let p = one(cond);
    let f = fx();
    let (mut s, mut t, mut r, mut c) = (subject(&f), tool(&f), req(&f), ctx());
    tweak(&mut s, &mut t, &mut r, &mut c);
    allowed(&p, &s, &t, &r, &c)
}

fn same(_: &mut Subject, _: &mut ToolFacts, _: &mut AccessRequest, _: &mut Context) {}

#[test]
fn default_is_deny_and_can_be_allow() {
    let f = fx();
    let p = policy(json!({}));
    let d = evaluate(&p, &subject(&f), &tool(&f), &req(&f), &ctx());
    assert_eq!(d.effect, Effect::Deny);
    assert_eq!(d.rationale, "DEFAULT_DENY");
    assert_eq!(d.rule_id, None);
    assert_eq!(d.obligations, None);
    let p = policy(json!({"default": "allow", "rules": []}));
    let d = evaluate(&p, &subject(&f), &tool(&f), &req(&f), &ctx());
    assert_eq!(d.effect, Effect::Allow);
    assert_eq!(d.rationale, "DEFAULT_ALLOW");
    let o = d.obligations.unwrap();
    assert_eq!(o.max_credential_seconds, 900);
    assert_eq!(o.granted_scopes, f.scopes);
    assert_eq!(o.rate, None);
}

#[test]
fn first_matching_rule_wins() {
    let f = fx();
    let p = policy(json!({"rules": [
        {"id": "other", "effect": "allow", "rationale": "OTHER", "tool": {"names": ["slack_*"]}},
        {"id": "deny-gh", "effect": "deny", "rationale": "NO_GITHUB", "tool": {"names": ["github_*"]}},
        {"id": "all", "effect": "allow", "rationale": "ALL"}
    ]}));
    let d = evaluate(&p, &subject(&f), &tool(&f), &req(&f), &ctx());
    assert_eq!(
        (d.effect, d.rule_id.as_deref(), d.rationale.as_str()),
        (Effect::Deny, Some("deny-gh"), "NO_GITHUB")
    );
    assert!(d.obligations.is_none());
    let mut t = tool(&f);
    t.name = "jira";
    let d = evaluate(&p, &subject(&f), &t, &req(&f), &ctx());
    assert_eq!(
        (d.effect, d.rule_id.as_deref()),
        (Effect::Allow, Some("all"))
    );
    assert_eq!(
        p.first_match(&subject(&f), &t, &req(&f), &ctx())
            .unwrap()
            .id(),
        "all"
    );
}

#[test]
fn principal_conditions() {
    assert!(check(json!({"principal": {"kind": "agent"}}), same));
    assert!(!check(json!({"principal": {"kind": "user"}}), same));
    assert!(check(json!({"principal": {"ids": ["x", "agent-1"]}}), same));
    assert!(!check(json!({"principal": {"ids": ["x"]}}), same));
    let user_admin =
        |s: &mut Subject, _: &mut ToolFacts, _: &mut AccessRequest, _: &mut Context| {
            s.kind = PrincipalKind::User;
            s.role = Some(Role::Admin);
        };
    assert!(check(
        json!({"principal": {"roles": ["admin"]}}),
        user_admin
    ));
    assert!(!check(
        json!({"principal": {"roles": ["user"]}}),
        user_admin
    ));
    assert!(
        !check(json!({"principal": {"roles": ["admin", "user"]}}), same),
        "agents have no role"
    );
    assert!(check(
        json!({"principal": {"groups": ["ops", "eng"]}}),
        same
    ));
    assert!(!check(json!({"principal": {"groups": ["ops"]}}), same));
    assert!(check(json!({"principal": {"tags": ["ci"]}}), same));
    assert!(!check(json!({"principal": {"tags": ["prod"]}}), same));
    let no_tags = |s: &mut Subject, _: &mut ToolFacts, _: &mut AccessRequest, _: &mut Context| {
        s.tags = &[];
    };
    assert!(!check(json!({"principal": {"tags": ["ci"]}}), no_tags));
}

#[test]
fn tool_conditions() {
    assert!(check(json!({"tool": {"ids": ["tool-1"]}}), same));
    assert!(!check(json!({"tool": {"ids": ["tool-2"]}}), same));
    assert!(check(json!({"tool": {"tags": ["x", "beta"]}}), same));
    assert!(!check(json!({"tool": {"tags": ["x"]}}), same));
    assert!(check(json!({"tool": {"tool_type": "remote"}}), same));
    assert!(!check(json!({"tool": {"tool_type": "function"}}), same));
    assert!(check(
        json!({"tool": {"probe_status": ["passed", "stale"]}}),
        same
    ));
    assert!(!check(json!({"tool": {"probe_status": ["stale"]}}), same));
    let never = |_: &mut Subject, t: &mut ToolFacts, _: &mut AccessRequest, _: &mut Context| {
        t.probe_status = None;
    };
    assert!(!check(
        json!({"tool": {"probe_status": ["passed", "failed", "stale"]}}),
        never
    ));
    assert!(check(json!({"tool": {"drifted": false}}), same));
    assert!(!check(json!({"tool": {"drifted": true}}), same));
}

#[test]
fn risk_levels_by_max_and_set() {
    let with = |l: RiskLevel| {
        move |_: &mut Subject, t: &mut ToolFacts, _: &mut AccessRequest, _: &mut Context| {
            t.risk_level = l
        }
    };
    use RiskLevel::*;
    for (l, ok) in [
        (Low, true),
        (Medium, true),
        (High, false),
        (Critical, false),
    ] {
        assert_eq!(
            check(json!({"tool": {"risk_level": {"max": "medium"}}}), with(l)),
            ok,
            "{l:?}"
        );
    }
    for (l, ok) in [
        (Low, true),
        (Medium, false),
        (High, true),
        (Critical, false),
    ] {
        assert_eq!(
            check(
                json!({"tool": {"risk_level": {"in": ["low", "high"]}}}),
                with(l)
            ),
            ok,
            "{l:?}"
        );
    }
    assert!(check(
        json!({"tool": {"risk_level": {"max": "critical"}}}),
        with(Critical)
    ));
    assert!(!check(
        json!({"tool": {"risk_level": {"max": "low"}}}),
        with(Medium)
    ));
}

#[test]
fn globs_star_question_and_case() {
    let g = |p: &str, n: &str| glob::Glob::compile(p).unwrap().matches(n);
    assert!(g("github_*", "github_search"));
    assert!(g("github_*", "github_"));
    assert!(!g("github_*", "gitlab_search"));
    assert!(g("GitHub_*", "GITHUB_SEARCH"));
    assert!(g("*", ""));
    assert!(g("*_search", "github_search"));
    assert!(!g("*_search", "github_searches"));
    assert!(g("git?ub_*", "github_x"));
    assert!(!g("git?ub", "gitub"));
    assert!(g("a*b*c", "aXbYbZc"));
    assert!(!g("a*b*c", "aXbYbZ"));
    assert!(g("a**c", "abc"));
    assert!(g("??", "ab"));
    assert!(!g("??", "abc"));
    assert!(g("?", "é"), "? is one character, not one byte");
    assert!(g("exact", "EXACT"));
    assert!(!g("exact", "exactly"));
    assert!(g("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaab"));
    assert!(!g("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaa"));
    assert!(check(
        json!({"tool": {"names": ["slack", "GITHUB_*"]}}),
        same
    ));
    assert!(!check(json!({"tool": {"names": ["github"]}}), same));
}

#[test]
fn request_scopes_and_purpose() {
    assert!(check(
        json!({"request": {"allowed_scopes": ["repo:read", "repo:write"]}}),
        same
    ));
    assert!(!check(
        json!({"request": {"allowed_scopes": ["repo:write"]}}),
        same
    ));
    let none =
        |_: &mut Subject, _: &mut ToolFacts, r: &mut AccessRequest, _: &mut Context| r.scopes = &[];
    assert!(check(json!({"request": {"allowed_scopes": []}}), none));
    assert!(!check(json!({"request": {"allowed_scopes": []}}), same));
    assert!(check(json!({"request": {"purpose_required": true}}), same));
    let blank = |_: &mut Subject, _: &mut ToolFacts, r: &mut AccessRequest, _: &mut Context| {
        r.purpose = Some("  ")
    };
    let absent = |_: &mut Subject, _: &mut ToolFacts, r: &mut AccessRequest, _: &mut Context| {
        r.purpose = None
    };
    assert!(!check(
        json!({"request": {"purpose_required": true}}),
        blank
    ));
    assert!(!check(
        json!({"request": {"purpose_required": true}}),
        absent
    ));
    assert!(check(
        json!({"request": {"purpose_required": false}}),
        absent
    ));
}

fn at_time(
    s: &'static str,
) -> impl Fn(&mut Subject, &mut ToolFacts, &mut AccessRequest, &mut Context) {
    move |_, _, _, c| c.now = at(s)
}

#[test]
fn hour_windows_at_their_boundaries() {
    let business = json!({"context": {"hours": [{"from": "09:00", "to": "17:00"}]}});
    assert!(!check(business.clone(), at_time("2025-01-15T08:59:59Z")));
    assert!(check(business.clone(), at_time("2025-01-15T09:00:00Z")));
    assert!(check(business.clone(), at_time("2025-01-15T16:59:59Z")));
    assert!(!check(business.clone(), at_time("2025-01-15T17:00:00Z")));
    let night = json!({"context": {"hours": [{"from": "22:00", "to": "02:00"}]}});
    assert!(!check(night.clone(), at_time("2025-01-15T21:59:59Z")));
    assert!(check(night.clone(), at_time("2025-01-15T22:00:00Z")));
    assert!(check(night.clone(), at_time("2025-01-15T23:59:59Z")));
    assert!(check(night.clone(), at_time("2025-01-16T00:00:00Z")));
    assert!(check(night.clone(), at_time("2025-01-16T01:59:59Z")));
    assert!(!check(night.clone(), at_time("2025-01-16T02:00:00Z")));
    assert!(!check(night, at_time("2025-01-16T12:00:00Z")));
    let all_day = json!({"context": {"hours": [{"from": "00:00", "to": "24:00"}]}});
    assert!(check(all_day.clone(), at_time("2025-01-15T00:00:00Z")));
    assert!(check(all_day, at_time("2025-01-15T23:59:59Z")));
    let two = json!({"context": {"hours": [{"from": "06:00", "to": "07:00"}, {"from": "18:30", "to": "19:00"}]}});
    assert!(check(two.clone(), at_time("2025-01-15T18:30:00Z")));
    assert!(!check(two, at_time("2025-01-15T12:00:00Z")));
}

#[test]
fn weekdays_in_utc() {
    let weekdays = json!({"context": {"weekdays": ["mon", "tue", "wed", "thu", "fri"]}});
    assert!(check(weekdays.clone(), at_time("2025-01-17T23:59:59Z"))); // Friday
    assert!(!check(weekdays.clone(), at_time("2025-01-18T00:00:00Z"))); // Saturday
    assert!(!check(weekdays.clone(), at_time("2025-01-19T12:00:00Z"))); // Sunday
    assert!(check(weekdays, at_time("2025-01-20T00:00:00Z"))); // Monday
                                                               // UTC, not the caller's offset: 2025-01-17T23:30-05:00 is Saturday 04:30 UTC.
    let fri = json!({"context": {"weekdays": ["fri"]}});
    let t = DateTime::parse_from_rfc3339("2025-01-17T23:30:00-05:00")
        .unwrap()
        .with_timezone(&Utc);
    assert!(!check(fri, move |_, _, _, c| c.now = t));
    let weekend_evening =
        json!({"context": {"weekdays": ["sat"], "hours": [{"from": "18:00", "to": "20:00"}]}});
    assert!(check(
        weekend_evening.clone(),
        at_time("2025-01-18T19:00:00Z")
    ));
    assert!(!check(weekend_evening, at_time("2025-01-18T17:00:00Z")));
    assert_eq!(
        Utc.with_ymd_and_hms(2025, 1, 15, 0, 0, 0)
            .unwrap()
            .format("%a")
            .to_string(),
        "Wed"
    );
}

#[test]
fn source_cidrs_v4_and_v6() {
    let ip = |s: &'static str| {
        move |_: &mut Subject, _: &mut ToolFacts, _: &mut AccessRequest, c: &mut Context| {
            c.source_ip = Some(s.parse::<IpAddr>().unwrap())
        }
    };
    let nets =
        json!({"context": {"source_cidrs": ["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"]}});
    assert!(check(nets.clone(), ip("10.255.0.1")));
    assert!(check(nets.clone(), ip("192.168.1.254")));
    assert!(!check(nets.clone(), ip("192.168.2.1")));
    assert!(!check(nets.clone(), ip("11.0.0.1")));
    assert!(check(nets.clone(), ip("2001:db8:ffff::1")));
    assert!(!check(nets.clone(), ip("2001:db9::1")));
    assert!(
        check(nets.clone(), ip("::ffff:10.9.9.9")),
        "v4-mapped v6 is v4"
    );
    assert!(!check(nets.clone(), |_, _, _, c| c.source_ip = None));
    let host = json!({"context": {"source_cidrs": ["203.0.113.7/32", "::1/128"]}});
    assert!(check(host.clone(), ip("203.0.113.7")));
    assert!(!check(host.clone(), ip("203.0.113.8")));
    assert!(check(host, ip("::1")));
}

#[test]
fn obligations_intersect_scopes_and_fill_defaults() {
    let f = Fx {
        scopes: vec![
            "repo:read".into(),
            "repo:write".into(),
            "repo:read".into(),
            "admin".into(),
        ],
        ..fx()
    };
    let p = policy(json!({"rules": [
        {"id": "a", "effect": "allow", "rationale": "OK", "tool": {"ids": ["tool-1"]},
         "obligations": {"max_credential_seconds": 3600, "scopes": ["repo:read", "repo:write", "x"], "rate": "10/minute"}},
        {"id": "b", "effect": "allow", "rationale": "OK"}
    ]}));
    let d = evaluate(&p, &subject(&f), &tool(&f), &req(&f), &ctx());
    let o = d.obligations.unwrap();
    assert_eq!(
        o.max_credential_seconds, 900,
        "a document may say 3600; credentials live at most 900 s"
    );
    assert_eq!(o.granted_scopes, ["repo:read", "repo:write"]);
    assert_eq!(
        o.rate,
        Some(crate::config::RateLimit {
            limit: 10,
            window_secs: 60
        })
    );
    let mut t = tool(&f);
    t.id = "tool-2";
    let o = evaluate(&p, &subject(&f), &t, &req(&f), &ctx())
        .obligations
        .unwrap();
    assert_eq!(o.max_credential_seconds, 900, "the default");
    assert_eq!(
        o.granted_scopes,
        ["repo:read", "repo:write", "admin"],
        "absent = requested, once each"
    );
    assert_eq!(o.rate, None);
    // The lifetime is clamped to 1..=3600 at parse time.
    for ok in [1, 3600] {
        one(json!({"obligations": {"max_credential_seconds": ok}}));
    }
    for bad in [json!(0), json!(3601), json!(-5), json!(90.5), json!("900")] {
        error_at(
            json!({"rules": [rule(json!({"obligations": {"max_credential_seconds": bad}}))]}),
            "/rules/0/obligations/max_credential_seconds",
            "from 1 to 3600",
        );
    }
    let p = one(json!({"obligations": {"scopes": []}}));
    let o = evaluate(&p, &subject(&f), &tool(&f), &req(&f), &ctx())
        .obligations
        .unwrap();
    assert!(o.granted_scopes.is_empty());
}

fn guard_fixture() -> Policy {
    policy(json!({"rules": [
        {"id": "drift-ok", "effect": "allow", "rationale": "DRIFT_REVIEWED", "tool": {"ids": ["tool-d"], "drifted": true}},
        {"id": "all", "effect": "allow", "rationale": "ALL"}
    ]}))
}

#[test]
fn guards_come_before_the_policy() {
    let p = guard_fixture();
    let f = fx();
    let (s, r, c) = (subject(&f), req(&f), ctx());
    let run = |t: &ToolFacts| evaluate_with_guards(&p, &s, t, &r, &c);
    let base = tool(&f);
    assert_eq!(run(&base).rule_id.as_deref(), Some("all"));

    let t = ToolFacts {
        is_active: false,
        ..base
    };
    let d = run(&t);
    assert_eq!(
        (d.effect, d.rationale.as_str(), d.rule_id),
        (Effect::Deny, "TOOL_INACTIVE", None)
    );
    assert!(allowed(&p, &s, &t, &r, &c), "evaluate has no guards");

    let t = ToolFacts {
        probe_status: Some(ProbeStatus::Failed),
        ..base
    };
    assert_eq!(run(&t).rationale, "TOOL_PROBE_FAILED");
    let t = ToolFacts {
        probe_status: Some(ProbeStatus::Stale),
        ..base
    };
    assert_eq!(run(&t).rationale, "ALL", "stale is left to the policy");

    let t = ToolFacts {
        drifted: true,
        ..base
    };
    let d = run(&t);
    assert_eq!(
        (d.effect, d.rationale.as_str()),
        (Effect::Deny, "TOOL_DRIFTED")
    );
    let t = ToolFacts {
        drifted: true,
        id: "tool-d",
        ..base
    };
    let d = run(&t);
    assert_eq!(
        (d.effect, d.rule_id.as_deref(), d.rationale.as_str()),
        (Effect::Allow, Some("drift-ok"), "DRIFT_REVIEWED")
    );
    // Inactive beats everything.
    let t = ToolFacts {
        drifted: true,
        id: "tool-d",
        is_active: false,
        probe_status: Some(ProbeStatus::Failed),
        ..base
    };
    assert_eq!(run(&t).rationale, "TOOL_INACTIVE");
    // Drifted with no rule matching: the guard, not the default.
    let p = policy(json!({"default": "allow"}));
    let t = ToolFacts {
        drifted: true,
        ..base
    };
    assert_eq!(
        evaluate_with_guards(&p, &s, &t, &r, &c).rationale,
        "TOOL_DRIFTED"
    );
}

#[test]
fn could_allow_ignores_request_and_context_but_respects_order() {
    let f = fx();
    let (s, t) = (subject(&f), tool(&f));
    let ca = |v: Value| could_allow(&policy(v), &s, &t);
    assert!(!ca(json!({})));
    assert!(ca(json!({"default": "allow"})));
    // A conditional allow could match.
    assert!(ca(
        json!({"rules": [{"id": "a", "effect": "allow", "rationale": "X",
        "request": {"allowed_scopes": ["nothing"]}, "context": {"hours": [{"from": "03:00", "to": "04:00"}]}}]})
    ));
    // An unconditional deny for this principal and tool blocks later allows.
    assert!(!ca(json!({"rules": [
        {"id": "d", "effect": "deny", "rationale": "X", "tool": {"names": ["github_*"]}},
        {"id": "a", "effect": "allow", "rationale": "X"}]})));
    // A deny with a context condition may be avoided.
    assert!(ca(json!({"rules": [
        {"id": "d", "effect": "deny", "rationale": "X", "context": {"weekdays": ["sat", "sun"]}},
        {"id": "a", "effect": "allow", "rationale": "X"}]})));
    // A deny for someone else does not matter; an allow for someone else does not help.
    assert!(ca(json!({"default": "allow", "rules": [
        {"id": "d", "effect": "deny", "rationale": "X", "principal": {"kind": "user"}}]})));
    assert!(!ca(json!({"rules": [
        {"id": "a", "effect": "allow", "rationale": "X", "principal": {"ids": ["someone"]}}]})));
    // An unconditional deny blocks the default allow.
    assert!(!ca(json!({"default": "allow", "rules": [
        {"id": "d", "effect": "deny", "rationale": "X", "tool": {"tags": ["beta"]}}]})));
    // Guards.
    let p = guard_fixture();
    assert!(could_allow(&p, &s, &t));
    assert!(!could_allow(
        &p,
        &s,
        &ToolFacts {
            is_active: false,
            ..t
        }
    ));
    assert!(!could_allow(
        &p,
        &s,
        &ToolFacts {
            probe_status: Some(ProbeStatus::Failed),
            ..t
        }
    ));
    assert!(!could_allow(&p, &s, &ToolFacts { drifted: true, ..t }));
    assert!(could_allow(
        &p,
        &s,
        &ToolFacts {
            drifted: true,
            id: "tool-d",
            ..t
        }
    ));
    assert!(!could_allow(
        &policy(json!({"default": "allow"})),
        &s,
        &ToolFacts { drifted: true, ..t }
    ));
}

#[test]
fn could_allow_never_hides_an_allowed_tool() {
    // Exhaustive over a small grid: whenever some request/context is allowed, could_allow holds.
    let p = policy(json!({"rules": [
        {"id": "d1", "effect": "deny", "rationale": "X", "context": {"hours": [{"from": "00:00", "to": "12:00"}]}},
        {"id": "d2", "effect": "deny", "rationale": "X", "tool": {"risk_level": {"in": ["critical"]}}},
        {"id": "a1", "effect": "allow", "rationale": "X", "request": {"purpose_required": true}, "tool": {"tags": ["vcs"]}},
        {"id": "a2", "effect": "allow", "rationale": "X", "principal": {"kind": "user"}}
    ]}));
    let f = fx();
    for kind in [PrincipalKind::User, PrincipalKind::Agent] {
        for risk in [RiskLevel::Low, RiskLevel::Critical] {
            for tags in [&f.tool_tags[..], &[]] {
                let s = Subject {
                    kind,
                    ..subject(&f)
                };
                let t = ToolFacts {
                    risk_level: risk,
                    tags,
                    ..tool(&f)
                };
                let mut any = false;
                for purpose in [None, Some("p")] {
                    for hour in ["06", "18"] {
                        let c = Context {
                            now: at(&format!("2025-01-15T{hour}:00:00Z")),
                            ..ctx()
                        };
                        let r = AccessRequest { purpose, ..req(&f) };
                        any |= evaluate_with_guards(&p, &s, &t, &r, &c).is_allow();
                    }
                }
                assert!(
                    !any || could_allow(&p, &s, &t),
                    "{kind:?} {risk:?} {tags:?}"
                );
                assert_eq!(
                    could_allow(&p, &s, &t),
                    risk != RiskLevel::Critical
                        && (kind == PrincipalKind::User || !tags.is_empty())
                );
            }
        }
    }
}

#[test]
fn yaml_is_accepted_and_means_the_same() {
    let yaml = r#"
default: deny
rules:
  - id: business-hours
    effect: allow
    rationale: BUSINESS_HOURS_ONLY
    principal: {kind: agent}
    tool:
      names: ["github_*"]
      risk_level: {max: medium}
    context:
      weekdays: [mon, tue, wed, thu, fri]
      hours:
        - from: "09:00"
          to: 17:00
    obligations:
      max_credential_seconds: 300
      rate: 10/minute
"#;
    let (p, w) = parse_policy(yaml).unwrap();
    assert!(w.is_empty(), "{w:?}");
    let json = r#"{"rules":[{"obligations":{"rate":"10/minute","max_credential_seconds":300},"id":"business-hours","effect":"allow","rationale":"BUSINESS_HOURS_ONLY","principal":{"kind":"agent"},
        "tool":{"risk_level":{"max":"medium"},"names":["github_*"]},"context":{"hours":[{"to":"17:00","from":"09:00"}],"weekdays":["mon","tue","wed","thu","fri"]}}]}"#;
    let (q, _) = parse_policy(json).unwrap();
    assert_eq!(canonical_json(&p), canonical_json(&q));
    assert_eq!(sha256_hex(&p), sha256_hex(&q));
    assert_eq!(sha256_hex(&p).len(), 64);
    let f = fx();
    assert!(allowed(&p, &subject(&f), &tool(&f), &req(&f), &ctx()));
    // Flow-style YAML that starts like JSON.
    let (r, _) = parse_policy("{default: allow}").unwrap();
    assert_eq!(r.default_effect(), Effect::Allow);
}

#[test]
fn canonical_json_is_sorted_compact_with_defaults() {
    let p = policy(json!({"rules": [
        {"rationale": "OK", "effect": "allow", "id": "a", "request": {"purpose_required": false}, "principal": {},
         "context": {"source_cidrs": ["2001:DB8:0::/32"]}},
        {"id": "b", "effect": "deny", "rationale": "NO"}
    ]}));
    assert_eq!(
        canonical_json(&p),
        r#"{"default":"deny","rules":[{"context":{"source_cidrs":["2001:db8::/32"]},"effect":"allow","id":"a","obligations":{"max_credential_seconds":900},"rationale":"OK"},{"effect":"deny","id":"b","rationale":"NO"}]}"#
    );
    let q = policy(serde_json::from_str(&canonical_json(&p)).unwrap());
    assert_eq!(canonical_json(&q), canonical_json(&p));
    let r = policy(json!({"default": "deny", "rules": [
        {"id": "a", "effect": "allow", "rationale": "OK", "obligations": {"max_credential_seconds": 900},
         "context": {"source_cidrs": ["2001:db8::/32"]}},
        {"id": "b", "effect": "deny", "rationale": "NO"}
    ]}));
    assert_eq!(sha256_hex(&r), sha256_hex(&p));
    let s = policy(json!({"default": "allow", "rules": []}));
    assert_ne!(sha256_hex(&s), sha256_hex(&policy(json!({}))));
}

#[test]
fn parse_errors_carry_pointers() {
    let r = |x: Value| json!({"rules": [rule(json!({})), rule_with_id("second", x)]});
    fn rule_with_id(id: &str, x: Value) -> Value {
        let mut v = rule(x);
        v["id"] = id.into();
        v
    }
    error_at(json!([]), "", "must be an object");
    error_at(
        json!({"defaults": "deny"}),
        "/defaults",
        "unknown field `defaults`",
    );
    error_at(
        json!({"default": "maybe"}),
        "/default",
        "must be one of allow, deny",
    );
    error_at(json!({"rules": {}}), "/rules", "must be an array");
    error_at(
        json!({"rules": [{"id": "x", "effect": "allow"}]}),
        "/rules/0",
        "missing required field `rationale`",
    );
    error_at(
        json!({"rules": [rule(json!({"id": "Bad Id"}))]}),
        "/rules/0/id",
        "^[a-z0-9]",
    );
    error_at(
        json!({"rules": [rule(json!({"effect": "permit"}))]}),
        "/rules/0/effect",
        "allow, deny",
    );
    error_at(
        json!({"rules": [rule(json!({"rationale": "lower"}))]}),
        "/rules/0/rationale",
        "^[A-Z]",
    );
    error_at(
        json!({"rules": [rule(json!({"rationale": "DEFAULT_DENY"}))]}),
        "/rules/0/rationale",
        "reserved",
    );
    error_at(
        json!({"rules": [rule(json!({"colour": 1}))]}),
        "/rules/0/colour",
        "unknown field",
    );
    error_at(
        json!({"rules": [rule(json!({}) ), rule(json!({}))]}),
        "/rules/1/id",
        "duplicate rule id \"r\" (first at /rules/0)",
    );
    error_at(
        r(json!({"tool": {"names": ["ok_*", "bad_[a]"]}})),
        "/rules/1/tool/names/1",
        "character classes",
    );
    error_at(
        r(json!({"tool": {"names": [""]}})),
        "/rules/1/tool/names/0",
        "must not be empty",
    );
    error_at(
        r(json!({"tool": {"names": ["a.b"]}})),
        "/rules/1/tool/names/0",
        "invalid character",
    );
    error_at(
        r(json!({"tool": {"names": []}})),
        "/rules/1/tool/names",
        "must not be empty",
    );
    error_at(
        r(json!({"tool": {"name": ["x"]}})),
        "/rules/1/tool/name",
        "unknown field `name`",
    );
    error_at(
        r(json!({"tool": {"risk_level": {"max": "extreme"}}})),
        "/rules/1/tool/risk_level/max",
        "must be one of",
    );
    error_at(
        r(json!({"tool": {"risk_level": {"max": "low", "in": ["low"]}}})),
        "/rules/1/tool/risk_level",
        "exactly one",
    );
    error_at(
        r(json!({"tool": {"risk_level": {}}})),
        "/rules/1/tool/risk_level",
        "exactly one",
    );
    error_at(
        r(json!({"tool": {"risk_level": {"in": ["low", "huge"]}}})),
        "/rules/1/tool/risk_level/in/1",
        "unknown risk level",
    );
    error_at(
        r(json!({"tool": {"tool_type": "local"}})),
        "/rules/1/tool/tool_type",
        "function, remote",
    );
    error_at(
        r(json!({"tool": {"probe_status": ["ok"]}})),
        "/rules/1/tool/probe_status/0",
        "unknown probe status",
    );
    error_at(
        r(json!({"tool": {"drifted": "no"}})),
        "/rules/1/tool/drifted",
        "true or false",
    );
    error_at(
        r(json!({"principal": {"kind": "robot"}})),
        "/rules/1/principal/kind",
        "user, agent",
    );
    error_at(
        r(json!({"principal": {"roles": ["owner"]}})),
        "/rules/1/principal/roles/0",
        "unknown role",
    );
    error_at(
        r(json!({"principal": {"ids": [1]}})),
        "/rules/1/principal/ids/0",
        "must be a string",
    );
    error_at(
        r(json!({"principal": {"tags": [""]}})),
        "/rules/1/principal/tags/0",
        "1 to 256 bytes",
    );
    error_at(
        r(json!({"principal": "all"})),
        "/rules/1/principal",
        "must be an object",
    );
    error_at(
        r(json!({"request": {"allowed_scopes": "repo:read"}})),
        "/rules/1/request/allowed_scopes",
        "must be an array",
    );
    error_at(
        r(json!({"request": {"purpose_required": 1}})),
        "/rules/1/request/purpose_required",
        "true or false",
    );
    error_at(
        r(json!({"context": {"weekdays": ["Mon"]}})),
        "/rules/1/context/weekdays/0",
        "unknown weekday",
    );
    error_at(
        r(json!({"context": {"hours": [{"from": "9:00", "to": "17:00"}]}})),
        "/rules/1/context/hours/0/from",
        "HH:MM",
    );
    error_at(
        r(json!({"context": {"hours": [{"from": "24:00", "to": "17:00"}]}})),
        "/rules/1/context/hours/0/from",
        "00:00 to 23:59",
    );
    error_at(
        r(json!({"context": {"hours": [{"from": "09:00", "to": "17:60"}]}})),
        "/rules/1/context/hours/0/to",
        "HH:MM",
    );
    error_at(
        r(json!({"context": {"hours": [{"from": "09:00"}]}})),
        "/rules/1/context/hours/0",
        "missing required field `to`",
    );
    error_at(
        r(json!({"context": {"hours": [{"from": "09:00", "to": "09:00"}]}})),
        "/rules/1/context/hours/0",
        "empty",
    );
    error_at(
        r(json!({"context": {"hours": [{"from": "09:00", "to": "10:00", "tz": "CET"}]}})),
        "/rules/1/context/hours/0/tz",
        "unknown field",
    );
    error_at(
        r(json!({"context": {"source_cidrs": ["10.0.0.0/33"]}})),
        "/rules/1/context/source_cidrs/0",
        "not a CIDR",
    );
    error_at(
        r(json!({"context": {"source_cidrs": ["10.0.0.1"]}})),
        "/rules/1/context/source_cidrs/0",
        "not a CIDR",
    );
    error_at(
        r(json!({"context": {"source_cidrs": ["10.0.0.1/8"]}})),
        "/rules/1/context/source_cidrs/0",
        "did you mean 10.0.0.0/8",
    );
    error_at(
        r(json!({"context": {"source_cidrs": ["2001:db8::/129"]}})),
        "/rules/1/context/source_cidrs/0",
        "not a CIDR",
    );
    error_at(
        r(json!({"effect": "deny", "obligations": {}})),
        "/rules/1/obligations",
        "only to allow rules",
    );
    error_at(
        r(json!({"obligations": {"rate": "10/fortnight"}})),
        "/rules/1/obligations/rate",
        "unknown time unit",
    );
    error_at(
        r(json!({"obligations": {"rate": "ten"}})),
        "/rules/1/obligations/rate",
        "expected the form",
    );
    error_at(
        r(json!({"obligations": {"ttl": 5}})),
        "/rules/1/obligations/ttl",
        "unknown field",
    );
    error_at(
        r(json!({"description": 5})),
        "/rules/1/description",
        "must be a string",
    );
    // Pointer escaping (RFC 6901).
    error_at(json!({"a/b~c": 1}), "/a~1b~0c", "unknown field");
    // Every error at once.
    let e = errors(
        json!({"default": "x", "rules": [rule(json!({"effect": "deny", "obligations": {}, "tool": {"names": ["["]}}))]}),
    );
    assert_eq!(e.len(), 3, "{e:?}");
}

#[test]
fn size_limits() {
    let rules: Vec<Value> = (0..=MAX_RULES)
        .map(|i| json!({"id": format!("r{i}"), "effect": "deny", "rationale": "X", "principal": {"ids": [format!("p{i}")]}}))
        .collect();
    error_at(json!({"rules": rules}), "/rules", "at most 1000");
    let (p, _) = Policy::from_value(&json!({"rules": rules[..MAX_RULES]})).unwrap();
    assert_eq!(p.rules().len(), MAX_RULES);
    let big = format!(
        "{{\"default\":\"deny\",\"rules\":[],\"pad\":\"{}\"}}",
        "x".repeat(MAX_DOCUMENT_BYTES)
    );
    let e = parse_policy(&big).unwrap_err();
    assert_eq!(e[0].pointer, "");
    assert!(e[0].message.contains("at most 262144"), "{e:?}");
    let e = parse_policy("{\"rules\": [").unwrap_err();
    assert!(e[0].message.starts_with("invalid JSON"), "{e:?}");
    let e = parse_policy("rules: [\n  - id: x\n  bad").unwrap_err();
    assert!(e[0].message.starts_with("invalid YAML"), "{e:?}");
}

#[test]
fn warnings_for_unreachable_and_overlapping_rules() {
    let w = warnings(json!({"rules": [
        {"id": "catch-all", "effect": "deny", "rationale": "X"},
        {"id": "late", "effect": "allow", "rationale": "Y", "tool": {"ids": ["t"]}}
    ]}));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].pointer, "/rules/1");
    assert!(w[0].message.contains("no conditions"), "{w:?}");

    let w = warnings(json!({"rules": [
        {"id": "a", "effect": "allow", "rationale": "X", "tool": {"tags": ["x", "y"]}, "principal": {"kind": "agent"}},
        {"id": "b", "effect": "deny", "rationale": "X", "principal": {"kind": "agent"}, "tool": {"tags": ["y", "x"]}}
    ]}));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].message.contains("same conditions"), "{w:?}");

    // Subsumed: broader tags, wider window, wider CIDR, larger allowed scopes.
    let w = warnings(json!({"rules": [
        {"id": "a", "effect": "allow", "rationale": "X", "tool": {"names": ["github_*"], "risk_level": {"max": "high"}},
         "context": {"hours": [{"from": "08:00", "to": "18:00"}], "source_cidrs": ["10.0.0.0/8"]},
         "request": {"allowed_scopes": ["a", "b"]}},
        {"id": "b", "effect": "allow", "rationale": "X", "tool": {"names": ["GITHUB_*"], "risk_level": {"in": ["low"]}, "tags": ["z"]},
         "context": {"hours": [{"from": "09:00", "to": "17:00"}], "source_cidrs": ["10.1.0.0/16"], "weekdays": ["mon"]},
         "request": {"allowed_scopes": ["a"], "purpose_required": true}}
    ]}));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].message.contains("broader"), "{w:?}");

    // Not subsumed when the later rule is broader in any condition.
    let w = warnings(json!({"rules": [
        {"id": "a", "effect": "allow", "rationale": "X", "context": {"hours": [{"from": "09:00", "to": "17:00"}]}},
        {"id": "b", "effect": "allow", "rationale": "X", "context": {"hours": [{"from": "08:00", "to": "17:00"}]}}
    ]}));
    assert!(w.is_empty(), "{w:?}");

    // Opposite effects that may overlap, and ones that cannot.
    let w = warnings(json!({"rules": [
        {"id": "d", "effect": "deny", "rationale": "X", "tool": {"risk_level": {"in": ["critical"]}}},
        {"id": "a", "effect": "allow", "rationale": "X", "principal": {"kind": "agent"}},
        {"id": "c", "effect": "allow", "rationale": "X", "tool": {"risk_level": {"max": "high"}}}
    ]}));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].pointer, "/rules/1");
    assert!(w[0].message.contains("may overlap"), "{w:?}");

    // Never matches on its own.
    let w = warnings(json!({"rules": [
        {"id": "a", "effect": "allow", "rationale": "X", "principal": {"kind": "agent", "roles": ["admin"]}},
        {"id": "b", "effect": "allow", "rationale": "X", "principal": {"ids": ["p"]}, "request": {"allowed_scopes": ["a"]}, "obligations": {"scopes": ["b"]}}
    ]}));
    assert_eq!(
        w.iter().map(|w| w.pointer.as_str()).collect::<Vec<_>>(),
        ["/rules/0/principal/roles", "/rules/1/obligations/scopes"]
    );

    // Capped.
    let rules: Vec<Value> = (0..300)
        .map(|i| json!({"id": format!("r{i}"), "effect": "allow", "rationale": "X"}))
        .collect();
    let w = warnings(json!({"rules": rules}));
    assert_eq!(w.len(), MAX_WARNINGS + 1);
    assert!(w[MAX_WARNINGS].message.starts_with("199 more"), "{w:?}");
}

#[test]
fn field_errors_convert() {
    let e: crate::domain::error::FieldError = PolicyError {
        pointer: "/a".into(),
        message: "m".into(),
    }
    .into();
    assert_eq!((e.pointer.as_str(), e.detail.as_str()), ("/a", "m"));
}

// ---- property tests ----

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop::option::weighted(0.4, s).boxed()
}

fn pick(items: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop::sample::subsequence(items.to_vec(), 1..=items.len().min(3))
        .prop_map(|v| json!(v))
        .boxed()
}

fn arb_rule() -> impl Strategy<Value = Value> {
    let principal = (
        opt(prop::sample::select(vec!["user", "agent"])),
        opt(pick(&["agent-1", "agent-2", "u1"])),
        opt(pick(&["admin", "user"])),
        opt(pick(&["eng", "ops"])),
        opt(pick(&["ci", "prod"])),
    )
        .prop_map(|(k, ids, roles, groups, tags)| {
            let mut m = serde_json::Map::new();
            if let Some(k) = k {
                m.insert("kind".into(), k.into());
            }
            if let Some(v) = ids {
                m.insert("ids".into(), v);
            }
            if let Some(v) = roles {
                m.insert("roles".into(), v);
            }
            if let Some(v) = groups {
                m.insert("groups".into(), v);
            }
            if let Some(v) = tags {
                m.insert("tags".into(), v);
            }
            Value::Object(m)
        });
    let tool = (
        opt(pick(&["tool-1", "tool-2"])),
        opt(pick(&["github_*", "*search", "git?ub_search", "jira"])),
        opt(pick(&["vcs", "beta", "x"])),
        opt(prop_oneof![
            prop::sample::select(vec!["low", "medium", "high", "critical"])
                .prop_map(|l| json!({"max": l})),
            pick(&["low", "medium", "high", "critical"]).prop_map(|v| json!({"in": v}))
        ]),
        opt(prop::sample::select(vec!["function", "remote"])),
        opt(pick(&["passed", "failed", "stale"])),
        opt(any::<bool>()),
    )
        .prop_map(|(ids, names, tags, risk, tt, ps, drifted)| {
            let mut m = serde_json::Map::new();
            if let Some(v) = ids {
                m.insert("ids".into(), v);
            }
            if let Some(v) = names {
                m.insert("names".into(), v);
            }
            if let Some(v) = tags {
                m.insert("tags".into(), v);
            }
            if let Some(v) = risk {
                m.insert("risk_level".into(), v);
            }
            if let Some(v) = tt {
                m.insert("tool_type".into(), v.into());
            }
            if let Some(v) = ps {
                m.insert("probe_status".into(), v);
            }
            if let Some(v) = drifted {
                m.insert("drifted".into(), v.into());
            }
            Value::Object(m)
        });
    let request =
        (opt(pick(&["repo:read", "repo:write"])), opt(any::<bool>())).prop_map(|(s, p)| {
            let mut m = serde_json::Map::new();
            if let Some(v) = s {
                m.insert("allowed_scopes".into(), v);
            }
            if let Some(v) = p {
                m.insert("purpose_required".into(), v.into());
            }
            Value::Object(m)
        });
    let context = (
        opt(pick(&["mon", "wed", "sat"])),
        opt((0u32..24, 0u32..24).prop_filter("non-empty", |(a, b)| a != b)),
        opt(pick(&["10.0.0.0/8", "2001:db8::/32", "192.168.0.0/16"])),
    )
        .prop_map(|(w, h, c)| {
            let mut m = serde_json::Map::new();
            if let Some(v) = w {
                m.insert("weekdays".into(), v);
            }
            if let Some((a, b)) = h {
                m.insert(
                    "hours".into(),
                    json!([{"from": format!("{a:02}:00"), "to": format!("{b:02}:30")}]),
                );
            }
            if let Some(v) = c {
                m.insert("source_cidrs".into(), v);
            }
            Value::Object(m)
        });
    let obligations = (
        opt(prop_oneof![Just(900u32), 1u32..=3600]),
        opt(pick(&["repo:read", "x"])),
        opt(Just("10/minute")),
    );
    (
        any::<bool>(),
        opt(principal),
        opt(tool),
        opt(request),
        opt(context),
        opt(obligations),
    )
        .prop_map(|(allow, p, t, r, c, o)| {
            let mut m = serde_json::Map::new();
            m.insert("effect".into(), if allow { "allow" } else { "deny" }.into());
            m.insert("rationale".into(), "GENERATED".into());
            if let Some(v) = p {
                m.insert("principal".into(), v);
            }
            if let Some(v) = t {
                m.insert("tool".into(), v);
            }
            if let Some(v) = r {
                m.insert("request".into(), v);
            }
            if let Some(v) = c {
                m.insert("context".into(), v);
            }
            if let (true, Some((secs, scopes, rate))) = (allow, o) {
                let mut ob = serde_json::Map::new();
                if let Some(s) = secs {
                    ob.insert("max_credential_seconds".into(), s.into());
                }
                if let Some(s) = scopes {
                    ob.insert("scopes".into(), s);
                }
                if let Some(s) = rate {
                    ob.insert("rate".into(), s.into());
                }
                m.insert("obligations".into(), Value::Object(ob));
            }
            Value::Object(m)
        })
}

fn arb_doc() -> impl Strategy<Value = Value> {
    (
        opt(prop::sample::select(vec!["allow", "deny"])),
        prop::collection::vec(arb_rule(), 0..8),
    )
        .prop_map(|(d, rules)| {
            let rules: Vec<Value> = rules
                .into_iter()
                .enumerate()
                .map(|(i, mut r)| {
                    r["id"] = format!("r{i}").into();
                    r
                })
                .collect();
            let mut m = serde_json::Map::new();
            if let Some(d) = d {
                m.insert("default".into(), d.into());
            }
            m.insert("rules".into(), Value::Array(rules));
            Value::Object(m)
        })
}

/// Compact JSON with every object's keys in an order drawn from `seed` (not sorted).
fn shuffled_json(v: &Value, seed: &mut u64, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            for i in (1..keys.len()).rev() {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                keys.swap(i, (*seed >> 33) as usize % (i + 1));
            }
            out.push_str("{ ");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n ");
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(" : ");
                shuffled_json(&m[k], seed, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                shuffled_json(x, seed, out);
            }
            out.push(']');
        }
        x => out.push_str(&x.to_string()),
    }
}

/// The document with every default written out.
fn with_defaults(v: &Value) -> Value {
    let mut v = v.clone();
    if v.get("default").is_none() {
        v["default"] = "deny".into();
    }
    for r in v["rules"].as_array_mut().unwrap() {
        if r["effect"] == "allow" {
            if r.get("obligations").is_none() {
                r["obligations"] = json!({});
            }
            if r["obligations"].get("max_credential_seconds").is_none() {
                r["obligations"]["max_credential_seconds"] = 900.into();
            }
        }
    }
    v
}

fn arb_input() -> impl Strategy<Value = (u8, u8, u8, u8, u32, u8, bool, bool, u8)> {
    (
        0u8..2,
        0u8..3,
        0u8..4,
        0u8..4,
        0u32..(7 * 86_400),
        0u8..4,
        any::<bool>(),
        any::<bool>(),
        0u8..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_same_document_always_hashes_the_same(doc in arb_doc(), seed in any::<u64>()) {
        let (p, _) = Policy::from_value(&doc).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let h = sha256_hex(&p);
        let mut s = seed;
        let mut text = String::new();
        shuffled_json(&doc, &mut s, &mut text);
        prop_assert_eq!(&sha256_hex(&parse_policy(&text).unwrap().0), &h, "reordered JSON");
        let yaml = serde_yaml_ng::to_string(&doc).unwrap();
        prop_assert_eq!(&sha256_hex(&parse_policy(&yaml).unwrap().0), &h, "YAML: {}", yaml);
        let full = with_defaults(&doc);
        prop_assert_eq!(&sha256_hex(&Policy::from_value(&full).unwrap().0), &h, "defaults written");
        let canon = canonical_json(&p);
        let again = parse_policy(&canon).unwrap().0;
        prop_assert_eq!(canonical_json(&again), canon.clone(), "canonical is a fixed point");
        let yaml_of_canon = serde_yaml_ng::to_string(&serde_json::from_str::<Value>(&canon).unwrap()).unwrap();
        prop_assert_eq!(sha256_hex(&parse_policy(&yaml_of_canon).unwrap().0), h);
    }

    #[test]
    fn evaluation_is_deterministic(doc in arb_doc(), inputs in prop::collection::vec(arb_input(), 1..16)) {
        let (p, _) = Policy::from_value(&doc).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let (q, _) = parse_policy(&canonical_json(&p)).unwrap();
        let f = fx();
        let names = ["github_search", "GITHUB_x", "jira", "search"];
        let all_tags: Vec<String> = vec!["vcs".into(), "x".into()];
        let scopes: [Vec<String>; 4] = [vec![], vec!["repo:read".into()], vec!["repo:read".into(), "repo:write".into()], vec!["x".into()]];
        let ips: [Option<IpAddr>; 4] = [None, Some("10.2.3.4".parse().unwrap()), Some("2001:db8::9".parse().unwrap()), Some("8.8.8.8".parse().unwrap())];
        for (kind, id, name, risk, secs, sc, drifted, purpose, misc) in inputs {
            let s = Subject {
                kind: if kind == 0 { PrincipalKind::User } else { PrincipalKind::Agent },
                id: ["agent-1", "agent-2", "u1"][id as usize],
                role: (kind == 0).then_some(if misc % 2 == 0 { Role::Admin } else { Role::User }),
                groups: &f.groups,
                tags: if misc < 2 { &f.tags } else { &[] },
            };
            let t = ToolFacts {
                id: if misc % 2 == 0 { "tool-1" } else { "tool-2" },
                name: names[name as usize],
                tags: if drifted { &all_tags } else { &f.tool_tags },
                risk_level: [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High, RiskLevel::Critical][risk as usize],
                tool_type: if misc < 2 { ToolType::Remote } else { ToolType::Function },
                probe_status: [None, Some(ProbeStatus::Passed), Some(ProbeStatus::Failed), Some(ProbeStatus::Stale)][misc as usize],
                drifted,
                is_active: misc != 3 || !purpose,
            };
            let r = AccessRequest { scopes: &scopes[sc as usize], purpose: purpose.then_some("why") };
            let c = Context {
                now: Utc.timestamp_opt(1_736_726_400 + i64::from(secs), 0).unwrap(), // from Monday 2025-01-13
                source_ip: ips[sc as usize],
            };
            let d1 = evaluate_with_guards(&p, &s, &t, &r, &c);
            let d2 = evaluate_with_guards(&p, &s, &t, &r, &c);
            prop_assert_eq!(&d1, &d2);
            prop_assert_eq!(&d1, &evaluate_with_guards(&q, &s, &t, &r, &c), "canonical form decides the same");
            prop_assert_eq!(evaluate(&p, &s, &t, &r, &c), evaluate(&p.clone(), &s, &t, &r, &c));
            if d1.is_allow() {
                prop_assert!(could_allow(&p, &s, &t));
                let o = d1.obligations.as_ref().unwrap();
                prop_assert!(o.granted_scopes.iter().all(|g| r.scopes.contains(g)));
                prop_assert!((1..=3600).contains(&o.max_credential_seconds));
            } else {
                prop_assert!(d1.obligations.is_none());
            }
        }
    }
}

#[test]
fn principal_ids_are_bare_and_the_agent_form_is_a_warning() {
    let w = warnings(json!({"rules": [
        {"id": "a", "effect": "allow", "rationale": "OK",
         "principal": {"ids": ["0190c2a4-0000-7000-8000-000000000001", "agent:0190c2a4-0000-7000-8000-000000000002"]}}
    ]}));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].pointer, "/rules/0/principal/ids/1");
    assert!(
        w[0].message
            .contains("\"0190c2a4-0000-7000-8000-000000000002\""),
        "{w:?}"
    );
    assert_eq!(
        crate::domain::agent::AGENT_SUBJECT,
        "agent:",
        "the lint's prefix is the subject prefix"
    );
}

#[test]
fn a_lifetime_above_the_cap_is_a_warning() {
    let w = warnings(json!({"rules": [
        {"id": "a", "effect": "allow", "rationale": "OK",
         "obligations": {"max_credential_seconds": 3600}}
    ]}));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].pointer, "/rules/0/obligations/max_credential_seconds");
}

#[test]
fn duplicate_keys_are_refused_with_their_pointer_in_json_and_yaml() {
    let json_doc =
        r#"{"rules": [{"id": "a", "effect": "deny", "rationale": "NO", "effect": "allow"}]}"#;
    let e = Policy::parse(json_doc).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].pointer, "/rules/0/effect");
    assert!(e[0].message.contains("duplicate key"), "{e:?}");
    let yaml_doc = "default: deny\nrules:\n  - id: a\n    effect: deny\n    rationale: NO\n    effect: allow\n";
    let e = Policy::parse(yaml_doc).unwrap_err();
    assert_eq!(e[0].pointer, "/rules/0/effect", "{e:?}");
    let e = Policy::parse("{default: deny, default: allow}").unwrap_err();
    assert_eq!(e[0].pointer, "/default", "{e:?}");
    let e = Policy::parse(r#"{"rules": [], "default": "allow", "default": "deny"}"#).unwrap_err();
    assert_eq!(e[0].pointer, "/default", "{e:?}");
    // Escaped per RFC 6901.
    let e = Policy::parse(r#"{"a/b": 1, "a/b": 2}"#).unwrap_err();
    assert_eq!(e[0].pointer, "/a~1b", "{e:?}");
    // Still fine: equal keys in different mappings.
    Policy::parse(r#"{"rules": [{"id": "a", "effect": "deny", "rationale": "NO"}, {"id": "b", "effect": "deny", "rationale": "NO"}]}"#).unwrap();
}
