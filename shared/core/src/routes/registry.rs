//! The MCP Registry API (`/v0.1/servers…`): the catalog's active remote tools as the official
//! MCP registry serves `server.json` entries, read-only, for registry clients (GitHub Copilot,
//! Azure API Center, MCP hosts). Authenticated like the REST API: toolreg is a private
//! registry, and an agent sees only the tools the active policy could allow it.
//!
//! Server names (`<namespace>/<tool>`) hold a `/`, so clients URL-encode it (`%2F`) in the
//! path. The path parameter arrives as the raw, still-encoded segment (API Gateway passes it
//! so, and the local server's `match_template` does the same); it is percent-decoded exactly
//! once here.

use crate::domain::probe::{DetectedTransport, ProbeStatus as Verdict, TransportPreference};
use crate::domain::tool::{Tool, ToolType};
use crate::error::{AppError, AppResult};
use crate::http::{query, ApiRequest, ApiResponse};
use crate::routes::table::{self, Access, Content, Iam, Operation, Route};
use crate::routes::Caller;
use crate::services::tools::list as svc;
use crate::state::AppState;
use crate::store::tools::ToolFilter;
use serde_json::{json, Map, Value};

const REGISTRY_LIST_PARAMS: &[table::Param] = &[
    table::CURSOR,
    table::LIMIT,
    table::Param {
        name: "search",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 200}"#,
        description: "Case-insensitive text in the server's name, title or description (a full server name searches by its last part).",
    },
    table::Param {
        name: "updated_since",
        schema: r#"{"type": "string", "format": "date-time"}"#,
        description: "Only servers changed at or after this RFC 3339 time.",
    },
    table::Param {
        name: "version",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 255}"#,
        description: "latest (every server: each has one version), or an exact version.",
    },
    INCLUDE_DELETED,
];

const INCLUDE_DELETED: table::Param = table::Param {
    name: "include_deleted",
    schema: r#"{"type": "string", "enum": ["true", "false"]}"#,
    description: "Accepted for compatibility: deleted servers are never served.",
};

/// What the registry's read routes may touch: the catalog index (and the policy, for agents).
const REGISTRY_IAM: Iam = Iam {
    dynamodb: &["Query", "GetItem", "UpdateItem"],
    index: true,
    ..Iam::NONE
};

const PREFLIGHT_IAM: Iam = Iam::NONE;

const PREFLIGHT_OPERATION: Operation = Operation {
    summary: "CORS preflight for MCP Registry API clients in browsers",
    tag: "registry",
    request: None,
    status: 204,
    response: Content::None,
    query: &[],
    problems: &[],
    if_match: false,
    location: false,
};

/// The `server.json` schema revision the entries follow.
pub const SERVER_SCHEMA: &str =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";
/// The official registry metadata key.
pub const OFFICIAL_META: &str = "io.modelcontextprotocol.registry/official";
/// toolreg's own metadata key on each entry.
pub const TOOLREG_META: &str = "io.toolreg/status";

const LIST_KEYS: &[&str] = &[
    "cursor",
    "limit",
    "search",
    "updated_since",
    "version",
    "include_deleted",
];
const ONE_KEYS: &[&str] = &["include_deleted"];

const CORS_ALLOW_METHODS: &str = "GET, HEAD, OPTIONS";
const CORS_ALLOW_HEADERS: &str = "Authorization, X-Api-Key, X-Request-Id, Content-Type";

/// The version string of a tool's (only) server version: `1.0.<tool version>`, semver-like so
/// clients sort it, and changing whenever the tool changes.
pub fn version_of(t: &Tool) -> String {
    format!("1.0.{}", t.version)
}

/// At most `max` characters of `s`.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// The transport a registry client should use: what the last probe found, else the tool's
/// preference (automatic meaning the current streamable HTTP).
fn transport_type(r: &crate::domain::tool::RemoteConfig) -> &'static str {
    match r
        .last_probe
        .as_ref()
        .and_then(|p| p.outcome.detected_transport)
    {
        Some(DetectedTransport::Sse) => "sse",
        Some(DetectedTransport::StreamableHttp) => "streamable-http",
        None => match r.transport_preference {
            TransportPreference::Sse => "sse",
            TransportPreference::StreamableHttp | TransportPreference::Auto => "streamable-http",
        },
    }
}

