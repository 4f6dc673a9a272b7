//! The scheduled re-prober: brings stale probe results of active remote tools up to date.
//!
//! Each result is written conditionally on the version that was probed, so a tool edited or
//! deleted meanwhile is neither clobbered nor resurrected, and when two runs overlap the second
//! writer of a tool simply loses (its probe is discarded, the stored state stays consistent).
//! A probe that cannot start, or whose result cannot be written, records a plain failed status:
//! a tool never keeps showing an earlier `passed` because its latest probe went wrong.

use crate::domain::audit::{action, Actor, AuditEvent, Outcome, RequestMeta};
use crate::domain::drift::Drift;
use crate::domain::probe::{ProbeOutcome, ProbeStatus};
use crate::domain::tool::{ProbeRecord, Tool};
use crate::error::AppError;
use crate::services::tools::drift::drift_event;
use crate::services::tools::{probe_and_apply, probe_history_expiry};
use crate::state::AppState;
use crate::store::tools::ToolWriteError;
use futures::StreamExt;
use serde::Serialize;
use serde_json::json;
use std::time::Instant;

/// The actor recorded on the scheduler's audit events.
pub const SYSTEM_ACTOR: &str = "system:reprober";

/// What a run did.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct RunSummary {
    pub due: usize,
    pub probed: usize,
    pub passed: usize,
    pub failed: usize,
    /// Changed or deleted while being probed, or already refreshed by an overlapping run.
    pub skipped: usize,
    pub errors: usize,
    /// Due tools not started because the deadline was near.
    pub deferred: usize,
    /// Probed tools whose tool list was found to differ from the approved one (a drift not
    /// recorded before), each audited as `tool.remote.drift`.
    pub drifted: usize,
}

/// The run's numbers as one CloudWatch embedded-metric-format record (a JSON line on stdout,
/// which Lambda's log stream turns into metrics `toolreg/ReprobeDrifted`, … per function).
pub fn emf_record(summary: &RunSummary, timestamp_ms: i64, function: &str) -> serde_json::Value {
    let metrics = [
        ("ReprobeDue", summary.due),
        ("ReprobeProbed", summary.probed),
        ("ReprobePassed", summary.passed),
        ("ReprobeFailed", summary.failed),
        ("ReprobeErrors", summary.errors),
        ("ReprobeDeferred", summary.deferred),
        ("ReprobeDrifted", summary.drifted),
    ];
    let mut record = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "toolreg",
                "Dimensions": [["Function"]],
                "Metrics": metrics.iter().map(|(n, _)| json!({"Name": n, "Unit": "Count"})).collect::<Vec<_>>(),
            }],
        },
        "Function": function,
    });
    for (name, value) in metrics {
        record[name] = json!(value);
    }
    record
}

enum One {
    Passed { drifted: bool },
    Failed,
    Skipped,
    Error,
}

/// Probes `old` (as the due-tools query read it) and records the result.
async fn reprobe_one(state: &AppState, old: Tool, meta: &RequestMeta) -> One {
    let id = old.id;
    let now = crate::time::stamp(crate::time::now());
    let still_due = old.is_active
        && old
            .remote()
            .and_then(|r| r.last_probe.as_ref())
            .is_some_and(|p| p.valid_until < now);
    if !still_due {
        return One::Skipped;
    }
    // Claim it for about two probe timeouts; an overlapping run then leaves it alone.
    let now_s = crate::time::now().timestamp();
    let hold = 2 * state.config.probe_timeout.as_secs().max(1) as i64 + 5;
    match state
        .store
        .claim_probe(id, old.version, now_s, now_s + hold)
        .await
    {
        Ok(true) => {}
        Ok(false) => return One::Skipped,
        Err(e) => {
            tracing::warn!(tool_id = %id, error = %e, "reprobe: claim failed");
            return One::Error;
        }
    }
    let (new, record, drift) = match probe_and_apply(state, &old, SYSTEM_ACTOR).await {
        Ok(x) => x,
        Err(e) => {
            // The tool cannot be probed as configured (its headers do not open): that is a
            // failed probe, not a reason to keep showing the last result.
            tracing::warn!(tool_id = %id, error = ?e, "reprobe: could not probe");
            let (new, record) = failed_instead(
                state,
                &old,
                "the probe could not start: the tool's stored headers could not be opened",
            );
            return write(state, &old, &new, &record, None, meta).await;
        }
    };
    match write(state, &old, &new, &record, drift.as_ref(), meta).await {
        One::Error => {
            // Whatever stopped the write (a result DynamoDB refuses, say), the stored status
            // must not stay `passed` from an earlier probe: record a plain failure instead.
            let (new, record) = failed_instead(
                state,
                &old,
                "the probe's result could not be recorded; the probe counts as failed",
            );
            write(state, &old, &new, &record, None, meta).await
        }
        other => other,
    }
}

