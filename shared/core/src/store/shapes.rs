//! Pins the stored shape of every item kind: keys, attribute names and DynamoDB types. A change
//! here is a change of the stored format and needs a migration plan, so these tests fail loudly
//! on any drift. Every item is built through its item struct, as the store writes it.

use super::item::Item;
use super::StoreError;
use crate::domain::audit::{Actor, AuditEvent, Outcome, RequestMeta};
use crate::domain::drift::{Drift, ToolList};
use crate::domain::tool::{
    ProbeRecord, RemoteConfig, RiskLevel, SealedHeaders, Tool, ToolId, ToolKind, ToolSummary,
    ToolType,
};

/// The tool id of these fixtures.
const T1: &str = "6f1c1f0e-2b7a-4c39-9d43-6a1e8f3b5c21";

fn t1() -> ToolId {
    ToolId::parse(T1).expect("a canonical UUID")
}
use crate::domain::probe::{ProbeOutcome, TransportPreference};
use crate::domain::user::{Role, User};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::BTreeMap;

/// Each attribute's name and DynamoDB type.
fn shape(item: &Item) -> BTreeMap<&str, &'static str> {
    item.iter()
        .map(|(name, v)| {
            let kind = match v {
                AttributeValue::S(_) => "S",
                AttributeValue::N(_) => "N",
                AttributeValue::Bool(_) => "BOOL",
                AttributeValue::B(_) => "B",
                AttributeValue::L(_) => "L",
                AttributeValue::M(_) => "M",
                AttributeValue::Ss(_) => "SS",
                AttributeValue::Ns(_) => "NS",
                AttributeValue::Bs(_) => "BS",
                AttributeValue::Null(_) => "NULL",
                _ => "unknown",
            };
            (name.as_str(), kind)
        })
        .collect()
}

/// The expected shape: every attribute is a string except those listed with their type.
fn strings_except<'a>(
    strings: &[&'a str],
    others: &[(&'a str, &'static str)],
) -> BTreeMap<&'a str, &'static str> {
    strings
        .iter()
        .map(|n| (*n, "S"))
        .chain(others.iter().copied())
        .collect()
}

fn s<'a>(item: &'a Item, name: &str) -> &'a str {
    item[name]
        .as_s()
        .unwrap_or_else(|_| panic!("{name} is a string"))
}

fn is_corrupt<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Corrupt(_)))
}

fn user() -> User {
    let mut u = User::new(
        "u1".into(),
        "Alice",
        Role::Admin,
        "$argon2id$x".into(),
        "2026-11-22T10:00:00.000000Z".into(),
    );
    u.display_name = "Alice A.".into();
    u
}

#[test]
fn user_and_username_guard() {
    let it = super::users::to_item(&user()).unwrap();
    assert_eq!(s(&it, "PK"), "USER#u1");
    assert_eq!(s(&it, "SK"), "USER");
    assert_eq!(s(&it, "GSI1PK"), "USERS");
    assert_eq!(s(&it, "GSI1SK"), "alice");
    assert_eq!(s(&it, "entity"), "user");
    assert_eq!(s(&it, "role"), "admin");
    assert_eq!(s(&it, "username_lower"), "alice");
    assert_eq!(
        shape(&it),
        strings_except(
            &[
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
                "created_at",
                "display_name",
                "search_text",
                "updated_at"
            ],
            &[("disabled", "BOOL"), ("version", "N")]
        )
    );
    assert_eq!(s(&it, "search_text"), "alice\nalice a.");
    // Revoking sessions adds the mark, a number.
    let mut revoked = user();
    revoked.sessions_valid_after_ms = Some(1_800_000_000_000);
    let r = super::users::to_item(&revoked).unwrap();
    assert_eq!(
        r["sessions_valid_after_ms"],
        AttributeValue::N("1800000000000".into())
    );
    assert_eq!(super::users::from_item(r).unwrap(), revoked);
    // A user stored before the users API reads as enabled, version 1, named by its username.
    let mut legacy = it.clone();
    for a in [
        "display_name",
        "search_text",
        "disabled",
        "version",
        "updated_at",
    ] {
        legacy.remove(a);
    }
    let l = super::users::from_item(legacy).unwrap();
    assert_eq!(
        (l.display_name.as_str(), l.disabled, l.version),
        ("Alice", false, 1)
    );
    assert_eq!(l.updated_at, l.created_at);
    let g = super::users::guard_item(&user()).unwrap();
    assert_eq!((s(&g, "PK"), s(&g, "SK")), ("USERNAME#alice", "UNIQUE"));
    assert_eq!(
        (s(&g, "entity"), s(&g, "user_id")),
        ("username_guard", "u1")
    );
    assert_eq!(
        shape(&g),
        strings_except(&["PK", "SK", "entity", "user_id"], &[])
    );
    assert_eq!(super::users::from_item(it).unwrap(), user());
}

