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

#[tokio::test]
async fn a_new_version_is_201_with_its_location_and_the_same_document_again_200() {
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let doc = json!({"rules": [{"id": "r", "effect": "deny", "rationale": "NOPE"}]});
    let r = api.post("/api/v1/policies", Some(&admin), &doc).await;
    r.assert_status(201);
    assert_eq!(r.body["created"], json!(true));
    let version = r.body["version"].as_u64().unwrap();
    let location = r.header("location").expect("a Location").to_owned();
    assert_eq!(location, format!("/api/v1/policies/{version}"));
    let got = api.get(&location, Some(&admin)).await;
    got.assert_status(200);
    assert_eq!(got.body["version"], json!(version));
    // The same document, written differently: the version that holds it, 200, nothing created.
    let again = api
        .send_raw(
            "POST",
            "/api/v1/policies",
            Some(&admin),
            "application/yaml",
            "rules:\n  - rationale: NOPE\n    effect: deny\n    id: r\ndefault: deny\n".into(),
        )
        .await;
    again.assert_status(200);
    assert_eq!(again.body["created"], json!(false));
    assert_eq!(again.body["version"], json!(version));
    assert_eq!(again.header("location"), None);
    let list = api.get("/api/v1/policies", Some(&admin)).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    // The OpenAPI document says both.
    let spec = api.get("/openapi.json", None).await;
    let responses = &spec.body["paths"]["/api/v1/policies"]["post"]["responses"];
    assert!(
        responses["201"]["headers"]["Location"].is_object(),
        "{responses}"
    );
    assert!(responses["200"].is_object(), "{responses}");
}

#[tokio::test]
async fn a_policy_with_a_repeated_key_is_refused_with_a_pointer_in_json_and_in_yaml() {
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let json_doc = r#"{"default": "deny", "rules": [{"id": "r", "effect": "deny", "rationale": "NOPE", "effect": "allow"}]}"#;
    let yaml_doc =
        "default: deny\nrules:\n  - id: r\n    effect: deny\n    rationale: NOPE\n    effect: allow\n";
    for (content_type, doc, pointer) in [
        ("application/json", json_doc, "/rules/0/effect"),
        ("application/yaml", yaml_doc, "/rules/0/effect"),
        (
            "application/json",
            r#"{"default": "deny", "default": "allow"}"#,
            "/default",
        ),
        (
            "application/yaml",
            "default: deny\ndefault: allow\n",
            "/default",
        ),
    ] {
        let r = api
            .send_raw(
                "POST",
                "/api/v1/policies",
                Some(&admin),
                content_type,
                doc.into(),
            )
            .await;
        r.assert_problem(422);
        let errors = r.body["errors"].as_array().expect("errors[]");
        assert!(
            errors.iter().any(|e| e["pointer"] == json!(pointer)
                && e["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("duplicate")),
            "{content_type} {doc:?}: {}",
            r.text
        );
    }
    // Nothing was stored.
    let list = api.get("/api/v1/policies", Some(&admin)).await;
    assert_eq!(list.body["items"], json!([]), "{}", list.text);
    // A simulation's document is held to the same rule.
    let r = api
        .send_raw(
            "POST",
            "/api/v1/policies/simulate",
            Some(&admin),
            "application/json",
            format!(r#"{{"document": {json_doc}}}"#).into(),
        )
        .await;
    r.assert_problem(422);
    assert!(r.text.contains("/document/rules/0/effect"), "{}", r.text);
}

#[tokio::test]
async fn principal_ids_are_bare_agent_ids_in_discovery_and_decisions_alike() {
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let agent = api
        .create_agent(&admin, &json!({"name": unique("bare")}))
        .await;
    let (_, key) = api.agent_key(&admin, &agent).await;
    let (tool, name) = function_tool(&api, &admin, "low", &[]).await;
    let rule = |id: String| {
        json!({"default": "deny", "rules": [{"id": "one-agent", "effect": "allow",
            "rationale": "NAMED", "principal": {"ids": [id]}, "tool": {"ids": [tool]}}]})
    };

    // The bare id: shown, and allowed.
    let bare = rule(agent.clone());
    let r = api.post("/api/v1/policies", Some(&admin), &bare).await;
    assert_eq!(r.body["warnings"], json!([]), "{}", r.text);
    api.activate_policy(&bare).await;
    let listed = api.get("/api/v1/tools?limit=100", Some(&key)).await;
    assert!(listed.names().contains(&name), "{}", listed.text);
    api.get(&format!("/api/v1/tools/{tool}"), Some(&key))
        .await
        .assert_status(200);
    let r = access(&api, &key, &tool, &json!({"scopes": []})).await;
    r.assert_status(200);
    assert_eq!(r.body["rule_id"], json!("one-agent"));

    // The form decisions show (`agent:<id>`), copied from one: a warning pointing at it, and a
    // rule that matches nothing, in discovery and decisions alike (hidden and denied).
    let decided = api
        .get(
            &format!(
                "/api/v1/decisions/{}",
                r.body["decision_id"].as_str().unwrap()
            ),
            Some(&admin),
        )
        .await;
    let copied = decided.body["principal_id"].as_str().unwrap().to_owned();
    assert_eq!(copied, format!("agent:{agent}"));
    let prefixed = rule(copied);
    let r = api.post("/api/v1/policies", Some(&admin), &prefixed).await;
    r.assert_status(201);
    let warnings = r.body["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{}", r.text);
    assert_eq!(warnings[0]["pointer"], json!("/rules/0/principal/ids/0"));
    assert!(
        warnings[0]["message"].as_str().unwrap().contains(&agent),
        "the warning names the bare id: {}",
        r.text
    );
    api.activate_policy(&prefixed).await;
    let listed = api.get("/api/v1/tools?limit=100", Some(&key)).await;
    assert!(!listed.names().contains(&name), "{}", listed.text);
    api.get(&format!("/api/v1/tools/{tool}"), Some(&key))
        .await
        .assert_problem(404);
    let r = access(&api, &key, &tool, &json!({"scopes": []})).await;
    r.assert_problem(403);
    assert_eq!(r.body["rationale"], json!("DEFAULT_DENY"));
}
