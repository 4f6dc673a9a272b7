//! `GET /api/v1/tools/{id}`.

use super::{tool_id, tool_response};
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::Caller;
use crate::services::tools::get as svc;
use crate::state::AppState;

pub async fn get(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let t = svc::get(state, tool_id(req)?).await?;
    tool_response(200, &t)
}
