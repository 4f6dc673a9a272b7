//! OAuth 2.0 client credentials (RFC 6749 §4.4) for agents: a standard client library gets a
//! token and reads the catalog with it; every refusal is an RFC 6749 §5.2 error.

use serde_json::{json, Value};
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::proc::{repo_root, venv_python};
use toolreg_tests::stack::{server, Server, ADMIN_PASSWORD, ADMIN_USERNAME};

async fn agent_with_key(api: &Api, admin: &str) -> (String, String) {
    let id = api
        .create_agent(admin, &json!({"name": unique("oauth"), "groups": ["g1"]}))
        .await;
    let (_, key) = api.agent_key(admin, &id).await;
    (id, key)
}

const CC: (&str, &str) = ("grant_type", "client_credentials");

#[track_caller]
fn assert_oauth_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["error"], json!(error), "{}", r.text);
    assert!(r.body["error_description"].is_string(), "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn a_standard_oauth_client_gets_a_token_and_lists_the_catalog() {
    // Its own table: agents see what the active policy could allow, and this one allows all.
    let s = &Server::start(&[]);
    let api = Api::new(s);
    api.activate_policy(&json!({"default": "allow"})).await;
    let admin = api.admin().await;
    let tool = unique("oauth_tool");
    api.post(
        "/api/v1/tools",
        Some(&admin),
        &json!({"tool_type": "function", "name": tool, "risk_level": "low", "input_schema": {"type": "object"}}),
    )
    .await
    .assert_status(201);
    let (id, key) = agent_with_key(&api, &admin).await;
    let out = std::process::Command::new(venv_python())
        .arg(repo_root().join("tests/clients/oauth_client.py"))
        .args([&s.url(""), &id, &key, "catalog:read"])
        .output()
        .expect("run the authlib client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(v["token_type"], json!("Bearer"));
    assert_eq!(v["expires_in"], json!(900));
    assert_eq!(v["scope"], json!("catalog:read"));
    assert_eq!(v["tools_status"], json!(200));
    assert!(
        v["tool_names"].as_array().unwrap().contains(&json!(tool)),
        "{v}"
    );
}

#[tokio::test]
async fn tokens_carry_the_agent_and_its_scopes_and_cost_no_read() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let (id, key) = agent_with_key(&api, &admin).await;
    // Client authentication in the body works as well as Basic.
    let r = api
        .oauth_token(None, &[CC, ("client_id", &id), ("client_secret", &key)])
        .await;
    r.assert_status(200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["token_type"], json!("Bearer"));
    assert_eq!(r.body["scope"], json!("catalog:read tools:access"));
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    let r = api.get("/api/v1/auth/me", Some(&token)).await;
    r.assert_status(200);
    assert_eq!(r.body["kind"], json!("agent"));
    assert_eq!(r.body["id"], json!(id));
    assert_eq!(r.body["groups"], json!(["g1"]));
    assert_eq!(r.calls("dynamodb"), 0, "a token is checked without a read");
    api.get("/api/v1/tools", Some(&token))
        .await
        .assert_status(200);
    api.get("/api/v1/users", Some(&token))
        .await
        .assert_problem(403);
    api.post(
        "/api/v1/auth/elevate",
        Some(&token),
        &json!({"password": "whatever-password"}),
    )
    .await
    .assert_problem(403);

    // A token without catalog:read cannot read the catalog.
    let r = api
        .oauth_token(Some((&id, &key)), &[CC, ("scope", "tools:access")])
        .await;
    r.assert_status(200);
    let narrow = r.body["access_token"].as_str().unwrap().to_owned();
    api.get("/api/v1/tools", Some(&narrow))
        .await
        .assert_problem(403);

    // The token endpoint: counters and the key read, then the audit event.
    let r = api.oauth_token(Some((&id, &key)), &[CC]).await;
    r.assert_status(200);
    assert!(
        r.calls("dynamodb") <= 5,
        "{:?}",
        r.header("x-toolreg-aws-calls")
    );
    let events = api
        .get(
            &format!("/api/v1/audit-events?target_id={id}&action=auth.token"),
            Some(&admin),
        )
        .await;
    assert_eq!(
        events.body["items"].as_array().unwrap().len(),
        3,
        "{}",
        events.text
    );
    assert!(
        !events.text.contains(&key[17..]),
        "a secret reached the audit log"
    );
}

