//! `POST /api/v1/oauth/token` (RFC 6749 §4.4) and `GET /.well-known/oauth-authorization-server`
//! (RFC 8414).
//!
//! The token endpoint answers RFC 6749 §5.2 JSON errors, not problem+json: OAuth client
//! libraries parse `error` and `error_description`.

use super::Caller;
use crate::domain::agent::SCOPES;
use crate::error::AppResult;
use crate::http::body::MAX_BODY_BYTES;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::table::{Access, Content, Iam, Operation, Route};
use crate::services::oauth::{self as svc, ClientAuth, OAuthError, TokenRequest};
use crate::state::AppState;
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;

/// Where the token endpoint lives (the metadata document names it).
pub const TOKEN_PATH: &str = "/api/v1/oauth/token";

fn error_response(e: &OAuthError) -> ApiResponse {
    let mut r = ApiResponse::json(
        e.status,
        &json!({"error": e.error, "error_description": e.description}),
    )
    .with_header("cache-control", "no-store")
    .with_header("pragma", "no-cache");
    if e.status == 401 {
        // RFC 6749 §5.2: a 401 names the scheme the client may authenticate with.
        r.header(
            "www-authenticate",
            "Basic realm=\"toolreg\", charset=\"UTF-8\"",
        );
    }
    if let Some(s) = e.retry_after {
        r.header("retry-after", &s.to_string());
    }
    r
}

/// The form's parameters; a repeated one is an error (RFC 6749 §3.2).
fn form(req: &ApiRequest) -> Result<HashMap<String, String>, OAuthError> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(OAuthError::invalid_request("the request body is too large"));
    }
    let mime = req
        .header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/x-www-form-urlencoded" {
        return Err(OAuthError::invalid_request(
            "send the parameters as application/x-www-form-urlencoded",
        ));
    }
    let mut params = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(&req.body) {
        if params.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {:?} appears more than once",
                k.chars().take(64).collect::<String>()
            )));
        }
    }
    Ok(params)
}

/// `Authorization: Basic` credentials (RFC 6749 §2.3.1: each part form-urlencoded).
fn basic(req: &ApiRequest) -> Result<Option<ClientAuth>, OAuthError> {
    let Some(h) = req.header("authorization") else {
        return Ok(None);
    };
    let bad =
        || OAuthError::invalid_client("the Authorization header must be Basic client credentials");
    let (scheme, value) = h.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some(ClientAuth {
        client_id: unescape(id),
        client_secret: unescape(secret),
    }))
}

fn parse(req: &ApiRequest) -> Result<TokenRequest, OAuthError> {
    let mut p = form(req)?;
    let from_header = basic(req)?;
    let in_body = (p.remove("client_id"), p.remove("client_secret"));
    let client = match (from_header, in_body) {
        (Some(_), (_, Some(_))) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method: HTTP Basic or the body, not both",
            ))
        }
        (Some(c), (None, None)) => c,
        (Some(c), (Some(id), None)) if id == c.client_id => c,
        (Some(_), (Some(_), None)) => {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the Basic credentials",
            ))
        }
        (None, (Some(id), Some(secret))) => ClientAuth {
            client_id: id,
            client_secret: secret,
        },
        (None, _) => {
            return Err(OAuthError::invalid_client(
                "authenticate the client with HTTP Basic or client_id and client_secret",
            ))
        }
    };
    let grant_type = p
        .remove("grant_type")
        .filter(|g| !g.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    Ok(TokenRequest {
        grant_type,
        scope: p.remove("scope"),
        client,
    })
}

pub const OAUTH_TOKEN: Route = Route {
    method: "POST",
    path: "/api/v1/oauth/token",
    function: "oauth-token",
    access: Access::Public,
    openapi: Operation {
        summary: "OAuth 2.0 client credentials: an agent's access token",
        tag: "oauth",
        request: Some("TokenRequestForm"),
        response: Content::Json("OAuthToken"),
        ..Operation::DEFAULT
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem", "PutItem"],
        secret: true,
        pepper: true,
        ..Iam::NONE
    },
    ..Route::DEFAULT
};

pub async fn token(state: &AppState, req: &ApiRequest, _caller: Caller) -> AppResult<ApiResponse> {
    let result = match parse(req) {
        Ok(r) => svc::token(state, r, &req.meta()).await,
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(t) => ApiResponse::json(200, &t)
            .with_header("cache-control", "no-store")
            .with_header("pragma", "no-cache"),
        Err(e) => error_response(&e),
    })
}

pub const OAUTH_METADATA: Route = Route {
    method: "GET",
    path: "/.well-known/oauth-authorization-server",
    function: "oauth-metadata",
    access: Access::Public,
    openapi: Operation {
        summary: "OAuth 2.0 authorization server metadata (RFC 8414)",
        tag: "oauth",
        response: Content::Json("OAuthMetadata"),
        ..Operation::DEFAULT
    },
    ..Route::DEFAULT
};

/// RFC 8414 metadata. Every URL comes from `PUBLIC_BASE_URL`, never from the request (this
/// document is cached publicly: a `Host` an attacker sent must not end up in it); the issuer
/// is the tokens' `iss`, which is that URL unless `JWT_ISSUER` says otherwise.
pub async fn metadata(
    state: &AppState,
    _req: &ApiRequest,
    _caller: Caller,
) -> AppResult<ApiResponse> {
    let base = &state.config.public_base_url;
    Ok(ApiResponse::json(
        200,
        &json!({
            "issuer": state.config.jwt_issuer,
            "token_endpoint": format!("{base}{TOKEN_PATH}"),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": SCOPES,
            "response_types_supported": [],
            "service_documentation": format!("{base}/docs"),
        }),
    )
    .with_header("cache-control", "public, max-age=3600"))
}
