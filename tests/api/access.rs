//! The policy decision point end to end: policy versions, activation, access requests by an
//! agent, credentials verified offline by PyJWT with the JWKS, decisions, revocation,
//! discovery narrowed to what an agent may use, and simulation.

use serde_json::{json, Value};
use std::collections::BTreeSet;
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::proc::{repo_root, venv_python};
use toolreg_tests::stack::Server;

pub(crate) async fn function_tool(
    api: &Api,
    admin: &str,
    risk: &str,
    tags: &[&str],
) -> (String, String) {
    let name = unique("pdp");
    let r = api
        .post(
            "/api/v1/tools",
            Some(admin),
            &json!({"tool_type": "function", "name": name, "risk_level": risk,
                    "input_schema": {"type": "object"}, "tags": tags}),
        )
        .await;
    r.assert_status(201);
    (r.body["id"].as_str().unwrap().to_owned(), name)
}

pub(crate) fn policy() -> Value {
    json!({
        "default": "deny",
        "rules": [
            {"id": "no-high-risk", "effect": "deny", "rationale": "HIGH_RISK",
             "tool": {"risk_level": {"in": ["high", "critical"]}}},
            {"id": "short-lived", "effect": "allow", "rationale": "SHORT_LIVED",
             "principal": {"kind": "agent", "groups": ["builders"]},
             "tool": {"tags": ["blink"]},
             "obligations": {"max_credential_seconds": 1}},
            {"id": "builders-ci", "effect": "allow", "rationale": "BUILDERS_USE_CI",
             "principal": {"kind": "agent", "groups": ["builders"]},
             "tool": {"tags": ["ci"]},
             "request": {"allowed_scopes": ["repo:read", "repo:write"]},
             "obligations": {"max_credential_seconds": 300, "scopes": ["repo:read"], "rate": "100/minute"}}
        ]
    })
}

