//! Policy evaluation cost: a 200-rule policy whose only match is the last rule.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use std::hint::black_box;
use std::time::Instant;
use toolreg_core::domain::policy::{
    evaluate_with_guards, AccessRequest, Context, Policy, PrincipalKind, ProbeStatus, Subject,
    ToolFacts,
};
use toolreg_core::domain::tool::{RiskLevel, ToolType};

const RULES: usize = 200;
const EVALS: usize = 20_000;

/// Microseconds per evaluation (with guards, decision built) and the rule count. Rules 0..199
/// each carry principal, tool, request and context conditions that fail on their last
/// condition for the request measured; rule 199 matches.
pub fn bench_policy_eval() -> (f64, usize) {
    let mut rules: Vec<Value> = (0..RULES - 1)
        .map(|i| {
            json!({
                "id": format!("r{i}"),
                "effect": if i % 2 == 0 { "allow" } else { "deny" },
                "rationale": "NEAR_MISS",
                "principal": {"kind": "agent", "groups": ["eng", "ops"], "tags": ["ci"]},
                "tool": {"names": ["github_*", format!("tool_{i}_*")], "risk_level": {"max": "high"}, "tags": ["vcs"]},
                "request": {"allowed_scopes": ["repo:read", "repo:write"], "purpose_required": true},
                "context": {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "hours": [{"from": "09:00", "to": "17:00"}],
                            "source_cidrs": [format!("10.{}.0.0/16", i % 250), "2001:db8::/32"]}
            })
        })
        .collect();
    rules.push(json!({
        "id": "last", "effect": "allow", "rationale": "MATCH",
        "principal": {"kind": "agent", "groups": ["eng"]},
        "tool": {"names": ["github_*"], "risk_level": {"max": "high"}},
        "request": {"allowed_scopes": ["repo:read", "repo:write"]},
        "context": {"source_cidrs": ["192.168.0.0/16"]},
        "obligations": {"max_credential_seconds": 600, "scopes": ["repo:read"], "rate": "10/minute"}
    }));
    let (policy, _) = Policy::from_value(&json!({"rules": rules})).expect("valid policy");
    let (groups, tags) = (vec!["eng".to_owned()], vec!["ci".to_owned()]);
    let tool_tags = vec!["vcs".to_owned()];
    let scopes = vec!["repo:read".to_owned()];
    let subject = Subject {
        kind: PrincipalKind::Agent,
        id: "agent-1",
        role: None,
        groups: &groups,
        tags: &tags,
    };
    let tool = ToolFacts {
        id: "tool-1",
        name: "github_search",
        tags: &tool_tags,
        risk_level: RiskLevel::Medium,
        tool_type: ToolType::Remote,
        probe_status: Some(ProbeStatus::Passed),
        drifted: false,
        is_active: true,
    };
    let request = AccessRequest {
        scopes: &scopes,
        purpose: Some("triage"),
    };
    // Wednesday 12:00 UTC from 192.168.1.1: every earlier rule fails only on its CIDRs.
    let ctx = Context {
        now: Utc.with_ymd_and_hms(2025, 1, 15, 12, 0, 0).unwrap(),
        source_ip: Some("192.168.1.1".parse().unwrap()),
    };
    let d = evaluate_with_guards(&policy, &subject, &tool, &request, &ctx);
    assert_eq!(
        d.rule_id.as_deref(),
        Some("last"),
        "the benchmark must match the last rule"
    );
    for _ in 0..EVALS / 10 {
        black_box(evaluate_with_guards(
            black_box(&policy),
            &subject,
            &tool,
            &request,
            &ctx,
        ));
    }
    let t0 = Instant::now();
    for _ in 0..EVALS {
        black_box(evaluate_with_guards(
            black_box(&policy),
            &subject,
            &tool,
            &request,
            &ctx,
        ));
    }
    let us = t0.elapsed().as_secs_f64() * 1e6 / EVALS as f64;
    (us, policy.rules().len())
}
