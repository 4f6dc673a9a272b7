//! `POST /api/v1/tools/{id}/approve-tools`.

use super::{tool_id, tool_response};
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::routes::Caller;
use crate::services::tools::drift as svc;
use crate::state::AppState;

pub const TOOLS_APPROVE_TOOLS: Route = Route {
    method: "POST",
    path: "/api/v1/tools/{id}/approve-tools",
    function: "tools-approve-tools",
    access: Access::Admin,
    openapi: Operation {
        summary:
            "Accept the tool list a remote tool's server lists now and clear its drift (idempotent)",
        tag: "tools",
        response: Content::Json("Tool"),
        problems: table::WRITE,
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

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
        &req.meta(),
    )
    .await?;
    tool_response(200, &t)
}
