//! The OpenAPI 3.1 document, generated from the route table: every route is an operation, and
//! the match below is exhaustive, so a new route does not compile until it is documented.

use crate::routes::{RouteId, ROUTES};
use serde_json::{json, Map, Value};

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// How one operation is documented.
struct Op {
    summary: &'static str,
    tag: &'static str,
    auth: bool,
    body: Option<&'static str>,
    ok: (u16, Option<&'static str>),
    query: Vec<Value>,
    problems: &'static [u16],
}

fn q(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

fn page_params() -> Vec<Value> {
    vec![
        q(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
            "Page size.",
        ),
        q(
            "cursor",
            json!({"type": "string", "minLength": 1, "maxLength": 2048}),
            "Opaque cursor from a previous page's next_cursor.",
        ),
    ]
}

fn op(id: RouteId) -> Op {
    use RouteId::*;
    let tool_list_params = {
        let mut p = vec![
            q(
                "tool_type",
                json!({"type": "string", "enum": ["function", "remote"]}),
                "Only tools of this type.",
            ),
            q(
                "risk_level",
                json!({"type": "string", "enum": ["low", "medium", "high", "critical"]}),
                "Only tools of this risk level.",
            ),
            q(
                "is_active",
                json!({"type": "string", "enum": ["true", "false"]}),
                "Only active or inactive tools.",
            ),
            q(
                "q",
                json!({"type": "string", "minLength": 1, "maxLength": 100}),
                "Case-insensitive text in name, display name or description.",
            ),
        ];
        p.extend(page_params());
        p
    };
    let audit_params = {
        let mut p = vec![
            q(
                "actor_user_id",
                json!({"type": "string", "minLength": 1, "maxLength": 128}),
                "Events by this user.",
            ),
            q(
                "action",
                json!({"type": "string", "minLength": 1, "maxLength": 128}),
                "e.g. tool.create, auth.login.",
            ),
            q(
                "target_id",
                json!({"type": "string", "minLength": 1, "maxLength": 128}),
                "Events about this tool, user or token family.",
            ),
            q(
                "outcome",
                json!({"type": "string", "enum": ["success", "failure"]}),
                "Outcome.",
            ),
            q(
                "from_timestamp",
                json!({"type": "string", "format": "date-time"}),
                "Inclusive lower bound (RFC 3339).",
            ),
            q(
                "to_timestamp",
                json!({"type": "string", "format": "date-time"}),
                "Inclusive upper bound (RFC 3339).",
            ),
        ];
        p.extend(page_params());
        p
    };
    const READ: &[u16] = &[400, 401, 404, 503];
    const WRITE: &[u16] = &[400, 401, 403, 404, 409, 412, 413, 415, 422, 503];
    match id {
        Health => Op {
            summary: "Liveness",
            tag: "meta",
            auth: false,
            body: None,
            ok: (200, Some("Health")),
            query: vec![],
            problems: &[],
        },
        OpenApi => Op {
            summary: "This document",
            tag: "meta",
            auth: false,
            body: None,
            ok: (200, None),
            query: vec![],
            problems: &[],
        },
        Docs => Op {
            summary: "Interactive API documentation (HTML)",
            tag: "meta",
            auth: false,
            body: None,
            ok: (200, None),
            query: vec![],
            problems: &[],
        },
        AuthLogin => Op {
            summary: "Log in with username and password",
            tag: "auth",
            auth: false,
            body: Some("LoginRequest"),
            ok: (200, Some("TokenPair")),
            query: vec![],
            problems: &[400, 401, 413, 415, 422, 429, 503],
        },
        AuthRefresh => Op {
            summary:
                "Exchange a refresh token for a new pair (single use; reuse revokes the session)",
            tag: "auth",
            auth: false,
            body: Some("RefreshRequest"),
            ok: (200, Some("TokenPair")),
            query: vec![],
            problems: &[400, 401, 413, 415, 422, 503],
        },
        AuthMe => Op {
            summary: "The caller, from the access token",
            tag: "auth",
            auth: true,
            body: None,
            ok: (200, Some("Me")),
            query: vec![],
            problems: &[401],
        },
        AuthElevate => Op {
            summary: "Re-enter the password for a 5-minute elevated token",
            tag: "auth",
            auth: true,
            body: Some("ElevateRequest"),
            ok: (200, Some("ElevatedToken")),
            query: vec![],
            problems: &[400, 401, 403, 413, 415, 422, 429, 503],
        },
        ToolsCreate => Op {
            summary: "Create a function tool, or a remote tool whose probe passes",
            tag: "tools",
            auth: true,
            body: Some("CreateTool"),
            ok: (201, Some("Tool")),
            query: vec![],
            problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        },
        ToolsList => Op {
            summary: "List tools, sorted by name",
            tag: "tools",
            auth: true,
            body: None,
            ok: (200, Some("ToolPage")),
            query: tool_list_params,
            problems: &[400, 401, 503],
        },
        ToolsGet => Op {
            summary: "One tool",
            tag: "tools",
            auth: true,
            body: None,
            ok: (200, Some("Tool")),
            query: vec![],
            problems: READ,
        },
        ToolsUpdate => Op {
            summary: "Change a tool (connection changes re-probe; a failed probe changes nothing)",
            tag: "tools",
            auth: true,
            body: Some("UpdateTool"),
            ok: (200, Some("Tool")),
            query: vec![],
            problems: &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503],
        },
        ToolsActivate => Op {
            summary: "Activate (idempotent)",
            tag: "tools",
            auth: true,
            body: None,
            ok: (200, Some("Tool")),
            query: vec![],
            problems: WRITE,
        },
        ToolsDeactivate => Op {
            summary: "Deactivate (idempotent)",
            tag: "tools",
            auth: true,
            body: None,
            ok: (200, Some("Tool")),
            query: vec![],
            problems: WRITE,
        },
        ToolsDelete => Op {
            summary: "Delete a tool and its probe history (elevated token)",
            tag: "tools",
            auth: true,
            body: None,
            ok: (204, None),
            query: vec![],
            problems: &[400, 401, 403, 404, 409, 412, 503],
        },
        ToolsTestConnection => Op {
            summary: "Probe a server without storing a tool",
            tag: "tools",
            auth: true,
            body: Some("TestConnection"),
            ok: (200, Some("ProbeRecord")),
            query: vec![],
            problems: &[400, 401, 403, 413, 415, 422, 429, 503],
        },
        ToolsReprobe => Op {
            summary: "Probe a remote tool now and record the result",
            tag: "tools",
            auth: true,
            body: None,
            ok: (200, Some("Tool")),
            query: vec![],
            problems: &[400, 401, 403, 404, 409, 412, 429, 503],
        },
        ToolsProbes => Op {
            summary: "A tool's probe history, newest first",
            tag: "tools",
            auth: true,
            body: None,
            ok: (200, Some("ProbePage")),
            query: page_params(),
            problems: READ,
        },
        AuditList => Op {
            summary: "Audit events, newest first",
            tag: "audit",
            auth: true,
            body: None,
            ok: (200, Some("AuditPage")),
            query: audit_params,
            problems: &[400, 401, 403, 503],
        },
    }
}

fn problem_response(status: u16) -> Value {
    let description = match status {
        400 => "Malformed request (bad JSON, query parameter or cursor)",
        401 => "Missing, invalid or wrong kind of token",
        403 => "Authenticated but not allowed (or an elevated token is required)",
        404 => "No such resource or route",
        405 => "Method not allowed",
        409 => "Conflict (duplicate name, concurrent change, nothing to probe)",
        412 => "If-Match does not match the current ETag",
        413 => "Body too large",
        415 => "Body is not JSON",
        422 => "Invalid values (errors[] points at each), or a failed probe (probe)",
        429 => "Rate limited",
        503 => "A backing service did not answer in time",
        _ => "Error",
    };
    let mut headers = json!({"X-Request-Id": {"$ref": "#/components/headers/RequestId"}});
    if status == 429 {
        for h in [
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ] {
            headers[h] = json!({"schema": {"type": "integer"}});
        }
    }
    if status == 503 {
        headers["Retry-After"] = json!({"schema": {"type": "integer"}});
    }
    if status == 401 {
        headers["WWW-Authenticate"] = json!({"schema": {"type": "string"}});
    }
    if status == 405 {
        headers["Allow"] = json!({"schema": {"type": "string"}});
    }
    json!({"description": description, "headers": headers,
           "content": {"application/problem+json": {"schema": r("Problem")}}})
}

fn operation(id: RouteId, function: &str, path: &str) -> Value {
    let o = op(id);
    let mut responses = Map::new();
    let mut ok_headers = json!({"X-Request-Id": {"$ref": "#/components/headers/RequestId"}});
    if o.ok.1 == Some("Tool") {
        ok_headers["ETag"] = json!({"schema": {"type": "string"}, "description": "The tool's version, for If-Match"});
    }
    if id == RouteId::ToolsCreate {
        ok_headers["Location"] = json!({"schema": {"type": "string"}});
    }
    let mut ok = json!({"description": o.summary, "headers": ok_headers});
    match (id, o.ok.1) {
        (RouteId::Docs, _) => ok["content"] = json!({"text/html": {"schema": {"type": "string"}}}),
        (RouteId::OpenApi, _) => {
            ok["content"] = json!({"application/json": {"schema": {"type": "object"}}})
        }
        (_, Some(schema)) => ok["content"] = json!({"application/json": {"schema": r(schema)}}),
        _ => {}
    }
    responses.insert(o.ok.0.to_string(), ok);
    for s in o.problems {
        responses.insert(s.to_string(), problem_response(*s));
    }
    responses.insert("500".into(), problem_response(500));
    let mut params: Vec<Value> = o.query;
    if path.contains("{id}") {
        params.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "Tool id (UUID)"}));
    }
    if matches!(
        id,
        RouteId::ToolsUpdate
            | RouteId::ToolsActivate
            | RouteId::ToolsDeactivate
            | RouteId::ToolsDelete
            | RouteId::ToolsReprobe
    ) {
        params.push(json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"}, "description": "Only act if the tool's ETag still matches"}));
    }
    let mut v = json!({
        "operationId": function,
        "summary": o.summary,
        "tags": [o.tag],
        "responses": responses,
        "security": if o.auth { json!([{"bearer": []}]) } else { json!([]) },
    });
    if !params.is_empty() {
        v["parameters"] = Value::Array(params);
    }
    if let Some(b) = o.body {
        v["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": r(b)}}});
    }
    v
}