/// A tool as a registry `ServerResponse`: `server` (a `server.json`) and registry `_meta`.
/// Header values never leave the store: only their names, as secret inputs.
pub fn entry(ns: &str, t: &Tool) -> Option<Value> {
    let r = t.remote()?;
    let headers: Vec<Value> = r
        .header_names
        .iter()
        .map(|h| {
            json!({
                "name": h,
                "description": "Held by toolreg; ask the registry's administrators for a value",
                "isRequired": true,
                "isSecret": true,
            })
        })
        .collect();
    let mut remote = json!({"type": transport_type(r), "url": r.server_url});
    if !headers.is_empty() {
        remote["headers"] = Value::Array(headers);
    }
    let description = if t.description.trim().is_empty() {
        &t.display_name
    } else {
        &t.description
    };
    let probe = r.last_probe.as_ref();
    let status = crate::services::access::probe_status(t, crate::time::now());
    let toolreg = json!({
        "id": t.id,
        "name": t.name,
        "probeStatus": status.map(|s| match s {
            crate::domain::policy::ProbeStatus::Passed => "passed",
            crate::domain::policy::ProbeStatus::Failed => "failed",
            crate::domain::policy::ProbeStatus::Stale => "stale",
        }),
        "probedAt": probe.map(|p| p.probed_at.clone()),
        "probeError": probe.and_then(|p| (p.outcome.status == Verdict::Failed).then(|| p.outcome.error.clone()).flatten()),
        "protocolVersion": probe.and_then(|p| p.outcome.protocol_version.clone()),
        "toolCount": probe.and_then(|p| p.outcome.tool_count),
        "toolsSha256": probe.and_then(|p| p.outcome.tools_sha256.clone()),
        "approvedToolsSha256": r.approved_tools.as_ref().map(|a| a.sha256.clone()),
        "drifted": r.drift.is_some(),
        "requiresPerUserAuth": r.requires_per_user_auth,
        "riskLevel": t.risk_level.as_str(),
        "tags": t.tags,
    });
    Some(json!({
        "server": {
            "$schema": SERVER_SCHEMA,
            "name": format!("{ns}/{}", t.name),
            "title": cut(&t.display_name, 100),
            "description": cut(description, 100),
            "version": version_of(t),
            "remotes": [remote],
        },
        "_meta": {
            OFFICIAL_META: {
                "status": "active",
                "publishedAt": t.created_at,
                "updatedAt": t.updated_at,
                "isLatest": true,
            },
            TOOLREG_META: toolreg,
        },
    }))
}

fn json_response(v: &Value) -> ApiResponse {
    ApiResponse::json(200, v)
}

/// Percent-decodes `raw` once (`+` stays `+`: this is a path, not a form). `None` when an
/// escape is malformed or the bytes are not UTF-8.
pub fn percent_decode(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The tool a `{name}` path parameter names under this registry's namespace, if it is one of
/// the entries this caller may see (active, remote, visible): otherwise a 404, as for a name
/// that does not exist, so an agent cannot tell hidden tools from missing ones.
async fn named(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<(String, Tool)> {
    let raw = req.path_param("name");
    let not_found = || {
        AppError::NotFound(format!(
            "no server named {:?}",
            raw.chars().take(200).collect::<String>()
        ))
    };
    let name = percent_decode(raw).ok_or_else(not_found)?;
    let ns = &state.config.registry_namespace;
    let tool_name = name
        .strip_prefix(ns.as_str())
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|n| crate::domain::tool::validate_name(n).is_ok())
        .ok_or_else(not_found)?;
    let p = caller.principal()?;
    let (tool, active) = tokio::join!(state.store.get_tool_by_name(tool_name), async {
        match &p {
            crate::auth::principal::Principal::Agent(_) => state
                .policies
                .get(&state.store, state.config.policy_cache_ttl)
                .await
                .map(Some),
            _ => Ok(None),
        }
    });
    let tool = tool?.ok_or_else(not_found)?;
    let shown = tool.is_active
        && tool.tool_type() == ToolType::Remote
        && tool.name == tool_name
        && match active? {
            Some(active) => crate::services::access::visible(&p, &active.policy, &tool),
            None => true,
        };
    if !shown {
        return Err(not_found());
    }
    Ok((name, tool))
}

pub const REGISTRY_SERVERS_LIST: Route = Route {
    method: "GET",
    path: "/v0.1/servers",
    function: "registry-servers-list",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "MCP Registry API: the active remote tools as server.json entries",
        tag: "registry",
        response: Content::Json("RegistryServerList"),
        query: REGISTRY_LIST_PARAMS,
        problems: &[400, 401, 503],
        ..Operation::DEFAULT
    },
    iam: REGISTRY_IAM,
    ..Route::DEFAULT
};