/// PyJWT's verdict on a credential for `audience`, as a tool server would check it.
fn verify(s: &Server, token: &str, audience: &str) -> Value {
    let out = std::process::Command::new(venv_python())
        .arg(repo_root().join("tests/clients/verify_credential.py"))
        .args([&s.url("/.well-known/jwks.json"), token, audience, &s.base])
        .output()
        .expect("run the PyJWT verifier");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

pub(crate) async fn access(api: &Api, key: &str, tool: &str, body: &Value) -> Resp {
    api.post(&format!("/api/v1/tools/{tool}/access"), Some(key), body)
        .await
}

#[tokio::test]
async fn an_agent_gets_a_verifiable_credential_only_where_the_policy_allows() {
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let agent = api
        .create_agent(
            &admin,
            &json!({"name": unique("builder"), "groups": ["builders"]}),
        )
        .await;
    let (_, key) = api.agent_key(&admin, &agent).await;
    let (ci, ci_name) = function_tool(&api, &admin, "low", &["ci"]).await;
    let (risky, _) = function_tool(&api, &admin, "high", &["ci"]).await;
    let (blink, blink_name) = function_tool(&api, &admin, "low", &["blink"]).await;
    let (other, _) = function_tool(&api, &admin, "low", &["elsewhere"]).await;

    // Before any policy is active, everything is denied and agents see nothing.
    let r = access(&api, &key, &ci, &json!({"scopes": ["repo:read"]})).await;
    r.assert_problem(403);
    assert_eq!(r.body["rationale"], json!("DEFAULT_DENY"));
    let r = api.get("/api/v1/tools?limit=100", Some(&key)).await;
    assert!(r.names().is_empty(), "{}", r.text);

    // Versions: one per canonical document, JSON or YAML; activation needs elevation.
    let r = api.post("/api/v1/policies", Some(&admin), &policy()).await;
    r.assert_status(201);
    assert_eq!(r.body["created"], json!(true));
    let version = r.body["version"].as_u64().unwrap();
    let sha = r.body["sha256"].as_str().unwrap().to_owned();
    let yaml = "rules:\n  - id: x\n    effect: allow\n    rationale: X\ndefault: deny\n";
    let r = api
        .send_raw(
            "POST",
            "/api/v1/policies",
            Some(&admin),
            "application/yaml",
            yaml.into(),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["created"], json!(true));
    let again = api
        .send_raw(
            "POST",
            "/api/v1/policies",
            Some(&admin),
            "application/json",
            r#"{"rules":[{"rationale":"X","effect":"allow","id":"x"}]}"#.into(),
        )
        .await;
    again.assert_status(200);
    assert_eq!(again.body["created"], json!(false));
    assert_eq!(
        again.body["version"], r.body["version"],
        "same document, same version"
    );
    let r = api
        .post(
            "/api/v1/policies",
            Some(&admin),
            &json!({"rules": [{"id": "Bad Id", "effect": "maybe", "rationale": "X"}]}),
        )
        .await;
    r.assert_problem(422);
    assert!(r.text.contains("/rules/0"), "{}", r.text);
    let r = api
        .post(
            &format!("/api/v1/policies/{version}/activate"),
            Some(&admin),
            &json!({}),
        )
        .await;
    r.assert_problem(403);
    assert!(
        r.body["type"]
            .as_str()
            .unwrap()
            .ends_with("elevation-required"),
        "{}",
        r.text
    );
    let elevated = api.elevated().await;
    let r = api
        .post(
            &format!("/api/v1/policies/{version}/activate"),
            Some(&elevated),
            &json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["active"], json!(true));
    let r = api
        .get(&format!("/api/v1/policies/{version}"), Some(&admin))
        .await;
    assert_eq!(r.body["document"]["rules"][2]["id"], json!("builders-ci"));
    assert_eq!(r.body["sha256"], json!(sha));

    // Discovery: only what some rule could allow this agent.
    let r = api.get("/api/v1/tools?limit=100", Some(&key)).await;
    let seen: BTreeSet<String> = r.names().into_iter().collect();
    assert!(
        seen.contains(&ci_name) && seen.contains(&blink_name),
        "{seen:?}"
    );
    assert_eq!(seen.len(), 2, "{seen:?}");
    api.get(&format!("/api/v1/tools/{risky}"), Some(&key))
        .await
        .assert_problem(404);
    api.get(&format!("/api/v1/tools/{other}"), Some(&key))
        .await
        .assert_problem(404);
    // Admins see everything.
    api.get(&format!("/api/v1/tools/{risky}"), Some(&admin))
        .await
        .assert_status(200);

    // An allowed request: scopes narrowed by the obligation, a credential for this tool only.
    let r = access(
        &api,
        &key,
        &ci,
        &json!({"scopes": ["repo:read", "repo:write"], "purpose": "nightly build"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["decision"], json!("allow"));
    assert_eq!(r.body["rule_id"], json!("builders-ci"));
    assert_eq!(r.body["policy_sha256"], json!(sha));
    assert_eq!(r.body["credential"]["scope"], json!("repo:read"));
    assert_eq!(r.body["credential"]["expires_in"], json!(300));
    let jti = r.body["decision_id"].as_str().unwrap().to_owned();
    let token = r.body["credential"]["token"].as_str().unwrap().to_owned();
    let v = verify(s, &token, &format!("tool:{ci_name}"));
    assert_eq!(v["valid"], json!(true), "{v}");
    assert_eq!(v["claims"]["sub"], json!(format!("agent:{agent}")));
    assert_eq!(v["claims"]["tool_id"], json!(ci));
    assert_eq!(v["claims"]["jti"], json!(jti));
    // Not for another tool; not once tampered with.
    assert_eq!(
        verify(s, &token, &format!("tool:{blink_name}"))["valid"],
        json!(false)
    );
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let payload = parts[1].clone();
    let flipped = if payload.ends_with('A') { "B" } else { "A" };
    parts[1] = format!("{}{flipped}", &payload[..payload.len() - 1]);
    assert_eq!(
        verify(s, &parts.join("."), &format!("tool:{ci_name}"))["valid"],
        json!(false)
    );

    // A credential of one second, verified after it expired.
    let r = access(&api, &key, &blink, &json!({"scopes": []})).await;
    r.assert_status(200);
    // Warm: the public key was read with the first signature; now one KMS Sign.
    assert_eq!(r.calls("kms"), 1);
    let short = r.body["credential"]["token"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let v = verify(s, &short, &format!("tool:{blink_name}"));
    assert_eq!(v["valid"], json!(false));
    assert!(v["error"].as_str().unwrap().contains("Expired"), "{v}");

    // Guards come before the policy, each with its own rationale.
    api.post(
        &format!("/api/v1/tools/{other}/deactivate"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);
    let r = access(&api, &key, &other, &json!({"scopes": []})).await;
    r.assert_problem(403);
    assert_eq!(r.body["rationale"], json!("TOOL_INACTIVE"));
    let r = access(&api, &key, &risky, &json!({"scopes": ["repo:read"]})).await;
    r.assert_problem(403);
    assert_eq!(r.body["rationale"], json!("HIGH_RISK"));
    assert_eq!(r.body["rule_id"], json!("no-high-risk"));

    // Denials carry their rationale and decision id.
    let r = access(&api, &key, &ci, &json!({"scopes": ["admin:all"]})).await;
    r.assert_problem(403);
    assert_eq!(r.body["rationale"], json!("DEFAULT_DENY"));
    let denied = r.body["decision_id"].as_str().unwrap().to_owned();
    for bad in [
        json!({"scopes": "repo:read"}),
        json!({"scopes": [""]}),
        json!({"why": 1}),
    ] {
        access(&api, &key, &ci, &bad).await.assert_problem(422);
    }

    // Decisions: recorded, filterable, readable one by one.
    let r = api
        .get(
            &format!("/api/v1/decisions?principal_id=agent:{agent}&decision=deny"),
            Some(&admin),
        )
        .await;
    r.assert_status(200);
    let ids: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    // Newest first: the scope refusal, the high-risk rule, the inactive guard, the first default.
    assert_eq!(ids.len(), 4, "{}", r.text);
    assert_eq!(ids[0], denied.as_str());
    let r = api
        .get(&format!("/api/v1/decisions/{jti}"), Some(&admin))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["granted_scopes"], json!(["repo:read"]));
    assert_eq!(r.body["purpose"], json!("nightly build"));

    // Online check and revocation.
    let r = api
        .get(&format!("/api/v1/credentials/{jti}"), Some(&key))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], json!("active"));
    api.get(&format!("/api/v1/credentials/{denied}"), Some(&key))
        .await
        .assert_problem(404);
    let r = api
        .post(
            &format!("/api/v1/credentials/{jti}/revoke"),
            Some(&admin),
            &json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], json!("revoked"));
    let r = api
        .get(&format!("/api/v1/credentials/{jti}"), Some(&key))
        .await;
    assert_eq!(r.body["status"], json!("revoked"));
    api.post(
        &format!("/api/v1/credentials/{jti}/revoke"),
        Some(&key),
        &json!({}),
    )
    .await
    .assert_problem(403);

    // Every decision and the activation are audited.
    let r = api
        .get(
            "/api/v1/audit-events?action=access.decision&limit=100",
            Some(&admin),
        )
        .await;
    assert!(r.body["items"].as_array().unwrap().len() >= 3, "{}", r.text);
    let r = api
        .get("/api/v1/audit-events?action=policy.activate", Some(&admin))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_allow_all_policy_lets_an_oauth_agent_use_any_active_tool() {
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let (tool, name) = function_tool(&api, &admin, "critical", &[]).await;
    api.activate_policy(&json!({"default": "allow"})).await;
    let agent = api
        .create_agent(&admin, &json!({"name": unique("any")}))
        .await;
    let (_, key) = api.agent_key(&admin, &agent).await;
    let r = api
        .oauth_token(
            Some((&agent, &key)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    let r = api.get("/api/v1/tools?limit=100", Some(&token)).await;
    assert!(r.names().contains(&name), "{}", r.text);
    let r = access(&api, &token, &tool, &json!({"scopes": ["x:read"]})).await;
    r.assert_status(200);
    assert_eq!(r.body["rationale"], json!("DEFAULT_ALLOW"));
    assert_eq!(r.body["credential"]["scope"], json!("x:read"));
}

#[tokio::test]
async fn a_decision_listing_with_an_empty_time_range_is_a_400_not_a_500() {
    let api = Api::new(toolreg_tests::stack::server());
    let admin = api.admin().await;
    let r = api
        .get(
            "/api/v1/decisions?from_timestamp=2026-01-02T00:00:00Z&to_timestamp=2026-01-01T00:00:00Z",
            Some(&admin),
        )
        .await;
    r.assert_problem(400);
    assert!(r.text.contains("after to_timestamp"), "{}", r.text);
}
