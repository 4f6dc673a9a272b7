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
