//! `POST /api/v1/tools/{id}/activate`, `/deactivate`, `DELETE /api/v1/tools/{id}`.

use super::{tool_id, tool_response};
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::{meta, Caller};
use crate::services::tools::lifecycle as svc;
use crate::state::AppState;

pub async fn activate(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    set_active(state, req, caller, true).await
}

pub async fn deactivate(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    set_active(state, req, caller, false).await
}

async fn set_active(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
    active: bool,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let t = svc::set_active(
        state,
        &p,
        tool_id(req)?,
        active,
        req.if_match().as_ref(),
        &meta(req),
    )
    .await?;
    tool_response(200, &t)
}

pub async fn delete(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    svc::delete(
        state,
        &p,
        tool_id(req)?,
        req.if_match().as_ref(),
        &meta(req),
    )
    .await?;
    Ok(ApiResponse::no_content())
}
