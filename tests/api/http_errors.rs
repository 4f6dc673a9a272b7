//! Every bad request is a 4xx problem+json with a request id, never a 500.

use serde_json::json;
use toolreg_tests::api::Api;
use toolreg_tests::stack::server;

#[tokio::test]
async fn malformed_requests_get_clear_problems() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let tools = "/api/v1/tools";
    api.send_raw(
        "POST",
        tools,
        Some(&admin),
        "application/json",
        b"{\"name\":".to_vec(),
    )
    .await
    .assert_problem(400);
    api.send_raw("POST", tools, Some(&admin), "application/json", Vec::new())
        .await
        .assert_problem(400);
    api.send_raw("POST", tools, Some(&admin), "text/plain", b"{}".to_vec())
        .await
        .assert_problem(415);
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(300 * 1024));
    api.send_raw(
        "POST",
        tools,
        Some(&admin),
        "application/json",
        big.into_bytes(),
    )
    .await
    .assert_problem(413);
    api.send_raw(
        "POST",
        tools,
        Some(&admin),
        "application/json",
        vec![0xff, 0xfe, 0x00],
    )
    .await
    .assert_problem(400);
    let r = api
        .post(
            tools,
            Some(&admin),
            &json!({"tool_type": "function", "name": 7, "risk_level": "low"}),
        )
        .await;
    r.assert_problem(422);
    assert_eq!(r.body["errors"][0]["pointer"], json!("/name"));
    let r = api.post(tools, Some(&admin), &json!([1, 2])).await;
    r.assert_problem(422);
    let r = api.get("/api/v1/nothing-here", Some(&admin)).await;
    r.assert_problem(404);
    let r = api
        .send("PUT", "/api/v1/tools/abc", Some(&admin), None, &[])
        .await;
    r.assert_problem(405);
    let allow = r.header("allow").unwrap();
    assert!(
        allow.contains("GET") && allow.contains("PATCH") && allow.contains("DELETE"),
        "{allow}"
    );
    api.send("DELETE", "/health", None, None, &[])
        .await
        .assert_problem(405);
}

#[tokio::test]
async fn request_ids_are_echoed_when_well_formed_and_replaced_otherwise() {
    let api = Api::new(server());
    let r = api
        .send(
            "GET",
            "/health",
            None,
            None,
            &[("x-request-id", "abc-123.X_y:z")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-request-id"), Some("abc-123.X_y:z"));
    assert_eq!(
        r.calls("dynamodb") + r.calls("kms") + r.calls("secretsmanager"),
        0
    );
    for bad in ["has spaces", &"x".repeat(300), "semi;colon"] {
        let r = api
            .send("GET", "/health", None, None, &[("x-request-id", bad)])
            .await;
        let id = r.header("x-request-id").unwrap();
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
    // Errors carry it too, in the header and the body.
    let r = api
        .send(
            "GET",
            "/api/v1/tools",
            None,
            None,
            &[("x-request-id", "trace-me-1")],
        )
        .await;
    r.assert_problem(401);
    assert_eq!(r.header("x-request-id"), Some("trace-me-1"));
    assert_eq!(r.body["request_id"], json!("trace-me-1"));
}
