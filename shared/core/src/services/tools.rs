//! The catalog: creating, changing, listing and probing tools.

use crate::auth::principal::Principal;
use crate::crypto::envelope;
use crate::domain::audit::{action, AuditEvent, Outcome, RequestMeta};
use crate::domain::error::DomainError;
use crate::domain::tool::{self, Errors, ProbeRecord, RemoteConfig, RiskLevel, Tool, ToolType};
use crate::error::{AppError, AppResult};
use crate::probe::{self, ProbeOutcome, ProbeStatus, ProbeTarget, TransportPreference};
use crate::services::ratelimit::{self, Check};
use crate::state::AppState;
use crate::store::tools::{ToolFilter, ToolPage, ToolWriteError};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// `POST /tools` body. Remote-only and function-only fields are rejected on the other type.
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

/// An optional field that, when present, must not be `null` (absent means "not given").
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Distinguishes an absent field from an explicit `null`.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /tools/{id}` body: every field optional; `static_headers: null` removes them all.
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

/// `POST /tools/remote/test-connection` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestConnection {
    pub server_url: String,
    #[serde(default, deserialize_with = "present")]
    pub transport_preference: Option<TransportPreference>,
    #[serde(default, deserialize_with = "present")]
    pub static_headers: Option<BTreeMap<String, String>>,
}

fn now_stamp() -> String {
    crate::time::stamp(crate::time::now())
}

fn check_url(state: &AppState, url: &str, pointer: &str, errors: &mut Errors) {
    if url.len() > tool::MAX_SERVER_URL_LEN {
        errors.add(
            pointer,
            format!("must be at most {} characters", tool::MAX_SERVER_URL_LEN),
        );
        return;
    }
    if let Err(why) = probe::check_server_url(url, state.config.probe_allow_private_networks) {
        errors.add(pointer, why);
    }
}

/// Probes cost outbound connections and time: limited per user and per source IP.
async fn enforce_probe_limits(
    state: &AppState,
    p: &Principal,
    meta: &RequestMeta,
) -> AppResult<()> {
    let ip = ratelimit::key_of(&meta.source_ip);
    let c = &state.config;
    ratelimit::enforce(
        &state.store,
        &[
            Check {
                scope: "probe_user",
                key: &p.user_id,
                limit: c.probe_rate_limit_user,
            },
            Check {
                scope: "probe_ip",
                key: &ip,
                limit: c.probe_rate_limit_ip,
            },
        ],
    )
    .await
}

/// Probes a server and stamps the result.
pub async fn run_probe(
    state: &AppState,
    url: &str,
    transport: TransportPreference,
    headers: &BTreeMap<String, String>,
) -> ProbeRecord {
    let target = ProbeTarget {
        url: url.to_owned(),
        transport,
        headers: headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    let outcome: ProbeOutcome = state.prober.probe(&target).await;
    let probed_at = crate::time::now();
    let stale = chrono::Duration::from_std(state.config.probe_stale_after)
        .unwrap_or(chrono::Duration::hours(24));
    ProbeRecord {
        id: uuid::Uuid::new_v4().to_string(),
        probed_at: crate::time::stamp(probed_at),
        valid_until: crate::time::stamp(probed_at + stale),
        outcome,
    }
}

/// When a probe record's history item expires.
pub fn probe_history_expiry(state: &AppState) -> i64 {
    crate::time::now().timestamp() + state.config.probe_history_ttl.as_secs() as i64
}

fn name_taken(name: &str) -> AppError {
    AppError::Conflict(format!(
        "a tool named {name:?} already exists (names are case-insensitive)"
    ))
}

fn write_error(e: ToolWriteError, name: &str, if_match: bool) -> AppError {
    match e {
        ToolWriteError::NameTaken => name_taken(name),
        ToolWriteError::Stale if if_match => AppError::PreconditionFailed(
            "the tool changed since the given ETag; fetch it again".into(),
        ),
        ToolWriteError::Stale => {
            AppError::Conflict("the tool was changed concurrently; retry".into())
        }
        ToolWriteError::Store(e) => e.into(),
    }
}

/// Checks `If-Match` against the tool's current ETag (`*` matches any existing tool).
pub fn check_if_match(t: &Tool, if_match: Option<&str>) -> AppResult<()> {
    match if_match {
        None => Ok(()),
        Some(v) if v.trim() == "*" => Ok(()),
        Some(v) => {
            let etag = t.etag();
            let matches = v
                .split(',')
                .map(str::trim)
                .any(|e| e == etag || e.trim_start_matches("W/") == etag);
            if matches {
                Ok(())
            } else {
                Err(AppError::PreconditionFailed(format!(
                    "If-Match {v} does not match the current ETag {etag}"
                )))
            }
        }
    }
}

/// Creates a function tool, or a remote tool whose probe passes.
pub async fn create(
    state: &AppState,
    p: &Principal,
    body: CreateTool,
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

    let now = now_stamp();
    let id = uuid::Uuid::new_v4().to_string();
    let mut t = Tool {
        id: id.clone(),
        tool_type: body.tool_type,
        name: body.name.clone(),
        display_name,
        description,
        risk_level: body.risk_level,
        is_active: body.is_active.unwrap_or(true),
        version: 1,
        created_at: now.clone(),
        updated_at: now,
        created_by: p.user_id.clone(),
        updated_by: p.user_id.clone(),
        input_schema: body.input_schema.clone(),
        remote: None,
    };
    let headers = body.static_headers.clone().unwrap_or_default();
    if body.tool_type == ToolType::Remote {
        enforce_probe_limits(state, p, meta).await?;
        let url = body.server_url.clone().unwrap_or_default();
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
            Some(envelope::seal(&state.kms, &state.config.kms_key_id, &id, &headers).await?)
        };
        t.remote = Some(RemoteConfig {
            server_url: url,
            transport_preference: transport,
            header_names: headers.keys().cloned().collect(),
            sealed_headers: sealed,
            requires_per_user_auth: body.requires_per_user_auth.unwrap_or(false),
            last_probe: Some(record),
        });
    }
    let ev = AuditEvent::new(action::TOOL_CREATE, Outcome::Success, &p.actor(), meta)
        .target("tool", &t.id)
        .details(json!({
            "name": t.name,
            "tool_type": t.tool_type.as_str(),
            "static_header_names": headers.keys().collect::<Vec<_>>(),
        }));
    state
        .store
        .create_tool(&t, probe_history_expiry(state), &ev)
        .await
        .map_err(|e| write_error(e, &t.name, false))?;
    Ok(t)
}

pub async fn get(state: &AppState, id: &str) -> AppResult<Tool> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::NotFound(format!("no tool with id {id:?}")));
    }
    state
        .store
        .get_tool(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no tool with id {id:?}")))
}

pub async fn list(
    state: &AppState,
    f: &ToolFilter,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<ToolPage> {
    let scope = format!(
        "tools:{}:{}:{}:{}",
        f.tool_type.map(|t| t.as_str()).unwrap_or(""),
        f.risk_level.map(|r| r.as_str()).unwrap_or(""),
        f.is_active.map(|a| a.to_string()).unwrap_or_default(),
        ratelimit::key_of(f.q.as_deref().unwrap_or(""))
    );
    Ok(state.store.list_tools(f, limit, cursor, &scope).await?)
}

/// The decrypted static headers of a remote tool (empty when it has none).
pub async fn open_headers(state: &AppState, t: &Tool) -> AppResult<BTreeMap<String, String>> {
    match t.remote.as_ref().and_then(|r| r.sealed_headers.as_ref()) {
        Some(sealed) => Ok(envelope::open(&state.kms, &t.id, sealed).await?),
        None => Ok(BTreeMap::new()),
    }
}

/// Applies a partial update; remote connection changes re-probe and a failed probe changes
/// nothing.
pub async fn update(
    state: &AppState,
    p: &Principal,
    id: &str,
    body: UpdateTool,
    if_match: Option<&str>,
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
    match old.tool_type {
        ToolType::Function => {
            if let Some(s) = &body.input_schema {
                tool::validate_input_schema(s, "/input_schema", &mut errors);
                new.input_schema = Some(s.clone());
                changed.push("input_schema");
            }
            for (field, present) in remote_fields {
                if present {
                    errors.add(&format!("/{field}"), "applies to remote tools only");
                }
            }
        }
        ToolType::Remote => {
            if body.input_schema.is_some() {
                errors.add("/input_schema", "applies to function tools only");
            }
            let r = new
                .remote
                .as_mut()
                .ok_or_else(|| AppError::Internal("remote tool without remote config".into()))?;
            if let Some(u) = &body.server_url {
                check_url(state, u, "/server_url", &mut errors);
                if *u != r.server_url {
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
    if reprobe {
        enforce_probe_limits(state, p, meta).await?;
        let headers = match &new_headers {
            Some(h) => h.clone(),
            None => open_headers(state, &old).await?,
        };
        let r = new
            .remote
            .as_mut()
            .ok_or_else(|| AppError::Internal("remote tool without remote config".into()))?;
        let record = run_probe(state, &r.server_url, r.transport_preference, &headers).await;
        if record.outcome.status != ProbeStatus::Passed {
            return Err(AppError::ProbeFailed(Box::new(record.outcome)));
        }
        if let Some(h) = &new_headers {
            r.sealed_headers = if h.is_empty() {
                None
            } else {
                Some(envelope::seal(&state.kms, &state.config.kms_key_id, &old.id, h).await?)
            };
        }
        r.last_probe = Some(record.clone());
        probe_record = Some(record);
    }
    new.version = old.version + 1;
    new.updated_at = now_stamp();
    new.updated_by = p.user_id.clone();
    let ev = AuditEvent::new(action::TOOL_UPDATE, Outcome::Success, &p.actor(), meta)
        .target("tool", &old.id)
        .details(json!({"changed": changed, "reprobed": reprobe, "version": new.version}));
    state
        .store
        .update_tool(
            &old,
            &new,
            probe_record
                .as_ref()
                .map(|r| (r, probe_history_expiry(state))),
            &ev,
        )
        .await
        .map_err(|e| write_error(e, &new.name, if_match.is_some()))?;
    Ok(new)
}

/// Activates or deactivates; a tool already in that state is returned unchanged (no write).
pub async fn set_active(
    state: &AppState,
    p: &Principal,
    id: &str,
    active: bool,
    if_match: Option<&str>,
    meta: &RequestMeta,
) -> AppResult<Tool> {
    let old = get(state, id).await?;
    check_if_match(&old, if_match)?;
    if old.is_active == active {
        return Ok(old);
    }
    let mut new = old.clone();
    new.is_active = active;
    new.version += 1;
    new.updated_at = now_stamp();
    new.updated_by = p.user_id.clone();
    let act = if active {
        action::TOOL_ACTIVATE
    } else {
        action::TOOL_DEACTIVATE
    };
    let ev = AuditEvent::new(act, Outcome::Success, &p.actor(), meta)
        .target("tool", &old.id)
        .details(json!({"version": new.version}));
    state
        .store
        .update_tool(&old, &new, None, &ev)
        .await
        .map_err(|e| write_error(e, &new.name, if_match.is_some()))?;
    Ok(new)
}

/// Deletes a tool with its name guard and probe history.
pub async fn delete(
    state: &AppState,
    p: &Principal,
    id: &str,
    if_match: Option<&str>,
    meta: &RequestMeta,
) -> AppResult<()> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::NotFound(format!("no tool with id {id:?}")));
    }
    let expected = match if_match.map(str::trim) {
        None | Some("*") => None,
        Some(v) => Some(
            v.trim_start_matches("W/")
                .trim_matches('"')
                .strip_prefix('v')
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| {
                    AppError::PreconditionFailed(format!(
                        "If-Match {v} does not match the current ETag"
                    ))
                })?,
        ),
    };
    let actor = p.actor();
    let deleted = state
        .store
        .delete_tool(id, expected, |t| {
            AuditEvent::new(action::TOOL_DELETE, Outcome::Success, &actor, meta)
                .target("tool", &t.id)
                .details(json!({"name": t.name, "tool_type": t.tool_type.as_str()}))
        })
        .await
        .map_err(|e| write_error(e, "", if_match.is_some()))?;
    deleted
        .map(|_| ())
        .ok_or_else(|| AppError::NotFound(format!("no tool with id {id:?}")))
}

/// Probes a URL without storing a tool. The attempt is audited either way.
pub async fn test_connection(
    state: &AppState,
    p: &Principal,
    body: TestConnection,
    meta: &RequestMeta,
) -> AppResult<ProbeRecord> {
    let mut errors = Errors::default();
    check_url(state, &body.server_url, "/server_url", &mut errors);
    let headers = body.static_headers.clone().unwrap_or_default();
    tool::validate_static_headers(&headers, "/static_headers", &mut errors);
    errors.into_result()?;
    enforce_probe_limits(state, p, meta).await?;
    let transport = body
        .transport_preference
        .unwrap_or(TransportPreference::Auto);
    let record = run_probe(state, &body.server_url, transport, &headers).await;
    let outcome = if record.outcome.status == ProbeStatus::Passed {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let ev =
        AuditEvent::new(action::TOOL_TEST_CONNECTION, outcome, &p.actor(), meta).details(json!({
            "server_url": body.server_url,
            "transport_preference": transport,
            "static_header_names": headers.keys().collect::<Vec<_>>(),
            "probe_status": record.outcome.status,
            "error": record.outcome.error,
        }));
    state.store.put_audit(&ev).await?;
    Ok(record)
}

/// Probes a stored remote tool now and records the result (pass or fail) on it.
pub async fn reprobe(
    state: &AppState,
    p: &Principal,
    id: &str,
    if_match: Option<&str>,
    meta: &RequestMeta,
) -> AppResult<Tool> {
    let old = get(state, id).await?;
    check_if_match(&old, if_match)?;
    if old.tool_type != ToolType::Remote {
        return Err(DomainError::NotRemote.into());
    }
    enforce_probe_limits(state, p, meta).await?;
    let (new, record) = probe_and_apply(state, &old, &p.user_id).await?;
    let outcome = if record.outcome.status == ProbeStatus::Passed {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let ev = AuditEvent::new(action::TOOL_REPROBE, outcome, &p.actor(), meta)
        .target("tool", &old.id)
        .details(json!({"probe_status": record.outcome.status, "error": record.outcome.error, "version": new.version}));
    state
        .store
        .update_tool(
            &old,
            &new,
            Some((&record, probe_history_expiry(state))),
            &ev,
        )
        .await
        .map_err(|e| write_error(e, &new.name, if_match.is_some()))?;
    Ok(new)
}

/// Probes `old` with its stored headers and returns the tool with the new result applied.
pub async fn probe_and_apply(
    state: &AppState,
    old: &Tool,
    by: &str,
) -> AppResult<(Tool, ProbeRecord)> {
    let headers = open_headers(state, old).await?;
    let r = old
        .remote
        .as_ref()
        .ok_or_else(|| AppError::Internal("remote tool without remote config".into()))?;
    let record = run_probe(state, &r.server_url, r.transport_preference, &headers).await;
    let mut new = old.clone();
    if let Some(nr) = new.remote.as_mut() {
        nr.last_probe = Some(record.clone());
    }
    new.version = old.version + 1;
    new.updated_at = now_stamp();
    new.updated_by = by.to_owned();
    Ok((new, record))
}

/// A tool's probe history, newest first: one query (the tool item shares the partition, so
/// the same read tells a missing tool from an empty history).
pub async fn probes(
    state: &AppState,
    id: &str,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<(Vec<ProbeRecord>, Option<String>)> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::NotFound(format!("no tool with id {id:?}")));
    }
    let (exists, items, next) = state
        .store
        .list_probes(id, limit, cursor, &format!("probes:{id}"))
        .await?;
    if !exists {
        return Err(AppError::NotFound(format!("no tool with id {id:?}")));
    }
    Ok((items, next))
}
