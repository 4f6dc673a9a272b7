//! A loopback HTTP proxy for tests: forwards every request to one upstream as it came (`Host`
//! and `Origin` included), adding the headers it was given, except the requests its rule
//! answers itself. Used to put answers the local stack never gives in front of it (DynamoDB's
//! transaction conflicts) and to authenticate the conformance suite's requests to `/mcp`
//! without changing what they test.
//!
//! It runs on its own thread and runtime, so a test may block on a child process meanwhile.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, RwLock};

/// An answer the proxy gives instead of forwarding.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// Decides, from a request's method, URI, headers and body, whether the proxy answers it.
pub type Rule = Arc<dyn Fn(&Method, &Uri, &HeaderMap, &[u8]) -> Option<Answer> + Send + Sync>;

struct Shared {
    upstream: RwLock<String>,
    add: RwLock<Vec<(HeaderName, HeaderValue)>>,
    rule: Rule,
    client: reqwest::Client,
}

fn header_pairs(add: &[(&str, &str)]) -> Vec<(HeaderName, HeaderValue)> {
    add.iter()
        .map(|(k, v)| {
            (
                HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                HeaderValue::from_str(v).expect("header value"),
            )
        })
        .collect()
}

/// A running proxy; stopped on drop.
pub struct Proxy {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Hop-by-hop headers and those the HTTP stack sets itself.
const NOT_FORWARDED: &[&str] = &[
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
];

impl Proxy {
    /// Starts a proxy to `upstream` (`http://host:port`) that adds `add` to every forwarded
    /// request and answers what `rule` picks.
    pub fn start(upstream: &str, add: &[(&str, &str)], rule: Rule) -> Proxy {
        let shared = Arc::new(Shared {
            upstream: RwLock::new(upstream.trim_end_matches('/').to_owned()),
            add: RwLock::new(header_pairs(add)),
            rule,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("proxy client"),
        });
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let served = Arc::clone(&shared);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind the proxy");
                let addr = listener.local_addr().expect("proxy address");
                url_tx
                    .send(format!("http://{addr}"))
                    .expect("report the url");
                let app = axum::Router::new().fallback(forward).with_state(served);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        });
        let url = url_rx.recv().expect("the proxy started");
        Proxy {
            url,
            shared,
            stop: Some(stop_tx),
        }
    }

    /// Forwards to `upstream` from now on (when it can only start once the proxy's address is
    /// known).
    pub fn set_upstream(&self, upstream: &str) {
        *self.shared.upstream.write().expect("upstream") =
            upstream.trim_end_matches('/').to_owned();
    }

    /// Adds `add` to forwarded requests from now on, instead of what it added before.
    pub fn set_headers(&self, add: &[(&str, &str)]) {
        *self.shared.add.write().expect("headers") = header_pairs(add);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn forward(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(a) = (s.rule)(&method, &uri, &headers, &body) {
        let mut h = HeaderMap::new();
        for (k, v) in a.headers {
            h.insert(k, HeaderValue::from_str(&v).expect("answer header"));
        }
        let status = StatusCode::from_u16(a.status).expect("status");
        return (status, h, a.body).into_response();
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = HeaderMap::new();
    for (k, v) in &headers {
        if !NOT_FORWARDED.contains(&k.as_str()) {
            out.append(k.clone(), v.clone());
        }
    }
    for (k, v) in s.add.read().expect("headers").iter() {
        out.insert(k.clone(), v.clone());
    }
    let upstream = s.upstream.read().expect("upstream").clone();
    let sent = s
        .client
        .request(method, format!("{upstream}{path}"))
        .headers(out)
        .body(body)
        .send()
        .await;
    let r = match sent {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("proxy: {e}")).into_response(),
    };
    let status = r.status();
    let mut h = HeaderMap::new();
    for (k, v) in r.headers() {
        if !NOT_FORWARDED.contains(&k.as_str()) {
            h.append(k.clone(), v.clone());
        }
    }
    let bytes = r.bytes().await.unwrap_or_default();
    (status, h, bytes).into_response()
}