#[tokio::test]
async fn refusals_are_rfc_6749_errors() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let (id, key) = agent_with_key(&api, &admin).await;
    let (other, other_key) = agent_with_key(&api, &admin).await;

    let r = api.oauth_token(Some((&id, "trk_wrong")), &[CC]).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    let wrong_secret = format!(
        "{}{}",
        &key[..key.len() - 1],
        if key.ends_with('a') { "b" } else { "a" }
    );
    assert_oauth_error(
        &api.oauth_token(Some((&id, &wrong_secret)), &[CC]).await,
        401,
        "invalid_client",
    );
    // Another agent's key is not this client's secret.
    assert_oauth_error(
        &api.oauth_token(Some((&id, &other_key)), &[CC]).await,
        401,
        "invalid_client",
    );
    assert_oauth_error(&api.oauth_token(None, &[CC]).await, 401, "invalid_client");
    assert_oauth_error(
        &api.oauth_token(Some((&id, &key)), &[("grant_type", "password")])
            .await,
        400,
        "unsupported_grant_type",
    );
    assert_oauth_error(
        &api.oauth_token(Some((&id, &key)), &[]).await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &api.oauth_token(Some((&id, &key)), &[CC, CC]).await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &api.oauth_token(Some((&id, &key)), &[CC, ("client_secret", &key)])
            .await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &api.oauth_token(Some((&id, &key)), &[CC, ("scope", "catalog:read admin")])
            .await,
        400,
        "invalid_scope",
    );
    let r = api
        .send(
            "POST",
            "/api/v1/oauth/token",
            None,
            Some(&json!({"grant_type": "client_credentials"})),
            &[],
        )
        .await;
    assert_oauth_error(&r, 400, "invalid_request");

    // A disabled agent gets no token; a revoked key neither.
    api.post(
        &format!("/api/v1/agents/{other}/disable"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);
    assert_oauth_error(
        &api.oauth_token(Some((&other, &other_key)), &[CC]).await,
        401,
        "invalid_client",
    );
    let r = api
        .get(&format!("/api/v1/agents/{id}/keys"), Some(&admin))
        .await;
    let key_id = r.body["items"][0]["id"].as_str().unwrap().to_owned();
    api.send(
        "DELETE",
        &format!("/api/v1/agents/{id}/keys/{key_id}"),
        Some(&admin),
        None,
        &[],
    )
    .await
    .assert_status(204);
    assert_oauth_error(
        &api.oauth_token(Some((&id, &key)), &[CC]).await,
        401,
        "invalid_client",
    );
    let r = api
        .get(
            "/api/v1/audit-events?action=auth.token&outcome=failure&limit=100",
            Some(&admin),
        )
        .await;
    assert!(!r.body["items"].as_array().unwrap().is_empty());
    assert!(!r.text.contains(&key[17..]) && !r.text.contains(&other_key[17..]));
}

#[tokio::test]
async fn the_token_endpoint_is_rate_limited_per_client() {
    let s = &Server::start(&[("OAUTH_RATE_LIMIT_CLIENT", "3/minute")]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let (id, key) = agent_with_key(&api, &admin).await;
    for _ in 0..3 {
        api.oauth_token(Some((&id, &key)), &[CC])
            .await
            .assert_status(200);
    }
    let r = api.oauth_token(Some((&id, &key)), &[CC]).await;
    assert_oauth_error(&r, 429, "temporarily_unavailable");
    let retry: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Wrong secrets spend the same budget: no guessing past the limit.
    assert_oauth_error(
        &api.oauth_token(Some((&id, "trk_guess")), &[CC]).await,
        429,
        "temporarily_unavailable",
    );
}

#[tokio::test]
async fn the_authorization_server_metadata_describes_the_token_endpoint() {
    let s = server();
    let api = Api::new(s);
    let r = api
        .get("/.well-known/oauth-authorization-server", None)
        .await;
    r.assert_status(200);
    let base = s.url("");
    assert_eq!(r.body["issuer"], json!(base));
    assert_eq!(
        r.body["token_endpoint"],
        json!(format!("{base}/api/v1/oauth/token"))
    );
    assert_eq!(
        r.body["grant_types_supported"],
        json!(["client_credentials"])
    );
    assert_eq!(
        r.body["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
}

/// Every attribute of every item in `s`'s table, as text: strings and numbers as they are,
/// binary values both raw (lossy UTF-8) and base64.
async fn table_text(s: &Server) -> String {
    use aws_sdk_dynamodb::types::AttributeValue;
    use base64::Engine;
    fn push(out: &mut String, v: &AttributeValue) {
        match v {
            AttributeValue::S(x) | AttributeValue::N(x) => out.push_str(x),
            AttributeValue::B(b) => {
                out.push_str(&String::from_utf8_lossy(b.as_ref()));
                out.push('\n');
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(b.as_ref()));
            }
            AttributeValue::Ss(xs) | AttributeValue::Ns(xs) => out.push_str(&xs.join("\n")),
            AttributeValue::L(xs) => xs.iter().for_each(|x| push(out, x)),
            AttributeValue::M(m) => m.iter().for_each(|(k, x)| {
                out.push_str(k);
                out.push('\n');
                push(out, x);
            }),
            other => out.push_str(&format!("{other:?}")),
        }
        out.push('\n');
    }
    let mut out = String::new();
    for item in s.scan_table().await {
        for (k, v) in &item {
            out.push_str(k);
            out.push('\n');
            push(&mut out, v);
        }
    }
    out
}

/// Every audit event, all pages, as the API lists them.
async fn audit_log_text(api: &Api, admin: &str) -> String {
    let mut out = String::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/audit-events?limit=100&cursor={c}"),
            None => "/api/v1/audit-events?limit=100".to_owned(),
        };
        let r = api.get(&path, Some(admin)).await;
        r.assert_status(200);
        out.push_str(&r.text);
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(url::form_urlencoded::byte_serialize(c.as_bytes()).collect()),
            None => return out,
        }
    }
}

