//! A tool's lifecycle: activating, deactivating, deleting.

use super::get::{get, not_found};
use super::{check_if_match, now_stamp, write_error};
use crate::auth::principal::UserPrincipal;
use crate::domain::audit::{action, AuditEvent, Outcome, RequestMeta};
use crate::domain::tool::{IfMatch, Tool, ToolId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::decisions::CredentialSource;
use serde_json::json;

/// Activates or deactivates; a tool already in that state is returned unchanged (no write).
/// Deactivating revokes the credentials issued for the tool (again for a tool already
/// inactive, should an earlier attempt have stopped short).
pub async fn set_active(
    state: &AppState,
    p: &UserPrincipal,
    id: ToolId,
    active: bool,
    if_match: Option<&IfMatch>,
    meta: &RequestMeta,
) -> AppResult<Tool> {
    let old = get(state, id).await?;
    check_if_match(&old, if_match)?;
    if old.is_active == active {
        if !active {
            revoke_issued(state, p, id, action::TOOL_DEACTIVATE, meta).await?;
        }
        return Ok(old);
    }
    let mut new = old.clone();
    new.is_active = active;
    new.version += 1;
    new.updated_at = now_stamp();
    new.updated_by = p.user_id.to_string();
    let act = if active {
        action::TOOL_ACTIVATE
    } else {
        action::TOOL_DEACTIVATE
    };
    let ev = AuditEvent::new(act, Outcome::Success, &p.actor(), meta)
        .target("tool", &old.id.to_string())
        .details(json!({"version": new.version}));
    state
        .store
        .update_tool(&old, &new, None, &ev)
        .await
        .map_err(|e| write_error(e, &new.name, if_match.is_some()))?;
    if !active {
        revoke_issued(state, p, id, act, meta).await?;
    }
    Ok(new)
}

/// Revokes the live credentials issued for tool `id` (it was deactivated or deleted).
async fn revoke_issued(
    state: &AppState,
    p: &UserPrincipal,
    id: ToolId,
    cause: &str,
    meta: &RequestMeta,
) -> AppResult<()> {
    let id = id.to_string();
    crate::services::access::revoke_issued(
        state,
        &p.actor(),
        CredentialSource::Tool(&id),
        ("tool", &id),
        cause,
        meta,
    )
    .await
    .map(|_| ())
}

/// Deletes a tool with its name guard and probe history.
pub async fn delete(
    state: &AppState,
    p: &UserPrincipal,
    id: ToolId,
    if_match: Option<&IfMatch>,
    meta: &RequestMeta,
) -> AppResult<()> {
    // An `If-Match` that names no version of ours can match nothing: refused before any read.
    if let Some(IfMatch::Tags { raw, versions }) = if_match {
        if versions.is_empty() {
            return Err(AppError::PreconditionFailed(format!(
                "If-Match {} does not match the current ETag",
                raw.trim()
            )));
        }
    }
    let actor = p.actor();
    let deleted = state
        .store
        .delete_tool(
            id,
            |version| if_match.is_none_or(|m| m.accepts(version)),
            |t| {
                AuditEvent::new(action::TOOL_DELETE, Outcome::Success, &actor, meta)
                    .target("tool", &t.id.to_string())
                    .details(json!({"name": t.name, "tool_type": t.tool_type.as_str()}))
            },
        )
        .await
        .map_err(|e| write_error(e, "", if_match.is_some()))?;
    deleted.ok_or_else(|| not_found(id))?;
    revoke_issued(state, p, id, action::TOOL_DELETE, meta).await
}