#[test]
fn refresh_token_and_family() {
    use super::tokens::{RefreshTokenItem, TokenFamilyItem};
    let r = super::tokens::RefreshRecord {
        jti: "j1".into(),
        family_id: "f1".into(),
        user_id: "u1".into(),
        expires_at: 1_800_000_000,
    };
    let it = super::tokens::token_item(&r).unwrap();
    assert_eq!((s(&it, "PK"), s(&it, "SK")), ("RTOKEN#j1", "RTOKEN"));
    assert_eq!(s(&it, "entity"), "refresh_token");
    assert_eq!(it["used"], AttributeValue::Bool(false));
    assert_eq!(it["expires_at"], AttributeValue::N("1800000000".into()));
    assert_eq!(
        shape(&it),
        strings_except(
            &["PK", "SK", "entity", "family_id", "user_id"],
            &[("used", "BOOL"), ("expires_at", "N")]
        )
    );
    // `rotate_refresh_token` marks a token used in place; the struct reads that state back.
    let mut used = it.clone();
    used.insert("used".into(), AttributeValue::Bool(true));
    used.insert("used_at".into(), AttributeValue::N("1700000000".into()));
    let t: RefreshTokenItem = super::item::from_item(used).unwrap();
    assert!(t.used);
    assert_eq!(t.used_at, Some(1_700_000_000));

    let f = super::tokens::family_item("f1", "u1", 1_800_000_000).unwrap();
    assert_eq!((s(&f, "PK"), s(&f, "SK")), ("RFAMILY#f1", "RFAMILY"));
    assert_eq!(s(&f, "entity"), "token_family");
    assert_eq!(
        shape(&f),
        strings_except(&["PK", "SK", "entity", "user_id"], &[("expires_at", "N")])
    );
    let mut revoked = f.clone();
    revoked.insert("revoked_at".into(), AttributeValue::N("1700000001".into()));
    let fam: TokenFamilyItem = super::item::from_item(revoked).unwrap();
    assert_eq!(fam.revoked_at, Some(1_700_000_001));
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
        tags: vec![],
        id: t1(),
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
        kind: ToolKind::Remote(RemoteConfig {
            server_url: "https://mcp.example.test/mcp".into(),
            transport_preference: TransportPreference::StreamableHttp,
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
            approved_tools: Some(ToolList {
                sha256: "ab".into(),
                tools: [("echo".to_string(), "0123456789abcdef".to_string())].into(),
                partial: false,
            }),
            drift: Some(Drift {
                detected_at: "2026-11-22T11:00:00.000000Z".into(),
                added: vec!["add".into()],
                removed: vec![],
                changed: vec!["echo".into()],
                partial: false,
                current: ToolList {
                    sha256: "cd".into(),
                    tools: [
                        ("add".to_string(), "1111111111111111".to_string()),
                        ("echo".to_string(), "2222222222222222".to_string()),
                    ]
                    .into(),
                    partial: false,
                },
            }),
        }),
    }
}

/// The string attributes every tool item has.
const TOOL_STRINGS: [&str; 16] = [
    "PK",
    "SK",
    "GSI1PK",
    "GSI1SK",
    "entity",
    "id",
    "tool_type",
    "name",
    "name_lower",
    "display_name",
    "description",
    "search_text",
    "risk_level",
    "created_at",
    "updated_at",
    "created_by",
];

