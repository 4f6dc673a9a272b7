//! `GET /api/v1/tools/{id}`.

use super::{tool_id, tool_response};
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::Caller;
use crate::services::tools::get as svc;
use crate::state::AppState;

pub async fn get(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.principal()?;
    let t = svc::get_visible(state, &p, tool_id(req)?).await?;
    tool_response(200, &t)
}
