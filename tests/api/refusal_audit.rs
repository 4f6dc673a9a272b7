//! Refusals before the handler (role, scope, elevation) are audited as `request.failed`, once
//! per principal, route and window: a loop of refused requests cannot flood the log.

use serde_json::{json, Value};
use toolreg_tests::api::{unique, Api};
use toolreg_tests::stack::server;

/// The `request.failed` events whose actor is `actor`.
async fn refusals(api: &Api, admin: &str, actor: &str) -> Vec<Value> {
    let r = api
        .get(
            &format!(
                "/api/v1/audit-events?action=request.failed&limit=100&actor_user_id={}",
                url::form_urlencoded::byte_serialize(actor.as_bytes()).collect::<String>()
            ),
            Some(admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

/// The one event of `events` for `route`; fails when there is none or more than one.
fn only_one<'a>(events: &'a [Value], route: &str) -> &'a Value {
    let of: Vec<&Value> = events
        .iter()
        .filter(|e| e["details"]["route"] == json!(route))
        .collect();
    assert_eq!(of.len(), 1, "one event for {route}: {events:#?}");
    of[0]
}

#[tokio::test]
async fn a_refusal_before_the_handler_is_audited_once_per_principal_route_and_window() {
    let api = Api::new(server());
    let admin = api.admin().await;
    // A user of this test's own.
    let name = unique("refused");
    let r = api
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": name, "role": "user", "password": "refused-user-password"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let user_id = r.body["id"].as_str().unwrap().to_owned();
    let user = api.tokens(&name, "refused-user-password").await.0;

    // A read and a write for admins, each refused three times.
    for _ in 0..3 {
        api.get("/api/v1/users", Some(&user))
            .await
            .assert_problem(403);
        api.post(
            "/api/v1/agents",
            Some(&user),
            &json!({"name": unique("not-allowed")}),
        )
        .await
        .assert_problem(403);
    }
    let events = refusals(&api, &admin, &user_id).await;
    assert_eq!(events.len(), 2, "one per route: {events:#?}");
    for route in ["users-list", "agents-create"] {
        let e = only_one(&events, route);
        assert_eq!(e["outcome"], json!("failure"));
        assert_eq!(e["details"]["status"], json!(403));
        assert_eq!(
            e["details"]["reason"],
            json!("urn:toolreg:problem:forbidden")
        );
        assert_eq!(e["actor_username"], json!(name));
    }

    // An agent whose token lacks a scope, refused twice: one event, naming the agent.
    let agent = api
        .create_agent(&admin, &json!({"name": unique("refused-agent")}))
        .await;
    let (_, key) = api.agent_key(&admin, &agent).await;
    let r = api
        .oauth_token(
            Some((&agent, &key)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "catalog:read"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    let tool = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &json!({"tool_type": "function", "name": unique("refused"), "risk_level": "low",
                    "input_schema": {"type": "object"}}),
        )
        .await;
    assert_eq!(tool.status, 201, "{}", tool.text);
    let tool_id = tool.body["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        api.post(
            &format!("/api/v1/tools/{tool_id}/access"),
            Some(&token),
            &json!({"scopes": ["read"]}),
        )
        .await
        .assert_problem(403);
    }
    let events = refusals(&api, &admin, &format!("agent:{agent}")).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = only_one(&events, "tools-access");
    assert_eq!(e["target_id"], json!(tool_id));

    // An admin without elevation, twice at an elevated route: one event, saying why.
    let admin_name = unique("refused_admin");
    let r = api
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": admin_name, "role": "admin", "password": "refused-admin-password"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let admin_id = r.body["id"].as_str().unwrap().to_owned();
    let plain = api.tokens(&admin_name, "refused-admin-password").await.0;
    for _ in 0..2 {
        api.send(
            "DELETE",
            &format!("/api/v1/tools/{tool_id}"),
            Some(&plain),
            None,
            &[],
        )
        .await
        .assert_problem(403);
    }
    let events = refusals(&api, &admin, &admin_id).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = only_one(&events, "tools-delete");
    assert_eq!(
        e["details"]["reason"],
        json!("urn:toolreg:problem:elevation-required")
    );
    // The tool is still there: a refusal changes nothing.
    api.get(&format!("/api/v1/tools/{tool_id}"), Some(&admin))
        .await
        .assert_status(200);
}
