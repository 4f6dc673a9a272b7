//! Reading one tool.

use crate::domain::tool::{Tool, ToolId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The 404 for a tool id that names no tool.
pub(crate) fn not_found(id: impl std::fmt::Display) -> AppError {
    AppError::NotFound(format!("no tool with id {:?}", id.to_string()))
}

pub async fn get(state: &AppState, id: ToolId) -> AppResult<Tool> {
    state.store.get_tool(id).await?.ok_or_else(|| not_found(id))
}

/// The tool, if `p` may see it: agents see only tools the active policy could allow them
/// (`services::access::visible`); any other answers as if it did not exist.
pub async fn get_visible(
    state: &AppState,
    p: &crate::auth::principal::Principal,
    id: ToolId,
) -> AppResult<Tool> {
    use crate::auth::principal::Principal;
    let Principal::Agent(_) = p else {
        return get(state, id).await;
    };
    let (t, active) = tokio::join!(
        get(state, id),
        state
            .policies
            .get(&state.store, state.config.policy_cache_ttl)
    );
    let (t, active) = (t?, active?);
    if crate::services::access::visible(p, &active.policy, &t) {
        Ok(t)
    } else {
        Err(not_found(id))
    }
}

/// The tool named `name`, if `p` may see it (as [`get_visible`]); `None` when there is none
/// or it is hidden from `p`, so the two cannot be told apart.
pub async fn find_visible(
    state: &AppState,
    p: &crate::auth::principal::Principal,
    name: &str,
) -> AppResult<Option<Tool>> {
    use crate::auth::principal::Principal;
    let Principal::Agent(_) = p else {
        return Ok(state.store.get_tool_by_name(name).await?);
    };
    let (t, active) = tokio::join!(
        state.store.get_tool_by_name(name),
        state
            .policies
            .get(&state.store, state.config.policy_cache_ttl)
    );
    let (t, active) = (t?, active?);
    Ok(t.filter(|t| crate::services::access::visible(p, &active.policy, t)))
}
