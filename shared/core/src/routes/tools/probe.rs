//! `POST /api/v1/tools/remote/test-connection`, `POST /api/v1/tools/{id}/reprobe`,
//! `GET /api/v1/tools/{id}/probes`.

use super::{present, tool_id, tool_response, Page};
use crate::error::AppResult;
use crate::http::{body, query, ApiRequest, ApiResponse};
use crate::probe::TransportPreference;
use crate::routes::{meta, Caller};
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

pub async fn test_connection(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: TestConnection = body::parse_json(req)?;
    let record = svc::test_connection(state, &p, b.into(), &meta(req)).await?;
    Ok(ApiResponse::json(200, &record))
}

pub async fn reprobe(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let t = svc::reprobe(
        state,
        &p,
        tool_id(req)?,
        req.if_match().as_ref(),
        &meta(req),
    )
    .await?;
    tool_response(200, &t)
}

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
