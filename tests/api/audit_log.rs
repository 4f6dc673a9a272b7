//! The audit log: every action recorded with who, what, outcome and where; filters and cursors.

use serde_json::{json, Value};
use toolreg_tests::api::{unique, Api};
use toolreg_tests::stack::{Server, ADMIN_PASSWORD, ADMIN_USERNAME};

fn items(r: &toolreg_tests::api::Resp) -> Vec<Value> {
    r.body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn actions_are_recorded_filtered_and_paged() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let rid = format!("audit-test-{}", uuid::Uuid::new_v4().simple());
    let failed = api
        .send(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": ADMIN_USERNAME, "password": "wrong-pass-123"})),
            &[("x-request-id", &rid), ("user-agent", "audit-agent/1.0")],
        )
        .await;
    assert_eq!(failed.status, 401);
    assert_eq!(failed.header("x-request-id"), Some(rid.as_str()));
    let (admin, refresh) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await;
    api.elevated().await;
    let me = api.get("/api/v1/auth/me", Some(&admin)).await;
    let admin_id = me.body["id"].as_str().unwrap().to_owned();
    let t = api
        .post("/api/v1/tools", Some(&admin), &json!({"tool_type": "function", "name": unique("audited"), "risk_level": "low", "input_schema": {"type": "object"}}))
        .await;
    let tool_id = t.body["id"].as_str().unwrap().to_owned();

    let all = api
        .get("/api/v1/audit-events?limit=100", Some(&admin))
        .await;
    assert_eq!(all.status, 200, "{}", all.text);
    let events = items(&all);
    let stamps: Vec<&str> = events
        .iter()
        .map(|e| e["timestamp"].as_str().unwrap())
        .collect();
    let mut sorted = stamps.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted, "newest first");
    let failure = events
        .iter()
        .find(|e| e["request_id"] == json!(rid))
        .expect("the failed login is audited");
    assert_eq!(failure["action"], json!("auth.login"));
    assert_eq!(failure["outcome"], json!("failure"));
    assert_eq!(
        failure["details"]["attempted_username"],
        json!(ADMIN_USERNAME)
    );
    assert_eq!(failure["user_agent"], json!("audit-agent/1.0"));
    assert_eq!(failure["source_ip"], json!("127.0.0.1"));
    assert!(
        !all.text.contains("wrong-pass-123"),
        "passwords never reach the audit log"
    );
    for action in [
        "auth.login",
        "auth.refresh",
        "auth.elevate",
        "tool.create",
        "user.create",
    ] {
        assert!(
            events.iter().any(|e| e["action"] == json!(action)),
            "{action} missing"
        );
    }

    let by_action = items(
        &api.get("/api/v1/audit-events?action=auth.refresh", Some(&admin))
            .await,
    );
    assert!(
        !by_action.is_empty()
            && by_action
                .iter()
                .all(|e| e["action"] == json!("auth.refresh"))
    );
    let by_outcome = items(
        &api.get("/api/v1/audit-events?outcome=failure", Some(&admin))
            .await,
    );
    assert!(!by_outcome.is_empty() && by_outcome.iter().all(|e| e["outcome"] == json!("failure")));
    let by_actor = items(
        &api.get(
            &format!("/api/v1/audit-events?actor_user_id={admin_id}"),
            Some(&admin),
        )
        .await,
    );
    assert!(
        by_actor.len() >= 4
            && by_actor
                .iter()
                .all(|e| e["actor_user_id"] == json!(admin_id))
    );
    let by_target = items(
        &api.get(
            &format!("/api/v1/audit-events?target_id={tool_id}"),
            Some(&admin),
        )
        .await,
    );
    assert_eq!(by_target.len(), 1);
    assert_eq!(by_target[0]["action"], json!("tool.create"));
    let both = items(
        &api.get(
            &format!("/api/v1/audit-events?actor_user_id={admin_id}&target_id={tool_id}"),
            Some(&admin),
        )
        .await,
    );
    assert_eq!(both.len(), 1);
    let newest = events[0]["timestamp"].as_str().unwrap();
    let oldest = events.last().unwrap()["timestamp"].as_str().unwrap();
    let window = items(
        &api.get(
            &format!("/api/v1/audit-events?from_timestamp={oldest}&to_timestamp={oldest}"),
            Some(&admin),
        )
        .await,
    );
    assert!(window.iter().all(|e| e["timestamp"] == json!(oldest)) && !window.is_empty());
    let future = items(
        &api.get(
            "/api/v1/audit-events?from_timestamp=2099-01-01T00:00:00Z",
            Some(&admin),
        )
        .await,
    );
    assert!(future.is_empty());
    let upto = items(
        &api.get(
            &format!("/api/v1/audit-events?to_timestamp={newest}"),
            Some(&admin),
        )
        .await,
    );
    assert_eq!(upto.len(), events.len());

    // Paging two at a time visits every event exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/audit-events?limit=2&cursor={c}"),
            None => "/api/v1/audit-events?limit=2".to_string(),
        };
        let r = api.get(&path, Some(&admin)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        seen.extend(
            items(&r)
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let ids: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    // Events written after the first listing (the listings themselves write none) may not exist.
    assert_eq!(seen, ids);

    // Cursors belong to their filter set; garbage and bad parameters are 400s.
    let c = api
        .get("/api/v1/audit-events?limit=1", Some(&admin))
        .await
        .body["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    api.get(
        &format!("/api/v1/audit-events?limit=1&action=auth.login&cursor={c}"),
        Some(&admin),
    )
    .await
    .assert_problem(400);
    let mut tampered = c.clone();
    tampered.replace_range(5..6, if &c[5..6] == "A" { "B" } else { "A" });
    let r = api
        .get(
            &format!("/api/v1/audit-events?limit=1&cursor={tampered}"),
            Some(&admin),
        )
        .await;
    assert!(
        r.status == 400 || r.status == 200,
        "a tampered cursor is never a 500: {}",
        r.text
    );
    api.get("/api/v1/audit-events?cursor=%%%", Some(&admin))
        .await
        .assert_problem(400);
    for q in [
        "limit=0",
        "limit=101",
        "limit=x",
        "outcome=maybe",
        "from_timestamp=yesterday",
        "colour=blue",
        "from_timestamp=2026-02-01T00:00:00Z&to_timestamp=2026-01-01T00:00:00Z",
    ] {
        api.get(&format!("/api/v1/audit-events?{q}"), Some(&admin))
            .await
            .assert_problem(400);
    }
}

/// The cursor scope `services::audit::list` binds to `filter`.
fn scope_of(filter: &toolreg_core::store::audit::AuditFilter) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{filter:?}").as_bytes());
    format!("audit:{}", hex::encode(&digest[..8]))
}

