//! Every function binary served once through the real Lambda Runtime API protocol, against the
//! local stack: the deployed artefacts are the tested ones.

use serde_json::{json, Value};
use std::time::Duration;
use toolreg_core::routes::{DOCS, ROUTES, TOOLS_DELETE};
use toolreg_tests::api::{unique, Api};
use toolreg_tests::runtime_api::{function_url_event, http_event, Answer, RuntimeApi};
use toolreg_tests::stack::{bin, server, ADMIN_PASSWORD, ADMIN_USERNAME};

/// Method, path, headers, body and expected status of one invocation.
type Event<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Option<Value>,
    u16,
);

async fn run_once(function: &str, event: Value) -> Value {
    let mut rt = RuntimeApi::start().await;
    rt.launch(&bin(function), function, &server().env);
    match rt.invoke(event, Duration::from_secs(30)).await {
        Answer::Response(v) => v,
        Answer::Error(e) => panic!("{function} reported an invocation error: {e}"),
    }
}

fn status_and_body(v: &Value) -> (u16, Value) {
    let status = v["statusCode"].as_u64().expect("statusCode") as u16;
    let body = serde_json::from_str(v["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn every_route_binary_serves_an_api_gateway_event() {
    let api = Api::new(server());
    let (access, refresh) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let elevated = api.elevated().await;
    let bearer = format!("Bearer {access}");
    let auth: &[(&str, &str)] = &[("authorization", &bearer)];
    let tool = api
        .post(
            "/api/v1/tools",
            Some(&access),
            &json!({"tool_type": "function", "name": unique("lambda"), "risk_level": "low",
                    "input_schema": {"type": "object"}}),
        )
        .await;
    assert_eq!(tool.status, 201, "{}", tool.text);
    let id = tool.body["id"].as_str().unwrap().to_owned();
    let tool_path = format!("/api/v1/tools/{id}");

    let someone = api
        .post(
            "/api/v1/users",
            Some(&access),
            &json!({"username": unique("lambda_u"), "role": "user", "password": "lambda-user-password"}),
        )
        .await;
    assert_eq!(someone.status, 201, "{}", someone.text);
    let user_id = someone.body["id"].as_str().unwrap().to_owned();
    let (_, logout_refresh) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let elevated_auth = format!("Bearer {elevated}");

    let mut served = Vec::new();
    for route in ROUTES {
        if route.path.starts_with("/api/v1/users")
            || route.path.starts_with("/api/v1/auth/password")
            || route.path.starts_with("/api/v1/auth/logout")
        {
            let p = route.path;
            let concrete = p.replace("{id}", &user_id);
            let params = [("id", user_id.as_str())];
            let params: &[(&str, &str)] = if p.contains("{id}") { &params } else { &[] };
            let (method, path, headers, body, expected): Event = match route.function {
                "auth-password" => (
                    "POST",
                    p,
                    vec![("authorization", bearer.as_str())],
                    Some(
                        json!({"current_password": ADMIN_PASSWORD, "new_password": ADMIN_PASSWORD}),
                    ),
                    200,
                ),
                "auth-logout" => (
                    "POST",
                    p,
                    vec![],
                    Some(json!({"refresh_token": logout_refresh})),
                    204,
                ),
                "users-create" => (
                    "POST",
                    p,
                    vec![("authorization", bearer.as_str())],
                    Some(
                        json!({"username": unique("lambda_c"), "role": "user", "password": "lambda-user-password"}),
                    ),
                    201,
                ),
                "users-list" => (
                    "GET",
                    "/api/v1/users?limit=2",
                    vec![("authorization", bearer.as_str())],
                    None,
                    200,
                ),
                "users-get" | "users-disable" | "users-enable" => (
                    route.method,
                    concrete.as_str(),
                    vec![("authorization", bearer.as_str())],
                    None,
                    200,
                ),
                "users-update" => (
                    "PATCH",
                    concrete.as_str(),
                    vec![("authorization", bearer.as_str())],
                    Some(json!({"display_name": "Via Lambda"})),
                    200,
                ),
                "users-reset-password" => (
                    "POST",
                    concrete.as_str(),
                    vec![("authorization", elevated_auth.as_str())],
                    Some(json!({"new_password": "lambda-reset-password"})),
                    200,
                ),
                other => panic!("no API Gateway event for {other}: add one here"),
            };
            let v = run_once(
                route.function,
                http_event(method, path, p, params, &headers, body.as_ref()),
            )
            .await;
            assert_eq!(
                status_and_body(&v).0,
                expected,
                "{} answered {v}",
                route.function
            );
            served.push(route.function);
            continue;
        }
        let p = route.path;
        let params: Vec<(&str, &str)> = if p.contains("{id}") {
            vec![("id", id.as_str())]
        } else {
            vec![]
        };
        let concrete = p.replace("{id}", &id);
        let (event, expected) = match route.function {
            "health" => (http_event("GET", p, p, &[], &[], None), 200),
            "auth-login" => (
                http_event(
                    "POST",
                    p,
                    p,
                    &[],
                    &[],
                    Some(&json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})),
                ),
                200,
            ),
            "auth-refresh" => (
                http_event(
                    "POST",
                    p,
                    p,
                    &[],
                    &[],
                    Some(&json!({"refresh_token": refresh})),
                ),
                200,
            ),
            "auth-me" => (http_event("GET", p, p, &[], auth, None), 200),
            "auth-elevate" => (
                http_event(
                    "POST",
                    p,
                    p,
                    &[],
                    auth,
                    Some(&json!({"password": ADMIN_PASSWORD})),
                ),
                200,
            ),
            "tools-create" => (
                http_event(
                    "POST",
                    p,
                    p,
                    &[],
                    auth,
                    Some(
                        &json!({"tool_type": "function", "name": unique("viaλ"), "risk_level": "low", "input_schema": {"type": "object"}}),
                    ),
                ),
                422,
            ),
            "tools-list" => (
                http_event("GET", "/api/v1/tools?limit=5", p, &[], auth, None),
                200,
            ),
            "tools-get" => (http_event("GET", &concrete, p, &params, auth, None), 200),
            "tools-update" => (
                http_event(
                    "PATCH",
                    &concrete,
                    p,
                    &params,
                    auth,
                    Some(&json!({"description": "via lambda"})),
                ),
                200,
            ),
            "tools-activate" => (http_event("POST", &concrete, p, &params, auth, None), 200),
            "tools-deactivate" => (http_event("POST", &concrete, p, &params, auth, None), 200),
            "tools-delete" => continue, // served last, below
            "tools-test-connection" => (
                http_event(
                    "POST",
                    p,
                    p,
                    &[],
                    auth,
                    Some(&json!({"server_url": "ftp://example.com/"})),
                ),
                422,
            ),
            "tools-reprobe" => (http_event("POST", &concrete, p, &params, auth, None), 409),
            "tools-probes" => (http_event("GET", &concrete, p, &params, auth, None), 200),
            "audit-list" => (
                http_event("GET", "/api/v1/audit-events?limit=3", p, &[], auth, None),
                200,
            ),
            "openapi" | "docs" => (http_event("GET", p, p, &[], &[], None), 200),
            other => panic!("no API Gateway event for {other}: add one here"),
        };
        let v = run_once(route.function, event).await;
        let (status, body) = status_and_body(&v);
        assert_eq!(status, expected, "{} answered {v}", route.function);
        assert!(
            v["headers"]["x-request-id"].is_string(),
            "{} lacks x-request-id",
            route.function
        );
        if status >= 400 && route.function != DOCS.function {
            assert_eq!(
                v["headers"]["content-type"],
                json!("application/problem+json")
            );
            assert_eq!(body["status"], json!(status));
        }
        served.push(route.function);
    }
    // Finally delete the tool through its binary, with an elevated token.
    let delete = &TOOLS_DELETE;
    let elevated_bearer = format!("Bearer {elevated}");
    let v = run_once(
        delete.function,
        http_event(
            "DELETE",
            &tool_path,
            delete.path,
            &[("id", &id)],
            &[("authorization", &elevated_bearer)],
            None,
        ),
    )
    .await;
    assert_eq!(status_and_body(&v).0, 204, "{v}");
    served.push(delete.function);
    assert_eq!(served.len(), ROUTES.len());
    assert_eq!(api.get(&tool_path, Some(&access)).await.status, 404);
}

