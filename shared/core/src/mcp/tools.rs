//! The tools the catalog's MCP server offers: `search_tools`, `get_tool`, `request_access`.
//!
//! Each has an input and an output JSON Schema. A call answers a `CallToolResult`: the output
//! as `structuredContent` plus the same JSON as a text block; a failure the caller can act on
//! (unknown tool, bad arguments, a policy's deny, a missing scope, an unavailable dependency)
//! is a result with `isError: true`, never an HTTP error. Who may see what is the REST API's
//! rule: agents see only tools the active policy could allow them (`services::access::visible`),
//! and a hidden tool answers `search_tools` and `get_tool` exactly as a missing one does; an
//! access request for it is decided and recorded, as `POST /tools/{id}/access` does.

use crate::auth::principal::Principal;
use crate::domain::agent::TOOLS_ACCESS;
use crate::domain::tool::{Tool, ToolId, ToolKind, ToolType};
use crate::domain::tool_view::ToolView;
use crate::error::AppError;
use crate::http::ApiRequest;
use crate::services::access::{self as access_svc, AccessBody};
use crate::services::tools::{get as get_svc, list as list_svc};
use crate::state::AppState;
use crate::store::tools::ToolFilter;
use serde::Deserialize;
use serde_json::{json, Value};

/// How many catalog entries `search_tools` reads: one query of the catalog index (GSI1
/// `TOOLS`), ranked in memory. A catalog beyond this is searched in its first
/// `SEARCH_CATALOG_BOUND` tools by name, and the answer says `catalog_truncated: true`.
/// (Should the tools read exceed DynamoDB's 1 MB page, the store reads on, up to this bound.)
pub const SEARCH_CATALOG_BOUND: usize = 500;
/// Default and largest number of `search_tools` results.
const SEARCH_DEFAULT_LIMIT: usize = 10;
const SEARCH_MAX_LIMIT: usize = 50;
/// Remote servers' own tool names shown per search hit.
const MAX_MATCHED_NAMES: usize = 10;

/// The tool names, as `tools/call` knows them.
pub const SEARCH_TOOLS: &str = "search_tools";
pub const GET_TOOL: &str = "get_tool";
pub const REQUEST_ACCESS: &str = "request_access";