fn schemas() -> Value {
    let ts = json!({"type": "string", "format": "date-time"});
    let name = json!({"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$", "minLength": 1, "maxLength": 64});
    let risk = json!({"type": "string", "enum": ["low", "medium", "high", "critical"]});
    let transport = json!({"type": "string", "enum": ["auto", "streamable_http", "sse"]});
    let headers = json!({"type": "object", "maxProperties": 20,
                         "propertyNames": {"pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", "minLength": 1, "maxLength": 128},
                         "additionalProperties": {"type": "string", "maxLength": 4096, "pattern": "^[\\t\\x20-\\x7e]*$"},
                         "description": "Header name to value; values are sealed with KMS and never returned. Transport headers (Host, Content-Type, Accept, Mcp-Session-Id, ...) are refused"});
    let display = json!({"type": "string", "minLength": 1, "maxLength": 128, "pattern": "\\S"});
    let url = json!({"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2048, "description": "MCP endpoint; https (http only in local development)"});
    let input_schema = json!({"type": "object", "required": ["type"], "properties": {"type": {"const": "object"}},
                              "description": "A JSON Schema (2020-12 unless $schema says otherwise) describing an object"});
    let cred = json!({"type": "string", "minLength": 1, "maxLength": 1024});
    let probe_outcome_props = json!({
        "status": {"type": "string", "enum": ["passed", "failed"]},
        "detected_transport": {"type": ["string", "null"], "enum": ["streamable_http", "sse", null]},
        "requires_auth": {"type": "boolean"},
        "auth_challenge": {"oneOf": [{"type": "null"}, r("AuthChallenge")]},
        "protocol_version": {"type": ["string", "null"]},
        "server_name": {"type": ["string", "null"]},
        "server_version": {"type": ["string", "null"]},
        "tool_count": {"type": ["integer", "null"], "minimum": 0},
        "tool_names": {"type": "array", "items": {"type": "string"}},
        "tools_sha256": {"type": ["string", "null"]},
        "response_time_ms": {"type": "integer", "minimum": 0},
        "error": {"type": ["string", "null"]},
    });
    let mut record_props = probe_outcome_props.clone();
    record_props["id"] = json!({"type": "string"});
    record_props["probed_at"] = ts.clone();
    record_props["valid_until"] = ts.clone();
    json!({
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail", "request_id"], "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "request_id": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "required": ["pointer", "detail"], "properties": {
                "pointer": {"type": "string"}, "detail": {"type": "string"}}}},
            "probe": r("ProbeOutcome")}},
        "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}, "service": {"type": "string"}, "version": {"type": "string"}}},
        "LoginRequest": {"type": "object", "additionalProperties": false, "required": ["username", "password"],
                         "properties": {"username": cred, "password": cred}},
        "RefreshRequest": {"type": "object", "additionalProperties": false, "required": ["refresh_token"], "properties": {"refresh_token": cred}},
        "ElevateRequest": {"type": "object", "additionalProperties": false, "required": ["password"], "properties": {"password": cred}},
        "TokenPair": {"type": "object", "required": ["token_type", "access_token", "access_token_expires_at", "refresh_token", "refresh_token_expires_at"],
                      "properties": {"token_type": {"const": "bearer"}, "access_token": {"type": "string"}, "access_token_expires_at": ts,
                                     "refresh_token": {"type": "string"}, "refresh_token_expires_at": ts}},
        "ElevatedToken": {"type": "object", "required": ["token_type", "elevated_token", "elevated_token_expires_at"],
                          "properties": {"token_type": {"const": "bearer"}, "elevated_token": {"type": "string"}, "elevated_token_expires_at": ts}},
        "Me": {"type": "object", "required": ["id", "username", "role"], "properties": {"id": {"type": "string"}, "username": {"type": "string"}, "role": {"type": "string", "enum": ["admin", "user"]}}},
        "CreateTool": {"oneOf": [r("CreateFunctionTool"), r("CreateRemoteTool")],
                       "discriminator": {"propertyName": "tool_type", "mapping": {
                           "function": "#/components/schemas/CreateFunctionTool", "remote": "#/components/schemas/CreateRemoteTool"}}},
        "CreateFunctionTool": {"type": "object", "additionalProperties": false, "required": ["tool_type", "name", "risk_level", "input_schema"], "properties": {
            "tool_type": {"const": "function"}, "name": name,
            "display_name": display, "description": {"type": "string", "maxLength": 4000},
            "risk_level": risk, "is_active": {"type": "boolean"}, "input_schema": input_schema}},
        "CreateRemoteTool": {"type": "object", "additionalProperties": false, "required": ["tool_type", "name", "risk_level", "server_url"], "properties": {
            "tool_type": {"const": "remote"}, "name": name,
            "display_name": display, "description": {"type": "string", "maxLength": 4000},
            "risk_level": risk, "is_active": {"type": "boolean"},
            "server_url": url, "transport_preference": transport, "static_headers": headers, "requires_per_user_auth": {"type": "boolean"}}},
        "UpdateTool": {"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {
            "name": name, "display_name": display, "description": {"type": "string", "maxLength": 4000},
            "risk_level": risk, "input_schema": input_schema, "server_url": url,
            "transport_preference": transport, "static_headers": {"oneOf": [headers, {"type": "null"}]}, "requires_per_user_auth": {"type": "boolean"}}},
        "TestConnection": {"type": "object", "additionalProperties": false, "required": ["server_url"], "properties": {
            "server_url": url, "transport_preference": transport, "static_headers": headers}},
        "Tool": {"type": "object", "required": ["id", "tool_type", "name", "display_name", "description", "risk_level", "is_active", "version", "created_at", "updated_at", "created_by", "updated_by"], "properties": {
            "id": {"type": "string"}, "tool_type": {"type": "string", "enum": ["function", "remote"]}, "name": {"type": "string"},
            "display_name": {"type": "string"}, "description": {"type": "string"}, "risk_level": risk, "is_active": {"type": "boolean"},
            "version": {"type": "integer", "minimum": 1}, "created_at": ts, "updated_at": ts, "created_by": {"type": "string"}, "updated_by": {"type": "string"},
            "input_schema": {"type": "object"}, "server_url": {"type": "string"}, "transport_preference": transport,
            "static_header_names": {"type": "array", "items": {"type": "string"}}, "requires_per_user_auth": {"type": "boolean"},
            "probe": {"oneOf": [{"type": "null"}, r("ProbeRecord")]}}},
        "ToolPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {"items": {"type": "array", "items": r("Tool")}, "next_cursor": {"type": ["string", "null"]}}},
        "AuthChallenge": {"type": "object", "properties": {"www_authenticate": {"type": ["string", "null"]}, "resource_metadata_url": {"type": ["string", "null"]},
            "authorization_servers": {"type": "array", "items": {"type": "string"}}, "resource": {"type": ["string", "null"]}}},
        "ProbeOutcome": {"type": "object", "required": ["status", "requires_auth", "response_time_ms"], "properties": probe_outcome_props},
        "ProbeRecord": {"type": "object", "required": ["id", "probed_at", "valid_until", "status", "requires_auth", "response_time_ms"], "properties": record_props},
        "ProbePage": {"type": "object", "required": ["items", "next_cursor"], "properties": {"items": {"type": "array", "items": r("ProbeRecord")}, "next_cursor": {"type": ["string", "null"]}}},
        "AuditEvent": {"type": "object", "required": ["id", "timestamp", "action", "outcome"], "properties": {
            "id": {"type": "string"}, "timestamp": ts, "action": {"type": "string"}, "outcome": {"type": "string", "enum": ["success", "failure"]},
            "actor_user_id": {"type": ["string", "null"]}, "actor_username": {"type": ["string", "null"]}, "target_type": {"type": ["string", "null"]},
            "target_id": {"type": ["string", "null"]}, "source_ip": {"type": ["string", "null"]}, "user_agent": {"type": ["string", "null"]},
            "request_id": {"type": ["string", "null"]}, "details": {}}},
        "AuditPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {"items": {"type": "array", "items": r("AuditEvent")}, "next_cursor": {"type": ["string", "null"]}}},
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = operation(route.id, route.function, route.path);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "toolreg",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A registry of AI-agent tools: function tools described by JSON Schema and remote MCP servers verified by probing. Errors are RFC 9457 problem+json."
        },
        "tags": [
            {"name": "auth", "description": "Tokens"},
            {"name": "tools", "description": "The catalog"},
            {"name": "audit", "description": "The audit log"},
            {"name": "meta", "description": "Health and documentation"}
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "headers": {"RequestId": {"schema": {"type": "string"}, "description": "Echoes a well-formed incoming X-Request-Id, else a new id"}},
            "schemas": schemas(),
        },
    })
}
