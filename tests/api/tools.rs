//! The catalog through the API: function tools, listing, ETags, activation, deletion, roles.

use serde_json::{json, Value};
use toolreg_core::domain::user::Role;
use toolreg_tests::api::{unique, Api};
use toolreg_tests::stack::{server, Server};

fn function_tool(name: &str) -> Value {
    json!({
        "tool_type": "function",
        "name": name,
        "display_name": "Get weather",
        "description": "Current weather for a city",
        "risk_level": "low",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    })
}

async fn create(api: &Api, token: &str, body: &Value) -> Value {
    let r = api.post("/api/v1/tools", Some(token), body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

#[tokio::test]
async fn a_function_tool_is_created_read_and_audited_in_one_transaction() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let name = unique("get_weather");
    let r = api
        .post("/api/v1/tools", Some(&admin), &function_tool(&name))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.calls("dynamodb"), 1, "create is one transaction");
    assert_eq!(r.header("etag"), Some("\"v1\""));
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/tools/{id}").as_str())
    );
    assert_eq!(r.body["name"], json!(name));
    assert_eq!(r.body["is_active"], json!(true));
    assert_eq!(r.body["input_schema"]["required"], json!(["city"]));

    let g = api.get(&format!("/api/v1/tools/{id}"), Some(&admin)).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.calls("dynamodb"), 1, "get is one read");
    assert_eq!(g.body, r.body);

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
    assert_eq!(audit.body["items"][0]["details"]["name"], json!(name));
}

#[tokio::test]
async fn names_are_unique_case_insensitively_and_validated() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let name = unique("Dup");
    create(&api, &admin, &function_tool(&name)).await;
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &function_tool(&name.to_lowercase()),
        )
        .await;
    r.assert_problem(409);
    for bad in ["1abc", "has-dash", "", "_x"] {
        let r = api
            .post("/api/v1/tools", Some(&admin), &function_tool(bad))
            .await;
        r.assert_problem(422);
        assert_eq!(
            r.body["errors"][0]["pointer"],
            json!("/name"),
            "{bad}: {}",
            r.text
        );
    }
    let long = "a".repeat(65);
    api.post("/api/v1/tools", Some(&admin), &function_tool(&long))
        .await
        .assert_problem(422);
}

#[tokio::test]
async fn twenty_concurrent_creates_of_one_name_make_exactly_one_tool() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    let name = unique("race");
    let body = function_tool(&name);
    let results =
        futures::future::join_all((0..20).map(|_| api.post("/api/v1/tools", Some(&admin), &body)))
            .await;
    let created = results.iter().filter(|r| r.status == 201).count();
    let conflicts = results.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        created,
        1,
        "statuses: {:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(conflicts, 19);
    let list = api
        .get(
            &format!("/api/v1/tools?q={}", name.to_lowercase()),
            Some(&admin),
        )
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn schema_patterns_are_bounded_ecma_and_free_of_catastrophic_backtracking() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let name = unique("patterns");
    let mut body = function_tool(&name);
    let pointer = |r: &toolreg_tests::api::Resp| r.body["errors"][0]["pointer"].clone();

    // Two hundred patterns: refused at the first one over the bound, before any compiles.
    let props: serde_json::Map<String, serde_json::Value> = (0..200)
        .map(|i| {
            (
                format!("f{i:03}"),
                json!({"type": "string", "pattern": format!("^v{i}$")}),
            )
        })
        .collect();
    body["input_schema"] = json!({"type": "object", "properties": props});
    let r = api.post("/api/v1/tools", Some(&admin), &body).await;
    r.assert_problem(422);
    assert_eq!(
        pointer(&r),
        json!("/input_schema/properties/f032/pattern"),
        "{}",
        r.text
    );

    // Catastrophic backtracking and other dialects point at the pattern.
    for (bad, at) in [
        (
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}}),
            "/input_schema/properties/a/pattern",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "(?i)abc"}}}),
            "/input_schema/properties/a/pattern",
        ),
        (
            json!({"type": "object", "patternProperties": {"\\Z": {"type": "string"}}}),
            "/input_schema/patternProperties/\\Z",
        ),
    ] {
        body["input_schema"] = bad;
        let r = api.post("/api/v1/tools", Some(&admin), &body).await;
        r.assert_problem(422);
        assert_eq!(pointer(&r), json!(at), "{}", r.text);
    }
    // Nothing was stored by the refusals; a schema within the bounds is accepted.
    let listed = api
        .get(
            &format!("/api/v1/tools?q={}", name.to_lowercase()),
            Some(&admin),
        )
        .await;
    assert_eq!(listed.names(), Vec::<String>::new());
    body["input_schema"] = json!({"type": "object", "properties": {
        "code": {"type": "string", "pattern": "^[A-Z]{3}(-\\d{1,4})?$"},
        "date": {"type": "string", "pattern": "^(?<y>\\d{4})-\\d{2}$"}
    }});
    api.post("/api/v1/tools", Some(&admin), &body)
        .await
        .assert_status(201);
}

