//! Pins the stored shape of every item kind: keys and attributes. A change here is a change of
//! the stored format and needs a migration plan, so these tests fail loudly on any drift.

use super::item::Item;
use crate::domain::audit::{Actor, AuditEvent, Outcome, RequestMeta};
use crate::domain::tool::{ProbeRecord, RemoteConfig, RiskLevel, SealedHeaders, Tool, ToolType};
use crate::domain::user::{Role, User};
use crate::probe::{ProbeOutcome, TransportPreference};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::BTreeSet;

fn names(item: &Item) -> BTreeSet<&str> {
    item.keys().map(String::as_str).collect()
}

fn s<'a>(item: &'a Item, name: &str) -> &'a str {
    item[name]
        .as_s()
        .unwrap_or_else(|_| panic!("{name} is a string"))
}

fn user() -> User {
    User {
        id: "u1".into(),
        username: "Alice".into(),
        role: Role::Admin,
        password_hash: "$argon2id$x".into(),
        created_at: "2026-11-22T10:00:00.000000Z".into(),
    }
}

#[test]
fn user_and_username_guard() {
    let it = super::users::to_item(&user());
    assert_eq!(s(&it, "PK"), "USER#u1");
    assert_eq!(s(&it, "SK"), "USER");
    assert_eq!(s(&it, "GSI1PK"), "USERS");
    assert_eq!(s(&it, "GSI1SK"), "alice");
    assert_eq!(
        names(&it),
        BTreeSet::from([
            "PK",
            "SK",
            "GSI1PK",
            "GSI1SK",
            "entity",
            "id",
            "username",
            "username_lower",
            "role",
            "password_hash",
            "created_at"
        ])
    );
    let g = super::users::guard_item(&user());
    assert_eq!((s(&g, "PK"), s(&g, "SK")), ("USERNAME#alice", "UNIQUE"));
    assert_eq!(names(&g), BTreeSet::from(["PK", "SK", "entity", "user_id"]));
    assert_eq!(super::users::from_item(&it).unwrap(), user());
}

#[test]
fn refresh_token_and_family() {
    let r = super::tokens::RefreshRecord {
        jti: "j1".into(),
        family_id: "f1".into(),
        user_id: "u1".into(),
        expires_at: 1_800_000_000,
    };
    let it = super::tokens::token_item(&r);
    assert_eq!((s(&it, "PK"), s(&it, "SK")), ("RTOKEN#j1", "RTOKEN"));
    assert_eq!(it["used"], AttributeValue::Bool(false));
    assert_eq!(it["expires_at"], AttributeValue::N("1800000000".into()));
    assert_eq!(
        names(&it),
        BTreeSet::from([
            "PK",
            "SK",
            "entity",
            "family_id",
            "user_id",
            "used",
            "expires_at"
        ])
    );
    let f = super::tokens::family_item("f1", "u1", 1_800_000_000);
    assert_eq!((s(&f, "PK"), s(&f, "SK")), ("RFAMILY#f1", "RFAMILY"));
    assert_eq!(
        names(&f),
        BTreeSet::from(["PK", "SK", "entity", "user_id", "expires_at"])
    );
}

fn outcome() -> ProbeOutcome {
    serde_json::from_value(serde_json::json!({
        "status": "passed",
        "detected_transport": "streamable_http",
        "requires_auth": false,
        "auth_challenge": null,
        "protocol_version": "2025-06-18",
        "server_name": "demo",
        "server_version": "1.0",
        "tool_count": 1,
        "tool_names": ["echo"],
        "tools_sha256": "ab",
        "response_time_ms": 12,
        "error": null
    }))
    .expect("a probe outcome deserialises from its JSON form")
}

fn remote_tool(active: bool) -> Tool {
    Tool {
        id: "t1".into(),
        tool_type: ToolType::Remote,
        name: "Code_Runner".into(),
        display_name: "Code runner".into(),
        description: "Runs code".into(),
        risk_level: RiskLevel::High,
        is_active: active,
        version: 3,
        created_at: "2026-11-22T10:00:00.000000Z".into(),
        updated_at: "2026-11-22T11:00:00.000000Z".into(),
        created_by: "u1".into(),
        updated_by: "u1".into(),
        input_schema: None,
        remote: Some(RemoteConfig {
            server_url: "https://mcp.example.test/mcp".into(),
            transport_preference: TransportPreference::Auto,
            header_names: vec!["X-Api-Key".into()],
            sealed_headers: Some(SealedHeaders {
                wrapped_key: vec![1, 2],
                nonce: vec![3; 12],
                ciphertext: vec![4, 5],
            }),
            requires_per_user_auth: false,
            last_probe: Some(ProbeRecord {
                id: "p1".into(),
                probed_at: "2026-11-22T11:00:00.000000Z".into(),
                valid_until: "2026-11-23T11:00:00.000000Z".into(),
                outcome: outcome(),
            }),
        }),
    }
}

