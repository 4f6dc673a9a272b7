//! Creating a tool: a function tool, or a remote tool whose probe passes.

use super::{
    check_url, enforce_probe_limits, now_stamp, probe_history_expiry, run_probe, write_error,
};
use crate::auth::principal::UserPrincipal;
use crate::crypto::envelope;
use crate::domain::audit::{action, AuditEvent, Outcome, RequestMeta};
use crate::domain::drift;
use crate::domain::tool::{
    self, Errors, RemoteConfig, RiskLevel, Tool, ToolId, ToolKind, ToolType,
};
use crate::error::{AppError, AppResult};
use crate::probe::{ProbeStatus, TransportPreference};
use crate::state::AppState;
use serde_json::json;
use std::collections::BTreeMap;

/// What a client asks to create. Remote-only and function-only fields are refused on the other
/// type, so they are all optional here and checked by [`create`].
#[derive(Debug)]
pub struct NewTool {
    pub tool_type: ToolType,
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub risk_level: RiskLevel,
    pub is_active: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub input_schema: Option<serde_json::Value>,
    pub server_url: Option<String>,
    pub transport_preference: Option<TransportPreference>,
    pub static_headers: Option<BTreeMap<String, String>>,
    pub requires_per_user_auth: Option<bool>,
}

/// Creates a function tool, or a remote tool whose probe passes.
pub async fn create(
    state: &AppState,
    p: &UserPrincipal,
    body: NewTool,
    meta: &RequestMeta,
) -> AppResult<Tool> {
    let mut errors = Errors::default();
    errors.check("/name", tool::validate_name(&body.name));
    let display_name = body
        .display_name
        .clone()
        .unwrap_or_else(|| body.name.clone());
    errors.check("/display_name", tool::validate_display_name(&display_name));
    let description = body.description.clone().unwrap_or_default();
    errors.check("/description", tool::validate_description(&description));
    let tags = body.tags.clone().unwrap_or_default();
    errors.check("/tags", crate::domain::agent::validate_labels(&tags));
    match body.tool_type {
        ToolType::Function => {
            match &body.input_schema {
                Some(s) => tool::validate_input_schema(s, "/input_schema", &mut errors),
                None => errors.add("/input_schema", "is required for function tools"),
            }
            for (field, present) in [
                ("server_url", body.server_url.is_some()),
                ("transport_preference", body.transport_preference.is_some()),
                ("static_headers", body.static_headers.is_some()),
                (
                    "requires_per_user_auth",
                    body.requires_per_user_auth.is_some(),
                ),
            ] {
                if present {
                    errors.add(&format!("/{field}"), "applies to remote tools only");
                }
            }
        }
        ToolType::Remote => {
            match &body.server_url {
                Some(u) => check_url(state, u, "/server_url", &mut errors),
                None => errors.add("/server_url", "is required for remote tools"),
            }
            if body.input_schema.is_some() {
                errors.add("/input_schema", "applies to function tools only");
            }
            if let Some(h) = &body.static_headers {
                tool::validate_static_headers(h, "/static_headers", &mut errors);
            }
        }
    }
    errors.into_result()?;

    let id = ToolId::generate();
    let headers = body.static_headers.clone().unwrap_or_default();
    let kind = match (body.tool_type, body.input_schema, body.server_url) {
        (ToolType::Function, Some(input_schema), _) => ToolKind::Function { input_schema },
        (ToolType::Remote, _, Some(url)) => {
            enforce_probe_limits(state, p, meta).await?;
            let transport = body
                .transport_preference
                .unwrap_or(TransportPreference::Auto);
            let record = run_probe(state, &url, transport, &headers).await;
            if record.outcome.status != ProbeStatus::Passed {
                return Err(AppError::ProbeFailed(Box::new(record.outcome)));
            }
            let sealed = if headers.is_empty() {
                None
            } else {
                let key = &state.config.kms_key_id;
                Some(envelope::seal(&state.kms, key, &id.to_string(), &headers).await?)
            };
            ToolKind::Remote(RemoteConfig {
                server_url: url,
                transport_preference: transport,
                header_names: headers.keys().cloned().collect(),
                sealed_headers: sealed,
                requires_per_user_auth: body.requires_per_user_auth.unwrap_or(false),
                approved_tools: drift::ToolList::of(&record.outcome),
                drift: None,
                last_probe: Some(record),
            })
        }
        // Validation above refused both: a function tool without a schema, a remote one
        // without a server.
        _ => {
            return Err(AppError::Internal(
                "validated tool lacks its kind's field".into(),
            ))
        }
    };
    let now = now_stamp();
    let t = Tool {
        id,
        name: body.name,
        display_name,
        description,
        risk_level: body.risk_level,
        is_active: body.is_active.unwrap_or(true),
        tags,
        version: 1,
        created_at: now.clone(),
        updated_at: now,
        created_by: p.user_id.to_string(),
        updated_by: p.user_id.to_string(),
        kind,
    };
    let ev = AuditEvent::new(action::TOOL_CREATE, Outcome::Success, &p.actor(), meta)
        .target("tool", &t.id.to_string())
        .details(json!({
            "name": t.name,
            "tool_type": t.tool_type().as_str(),
            "static_header_names": headers.keys().collect::<Vec<_>>(),
        }));
    state
        .store
        .create_tool(&t, probe_history_expiry(state), &ev)
        .await
        .map_err(|e| write_error(e, &t.name, false))?;
    Ok(t)
}
