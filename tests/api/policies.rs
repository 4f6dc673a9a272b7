//! `/api/v1/policies/*`: simulation replays recorded decisions against a candidate policy
//! (versions and activation are exercised with the decisions they drive in `access.rs`).

use crate::access::{access, function_tool, policy};
use serde_json::json;
use std::collections::BTreeSet;
use toolreg_tests::api::{unique, Api};
use toolreg_tests::stack::Server;

#[tokio::test]
async fn simulation_lists_exactly_the_decisions_that_flip() {
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let agent = api
        .create_agent(
            &admin,
            &json!({"name": unique("sim"), "groups": ["builders"]}),
        )
        .await;
    let (_, key) = api.agent_key(&admin, &agent).await;
    let (ci, _) = function_tool(&api, &admin, "low", &["ci"]).await;
    api.activate_policy(&policy()).await;
    let mut allowed = BTreeSet::new();
    let mut denied = BTreeSet::new();
    for scopes in [
        json!(["repo:read"]),
        json!(["nope"]),
        json!(["repo:write"]),
        json!(["x"]),
    ] {
        let r = access(&api, &key, &ci, &json!({"scopes": scopes})).await;
        let id = r.body["decision_id"].as_str().unwrap().to_owned();
        if r.status == 200 {
            allowed.insert(id);
        } else {
            r.assert_problem(403);
            denied.insert(id);
        }
    }
    assert_eq!((allowed.len(), denied.len()), (2, 2));
    // A candidate that denies everything flips exactly the allowed ones.
    let r = api
        .post(
            "/api/v1/policies/simulate",
            Some(&admin),
            &json!({"document": {"default": "deny"}, "limit": 100}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["replayed"], json!(4));
    let flipped: BTreeSet<String> = r.body["flips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["before"]["decision"], json!("allow"));
            assert_eq!(f["after"]["rationale"], json!("DEFAULT_DENY"));
            f["decision_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(flipped, allowed);
    // Allowing everything flips exactly the denied ones; the active version flips none.
    let r = api
        .post(
            "/api/v1/policies/simulate",
            Some(&admin),
            &json!({"document": "default: allow\n"}),
        )
        .await;
    let flipped: BTreeSet<String> = r.body["flips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["decision_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(flipped, denied);
    let r = api
        .post(
            "/api/v1/policies/simulate",
            Some(&admin),
            &json!({"version": 1}),
        )
        .await;
    assert_eq!(r.body["flipped"], json!(0), "{}", r.text);
    for bad in [
        json!({}),
        json!({"version": 1, "document": {}}),
        json!({"document": 5}),
        json!({"version": 1, "limit": 0}),
    ] {
        api.post("/api/v1/policies/simulate", Some(&admin), &bad)
            .await
            .assert_problem(422);
    }
    api.post(
        "/api/v1/policies/simulate",
        Some(&admin),
        &json!({"version": 99}),
    )
    .await
    .assert_problem(404);
}
