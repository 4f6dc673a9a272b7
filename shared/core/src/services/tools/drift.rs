//! Tool drift (see `domain::drift`): applying a probe's tool list to a tool, the audit event of
//! a drift found, and approving the list found.

use super::get::get;
use super::{check_if_match, now_stamp, write_error};
use crate::auth::principal::UserPrincipal;
use crate::domain::audit::{action, Actor, AuditEvent, Outcome, RequestMeta};
use crate::domain::drift::{self, Drift, DriftUpdate};
use crate::domain::tool::{IfMatch, ProbeRecord, Tool, ToolId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use serde_json::json;

/// Applies `record`'s tool list to `t` (a remote tool); returns the drift when the probe found a
/// new one, to be audited with the probe's result.
pub fn apply_probe(t: &mut Tool, record: &ProbeRecord) -> Option<Drift> {
    let r = t.remote_mut()?;
    match drift::apply(
        &mut r.approved_tools,
        &mut r.drift,
        &record.outcome,
        &record.probed_at,
    ) {
        DriftUpdate::Detected => r.drift.clone(),
        DriftUpdate::Unchanged | DriftUpdate::Baseline | DriftUpdate::Cleared => None,
    }
}

/// The `tool.remote.drift` event of `d`, found on `t` by probe `record`.
pub fn drift_event(
    t: &Tool,
    d: &Drift,
    record: &ProbeRecord,
    actor: &Actor,
    meta: &RequestMeta,
) -> AuditEvent {
    let approved = t
        .remote()
        .and_then(|r| r.approved_tools.as_ref())
        .map(|l| l.sha256.clone());
    AuditEvent::new(action::TOOL_DRIFT, Outcome::Success, actor, meta)
        .target("tool", &t.id.to_string())
        .details(json!({
            "probe_id": record.id,
            "added": d.added,
            "removed": d.removed,
            "changed": d.changed,
            "partial": d.partial,
            "approved_tools_sha256": approved,
            "tools_sha256": d.current.sha256,
        }))
}

/// Accepts the tool list found as the approved one and clears the drift. A tool that has not
/// drifted is returned unchanged (no write).
pub async fn approve_tools(
    state: &AppState,
    p: &UserPrincipal,
    id: ToolId,
    if_match: Option<&IfMatch>,
    meta: &RequestMeta,
) -> AppResult<Tool> {
    let old = get(state, id).await?;
    check_if_match(&old, if_match)?;
    let not_remote = || {
        AppError::Conflict(
            "function tools have no tool list to approve; only remote tools do".into(),
        )
    };
    let Some(d) = old.remote().ok_or_else(not_remote)?.drift.clone() else {
        return Ok(old);
    };
    let mut new = old.clone();
    let r = new.remote_mut().ok_or_else(not_remote)?;
    let previous = r.approved_tools.as_ref().map(|l| l.sha256.clone());
    r.approved_tools = Some(d.current.clone());
    r.drift = None;
    new.version = old.version + 1;
    new.updated_at = now_stamp();
    new.updated_by = p.user_id.to_string();
    let ev = AuditEvent::new(
        action::TOOL_APPROVE_TOOLS,
        Outcome::Success,
        &p.actor(),
        meta,
    )
    .target("tool", &old.id.to_string())
    .details(json!({
        "tools_sha256": d.current.sha256,
        "previous_tools_sha256": previous,
        "added": d.added,
        "removed": d.removed,
        "changed": d.changed,
        "version": new.version,
    }));
    state
        .store
        .update_tool(&old, &new, None, &ev)
        .await
        .map_err(|e| write_error(e, &new.name, if_match.is_some()))?;
    Ok(new)
}
