//! Running route handlers as Lambda functions, and the adapter both Lambda and the local server
//! go through.

pub mod event;

use crate::http::{problem, ApiRequest, ApiResponse};
use crate::routes::{self, RouteId};
use crate::state::AppState;
use base64::Engine;
use event::{HttpApiEvent, HttpApiResponse};
use std::sync::Arc;

/// Serves one v2 event with `route`: the path both the Lambda binaries and the local server take.
pub async fn handle_event(
    state: &AppState,
    route: RouteId,
    event: HttpApiEvent,
) -> HttpApiResponse {
    let fallback_id = event
        .request_context
        .request_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let response = match ApiRequest::from_event(event) {
        Ok(req) => routes::dispatch(state, route, req).await,
        Err(detail) => problem::problem(400, "bad-request", "Bad request", &detail, &fallback_id)
            .with_header("x-request-id", &fallback_id),
    };
    to_v2(response)
}

/// Converts a finished response to the v2 shape, base64-encoding bodies that are not UTF-8.
pub fn to_v2(response: ApiResponse) -> HttpApiResponse {
    let response = response.finish();
    match String::from_utf8(response.body) {
        Ok(body) => HttpApiResponse {
            status_code: response.status,
            headers: response.headers,
            body,
            is_base64_encoded: false,
        },
        Err(e) => HttpApiResponse {
            status_code: response.status,
            headers: response.headers,
            body: base64::engine::general_purpose::STANDARD.encode(e.into_bytes()),
            is_base64_encoded: true,
        },
    }
}

/// The `main` of every per-route Lambda binary: build state once per cold start, then serve
/// events for `route` until the runtime stops.
pub fn run_route(route: RouteId) {
    crate::logging::init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let state = match AppState::from_env().await {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::error!(error = %e, "start-up failed");
                std::process::exit(1);
            }
        };
        let handler =
            lambda_runtime::service_fn(move |ev: lambda_runtime::LambdaEvent<HttpApiEvent>| {
                let state = Arc::clone(&state);
                async move {
                    Ok::<_, lambda_runtime::Error>(handle_event(&state, route, ev.payload).await)
                }
            });
        if let Err(e) = lambda_runtime::run(handler).await {
            tracing::error!(error = %e, "lambda runtime stopped");
            std::process::exit(1);
        }
    });
}

/// The `main` of the scheduled re-prober: each EventBridge event runs one pass, stopping new
/// work before the invocation's deadline.
pub fn run_reprobe() {
    crate::logging::init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let state = match AppState::from_env().await {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::error!(error = %e, "start-up failed");
                std::process::exit(1);
            }
        };
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
