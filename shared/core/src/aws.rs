//! AWS SDK clients, built once per cold start, with deliberate timeouts and a call counter.
//!
//! The counter exists because round trips are this service's latency and its bill: every route
//! has a budget (DESIGN.md §9) and the tests hold each route to it.

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Calls made to each AWS service while serving one request.
#[derive(Debug, Default)]
pub struct CallCounts {
    pub dynamodb: AtomicU32,
    pub kms: AtomicU32,
    pub secretsmanager: AtomicU32,
}

impl CallCounts {
    /// `dynamodb=N;kms=N;secretsmanager=N`, the form of the `X-Toolreg-Aws-Calls` header.
    pub fn header_value(&self) -> String {
        format!(
            "dynamodb={};kms={};secretsmanager={}",
            self.dynamodb.load(Ordering::Relaxed),
            self.kms.load(Ordering::Relaxed),
            self.secretsmanager.load(Ordering::Relaxed)
        )
    }
}

tokio::task_local! {
    /// The counts of the request being served on this task, if any.
    pub static CALLS: Arc<CallCounts>;
}

#[derive(Clone, Copy, Debug)]
enum Service {
    DynamoDb,
    Kms,
    SecretsManager,
}

/// Counts each operation (not each retry attempt) against the current request.
#[derive(Debug)]
struct CallCounter(Service);

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "toolreg-call-counter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let _ = CALLS.try_with(|c| {
            let counter = match self.0 {
                Service::DynamoDb => &c.dynamodb,
                Service::Kms => &c.kms,
                Service::SecretsManager => &c.secretsmanager,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        });
        Ok(())
    }
}

/// The three clients toolreg uses.
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub kms: aws_sdk_kms::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

/// Loads the shared SDK configuration (region, credentials, `AWS_ENDPOINT_URL`) with timeouts
/// short enough that a stalled dependency becomes a 503 well inside the Lambda's own timeout.
///
/// `AWS_OPERATION_TIMEOUT_SECONDS` (default 5) and `AWS_ATTEMPT_TIMEOUT_SECONDS` (default 2)
/// adjust them; an unparsable value keeps the default.
pub async fn sdk_config() -> SdkConfig {
    let secs = |name: &str, default: f64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| *v > 0.0 && *v <= 60.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::from_secs_f64(default))
    };
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(1500))
        .operation_attempt_timeout(secs("AWS_ATTEMPT_TIMEOUT_SECONDS", 2.0))
        .operation_timeout(secs("AWS_OPERATION_TIMEOUT_SECONDS", 5.0))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .http_client(https_client())
        // The operation and attempt timeouts above already bound a stalled response; the
        // per-body throughput monitor would add a timer and a wrapper to every call for nothing.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .load()
        .await
}

/// The roots every AWS endpoint's certificate chains to (Amazon Trust Services and the
/// Starfield root that cross-signs them).
pub const AWS_ROOTS_PEM: &[u8] = include_bytes!("../certs/aws-roots.pem");

/// The HTTPS client all three SDK clients share: the SDK's own rustls client, trusting the
/// bundled AWS roots instead of the system store. Reading and parsing the system bundle (~140
/// certificates) cost every cold start ~11 ms; five roots cost next to nothing. `AWS_CA_BUNDLE`
/// (the SDKs' usual variable: a PEM file, e.g. for a TLS-inspecting proxy) adds its
/// certificates; an unreadable one is reported and ignored.
fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let mut store = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AWS_ROOTS_PEM);
    if let Some(path) = std::env::var_os("AWS_CA_BUNDLE") {
        match std::fs::read(&path) {
            Ok(pem) => store = store.with_pem_certificate(pem),
            Err(e) => tracing::warn!(path = ?path, error = %e, "AWS_CA_BUNDLE is unreadable"),
        }
    }
    let context = TlsContext::builder()
        .with_trust_store(store)
        .build()
        .expect("a trust store of PEM certificates always builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Self {
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(CallCounter(Service::DynamoDb))
            .build();
        let kms = aws_sdk_kms::config::Builder::from(sdk)
            .interceptor(CallCounter(Service::Kms))
            .build();
        let secrets = aws_sdk_secretsmanager::config::Builder::from(sdk)
            .interceptor(CallCounter(Service::SecretsManager))
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
            kms: aws_sdk_kms::Client::from_conf(kms),
            secrets: aws_sdk_secretsmanager::Client::from_conf(secrets),
        }
    }

    pub async fn from_env() -> Self {
        Self::new(&sdk_config().await)
    }
}

/// True when an SDK error means the service could not be reached or did not answer in time,
/// as opposed to answering with an error.
pub fn is_unavailable<E, R>(err: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool {
    use aws_smithy_runtime_api::client::result::SdkError;
    matches!(
        err,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    )
}

/// A loggable account of an SDK error: its kind, HTTP status, error code and AWS request id.
/// Never the raw response or body, which can echo what was sent (a password hash in a failed
/// write, a secret's value in a garbled answer).
pub fn describe<E, R>(err: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match err {
        SdkError::ConstructionFailure(_) => "request could not be built".into(),
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(e) => {
            if e.is_timeout() {
                "connection timed out".into()
            } else if e.is_io() {
                "connection failed".into()
            } else {
                "dispatch failed".into()
            }
        }
        SdkError::ResponseError(_) => "unreadable response".into(),
        SdkError::ServiceError(ctx) => {
            let meta = ctx.err().meta();
            format!(
                "{} (request id {})",
                meta.code().unwrap_or("unknown error code"),
                meta.extra("aws_request_id").unwrap_or("unknown")
            )
        }
        _ => "unknown SDK error".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn the_bundled_roots_are_five_certificates() {
        let text = std::str::from_utf8(AWS_ROOTS_PEM).expect("PEM is text");
        let mut ders = Vec::new();
        let mut body: Option<String> = None;
        for line in text.lines() {
            match (line, body.as_mut()) {
                ("-----BEGIN CERTIFICATE-----", None) => body = Some(String::new()),
                ("-----END CERTIFICATE-----", Some(b)) => {
                    ders.push(
                        base64::engine::general_purpose::STANDARD
                            .decode(&*b)
                            .unwrap(),
                    );
                    body = None;
                }
                (l, Some(b)) => b.push_str(l.trim()),
                (_, None) => {}
            }
        }
        assert_eq!(ders.len(), 5);
        for der in &ders {
            // A DER SEQUENCE that holds the issuer's name somewhere.
            assert_eq!(der[0], 0x30);
            assert!(
                der.windows(6).any(|w| w == b"Amazon") || der.windows(9).any(|w| w == b"Starfield")
            );
        }
    }
}