#[tokio::test]
async fn invalid_input_schemas_are_422_pointing_inside_the_schema() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let mut body = function_tool(&unique("schema"));
    body["input_schema"] = json!({"type": "object", "properties": {"city": {"type": "strng"}}});
    let r = api.post("/api/v1/tools", Some(&admin), &body).await;
    r.assert_problem(422);
    assert!(
        r.body["errors"][0]["pointer"]
            .as_str()
            .unwrap()
            .starts_with("/input_schema/properties/city"),
        "{}",
        r.text
    );

    body["input_schema"] = json!({"type": "array"});
    let r = api.post("/api/v1/tools", Some(&admin), &body).await;
    assert_eq!(
        r.body["errors"][0]["pointer"],
        json!("/input_schema/type"),
        "{}",
        r.text
    );

    body["input_schema"] = json!({"$schema": "https://example.com/custom", "type": "object"});
    let r = api.post("/api/v1/tools", Some(&admin), &body).await;
    assert_eq!(
        r.body["errors"][0]["pointer"],
        json!("/input_schema/$schema"),
        "{}",
        r.text
    );

    body["input_schema"] = json!({"type": "object", "description": "x".repeat(70 * 1024)});
    api.post("/api/v1/tools", Some(&admin), &body)
        .await
        .assert_problem(422);

    let mut no_schema = function_tool(&unique("noschema"));
    no_schema.as_object_mut().unwrap().remove("input_schema");
    let r = api.post("/api/v1/tools", Some(&admin), &no_schema).await;
    assert_eq!(
        r.body["errors"][0]["pointer"],
        json!("/input_schema"),
        "{}",
        r.text
    );

    let mut mixed = function_tool(&unique("mixed"));
    mixed["server_url"] = json!("https://example.com/mcp");
    let r = api.post("/api/v1/tools", Some(&admin), &mixed).await;
    assert_eq!(
        r.body["errors"][0]["pointer"],
        json!("/server_url"),
        "{}",
        r.text
    );

    let mut bad_risk = function_tool(&unique("risk"));
    bad_risk["risk_level"] = json!("extreme");
    let r = api.post("/api/v1/tools", Some(&admin), &bad_risk).await;
    r.assert_problem(422);
    assert_eq!(
        r.body["errors"][0]["pointer"],
        json!("/risk_level"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn listing_filters_sorts_and_pages_with_full_pages() {
    // A dedicated table, so the listing holds exactly what this test made.
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    let mut names = Vec::new();
    for i in 0..12 {
        let name = format!("tool_{i:02}");
        let mut body = function_tool(&name);
        body["risk_level"] = json!(if i % 3 == 0 { "high" } else { "low" });
        body["description"] = json!(if i == 7 {
            "The Needle in the haystack"
        } else {
            "hay"
        });
        create(&api, &admin, &body).await;
        names.push(name);
    }
    // Unfiltered: sorted by name, one query per page, cursors walk everything once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tools?limit=5&cursor={c}"),
            None => "/api/v1/tools?limit=5".to_string(),
        };
        let r = api.get(&path, Some(&admin)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.calls("dynamodb"), 1, "one query per unfiltered page");
        let items = r.body["items"].as_array().unwrap();
        seen.extend(items.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
        match r.body["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), 5, "a page with a cursor after it is full");
                cursor = Some(c.to_owned())
            }
            None => break,
        }
    }
    assert_eq!(seen, names);

    // Filtered pages are full even when matches are sparse.
    let r = api
        .get("/api/v1/tools?risk_level=high&limit=3", Some(&admin))
        .await;
    let got: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["tool_00", "tool_03", "tool_06"]);
    let next = r.body["next_cursor"]
        .as_str()
        .expect("more high-risk tools remain");
    let r = api
        .get(
            &format!("/api/v1/tools?risk_level=high&limit=3&cursor={next}"),
            Some(&admin),
        )
        .await;
    let got: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["tool_09"]);
    assert_eq!(r.body["next_cursor"], Value::Null);

    let r = api.get("/api/v1/tools?q=NEEDLE", Some(&admin)).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["name"], json!("tool_07"));
    let r = api
        .get("/api/v1/tools?tool_type=remote", Some(&admin))
        .await;
    assert_eq!(r.body["items"], json!([]));

    // A cursor from another filter set, garbage, or bad parameters: 400.
    let c = api.get("/api/v1/tools?limit=1", Some(&admin)).await.body["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    api.get(
        &format!("/api/v1/tools?risk_level=high&cursor={c}"),
        Some(&admin),
    )
    .await
    .assert_problem(400);
    api.get("/api/v1/tools?cursor=garbage", Some(&admin))
        .await
        .assert_problem(400);
    for q in [
        "limit=0",
        "limit=101",
        "risk_level=extreme",
        "is_active=maybe",
        "tool_type=x",
        "sort=name",
    ] {
        api.get(&format!("/api/v1/tools?{q}"), Some(&admin))
            .await
            .assert_problem(400);
    }
}

