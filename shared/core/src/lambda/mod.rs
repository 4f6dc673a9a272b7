//! Running route handlers as Lambda functions on `lambda_http`, and the adapter both Lambda and
//! the local server go through: `lambda_http::Request` in, `lambda_http::Response` out.

use crate::http::{ApiRequest, ApiResponse};
use crate::routes::{self, Handler, Route};
use crate::state::AppState;
use lambda_http::http::{HeaderName, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use std::sync::Arc;

/// Serves one request with `route`: the path both the Lambda binaries and the local server take.
///
/// API Gateway only invokes a function for its own route and fills in the path parameters; a
/// Lambda function URL (route key `$default`) sends every method and path, so those are checked
/// against the route here and the parameters taken from the path.
pub async fn handle(state: &AppState, r: &Route, handler: Handler, req: Request) -> Response<Body> {
    let mut req = ApiRequest::from_http(req);
    if req.method != r.method && !(req.method == "HEAD" && r.method == "GET") {
        return to_http(routes::method_not_allowed(&req, &[r.method]));
    }
    if req.route_key == "$default" || req.route_key.is_empty() {
        match routes::match_template(r.path, &req.path) {
            Some(params) if req.path_params.is_empty() => req.path_params = params,
            Some(_) => {}
            None => return to_http(routes::not_found(&req)),
        }
    }
    to_http(routes::dispatch(state, r, handler, req).await)
}

/// Converts a finished response to an `http::Response`. `lambda_http` sends text content types
/// as text and anything else base64-encoded.
pub fn to_http(response: ApiResponse) -> Response<Body> {
    let response = response.finish();
    let body = if response.body.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(response.body) {
            Ok(s) => Body::Text(s),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };
    let mut out = Response::new(body);
    *out.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in response.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            out.headers_mut().insert(name, value);
        }
    }
    out
}

/// Builds the state once per cold start, exiting when that fails.
async fn cold_start() -> Arc<AppState> {
    match AppState::from_env().await {
        Ok(s) => Arc::new(s),
        Err(e) => {
            tracing::error!(error = %e, "start-up failed");
            std::process::exit(1);
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The `main` of every per-route Lambda binary: build state once per cold start, then serve
/// HTTP API (and function URL) events for `route` with `handler` until the runtime stops. Only
/// this row and handler are linked in, not the rest of the table.
pub fn serve(route: &'static Route, handler: Handler) {
    crate::logging::init();
    runtime().block_on(async move {
        let state = cold_start().await;
        let handler = lambda_http::service_fn(move |req: Request| {
            let state = Arc::clone(&state);
            async move { Ok::<_, lambda_http::Error>(handle(&state, route, handler, req).await) }
        });
        if let Err(e) = lambda_http::run(handler).await {
            tracing::error!(error = %e, "lambda runtime stopped");
            std::process::exit(1);
        }
    });
}

/// The `main` of the scheduled re-prober: each EventBridge event runs one pass, stopping new
/// work before the invocation's deadline.
pub fn run_reprobe() {
    crate::logging::init();
    runtime().block_on(async move {
        let state = cold_start().await;
        let handler = lambda_runtime::service_fn(
            move |ev: lambda_runtime::LambdaEvent<serde_json::Value>| {
                let state = Arc::clone(&state);
                async move {
                    let deadline = deadline_instant(ev.context.deadline);
                    let summary =
                        crate::services::reprobe::run(&state, deadline, &ev.context.request_id)
                            .await
                            .map_err(|e| lambda_runtime::Error::from(format!("{e:?}")))?;
                    Ok::<_, lambda_runtime::Error>(
                        serde_json::to_value(summary).unwrap_or_default(),
                    )
                }
            },
        );
        if let Err(e) = lambda_runtime::run(handler).await {
            tracing::error!(error = %e, "lambda runtime stopped");
            std::process::exit(1);
        }
    });
}

/// Converts the runtime's deadline (epoch milliseconds) to an `Instant`.
pub fn deadline_instant(deadline_ms: u64) -> std::time::Instant {
    let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    std::time::Instant::now() + std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}