/// The `tools/list` answer: static, so listing costs no AWS call.
pub fn definitions() -> Value {
    let tool_summary = json!({
        "type": "object",
        "required": ["id", "name", "display_name", "description", "tool_type", "risk_level",
                     "tags", "is_active", "score"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "display_name": {"type": "string"},
            "description": {"type": "string"},
            "tool_type": {"type": "string", "enum": ["function", "remote"]},
            "risk_level": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "is_active": {"type": "boolean"},
            "score": {"type": "integer", "minimum": 0},
            "server_url": {"type": ["string", "null"]},
            "probe_status": {"type": ["string", "null"], "enum": ["passed", "failed", "stale", null]},
            "drifted": {"type": "boolean"},
            "matched_tool_names": {"type": "array", "items": {"type": "string"}}
        }
    });
    json!([
        {
            "name": SEARCH_TOOLS,
            "title": "Search the tool catalog",
            "description": "Find tools in the toolreg catalog that you may use, best match first. \
                Matches the query's words against each tool's name, display name, description, \
                tags and, for remote MCP servers, the names of the tools the server offers.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "maxLength": 200,
                              "description": "Words to look for; empty lists every tool by name."},
                    "tool_type": {"type": "string", "enum": ["function", "remote"]},
                    "tags": {"type": "array", "maxItems": 10,
                             "items": {"type": "string", "minLength": 1, "maxLength": 64},
                             "description": "Only tools carrying every one of these tags."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": SEARCH_MAX_LIMIT,
                              "default": SEARCH_DEFAULT_LIMIT}
                },
                "required": ["query"],
                "additionalProperties": false
            },
            "outputSchema": {
                "type": "object",
                "required": ["tools", "total_matches", "catalog_scanned", "catalog_truncated"],
                "properties": {
                    "tools": {"type": "array", "items": tool_summary},
                    "total_matches": {"type": "integer", "minimum": 0},
                    "catalog_scanned": {"type": "integer", "minimum": 0},
                    "catalog_truncated": {"type": "boolean"}
                }
            },
            "annotations": {"title": "Search the tool catalog", "readOnlyHint": true,
                            "openWorldHint": false}
        },
        {
            "name": GET_TOOL,
            "title": "Get one tool",
            "description": "One tool of the catalog by name or id: a function tool's input \
                schema; a remote MCP server's URL, last probe and whether its tool list drifted \
                from the approved one.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 128},
                    "id": {"type": "string", "minLength": 1, "maxLength": 64}
                },
                "additionalProperties": false
            },
            "outputSchema": {
                "type": "object",
                "required": ["tool", "probe_status"],
                "properties": {
                    "tool": {"type": "object", "required": ["id", "name", "tool_type"]},
                    "probe_status": {"type": ["string", "null"],
                                     "enum": ["passed", "failed", "stale", null]}
                }
            },
            "annotations": {"title": "Get one tool", "readOnlyHint": true, "openWorldHint": false}
        },
        {
            "name": REQUEST_ACCESS,
            "title": "Request access to a tool",
            "description": "Ask the registry's policy for access to a tool (by name or id) with \
                the scopes you need and why. An allowed request answers a short-lived signed \
                credential for the tool; a denied one answers the policy's rationale and the \
                decision id. Agents need the tools:access scope.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "tool": {"type": "string", "minLength": 1, "maxLength": 128,
                             "description": "The tool's name or id."},
                    "scopes": {"type": "array", "maxItems": 32,
                               "items": {"type": "string", "minLength": 1, "maxLength": 64}},
                    "purpose": {"type": "string", "minLength": 1, "maxLength": 500}
                },
                "required": ["tool", "scopes"],
                "additionalProperties": false
            },
            "outputSchema": {
                "type": "object",
                "required": ["decision", "rationale", "decision_id", "policy_sha256",
                             "policy_version", "credential"],
                "properties": {
                    "decision": {"type": "string", "enum": ["allow"]},
                    "rationale": {"type": "string"},
                    "rule_id": {"type": ["string", "null"]},
                    "decision_id": {"type": "string"},
                    "policy_sha256": {"type": "string"},
                    "policy_version": {"type": "integer"},
                    "credential": {
                        "type": "object",
                        "required": ["token", "token_type", "audience", "scope", "expires_in",
                                     "expires_at"],
                        "properties": {
                            "token": {"type": "string"},
                            "token_type": {"type": "string"},
                            "audience": {"type": "string"},
                            "scope": {"type": "string"},
                            "expires_in": {"type": "integer"},
                            "expires_at": {"type": "string"}
                        }
                    }
                }
            },
            "annotations": {"title": "Request access to a tool", "readOnlyHint": false,
                            "destructiveHint": false, "idempotentHint": false,
                            "openWorldHint": false}
        }
    ])
}

/// Whether `name` is a tool this server offers.
pub fn offers(name: &str) -> bool {
    [SEARCH_TOOLS, GET_TOOL, REQUEST_ACCESS].contains(&name)
}

/// A successful `CallToolResult`.
fn success(structured: Value) -> Value {
    json!({
        "content": [{"type": "text", "text": structured.to_string()}],
        "structuredContent": structured,
        "isError": false,
    })
}

/// A tool error: `isError: true` with `message` (and, when there is one, structured detail).
fn failure(message: impl Into<String>, structured: Option<Value>) -> Value {
    let mut r = json!({
        "content": [{"type": "text", "text": message.into()}],
        "isError": true,
    });
    if let Some(s) = structured {
        r["structuredContent"] = s;
    }
    r
}

