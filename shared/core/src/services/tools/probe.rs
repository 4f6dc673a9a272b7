//! Probing: testing a connection without storing anything, re-probing a stored remote tool, and
//! a tool's probe history.

use super::get::{get, not_found};
use super::{
    check_if_match, check_url, enforce_probe_limits, now_stamp, open_headers, probe_history_expiry,
    write_error,
};
use crate::auth::principal::UserPrincipal;
use crate::domain::audit::{action, AuditEvent, Outcome, RequestMeta};
use crate::domain::drift::Drift;
use crate::domain::error::DomainError;
use crate::domain::tool::{self, Errors, IfMatch, ProbeRecord, Tool, ToolId};
use crate::error::AppResult;
use crate::probe::{ProbeOutcome, ProbeStatus, ProbeTarget, TransportPreference};
use crate::state::AppState;
use serde_json::json;
use std::collections::BTreeMap;

/// A server to probe without storing a tool.
#[derive(Debug)]
pub struct ConnectionTest {
    pub server_url: String,
    pub transport_preference: Option<TransportPreference>,
    pub static_headers: Option<BTreeMap<String, String>>,
}

/// Probes a server and stamps the result.
pub async fn run_probe(
    state: &AppState,
    url: &str,
    transport: TransportPreference,
    headers: &BTreeMap<String, String>,
) -> ProbeRecord {
    let target = ProbeTarget {
        url: url.to_owned(),
        transport,
        headers: headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    let outcome: ProbeOutcome = state.prober().probe(&target).await;
    let probed_at = crate::time::now();
    let stale = chrono::Duration::from_std(state.config.probe_stale_after)
        .unwrap_or(chrono::Duration::hours(24));
    ProbeRecord {
        id: uuid::Uuid::new_v4().to_string(),
        probed_at: crate::time::stamp(probed_at),
        valid_until: crate::time::stamp(probed_at + stale),
        outcome,
    }
}

/// Probes a URL without storing a tool. The attempt is audited either way.
pub async fn test_connection(
    state: &AppState,
    p: &UserPrincipal,
    body: ConnectionTest,
    meta: &RequestMeta,
) -> AppResult<ProbeRecord> {
    let mut errors = Errors::default();
    check_url(state, &body.server_url, "/server_url", &mut errors);
    let headers = body.static_headers.clone().unwrap_or_default();
    tool::validate_static_headers(&headers, "/static_headers", &mut errors);
    errors.into_result()?;
    enforce_probe_limits(state, p, meta).await?;
    let transport = body
        .transport_preference
        .unwrap_or(TransportPreference::Auto);
    let record = run_probe(state, &body.server_url, transport, &headers).await;
    let outcome = if record.outcome.status == ProbeStatus::Passed {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let ev =
        AuditEvent::new(action::TOOL_TEST_CONNECTION, outcome, &p.actor(), meta).details(json!({
            "server_url": body.server_url,
            "transport_preference": transport,
            "static_header_names": headers.keys().collect::<Vec<_>>(),
            "probe_status": record.outcome.status,
            "error": record.outcome.error,
        }));
    state.store.put_audit(&ev).await?;
    Ok(record)
}

/// Probes a stored remote tool now and records the result (pass or fail) on it.
pub async fn reprobe(
    state: &AppState,
    p: &UserPrincipal,
    id: ToolId,
    if_match: Option<&IfMatch>,
    meta: &RequestMeta,
) -> AppResult<Tool> {
    let old = get(state, id).await?;
    check_if_match(&old, if_match)?;
    if old.remote().is_none() {
        return Err(DomainError::NotRemote.into());
    }
    enforce_probe_limits(state, p, meta).await?;
    let (new, record, drift) = probe_and_apply(state, &old, &p.user_id).await?;
    let outcome = if record.outcome.status == ProbeStatus::Passed {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let ev = AuditEvent::new(action::TOOL_REPROBE, outcome, &p.actor(), meta)
        .target("tool", &old.id.to_string())
        .details(json!({"probe_status": record.outcome.status, "error": record.outcome.error, "version": new.version}));
    let drift_ev = drift.map(|d| super::drift::drift_event(&new, &d, &record, &p.actor(), meta));
    let mut audits = vec![&ev];
    audits.extend(drift_ev.as_ref());
    state
        .store
        .update_tool_audited(
            &old,
            &new,
            Some((&record, probe_history_expiry(state))),
            &audits,
        )
        .await
        .map_err(|e| write_error(e, &new.name, if_match.is_some()))?;
    Ok(new)
}

/// Probes `old` with its stored headers and returns the tool with the new result (and its tool
/// list) applied, and the drift the probe found, if it found a new one.
pub async fn probe_and_apply(
    state: &AppState,
    old: &Tool,
    by: &str,
) -> AppResult<(Tool, ProbeRecord, Option<Drift>)> {
    let headers = open_headers(state, old).await?;
    let mut new = old.clone();
    let r = new.remote_mut().ok_or(DomainError::NotRemote)?;
    let record = run_probe(state, &r.server_url, r.transport_preference, &headers).await;
    r.last_probe = Some(record.clone());
    let drift = super::drift::apply_probe(&mut new, &record);
    new.version = old.version + 1;
    new.updated_at = now_stamp();
    new.updated_by = by.to_owned();
    Ok((new, record, drift))
}

/// A tool's probe history, newest first: one query (the tool item shares the partition, so
/// the same read tells a missing tool from an empty history).
pub async fn probes(
    state: &AppState,
    viewer: &str,
    id: ToolId,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<(Vec<ProbeRecord>, Option<String>)> {
    let binding = crate::services::listing::binding(state, viewer, format!("probes:{id}")).await?;
    let (exists, items, next) = state.store.list_probes(id, limit, cursor, &binding).await?;
    if !exists {
        return Err(not_found(id));
    }
    Ok((items, next))
}
