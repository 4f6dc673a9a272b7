//! The local server: every route on one port, each request turned into the same API Gateway v2
//! event a Lambda function receives and served by the same handler.

use crate::http::body::MAX_BODY_BYTES;
use crate::http::ApiRequest;
use crate::lambda::event::{HttpApiEvent, HttpDescription, RequestContext};
use crate::lambda::handle_event;
use crate::routes;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, Request, Response, StatusCode};
use base64::Engine;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

async fn serve_one(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let mut headers: HashMap<String, String> = HashMap::new();
    for (name, value) in &parts.headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|e| {
                e.push(',');
                e.push_str(&v);
            })
            .or_insert(v);
    }
    // One byte over the cap is enough to know the body is too large.
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES + 1)
        .await
        .unwrap_or_else(|_| vec![0u8; MAX_BODY_BYTES + 1].into());
    let (body, is_base64) = match std::str::from_utf8(&bytes) {
        Ok(s) => (s.to_owned(), false),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(&bytes),
            true,
        ),
    };
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let mut event = HttpApiEvent {
        version: Some("2.0".into()),
        route_key: None,
        raw_path: path.clone(),
        raw_query_string: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        path_parameters: None,
        request_context: RequestContext {
            request_id: Some(uuid::Uuid::new_v4().to_string()),
            route_key: None,
            http: HttpDescription {
                method: method.clone(),
                path: path.clone(),
                protocol: "HTTP/1.1".into(),
                source_ip: peer.ip().to_string(),
                user_agent: String::new(),
            },
            time_epoch: chrono::Utc::now().timestamp_millis(),
        },
        body: if bytes.is_empty() { None } else { Some(body) },
        is_base64_encoded: is_base64,
    };
    let v2 = match routes::resolve(&method, &path) {
        Ok((id, params)) => {
            let r = routes::route(id);
            let key = format!("{} {}", r.method, r.path);
            event.route_key = Some(key.clone());
            event.request_context.route_key = Some(key);
            event.path_parameters = Some(params);
            handle_event(&state, id, event).await
        }
        Err(_) => {
            let resp = match ApiRequest::from_event(event) {
                Ok(req) => routes::dispatch_any(&state, req).await,
                Err(d) => {
                    crate::http::problem::problem(400, "bad-request", "Bad request", &d, "local")
                }
            };
            crate::lambda::to_v2(resp)
        }
    };
    let body = if v2.is_base64_encoded {
        base64::engine::general_purpose::STANDARD
            .decode(v2.body)
            .unwrap_or_default()
    } else {
        v2.body.into_bytes()
    };
    let mut out = Response::new(Body::from(body));
    *out.status_mut() =
        StatusCode::from_u16(v2.status_code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in v2.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            out.headers_mut().insert(name, value);
        }
    }
    out
}

/// Serves every route on `addr` until Ctrl-C or SIGTERM.
pub async fn serve(state: Arc<AppState>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = axum::Router::new().fallback(serve_one).with_state(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}

/// The local-only bootstrap admin password used when `BOOTSTRAP_ADMIN_PASSWORD` is unset.
/// Documented in the README; never used outside the local stack.
pub const LOCAL_DEFAULT_ADMIN_PASSWORD: &str = "local-admin-password";

/// `make dev` and the tests: set up the stack, seed the admin, serve on `PORT` (default 8000).
pub async fn run_from_env() -> Result<(), String> {
    let config = crate::config::Config::from_env().map_err(|e| e.to_string())?;
    let clients = crate::aws::Clients::from_env().await;
    crate::setup::ensure_stack(&config, &clients).await?;
    let state = Arc::new(AppState::new(config, clients));

    let username = std::env::var("BOOTSTRAP_ADMIN_USERNAME").unwrap_or_else(|_| "admin".into());
    let (password, from_env) = match std::env::var("BOOTSTRAP_ADMIN_PASSWORD") {
        Ok(p) => (p, true),
        Err(_) => (LOCAL_DEFAULT_ADMIN_PASSWORD.to_owned(), false),
    };
    let seeded = crate::setup::seed_admin(&state, &username, &password, "toolreg-local").await?;

    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|_| {
            format!("invalid configuration: PORT: expected a port number, got {p:?}")
        })?,
        Err(_) => 8000,
    };
    let host = std::env::var("BIND_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Machine-readable first (the test harness waits for it), then for people.
    println!("LISTENING http://{addr}");
    println!("toolreg is serving every route at http://{addr}");
    match (seeded, from_env) {
        (Seeded::Created, true) | (Seeded::AlreadyExists, true) => {
            println!("admin user: {username} (password from BOOTSTRAP_ADMIN_PASSWORD)")
        }
        (_, false) => println!(
            "admin user: {username} / password: {LOCAL_DEFAULT_ADMIN_PASSWORD} (local-only default)"
        ),
    }
    serve(state, listener).await.map_err(|e| e.to_string())
}

use crate::setup::Seeded;
