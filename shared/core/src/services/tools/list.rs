//! Listing the catalog.

use crate::auth::principal::Principal;
use crate::domain::tool::Tool;
use crate::error::AppResult;
use crate::services::ratelimit;
use crate::state::AppState;
use crate::store::tools::{ToolFilter, ToolPage};

/// The page as `p` may see it: an agent sees only tools the active policy could allow it
/// (`services::access::visible`). The store fills the page with visible tools and resumes after
/// the last one shown, so a cursor never names a hidden tool. The policy is cached, so this
/// costs no extra read.
pub async fn list_visible(
    state: &AppState,
    p: &Principal,
    f: &ToolFilter,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<ToolPage> {
    list_visible_where(state, p, f, limit, cursor, "tools", |_| true).await
}

/// [`list_visible`] of the tools `also` keeps too (a filter the store cannot express), for the
/// listing named `listing` (which, with `also`'s parameters, its cursors are bound to).
pub async fn list_visible_where(
    state: &AppState,
    p: &Principal,
    f: &ToolFilter,
    limit: usize,
    cursor: Option<&str>,
    listing: &str,
    also: impl Fn(&Tool) -> bool,
) -> AppResult<ToolPage> {
    let scope = format!("{listing}:{}", scope(f));
    let binding = crate::services::listing::binding(state, &p.id(), scope).await?;
    let policy = match p {
        Principal::Agent(_) => Some(
            state
                .policies
                .get(&state.store, state.config.policy_cache_ttl)
                .await?,
        ),
        Principal::User(_) => None,
    };
    let shown = |t: &Tool| {
        also(t)
            && policy
                .as_ref()
                .is_none_or(|active| crate::services::access::visible(p, &active.policy, t))
    };
    Ok(state
        .store
        .list_tools(f, limit, cursor, &binding, shown)
        .await?)
}

/// The listing's scope: a cursor is valid only for the filters it was issued with.
fn scope(f: &ToolFilter) -> String {
    format!(
        "{}:{}:{}:{}",
        f.tool_type.map(|t| t.as_str()).unwrap_or(""),
        f.risk_level.map(|r| r.as_str()).unwrap_or(""),
        f.is_active.map(|a| a.to_string()).unwrap_or_default(),
        ratelimit::key_of(&format!(
            "{}\n{}{}{}",
            f.q.as_deref().unwrap_or(""),
            f.tag.as_deref().unwrap_or(""),
            f.updated_since
                .as_deref()
                .map(|s| format!("\nupdated_since={s}"))
                .unwrap_or_default(),
            f.drifted
                .map(|d| format!("\ndrifted={d}"))
                .unwrap_or_default()
        ))
    )
}
