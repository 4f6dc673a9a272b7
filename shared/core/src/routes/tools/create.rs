//! `POST /api/v1/tools`.

use super::{present, tool_response};
use crate::domain::tool::{RiskLevel, ToolType};
use crate::error::AppResult;
use crate::http::{body, ApiRequest, ApiResponse};
use crate::probe::TransportPreference;
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::routes::Caller;
use crate::services::tools::create::{self as svc, NewTool};
use crate::state::AppState;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The request body. Remote-only and function-only fields are refused on the other type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTool {
    pub tool_type: ToolType,
    pub name: String,
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    pub risk_level: RiskLevel,
    #[serde(default, deserialize_with = "present")]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub input_schema: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    pub server_url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub transport_preference: Option<TransportPreference>,
    #[serde(default, deserialize_with = "present")]
    pub static_headers: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present")]
    pub requires_per_user_auth: Option<bool>,
}

impl From<CreateTool> for NewTool {
    fn from(b: CreateTool) -> Self {
        NewTool {
            tool_type: b.tool_type,
            name: b.name,
            display_name: b.display_name,
            description: b.description,
            risk_level: b.risk_level,
            is_active: b.is_active,
            tags: b.tags,
            input_schema: b.input_schema,
            server_url: b.server_url,
            transport_preference: b.transport_preference,
            static_headers: b.static_headers,
            requires_per_user_auth: b.requires_per_user_auth,
        }
    }
}

pub const TOOLS_CREATE: Route = Route {
    method: "POST",
    path: "/api/v1/tools",
    function: "tools-create",
    access: Access::Admin,
    openapi: Operation {
        summary: "Create a function tool, or a remote tool whose probe passes",
        tag: "tools",
        request: Some("CreateTool"),
        status: 201,
        response: Content::Json("Tool"),
        problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        location: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_WRITE,
        kms: &["GenerateDataKey"],
        ..Iam::NONE
    },
    timeout: 30,
    ..Route::DEFAULT
};

pub async fn create(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    let b: CreateTool = body::parse_json(req)?;
    let t = svc::create(state, &p, b.into(), &req.meta()).await?;
    Ok(tool_response(201, &t)?.with_header("location", &format!("/api/v1/tools/{}", t.id)))
}