/// A service error as a tool error. Dependency failures and bugs are logged and told as such,
/// without their detail.
fn failure_of(e: AppError, req: &ApiRequest) -> Value {
    match e {
        AppError::AccessDenied {
            rationale,
            rule_id,
            decision_id,
            policy_sha256,
        } => failure(
            format!("access denied by policy: {rationale} (decision {decision_id})"),
            Some(json!({
                "decision": "deny",
                "rationale": rationale,
                "rule_id": rule_id,
                "decision_id": decision_id,
                "policy_sha256": policy_sha256,
            })),
        ),
        AppError::Validation(errors) => {
            let text: Vec<String> = errors
                .iter()
                .map(|f| format!("{}: {}", f.pointer, f.detail))
                .collect();
            failure(
                format!("invalid arguments: {}", text.join("; ")),
                Some(json!({"errors": errors})),
            )
        }
        AppError::RateLimited { limit, reset_at } => failure(
            format!("rate limit of {limit} exceeded; retry after {reset_at} (epoch seconds)"),
            Some(
                json!({"decision": "deny", "rationale": "RATE_LIMIT_EXCEEDED",
                        "retry_at": reset_at}),
            ),
        ),
        AppError::BadRequest(d)
        | AppError::NotFound(d)
        | AppError::Forbidden(d)
        | AppError::Conflict(d) => failure(d, None),
        AppError::Unavailable(d) => {
            tracing::warn!(error = %d, "an MCP tool call found a dependency unavailable");
            failure(
                format!(
                    "the registry is temporarily unavailable; retry (request id {})",
                    req.request_id
                ),
                None,
            )
        }
        other => {
            tracing::error!(error = %other, "an MCP tool call failed");
            failure(
                format!(
                    "the registry failed to answer (request id {})",
                    req.request_id
                ),
                None,
            )
        }
    }
}

/// Arguments as `T`: unknown or mistyped ones are the caller's error, told as a tool error.
fn arguments<T: for<'de> Deserialize<'de>>(args: Value) -> Result<T, Value> {
    serde_json::from_value(args).map_err(|e| failure(format!("invalid arguments: {e}"), None))
}

/// Runs tool `name` (one [`offers`]) for `p`.
pub async fn call(
    state: &AppState,
    req: &ApiRequest,
    p: &Principal,
    name: &str,
    args: Value,
) -> Value {
    let out = match name {
        SEARCH_TOOLS => search_tools(state, p, args).await,
        GET_TOOL => get_tool(state, p, args).await,
        REQUEST_ACCESS => request_access(state, req, p, args).await,
        _ => Err(AppError::Internal(format!("no tool {name}"))),
    };
    match out {
        Ok(v) => v,
        Err(e) => failure_of(e, req),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    query: String,
    #[serde(default)]
    tool_type: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    limit: Option<u64>,
}

/// The tool's probe state as policies see it, as a word.
fn probe_word(t: &Tool) -> Option<&'static str> {
    use crate::domain::policy::ProbeStatus;
    access_svc::probe_status(t, crate::time::now()).map(|s| match s {
        ProbeStatus::Passed => "passed",
        ProbeStatus::Failed => "failed",
        ProbeStatus::Stale => "stale",
    })
}

/// The tool names a remote tool's last probe found.
fn server_tool_names(t: &Tool) -> &[String] {
    match &t.kind {
        ToolKind::Remote(r) => r
            .last_probe
            .as_ref()
            .map_or(&[][..], |p| &p.outcome.tool_names[..]),
        ToolKind::Function { .. } => &[],
    }
}