#[tokio::test]
async fn a_key_sent_where_an_identifier_belongs_never_reaches_the_audit_log() {
    // Its own table, scanned whole below; a small login limit so a refusal is audited too.
    let s = &Server::start(&[("LOGIN_RATE_LIMIT_IP", "3/hour")]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let (id, key) = agent_with_key(&api, &admin).await;

    // The id and the secret swapped, in the body and in HTTP Basic; the key as both.
    for form in [
        vec![
            CC,
            ("client_id", key.as_str()),
            ("client_secret", id.as_str()),
        ],
        vec![
            CC,
            ("client_id", key.as_str()),
            ("client_secret", key.as_str()),
        ],
    ] {
        assert_oauth_error(&api.oauth_token(None, &form).await, 401, "invalid_client");
    }
    assert_oauth_error(
        &api.oauth_token(Some((&key, &id)), &[CC]).await,
        401,
        "invalid_client",
    );
    // A well-formed client id that is not the key's agent is still recorded as sent.
    let stranger = uuid::Uuid::new_v4().to_string();
    assert_oauth_error(
        &api.oauth_token(Some((&stranger, &key)), &[CC]).await,
        401,
        "invalid_client",
    );
    // The key typed as a username: a wrong login, then (past the per-IP limit) a refused one.
    let from = Api::from_source(s, "127.0.0.77");
    for _ in 0..4 {
        let r = from.login(&key, "some-password-123").await;
        assert!(matches!(r.status, 401 | 429), "{}", r.text);
    }

    // A key pasted into a path: the request's log line does not carry it.
    let r = api
        .get(&format!("/api/v1/credentials/{key}"), Some(&admin))
        .await;
    assert!(matches!(r.status, 400 | 404 | 422), "{}", r.text);

    let audit = audit_log_text(&api, &admin).await;
    assert!(
        audit.contains(&stranger),
        "a well-formed client id is kept for the record"
    );
    let table = table_text(s).await;
    let logs = s.log_text();
    for (place, text) in [
        ("audit log", &audit),
        ("table", &table),
        ("server log", &logs),
    ] {
        for start in 0..=key.len() - 16 {
            let part = &key[start..start + 16];
            assert!(
                !text.contains(part),
                "{part:?} (of the key) is in the {place}"
            );
        }
    }
    // The refusals are still recorded, with what was safe to keep.
    let r = api
        .get(
            "/api/v1/audit-events?action=auth.token&limit=100",
            Some(&admin),
        )
        .await;
    r.assert_status(200);
    let failures: Vec<&Value> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == json!("failure"))
        .collect();
    assert_eq!(failures.len(), 4, "{}", r.text);
    let ids: Vec<&Value> = failures
        .iter()
        .map(|e| &e["details"]["client_id"])
        .collect();
    assert_eq!(
        ids.iter().filter(|v| ***v == json!(stranger)).count(),
        1,
        "{ids:?}"
    );
    for v in ids.iter().filter(|v| ***v != json!(stranger)) {
        assert!(
            v.as_str().is_some_and(|s| s.contains("not recorded")),
            "{ids:?}"
        );
    }
    for action in ["auth.login", "auth.login.rate_limited"] {
        let r = api
            .get(
                &format!("/api/v1/audit-events?action={action}&limit=100"),
                Some(&admin),
            )
            .await;
        r.assert_status(200);
        assert!(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["source_ip"] == json!("127.0.0.77") && e["outcome"] == json!("failure")),
            "{action}: {}",
            r.text
        );
    }
}

