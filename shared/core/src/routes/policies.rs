//! `/api/v1/policies/*` (admins; activation needs an elevated admin).

use super::Caller;
use crate::error::{AppError, AppResult};
use crate::http::body::MAX_BODY_BYTES;
use crate::http::{body, query, ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::services::{access, policies as svc};
use crate::state::AppState;
use crate::store::policies::PolicyVersionItem;
use serde_json::{json, Value};

/// A version as clients see it; `document` only where asked for (a single version).
fn view(v: &PolicyVersionItem, active: u64, with_document: bool) -> AppResult<Value> {
    let warnings: Value = serde_json::from_str(&v.warnings).unwrap_or_else(|_| json!([]));
    let mut out = json!({
        "version": v.version,
        "sha256": v.sha256,
        "rules": v.rule_count,
        "active": v.version == active,
        "warnings": warnings,
        "created_at": v.created_at,
        "created_by": v.created_by,
    });
    if with_document {
        out["document"] = serde_json::from_str(&v.document).map_err(AppError::internal)?;
    }
    Ok(out)
}

/// The uploaded document: JSON (`application/json`) or YAML (`application/yaml`,
/// `application/x-yaml`, `text/yaml`).
fn document_text(req: &ApiRequest) -> AppResult<String> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    let mime = req
        .header("content-type")
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let yaml = matches!(
        mime.as_str(),
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml"
    );
    if !(yaml || mime == "application/json" || mime.ends_with("+json")) {
        return Err(AppError::UnsupportedMediaType);
    }
    let text = String::from_utf8(req.body.clone())
        .map_err(|_| AppError::BadRequest("the policy document is not UTF-8".into()))?;
    if text.trim().is_empty() {
        return Err(AppError::BadRequest(
            "the request body is empty; send a policy document".into(),
        ));
    }
    if !yaml {
        // JSON must be JSON (YAML would accept more): a syntax error is a 400.
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            AppError::BadRequest(format!("the request body is not valid JSON: {e}"))
        })?;
        if !v.is_object() {
            return Err(AppError::field("", "the policy must be a JSON object"));
        }
    }
    Ok(text)
}

pub const POLICIES_CREATE: Route = Route {
    method: "POST",
    path: "/api/v1/policies",
    function: "policies-create",
    access: Access::Admin,
    openapi: Operation {
        summary: "Store a policy version (JSON, or YAML with a YAML content type)",
        tag: "policies",
        request: Some("PolicyDocument"),
        // 201 for a new version; 200 when the same canonical document was stored before
        // (documented beside it in openapi.rs).
        status: 201,
        response: Content::Json("PolicyVersion"),
        problems: &[400, 401, 403, 409, 413, 415, 422, 503],
        location: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn create(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let text = document_text(req)?;
    let stored = svc::create(state, &p, &text, &req.meta()).await?;
    let active = svc::active_version(state).await?;
    let mut v = view(&stored.version, active, false)?;
    v["warnings"] = json!(stored.warnings);
    v["created"] = json!(stored.created);
    let at = format!("/api/v1/policies/{}", stored.version.version);
    // A new version is a created resource (201 + Location); the same document stored before
    // answers the version that holds it (200, its address in Content-Location).
    Ok(if stored.created {
        ApiResponse::json(201, &v).with_header("location", &at)
    } else {
        ApiResponse::json(200, &v).with_header("content-location", &at)
    })
}

const LIST_KEYS: &[&str] = &["limit", "cursor"];

pub const POLICIES_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/policies",
    function: "policies-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "List policy versions, newest first",
        tag: "policies",
        response: Content::Json("PolicyVersionPage"),
        query: table::PAGE_PARAMS,
        problems: &[400, 401, 403, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["GetItem", "Query"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn list(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let q = query::parse(&req.raw_query, LIST_KEYS)?;
    let limit = query::limit(&q)?;
    let viewer = caller.principal()?.id();
    let (page, active) = tokio::join!(
        svc::list(state, &viewer, limit, q.get("cursor").map(String::as_str)),
        svc::active_version(state)
    );
    let (page, active) = (page?, active?);
    let items = page
        .items
        .iter()
        .map(|v| view(v, active, false))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(ApiResponse::json(
        200,
        &json!({"items": items, "next_cursor": page.next_cursor, "active_version": active}),
    ))
}

pub const POLICIES_GET: Route = Route {
    method: "GET",
    path: "/api/v1/policies/{version}",
    function: "policies-get",
    access: Access::Admin,
    openapi: Operation {
        summary: "Get a policy version with its document",
        tag: "policies",
        response: Content::Json("PolicyVersion"),
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
    let version = svc::version_of(req.path_param("version"))?;
    let (v, active) = tokio::join!(svc::get(state, version), svc::active_version(state));
    Ok(ApiResponse::json(200, &view(&v?, active?, true)?))
}

pub const POLICIES_ACTIVATE: Route = Route {
    method: "POST",
    path: "/api/v1/policies/{version}/activate",
    function: "policies-activate",
    access: Access::ElevatedAdmin,
    openapi: Operation {
        summary: "Make a policy version the active one",
        tag: "policies",
        response: Content::Json("PolicyVersion"),
        problems: &[401, 403, 404, 409, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::GUARDED_WRITE,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn activate(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let version = svc::version_of(req.path_param("version"))?;
    let v = svc::activate(state, &p, version, &req.meta()).await?;
    Ok(ApiResponse::json(200, &view(&v, version, false)?))
}

pub const POLICIES_SIMULATE: Route = Route {
    method: "POST",
    path: "/api/v1/policies/simulate",
    function: "policies-simulate",
    access: Access::Admin,
    openapi: Operation {
        summary: "Replay recent decisions against a candidate policy",
        tag: "policies",
        request: Some("Simulation"),
        response: Content::Json("SimulationResult"),
        problems: &[400, 401, 403, 404, 413, 415, 422, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["GetItem", "Query"],
        index: true,
        ..Iam::NONE
    },
    memory: 512,
    ..Route::DEFAULT
};

pub async fn simulate(
    state: &AppState,
    req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    // A document sent as an object would lose a repeated key in the body's parse: refuse it
    // first, as `POST /policies` does.
    if let Some(e) = std::str::from_utf8(&req.body)
        .ok()
        .and_then(crate::domain::policy::duplicate_json_key)
    {
        return Err(AppError::Validation(vec![e.into()]));
    }
    let b: access::SimulateBody = body::parse_json(req)?;
    Ok(ApiResponse::json(200, &access::simulate(state, b).await?))
}
