//! What was issued goes with what it was issued from: revoking a key, disabling an agent,
//! deactivating or deleting a tool revokes the credentials issued from them (their status
//! says `revoked`), and an agent's OAuth token minted from a revoked key or for a disabled
//! agent can no longer ask for access; a groups change counts at the next access request.
//! Also the per-principal access-request limit, counted before any decision is written.

use crate::access::{access, function_tool};
use serde_json::{json, Value};
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::stack::Server;

/// Every agent in group `builders` may use every tool tagged `ci`.
fn builders_policy() -> Value {
    json!({"default": "deny", "rules": [
        {"id": "builders-ci", "effect": "allow", "rationale": "BUILDERS_USE_CI",
         "principal": {"kind": "agent", "groups": ["builders"]},
         "tool": {"tags": ["ci"]}}
    ]})
}

async fn token_for(api: &Api, agent: &str, key: &str) -> String {
    let r = api
        .oauth_token(Some((agent, key)), &[("grant_type", "client_credentials")])
        .await;
    r.assert_status(200);
    r.body["access_token"].as_str().unwrap().to_owned()
}

/// An allowed access request's credential id.
async fn granted(api: &Api, cred: &str, tool: &str) -> String {
    let r = access(api, cred, tool, &json!({"scopes": []})).await;
    r.assert_status(200);
    r.body["decision_id"].as_str().unwrap().to_owned()
}

/// A credential's status as the online check and the decision listing show it.
async fn status(api: &Api, admin: &str, jti: &str) -> String {
    let r = api
        .get(&format!("/api/v1/credentials/{jti}"), Some(admin))
        .await;
    r.assert_status(200);
    let d = api
        .get(&format!("/api/v1/decisions/{jti}"), Some(admin))
        .await;
    let s = r.body["status"].as_str().unwrap().to_owned();
    assert_eq!(
        d.body["revoked_at"].is_string(),
        s == "revoked",
        "the decision and the credential agree: {} / {}",
        d.text,
        r.text
    );
    s
}

fn refused_as_unauthenticated(r: &Resp) {
    r.assert_problem(401);
}

async fn builder(api: &Api, admin: &str) -> (String, String, String) {
    let agent = api
        .create_agent(
            admin,
            &json!({"name": unique("rev"), "groups": ["builders"]}),
        )
        .await;
    let (prefix, key) = api.agent_key(admin, &agent).await;
    (agent, prefix, key)
}

