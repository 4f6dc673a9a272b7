//! The request a handler sees: a thin view of a `lambda_http::Request`.

use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use std::collections::HashMap;

/// A request as every route handler sees it, whichever way it arrived (Lambda or local server).
#[derive(Clone, Debug, Default)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    /// Header names are lower-cased.
    pub headers: HashMap<String, String>,
    pub path_params: HashMap<String, String>,
    pub raw_query: String,
    pub body: Vec<u8>,
    pub source_ip: String,
    pub request_id: String,
    /// API Gateway's route key; `$default` for a Lambda function URL.
    pub route_key: String,
}

/// Accepts a client's `X-Request-Id` only when it is short and plain, so it is safe to echo and
/// to log.
pub fn well_formed_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

impl ApiRequest {
    /// Who and where, for audit events.
    pub fn meta(&self) -> crate::domain::audit::RequestMeta {
        crate::domain::audit::RequestMeta {
            source_ip: self.source_ip.clone(),
            user_agent: self.user_agent().to_owned(),
            request_id: self.request_id.clone(),
        }
    }
}

impl ApiRequest {
    /// A view of a `lambda_http` request. The caller's address, API Gateway's request id and
    /// route key come from the HTTP API v2 request context, the path parameters from the
    /// request's extensions. The request id is the client's when well formed, else API
    /// Gateway's, else a fresh UUID.
    pub fn from_http(req: lambda_http::Request) -> Self {
        let (gateway_request_id, source_ip, route_key) = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => (
                ctx.request_id.clone(),
                ctx.http.source_ip.clone().unwrap_or_default(),
                ctx.route_key.clone().unwrap_or_default(),
            ),
            _ => (None, String::new(), String::new()),
        };
        let path_params: HashMap<String, String> = req
            .path_parameters_ref()
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let path = match req.raw_http_path() {
            "" => req.uri().path().to_owned(),
            raw => raw.to_owned(),
        };
        let mut headers: HashMap<String, String> = HashMap::new();
        for (name, value) in req.headers() {
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|e| {
                    e.push(',');
                    e.push_str(&v);
                })
                .or_insert(v);
        }
        let request_id = headers
            .get("x-request-id")
            .filter(|id| well_formed_request_id(id))
            .cloned()
            .or(gateway_request_id)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let method = req.method().as_str().to_ascii_uppercase();
        let raw_query = req.uri().query().unwrap_or("").to_owned();
        let body = match req.into_body() {
            Body::Text(s) => s.into_bytes(),
            Body::Binary(b) => b,
            _ => Vec::new(),
        };
        Self {
            method,
            path,
            headers,
            path_params,
            raw_query,
            body,
            source_ip,
            request_id,
            route_key,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn user_agent(&self) -> &str {
        self.header("user-agent").unwrap_or("")
    }

    pub fn path_param(&self, name: &str) -> &str {
        self.path_params.get(name).map(String::as_str).unwrap_or("")
    }
}

impl ApiRequest {
    /// The `If-Match` header, parsed once here into the versions it accepts.
    pub fn if_match(&self) -> Option<crate::domain::tool::IfMatch> {
        self.header("if-match")
            .map(crate::domain::tool::IfMatch::parse)
    }
}