#[tokio::test]
async fn patch_honours_if_match_renames_atomically_and_rejects_bad_fields() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let t = create(&api, &admin, &function_tool(&unique("patchme"))).await;
    let id = t["id"].as_str().unwrap();
    let path = format!("/api/v1/tools/{id}");

    let r = api
        .send(
            "PATCH",
            &path,
            Some(&admin),
            Some(&json!({"description": "new"})),
            &[("if-match", "\"v9\"")],
        )
        .await;
    r.assert_problem(412);

    let new_name = unique("renamed");
    let r = api
        .send(
            "PATCH",
            &path,
            Some(&admin),
            Some(&json!({"name": new_name, "risk_level": "critical"})),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v2\""));
    assert_eq!(r.body["risk_level"], json!("critical"));
    assert_eq!(r.calls("dynamodb"), 2, "one read, one transaction");

    // The old name is free again, the new one is taken.
    create(&api, &admin, &function_tool(t["name"].as_str().unwrap())).await;
    api.post(
        "/api/v1/tools",
        Some(&admin),
        &function_tool(&new_name.to_uppercase()),
    )
    .await
    .assert_problem(409);

    for (body, pointer) in [
        (json!({"tool_type": "remote"}), "/tool_type"),
        (
            json!({"server_url": "https://example.com/mcp"}),
            "/server_url",
        ),
        (
            json!({"input_schema": {"type": "string"}}),
            "/input_schema/type",
        ),
        (json!({}), ""),
    ] {
        let r = api
            .send("PATCH", &path, Some(&admin), Some(&body), &[])
            .await;
        r.assert_problem(422);
        assert_eq!(
            r.body["errors"][0]["pointer"],
            json!(pointer),
            "{body}: {}",
            r.text
        );
    }
    let after = api.get(&path, Some(&admin)).await;
    assert_eq!(
        after.body["version"],
        json!(2),
        "rejected patches change nothing"
    );
}

#[tokio::test]
async fn activation_is_idempotent_and_audited_once() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let t = create(&api, &admin, &function_tool(&unique("toggle"))).await;
    let id = t["id"].as_str().unwrap();
    for _ in 0..2 {
        let r = api
            .post(
                &format!("/api/v1/tools/{id}/deactivate"),
                Some(&admin),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["is_active"], json!(false));
        assert_eq!(r.body["version"], json!(2));
    }
    let r = api
        .post(
            &format!("/api/v1/tools/{id}/activate"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.body["is_active"], json!(true));
    let audit = api
        .get(
            &format!("/api/v1/audit-events?target_id={id}"),
            Some(&admin),
        )
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["tool.activate", "tool.deactivate", "tool.create"]);
    let r = api
        .get("/api/v1/tools?is_active=false&limit=100", Some(&admin))
        .await;
    assert!(r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["is_active"] == json!(false)));
}

