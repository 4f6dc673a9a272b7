//! `GET /api/v1/tools`.

use super::{Page, ToolView};
use crate::domain::tool::{RiskLevel, ToolType};
use crate::error::{AppError, AppResult};
use crate::http::{query, ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::routes::Caller;
use crate::services::tools::list as svc;
use crate::state::AppState;
use crate::store::tools::ToolFilter;

const LIST_KEYS: &[&str] = &[
    "tool_type",
    "risk_level",
    "is_active",
    "tag",
    "q",
    "drifted",
    "limit",
    "cursor",
];

const TOOL_LIST_PARAMS: &[table::Param] = &[
    table::Param {
        name: "tool_type",
        schema: r#"{"type": "string", "enum": ["function", "remote"]}"#,
        description: "Only tools of this type.",
    },
    table::Param {
        name: "risk_level",
        schema: r#"{"type": "string", "enum": ["low", "medium", "high", "critical"]}"#,
        description: "Only tools of this risk level.",
    },
    table::flag_filter("is_active", "Only active or inactive tools."),
    table::Param {
        name: "tag",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 64}"#,
        description: "Only tools with this tag.",
    },
    table::Param {
        name: "q",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 100}"#,
        description: "Case-insensitive text in name, display name or description.",
    },
    table::flag_filter("drifted", "Only remote tools whose tool list drifted from the approved one (true), or only tools that did not drift (false, function tools included)."),
    table::LIMIT,
    table::CURSOR,
];

pub const TOOLS_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/tools",
    function: "tools-list",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "List tools, sorted by name",
        tag: "tools",
        response: Content::Json("ToolPage"),
        query: TOOL_LIST_PARAMS,
        problems: &[400, 401, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["Query", "GetItem", "UpdateItem"],
        index: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn list(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let q = query::parse(&req.raw_query, LIST_KEYS)?;
    let limit = query::limit(&q)?;
    let bad = |name: &str, allowed: &str| {
        AppError::BadRequest(format!("{name} must be one of {allowed}"))
    };
    let f = ToolFilter {
        tool_type: match q.get("tool_type") {
            None => None,
            Some(v) => {
                Some(ToolType::parse(v).ok_or_else(|| bad("tool_type", "function, remote"))?)
            }
        },
        risk_level: match q.get("risk_level") {
            None => None,
            Some(v) => Some(
                RiskLevel::parse(v)
                    .ok_or_else(|| bad("risk_level", "low, medium, high, critical"))?,
            ),
        },
        is_active: query::flag(&q, "is_active")?,
        drifted: query::flag(&q, "drifted")?,
        tag: match q.get("tag") {
            None => None,
            Some(v) if v.is_empty() || v.len() > 64 => {
                return Err(AppError::BadRequest(
                    "tag must be 1 to 64 characters".into(),
                ))
            }
            Some(v) => Some(v.clone()),
        },
        q: match q.get("q") {
            None => None,
            Some(v) if v.is_empty() || v.chars().count() > 100 => {
                return Err(AppError::BadRequest("q must be 1 to 100 characters".into()))
            }
            Some(v) => Some(v.to_lowercase()),
        },
        updated_since: None,
    };
    let p = caller.principal()?;
    let page = svc::list_visible(state, &p, &f, limit, q.get("cursor").map(String::as_str)).await?;
    Ok(ApiResponse::json(
        200,
        &Page {
            items: page.items.iter().map(ToolView::from).collect(),
            next_cursor: page.next_cursor,
        },
    ))
}