/// The claims of a JWT, read without checking it (the server checked it).
fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

#[tokio::test]
async fn the_metadata_never_follows_the_host_header_and_its_issuer_is_the_tokens_iss() {
    let s = server();
    let api = Api::new(s);
    // The document is cached publicly for an hour: a Host an attacker sends must not land in it.
    let r = api
        .send(
            "GET",
            "/.well-known/oauth-authorization-server",
            None,
            None,
            &[
                ("host", "evil.example.com"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "evil.example.com"),
            ],
        )
        .await;
    r.assert_status(200);
    assert!(!r.text.contains("evil"), "{}", r.text);
    assert_eq!(r.body["issuer"], json!(s.base));
    assert_eq!(
        r.body["token_endpoint"],
        json!(s.url("/api/v1/oauth/token"))
    );
    // RFC 8414 §3.3: the issuer is the URL the metadata was fetched under; and a token
    // from this server names the same issuer, for people and agents alike.
    let (access, refresh) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(claims_of(&access)["iss"], json!(s.base));
    assert_eq!(claims_of(&refresh)["iss"], json!(s.base));
    let admin = api.admin().await;
    let (id, key) = agent_with_key(&api, &admin).await;
    let t = api.oauth_token(Some((&id, &key)), &[CC]).await;
    t.assert_status(200);
    assert_eq!(
        claims_of(t.body["access_token"].as_str().unwrap())["iss"],
        r.body["issuer"]
    );
}

#[tokio::test]
async fn a_function_in_lambda_needs_public_base_url_and_builds_every_url_from_it() {
    use std::time::Duration;
    use toolreg_tests::runtime_api::{http_event, Answer, RuntimeApi};
    use toolreg_tests::stack::bin;
    let s = server();
    // Without it the function stops at start-up, naming the variable.
    let mut env = s.env.clone();
    env.remove("PUBLIC_BASE_URL");
    let log = std::env::temp_dir().join(format!("{}.log", unique("no-base-url")));
    let mut rt = RuntimeApi::start().await;
    rt.launch_logged(&bin("oauth-metadata"), "oauth-metadata", &env, Some(&log));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("PUBLIC_BASE_URL") || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        text.contains("PUBLIC_BASE_URL") && text.contains("required"),
        "{text}"
    );
    drop(rt);

    // With it, the documents name it whatever Host the request carried.
    let mut env = s.env.clone();
    env.insert("PUBLIC_BASE_URL".into(), "https://tools.example.com".into());
    for (function, path) in [
        ("oauth-metadata", "/.well-known/oauth-authorization-server"),
        (
            "oauth-protected-resource",
            "/.well-known/oauth-protected-resource",
        ),
    ] {
        let mut rt = RuntimeApi::start().await;
        rt.launch(&bin(function), function, &env);
        let event = http_event(
            "GET",
            path,
            path,
            &[],
            &[("host", "evil.example.com"), ("x-forwarded-proto", "https")],
            None,
        );
        let Answer::Response(v) = rt.invoke(event, Duration::from_secs(30)).await else {
            panic!("{function} failed");
        };
        assert_eq!(v["statusCode"], json!(200), "{v}");
        let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
        assert!(!body.to_string().contains("evil"), "{function}: {body}");
        match function {
            "oauth-metadata" => {
                assert_eq!(body["issuer"], json!("https://tools.example.com"));
                assert_eq!(
                    body["token_endpoint"],
                    json!("https://tools.example.com/api/v1/oauth/token")
                );
            }
            _ => {
                assert_eq!(body["resource"], json!("https://tools.example.com/mcp"));
                assert_eq!(
                    body["authorization_servers"],
                    json!(["https://tools.example.com"])
                );
            }
        }
    }
}
