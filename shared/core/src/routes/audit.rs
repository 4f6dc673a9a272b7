//! `GET /api/v1/audit-events`.

use super::Caller;
use crate::error::AppResult;
use crate::http::{query, ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::services::audit as svc;
use crate::state::AppState;
use serde_json::json;

const AUDIT_PARAMS: &[table::Param] = &[
    table::id_filter("actor_user_id", "Events by this user."),
    table::id_filter("action", "e.g. tool.create, auth.login."),
    table::id_filter("target_id", "Events about this tool, user or token family."),
    table::Param {
        name: "outcome",
        schema: r#"{"type": "string", "enum": ["success", "failure"]}"#,
        description: "Outcome.",
    },
    table::FROM_TIMESTAMP,
    table::TO_TIMESTAMP,
    table::LIMIT,
    table::CURSOR,
];

pub const AUDIT_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/audit-events",
    function: "audit-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "Audit events, newest first",
        tag: "audit",
        response: Content::Json("AuditPage"),
        query: AUDIT_PARAMS,
        problems: &[400, 401, 403, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["Query"],
        index: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn list(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let q = query::parse(&req.raw_query, svc::QUERY_KEYS)?;
    let limit = query::limit(&q)?;
    let f = svc::filter_from_query(&q)?;
    let viewer = caller.principal()?.id();
    let page = svc::list(
        state,
        &viewer,
        &f,
        limit,
        q.get("cursor").map(String::as_str),
    )
    .await?;
    Ok(ApiResponse::json(
        200,
        &json!({"items": page.items, "next_cursor": page.next_cursor}),
    ))
}
