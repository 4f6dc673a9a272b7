//! `POST /api/v1/tools/{id}/approve-tools`.

use super::{tool_id, tool_response};
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::{meta, Caller};
use crate::services::tools::drift as svc;
use crate::state::AppState;

pub async fn approve_tools(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let t = svc::approve_tools(
        state,
        &p,
        tool_id(req)?,
        req.if_match().as_ref(),
        &meta(req),
    )
    .await?;
    tool_response(200, &t)
}
