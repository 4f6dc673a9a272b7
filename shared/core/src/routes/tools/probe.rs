//! `POST /api/v1/tools/remote/test-connection`, `POST /api/v1/tools/{id}/reprobe`,
//! `GET /api/v1/tools/{id}/probes`.

use super::{present, tool_id, tool_response, Page};
use crate::error::AppResult;
use crate::http::{body, query, ApiRequest, ApiResponse};
use crate::probe::TransportPreference;
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::routes::Caller;
use crate::services::tools::probe::{self as svc, ConnectionTest};
use crate::state::AppState;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The test-connection request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestConnection {
    pub server_url: String,
    #[serde(default, deserialize_with = "present")]
    pub transport_preference: Option<TransportPreference>,
    #[serde(default, deserialize_with = "present")]
    pub static_headers: Option<BTreeMap<String, String>>,
}

impl From<TestConnection> for ConnectionTest {
    fn from(b: TestConnection) -> Self {
        ConnectionTest {
            server_url: b.server_url,
            transport_preference: b.transport_preference,
            static_headers: b.static_headers,
        }
    }
}

pub const TOOLS_TEST_CONNECTION: Route = Route {
    method: "POST",
    path: "/api/v1/tools/remote/test-connection",
    function: "tools-test-connection",
    access: Access::Admin,
    openapi: Operation {
        summary: "Probe a server without storing a tool",
        tag: "tools",
        request: Some("TestConnection"),
        response: Content::Json("ProbeRecord"),
        problems: &[400, 401, 403, 413, 415, 422, 429, 503],
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["UpdateItem", "PutItem", "GetItem"],
        ..Iam::NONE
    },
    timeout: 30,
    ..Route::DEFAULT
};

pub async fn test_connection(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: TestConnection = body::parse_json(req)?;
    let record = svc::test_connection(state, &p, b.into(), &req.meta()).await?;
    Ok(ApiResponse::json(200, &record))
}

pub const TOOLS_REPROBE: Route = Route {
    method: "POST",
    path: "/api/v1/tools/{id}/reprobe",
    function: "tools-reprobe",
    access: Access::Admin,
    openapi: Operation {
        summary: "Probe a remote tool now and record the result",
        tag: "tools",
        response: Content::Json("Tool"),
        problems: &[400, 401, 403, 404, 409, 412, 429, 503],
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        kms: &["Decrypt"],
        ..Iam::NONE
    },
    timeout: 30,
    ..Route::DEFAULT
};

pub async fn reprobe(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let t = svc::reprobe(
        state,
        &p,
        tool_id(req)?,
        req.if_match().as_ref(),
        &req.meta(),
    )
    .await?;
    tool_response(200, &t)
}

pub const TOOLS_PROBES: Route = Route {
    method: "GET",
    path: "/api/v1/tools/{id}/probes",
    function: "tools-probes",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "A tool's probe history, newest first",
        tag: "tools",
        response: Content::Json("ProbePage"),
        query: table::PAGE_PARAMS,
        problems: table::READ,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["Query", "GetItem", "UpdateItem"],
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn probes(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let q = query::parse(&req.raw_query, &["limit", "cursor"])?;
    let limit = query::limit(&q)?;
    // After the query: a malformed query is a 400 whatever the id.
    let id = tool_id(req)?;
    let p = caller.principal()?;
    if let crate::auth::principal::Principal::Agent(_) = p {
        // An agent sees the history of tools it may see only.
        crate::services::tools::get::get_visible(state, &p, id).await?;
    }
    let (items, next_cursor) = svc::probes(
        state,
        &p.id(),
        id,
        limit,
        q.get("cursor").map(String::as_str),
    )
    .await?;
    Ok(ApiResponse::json(200, &Page { items, next_cursor }))
}
