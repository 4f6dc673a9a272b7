//! `POST /api/v1/tools/{id}/activate`, `/deactivate`, `DELETE /api/v1/tools/{id}`.

use super::{tool_id, tool_response};
use crate::error::AppResult;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::routes::Caller;
use crate::services::tools::lifecycle as svc;
use crate::state::AppState;

pub const TOOLS_ACTIVATE: Route = Route {
    method: "POST",
    path: "/api/v1/tools/{id}/activate",
    function: "tools-activate",
    access: Access::Admin,
    openapi: Operation {
        summary: "Activate (idempotent)",
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

pub async fn activate(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    set_active(state, req, caller, true).await
}

pub const TOOLS_DEACTIVATE: Route = Route {
    method: "POST",
    path: "/api/v1/tools/{id}/deactivate",
    function: "tools-deactivate",
    access: Access::Admin,
    openapi: Operation {
        summary: "Deactivate (idempotent)",
        tag: "tools",
        response: Content::Json("Tool"),
        problems: table::WRITE,
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "PutItem",
            "TransactWriteItems",
            "UpdateItem",
            "Query",
        ],
        // Query on GSI1: revoking the credentials issued from what it disables (the last
        // hour of decisions, filtered).
        index: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

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
        &req.meta(),
    )
    .await?;
    tool_response(200, &t)
}

pub const TOOLS_DELETE: Route = Route {
    method: "DELETE",
    path: "/api/v1/tools/{id}",
    function: "tools-delete",
    access: Access::ElevatedAdmin,
    openapi: Operation {
        summary: "Delete a tool and its probe history (elevated token)",
        tag: "tools",
        status: 204,
        problems: &[400, 401, 403, 404, 409, 412, 503],
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &[
            "Query",
            "DeleteItem",
            "PutItem",
            "TransactWriteItems",
            "BatchWriteItem",
            "GetItem",
            "UpdateItem",
        ],
        // Query on GSI1: revoking the credentials issued from what it disables (the last
        // hour of decisions, filtered).
        index: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn delete(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    svc::delete(
        state,
        &p,
        tool_id(req)?,
        req.if_match().as_ref(),
        &req.meta(),
    )
    .await?;
    Ok(ApiResponse::no_content())
}
