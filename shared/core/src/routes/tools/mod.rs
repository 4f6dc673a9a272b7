//! `/api/v1/tools/*`, one module per use case, each owning its request and response shapes.
//! What they share: the tool as clients see it, and the id in the path.

pub mod create;
pub mod drift;
pub mod get;
pub mod lifecycle;
pub mod list;
pub mod probe;
pub mod update;

use crate::domain::tool::{Tool, ToolId};
pub use crate::domain::tool_view::{DriftView, KindView, ToolView};
use crate::error::AppResult;
pub(super) use crate::http::body::present;
use crate::http::{ApiRequest, ApiResponse};
use crate::services::tools as svc;
use serde::Serialize;

/// A `{"items": [...], "next_cursor": ...}` page.
#[derive(Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A tool with its `ETag`: the answer of the tool routes (and of idempotent replays). Serialised
/// straight to bytes: going through a `serde_json::Value` (which sorted the keys) was a fifth of
/// a listing's CPU (docs/benchmarks.md).
pub(crate) fn tool_response(status: u16, t: &Tool) -> AppResult<ApiResponse> {
    Ok(ApiResponse::json(status, &ToolView::from(t)).with_header("etag", &t.etag()))
}

/// The tool id in the path, parsed once here: one that cannot name a tool is a 404, as a
/// tool that does not exist is.
fn tool_id(req: &ApiRequest) -> AppResult<ToolId> {
    let raw = req.path_param("id");
    ToolId::parse(raw).ok_or_else(|| svc::get::not_found(raw))
}