#[tokio::test]
async fn a_route_binary_serves_lambda_function_url_events() {
    let api = Api::new(server());
    let (access, _) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let bearer = format!("Bearer {access}");
    let tool = api
        .post(
            "/api/v1/tools",
            Some(&access),
            &json!({"tool_type": "function", "name": unique("fnurl"), "risk_level": "low",
                    "input_schema": {"type": "object"}}),
        )
        .await;
    assert_eq!(tool.status, 201, "{}", tool.text);
    let id = tool.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tools/{id}");

    // One warm function answers several invocations, as in Lambda.
    let mut rt = RuntimeApi::start().await;
    rt.launch(&bin("tools-get"), "tools-get", &server().env);
    let invoke = |event: Value| {
        let rt = &rt;
        async move {
            match rt.invoke(event, Duration::from_secs(30)).await {
                Answer::Response(v) => v,
                Answer::Error(e) => panic!("tools-get reported an invocation error: {e}"),
            }
        }
    };

    // A function URL carries no path parameters: the id comes from the path itself.
    let v = invoke(function_url_event(
        "GET",
        &path,
        &[("authorization", &bearer), ("x-request-id", "fn-url-check")],
        None,
    ))
    .await;
    let (status, body) = status_and_body(&v);
    assert_eq!(status, 200, "{v}");
    assert_eq!(body["id"], json!(id));
    assert_eq!(v["headers"]["x-request-id"], json!("fn-url-check"));
    assert!(v["headers"]["etag"].is_string(), "{v}");
    assert_eq!(v["isBase64Encoded"], json!(false));

    // A function URL sends every method and path to the function: the route's own are served.
    let v = invoke(function_url_event(
        "POST",
        &path,
        &[("authorization", &bearer)],
        None,
    ))
    .await;
    let (status, body) = status_and_body(&v);
    assert_eq!(status, 405, "{v}");
    assert_eq!(v["headers"]["allow"], json!("GET"));
    assert_eq!(body["status"], json!(405));
    let v = invoke(function_url_event("GET", "/api/v1/nope", &[], None)).await;
    assert_eq!(status_and_body(&v).0, 404, "{v}");
    assert_eq!(
        v["headers"]["content-type"],
        json!("application/problem+json")
    );
    drop(rt);

    // A base64-encoded body (function URLs encode any body they do not know to be text).
    let v = run_once(
        "auth-login",
        function_url_event(
            "POST",
            "/api/v1/auth/login",
            &[],
            Some(&json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})),
        ),
    )
    .await;
    let (status, body) = status_and_body(&v);
    assert_eq!(status, 200, "{v}");
    assert!(body["access_token"].is_string(), "{v}");
}

#[tokio::test]
async fn the_scheduled_reprobe_binary_answers_a_scheduled_event() {
    let event = json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-22T12:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/toolreg-reprobe"],
        "detail": {}
    });
    let v = run_once("reprobe", event).await;
    for key in [
        "due", "probed", "passed", "failed", "skipped", "errors", "deferred",
    ] {
        assert!(v[key].is_u64(), "summary lacks {key}: {v}");
    }
}