#[tokio::test]
async fn delete_needs_an_elevated_admin_and_frees_the_name() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let name = unique("doomed");
    let t = create(&api, &admin, &function_tool(&name)).await;
    let path = format!("/api/v1/tools/{}", t["id"].as_str().unwrap());

    let r = api.send("DELETE", &path, Some(&admin), None, &[]).await;
    r.assert_problem(403);
    assert_eq!(
        r.body["type"],
        json!("urn:toolreg:problem:elevation-required")
    );
    assert!(r.body["detail"].as_str().unwrap().contains("elevate"));

    let elevated = api.elevated().await;
    // The elevated token is only for elevated routes.
    api.get(&path, Some(&elevated)).await.assert_problem(401);
    api.send(
        "DELETE",
        &path,
        Some(&elevated),
        None,
        &[("if-match", "\"v5\"")],
    )
    .await
    .assert_problem(412);
    let r = api.send("DELETE", &path, Some(&elevated), None, &[]).await;
    assert_eq!(r.status, 204, "{}", r.text);
    api.get(&path, Some(&admin)).await.assert_problem(404);
    api.send("DELETE", &path, Some(&elevated), None, &[])
        .await
        .assert_problem(404);
    create(&api, &admin, &function_tool(&name)).await;
    let audit = api
        .get(
            &format!(
                "/api/v1/audit-events?action=tool.delete&target_id={}",
                t["id"].as_str().unwrap()
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn users_read_the_catalog_and_admins_write_it() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let username = unique("reader");
    s.create_user(&username, "reader-password-123", Role::User)
        .await;
    let user = api.tokens(&username, "reader-password-123").await.0;
    let t = create(&api, &admin, &function_tool(&unique("visible"))).await;
    let id = t["id"].as_str().unwrap();

    assert_eq!(api.get("/api/v1/tools", Some(&user)).await.status, 200);
    assert_eq!(
        api.get(&format!("/api/v1/tools/{id}"), Some(&user))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get(&format!("/api/v1/tools/{id}/probes"), Some(&user))
            .await
            .status,
        200
    );
    api.post(
        "/api/v1/tools",
        Some(&user),
        &function_tool(&unique("nope")),
    )
    .await
    .assert_problem(403);
    api.send(
        "PATCH",
        &format!("/api/v1/tools/{id}"),
        Some(&user),
        Some(&json!({"description": "x"})),
        &[],
    )
    .await
    .assert_problem(403);
    api.post(
        &format!("/api/v1/tools/{id}/deactivate"),
        Some(&user),
        &json!({}),
    )
    .await
    .assert_problem(403);
    api.send(
        "DELETE",
        &format!("/api/v1/tools/{id}"),
        Some(&user),
        None,
        &[],
    )
    .await
    .assert_problem(403);
    api.post(
        "/api/v1/tools/remote/test-connection",
        Some(&user),
        &json!({"server_url": "https://example.com"}),
    )
    .await
    .assert_problem(403);
    api.post(
        &format!("/api/v1/tools/{id}/reprobe"),
        Some(&user),
        &json!({}),
    )
    .await
    .assert_problem(403);
    api.get("/api/v1/tools", None).await.assert_problem(401);
    api.get("/api/v1/tools", Some("not-a-token"))
        .await
        .assert_problem(401);

    // A function tool has nothing to probe.
    api.post(
        &format!("/api/v1/tools/{id}/reprobe"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_problem(409);
    // Unknown ids are 404s, malformed or not.
    api.get(
        "/api/v1/tools/00000000-0000-4000-8000-000000000000",
        Some(&admin),
    )
    .await
    .assert_problem(404);
    api.get("/api/v1/tools/not-a-uuid", Some(&admin))
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn probe_history_of_a_function_tool_is_empty_and_of_a_missing_tool_404_in_one_read() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let t = create(&api, &admin, &function_tool(&unique("nohistory"))).await;
    let r = api
        .get(
            &format!("/api/v1/tools/{}/probes", t["id"].as_str().unwrap()),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"items": [], "next_cursor": null}));
    assert_eq!(r.calls("dynamodb"), 1);
    let r = api
        .get(
            "/api/v1/tools/00000000-0000-4000-8000-000000000000/probes",
            Some(&admin),
        )
        .await;
    r.assert_problem(404);
    assert_eq!(r.calls("dynamodb"), 1);
}

#[tokio::test]
async fn contended_writes_on_one_tool_are_never_a_500() {
    // DynamoDB cancels a transaction that meets another on the same item
    // (TransactionConflict) instead of queueing it: the store retries those, so the answers
    // are the ones the rules give (201/409 for one name, 200/412 for one tool).
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    for round in 0..3 {
        let body = function_tool(&unique(&format!("contended{round}")));
        let results = futures::future::join_all(
            (0..40).map(|_| api.post("/api/v1/tools", Some(&admin), &body)),
        )
        .await;
        let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            39,
            "{statuses:?}"
        );
    }
    let tool = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &function_tool(&unique("contended_patch")),
        )
        .await;
    tool.assert_status(201);
    let path = format!("/api/v1/tools/{}", tool.body["id"].as_str().unwrap());
    let writes = (0..40).map(|i| {
        let api = api.clone();
        let (path, admin) = (path.clone(), admin.clone());
        async move {
            match i % 3 {
                0 => {
                    api.send(
                        "PATCH",
                        &path,
                        Some(&admin),
                        Some(&json!({"description": format!("d{i}")})),
                        &[],
                    )
                    .await
                }
                1 => {
                    api.post(&format!("{path}/deactivate"), Some(&admin), &json!({}))
                        .await
                }
                _ => {
                    api.post(&format!("{path}/activate"), Some(&admin), &json!({}))
                        .await
                }
            }
        }
    });
    let results = futures::future::join_all(writes).await;
    for r in &results {
        assert!(
            [200, 409, 412].contains(&r.status),
            "{} {}",
            r.status,
            r.text
        );
    }
}

