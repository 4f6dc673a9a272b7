//! `Idempotency-Key` on write routes (shared/core/src/routes/idempotency.rs): a retry returns
//! the original answer and changes nothing more.

use serde_json::json;
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::stack::server;

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
