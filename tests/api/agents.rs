//! Agents and their API keys: admins register agents and issue keys; an agent authenticates
//! with `Authorization: Bearer trk_…` or `X-Api-Key: trk_…` on the routes its row allows.

use serde_json::{json, Value};
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::stack::server;

fn agent_body(name: &str) -> Value {
    json!({"name": name, "description": "Builds things", "groups": ["builders"], "tags": ["prod"]})
}

async fn audit_actions(api: &Api, admin: &str, target: &str) -> Vec<String> {
    let r = api
        .get(
            &format!("/api/v1/audit-events?target_id={target}"),
            Some(admin),
        )
        .await;
    r.assert_status(200);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// A request authenticated with an API key, as `Bearer` or `X-Api-Key`.
async fn with_key(api: &Api, path: &str, key: &str, header: bool) -> Resp {
    if header {
        api.send("GET", path, None, None, &[("x-api-key", key)])
            .await
    } else {
        api.get(path, Some(key)).await
    }
}

#[tokio::test]
async fn admins_register_list_change_and_disable_agents() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let name = unique("builder");
    let r = api
        .post("/api/v1/agents", Some(&admin), &agent_body(&name))
        .await;
    r.assert_status(201);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/agents/{id}").as_str())
    );
    assert_eq!(r.body["groups"], json!(["builders"]));
    assert_eq!(r.body["active_keys"], json!(0));
    let me = api.get("/api/v1/auth/me", Some(&admin)).await;
    assert_eq!(
        r.body["owner_user_id"], me.body["id"],
        "the creator owns it by default"
    );

    // Names are unique; bad values are 422 with pointers and change nothing.
    api.post("/api/v1/agents", Some(&admin), &agent_body(&name))
        .await
        .assert_problem(409);
    let r = api
        .post(
            "/api/v1/agents",
            Some(&admin),
            &json!({"name": "Bad Name", "groups": ["UPPER"], "owner_user_id": "nope"}),
        )
        .await;
    r.assert_problem(422);
    let pointers: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/name", "/owner_user_id", "/groups"]);
    let r = api
        .post(
            "/api/v1/agents",
            Some(&admin),
            &json!({"name": unique("orphan"), "owner_user_id": uuid::Uuid::new_v4().to_string()}),
        )
        .await;
    r.assert_problem(422);
    assert!(r.text.contains("/owner_user_id"), "{}", r.text);

    // Listing by group, tag and text.
    let r = api
        .get(
            &format!("/api/v1/agents?group=builders&tag=prod&q={}", &name[8..]),
            Some(&admin),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.names(), vec![name.clone()]);
    let r = api.get("/api/v1/agents?group=nobody", Some(&admin)).await;
    assert!(!r.names().contains(&name));
    api.get("/api/v1/agents?limit=0", Some(&admin))
        .await
        .assert_problem(400);
    api.get("/api/v1/agents?cursor=garbage", Some(&admin))
        .await
        .assert_problem(400);

    // PATCH with If-Match; a stale ETag is 412.
    let r = api.get(&format!("/api/v1/agents/{id}"), Some(&admin)).await;
    let etag = r.header("etag").unwrap().to_owned();
    let patch = json!({"groups": ["builders", "release"], "description": "Ships things"});
    let r = api
        .send(
            "PATCH",
            &format!("/api/v1/agents/{id}"),
            Some(&admin),
            Some(&patch),
            &[("if-match", &etag)],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["version"], json!(2));
    assert_eq!(r.body["groups"], json!(["builders", "release"]));
    api.send(
        "PATCH",
        &format!("/api/v1/agents/{id}"),
        Some(&admin),
        Some(&json!({"tags": []})),
        &[("if-match", &etag)],
    )
    .await
    .assert_problem(412);
    api.send(
        "PATCH",
        &format!("/api/v1/agents/{id}"),
        Some(&admin),
        Some(&json!({"name": "renamed"})),
        &[],
    )
    .await
    .assert_problem(422);
    api.get(
        &format!("/api/v1/agents/{}", uuid::Uuid::new_v4()),
        Some(&admin),
    )
    .await
    .assert_problem(404);

    // Disable and enable: idempotent, audited once each.
    for _ in 0..2 {
        let r = api
            .post(
                &format!("/api/v1/agents/{id}/disable"),
                Some(&admin),
                &json!({}),
            )
            .await;
        r.assert_status(200);
        assert_eq!(r.body["disabled"], json!(true));
    }
    let r = api
        .get("/api/v1/agents?disabled=true&limit=100", Some(&admin))
        .await;
    assert!(r.names().contains(&name));
    api.post(
        &format!("/api/v1/agents/{id}/enable"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);
    let mut actions = audit_actions(&api, &admin, &id).await;
    actions.retain(|a| a != "request.failed");
    actions.sort();
    assert_eq!(
        actions,
        [
            "agent.create",
            "agent.disable",
            "agent.enable",
            "agent.update"
        ]
    );

    // People who are not admins cannot manage agents.
    let user = api.create_user_token(&admin).await;
    api.get("/api/v1/agents", Some(&user))
        .await
        .assert_problem(403);
}

