//! The response a handler returns; converted to an API Gateway v2 response in `lambda`.

use serde::Serialize;
use std::collections::BTreeMap;

/// A response: status, headers (lower-case names) and a body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// Kept for problem responses so fields can be added before serialising.
    problem: Option<serde_json::Value>,
}

impl ApiResponse {
    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
        let mut r = Self {
            status,
            headers: BTreeMap::new(),
            body,
            problem: None,
        };
        r.header("content-type", "application/json");
        r
    }

    pub fn problem(status: u16, value: serde_json::Value) -> Self {
        let mut r = Self {
            status,
            headers: BTreeMap::new(),
            body: Vec::new(),
            problem: Some(value),
        };
        r.header("content-type", "application/problem+json");
        r
    }

    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        let mut r = Self {
            status,
            headers: BTreeMap::new(),
            body,
            problem: None,
        };
        r.header("content-type", content_type);
        r
    }

    pub fn no_content() -> Self {
        Self {
            status: 204,
            headers: BTreeMap::new(),
            body: Vec::new(),
            problem: None,
        }
    }

    pub fn header(&mut self, name: &str, value: &str) -> &mut Self {
        self.headers
            .insert(name.to_ascii_lowercase(), value.to_owned());
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.header(name, value);
        self
    }

    pub(crate) fn set_problem_field(&mut self, key: &str, value: serde_json::Value) {
        if let Some(serde_json::Value::Object(map)) = self.problem.as_mut() {
            map.insert(key.to_owned(), value);
        }
    }

    /// The problem body, while it is still pending (before [`ApiResponse::finish`]).
    pub fn pending_problem(&self) -> Option<&serde_json::Value> {
        self.problem.as_ref()
    }

    /// Serialises a pending problem body. Called once, when the response leaves the handler.
    pub fn finish(mut self) -> Self {
        if let Some(p) = self.problem.take() {
            self.body = serde_json::to_vec(&p).unwrap_or_default();
        }
        self
    }

    /// The body parsed as JSON (tests and the local server's logging).
    pub fn json_body(&self) -> serde_json::Value {
        match &self.problem {
            Some(p) => p.clone(),
            None => serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null),
        }
    }
}
