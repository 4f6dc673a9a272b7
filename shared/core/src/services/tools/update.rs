//! Changing a tool: a partial update; remote connection changes re-probe, and a failed probe
//! changes nothing.

use super::{
    check_if_match, check_url, enforce_probe_limits, get, now_stamp, open_headers,
    probe_history_expiry, run_probe, write_error,
};
use crate::auth::principal::UserPrincipal;
use crate::crypto::envelope;
use crate::domain::audit::{action, AuditEvent, Outcome, RequestMeta};
use crate::domain::tool::{self, Errors, IfMatch, RiskLevel, Tool, ToolId, ToolKind};
use crate::error::{AppError, AppResult};
use crate::probe::{ProbeStatus, TransportPreference};
use crate::state::AppState;
use serde_json::json;
use std::collections::BTreeMap;

/// What a client asks to change: every field optional; `static_headers: Some(None)` removes
/// them all.
#[derive(Debug, Default)]
pub struct ToolChanges {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub risk_level: Option<RiskLevel>,
    pub tags: Option<Vec<String>>,
    pub input_schema: Option<serde_json::Value>,
    pub server_url: Option<String>,
    pub transport_preference: Option<TransportPreference>,
    pub static_headers: Option<Option<BTreeMap<String, String>>>,
    pub requires_per_user_auth: Option<bool>,
}

/// Applies a partial update; remote connection changes re-probe and a failed probe changes
/// nothing.
pub async fn update(
    state: &AppState,
    p: &UserPrincipal,
    id: ToolId,
    body: ToolChanges,
    if_match: Option<&IfMatch>,
    meta: &RequestMeta,
) -> AppResult<Tool> {
    let old = get(state, id).await?;
    let mut errors = Errors::default();
    let mut changed: Vec<&str> = Vec::new();
    let mut new = old.clone();
    if let Some(n) = &body.name {
        errors.check("/name", tool::validate_name(n));
        if *n != old.name {
            new.name = n.clone();
            changed.push("name");
        }
    }
    if let Some(d) = &body.display_name {
        errors.check("/display_name", tool::validate_display_name(d));
        new.display_name = d.clone();
        changed.push("display_name");
    }
    if let Some(d) = &body.description {
        errors.check("/description", tool::validate_description(d));
        new.description = d.clone();
        changed.push("description");
    }
    if let Some(r) = body.risk_level {
        new.risk_level = r;
        changed.push("risk_level");
    }
    if let Some(t) = &body.tags {
        errors.check("/tags", crate::domain::agent::validate_labels(t));
        new.tags = t.clone();
        changed.push("tags");
    }
    let remote_fields = [
        ("server_url", body.server_url.is_some()),
        ("transport_preference", body.transport_preference.is_some()),
        ("static_headers", body.static_headers.is_some()),
        (
            "requires_per_user_auth",
            body.requires_per_user_auth.is_some(),
        ),
    ];
    let mut reprobe = false;
    let mut new_headers: Option<BTreeMap<String, String>> = None;
    let mut headers_dropped = false;
    let mut url_change: Option<(String, String)> = None;
    match &mut new.kind {
        ToolKind::Function { input_schema } => {
            if let Some(s) = &body.input_schema {
                tool::validate_input_schema(s, "/input_schema", &mut errors);
                *input_schema = s.clone();
                changed.push("input_schema");
            }
            for (field, present) in remote_fields {
                if present {
                    errors.add(&format!("/{field}"), "applies to remote tools only");
                }
            }
        }
        ToolKind::Remote(r) => {
            if body.input_schema.is_some() {
                errors.add("/input_schema", "applies to function tools only");
            }
            if let Some(u) = &body.server_url {
                check_url(state, u, "/server_url", &mut errors);
                if *u != r.server_url {
                    // Stored headers were entered for one origin: moving the tool to another
                    // must not send them there (any admin could otherwise collect a tool's
                    // API keys at a server of their choosing). They go unless this request
                    // supplies headers again.
                    if origin(u) != origin(&r.server_url)
                        && body.static_headers.is_none()
                        && !r.header_names.is_empty()
                    {
                        r.header_names.clear();
                        new_headers = Some(BTreeMap::new());
                        headers_dropped = true;
                        changed.push("static_headers");
                    }
                    url_change = Some((r.server_url.clone(), u.clone()));
                    r.server_url = u.clone();
                    reprobe = true;
                    changed.push("server_url");
                }
            }
            if let Some(t) = body.transport_preference {
                if t != r.transport_preference {
                    r.transport_preference = t;
                    reprobe = true;
                    changed.push("transport_preference");
                }
            }
            if let Some(h) = &body.static_headers {
                let h = h.clone().unwrap_or_default();
                tool::validate_static_headers(&h, "/static_headers", &mut errors);
                r.header_names = h.keys().cloned().collect();
                new_headers = Some(h);
                reprobe = true;
                changed.push("static_headers");
            }
            if let Some(b) = body.requires_per_user_auth {
                r.requires_per_user_auth = b;
                changed.push("requires_per_user_auth");
            }
        }
    }
    errors.into_result()?;
    if changed.is_empty() {
        return Err(AppError::field(
            "",
            "no changes: send at least one field to update",
        ));
    }
    // After validation, so a malformed body is a 422 whatever the ETag.
    check_if_match(&old, if_match)?;

    let mut probe_record = None;
    let mut found_drift = None;
    if reprobe {
        enforce_probe_limits(state, p, meta).await?;
        let headers = match &new_headers {
            Some(h) => h.clone(),
            None => open_headers(state, &old).await?,
        };
        let tool_id = old.id.to_string();
        // `reprobe` is only ever set on the remote arm above.
        if let Some(r) = new.remote_mut() {
            let record = run_probe(state, &r.server_url, r.transport_preference, &headers).await;
            if record.outcome.status != ProbeStatus::Passed {
                return Err(AppError::ProbeFailed(Box::new(record.outcome)));
            }
            if let Some(h) = &new_headers {
                r.sealed_headers = if h.is_empty() {
                    None
                } else {
                    let key = &state.config.kms_key_id;
                    Some(envelope::seal(&state.kms, key, &tool_id, h).await?)
                };
            }
            r.last_probe = Some(record.clone());
            found_drift = super::drift::apply_probe(&mut new, &record);
            probe_record = Some(record);
        }
    }
    new.version = old.version + 1;
    new.updated_at = now_stamp();
    new.updated_by = p.user_id.to_string();
    let ev = AuditEvent::new(action::TOOL_UPDATE, Outcome::Success, &p.actor(), meta)
        .target("tool", &old.id.to_string())
        .details(json!({
            "changed": changed,
            "reprobed": reprobe,
            "version": new.version,
            "server_url": url_change.map(|(from, to)| json!({"from": from, "to": to})),
            "static_headers_dropped": headers_dropped,
        }));
    let drift_ev = found_drift
        .as_ref()
        .zip(probe_record.as_ref())
        .map(|(d, rec)| super::drift::drift_event(&new, d, rec, &p.actor(), meta));
    let mut audits = vec![&ev];
    audits.extend(drift_ev.as_ref());
    state
        .store
        .update_tool_audited(
            &old,
            &new,
            probe_record
                .as_ref()
                .map(|r| (r, probe_history_expiry(state))),
            &audits,
        )
        .await
        .map_err(|e| write_error(e, &new.name, if_match.is_some()))?;
    Ok(new)
}

/// `scheme://host:port` of a URL (the unit stored headers are bound to).
fn origin(u: &str) -> Option<String> {
    url::Url::parse(u)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}