#[test]
fn remote_tool_item_is_due_only_while_active() {
    let it = super::tools::to_item(&remote_tool(true));
    assert_eq!((s(&it, "PK"), s(&it, "SK")), ("TOOL#t1", "TOOL"));
    assert_eq!(
        (s(&it, "GSI1PK"), s(&it, "GSI1SK")),
        ("TOOLS", "code_runner")
    );
    assert_eq!(s(&it, "GSI2PK"), "PROBE_DUE");
    assert_eq!(s(&it, "GSI2SK"), "2026-11-23T11:00:00.000000Z#t1");
    assert_eq!(
        names(&it),
        BTreeSet::from([
            "PK",
            "SK",
            "GSI1PK",
            "GSI1SK",
            "GSI2PK",
            "GSI2SK",
            "entity",
            "id",
            "tool_type",
            "name",
            "name_lower",
            "display_name",
            "description",
            "search_text",
            "risk_level",
            "is_active",
            "version",
            "created_at",
            "updated_at",
            "created_by",
            "updated_by",
            "server_url",
            "transport_preference",
            "header_names",
            "requires_per_user_auth",
            "headers_key",
            "headers_nonce",
            "headers_ciphertext",
            "last_probe",
            "probe_valid_until",
        ])
    );
    // No attribute holds a header value in the clear.
    assert!(!format!("{it:?}").contains("sk-"));
    assert_eq!(super::tools::from_item(&it).unwrap(), remote_tool(true));
    let inactive = super::tools::to_item(&remote_tool(false));
    assert!(!inactive.contains_key("GSI2PK") && !inactive.contains_key("GSI2SK"));
}

#[test]
fn function_tool_guard_and_probe_record() {
    let mut t = remote_tool(true);
    t.tool_type = ToolType::Function;
    t.remote = None;
    t.input_schema = Some(serde_json::json!({"type": "object"}));
    let it = super::tools::to_item(&t);
    assert_eq!(s(&it, "input_schema"), r#"{"type":"object"}"#);
    assert!(!it.contains_key("GSI2PK") && !it.contains_key("server_url"));
    assert_eq!(super::tools::from_item(&it).unwrap(), t);
    let g = super::tools::guard_item("Code_Runner", "t1");
    assert_eq!(
        (s(&g, "PK"), s(&g, "SK"), s(&g, "tool_id")),
        ("TOOLNAME#code_runner", "UNIQUE", "t1")
    );
    let p = remote_tool(true).remote.unwrap().last_probe.unwrap();
    let pi = super::tools::probe_item("t1", &p, 1_800_000_000);
    assert_eq!(s(&pi, "PK"), "TOOL#t1");
    assert_eq!(s(&pi, "SK"), "PROBE#2026-11-22T11:00:00.000000Z#p1");
    assert_eq!(
        names(&pi),
        BTreeSet::from(["PK", "SK", "entity", "tool_id", "record", "expires_at"])
    );
}

#[test]
fn audit_event_is_indexed_by_actor_and_target() {
    let meta = RequestMeta {
        source_ip: "203.0.113.9".into(),
        user_agent: "ua".into(),
        request_id: "r1".into(),
    };
    let actor = Actor {
        user_id: Some("u1".into()),
        username: Some("alice".into()),
    };
    let mut e =
        AuditEvent::new("tool.create", Outcome::Success, &actor, &meta).target("tool", "t1");
    e.id = "e1".into();
    e.timestamp = "2026-11-22T10:00:00.000000Z".into();
    let it = super::audit::to_item(&e);
    assert_eq!(
        (s(&it, "PK"), s(&it, "SK")),
        ("AUDIT#2026-11", "2026-11-22T10:00:00.000000Z#e1")
    );
    assert_eq!(
        (s(&it, "GSI1PK"), s(&it, "GSI1SK")),
        ("ACTOR#u1", "2026-11-22T10:00:00.000000Z#e1")
    );
    assert_eq!(
        (s(&it, "GSI2PK"), s(&it, "GSI2SK")),
        ("TARGET#t1", "2026-11-22T10:00:00.000000Z#e1")
    );
    assert_eq!(super::audit::from_item(&it).unwrap(), e);
    let anon = AuditEvent::new("auth.login", Outcome::Failure, &Actor::default(), &meta);
    let it = super::audit::to_item(&anon);
    assert!(!it.contains_key("GSI1PK") && !it.contains_key("GSI2PK"));
}

#[test]
fn rate_counter_key_holds_its_window() {
    assert_eq!(
        super::keys::rate_counter_pk("login_ip", "abc", 120),
        "RL#login_ip#abc#120"
    );
    assert_eq!(super::keys::RATE_SK, "RL");
}
