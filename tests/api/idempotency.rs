//! `Idempotency-Key` on write routes (shared/core/src/routes/idempotency.rs): a retry returns
//! the original answer and changes nothing more.

use serde_json::{json, Value};
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::stack::{server, Server};

fn tool(name: &str) -> serde_json::Value {
    json!({"tool_type": "function", "name": name, "risk_level": "low",
           "input_schema": {"type": "object"}})
}

async fn post_with_key(
    api: &Api,
    token: &str,
    path: &str,
    body: &serde_json::Value,
    key: &str,
) -> Resp {
    api.send(
        "POST",
        path,
        Some(token),
        Some(body),
        &[("idempotency-key", key)],
    )
    .await
}

/// A new user `username` changes their password from `first-password-0123` to
/// `second-password-0123` with an Idempotency-Key: (their access token, the key, the body, the
/// answer, a 200).
async fn keyed_password_change(
    s: &Server,
    api: &Api,
    username: &str,
    role: toolreg_core::domain::user::Role,
) -> (String, String, serde_json::Value, Resp) {
    s.create_user(username, "first-password-0123", role).await;
    let (access, _) = api.tokens(username, "first-password-0123").await;
    let idem = uuid::Uuid::new_v4().to_string();
    let body = json!({"current_password": "first-password-0123",
                      "new_password": "second-password-0123"});
    let changed = post_with_key(api, &access, "/api/v1/auth/password", &body, &idem).await;
    changed.assert_status(200);
    (access, idem, body, changed)
}

#[tokio::test]
async fn a_retried_create_returns_the_original_answer_and_creates_once() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let name = unique("idem");
    let key = uuid::Uuid::new_v4().to_string();

    let first = post_with_key(&api, &admin, "/api/v1/tools", &tool(&name), &key).await;
    first.assert_status(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = post_with_key(&api, &admin, "/api/v1/tools", &tool(&name), &key).await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));

    // One tool, one audit event.
    let listed = api
        .get(
            &format!("/api/v1/tools?q={}", name.to_lowercase()),
            Some(&admin),
        )
        .await;
    assert_eq!(listed.names(), vec![name.clone()]);
    let id = first.body["id"].as_str().unwrap();
    let audit = api
        .get(
            &format!("/api/v1/audit-events?target_id={id}&action=tool.create"),
            Some(&admin),
        )
        .await;
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        audit.text
    );

    // The same key with another request is refused and changes nothing; without a key the
    // name is simply taken.
    let other = post_with_key(
        &api,
        &admin,
        "/api/v1/tools",
        &tool(&unique("idem_other")),
        &key,
    )
    .await;
    other.assert_problem(422);
    api.post("/api/v1/tools", Some(&admin), &tool(&name))
        .await
        .assert_problem(409);

    // Deleting twice with one key: the second answer is the first (204), not a 404.
    let elevated = api.elevated().await;
    let del_key = uuid::Uuid::new_v4().to_string();
    for replayed in [None, Some("true")] {
        let r = api
            .send(
                "DELETE",
                &format!("/api/v1/tools/{id}"),
                Some(&elevated),
                None,
                &[("idempotency-key", &del_key)],
            )
            .await;
        r.assert_status(204);
        assert_eq!(r.header("idempotent-replayed"), replayed);
    }

    // Keys are checked.
    post_with_key(
        &api,
        &admin,
        "/api/v1/tools",
        &tool(&unique("idem_bad")),
        "bad key",
    )
    .await
    .assert_problem(400);
}

/// An agent (groups `builders`) with a key, under a policy that allows agents tools tagged
/// `ok` and denies everything else by default.
async fn agent_under_policy(api: &Api, admin: &str) -> (String, String) {
    api.activate_policy(&json!({
        "default": "deny",
        "rules": [{"id": "ok", "effect": "allow", "rationale": "OK",
                   "principal": {"kind": "agent"}, "tool": {"tags": ["ok"]}}]
    }))
    .await;
    let agent = api
        .create_agent(admin, &json!({"name": unique("idem_agent")}))
        .await;
    let (_, key) = api.agent_key(admin, &agent).await;
    (agent, key)
}

