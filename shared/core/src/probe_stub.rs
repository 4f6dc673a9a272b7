//! TEMPORARY compile stub (main engineer), replaced by the real probe/ module.
use serde::{Deserialize, Serialize};
#[derive(Clone, Debug)]
pub struct ProbeSettings {
    pub timeout: std::time::Duration,
    pub allow_private_networks: bool,
    pub max_body_bytes: usize,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportPreference {
    Auto,
    StreamableHttp,
    Sse,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectedTransport {
    StreamableHttp,
    Sse,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    Passed,
    Failed,
}
pub struct ProbeTarget {
    pub url: String,
    pub transport: TransportPreference,
    pub headers: Vec<(String, String)>,
}
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ProbeOutcome {
    pub status: ProbeStatus,
    pub error: Option<String>,
    pub response_time_ms: u64,
}
pub struct Prober {
    _s: ProbeSettings,
}
impl Prober {
    pub fn new(s: ProbeSettings) -> Self {
        Self { _s: s }
    }
    pub async fn probe(&self, _t: &ProbeTarget) -> ProbeOutcome {
        ProbeOutcome {
            status: ProbeStatus::Failed,
            error: Some("stub".into()),
            response_time_ms: 0,
        }
    }
}
pub fn check_server_url(url: &str, _allow_http: bool) -> Result<url::Url, String> {
    url::Url::parse(url).map_err(|e| e.to_string())
}
