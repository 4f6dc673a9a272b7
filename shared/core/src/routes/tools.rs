//! `/api/v1/tools/*`.

use super::meta;
use super::Caller;
use crate::domain::tool::{RiskLevel, Tool, ToolType};
use crate::error::{AppError, AppResult};
use crate::http::{body, query, ApiRequest, ApiResponse};
use crate::services::tools as svc;
use crate::state::AppState;
use crate::store::tools::ToolFilter;
use serde_json::{json, Value};

/// A tool as clients see it: header names, never values.
pub fn view(t: &Tool) -> Value {
    let mut v = json!({
        "id": t.id,
        "tool_type": t.tool_type,
        "name": t.name,
        "display_name": t.display_name,
        "description": t.description,
        "risk_level": t.risk_level,
        "is_active": t.is_active,
        "version": t.version,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "created_by": t.created_by,
        "updated_by": t.updated_by,
    });
    let obj = v.as_object_mut().expect("a JSON object");
    match (&t.input_schema, &t.remote) {
        (Some(schema), _) => {
            obj.insert("input_schema".into(), schema.clone());
        }
        (_, Some(r)) => {
            obj.insert("server_url".into(), json!(r.server_url));
            obj.insert("transport_preference".into(), json!(r.transport_preference));
            obj.insert("static_header_names".into(), json!(r.header_names));
            obj.insert(
                "requires_per_user_auth".into(),
                json!(r.requires_per_user_auth),
            );
            obj.insert("probe".into(), json!(r.last_probe));
        }
        _ => {}
    }
    v
}

/// A tool with its `ETag`: the answer of every tool route (and of idempotent replays).
pub(crate) fn tool_response(status: u16, t: &Tool) -> ApiResponse {
    ApiResponse::json(status, &view(t)).with_header("etag", &t.etag())
}

pub async fn create(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.principal()?;
    let b: svc::CreateTool = body::parse_json(req)?;
    let t = svc::create(state, &p, b, &meta(req)).await?;
    Ok(tool_response(201, &t).with_header("location", &format!("/api/v1/tools/{}", t.id)))
}

const LIST_KEYS: &[&str] = &[
    "tool_type",
    "risk_level",
    "is_active",
    "q",
    "limit",
    "cursor",
];

pub async fn list(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
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
        q: match q.get("q") {
            None => None,
            Some(v) if v.is_empty() || v.chars().count() > 100 => {
                return Err(AppError::BadRequest("q must be 1 to 100 characters".into()))
            }
            Some(v) => Some(v.to_lowercase()),
        },
    };
    let page = svc::list(state, &f, limit, q.get("cursor").map(String::as_str)).await?;
    let items: Vec<Value> = page.items.iter().map(view).collect();
    Ok(ApiResponse::json(
        200,
        &json!({"items": items, "next_cursor": page.next_cursor}),
    ))
}

pub async fn get(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let t = svc::get(state, req.path_param("id")).await?;
    Ok(tool_response(200, &t))
}

pub async fn update(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.principal()?;
    let b: svc::UpdateTool = body::parse_json(req)?;
    let t = svc::update(
        state,
        &p,
        req.path_param("id"),
        b,
        req.header("if-match"),
        &meta(req),
    )
    .await?;
    Ok(tool_response(200, &t))
}

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
    let p = caller.principal()?;
    let t = svc::set_active(
        state,
        &p,
        req.path_param("id"),
        active,
        req.header("if-match"),
        &meta(req),
    )
    .await?;
    Ok(tool_response(200, &t))
}

pub async fn delete(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.principal()?;
    svc::delete(
        state,
        &p,
        req.path_param("id"),
        req.header("if-match"),
        &meta(req),
    )
    .await?;
    Ok(ApiResponse::no_content())
}

pub async fn test_connection(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.principal()?;
    let b: svc::TestConnection = body::parse_json(req)?;
    let record = svc::test_connection(state, &p, b, &meta(req)).await?;
    Ok(ApiResponse::json(200, &record))
}

pub async fn reprobe(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.principal()?;
    let t = svc::reprobe(
        state,
        &p,
        req.path_param("id"),
        req.header("if-match"),
        &meta(req),
    )
    .await?;
    Ok(tool_response(200, &t))
}

pub async fn probes(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let q = query::parse(&req.raw_query, &["limit", "cursor"])?;
    let limit = query::limit(&q)?;
    let (items, next) = svc::probes(
        state,
        req.path_param("id"),
        limit,
        q.get("cursor").map(String::as_str),
    )
    .await?;
    Ok(ApiResponse::json(
        200,
        &json!({"items": items, "next_cursor": next}),
    ))
}