/// A remote tool tagged `ok` written straight into the store, in a state no request makes
/// quickly: its last probe `failed`, or drifted from its approved tool list.
async fn seeded_remote(s: &Server, failed: bool, drifted: bool) -> String {
    use toolreg_core::domain::audit::{Actor, AuditEvent, Outcome, RequestMeta};
    use toolreg_core::domain::drift::{Drift, ToolList};
    let mut t = toolreg_tests::fixtures::stale_tool(
        unique("idem_remote"),
        "https://mcp.example.invalid/secret-path",
    );
    t.tags = vec!["ok".into()];
    let remote = t.remote_mut().unwrap();
    if failed {
        remote.last_probe.as_mut().unwrap().outcome.status =
            toolreg_core::domain::probe::ProbeStatus::Failed;
    }
    if drifted {
        let list = |sha: &str| ToolList {
            sha256: sha.repeat(64),
            tools: [("add".to_string(), "0123456789abcdef".to_string())].into(),
            partial: false,
        };
        remote.approved_tools = Some(list("0"));
        remote.drift = Some(Drift {
            detected_at: "2026-01-01T00:00:00.000000Z".into(),
            added: vec![],
            removed: vec![],
            changed: vec!["add".into()],
            partial: false,
            current: list("1"),
        });
    }
    let ev = AuditEvent::new(
        "tool.create",
        Outcome::Success,
        &Actor::default(),
        &RequestMeta::default(),
    )
    .target("tool", &t.id.to_string());
    let state = s.state().await;
    state.store.create_tool(&t, 0, &ev).await.expect("seed");
    t.id.to_string()
}

/// Removes the recorded answer from `principal`'s record of `key`, as when the write that adds
/// it after the change's transaction was lost.
async fn lose_the_answer(s: &Server, principal: &str, key: &str) {
    let clients = toolreg_tests::stack::clients(&s.endpoints()).await;
    clients
        .dynamodb
        .update_item()
        .table_name(&s.env["TABLE_NAME"])
        .key(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S(toolreg_core::store::keys::idempotency_pk(
                principal, key,
            )),
        )
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S(
                toolreg_core::store::keys::IDEMPOTENCY_SK.into(),
            ),
        )
        .update_expression("REMOVE #s, #b, #h")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_names("#s", "status")
        .expression_attribute_names("#b", "body")
        .expression_attribute_names("#h", "headers")
        .send()
        .await
        .expect("the record exists");
}

/// Fields of a tool that an access answer never holds.
const TOOL_FIELDS: &[&str] = &[
    "server_url",
    "header_names",
    "input_schema",
    "transport_preference",
    "last_probe",
    "tags",
    "display_name",
];

#[track_caller]
fn holds_no_tool(r: &Resp) {
    for f in TOOL_FIELDS {
        assert!(r.body.get(*f).is_none(), "{f} in {}", r.text);
    }
    assert!(!r.text.contains("secret-path"), "{}", r.text);
}

#[tokio::test]
async fn a_retried_denied_access_request_answers_the_same_problem_and_never_the_tool() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    let (agent, key) = agent_under_policy(&api, &admin).await;
    let (_, other_key) = agent_under_policy(&api, &admin).await;

    // Denied by the policy, inactive, failed, drifted: each a 403 with its own rationale.
    let denied = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &json!({"tool_type": "function", "name": unique("idem_no"), "risk_level": "low",
                    "input_schema": {"type": "object"}, "tags": ["no"]}),
        )
        .await;
    denied.assert_status(201);
    let inactive = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &json!({"tool_type": "function", "name": unique("idem_off"), "risk_level": "low",
                    "input_schema": {"type": "object"}, "tags": ["ok"]}),
        )
        .await;
    inactive.assert_status(201);
    let inactive_id = inactive.body["id"].as_str().unwrap().to_owned();
    api.post(
        &format!("/api/v1/tools/{inactive_id}/deactivate"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);
    let cases = [
        (
            denied.body["id"].as_str().unwrap().to_owned(),
            "DEFAULT_DENY",
        ),
        (inactive_id, "TOOL_INACTIVE"),
        (seeded_remote(&s, true, false).await, "TOOL_PROBE_FAILED"),
        (seeded_remote(&s, false, true).await, "TOOL_DRIFTED"),
    ];
    for (tool, rationale) in cases {
        let path = format!("/api/v1/tools/{tool}/access");
        let body = json!({"scopes": ["read"]});
        let idem = uuid::Uuid::new_v4().to_string();
        let first = post_with_key(&api, &key, &path, &body, &idem).await;
        first.assert_problem(403);
        assert_eq!(first.body["rationale"], json!(rationale), "{}", first.text);
        holds_no_tool(&first);

        // The retry is the first answer, whole: the same status, problem and decision.
        let again = post_with_key(&api, &key, &path, &body, &idem).await;
        again.assert_problem(403);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.body, first.body, "{rationale}");
        holds_no_tool(&again);

        // Another principal's key of the same name is its own: a decision of its own.
        let theirs = post_with_key(&api, &other_key, &path, &body, &idem).await;
        theirs.assert_problem(403);
        assert_eq!(theirs.header("idempotent-replayed"), None);
        assert_ne!(theirs.body["decision_id"], first.body["decision_id"]);

        // Even when the answer was lost, a retry never renders the tool.
        lose_the_answer(&s, &format!("agent:{agent}"), &idem).await;
        let lost = post_with_key(&api, &key, &path, &body, &idem).await;
        assert_ne!(lost.status / 100, 2, "{rationale}: {}", lost.text);
        lost.assert_problem(lost.status);
        holds_no_tool(&lost);
    }
}

