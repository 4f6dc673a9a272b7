//! Items the tests write straight into the store, for states no API request can make.

use toolreg_core::domain::probe::{ProbeOutcome, TransportPreference};
use toolreg_core::domain::tool::{ProbeRecord, RemoteConfig, RiskLevel, Tool, ToolId, ToolKind};

/// An active remote tool on `url` whose last probe passed long ago: due for re-probing.
pub fn stale_tool(name: String, url: &str) -> Tool {
    let id = ToolId::generate();
    let long_ago = "2026-01-01T00:00:00.000000Z".to_string();
    let outcome: ProbeOutcome = serde_json::from_value(serde_json::json!({
        "status": "passed", "detected_transport": "streamable_http", "requires_auth": false,
        "auth_challenge": null, "protocol_version": "2025-06-18", "server_name": "old",
        "server_version": "0", "tool_count": 0, "tool_names": [], "tools_sha256": null,
        "response_time_ms": 1, "error": null
    }))
    .expect("outcome");
    Tool {
        tags: vec![],
        id,
        name,
        display_name: "stale".into(),
        description: String::new(),
        risk_level: RiskLevel::Low,
        is_active: true,
        version: 1,
        created_at: long_ago.clone(),
        updated_at: long_ago.clone(),
        created_by: "tests".into(),
        updated_by: "tests".into(),
        kind: ToolKind::Remote(RemoteConfig {
            server_url: url.to_owned(),
            transport_preference: TransportPreference::Auto,
            header_names: vec![],
            sealed_headers: None,
            requires_per_user_auth: false,
            last_probe: Some(ProbeRecord {
                id: uuid::Uuid::new_v4().to_string(),
                probed_at: long_ago.clone(),
                valid_until: "2026-01-02T00:00:00.000000Z".into(),
                outcome,
            }),
            approved_tools: None,
            drift: None,
        }),
    }
}
