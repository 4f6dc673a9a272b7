//! `GET /api/v1/tools/{id}`.

use super::{tool_id, tool_response};
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::routes::Caller;
use crate::services::tools::get as svc;
use crate::state::AppState;

pub const TOOLS_GET: Route = Route {
    method: "GET",
    path: "/api/v1/tools/{id}",
    function: "tools-get",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "One tool",
        tag: "tools",
        response: Content::Json("Tool"),
        problems: table::READ,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn get(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.principal()?;
    let t = svc::get_visible(state, &p, tool_id(req)?).await?;
    tool_response(200, &t)
}