#[test]
fn remote_tool_item_is_due_only_while_active() {
    let it = super::tools::to_item(&remote_tool(true)).unwrap();
    assert_eq!(
        (s(&it, "PK"), s(&it, "SK")),
        (format!("TOOL#{T1}").as_str(), "TOOL")
    );
    assert_eq!(
        (s(&it, "GSI1PK"), s(&it, "GSI1SK")),
        ("TOOLS", "code_runner")
    );
    assert_eq!(s(&it, "GSI2PK"), "PROBE_DUE");
    assert_eq!(
        s(&it, "GSI2SK"),
        format!("2026-11-23T11:00:00.000000Z#{T1}")
    );
    assert_eq!(
        (s(&it, "entity"), s(&it, "tool_type"), s(&it, "risk_level")),
        ("tool", "remote", "high")
    );
    assert_eq!(s(&it, "transport_preference"), "streamable_http");
    assert_eq!(it["version"], AttributeValue::N("3".into()));
    assert_eq!(it["is_active"], AttributeValue::Bool(true));
    assert_eq!(
        it["header_names"],
        AttributeValue::L(vec![AttributeValue::S("X-Api-Key".into())])
    );
    assert_eq!(
        it["headers_nonce"],
        AttributeValue::B(aws_smithy_types::Blob::new(vec![3; 12]))
    );
    let mut strings = TOOL_STRINGS.to_vec();
    strings.extend([
        "updated_by",
        "GSI2PK",
        "GSI2SK",
        "server_url",
        "transport_preference",
        "last_probe",
        "probe_valid_until",
        "approved_tools",
        "tool_drift",
    ]);
    assert_eq!(
        shape(&it),
        strings_except(
            &strings,
            &[
                ("is_active", "BOOL"),
                ("drifted", "BOOL"),
                ("tags", "L"),
                ("version", "N"),
                ("header_names", "L"),
                ("requires_per_user_auth", "BOOL"),
                ("headers_key", "B"),
                ("headers_nonce", "B"),
                ("headers_ciphertext", "B"),
            ]
        )
    );
    // No attribute holds a header value in the clear.
    assert!(!format!("{it:?}").contains("sk-"));
    assert_eq!(
        super::tools::from_item(it.clone()).unwrap(),
        remote_tool(true)
    );
    // A re-probe claim (set in place by `claim_probe`) does not change the tool read back.
    let mut claimed = it;
    claimed.insert(
        "probe_claimed_until".into(),
        AttributeValue::N("1800000000".into()),
    );
    assert_eq!(super::tools::from_item(claimed).unwrap(), remote_tool(true));
    let inactive = super::tools::to_item(&remote_tool(false)).unwrap();
    assert!(!inactive.contains_key("GSI2PK") && !inactive.contains_key("GSI2SK"));
    assert_eq!(inactive["is_active"], AttributeValue::Bool(false));
}

#[test]
fn remote_tool_items_stored_before_drift_tracking_still_read() {
    let mut it = super::tools::to_item(&remote_tool(true)).unwrap();
    assert_eq!(it["drifted"], AttributeValue::Bool(true));
    for gone in ["approved_tools", "tool_drift", "drifted"] {
        it.remove(gone);
    }
    let t = super::tools::from_item(it).unwrap();
    let r = t.remote().unwrap();
    assert_eq!((&r.approved_tools, &r.drift), (&None, &None));
}

#[test]
fn remote_tool_without_headers_or_probe() {
    let mut t = remote_tool(true);
    let r = t.remote_mut().unwrap();
    r.sealed_headers = None;
    r.last_probe = None;
    r.header_names = vec![];
    r.approved_tools = None;
    r.drift = None;
    let it = super::tools::to_item(&t).unwrap();
    assert_eq!(it["drifted"], AttributeValue::Bool(false));
    for absent in [
        "approved_tools",
        "tool_drift",
        "headers_key",
        "headers_nonce",
        "headers_ciphertext",
        "last_probe",
        "probe_valid_until",
        "GSI2PK",
        "GSI2SK",
    ] {
        assert!(!it.contains_key(absent), "{absent} is not written");
    }
    assert_eq!(it["header_names"], AttributeValue::L(vec![]));
    assert_eq!(super::tools::from_item(it).unwrap(), t);
}