/// A cursor sealed with the service's key for `viewer`, as the service would issue it.
async fn forged_cursor(viewer: &str, scope: &str, key: &[(&str, &str)]) -> String {
    let state = server().state().await;
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
async fn forged_cursors_are_400_before_any_query_and_a_missing_tools_probes_404() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let me = api.get("/api/v1/auth/me", Some(&admin)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The scope `services::tools::list` gives the unfiltered listing.
    let scope = format!(
        "tools::::{}",
        toolreg_core::services::ratelimit::key_of("\n")
    );
    let outside = forged_cursor(
        &me,
        &scope,
        &[
            ("GSI1PK", "USERS"),
            ("GSI1SK", "admin"),
            ("PK", "USER#x"),
            ("SK", "USER"),
        ],
    )
    .await;
    let r = api
        .get(&format!("/api/v1/tools?cursor={outside}"), Some(&admin))
        .await;
    r.assert_problem(400);
    assert_eq!(r.calls("dynamodb"), 0);

    let missing = uuid::Uuid::new_v4().to_string();
    let other = uuid::Uuid::new_v4().to_string();
    let probe_scope = format!("probes:{missing}");
    let stamp = "PROBE#2026-11-01T00:00:00.000000Z#p";
    let elsewhere = forged_cursor(
        &me,
        &probe_scope,
        &[("PK", &format!("TOOL#{other}")), ("SK", stamp)],
    )
    .await;
    let r = api
        .get(
            &format!("/api/v1/tools/{missing}/probes?cursor={elsewhere}"),
            Some(&admin),
        )
        .await;
    r.assert_problem(400);
    assert_eq!(r.calls("dynamodb"), 0);
    let inside = forged_cursor(
        &me,
        &probe_scope,
        &[("PK", &format!("TOOL#{missing}")), ("SK", stamp)],
    )
    .await;
    api.get(
        &format!("/api/v1/tools/{missing}/probes?cursor={inside}"),
        Some(&admin),
    )
    .await
    .assert_problem(404);
}

#[tokio::test]
async fn tools_carry_tags_that_listing_filters_on() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let tag = unique("team").to_lowercase();
    let name = unique("tagged");
    let r = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &json!({"tool_type": "function", "name": name, "risk_level": "low",
                    "input_schema": {"type": "object"}, "tags": [tag, "shared"]}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["tags"], json!([tag, "shared"]));
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = api
        .get(&format!("/api/v1/tools?tag={tag}&limit=100"), Some(&admin))
        .await;
    r.assert_status(200);
    assert_eq!(r.names(), vec![name.clone()]);
    let r = api
        .send(
            "PATCH",
            &format!("/api/v1/tools/{id}"),
            Some(&admin),
            Some(&json!({"tags": ["other"]})),
            &[],
        )
        .await;
    r.assert_status(200);
    let r = api
        .get(&format!("/api/v1/tools?tag={tag}"), Some(&admin))
        .await;
    assert!(r.names().is_empty(), "{}", r.text);
    for bad in [json!(["Upper"]), json!(["a", "a"]), json!("notalist")] {
        let r = api
            .send(
                "PATCH",
                &format!("/api/v1/tools/{id}"),
                Some(&admin),
                Some(&json!({"tags": bad})),
                &[],
            )
            .await;
        r.assert_problem(422);
    }
    let r = api.get(&format!("/api/v1/tools/{id}"), Some(&admin)).await;
    assert_eq!(r.body["tags"], json!(["other"]), "refusals changed nothing");
}