/// Every string an attribute of `v` holds, and every byte string: binary values, and strings
/// that decode as base64 (standard or URL-safe, padded or not) or hex.
fn attribute_bytes(v: &aws_sdk_dynamodb::types::AttributeValue, out: &mut Vec<Vec<u8>>) {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    use base64::Engine;
    let text = |s: &str, out: &mut Vec<Vec<u8>>| {
        out.push(s.as_bytes().to_vec());
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        for e in engines {
            if let Ok(b) = e.decode(s.trim()) {
                out.push(b);
            }
        }
        if let Ok(b) = hex::decode(s.trim()) {
            out.push(b);
        }
    };
    match v {
        A::S(s) | A::N(s) => text(s, out),
        A::B(b) => {
            out.push(b.as_ref().to_vec());
            if let Ok(s) = std::str::from_utf8(b.as_ref()) {
                text(s, out);
            }
        }
        A::Ss(l) | A::Ns(l) => l.iter().for_each(|s| text(s, out)),
        A::Bs(l) => l.iter().for_each(|b| out.push(b.as_ref().to_vec())),
        A::L(l) => l.iter().for_each(|v| attribute_bytes(v, out)),
        A::M(m) => m.values().for_each(|v| attribute_bytes(v, out)),
        _ => {}
    }
}

/// Scans the server's whole table: the items (by key) any of whose attributes holds `secret`,
/// plainly or encoded.
async fn items_holding(s: &Server, secret: &str) -> Vec<String> {
    let needle = secret.as_bytes();
    let mut found = Vec::new();
    for item in s.scan_table().await {
        let mut bytes = Vec::new();
        for (name, v) in &item {
            bytes.push(name.as_bytes().to_vec());
            attribute_bytes(v, &mut bytes);
        }
        if bytes
            .iter()
            .any(|b| b.windows(needle.len()).any(|w| w == needle))
        {
            found.push(format!("{:?}/{:?}", item.get("PK"), item.get("SK")));
        }
    }
    found
}

/// The retry of a secret-bearing answer: a 409 problem naming what was made, without the secret.
#[track_caller]
fn withheld(r: &Resp, secrets: &[&str]) {
    r.assert_problem(409);
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        r.body["type"],
        json!("urn:toolreg:problem:answer-not-kept"),
        "{}",
        r.text
    );
    for secret in secrets {
        assert!(!r.text.contains(secret), "a secret replayed: {}", r.text);
    }
}