/// `GET /v0.1/servers`: one catalog query per page.
pub async fn list(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let q = query::parse(&req.raw_query, LIST_KEYS)?;
    let limit = query::limit(&q)?;
    query::flag(&q, "include_deleted")?;
    let ns = &state.config.registry_namespace;
    let search = match q.get("search") {
        None => None,
        Some(v) => {
            // A full server name searches by its tool name.
            let v = v
                .strip_prefix(ns.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .unwrap_or(v);
            if v.is_empty() || v.chars().count() > 100 {
                return Err(AppError::BadRequest(
                    "search must be 1 to 100 characters".into(),
                ));
            }
            Some(v.to_lowercase())
        }
    };
    let updated_since = match q.get("updated_since") {
        None => None,
        Some(v) => Some(crate::time::stamp(crate::time::parse(v).ok_or_else(
            || {
                AppError::BadRequest(format!(
                    "updated_since must be an RFC 3339 date-time, got {:?}",
                    v.chars().take(64).collect::<String>()
                ))
            },
        )?)),
    };
    let version = match q.get("version").map(String::as_str) {
        None | Some("latest") => None,
        Some("") => {
            return Err(AppError::BadRequest(
                "version must be latest or a version".into(),
            ))
        }
        Some(v) => Some(v.to_owned()),
    };
    let f = ToolFilter {
        tool_type: Some(ToolType::Remote),
        is_active: Some(true),
        q: search,
        updated_since,
        ..Default::default()
    };
    let p = caller.principal()?;
    // The version filter runs in the store's page loop, so the cursor resumes after a server
    // this page showed; the listing's name binds cursors to it.
    let listing = format!("registry:{}", version.as_deref().unwrap_or("latest"));
    let page = svc::list_visible_where(
        state,
        &p,
        &f,
        limit,
        q.get("cursor").map(String::as_str),
        &listing,
        |t| version.as_deref().is_none_or(|v| v == version_of(t)),
    )
    .await?;
    let servers: Vec<Value> = page.items.iter().filter_map(|t| entry(ns, t)).collect();
    let mut metadata = Map::new();
    metadata.insert("count".into(), json!(servers.len()));
    if let Some(c) = page.next_cursor {
        metadata.insert("nextCursor".into(), json!(c));
    }
    Ok(json_response(
        &json!({"servers": servers, "metadata": metadata}),
    ))
}

pub const REGISTRY_SERVER_VERSIONS: Route = Route {
    method: "GET",
    path: "/v0.1/servers/{name}/versions",
    function: "registry-server-versions",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "MCP Registry API: a server's versions (its one current version)",
        tag: "registry",
        response: Content::Json("RegistryServerList"),
        query: &[INCLUDE_DELETED],
        problems: table::READ,
        ..Operation::DEFAULT
    },
    iam: REGISTRY_IAM,
    ..Route::DEFAULT
};