/// `old` with a failed probe record saying `why`, in place of a result that could not be used.
fn failed_instead(state: &AppState, old: &Tool, why: &str) -> (Tool, ProbeRecord) {
    let probed_at = crate::time::now();
    let stale = chrono::Duration::from_std(state.config.probe_stale_after)
        .unwrap_or(chrono::Duration::hours(24));
    let record = ProbeRecord {
        id: uuid::Uuid::new_v4().to_string(),
        probed_at: crate::time::stamp(probed_at),
        valid_until: crate::time::stamp(probed_at + stale),
        outcome: ProbeOutcome::failed(why, std::time::Duration::ZERO),
    };
    let mut new = old.clone();
    if let Some(r) = new.remote_mut() {
        r.last_probe = Some(record.clone());
    }
    new.version = old.version + 1;
    new.updated_at = crate::time::stamp(probed_at);
    new.updated_by = SYSTEM_ACTOR.to_owned();
    (new, record)
}

/// Writes the probed tool, its history record and the audit events (the probe's, and the drift
/// it found), conditional on `old`.
async fn write(
    state: &AppState,
    old: &Tool,
    new: &Tool,
    record: &ProbeRecord,
    drift: Option<&Drift>,
    meta: &RequestMeta,
) -> One {
    let passed = record.outcome.status == ProbeStatus::Passed;
    let actor = Actor {
        user_id: Some(SYSTEM_ACTOR.into()),
        username: Some("reprober".into()),
    };
    let ev = AuditEvent::new(
        action::TOOL_REPROBE,
        if passed { Outcome::Success } else { Outcome::Failure },
        &actor,
        meta,
    )
    .target("tool", &old.id.to_string())
    .details(json!({"probe_status": record.outcome.status, "error": record.outcome.error, "scheduled": true}));
    let drift_ev = drift.map(|d| drift_event(new, d, record, &actor, meta));
    let mut audits = vec![&ev];
    audits.extend(drift_ev.as_ref());
    match state
        .store
        .update_tool_audited(
            old,
            new,
            Some((record, probe_history_expiry(state))),
            &audits,
        )
        .await
    {
        Ok(()) if passed => One::Passed {
            drifted: drift.is_some(),
        },
        Ok(()) => One::Failed,
        Err(ToolWriteError::Stale) => One::Skipped,
        Err(e) => {
            tracing::warn!(tool_id = %old.id, error = ?e, "reprobe: write failed");
            One::Error
        }
    }
}

/// Probes due tools with bounded concurrency until none are due or `deadline` is near. Tools
/// not started by then stay due and are picked up by the next run.
pub async fn run(
    state: &AppState,
    deadline: Instant,
    request_id: &str,
) -> Result<RunSummary, AppError> {
    let now = crate::time::stamp(crate::time::now());
    let due = state.store.due_tools(&now, 5000).await?;
    let meta = RequestMeta {
        source_ip: String::new(),
        user_agent: "toolreg-reprober".into(),
        request_id: request_id.to_owned(),
    };
    // A probe can take its whole timeout; never start one that could outlive the invocation.
    let margin = state.config.probe_timeout + std::time::Duration::from_secs(2);
    let mut summary = RunSummary {
        due: due.len(),
        ..Default::default()
    };
    let results: Vec<Option<One>> = futures::stream::iter(due)
        .map(|tool| {
            let meta = &meta;
            async move {
                if Instant::now() + margin >= deadline {
                    return None;
                }
                Some(reprobe_one(state, tool, meta).await)
            }
        })
        .buffer_unordered(state.config.reprobe_concurrency)
        .collect()
        .await;
    for r in results {
        match r {
            None => summary.deferred += 1,
            Some(One::Passed { drifted }) => {
                summary.probed += 1;
                summary.passed += 1;
                summary.drifted += usize::from(drifted);
            }
            Some(One::Failed) => {
                summary.probed += 1;
                summary.failed += 1
            }
            Some(One::Skipped) => summary.skipped += 1,
            Some(One::Error) => summary.errors += 1,
        }
    }
    tracing::info!(
        request_id,
        summary = ?summary,
        drifted = summary.drifted,
        "reprobe run finished"
    );
    let emf = emf_record(&summary, crate::time::now().timestamp_millis(), "reprobe");
    println!("{emf}");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_summary_is_an_emf_record_with_the_drift_count() {
        let s = RunSummary {
            due: 5,
            probed: 4,
            passed: 3,
            failed: 1,
            drifted: 2,
            ..Default::default()
        };
        let r = emf_record(&s, 1_800_000_000_000, "reprobe");
        let m = &r["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "toolreg");
        assert_eq!(m["Dimensions"], json!([["Function"]]));
        // Every metric named in the directive has its value at the top level.
        for metric in m["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(r[name].is_u64(), "{name}");
            assert_eq!(metric["Unit"], "Count");
        }
        assert_eq!(r["ReprobeDrifted"], 2);
        assert_eq!(r["Function"], "reprobe");
        assert_eq!(r["_aws"]["Timestamp"], 1_800_000_000_000_i64);
    }
}