/// How well `t` matches the lower-cased query `terms` (and the whole query, `phrase`): 0 is no
/// match. A name weighs most, then the display name, tags, the remote server's own tool names
/// and the description; a tool matching every word gets a bonus.
pub fn score(t: &Tool, phrase: &str, terms: &[String]) -> u32 {
    if terms.is_empty() {
        return 1;
    }
    let name = t.name.to_lowercase();
    let display = t.display_name.to_lowercase();
    let description = t.description.to_lowercase();
    let tags: Vec<String> = t.tags.iter().map(|s| s.to_lowercase()).collect();
    let names: Vec<String> = server_tool_names(t)
        .iter()
        .map(|s| s.to_lowercase())
        .collect();
    let mut total = 0;
    if name == phrase {
        total += 100;
    } else if name.contains(phrase) {
        total += 40;
    }
    let mut all = true;
    for term in terms {
        let mut s = 0;
        if name.contains(term.as_str()) {
            s += 20;
        }
        if display.contains(term.as_str()) {
            s += 12;
        }
        if tags.iter().any(|g| g == term) {
            s += 10;
        } else if tags.iter().any(|g| g.contains(term.as_str())) {
            s += 5;
        }
        if names.iter().any(|n| n.contains(term.as_str())) {
            s += 8;
        }
        if description.contains(term.as_str()) {
            s += 4;
        }
        all &= s > 0;
        total += s;
    }
    if all && terms.len() > 1 && total > 0 {
        total += 15;
    }
    total
}

