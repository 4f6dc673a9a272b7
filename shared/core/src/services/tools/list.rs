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
            "{}\n{}",
            f.q.as_deref().unwrap_or(""),
            f.tag.as_deref().unwrap_or("")
        ))
    );
    Ok(state.store.list_tools(f, limit, cursor, &scope).await?)
}