#[tokio::test]
async fn answers_holding_a_secret_are_never_kept_and_a_retry_gets_the_resource_without_it() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let admin = api.admin().await;

    // A new API key.
    let (agent, key) = agent_under_policy(&api, &admin).await;
    let path = format!("/api/v1/agents/{agent}/keys");
    let body = json!({"description": "made with an Idempotency-Key"});
    let idem = uuid::Uuid::new_v4().to_string();
    let made = post_with_key(&api, &admin, &path, &body, &idem).await;
    made.assert_status(201);
    let api_key = made.body["key"].as_str().unwrap().to_owned();
    assert_eq!(items_holding(&s, &api_key).await, Vec::<String>::new());
    let again = post_with_key(&api, &admin, &path, &body, &idem).await;
    withheld(&again, &[&api_key]);
    // The resource, without its secret: the client can find and revoke the key.
    assert_eq!(
        again.body["resource"]["id"], made.body["id"],
        "{}",
        again.text
    );
    assert!(again.body["resource"].get("key").is_none());
    assert_eq!(again.header("location"), made.header("location"));
    // Still one key made.
    let keys = api.get(&path, Some(&admin)).await;
    let made_ids: Vec<&Value> = keys.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["id"])
        .filter(|id| **id == made.body["id"])
        .collect();
    assert_eq!(made_ids.len(), 1, "{}", keys.text);

    // A credential.
    let tool = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &json!({"tool_type": "function", "name": unique("idem_ok"), "risk_level": "low",
                    "input_schema": {"type": "object"}, "tags": ["ok"]}),
        )
        .await;
    tool.assert_status(201);
    let path = format!("/api/v1/tools/{}/access", tool.body["id"].as_str().unwrap());
    let body = json!({"scopes": ["read"]});
    let idem = uuid::Uuid::new_v4().to_string();
    let granted = post_with_key(&api, &key, &path, &body, &idem).await;
    granted.assert_status(200);
    let credential = granted.body["credential"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(items_holding(&s, &credential).await, Vec::<String>::new());
    let again = post_with_key(&api, &key, &path, &body, &idem).await;
    withheld(&again, &[&credential]);
    assert_eq!(
        again.body["resource"]["decision_id"], granted.body["decision_id"],
        "{}",
        again.text
    );
    assert!(again.body["resource"]["credential"].get("token").is_none());

    // A token pair from a password change, and an elevated token.
    let username = unique("idem_person");
    let (access, idem, body, changed) =
        keyed_password_change(&s, &api, &username, toolreg_core::domain::user::Role::Admin).await;
    let pair = [
        changed.body["access_token"].as_str().unwrap().to_owned(),
        changed.body["refresh_token"].as_str().unwrap().to_owned(),
    ];
    for t in &pair {
        assert_eq!(items_holding(&s, t).await, Vec::<String>::new());
    }
    let again = post_with_key(&api, &access, "/api/v1/auth/password", &body, &idem).await;
    withheld(&again, &[&pair[0], &pair[1]]);
    // The pair the first answer handed out still works once; nothing replayed can be reused.
    let refreshed = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": pair[1]}),
        )
        .await;
    refreshed.assert_status(200);

    let (access, _) = api.tokens(&username, "second-password-0123").await;
    let idem = uuid::Uuid::new_v4().to_string();
    let body = json!({"password": "second-password-0123"});
    let elevated = post_with_key(&api, &access, "/api/v1/auth/elevate", &body, &idem).await;
    elevated.assert_status(200);
    let token = elevated.body["elevated_token"].as_str().unwrap().to_owned();
    assert_eq!(items_holding(&s, &token).await, Vec::<String>::new());
    let again = post_with_key(&api, &access, "/api/v1/auth/elevate", &body, &idem).await;
    assert!(!again.text.contains(&token), "{}", again.text);
}

/// A keyed request's record identifies the request without a plain hash of its body: the body
/// of a password change holds both passwords, and an unsalted SHA-256 of it kept for 24 h would
/// let anyone who reads the table test guesses. The same request is still recognised.
#[tokio::test]
async fn the_record_of_a_keyed_request_holds_no_plain_hash_of_its_body() {
    use sha2::{Digest, Sha256};
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let username = unique("idem_hash");
    let (access, idem, body, _) =
        keyed_password_change(&s, &api, &username, toolreg_core::domain::user::Role::User).await;

    // What an unkeyed fingerprint of this request would be, in the usual spellings.
    let sent = serde_json::to_vec(&body).unwrap();
    let mut plain = Vec::new();
    for parts in [
        vec![
            &b"POST"[..],
            b"\0",
            b"/api/v1/auth/password",
            b"\0",
            b"\0",
            &sent,
        ],
        vec![&sent[..]],
    ] {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        let digest = h.finalize();
        plain.push(hex::encode(digest));
        plain.push(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            digest,
        ));
    }
    for p in &plain {
        assert_eq!(items_holding(&s, p).await, Vec::<String>::new(), "{p}");
    }
    // Still the same request: the retry is recognised (not a 422 for a different request).
    let again = post_with_key(&api, &access, "/api/v1/auth/password", &body, &idem).await;
    again.assert_problem(409);
    let other = json!({"current_password": "first-password-0123",
                       "new_password": "third-password-0123"});
    post_with_key(&api, &access, "/api/v1/auth/password", &other, &idem)
        .await
        .assert_problem(422);
}
