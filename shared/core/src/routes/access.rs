//! `POST /api/v1/tools/{id}/access` and `/api/v1/decisions/*`: the policy decision point.

use super::Caller;
use crate::error::{AppError, AppResult};
use crate::http::{body, query, ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::services::access as svc;
use crate::state::AppState;
use crate::store::decisions::DecisionFilter;
use serde_json::{json, Value};

const DECISION_PARAMS: &[table::Param] = &[
    table::id_filter(
        "principal_id",
        "Decisions about this principal (a user id or agent:<id>).",
    ),
    table::id_filter("tool_id", "Decisions about this tool."),
    table::Param {
        name: "decision",
        schema: r#"{"type": "string", "enum": ["allow", "deny"]}"#,
        description: "Only allowed or only denied requests.",
    },
    table::FROM_TIMESTAMP,
    table::TO_TIMESTAMP,
    table::LIMIT,
    table::CURSOR,
];

pub const TOOLS_ACCESS: Route = Route {
    method: "POST",
    path: "/api/v1/tools/{id}/access",
    function: "tools-access",
    access: Access::Scoped(table::TOOLS_ACCESS_SCOPE),
    openapi: Operation {
        summary: "Ask for access to a tool: a policy decision and, when allowed, a credential",
        tag: "credentials",
        request: Some("AccessRequest"),
        response: Content::Json("AccessGranted"),
        problems: &[400, 401, 403, 404, 409, 413, 415, 422, 429, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        signing: &["Sign", "GetPublicKey"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn request(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.principal()?;
    let b: svc::AccessBody = body::parse_json(req)?;
    let granted = svc::request_access(state, &p, req.path_param("id"), b, &req.meta()).await?;
    Ok(ApiResponse::json(200, &granted).with_header("cache-control", "no-store"))
}

const LIST_KEYS: &[&str] = &[
    "principal_id",
    "tool_id",
    "decision",
    "from_timestamp",
    "to_timestamp",
    "limit",
    "cursor",
];

fn stamp_param(
    q: &std::collections::HashMap<String, String>,
    name: &str,
) -> AppResult<Option<String>> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => crate::time::parse(v)
            .map(|t| Some(crate::time::stamp(t)))
            .ok_or_else(|| AppError::BadRequest(format!("{name} must be an RFC 3339 date-time"))),
    }
}

fn id_param(
    q: &std::collections::HashMap<String, String>,
    name: &str,
) -> AppResult<Option<String>> {
    match q.get(name) {
        None => Ok(None),
        Some(v) if v.is_empty() || v.len() > 128 => Err(AppError::BadRequest(format!(
            "{name} must be 1 to 128 characters"
        ))),
        Some(v) => Ok(Some(v.clone())),
    }
}

pub const DECISIONS_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/decisions",
    function: "decisions-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "List access decisions, newest first",
        tag: "credentials",
        response: Content::Json("DecisionPage"),
        query: DECISION_PARAMS,
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
    let q = query::parse(&req.raw_query, LIST_KEYS)?;
    let limit = query::limit(&q)?;
    let f = DecisionFilter {
        principal_id: id_param(&q, "principal_id")?,
        tool_id: id_param(&q, "tool_id")?,
        decision: match q.get("decision").map(String::as_str) {
            None => None,
            Some(d @ ("allow" | "deny")) => Some(d.to_owned()),
            Some(_) => {
                return Err(AppError::BadRequest(
                    "decision must be allow or deny".into(),
                ))
            }
        },
        from: stamp_param(&q, "from_timestamp")?,
        to: stamp_param(&q, "to_timestamp")?,
    };
    // As the audit listing: an empty range is the caller's mistake (DynamoDB refuses it).
    if let (Some(from), Some(to)) = (&f.from, &f.to) {
        if from > to {
            return Err(AppError::BadRequest(
                "from_timestamp is after to_timestamp".into(),
            ));
        }
    }
    let viewer = caller.principal()?.id();
    let page = svc::list_decisions(
        state,
        &viewer,
        &f,
        limit,
        q.get("cursor").map(String::as_str),
    )
    .await?;
    let items: Vec<Value> = page.items.iter().map(svc::decision_view).collect();
    Ok(ApiResponse::json(
        200,
        &json!({"items": items, "next_cursor": page.next_cursor}),
    ))
}

pub const DECISIONS_GET: Route = Route {
    method: "GET",
    path: "/api/v1/decisions/{id}",
    function: "decisions-get",
    access: Access::Admin,
    openapi: Operation {
        summary: "Get an access decision",
        tag: "credentials",
        response: Content::Json("Decision"),
        problems: &[401, 403, 404, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["GetItem"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn get(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let d = svc::get_decision(state, req.path_param("id")).await?;
    Ok(ApiResponse::json(200, &svc::decision_view(&d)))
}
