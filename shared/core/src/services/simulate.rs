//! Simulating a candidate policy against recorded decisions: which would flip.

use super::access::Facts;
use crate::domain::policy::Policy;
use crate::error::{AppError, AppResult};
use crate::http::body::present;
use crate::state::AppState;
use serde::Deserialize;
use serde_json::{json, Value};

/// `POST /policies/simulate` body: a candidate document (JSON object or YAML/JSON text) or a
/// stored version, and how many recent decisions to replay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateBody {
    #[serde(default, deserialize_with = "present")]
    pub document: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub version: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    pub limit: Option<usize>,
}

/// Replays the newest recorded decisions against a candidate policy: the counts, and every
/// decision whose effect flips, with both rationales.
pub async fn simulate(state: &AppState, b: SimulateBody) -> AppResult<Value> {
    let limit = b.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(AppError::field("/limit", "must be 1 to 10000"));
    }
    let candidate = match (&b.document, b.version) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(AppError::field("", "send exactly one of document, version"))
        }
        (Some(Value::String(text)), None) => super::policies::parse(text)?.0,
        (Some(doc @ Value::Object(_)), None) => super::policies::parse(&doc.to_string())?.0,
        (Some(Value::Null) | Some(_), None) => {
            return Err(AppError::field(
                "/document",
                "must be a policy object or its JSON/YAML text",
            ))
        }
        (None, Some(v)) => {
            let item = super::policies::get(state, v).await?;
            Policy::parse(&item.document)
                .map_err(|e| AppError::Internal(format!("stored version {v}: {e:?}")))?
                .0
        }
    };
    let records = state.store.recent_decisions(limit).await?;
    let (mut allow, mut deny) = (0u64, 0u64);
    let mut flips = Vec::new();
    for r in &records {
        let Ok(facts) = serde_json::from_str::<Facts>(&r.facts) else {
            continue;
        };
        let after = facts.decide(&candidate);
        if after.is_allow() {
            allow += 1;
        } else {
            deny += 1;
        }
        if after.effect.as_str() != r.decision {
            flips.push(json!({
                "decision_id": r.id,
                "timestamp": r.timestamp,
                "principal_id": r.principal_id,
                "tool_id": r.tool_id,
                "tool_name": r.tool_name,
                "before": {"decision": r.decision, "rationale": r.rationale, "rule_id": r.rule_id},
                "after": {"decision": after.effect.as_str(), "rationale": after.rationale, "rule_id": after.rule_id},
            }));
        }
    }
    Ok(json!({
        "candidate_sha256": candidate.sha256_hex(),
        "replayed": allow + deny,
        "allow": allow,
        "deny": deny,
        "flipped": flips.len(),
        "flips": flips,
    }))
}
