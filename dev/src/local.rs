//! The local server: every route on one port, each hyper request turned into the same
//! `lambda_http::Request` a Lambda function receives and served by the same handler.

use axum::extract::{ConnectInfo, State};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::http::request::Parts;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use toolreg_core::http::body::MAX_BODY_BYTES;
use toolreg_core::routes::{self, Route};
use toolreg_core::state::AppState;

/// The `lambda_http::Request` a Lambda function would receive for this hyper request: the same
/// head and body, with an HTTP API v2 request context (source IP, request id, method and path)
/// and, once the route is known, its route key and path parameters.
pub fn lambda_request(
    peer: SocketAddr,
    parts: Parts,
    bytes: &[u8],
    route: Option<(&Route, HashMap<String, String>)>,
) -> Request {
    let path = parts.uri.path().to_owned();
    let mut ctx = ApiGatewayV2httpRequestContext::default();
    ctx.request_id = Some(uuid::Uuid::new_v4().to_string());
    ctx.stage = Some("$default".into());
    ctx.time_epoch = chrono::Utc::now().timestamp_millis();
    ctx.http.method = parts.method.clone();
    ctx.http.path = Some(path.clone());
    ctx.http.protocol = Some(format!("{:?}", parts.version));
    ctx.http.source_ip = Some(peer.ip().to_string());
    ctx.http.user_agent = parts
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(s) => Body::Text(s),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };
    let mut req = Request::from_parts(parts, body).with_raw_http_path(path.clone());
    if let Some((r, params)) = route {
        ctx.route_key = Some(format!("{} {}", r.method, r.path));
        req = req.with_path_parameters(params);
    }
    req.with_request_context(RequestContext::ApiGatewayV2(ctx))
}

async fn serve_one(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::http::Request<axum::body::Body>,
) -> axum::http::Response<axum::body::Body> {
    let (parts, body) = req.into_parts();
    // One byte over the cap is enough to know the body is too large.
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES + 1)
        .await
        .unwrap_or_else(|_| vec![0u8; MAX_BODY_BYTES + 1].into());
    // Resolved once: the route key and parameters for the event, the handler to run.
    let resolved = routes::resolve(parts.method.as_str(), parts.uri.path()).ok();
    let served = resolved
        .as_ref()
        .and_then(|(route, _)| routes::handler_for(route).map(|h| (*route, h)));
    let req = lambda_request(peer, parts, &bytes, resolved);
    let resp = match served {
        Some((route, handler)) => toolreg_core::lambda::handle(&state, route, handler, req).await,
        None => toolreg_core::lambda::to_http(
            routes::dispatch_any(&state, toolreg_core::http::ApiRequest::from_http(req)).await,
        ),
    };
    let (parts, body) = resp.into_parts();
    axum::http::Response::from_parts(parts, axum::body::Body::from(body.to_vec()))
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
    let mut config = toolreg_core::config::Config::from_env().map_err(|e| e.to_string())?;

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
    let url = local_url(addr);
    // Without PUBLIC_BASE_URL the service's public URL is where it listens (PORT=0 picks the
    // port only now), and so is the tokens' issuer unless JWT_ISSUER names another.
    if std::env::var_os("PUBLIC_BASE_URL").is_none_or(|v| v.is_empty()) {
        config.public_base_url = url.clone();
        if std::env::var_os("JWT_ISSUER").is_none() {
            config.jwt_issuer = url.clone();
        }
    }

    let clients = toolreg_core::aws::Clients::from_env().await;
    crate::setup::ensure_stack(&config, &clients).await?;
    let state = Arc::new(AppState::new(config, clients));

    let username = std::env::var("BOOTSTRAP_ADMIN_USERNAME").unwrap_or_else(|_| "admin".into());
    let (password, from_env) = match std::env::var("BOOTSTRAP_ADMIN_PASSWORD") {
        Ok(p) => (p, true),
        Err(_) => (LOCAL_DEFAULT_ADMIN_PASSWORD.to_owned(), false),
    };
    let seeded = crate::setup::seed_admin(&state, &username, &password, "toolreg-local").await?;
    // Machine-readable first (the test harness waits for it), then for people.
    println!("LISTENING {url}");
    println!("toolreg is serving every route at {url}");
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

/// The URL of the local server listening on `addr` (loopback when it listens on every
/// address).
fn local_url(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        addr.ip()
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

use crate::setup::Seeded;
