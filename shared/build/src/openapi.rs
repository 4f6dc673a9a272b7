//! The OpenAPI 3.1 document, rendered from the route table: every row is an operation, documented
//! by the row's `openapi` field.

use serde_json::{json, Map, Value};
use toolreg_core::domain::agent::{CATALOG_READ, SCOPES};
use toolreg_core::routes::oauth::TOKEN_PATH;
use toolreg_core::routes::table::{Access, Content, Route};
use toolreg_core::routes::ROUTES;

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
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

/// A request schema named `…Form` is sent form-encoded (the OAuth token endpoint); every other
/// body is JSON.
fn is_form(request: Option<&str>) -> bool {
    request.is_some_and(|r| r.ends_with("Form"))
}

fn oauth_error_response(status: u16) -> Value {
    let mut headers = json!({"X-Request-Id": {"$ref": "#/components/headers/RequestId"}});
    if status == 401 {
        headers["WWW-Authenticate"] = json!({"schema": {"type": "string"}});
    }
    if status == 429 {
        headers["Retry-After"] = json!({"schema": {"type": "integer"}});
    }
    json!({"description": "An RFC 6749 §5.2 error", "headers": headers,
           "content": {"application/json": {"schema": r("OAuthError")}}})
}

fn operation(route: &Route) -> Value {
    let o = &route.openapi;
    let mut responses = Map::new();
    let mut ok_headers = json!({"X-Request-Id": {"$ref": "#/components/headers/RequestId"}});
    if o.response == Content::Json("Tool") {
        ok_headers["ETag"] = json!({"schema": {"type": "string"}, "description": "The tool's version, for If-Match"});
    }
    if o.location {
        ok_headers["Location"] = json!({"schema": {"type": "string"}});
    }
    let mut ok = json!({"description": o.summary, "headers": ok_headers});
    match o.response {
        Content::Html => ok["content"] = json!({"text/html": {"schema": {"type": "string"}}}),
        Content::Asset => {
            ok["content"] = json!({"text/javascript": {"schema": {"type": "string"}},
                                   "text/css": {"schema": {"type": "string"}}})
        }
        Content::AnyJson => {
            ok["content"] = json!({"application/json": {"schema": {"type": "object"}}})
        }
        Content::Json(schema) => ok["content"] = json!({"application/json": {"schema": r(schema)}}),
        Content::None => {}
    }
    if o.request == Some("PolicyDocument") {
        // Storing a policy is idempotent by content: the same canonical document answers the
        // version that already holds it, with 200 and no new `Location`.
        let mut same = ok.clone();
        same["description"] = json!(
            "The same canonical document was already stored: that version (`created: false`)"
        );
        same["headers"] = json!({"X-Request-Id": {"$ref": "#/components/headers/RequestId"},
                                 "Content-Location": {"schema": {"type": "string"}}});
        responses.insert("200".into(), same);
    }
    responses.insert(o.status.to_string(), ok);
    if o.request == Some("JsonRpcMessage") {
        // MCP: a notification is accepted with no body; a JSON-RPC error travels as JSON-RPC,
        // with the status the protocol revision maps its code to.
        responses.insert(
            "202".into(),
            json!({"description": "A notification (or a posted response) was accepted",
                   "headers": {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}}),
        );
        for (s, what) in [
            (400, "A malformed message, an invalid envelope or params, routing headers that do not match the body (-32020), or an unsupported protocol revision (-32022)"),
            (404, "A method this server does not offer (2026-07-28)"),
            (413, "Body too large"),
        ] {
            responses.insert(
                s.to_string(),
                json!({"description": what,
                       "headers": {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}},
                       "content": {"application/json": {"schema": r("JsonRpcResponse")}}}),
            );
        }
    }
    if is_form(o.request) {
        // The OAuth token endpoint answers RFC 6749 §5.2 errors, which OAuth clients parse.
        for s in [400, 401, 429, 500, 503] {
            responses.insert(s.to_string(), oauth_error_response(s));
        }
    } else {
        for s in o.problems {
            responses.insert(s.to_string(), problem_response(*s));
        }
        responses.insert("500".into(), problem_response(500));
    }
    let mut params: Vec<Value> = o
        .query
        .iter()
        .map(|p| {
            let schema: Value = serde_json::from_str(p.schema).expect("a query schema is JSON");
            json!({"name": p.name, "in": "query", "required": false, "schema": schema, "description": p.description})
        })
        .collect();
    for name in route
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    {
        let registry = route.path.starts_with("/v0.1/");
        let description = match name {
            "name" if registry => {
                "The server's reverse-DNS name, URL-encoded (io.toolreg.local%2Fgithub)".to_owned()
            }
            "version" if registry => "The server version, or latest".to_owned(),
            "key_id" => "API key id (its public prefix)".to_owned(),
            "version" => "Policy version number (1, 2, ...)".to_owned(),
            "jti" => "The credential's jti (its decision id)".to_owned(),
            "asset" => "The file's name".to_owned(),
            _ => format!("The {} id", o.tag.trim_end_matches('s')),
        };
        params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description}));
    }
    if o.if_match {
        params.push(json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"}, "description": "Only act if the resource's ETag still matches"}));
    }
    let mut v = json!({
        "operationId": route.function,
        "summary": o.summary,
        "tags": [o.tag],
        "responses": responses,
        "security": match route.access {
            Access::Public => json!([]),
            Access::AnyPrincipal => json!([{"bearer": []}, {"apiKey": []}, {"oauth2": [CATALOG_READ]}]),
            Access::Scoped(scope) => json!([{"bearer": []}, {"apiKey": []}, {"oauth2": [scope]}]),
            _ => json!([{"bearer": []}]),
        },
    });
    if !params.is_empty() {
        v["parameters"] = Value::Array(params);
    }
    if let Some(b) = o.request {
        let media = if is_form(o.request) {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        v["requestBody"] = json!({"required": true, "content": {media: {"schema": r(b)}}});
        if b == "PolicyDocument" {
            // Policies may be uploaded as YAML too.
            v["requestBody"]["content"]["application/yaml"] =
                json!({"schema": r("PolicyDocument")});
        }
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
    let tool_tags = json!({"type": "array", "maxItems": 32, "uniqueItems": true,
                           "items": {"type": "string", "pattern": "^[a-z0-9._:/-]{1,64}$"}});
    let username = json!({"type": "string", "pattern": "^[A-Za-z0-9._@-]{3,64}$", "minLength": 3, "maxLength": 64,
                          "description": "Unique case-insensitively"});
    let role = json!({"type": "string", "enum": ["admin", "user"]});
    let password = json!({"type": "string", "minLength": 12, "maxLength": 256, "description": "Never returned, logged or audited"});
    let probe_outcome_props = json!({
        "status": {"type": "string", "enum": ["passed", "failed"]},
        "detected_transport": {"type": ["string", "null"], "enum": ["streamable_http", "sse", null]},
        "requires_auth": {"type": "boolean"},
        "auth_challenge": {"oneOf": [{"type": "null"}, r("AuthChallenge")]},
        "protocol_version": {"type": ["string", "null"], "description": "The protocol revision the probe spoke with the server (2026-07-28, or the one the initialize handshake settled on)"},
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
    // The users' schemas, apart: one json! of every schema passes the macro recursion limit.
    let users = json!({
        "ChangePassword": {"type": "object", "additionalProperties": false, "required": ["current_password", "new_password"],
                           "properties": {"current_password": cred, "new_password": password}},
        "LogoutRequest": {"type": "object", "additionalProperties": false, "required": ["refresh_token"], "properties": {"refresh_token": cred}},
        "CreateUser": {"type": "object", "additionalProperties": false, "required": ["username", "role", "password"], "properties": {
            "username": username, "role": role, "display_name": display, "password": password}},
        "UpdateUser": {"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {"display_name": display, "role": role}},
        "ResetPassword": {"type": "object", "additionalProperties": false, "required": ["new_password"], "properties": {"new_password": password}},
        "User": {"type": "object", "required": ["id", "username", "display_name", "role", "disabled", "totp_enabled", "version", "created_at", "updated_at"], "properties": {
            "id": {"type": "string"}, "username": {"type": "string"}, "display_name": {"type": "string"}, "role": role,
            "disabled": {"type": "boolean"}, "totp_enabled": {"type": "boolean", "description": "A TOTP authenticator is active (an elevated admin can remove it: DELETE /api/v1/users/{id}/mfa/totp)"}, "version": {"type": "integer", "minimum": 1}, "created_at": ts, "updated_at": ts}},
        "UserPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {"items": {"type": "array", "items": r("User")}, "next_cursor": {"type": ["string", "null"]}}}
    });
    let code =
        json!({"type": "string", "pattern": "^[0-9]{6}$", "description": "A TOTP code: 6 digits"});
    let mfa = json!({
        "LoginResult": {"oneOf": [r("TokenPair"), r("MfaChallenge")]},
        "MfaChallenge": {"type": "object", "required": ["mfa_required", "mfa_token", "mfa_token_expires_at"], "properties": {
            "mfa_required": {"const": true}, "mfa_token": {"type": "string", "description": "Single use, 5 minutes: send it with a code to /auth/login/mfa"},
            "mfa_token_expires_at": ts}},
        "LoginMfaRequest": {"type": "object", "additionalProperties": false, "required": ["mfa_token", "code"], "properties": {"mfa_token": cred, "code": code}},
        "TotpCode": {"type": "object", "additionalProperties": false, "required": ["code"], "properties": {"code": code}},
        "TotpEnrol": {"type": "object", "additionalProperties": false, "required": ["current_password"], "properties": {"current_password": cred}},
        "TotpEnrolment": {"type": "object", "required": ["secret", "otpauth_uri", "algorithm", "digits", "period", "expires_at"], "properties": {
            "secret": {"type": "string", "description": "Base32; shown in this answer only"}, "otpauth_uri": {"type": "string"},
            "algorithm": {"const": "SHA1"}, "digits": {"const": 6}, "period": {"const": 30}, "expires_at": ts}},
        "TotpConfirmed": {"type": "object", "required": ["totp_enabled", "token_type", "access_token", "access_token_expires_at", "refresh_token", "refresh_token_expires_at"],
                          "properties": {"totp_enabled": {"const": true}, "token_type": {"const": "bearer"}, "access_token": {"type": "string"}, "access_token_expires_at": ts,
                                         "refresh_token": {"type": "string"}, "refresh_token_expires_at": ts}},
    });
    // Drift and discovery schemas, apart for the same reason.
    let drift_and_auth = json!({
        "ToolDrift": {"type": "object", "required": ["detected_at", "added", "removed", "changed", "partial", "tools_sha256"], "properties": {
            "detected_at": ts, "added": {"type": "array", "items": {"type": "string"}}, "removed": {"type": "array", "items": {"type": "string"}},
            "changed": {"type": "array", "items": {"type": "string"}, "description": "Tools whose description or input schema changed"},
            "partial": {"type": "boolean", "description": "The list is longer than the tools compared by name; the hashes still differ"},
            "tools_sha256": {"type": "string", "description": "tools_sha256 of the list found: what approve-tools accepts"}}},
        "AuthServerMetadata": {"type": "object", "required": ["issuer", "metadata_url", "pkce_s256", "client_id_metadata_documents", "dynamic_registration"], "properties": {
            "issuer": {"type": "string"}, "metadata_url": {"type": "string"}, "pkce_s256": {"type": "boolean"},
            "client_id_metadata_documents": {"type": "boolean"}, "dynamic_registration": {"type": "boolean"}}}
    });
    let mut all = json!({
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
        "ElevateRequest": {"type": "object", "additionalProperties": false, "required": ["password"], "properties": {"password": cred,
                           "code": {"type": "string", "pattern": "^[0-9]{6}$", "description": "The current TOTP code; required when the admin has TOTP"}}},
        "TokenPair": {"type": "object", "required": ["token_type", "access_token", "access_token_expires_at", "refresh_token", "refresh_token_expires_at"],
                      "properties": {"token_type": {"const": "bearer"}, "access_token": {"type": "string"}, "access_token_expires_at": ts,
                                     "refresh_token": {"type": "string"}, "refresh_token_expires_at": ts}},
        "ElevatedToken": {"type": "object", "required": ["token_type", "elevated_token", "elevated_token_expires_at"],
                          "properties": {"token_type": {"const": "bearer"}, "elevated_token": {"type": "string"}, "elevated_token_expires_at": ts}},
        "CreateTool": {"oneOf": [r("CreateFunctionTool"), r("CreateRemoteTool")],
                       "discriminator": {"propertyName": "tool_type", "mapping": {
                           "function": "#/components/schemas/CreateFunctionTool", "remote": "#/components/schemas/CreateRemoteTool"}}},
        "CreateFunctionTool": {"type": "object", "additionalProperties": false, "required": ["tool_type", "name", "risk_level", "input_schema"], "properties": {
            "tool_type": {"const": "function"}, "name": name,
            "display_name": display, "description": {"type": "string", "maxLength": 4000},
            "risk_level": risk, "is_active": {"type": "boolean"}, "tags": tool_tags, "input_schema": input_schema}},
        "CreateRemoteTool": {"type": "object", "additionalProperties": false, "required": ["tool_type", "name", "risk_level", "server_url"], "properties": {
            "tool_type": {"const": "remote"}, "name": name,
            "display_name": display, "description": {"type": "string", "maxLength": 4000},
            "risk_level": risk, "is_active": {"type": "boolean"}, "tags": tool_tags,
            "server_url": url, "transport_preference": transport, "static_headers": headers, "requires_per_user_auth": {"type": "boolean"}}},
        "UpdateTool": {"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {
            "name": name, "display_name": display, "description": {"type": "string", "maxLength": 4000},
            "risk_level": risk, "tags": tool_tags, "input_schema": input_schema, "server_url": url,
            "transport_preference": transport, "static_headers": {"oneOf": [headers, {"type": "null"}]}, "requires_per_user_auth": {"type": "boolean"}}},
        "TestConnection": {"type": "object", "additionalProperties": false, "required": ["server_url"], "properties": {
            "server_url": url, "transport_preference": transport, "static_headers": headers}},
        "Tool": {"type": "object", "required": ["id", "tool_type", "name", "display_name", "description", "risk_level", "is_active", "version", "created_at", "updated_at", "created_by", "updated_by"], "properties": {
            "id": {"type": "string"}, "tool_type": {"type": "string", "enum": ["function", "remote"]}, "name": {"type": "string"},
            "display_name": {"type": "string"}, "description": {"type": "string"}, "risk_level": risk, "is_active": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
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
    });
    if let (Some(all), Value::Object(users)) = (all.as_object_mut(), users) {
        all.extend(users);
    }
    if let (Some(all), Value::Object(mfa)) = (all.as_object_mut(), mfa) {
        all.extend(mfa);
    }
    if let (Some(all), Value::Object(agents)) = (all.as_object_mut(), agent_schemas()) {
        all.extend(agents);
    }
    if let (Some(all), Value::Object(policies)) = (all.as_object_mut(), policy_schemas()) {
        all.extend(policies);
    }
    if let (Some(all), Value::Object(registry)) = (all.as_object_mut(), registry_schemas()) {
        all.extend(registry);
    }
    if let (Some(all), Value::Object(more)) = (all.as_object_mut(), drift_and_auth) {
        all.extend(more);
    }
    let tool_more = json!({
        "drifted": {"type": "boolean", "description": "Remote tools: the tool list the server lists now differs from the approved one"},
        "approved_tools_sha256": {"type": ["string", "null"], "description": "tools_sha256 of the approved tool list (null until a probe listed tools)"},
        "tool_drift": {"oneOf": [{"type": "null"}, r("ToolDrift")]},
    });
    let challenge_more = json!({
        "resource_metadata_source": {"type": "string", "enum": ["challenge", "well_known_path", "well_known_root"]},
        "resource_matches": {"type": "boolean", "description": "The metadata's resource names the probed URL (RFC 9728 §3.3); a document that does not is not used"},
        "authorization_server": r("AuthServerMetadata"),
        "discovery_error": {"type": "string"},
    });
    for (schema, more) in [("Tool", tool_more), ("AuthChallenge", challenge_more)] {
        if let (Some(props), Value::Object(more)) =
            (all[schema]["properties"].as_object_mut(), more)
        {
            props.extend(more);
        }
    }
    all
}

/// Policies, access requests, decisions and credentials.
fn policy_schemas() -> Value {
    let ts = json!({"type": "string", "format": "date-time"});
    let nullable_ts = json!({"type": ["string", "null"], "format": "date-time"});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let pointer_list = json!({"type": "array", "items": {"type": "object", "required": ["pointer", "message"], "properties": {
        "pointer": {"type": "string"}, "message": {"type": "string"}}}});
    let verdict = json!({"type": "object", "properties": {"decision": {"type": "string", "enum": ["allow", "deny"]},
        "rationale": {"type": "string"}, "rule_id": {"type": ["string", "null"]}}});
    json!({
        "PolicyDocument": {"type": "object", "description": "A policy: `default` (deny|allow) and ordered `rules` (see the README)",
            "properties": {"default": {"type": "string", "enum": ["deny", "allow"]}, "rules": {"type": "array", "maxItems": 1000, "items": {"type": "object"}}}},
        "PolicyVersion": {"type": "object", "required": ["version", "sha256", "rules", "active", "warnings", "created_at", "created_by"], "properties": {
            "version": {"type": "integer", "minimum": 1}, "sha256": {"type": "string"}, "rules": {"type": "integer", "minimum": 0},
            "active": {"type": "boolean"}, "warnings": pointer_list, "created_at": ts, "created_by": {"type": "string"},
            "created": {"type": "boolean", "description": "POST: false when the same document was already stored (as this version)"},
            "document": {"type": "object"}}},
        "PolicyVersionPage": {"type": "object", "required": ["items", "next_cursor", "active_version"], "properties": {
            "items": {"type": "array", "items": r("PolicyVersion")}, "next_cursor": {"type": ["string", "null"]},
            "active_version": {"type": "integer", "minimum": 0}}},
        "Simulation": {"type": "object", "additionalProperties": false, "properties": {
            "document": {"oneOf": [{"type": "object"}, {"type": "string"}], "description": "A candidate policy (object, or JSON/YAML text)"},
            "version": {"type": "integer", "minimum": 1, "description": "Or a stored version"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}}},
        "SimulationResult": {"type": "object", "required": ["candidate_sha256", "replayed", "allow", "deny", "flipped", "flips"], "properties": {
            "candidate_sha256": {"type": "string"}, "replayed": {"type": "integer"}, "allow": {"type": "integer"}, "deny": {"type": "integer"},
            "flipped": {"type": "integer"}, "flips": {"type": "array", "items": {"type": "object", "properties": {
                "decision_id": {"type": "string"}, "timestamp": ts, "principal_id": {"type": "string"}, "tool_id": {"type": "string"},
                "tool_name": {"type": "string"}, "before": verdict, "after": verdict}}}}},
        "AccessRequest": {"type": "object", "additionalProperties": false, "properties": {
            "scopes": {"type": "array", "maxItems": 32, "items": {"type": "string", "pattern": "^[A-Za-z0-9._:/*-]{1,64}$"}},
            "purpose": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": "\\S"}}},
        "AccessGranted": {"type": "object", "required": ["decision", "rationale", "policy_sha256", "decision_id", "credential"], "properties": {
            "decision": {"const": "allow"}, "rationale": {"type": "string"}, "rule_id": {"type": ["string", "null"]},
            "policy_sha256": {"type": "string"}, "policy_version": {"type": "integer"}, "decision_id": {"type": "string"},
            "credential": {"type": "object", "required": ["token", "token_type", "audience", "scope", "expires_in", "expires_at"], "properties": {
                "token": {"type": "string", "description": "A JWT signed ES256; verify it with /.well-known/jwks.json"},
                "token_type": {"const": "Bearer"}, "audience": {"type": "string"}, "scope": {"type": "string"},
                "expires_in": {"type": "integer", "minimum": 1, "maximum": 3600}, "expires_at": ts}}}},
        "Decision": {"type": "object", "required": ["id", "timestamp", "principal_id", "tool_id", "decision", "rationale", "policy_sha256"], "properties": {
            "id": {"type": "string"}, "timestamp": ts, "principal_id": {"type": "string"}, "principal_name": {"type": "string"},
            "tool_id": {"type": "string"}, "tool_name": {"type": "string"}, "requested_scopes": strings, "granted_scopes": strings,
            "purpose": {"type": ["string", "null"]}, "source_ip": {"type": "string"}, "decision": {"type": "string", "enum": ["allow", "deny"]},
            "rationale": {"type": "string"}, "rule_id": {"type": ["string", "null"]}, "policy_version": {"type": "integer"},
            "policy_sha256": {"type": "string"}, "credential_expires_at": nullable_ts, "revoked_at": nullable_ts}},
        "DecisionPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {"items": {"type": "array", "items": r("Decision")}, "next_cursor": {"type": ["string", "null"]}}},
        "CredentialStatus": {"type": "object", "required": ["jti", "status", "subject", "tool_id"], "properties": {
            "jti": {"type": "string"}, "status": {"type": "string", "enum": ["active", "expired", "revoked"]},
            "subject": {"type": "string"}, "tool_id": {"type": "string"}, "scope": {"type": "string"},
            "expires_at": nullable_ts, "revoked_at": nullable_ts}},
    })
}

/// Agents, API keys and the OAuth token endpoint.
fn agent_schemas() -> Value {
    let ts = json!({"type": "string", "format": "date-time"});
    let nullable_ts = json!({"type": ["string", "null"], "format": "date-time"});
    let label = json!({"type": "string", "pattern": "^[a-z0-9._:/-]{1,64}$"});
    let labels = json!({"type": "array", "maxItems": 32, "uniqueItems": true, "items": label});
    let description = json!({"type": "string", "maxLength": 1000, "pattern": "^[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*$"});
    let agent_name = json!({"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{2,63}$", "description": "Unique; fixed once created"});
    let user_id = json!({"type": "string", "format": "uuid"});
    json!({
        "CreateAgent": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
            "name": agent_name, "description": description, "owner_user_id": user_id, "groups": labels, "tags": labels}},
        "UpdateAgent": {"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {
            "description": description, "owner_user_id": user_id, "groups": labels, "tags": labels}},
        "Agent": {"type": "object", "required": ["id", "name", "description", "owner_user_id", "groups", "tags", "disabled", "active_keys", "version", "created_at", "updated_at"], "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"}, "owner_user_id": {"type": "string"},
            "groups": {"type": "array", "items": {"type": "string"}}, "tags": {"type": "array", "items": {"type": "string"}},
            "disabled": {"type": "boolean"}, "active_keys": {"type": "integer", "minimum": 0}, "version": {"type": "integer", "minimum": 1},
            "created_at": ts, "updated_at": ts}},
        "AgentPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {"items": {"type": "array", "items": r("Agent")}, "next_cursor": {"type": ["string", "null"]}}},
        "CreateApiKey": {"type": "object", "additionalProperties": false, "properties": {
            "description": description, "expires_at": {"type": "string", "format": "date-time", "description": "In the future, within about three years; none: the key does not expire"}}},
        "ApiKey": {"type": "object", "required": ["id", "agent_id", "prefix", "status", "created_at"], "properties": {
            "id": {"type": "string"}, "agent_id": {"type": "string"}, "prefix": {"type": "string"}, "description": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": ["active", "expired", "revoked"]},
            "created_at": ts, "expires_at": nullable_ts, "last_used_at": nullable_ts, "revoked_at": nullable_ts}},
        "NewApiKey": {"allOf": [r("ApiKey"), {"type": "object", "required": ["key"], "properties": {
            "key": {"type": "string", "pattern": "^trk_[a-z2-7]{12}_[a-z2-7]{52}$", "description": "The secret: shown this once, never again"}}}]},
        "ApiKeyPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {"items": {"type": "array", "items": r("ApiKey")}, "next_cursor": {"type": ["string", "null"]}}},
        "TokenRequestForm": {"type": "object", "required": ["grant_type"], "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "scope": {"type": "string", "description": "Space-separated; none: every scope"},
            "client_id": {"type": "string", "description": "The agent id (or use HTTP Basic)"},
            "client_secret": {"type": "string", "description": "One of the agent's API keys (or use HTTP Basic)"}}},
        "OAuthToken": {"type": "object", "required": ["access_token", "token_type", "expires_in", "scope"], "properties": {
            "access_token": {"type": "string"}, "token_type": {"const": "Bearer"}, "expires_in": {"type": "integer", "minimum": 1}, "scope": {"type": "string"}}},
        "OAuthError": {"type": "object", "required": ["error"], "properties": {
            "error": {"type": "string", "enum": ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "temporarily_unavailable", "server_error"]},
            "error_description": {"type": "string"}}},
        "OAuthMetadata": {"type": "object", "required": ["issuer", "token_endpoint", "grant_types_supported"], "properties": {
            "issuer": {"type": "string"}, "token_endpoint": {"type": "string"},
            "grant_types_supported": {"type": "array", "items": {"type": "string"}},
            "token_endpoint_auth_methods_supported": {"type": "array", "items": {"type": "string"}},
            "scopes_supported": {"type": "array", "items": {"type": "string"}}}},
        "JsonRpcMessage": {"type": "object", "required": ["jsonrpc", "method"],
            "description": "One JSON-RPC 2.0 request (with id) or notification (without) of the Model Context Protocol",
            "properties": {
                "jsonrpc": {"const": "2.0"}, "id": {"type": ["string", "integer"]},
                "method": {"type": "string", "examples": ["initialize", "server/discover", "tools/list", "tools/call"]},
                "params": {"type": "object"}}},
        "JsonRpcResponse": {"type": "object", "required": ["jsonrpc", "id"], "properties": {
            "jsonrpc": {"const": "2.0"}, "id": {"type": ["string", "integer", "null"]},
            "result": {"type": "object"},
            "error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "integer"}, "message": {"type": "string"}, "data": {}}}}},
        "ProtectedResourceMetadata": {"type": "object", "required": ["resource", "authorization_servers"], "properties": {
            "resource": {"type": "string"},
            "authorization_servers": {"type": "array", "items": {"type": "string"}},
            "bearer_methods_supported": {"type": "array", "items": {"type": "string"}},
            "scopes_supported": {"type": "array", "items": {"type": "string"}},
            "resource_name": {"type": "string"},
            "resource_documentation": {"type": "string"}}},
        "Jwks": {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {"type": "object",
            "required": ["kty", "crv", "x", "y", "kid", "alg"], "properties": {
                "kty": {"const": "EC"}, "crv": {"const": "P-256"}, "x": {"type": "string"}, "y": {"type": "string"},
                "kid": {"type": "string"}, "use": {"const": "sig"}, "alg": {"const": "ES256"}}}}}},
        "Me": {"type": "object", "required": ["kind", "id"], "properties": {
            "kind": {"type": "string", "enum": ["user", "agent"]}, "id": {"type": "string"},
            "username": {"type": "string"}, "role": {"type": "string", "enum": ["admin", "user"]},
            "name": {"type": "string"}, "groups": {"type": "array", "items": {"type": "string"}},
            "tags": {"type": "array", "items": {"type": "string"}}, "scopes": {"type": "array", "items": {"type": "string"}}}},
    })
}

/// The MCP Registry API's shapes: the official registry's `ServerList` and `ServerResponse`,
/// restricted to what toolreg serves (remotes only, one version per server).
fn registry_schemas() -> Value {
    let ts = json!({"type": "string", "format": "date-time"});
    let nullable_string = json!({"type": ["string", "null"]});
    let header = json!({"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "description": {"type": "string"},
        "isRequired": {"type": "boolean"}, "isSecret": {"type": "boolean"}}});
    json!({
        "RegistryServer": {"type": "object", "required": ["name", "description", "version"], "properties": {
            "$schema": {"type": "string", "format": "uri"},
            "name": {"type": "string", "minLength": 3, "maxLength": 200, "pattern": "^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$"},
            "title": {"type": "string", "minLength": 1, "maxLength": 100},
            "description": {"type": "string", "minLength": 1, "maxLength": 100},
            "version": {"type": "string", "maxLength": 255},
            "remotes": {"type": "array", "items": {"type": "object", "required": ["type", "url"], "properties": {
                "type": {"type": "string", "enum": ["streamable-http", "sse"]},
                "url": {"type": "string", "pattern": "^https?://[^\\s]+$"},
                "headers": {"type": "array", "items": header}}}}}},
        "RegistryServerResponse": {"type": "object", "required": ["server", "_meta"], "properties": {
            "server": {"$ref": "#/components/schemas/RegistryServer"},
            "_meta": {"type": "object", "properties": {
                "io.modelcontextprotocol.registry/official": {"type": "object", "additionalProperties": false,
                    "required": ["status", "publishedAt", "updatedAt", "isLatest"], "properties": {
                    "status": {"type": "string", "enum": ["active", "deprecated", "deleted"]},
                    "publishedAt": ts, "updatedAt": ts, "isLatest": {"type": "boolean"}}},
                "io.toolreg/status": {"type": "object", "description": "toolreg's state of the tool", "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "probeStatus": {"type": ["string", "null"], "enum": ["passed", "failed", "stale", null]},
                    "probedAt": nullable_string, "probeError": nullable_string,
                    "protocolVersion": nullable_string, "toolCount": {"type": ["integer", "null"], "minimum": 0},
                    "toolsSha256": nullable_string, "approvedToolsSha256": nullable_string,
                    "drifted": {"type": "boolean"}, "requiresPerUserAuth": {"type": "boolean"},
                    "riskLevel": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
                    "tags": {"type": "array", "items": {"type": "string"}}}}}}}},
        "RegistryServerList": {"type": "object", "required": ["servers", "metadata"], "properties": {
            "servers": {"type": "array", "items": {"$ref": "#/components/schemas/RegistryServerResponse"}},
            "metadata": {"type": "object", "required": ["count"], "properties": {
                "nextCursor": {"type": "string", "description": "Pass as cursor for the next page; absent on the last"},
                "count": {"type": "integer", "minimum": 0}}}}},
    })
}

