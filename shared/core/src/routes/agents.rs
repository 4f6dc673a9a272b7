//! `/api/v1/agents/*` (admins): agents and their API keys.

use super::Caller;
use crate::domain::agent::{Agent, ApiKey};
use crate::error::{AppError, AppResult};
use crate::http::{body, query, ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::services::agents as svc;
use crate::state::AppState;
use crate::store::agents::AgentFilter;
use serde_json::{json, Value};

/// An agent as clients see it.
pub fn view(a: &Agent) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "description": a.description,
        "owner_user_id": a.owner_user_id,
        "groups": a.groups,
        "tags": a.tags,
        "disabled": a.disabled,
        "active_keys": a.active_keys.len(),
        "version": a.version,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    })
}

/// A key as clients see it: its prefix and dates, never its secret or digest.
pub fn key_view(k: &ApiKey) -> Value {
    let now = crate::time::stamp(crate::time::now());
    let status = if k.revoked_at.is_some() {
        "revoked"
    } else if k.expired(&now) {
        "expired"
    } else {
        "active"
    };
    json!({
        "id": k.prefix,
        "agent_id": k.agent_id,
        "prefix": format!("trk_{}", k.prefix),
        "description": k.description,
        "status": status,
        "created_at": k.created_at,
        "expires_at": k.expires_at,
        "last_used_at": k.last_used_at,
        "revoked_at": k.revoked_at,
    })
}

fn agent_response(status: u16, a: &Agent) -> ApiResponse {
    ApiResponse::json(status, &view(a)).with_header("etag", &a.etag())
}

const AGENT_LIST_PARAMS: &[table::Param] = &[
    table::flag_filter("disabled", "Only disabled or only enabled agents."),
    table::Param {
        name: "group",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 64}"#,
        description: "Only agents in this group.",
    },
    table::Param {
        name: "tag",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 64}"#,
        description: "Only agents with this tag.",
    },
    table::Param {
        name: "owner_user_id",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 64}"#,
        description: "Only agents this user owns.",
    },
    table::Param {
        name: "q",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 100}"#,
        description: "Case-insensitive text in name or description.",
    },
    table::LIMIT,
    table::CURSOR,
];

