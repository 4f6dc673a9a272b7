//! A Lambda Runtime API endpoint on loopback: hands a function binary events exactly as the
//! Lambda service does (`GET .../invocation/next`, then `POST .../response`) and returns what the
//! binary answered. Proves the deployed binaries work, not only the local server.

use crate::proc;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Notify};

/// What the function answered for one invocation.
#[derive(Debug)]
pub enum Answer {
    Response(Value),
    Error(Value),
}

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<(String, Value)>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    ready: Notify,
    init_error: Mutex<Option<String>>,
}

async fn next(State(s): State<Arc<Shared>>) -> Response {
    loop {
        let notified = s.ready.notified();
        if let Some((id, event)) = s.queue.lock().expect("queue").pop_front() {
            let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
            let mut h = HeaderMap::new();
            h.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).expect("id"),
            );
            h.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline));
            h.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static(
                    "arn:aws:lambda:us-east-1:123456789012:function:toolreg-test",
                ),
            );
            h.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
            );
            h.insert("content-type", HeaderValue::from_static("application/json"));
            return (StatusCode::OK, h, event.to_string()).into_response();
        }
        notified.await;
    }
}

async fn respond(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: String) -> StatusCode {
    let v = serde_json::from_str(&body).unwrap_or(Value::String(body));
    if let Some(tx) = s.waiting.lock().expect("waiting").remove(&id) {
        let _ = tx.send(Answer::Response(v));
    }
    StatusCode::ACCEPTED
}

async fn error(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: String) -> StatusCode {
    let v = serde_json::from_str(&body).unwrap_or(Value::String(body));
    if let Some(tx) = s.waiting.lock().expect("waiting").remove(&id) {
        let _ = tx.send(Answer::Error(v));
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(s): State<Arc<Shared>>, body: String) -> StatusCode {
    *s.init_error.lock().expect("init") = Some(body);
    StatusCode::ACCEPTED
}

/// A runtime API with one function process attached.
pub struct RuntimeApi {
    shared: Arc<Shared>,
    pub addr: String,
    child: Option<Child>,
    /// When the function process was started (for cold-start measurements).
    pub started: Option<Instant>,
}

impl RuntimeApi {
    /// Starts the endpoint on a free loopback port.
    pub async fn start() -> RuntimeApi {
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind runtime api");
        let addr = listener.local_addr().expect("addr").to_string();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RuntimeApi {
            shared,
            addr,
            child: None,
            started: None,
        }
    }

    /// Starts `binary` as a Lambda function against this endpoint, with `env` on top of the
    /// variables the Lambda service sets.
    pub fn launch(
        &mut self,
        binary: &std::path::Path,
        function_name: &str,
        env: &BTreeMap<String, String>,
    ) {
        self.launch_logged(binary, function_name, env, None)
    }

    /// Like [`RuntimeApi::launch`], writing the function's stdout and stderr (its log lines) to
    /// `log` when given.
    pub fn launch_logged(
        &mut self,
        binary: &std::path::Path,
        function_name: &str,
        env: &BTreeMap<String, String>,
        log: Option<&std::path::Path>,
    ) {
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .env("AWS_LAMBDA_RUNTIME_API", &self.addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function_name}"),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(path) = log {
            let file = std::fs::File::create(path).expect("create the function's log file");
            let err = file.try_clone().expect("clone the log file");
            cmd.stdout(file).stderr(err);
        }
        self.started = Some(Instant::now());
        self.child = Some(proc::spawn(cmd));
    }

    /// The function process's id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the function process is still running (a panic in a release build, where
    /// `panic = "abort"`, ends it).
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Hands `event` to the function and waits for its answer.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Answer {
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.shared
            .waiting
            .lock()
            .expect("waiting")
            .insert(id.clone(), tx);
        self.shared
            .queue
            .lock()
            .expect("queue")
            .push_back((id, event));
        self.shared.ready.notify_waiters();
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(a)) => a,
            _ => {
                let init = self.shared.init_error.lock().expect("init").clone();
                panic!("the function did not answer within {timeout:?} (init error: {init:?})")
            }
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An API Gateway HTTP API v2 event, as the service sends it.
pub fn http_event(
    method: &str,
    path: &str,
    route_path: &str,
    params: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Value {
    let mut h = serde_json::Map::new();
    h.insert("user-agent".into(), Value::from("lambda-runtime-test"));
    for (k, v) in headers {
        h.insert(k.to_string(), Value::from(*v));
    }
    if body.is_some() {
        h.insert("content-type".into(), Value::from("application/json"));
    }
    let (raw_path, raw_query) = path.split_once('?').unwrap_or((path, ""));
    let route_key = format!("{method} {route_path}");
    serde_json::json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": h,
        "pathParameters": params.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect::<serde_json::Map<_, _>>(),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "test",
            "domainName": "test.execute-api.us-east-1.amazonaws.com",
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": route_key,
            "stage": "$default",
            "time": "22/Nov/2026:12:00:00 +0000",
            "timeEpoch": chrono::Utc::now().timestamp_millis(),
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "lambda-runtime-test"}
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
}

/// A Lambda function URL event: the same v2 payload shape, with route key `$default`, no path
/// parameters and a `lambda-url` domain.
pub fn function_url_event(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Value {
    let mut h = serde_json::Map::new();
    h.insert("user-agent".into(), Value::from("function-url-test"));
    h.insert(
        "host".into(),
        Value::from("abcdefgh.lambda-url.us-east-1.on.aws"),
    );
    for (k, v) in headers {
        h.insert(k.to_string(), Value::from(*v));
    }
    if body.is_some() {
        h.insert("content-type".into(), Value::from("application/json"));
    }
    let (raw_path, raw_query) = path.split_once('?').unwrap_or((path, ""));
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": h,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefgh",
            "domainName": "abcdefgh.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abcdefgh",
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": "22/Nov/2026:12:00:00 +0000",
            "timeEpoch": chrono::Utc::now().timestamp_millis(),
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "function-url-test"}
        },
        "body": body.map(|b| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b.to_string())),
        "isBase64Encoded": body.is_some()
    })
}