fn scopes() -> Value {
    Value::Object(
        SCOPES
            .iter()
            .map(|s| {
                let what = if *s == CATALOG_READ {
                    "Read the catalog"
                } else {
                    "Ask for tool access and credentials"
                };
                ((*s).to_owned(), json!(what))
            })
            .collect(),
    )
}

/// The whole document.
/// The document as `make infra` writes it to openapi.json: pretty JSON, keys sorted.
pub fn document_text() -> String {
    serde_json::to_string_pretty(&document()).expect("JSON values serialise")
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = operation(route);
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
            {"name": "users", "description": "People"},
            {"name": "agents", "description": "Agents and their API keys"},
            {"name": "oauth", "description": "OAuth 2.0 client credentials for agents"},
            {"name": "policies", "description": "The policy decision point's policies"},
            {"name": "credentials", "description": "Access requests, decisions and just-in-time tool credentials"},
            {"name": "tools", "description": "The catalog"},
            {"name": "audit", "description": "The audit log"},
            {"name": "mcp", "description": "The catalog as an MCP server, and its protected-resource metadata"},
            {"name": "meta", "description": "Health and documentation"},
            {"name": "registry", "description": "The MCP Registry API (v0.1): active remote tools as server.json entries"}
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A user's access token, an agent's OAuth access token, or an agent's API key (trk_…)"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key", "description": "An agent's API key (trk_…)"},
                "oauth2": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": TOKEN_PATH, "scopes": scopes()}}},
            },
            "headers": {"RequestId": {"schema": {"type": "string"}, "description": "Echoes a well-formed incoming X-Request-Id, else a new id"}},
            "schemas": schemas(),
        },
    })
}
