//! A small HTTP client for the black-box tests: request in, status, headers and JSON body out.

use crate::stack::{Server, ADMIN_PASSWORD, ADMIN_USERNAME};
use serde_json::{json, Value};

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// AWS calls the server made for this request (`X-Toolreg-Aws-Calls`), by service.
    pub fn calls(&self, service: &str) -> u32 {
        let h = self
            .header("x-toolreg-aws-calls")
            .expect("call counts exposed");
        h.split(';')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == service)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or_else(|| panic!("no count for {service} in {h:?}"))
    }

    /// Asserts `status`, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }

    /// The `name` of every item of a list response.
    pub fn names(&self) -> Vec<String> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("not a list: {}", self.text))
            .iter()
            .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Asserts a problem+json response with `status`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        assert_eq!(self.body["status"], json!(status));
        assert!(self.body["title"].is_string() && self.body["type"].is_string());
        assert!(self.body["request_id"].is_string());
        self
    }
}

/// A client bound to one server.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(server: &Server) -> Api {
        Api {
            base: server.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("reqwest client"),
        }
    }

    /// A client whose requests come from `source`, another loopback address (127.0.0.0/8), so
    /// per-IP limits see a different client.
    pub fn from_source(server: &Server, source: &str) -> Api {
        Api {
            base: server.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(Some(source.parse().expect("an IP address")))
                .build()
                .expect("reqwest client"),
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        read(rb).await
    }

    /// Sends raw bytes with a content type (malformed-body tests).
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        read(rb).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send("GET", path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send("POST", path, token, Some(body), &[]).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Resp {
        self.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs in and returns (access token, refresh token).
    pub async fn tokens(&self, username: &str, password: &str) -> (String, String) {
        let r = self.login(username, password).await;
        assert_eq!(r.status, 200, "login failed: {}", r.text);
        (
            r.body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            r.body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        )
    }

    /// Registers an agent (admin token) and answers its id.
    pub async fn create_agent(&self, admin: &str, body: &Value) -> String {
        let r = self.post("/api/v1/agents", Some(admin), body).await;
        assert_eq!(r.status, 201, "create agent: {}", r.text);
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// Issues a key for an agent and answers (key id, key).
    pub async fn agent_key(&self, admin: &str, agent_id: &str) -> (String, String) {
        let r = self
            .post(
                &format!("/api/v1/agents/{agent_id}/keys"),
                Some(admin),
                &json!({"description": "test key"}),
            )
            .await;
        assert_eq!(r.status, 201, "create key: {}", r.text);
        (
            r.body["id"].as_str().expect("id").to_owned(),
            r.body["key"].as_str().expect("key").to_owned(),
        )
    }

    /// `POST /api/v1/oauth/token` with form parameters and, when given, HTTP Basic credentials.
    pub async fn oauth_token(&self, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Resp {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut rb = self
            .http
            .post(format!("{}/api/v1/oauth/token", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some((id, secret)) = basic {
            rb = rb.basic_auth(id, Some(secret));
        }
        read(rb).await
    }

    /// A new user of role `user` (made by `admin`), logged in: their access token.
    pub async fn create_user_token(&self, admin: &str) -> String {
        let username = unique("person");
        let password = "a-person-password";
        let r = self
            .post(
                "/api/v1/users",
                Some(admin),
                &json!({"username": username, "role": "user", "password": password}),
            )
            .await;
        assert_eq!(r.status, 201, "create user: {}", r.text);
        self.tokens(&username, password).await.0
    }

    /// Stores `doc` as a policy version and activates it (as an elevated admin): its version.
    pub async fn activate_policy(&self, doc: &Value) -> u64 {
        let admin = self.admin().await;
        let r = self.post("/api/v1/policies", Some(&admin), doc).await;
        assert!(
            r.status == 201 || r.status == 200,
            "store policy: {}",
            r.text
        );
        let version = r.body["version"].as_u64().expect("version");
        let elevated = self.elevated().await;
        let r = self
            .post(
                &format!("/api/v1/policies/{version}/activate"),
                Some(&elevated),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "activate policy: {}", r.text);
        version
    }

    pub async fn admin(&self) -> String {
        self.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await.0
    }

    /// An elevated token for the bootstrap admin.
    pub async fn elevated(&self) -> String {
        let admin = self.admin().await;
        let r = self
            .post(
                "/api/v1/auth/elevate",
                Some(&admin),
                &json!({"password": ADMIN_PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 200, "elevate failed: {}", r.text);
        r.body["elevated_token"]
            .as_str()
            .expect("elevated_token")
            .to_owned()
    }
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// Sends a built request and reads the whole response.
async fn read(rb: reqwest::RequestBuilder) -> Resp {
    let r = rb.send().await.expect("request reaches the server");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        body,
    }
}
