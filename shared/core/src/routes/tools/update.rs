//! `PATCH /api/v1/tools/{id}`.

use super::{present, tool_id, tool_response};
use crate::domain::tool::RiskLevel;
use crate::error::AppResult;
use crate::http::{body, ApiRequest, ApiResponse};
use crate::probe::TransportPreference;
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::routes::Caller;
use crate::services::tools::update::{self as svc, ToolChanges};
use crate::state::AppState;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Distinguishes an absent field from an explicit `null`.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The request body: every field optional; `static_headers: null` removes them all.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTool {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub risk_level: Option<RiskLevel>,
    #[serde(default, deserialize_with = "present")]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub input_schema: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    pub server_url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub transport_preference: Option<TransportPreference>,
    #[serde(default, deserialize_with = "double_option")]
    pub static_headers: Option<Option<BTreeMap<String, String>>>,
    #[serde(default, deserialize_with = "present")]
    pub requires_per_user_auth: Option<bool>,
}

impl From<UpdateTool> for ToolChanges {
    fn from(b: UpdateTool) -> Self {
        ToolChanges {
            name: b.name,
            display_name: b.display_name,
            description: b.description,
            risk_level: b.risk_level,
            tags: b.tags,
            input_schema: b.input_schema,
            server_url: b.server_url,
            transport_preference: b.transport_preference,
            static_headers: b.static_headers,
            requires_per_user_auth: b.requires_per_user_auth,
        }
    }
}

pub const TOOLS_UPDATE: Route = Route {
    method: "PATCH",
    path: "/api/v1/tools/{id}",
    function: "tools-update",
    access: Access::Admin,
    openapi: Operation {
        summary: "Change a tool (connection changes re-probe; a failed probe changes nothing)",
        tag: "tools",
        request: Some("UpdateTool"),
        response: Content::Json("Tool"),
        problems: &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503],
        if_match: true,
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: table::AUDITED_DELETE,
        kms: &["GenerateDataKey", "Decrypt"],
        ..Iam::NONE
    },
    timeout: 30,
    ..Route::DEFAULT
};

pub async fn update(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let p = caller.user()?;
    // The body first: a malformed body is refused whatever the id.
    let b: UpdateTool = body::parse_json(req)?;
    let id = tool_id(req)?;
    let t = svc::update(
        state,
        &p,
        id,
        b.into(),
        req.if_match().as_ref(),
        &req.meta(),
    )
    .await?;
    tool_response(200, &t)
}