/// `GET /v0.1/servers/{name}/versions`: the server's one (current) version.
pub async fn versions(
    state: &AppState,
    req: &ApiRequest,
    caller: Caller,
) -> AppResult<ApiResponse> {
    let q = query::parse(&req.raw_query, ONE_KEYS)?;
    query::flag(&q, "include_deleted")?;
    let (_, tool) = named(state, req, caller).await?;
    let e = entry(&state.config.registry_namespace, &tool)
        .ok_or_else(|| AppError::Internal("a remote tool has no remote configuration".into()))?;
    Ok(json_response(
        &json!({"servers": [e], "metadata": {"count": 1}}),
    ))
}

pub const REGISTRY_SERVER_VERSION: Route = Route {
    method: "GET",
    path: "/v0.1/servers/{name}/versions/{version}",
    function: "registry-server-version",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "MCP Registry API: one version of a server (or latest)",
        tag: "registry",
        response: Content::Json("RegistryServerResponse"),
        query: &[INCLUDE_DELETED],
        problems: table::READ,
        ..Operation::DEFAULT
    },
    iam: REGISTRY_IAM,
    ..Route::DEFAULT
};

/// `GET /v0.1/servers/{name}/versions/{version}`: the version, or `latest`.
pub async fn version(state: &AppState, req: &ApiRequest, caller: Caller) -> AppResult<ApiResponse> {
    let q = query::parse(&req.raw_query, ONE_KEYS)?;
    query::flag(&q, "include_deleted")?;
    let raw = req.path_param("version");
    let wanted = percent_decode(raw);
    let (name, tool) = named(state, req, caller).await?;
    let current = version_of(&tool);
    match wanted.as_deref() {
        Some("latest") => {}
        Some(v) if v == current => {}
        _ => {
            return Err(AppError::NotFound(format!(
                "{name} has no version {:?}; its only version is {current}",
                raw.chars().take(100).collect::<String>()
            )))
        }
    }
    let e = entry(&state.config.registry_namespace, &tool)
        .ok_or_else(|| AppError::Internal("a remote tool has no remote configuration".into()))?;
    Ok(json_response(&e))
}

pub const REGISTRY_SERVERS_LIST_PREFLIGHT: Route = Route {
    method: "OPTIONS",
    path: "/v0.1/servers",
    function: "registry-servers-list-preflight",
    access: Access::Public,
    openapi: PREFLIGHT_OPERATION,
    iam: PREFLIGHT_IAM,
    ..Route::DEFAULT
};

pub const REGISTRY_SERVER_VERSIONS_PREFLIGHT: Route = Route {
    method: "OPTIONS",
    path: "/v0.1/servers/{name}/versions",
    function: "registry-server-versions-preflight",
    access: Access::Public,
    openapi: PREFLIGHT_OPERATION,
    iam: PREFLIGHT_IAM,
    ..Route::DEFAULT
};

pub const REGISTRY_SERVER_VERSION_PREFLIGHT: Route = Route {
    method: "OPTIONS",
    path: "/v0.1/servers/{name}/versions/{version}",
    function: "registry-server-version-preflight",
    access: Access::Public,
    openapi: PREFLIGHT_OPERATION,
    iam: PREFLIGHT_IAM,
    ..Route::DEFAULT
};

/// `OPTIONS /v0.1/…`: a CORS preflight, answered without credentials (browsers send none).
pub async fn preflight(
    _state: &AppState,
    _req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    // The dispatcher adds `Access-Control-Allow-Origin` (see `table::cors`).
    Ok(ApiResponse::no_content()
        .with_header("access-control-allow-methods", CORS_ALLOW_METHODS)
        .with_header("access-control-allow-headers", CORS_ALLOW_HEADERS)
        .with_header("access-control-max-age", "86400"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_is_strict_and_single() {
        assert_eq!(
            percent_decode("io.toolreg.local%2Fgithub").as_deref(),
            Some("io.toolreg.local/github")
        );
        assert_eq!(percent_decode("a%252Fb").as_deref(), Some("a%2Fb"));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("a%2"), None);
        assert_eq!(percent_decode("a%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }

    #[test]
    fn cut_keeps_within_the_limit() {
        assert_eq!(cut("short", 100), "short");
        let long = "x".repeat(150);
        assert_eq!(cut(&long, 100).chars().count(), 100);
    }
}