async fn search_tools(state: &AppState, p: &Principal, args: Value) -> Result<Value, AppError> {
    let a: SearchArgs = match arguments(args) {
        Ok(a) => a,
        Err(v) => return Ok(v),
    };
    if a.query.chars().count() > 200 {
        return Err(AppError::field("/query", "at most 200 characters"));
    }
    let tool_type = match a.tool_type.as_deref() {
        None => None,
        Some(t) => Some(
            ToolType::parse(t)
                .ok_or_else(|| AppError::field("/tool_type", "must be function or remote"))?,
        ),
    };
    let tags = a.tags.unwrap_or_default();
    if tags.len() > 10 || tags.iter().any(|t| t.is_empty() || t.len() > 64) {
        return Err(AppError::field(
            "/tags",
            "at most 10 tags of 1 to 64 characters",
        ));
    }
    let limit = match a.limit {
        None => SEARCH_DEFAULT_LIMIT,
        Some(l @ 1..=50) => l as usize,
        Some(_) => {
            return Err(AppError::field(
                "/limit",
                format!("must be 1 to {SEARCH_MAX_LIMIT}"),
            ))
        }
    };
    let phrase = a.query.trim().to_lowercase();
    let terms: Vec<String> = phrase.split_whitespace().map(str::to_owned).collect();
    // One read of the catalog index; the filters run here so DynamoDB reads no further.
    let page = list_svc::list_visible(state, p, &ToolFilter::default(), SEARCH_CATALOG_BOUND, None)
        .await?;
    let scanned = page.items.len();
    let mut hits: Vec<(u32, &Tool)> = page
        .items
        .iter()
        .filter(|t| tool_type.is_none_or(|ty| t.tool_type() == ty))
        .filter(|t| {
            tags.iter()
                .all(|g| t.tags.iter().any(|h| h.eq_ignore_ascii_case(g)))
        })
        .map(|t| (score(t, &phrase, &terms), t))
        .filter(|(s, _)| *s > 0)
        .collect();
    hits.sort_by(|(sa, ta), (sb, tb)| sb.cmp(sa).then_with(|| ta.name.cmp(&tb.name)));
    let total = hits.len();
    let tools: Vec<Value> = hits
        .into_iter()
        .take(limit)
        .map(|(s, t)| {
            let matched: Vec<&String> = server_tool_names(t)
                .iter()
                .filter(|n| {
                    let n = n.to_lowercase();
                    terms.iter().any(|term| n.contains(term.as_str()))
                })
                .take(MAX_MATCHED_NAMES)
                .collect();
            json!({
                "id": t.id.to_string(),
                "name": t.name,
                "display_name": t.display_name,
                "description": t.description,
                "tool_type": t.tool_type().as_str(),
                "risk_level": t.risk_level.as_str(),
                "tags": t.tags,
                "is_active": t.is_active,
                "score": s,
                "server_url": t.remote().map(|r| r.server_url.clone()),
                "probe_status": probe_word(t),
                "drifted": access_svc::drifted(t),
                "matched_tool_names": matched,
            })
        })
        .collect();
    Ok(success(json!({
        "tools": tools,
        "total_matches": total,
        "catalog_scanned": scanned,
        "catalog_truncated": page.next_cursor.is_some(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GetArgs {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

/// The tool `reference` names (an id, else a name) if `p` may see it, else a not-found error
/// that says the same whether the tool is missing or hidden.
async fn resolve(
    state: &AppState,
    p: &Principal,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<Tool, AppError> {
    let shown = |s: &str| s.chars().take(128).collect::<String>();
    if let Some(id) = id {
        let missing = || AppError::NotFound(format!("no tool with id {:?}", shown(id)));
        let id = ToolId::parse(id).ok_or_else(missing)?;
        return match get_svc::get_visible(state, p, id).await {
            Err(AppError::NotFound(_)) => Err(missing()),
            other => other,
        };
    }
    let name = name.unwrap_or_default();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(AppError::NotFound(format!(
            "no tool named {:?}",
            shown(name)
        )));
    }
    get_svc::find_visible(state, p, name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no tool named {:?}", shown(name))))
}

async fn get_tool(state: &AppState, p: &Principal, args: Value) -> Result<Value, AppError> {
    let a: GetArgs = match arguments(args) {
        Ok(a) => a,
        Err(v) => return Ok(v),
    };
    let t = match (&a.id, &a.name) {
        (Some(_), Some(_)) | (None, None) => {
            return Ok(failure("give exactly one of name and id", None))
        }
        (id, name) => resolve(state, p, id.as_deref(), name.as_deref()).await?,
    };
    let view = serde_json::to_value(ToolView::from(&t)).map_err(AppError::internal)?;
    Ok(success(
        json!({"tool": view, "probe_status": probe_word(&t)}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessArgs {
    tool: String,
    scopes: Vec<String>,
    #[serde(default)]
    purpose: Option<String>,
}

async fn request_access(
    state: &AppState,
    req: &ApiRequest,
    p: &Principal,
    args: Value,
) -> Result<Value, AppError> {
    let a: AccessArgs = match arguments(args) {
        Ok(a) => a,
        Err(v) => return Ok(v),
    };
    if let Principal::Agent(agent) = p {
        if !agent.has_scope(TOOLS_ACCESS) {
            return Ok(failure(
                format!("request_access needs the {TOOLS_ACCESS} scope; this credential lacks it"),
                None,
            ));
        }
    }
    // As `POST /tools/{id}/access`: every request for an existing tool is decided and recorded,
    // one the caller's listing hides included (the guards and the policy answer it). A name is
    // looked up first.
    let missing = || {
        AppError::NotFound(format!(
            "no tool {:?}",
            a.tool.chars().take(128).collect::<String>()
        ))
    };
    let tool_id = match ToolId::parse(&a.tool) {
        Some(id) => id.to_string(),
        None if a.tool.is_empty() || a.tool.chars().count() > 128 => return Err(missing()),
        None => state
            .store
            .get_tool_by_name(&a.tool)
            .await?
            .ok_or_else(missing)?
            .id
            .to_string(),
    };
    let body = AccessBody {
        scopes: a.scopes,
        purpose: a.purpose,
    };
    match access_svc::request_access(state, p, &tool_id, body, &req.meta()).await {
        Ok(granted) => Ok(success(
            serde_json::to_value(&granted).map_err(AppError::internal)?,
        )),
        Err(AppError::NotFound(_)) => Err(missing()),
        Err(e) => Err(e),
    }
}
