//! The request a handler sees, built from an API Gateway HTTP API v2 event.

use crate::lambda::event::HttpApiEvent;
use base64::Engine;
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
    /// Builds the request from a v2 event. The request id is the client's when well formed,
    /// else API Gateway's, else a fresh UUID.
    pub fn from_event(event: HttpApiEvent) -> Result<Self, String> {
        let headers: HashMap<String, String> = event
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let request_id = headers
            .get("x-request-id")
            .filter(|id| well_formed_request_id(id))
            .cloned()
            .or(event.request_context.request_id.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let body = match event.body {
            None => Vec::new(),
            Some(b) if event.is_base64_encoded => base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|_| "the request body is not valid base64".to_string())?,
            Some(b) => b.into_bytes(),
        };
        Ok(Self {
            method: event.request_context.http.method.to_ascii_uppercase(),
            path: event.raw_path,
            headers,
            path_params: event.path_parameters.unwrap_or_default(),
            raw_query: event.raw_query_string,
            body,
            source_ip: event.request_context.http.source_ip,
            request_id,
        })
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
