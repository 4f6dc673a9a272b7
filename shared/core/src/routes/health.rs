//! `GET /health`: liveness, with no dependency calls (it must stay cheap and never cascade).

use super::Caller;
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::table::{Access, Content, Operation, Route};
use crate::state::AppState;
use serde_json::json;

pub const HEALTH: Route = Route {
    method: "GET",
    path: "/health",
    function: "health",
    access: Access::Public,
    openapi: Operation {
        summary: "Liveness",
        tag: "meta",
        response: Content::Json("Health"),
        ..Operation::DEFAULT
    },
    ..Route::DEFAULT
};

pub async fn health(
    _state: &AppState,
    _req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    Ok(ApiResponse::json(
        200,
        &json!({"status": "ok", "service": "toolreg", "version": env!("CARGO_PKG_VERSION")}),
    ))
}