pub const AGENTS_CREATE: Route = Route {
    method: "POST",
    path: "/api/v1/agents",
    function: "agents-create",
    access: Access::Admin,
    openapi: Operation {
        summary: "Register an agent",
        tag: "agents",
        request: Some("CreateAgent"),
        status: 201,
        response: Content::Json("Agent"),
        problems: &[400, 401, 403, 409, 413, 415, 422, 503],
        location: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["PutItem", "ConditionCheckItem", "TransactWriteItems"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn create(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::CreateAgent = body::parse_json(req)?;
    let a = svc::create(state, &p, b, &req.meta()).await?;
    Ok(agent_response(201, &a).with_header("location", &format!("/api/v1/agents/{}", a.id)))
}

const LIST_KEYS: &[&str] = &[
    "disabled",
    "group",
    "tag",
    "owner_user_id",
    "q",
    "limit",
    "cursor",
];

fn label(q: &std::collections::HashMap<String, String>, name: &str) -> AppResult<Option<String>> {
    match q.get(name) {
        None => Ok(None),
        Some(v) if v.is_empty() || v.len() > 64 => Err(AppError::BadRequest(format!(
            "{name} must be 1 to 64 characters"
        ))),
        Some(v) => Ok(Some(v.clone())),
    }
}

pub const AGENTS_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/agents",
    function: "agents-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "List agents, sorted by name",
        tag: "agents",
        response: Content::Json("AgentPage"),
        query: AGENT_LIST_PARAMS,
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
    let f = AgentFilter {
        disabled: query::flag(&q, "disabled")?,
        group: label(&q, "group")?,
        tag: label(&q, "tag")?,
        owner_user_id: label(&q, "owner_user_id")?,
        q: match q.get("q") {
            None => None,
            Some(v) if v.is_empty() || v.chars().count() > 100 => {
                return Err(AppError::BadRequest("q must be 1 to 100 characters".into()))
            }
            Some(v) => Some(v.to_lowercase()),
        },
    };
    let viewer = caller.principal()?.id();
    let page = svc::list(
        state,
        &viewer,
        &f,
        limit,
        q.get("cursor").map(String::as_str),
    )
    .await?;
    let items: Vec<Value> = page.items.iter().map(view).collect();
    Ok(ApiResponse::json(
        200,
        &json!({"items": items, "next_cursor": page.next_cursor}),
    ))
}

pub const AGENTS_GET: Route = Route {
    method: "GET",
    path: "/api/v1/agents/{id}",
    function: "agents-get",
    access: Access::Admin,
    openapi: Operation {
        summary: "Get an agent",
        tag: "agents",
        response: Content::Json("Agent"),
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
    let a = svc::get(state, req.path_param("id")).await?;
    Ok(agent_response(200, &a))
}

pub const AGENTS_UPDATE: Route = Route {
    method: "PATCH",
    path: "/api/v1/agents/{id}",
    function: "agents-update",
    access: Access::Admin,
    openapi: Operation {
        summary: "Change an agent's description, owner, groups or tags",
        tag: "agents",
        request: Some("UpdateAgent"),
        response: Content::Json("Agent"),
        problems: &[400, 401, 403, 404, 409, 412, 413, 415, 422, 503],
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::GUARDED_WRITE,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn update(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::UpdateAgent = body::parse_json(req)?;
    let a = svc::update(
        state,
        &p,
        req.path_param("id"),
        b,
        req.header("if-match"),
        &req.meta(),
    )
    .await?;
    Ok(agent_response(200, &a))
}

async fn set_disabled(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
    disabled: bool,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let a = svc::set_disabled(
        state,
        &p,
        req.path_param("id"),
        disabled,
        req.header("if-match"),
        &req.meta(),
    )
    .await?;
    Ok(agent_response(200, &a))
}

pub const AGENTS_DISABLE: Route = Route {
    method: "POST",
    path: "/api/v1/agents/{id}/disable",
    function: "agents-disable",
    access: Access::Admin,
    openapi: Operation {
        summary: "Disable an agent: its keys stop working at once",
        tag: "agents",
        response: Content::Json("Agent"),
        problems: &[401, 403, 404, 409, 412, 503],
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::GUARDED_WRITE_QUERY,
        // Query on GSI1: revoking the credentials issued from what it disables (the last
        // hour of decisions, filtered).
        index: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn disable(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    set_disabled(state, req, caller, true).await
}

pub const AGENTS_ENABLE: Route = Route {
    method: "POST",
    path: "/api/v1/agents/{id}/enable",
    function: "agents-enable",
    access: Access::Admin,
    openapi: Operation {
        summary: "Enable an agent",
        tag: "agents",
        response: Content::Json("Agent"),
        problems: &[401, 403, 404, 409, 412, 503],
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::GUARDED_WRITE,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn enable(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    set_disabled(state, req, caller, false).await
}

pub const AGENT_KEYS_CREATE: Route = Route {
    method: "POST",
    path: "/api/v1/agents/{id}/keys",
    function: "agent-keys-create",
    access: Access::Admin,
    openapi: Operation {
        summary: "Issue an API key (the secret is answered once)",
        tag: "agents",
        request: Some("CreateApiKey"),
        status: 201,
        response: Content::Json("NewApiKey"),
        problems: &[400, 401, 403, 404, 409, 413, 415, 422, 503],
        location: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["GetItem", "PutItem", "TransactWriteItems"],
        pepper: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn create_key(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: svc::CreateKey = body::parse_json(req)?;
    let agent_id = req.path_param("id");
    let issued = svc::create_key(state, &p, agent_id, b, &req.meta()).await?;
    let mut v = key_view(&issued.key);
    v["key"] = json!(issued.secret);
    Ok(ApiResponse::json(201, &v)
        .with_header("cache-control", "no-store")
        .with_header(
            "location",
            &format!("/api/v1/agents/{agent_id}/keys/{}", issued.key.prefix),
        ))
}

const KEY_LIST_KEYS: &[&str] = &["limit", "cursor"];

pub const AGENT_KEYS_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/agents/{id}/keys",
    function: "agent-keys-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "List an agent's API keys",
        tag: "agents",
        response: Content::Json("ApiKeyPage"),
        query: table::PAGE_PARAMS,
        problems: &[400, 401, 403, 404, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["GetItem", "Query"],
        index: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn list_keys(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let q = query::parse(&req.raw_query, KEY_LIST_KEYS)?;
    let limit = query::limit(&q)?;
    let page = svc::list_keys(
        state,
        &caller.principal()?.id(),
        req.path_param("id"),
        limit,
        q.get("cursor").map(String::as_str),
    )
    .await?;
    let items: Vec<Value> = page.items.iter().map(key_view).collect();
    Ok(ApiResponse::json(
        200,
        &json!({"items": items, "next_cursor": page.next_cursor}),
    ))
}

pub const AGENT_KEYS_REVOKE: Route = Route {
    method: "DELETE",
    path: "/api/v1/agents/{id}/keys/{key_id}",
    function: "agent-keys-revoke",
    access: Access::Admin,
    openapi: Operation {
        summary: "Revoke an API key",
        tag: "agents",
        status: 204,
        problems: &[401, 403, 404, 409, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "PutItem",
            "UpdateItem",
            "TransactWriteItems",
            "Query",
        ],
        // Query on GSI1: revoking the credentials issued from what it disables (the last
        // hour of decisions, filtered).
        index: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn revoke_key(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    svc::revoke_key(
        state,
        &p,
        req.path_param("id"),
        req.path_param("key_id"),
        &req.meta(),
    )
    .await?;
    Ok(ApiResponse::no_content())
}