#[tokio::test]
async fn an_api_key_authenticates_its_agent_until_revoked_and_is_shown_once() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let name = unique("reader");
    let id = api.create_agent(&admin, &agent_body(&name)).await;
    let r = api
        .post(
            &format!("/api/v1/agents/{id}/keys"),
            Some(&admin),
            &json!({"description": "ci"}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let key = r.body["key"].as_str().unwrap().to_owned();
    let key_id = r.body["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("trk_{key_id}_")), "{key}");
    assert_eq!(r.body["status"], json!("active"));

    // Both ways of sending it work, on the routes agents may call.
    for header in [false, true] {
        let r = with_key(&api, "/api/v1/auth/me", &key, header).await;
        r.assert_status(200);
        assert_eq!(r.body["kind"], json!("agent"));
        assert_eq!(r.body["id"], json!(id));
        assert_eq!(r.body["name"], json!(name));
        assert_eq!(r.body["groups"], json!(["builders"]));
        with_key(&api, "/api/v1/tools", &key, header)
            .await
            .assert_status(200);
        // Admin routes and routes for people are not for agents.
        with_key(&api, "/api/v1/users", &key, header)
            .await
            .assert_problem(403);
    }
    api.send(
        "POST",
        "/api/v1/auth/password",
        Some(&key),
        Some(&json!({"current_password": "x", "new_password": "y"})),
        &[],
    )
    .await
    .assert_problem(403);
    // Two credentials at once are refused rather than guessed at.
    api.send(
        "GET",
        "/api/v1/tools",
        Some(&admin),
        None,
        &[("x-api-key", &key)],
    )
    .await
    .assert_problem(401);

    // One read per authentication once the use is stamped (at most a write a minute).
    let r = api.get("/api/v1/auth/me", Some(&key)).await;
    assert_eq!(
        r.calls("dynamodb"),
        1,
        "{:?}",
        r.header("x-toolreg-aws-calls")
    );

    // Listing shows the key without its secret, with its last use.
    let r = api
        .get(&format!("/api/v1/agents/{id}/keys"), Some(&admin))
        .await;
    r.assert_status(200);
    assert!(
        !r.text.contains(&key[17..]),
        "the secret leaked: {}",
        r.text
    );
    assert!(!r.text.contains("digest"));
    let listed = &r.body["items"][0];
    assert_eq!(listed["id"], json!(key_id));
    assert!(listed["last_used_at"].is_string(), "{}", r.text);
    let r = api.get(&format!("/api/v1/agents/{id}"), Some(&admin)).await;
    assert_eq!(r.body["active_keys"], json!(1));

    // An agent change reaches its keys at once.
    api.send(
        "PATCH",
        &format!("/api/v1/agents/{id}"),
        Some(&admin),
        Some(&json!({"groups": ["auditors"]})),
        &[],
    )
    .await
    .assert_status(200);
    let r = api.get("/api/v1/auth/me", Some(&key)).await;
    assert_eq!(r.body["groups"], json!(["auditors"]));

    // Unknown, revoked and disabled all answer the same 401.
    let unknown = format!("trk_{}_{}", "a".repeat(12), "b".repeat(52));
    let r_unknown = api.get("/api/v1/tools", Some(&unknown)).await;
    r_unknown.assert_problem(401);
    api.post(
        &format!("/api/v1/agents/{id}/disable"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);
    let r_disabled = api.get("/api/v1/tools", Some(&key)).await;
    r_disabled.assert_problem(401);
    api.post(
        &format!("/api/v1/agents/{id}/enable"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);
    api.get("/api/v1/tools", Some(&key))
        .await
        .assert_status(200);
    let r = api
        .send(
            "DELETE",
            &format!("/api/v1/agents/{id}/keys/{key_id}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    r.assert_status(204);
    // Revoking again is a no-op; another agent's key id is 404.
    api.send(
        "DELETE",
        &format!("/api/v1/agents/{id}/keys/{key_id}"),
        Some(&admin),
        None,
        &[],
    )
    .await
    .assert_status(204);
    let other = api
        .create_agent(&admin, &agent_body(&unique("other")))
        .await;
    api.send(
        "DELETE",
        &format!("/api/v1/agents/{other}/keys/{key_id}"),
        Some(&admin),
        None,
        &[],
    )
    .await
    .assert_problem(404);
    let r_revoked = api.get("/api/v1/tools", Some(&key)).await;
    r_revoked.assert_problem(401);
    let same = |r: &Resp| (r.body["type"].clone(), r.body["detail"].clone());
    assert_eq!(same(&r_unknown), same(&r_revoked));
    assert_eq!(same(&r_unknown), same(&r_disabled));
    let r = api
        .get(&format!("/api/v1/agents/{id}/keys"), Some(&admin))
        .await;
    assert_eq!(r.body["items"][0]["status"], json!("revoked"));

    // The key appears in no audit event; its prefix does.
    let r = api
        .get("/api/v1/audit-events?limit=100", Some(&admin))
        .await;
    assert!(
        !r.text.contains(&key[17..]),
        "a secret reached the audit log"
    );
    let mut actions = audit_actions(&api, &admin, &id).await;
    actions.retain(|a| a.starts_with("agent.key"));
    actions.sort();
    assert_eq!(actions, ["agent.key.create", "agent.key.revoke"]);
}

#[tokio::test]
async fn keys_expire_are_bounded_per_agent_and_refuse_bad_input() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let id = api
        .create_agent(&admin, &agent_body(&unique("bounded")))
        .await;
    let keys = format!("/api/v1/agents/{id}/keys");
    for bad in [
        json!({"expires_at": "yesterday"}),
        json!({"expires_at": "2001-01-01T00:00:00Z"}),
        json!({"expires_at": "2999-01-01T00:00:00Z"}),
        json!({"expires_at": null}),
        json!({"secret": "mine"}),
    ] {
        api.post(&keys, Some(&admin), &bad)
            .await
            .assert_problem(422);
    }
    let r = api.get(&keys, Some(&admin)).await;
    assert_eq!(r.body["items"], json!([]), "refused requests made no key");
    api.post(
        &format!("/api/v1/agents/{}/keys", uuid::Uuid::new_v4()),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_problem(404);

    // A key past its expiry answers like an unknown one.
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let r = api
        .post(&keys, Some(&admin), &json!({"expires_at": soon}))
        .await;
    r.assert_status(201);
    let key = r.body["key"].as_str().unwrap().to_owned();
    api.get("/api/v1/tools", Some(&key))
        .await
        .assert_status(200);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    api.get("/api/v1/tools", Some(&key))
        .await
        .assert_problem(401);
    let r = api.get(&keys, Some(&admin)).await;
    assert_eq!(r.body["items"][0]["status"], json!("expired"));

    // At most ten unrevoked keys.
    for _ in 0..9 {
        api.post(&keys, Some(&admin), &json!({}))
            .await
            .assert_status(201);
    }
    api.post(&keys, Some(&admin), &json!({}))
        .await
        .assert_problem(409);

    // A disabled agent gets no new keys.
    api.post(
        &format!("/api/v1/agents/{id}/disable"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);
    api.post(&keys, Some(&admin), &json!({}))
        .await
        .assert_problem(409);
}
