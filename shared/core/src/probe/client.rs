//! The HTTP client every probe uses, and turning its errors into sentences.

use super::ssrf;
use super::ProbeSettings;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;

/// A refused destination; carried through reqwest's error chain so the outcome can name it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Resolves names and refuses the host if any address is internal. reqwest connects only to the
/// addresses returned here, so a DNS answer cannot change between the check and the connection.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| {
                    Box::new(Refused(format!("could not resolve host {host}: {e}")))
                        as Box<dyn std::error::Error + Send + Sync>
                })?
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(Refused(format!("host {host} has no addresses"))) as _);
            }
            if !allow_private {
                if let Some((addr, why)) = addrs
                    .iter()
                    .find_map(|a| ssrf::forbidden_reason(a.ip()).map(|w| (a.ip(), w)))
                {
                    return Err(Box::new(Refused(format!(
                        "host {host} resolves to {addr}, {why}; probing it is not allowed"
                    ))) as _);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

pub fn build(settings: &ProbeSettings) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(GuardedResolver {
            allow_private: settings.allow_private_networks,
        })
        .redirect(reqwest::redirect::Policy::none())
        // Probes must not share connections: each one should see the server as a new client would.
        .pool_max_idle_per_host(0)
        .connect_timeout(settings.timeout)
        .user_agent(concat!("toolreg-prober/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("static reqwest configuration is valid")
}

/// A sentence for a failed request to `url`.
pub fn describe(e: &reqwest::Error, url: &str) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refused>() {
            return r.0.clone();
        }
        // hyper reports a peer that hung up mid-exchange as an incomplete message.
        let text = s.to_string();
        if text.contains("connection closed") || text.contains("IncompleteMessage") {
            return format!("{} closed the connection before answering", host_port(url));
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return format!("connection refused by {}", host_port(url))
                }
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof => {
                    return format!("{} closed the connection before answering", host_port(url))
                }
                _ => {}
            }
        }
        source = s.source();
    }
    if e.is_timeout() {
        return format!("{} did not answer in time", host_port(url));
    }
    if e.is_connect() {
        return format!("could not connect to {}", host_port(url));
    }
    if e.is_body() || e.is_decode() || e.is_request() {
        return format!("{} broke off the exchange ({e})", host_port(url));
    }
    format!("request to {} failed: {e}", host_port(url))
}

fn host_port(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or("?"),
            u.port_or_known_default().unwrap_or(0)
        ),
        Err(_) => url.to_owned(),
    }
}