/// A cursor sealed with the service's key for `viewer`, as the service would issue it.
async fn cursor(s: &Server, viewer: &str, scope: &str, key: &[(&str, &str)]) -> String {
    let state = s.state().await;
    let binding = toolreg_core::services::listing::binding(&state, viewer, scope.to_owned())
        .await
        .expect("the cursor keys");
    let item = key
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                aws_sdk_dynamodb::types::AttributeValue::S(v.to_string()),
            )
        })
        .collect();
    toolreg_core::store::cursor::encode(&binding, &item, None)
}

#[tokio::test]
async fn the_unfiltered_listing_is_one_query_and_forged_cursors_are_400_before_any() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    // A young table: far fewer events than a page. Month partitions walked back to the first
    // month a deployment could have (11 queries); one partition reads once.
    let r = api
        .get("/api/v1/audit-events?limit=100", Some(&admin))
        .await;
    r.assert_status(200);
    assert!(!items(&r).is_empty());
    assert_eq!(r.calls("dynamodb"), 1, "{}", r.text);

    // Cursors that open and carry the right scope and caller, but point outside the listing.
    let me = api.get("/api/v1/auth/me", Some(&admin)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unfiltered = scope_of(&Default::default());
    let by_actor = toolreg_core::store::audit::AuditFilter {
        actor_user_id: Some("someone".into()),
        ..Default::default()
    };
    let stamp = "2026-11-01T00:00:00.000000Z#e";
    for (path, scope, key) in [
        (
            "/api/v1/audit-events",
            unfiltered.clone(),
            vec![("PK", "TOOL#x"), ("SK", "TOOL")],
        ),
        (
            "/api/v1/audit-events",
            unfiltered.clone(),
            vec![("PK", "AUDIT#2026-11"), ("SK", stamp)],
        ),
        (
            "/api/v1/audit-events?actor_user_id=someone",
            scope_of(&by_actor),
            vec![
                ("GSI1PK", "ACTOR#other"),
                ("GSI1SK", stamp),
                ("PK", "AUDIT"),
                ("SK", stamp),
            ],
        ),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = api
            .get(
                &format!("{path}{sep}cursor={}", cursor(&s, &me, &scope, &key).await),
                Some(&admin),
            )
            .await;
        r.assert_problem(400);
        assert_eq!(r.calls("dynamodb"), 0, "refused before any query");
    }
}
