//! `GET /openapi.json` and `GET /docs`: the API's contract and an interactive page that needs no
//! internet access (its script is served from here too).

use super::Caller;
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;

pub async fn openapi(
    _state: &AppState,
    _req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    Ok(ApiResponse::json(200, &crate::openapi::document()))
}

pub async fn page(_state: &AppState, _req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    Ok(ApiResponse::bytes(
        200,
        "text/html; charset=utf-8",
        include_str!("docs.html").as_bytes().to_vec(),
    ))
}