#[tokio::test]
async fn revoking_a_key_revokes_its_credentials_and_its_tokens_access() {
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let (tool, _) = function_tool(&api, &admin, "low", &["ci"]).await;
    api.activate_policy(&builders_policy()).await;
    let (agent, prefix, key) = builder(&api, &admin).await;
    let (_, other_key) = api.agent_key(&admin, &agent).await;
    let token = token_for(&api, &agent, &key).await;
    let other_token = token_for(&api, &agent, &other_key).await;
    let by_key = granted(&api, &key, &tool).await;
    let by_token = granted(&api, &token, &tool).await;
    let by_other = granted(&api, &other_token, &tool).await;

    let r = api
        .send(
            "DELETE",
            &format!("/api/v1/agents/{agent}/keys/{prefix}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    assert_eq!(status(&api, &admin, &by_key).await, "revoked");
    assert_eq!(status(&api, &admin, &by_token).await, "revoked");
    // The agent's other key issued the third: untouched.
    assert_eq!(status(&api, &admin, &by_other).await, "active");
    // The key is refused, and so is the token minted from it; the other key's token is fine.
    refused_as_unauthenticated(&access(&api, &key, &tool, &json!({"scopes": []})).await);
    refused_as_unauthenticated(&access(&api, &token, &tool, &json!({"scopes": []})).await);
    granted(&api, &other_token, &tool).await;
    // Audited: the revocation names its cause and the credentials.
    let r = api
        .get(
            &format!("/api/v1/audit-events?action=credential.revoke&target_id={prefix}"),
            Some(&admin),
        )
        .await;
    let events = r.body["items"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{}", r.text);
    assert_eq!(events[0]["details"]["cause"], json!("agent.key.revoke"));
    let listed = events[0]["details"]["credentials"].as_array().unwrap();
    assert!(
        listed.contains(&json!(by_key)) && listed.contains(&json!(by_token)) && listed.len() == 2,
        "{}",
        r.text
    );
}

#[tokio::test]
async fn disabling_an_agent_revokes_its_credentials_and_refuses_its_tokens() {
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let (tool, _) = function_tool(&api, &admin, "low", &["ci"]).await;
    api.activate_policy(&builders_policy()).await;
    let (agent, _, key) = builder(&api, &admin).await;
    let (_, _, bystander_key) = builder(&api, &admin).await;
    let token = token_for(&api, &agent, &key).await;
    let by_key = granted(&api, &key, &tool).await;
    let by_token = granted(&api, &token, &tool).await;
    let theirs = granted(&api, &bystander_key, &tool).await;

    api.post(
        &format!("/api/v1/agents/{agent}/disable"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);

    assert_eq!(status(&api, &admin, &by_key).await, "revoked");
    assert_eq!(status(&api, &admin, &by_token).await, "revoked");
    assert_eq!(status(&api, &admin, &theirs).await, "active");
    // The token (checked without a read elsewhere) no longer obtains credentials.
    refused_as_unauthenticated(&access(&api, &token, &tool, &json!({"scopes": []})).await);
    refused_as_unauthenticated(&access(&api, &key, &tool, &json!({"scopes": []})).await);
    let r = api
        .oauth_token(
            Some((&agent, &key)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    // Nothing was decided for the refused requests.
    let r = api
        .get(
            &format!("/api/v1/decisions?principal_id=agent:{agent}"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2, "{}", r.text);
}

#[tokio::test]
async fn a_groups_change_counts_at_the_next_access_request_of_an_earlier_token() {
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let (tool, _) = function_tool(&api, &admin, "low", &["ci"]).await;
    api.activate_policy(&builders_policy()).await;
    let (agent, _, key) = builder(&api, &admin).await;
    let token = token_for(&api, &agent, &key).await;
    granted(&api, &token, &tool).await;

    let r = api
        .send(
            "PATCH",
            &format!("/api/v1/agents/{agent}"),
            Some(&admin),
            Some(&json!({"groups": ["visitors"]})),
            &[],
        )
        .await;
    r.assert_status(200);
    // The token still says `builders`; the decision uses what the agent is now.
    let r = access(&api, &token, &tool, &json!({"scopes": []})).await;
    r.assert_problem(403);
    assert_eq!(r.body["rationale"], json!("DEFAULT_DENY"));
    // And back.
    api.send(
        "PATCH",
        &format!("/api/v1/agents/{agent}"),
        Some(&admin),
        Some(&json!({"groups": ["builders"]})),
        &[],
    )
    .await
    .assert_status(200);
    granted(&api, &token, &tool).await;
}

#[tokio::test]
async fn deactivating_or_deleting_a_tool_revokes_the_credentials_issued_for_it() {
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let (paused, _) = function_tool(&api, &admin, "low", &["ci"]).await;
    let (gone, _) = function_tool(&api, &admin, "low", &["ci"]).await;
    let (kept, _) = function_tool(&api, &admin, "low", &["ci"]).await;
    api.activate_policy(&builders_policy()).await;
    let (agent, _, key) = builder(&api, &admin).await;
    let token = token_for(&api, &agent, &key).await;
    let for_paused = [
        granted(&api, &key, &paused).await,
        granted(&api, &token, &paused).await,
    ];
    let for_gone = granted(&api, &key, &gone).await;
    let for_kept = granted(&api, &token, &kept).await;

    api.post(
        &format!("/api/v1/tools/{paused}/deactivate"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);
    for jti in &for_paused {
        assert_eq!(status(&api, &admin, jti).await, "revoked");
    }
    assert_eq!(status(&api, &admin, &for_gone).await, "active");
    let r = access(&api, &token, &paused, &json!({"scopes": []})).await;
    r.assert_problem(403);
    assert_eq!(r.body["rationale"], json!("TOOL_INACTIVE"));

    let elevated = api.elevated().await;
    let r = api
        .send(
            "DELETE",
            &format!("/api/v1/tools/{gone}"),
            Some(&elevated),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(status(&api, &admin, &for_gone).await, "revoked");
    assert_eq!(status(&api, &admin, &for_kept).await, "active");
    let r = api
        .get(
            &format!("/api/v1/audit-events?action=credential.revoke&target_id={paused}"),
            Some(&admin),
        )
        .await;
    assert_eq!(
        r.body["items"][0]["details"]["cause"],
        json!("tool.deactivate"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_principal_over_its_access_limit_gets_429_and_no_decision_is_written() {
    let s = &Server::start(&[("ACCESS_RATE_LIMIT_PRINCIPAL", "3/minute")]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let (tool, _) = function_tool(&api, &admin, "low", &["ci"]).await;
    api.activate_policy(&builders_policy()).await;
    let (agent, _, key) = builder(&api, &admin).await;
    let (_, _, other_key) = builder(&api, &admin).await;
    // Fixed windows reset on the minute: start well inside one.
    let sec = chrono::Utc::now().timestamp() % 60;
    if sec >= 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - sec) as u64)).await;
    }
    // Allowed or denied, each request counts (no rule here sets a `rate`).
    let mut statuses = Vec::new();
    for scopes in [json!([]), json!(["x:y"]), json!([]), json!([]), json!([])] {
        statuses.push(access(&api, &key, &tool, &json!({"scopes": scopes})).await);
    }
    assert_eq!(
        statuses.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 200, 200, 429, 429]
    );
    let limited = &statuses[3];
    limited.assert_problem(429);
    let retry: i64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Only the three counted requests were decided and recorded.
    let r = api
        .get(
            &format!("/api/v1/decisions?principal_id=agent:{agent}"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3, "{}", r.text);
    // Another principal has its own budget.
    granted(&api, &other_key, &tool).await;
}
