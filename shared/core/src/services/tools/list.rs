//! Listing the catalog.

use crate::error::AppResult;
use crate::services::ratelimit;
use crate::state::AppState;
use crate::store::tools::{ToolFilter, ToolPage};

pub async fn list(
    state: &AppState,
    f: &ToolFilter,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<ToolPage> {
    // A cursor is valid only for the filters it was issued with.
    let scope = format!(
        "tools:{}:{}:{}:{}",
        f.tool_type.map(|t| t.as_str()).unwrap_or(""),
        f.risk_level.map(|r| r.as_str()).unwrap_or(""),
        f.is_active.map(|a| a.to_string()).unwrap_or_default(),
        ratelimit::key_of(&format!(
            "{}\n{}{}",
            f.q.as_deref().unwrap_or(""),
            f.tag.as_deref().unwrap_or(""),
            // Appended only when set, so cursors issued without it stay valid.
            f.updated_since
                .as_deref()
                .map(|s| format!("\nupdated_since={s}"))
                .unwrap_or_default()
        ))
    );
    Ok(state.store.list_tools(f, limit, cursor, &scope).await?)
}

/// The page as `p` may see it: an agent sees only tools the active policy could allow it
/// (`services::access::visible`), so its pages may hold fewer than `limit` items; the cursor
/// still walks the whole catalog. The policy is cached, so this costs no extra read.
pub async fn list_visible(
    state: &AppState,
    p: &crate::auth::principal::Principal,
    f: &ToolFilter,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<ToolPage> {
    use crate::auth::principal::Principal;
    let Principal::Agent(_) = p else {
        return list(state, f, limit, cursor).await;
    };
    let (page, active) = tokio::join!(list(state, f, limit, cursor), state.policies.get(state));
    let (mut page, active) = (page?, active?);
    page.items
        .retain(|t| crate::services::access::visible(p, &active.policy, t));
    Ok(page)
}