#[test]
fn function_tool_guard_and_probe_record() {
    let mut t = remote_tool(true);
    t.kind = ToolKind::Function {
        input_schema: serde_json::json!({"type": "object"}),
    };
    let it = super::tools::to_item(&t).unwrap();
    assert_eq!(s(&it, "input_schema"), r#"{"type":"object"}"#);
    assert_eq!(s(&it, "tool_type"), "function");
    let mut strings = TOOL_STRINGS.to_vec();
    strings.extend(["updated_by", "input_schema"]);
    assert_eq!(
        shape(&it),
        strings_except(
            &strings,
            &[("is_active", "BOOL"), ("tags", "L"), ("version", "N")]
        )
    );
    assert_eq!(super::tools::from_item(it).unwrap(), t);

    let g = super::tools::guard_item("Code_Runner", t1()).unwrap();
    assert_eq!(
        (s(&g, "PK"), s(&g, "SK"), s(&g, "tool_id")),
        ("TOOLNAME#code_runner", "UNIQUE", T1)
    );
    assert_eq!(s(&g, "entity"), "tool_name_guard");
    assert_eq!(
        shape(&g),
        strings_except(&["PK", "SK", "entity", "tool_id"], &[])
    );

    let p = remote_tool(true)
        .remote()
        .unwrap()
        .last_probe
        .clone()
        .unwrap();
    let pi = super::tools::probe_item(t1(), &p, 1_800_000_000).unwrap();
    assert_eq!(s(&pi, "PK"), format!("TOOL#{T1}"));
    assert_eq!(s(&pi, "SK"), "PROBE#2026-11-22T11:00:00.000000Z#p1");
    assert_eq!(s(&pi, "entity"), "probe");
    assert_eq!(pi["expires_at"], AttributeValue::N("1800000000".into()));
    assert_eq!(
        shape(&pi),
        strings_except(
            &["PK", "SK", "entity", "tool_id", "record"],
            &[("expires_at", "N")]
        )
    );
    let back: super::tools::ProbeItem = super::item::from_item(pi).unwrap();
    assert_eq!(ProbeRecord::try_from(back).unwrap(), p);
}

/// Keeps only `names` of `item`, as a ProjectionExpression would.
fn project(item: &Item, names: &str) -> Item {
    let names: Vec<&str> = names
        .split(',')
        .map(|n| if n.trim() == "#n" { "name" } else { n.trim() })
        .collect();
    item.iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn projections_read_exactly_their_structs() {
    use super::tools::{ToolSummaryItem, TOOL_SUMMARY_PROJECTION};
    let full = super::tools::to_item(&remote_tool(true)).unwrap();

    let summary = project(&full, TOOL_SUMMARY_PROJECTION);
    let read: ToolSummaryItem = super::item::from_item(summary.clone()).unwrap();
    // Every projected attribute is a field of the struct and the other way round.
    assert_eq!(super::item::to_item(&read).unwrap(), summary);
    let expected = ToolSummary {
        id: t1(),
        tool_type: ToolType::Remote,
        name: "Code_Runner".into(),
        version: 3,
    };
    assert_eq!(ToolSummary::try_from(read).unwrap(), expected);

    // Resume positions are made of the query's key attributes: the projection holds them.
    for key in ["PK", "SK"] {
        assert!(summary.contains_key(key), "{key} is projected");
    }
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
    let mut e = AuditEvent::new("tool.create", Outcome::Success, &actor, &meta)
        .target("tool", "t1")
        .details(serde_json::json!({"name": "x"}));
    e.id = "e1".into();
    e.timestamp = "2026-11-22T10:00:00.000000Z".into();
    let it = super::audit::to_item(&e).unwrap();
    assert_eq!(
        (s(&it, "PK"), s(&it, "SK")),
        ("AUDIT", "2026-11-22T10:00:00.000000Z#e1")
    );
    assert_eq!(
        (s(&it, "GSI1PK"), s(&it, "GSI1SK")),
        ("ACTOR#u1", "2026-11-22T10:00:00.000000Z#e1")
    );
    assert_eq!(
        (s(&it, "GSI2PK"), s(&it, "GSI2SK")),
        ("TARGET#t1", "2026-11-22T10:00:00.000000Z#e1")
    );
    assert_eq!(
        (s(&it, "entity"), s(&it, "outcome"), s(&it, "details")),
        ("audit_event", "success", r#"{"name":"x"}"#)
    );
    assert_eq!(
        shape(&it),
        strings_except(
            &[
                "PK",
                "SK",
                "GSI1PK",
                "GSI1SK",
                "GSI2PK",
                "GSI2SK",
                "entity",
                "id",
                "timestamp",
                "action",
                "outcome",
                "actor_user_id",
                "actor_username",
                "target_type",
                "target_id",
                "source_ip",
                "user_agent",
                "request_id",
                "details",
            ],
            &[]
        )
    );
    assert_eq!(super::audit::from_item(it).unwrap(), e);

    let anon = AuditEvent::new("auth.login", Outcome::Failure, &Actor::default(), &meta);
    let it = super::audit::to_item(&anon).unwrap();
    assert_eq!(
        shape(&it),
        strings_except(
            &[
                "PK",
                "SK",
                "entity",
                "id",
                "timestamp",
                "action",
                "outcome",
                "source_ip",
                "user_agent",
                "request_id",
                "details",
            ],
            &[]
        )
    );
    assert_eq!(super::audit::from_item(it).unwrap(), anon);
}

#[test]
fn rate_counter_key_holds_its_window() {
    use super::ratelimit::RateCounterItem;
    assert_eq!(
        super::keys::rate_counter_pk("login_ip", "abc", 120),
        "RL#login_ip#abc#120"
    );
    assert_eq!(super::keys::RATE_SK, "RL");
    // What the conditional ADD leaves behind (and returns): no `entity`, counts as numbers.
    let stored: Item = [
        ("PK", AttributeValue::S("RL#login_ip#abc#120".into())),
        ("SK", AttributeValue::S("RL".into())),
        ("count", AttributeValue::N("2".into())),
        ("expires_at", AttributeValue::N("240".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let c: RateCounterItem = super::item::from_item(stored.clone()).unwrap();
    assert_eq!((c.count, c.expires_at), (2, 240));
    assert_eq!(
        shape(&super::item::to_item(&c).unwrap()),
        strings_except(&["PK", "SK"], &[("count", "N"), ("expires_at", "N")])
    );
    assert_eq!(super::item::to_item(&c).unwrap(), stored);
}

#[test]
fn corrupt_items_are_store_errors() {
    let user = super::users::to_item(&user()).unwrap();
    let mut bad_role = user.clone();
    bad_role.insert("role".into(), AttributeValue::S("wizard".into()));
    assert!(is_corrupt(super::users::from_item(bad_role)));
    let mut no_hash = user.clone();
    no_hash.remove("password_hash");
    assert!(is_corrupt(super::users::from_item(no_hash)));
    // A username guard read as a user names its kind.
    let guard = super::users::guard_item(&super::users::from_item(user).unwrap()).unwrap();
    assert!(is_corrupt(super::users::from_item(guard)));

    let tool = super::tools::to_item(&remote_tool(true)).unwrap();
    let with = |name: &str, v: AttributeValue| {
        let mut it = tool.clone();
        it.insert(name.into(), v);
        super::tools::from_item(it)
    };
    assert!(is_corrupt(with("version", AttributeValue::N("x".into()))));
    assert!(is_corrupt(with("version", AttributeValue::S("3".into()))));
    assert!(is_corrupt(with(
        "is_active",
        AttributeValue::S("true".into())
    )));
    assert!(is_corrupt(with(
        "headers_key",
        AttributeValue::S("AQI=".into())
    )));
    assert!(is_corrupt(with(
        "tool_type",
        AttributeValue::S("plugin".into())
    )));
    assert!(is_corrupt(with(
        "entity",
        AttributeValue::S("probe".into())
    )));
    assert!(is_corrupt(with(
        "last_probe",
        AttributeValue::S("{".into())
    )));
    assert!(is_corrupt(with(
        "input_schema",
        AttributeValue::S("{".into())
    )));
    let mut no_url = tool.clone();
    no_url.remove("server_url");
    assert!(is_corrupt(super::tools::from_item(no_url)));
    let mut half_sealed = tool.clone();
    half_sealed.remove("headers_nonce");
    assert!(is_corrupt(super::tools::from_item(half_sealed)));
    assert!(is_corrupt(super::tools::from_item(Item::new())));

    let p = remote_tool(true)
        .remote()
        .unwrap()
        .last_probe
        .clone()
        .unwrap();
    let mut probe = super::tools::probe_item(t1(), &p, 1).unwrap();
    probe.insert("record".into(), AttributeValue::S("[]".into()));
    let probe: super::tools::ProbeItem = super::item::from_item(probe).unwrap();
    assert!(is_corrupt(ProbeRecord::try_from(probe)));

    let meta = RequestMeta::default();
    let e = AuditEvent::new("auth.login", Outcome::Failure, &Actor::default(), &meta);
    let mut bad = super::audit::to_item(&e).unwrap();
    bad.insert("details".into(), AttributeValue::S("not json".into()));
    assert!(is_corrupt(super::audit::from_item(bad)));
    let mut bad = super::audit::to_item(&e).unwrap();
    bad.insert("outcome".into(), AttributeValue::S("maybe".into()));
    assert!(is_corrupt(super::audit::from_item(bad)));
}

#[test]
fn user_mfa_attributes_totp_and_mfa_token() {
    use crate::domain::mfa::{MfaToken, Totp, TotpStatus};
    // A user with TOTP and remembered login contexts: two more attributes, absent otherwise.
    let mut u = user();
    u.totp_enabled = true;
    u.login_contexts = vec!["c1".into(), "c2".into()];
    let it = super::users::to_item(&u).unwrap();
    assert_eq!(it["totp_enabled"], AttributeValue::Bool(true));
    assert_eq!(
        it["login_contexts"],
        AttributeValue::L(vec![
            AttributeValue::S("c1".into()),
            AttributeValue::S("c2".into())
        ])
    );
    assert_eq!(super::users::from_item(it).unwrap(), u);
    let plain = super::users::to_item(&user()).unwrap();
    assert!(!plain.contains_key("totp_enabled") && !plain.contains_key("login_contexts"));

    let pending = Totp {
        user_id: "u1".into(),
        enrolment_id: "e1".into(),
        status: TotpStatus::Pending,
        sealed_secret: SealedHeaders {
            wrapped_key: vec![1, 2],
            nonce: vec![3; 12],
            ciphertext: vec![4, 5],
        },
        last_step: None,
        created_at: "2026-11-22T10:00:00.000000Z".into(),
        confirmed_at: None,
        expires_at: Some(1_800_000_000),
    };
    let it = super::mfa::totp_item(&pending).unwrap();
    assert_eq!((s(&it, "PK"), s(&it, "SK")), ("USER#u1", "MFA#TOTP"));
    assert_eq!((s(&it, "entity"), s(&it, "status")), ("totp", "pending"));
    assert_eq!(
        shape(&it),
        strings_except(
            &[
                "PK",
                "SK",
                "entity",
                "user_id",
                "enrolment_id",
                "status",
                "created_at"
            ],
            &[
                ("secret_key", "B"),
                ("secret_nonce", "B"),
                ("secret_ciphertext", "B"),
                ("expires_at", "N"),
            ]
        )
    );
    assert_eq!(super::mfa::totp_from_item(it.clone()).unwrap(), pending);
    // What `confirm_totp` leaves in place: active, the step spent, no TTL.
    let mut active = it;
    active.insert("status".into(), AttributeValue::S("active".into()));
    active.insert("last_step".into(), AttributeValue::N("60000000".into()));
    active.insert(
        "confirmed_at".into(),
        AttributeValue::S("2026-11-22T10:01:00.000000Z".into()),
    );
    active.remove("expires_at");
    let t = super::mfa::totp_from_item(active).unwrap();
    assert!(t.is_active() && t.last_step == Some(60_000_000) && t.expires_at.is_none());
    // No attribute holds the secret in a readable form; a user item is no authenticator.
    assert!(is_corrupt(super::mfa::totp_from_item(
        super::users::to_item(&user()).unwrap()
    )));

    let token = MfaToken {
        user_id: "u1".into(),
        expires_at: 1_800_000_000,
        attempts: 0,
    };
    let it = super::mfa::mfa_token_item("u1.secret", &token).unwrap();
    // Keyed by the token's SHA-256 only: the table never holds a usable token.
    use sha2::Digest;
    assert_eq!(
        s(&it, "PK"),
        format!(
            "MFATOKEN#{}",
            hex::encode(sha2::Sha256::digest(b"u1.secret"))
        )
    );
    assert_eq!(s(&it, "SK"), "MFATOKEN");
    assert_eq!(s(&it, "entity"), "mfa_token");
    assert_eq!(
        shape(&it),
        strings_except(
            &["PK", "SK", "entity", "user_id"],
            &[("attempts", "N"), ("expires_at", "N")]
        )
    );
    assert_eq!(super::mfa::mfa_token_from_item(it).unwrap(), token);
}
