//! The scheduled re-prober: brings stale probe results of active remote tools up to date.
//!
//! Each result is written conditionally on the version that was probed, so a tool edited or
//! deleted meanwhile is neither clobbered nor resurrected, and when two runs overlap the second
//! writer of a tool simply loses (its probe is discarded, the stored state stays consistent).
//! A probe that cannot start, or whose result cannot be written, records a plain failed status:
//! a tool never keeps showing an earlier `passed` because its latest probe went wrong.

use crate::domain::audit::{action, Actor, AuditEvent, Outcome, RequestMeta};
use crate::domain::probe::{ProbeOutcome, ProbeStatus};
use crate::domain::tool::ToolId;
use crate::domain::tool::{ProbeRecord, Tool};
use crate::error::AppError;
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
}

enum One {
    Passed,
    Failed,
    Skipped,
    Error,
}

async fn reprobe_one(state: &AppState, id: ToolId, meta: &RequestMeta) -> One {
    let now = crate::time::stamp(crate::time::now());
    let old = match state.store.get_tool(id).await {
        Ok(Some(t)) => t,
        Ok(None) => return One::Skipped,
        Err(e) => {
            tracing::warn!(tool_id = %id, error = %e, "reprobe: read failed");
            return One::Error;
        }
    };
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
    let (new, record) = match probe_and_apply(state, &old, SYSTEM_ACTOR).await {
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
            return write(state, &old, &new, &record, meta).await;
        }
    };
    match write(state, &old, &new, &record, meta).await {
        One::Error => {
            // Whatever stopped the write (a result DynamoDB refuses, say), the stored status
            // must not stay `passed` from an earlier probe: record a plain failure instead.
            let (new, record) = failed_instead(
                state,
                &old,
                "the probe's result could not be recorded; the probe counts as failed",
            );
            write(state, &old, &new, &record, meta).await
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

/// Writes the probed tool, its history record and the audit event, conditional on `old`.
async fn write(
    state: &AppState,
    old: &Tool,
    new: &Tool,
    record: &ProbeRecord,
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
    match state
        .store
        .update_tool(old, new, Some((record, probe_history_expiry(state))), &ev)
        .await
    {
        Ok(()) if passed => One::Passed,
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
    let ids = state.store.due_tool_ids(&now, 5000).await?;
    let meta = RequestMeta {
        source_ip: String::new(),
        user_agent: "toolreg-reprober".into(),
        request_id: request_id.to_owned(),
    };
    // A probe can take its whole timeout; never start one that could outlive the invocation.
    let margin = state.config.probe_timeout + std::time::Duration::from_secs(2);
    let mut summary = RunSummary {
        due: ids.len(),
        ..Default::default()
    };
    let results: Vec<Option<One>> = futures::stream::iter(ids.iter())
        .map(|id| {
            let meta = &meta;
            async move {
                if Instant::now() + margin >= deadline {
                    return None;
                }
                Some(reprobe_one(state, *id, meta).await)
            }
        })
        .buffer_unordered(state.config.reprobe_concurrency)
        .collect()
        .await;
    for r in results {
        match r {
            None => summary.deferred += 1,
            Some(One::Passed) => {
                summary.probed += 1;
                summary.passed += 1
            }
            Some(One::Failed) => {
                summary.probed += 1;
                summary.failed += 1
            }
            Some(One::Skipped) => summary.skipped += 1,
            Some(One::Error) => summary.errors += 1,
        }
    }
    tracing::info!(request_id, summary = ?summary, "reprobe run finished");
    Ok(summary)
}
