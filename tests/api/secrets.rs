//! Secrets stay secret: after a session that handles passwords, header values and tokens, none
//! of them appears in any response body, any line the server logged, or any audit event.

use serde_json::json;
use toolreg_core::domain::user::Role;
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::mcp::McpServer;
use toolreg_tests::stack::{bin, server, Server, ADMIN_PASSWORD, ADMIN_USERNAME};

#[tokio::test]
async fn no_secret_reaches_responses_logs_or_audit_events() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let mcp = McpServer::start("auth");
    let mut seen: Vec<Resp> = Vec::new();

    let user_pw = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let wrong_pw = format!("wrong-{}", uuid::Uuid::new_v4().simple());
    let header_values: Vec<String> = (0..3)
        .map(|i| format!("hv{i}-{}", uuid::Uuid::new_v4().simple()))
        .collect();
    let username = unique("secretive");
    s.create_user(&username, &user_pw, Role::Admin).await;

    seen.push(api.login(&username, &wrong_pw).await);
    seen.push(api.login("nobody-here", &wrong_pw).await);
    let login = api.login(&username, &user_pw).await;
    let admin = login.body["access_token"].as_str().unwrap().to_owned();
    let refresh = login.body["refresh_token"].as_str().unwrap().to_owned();
    seen.push(
        api.post(
            "/api/v1/auth/elevate",
            Some(&admin),
            &json!({"password": wrong_pw}),
        )
        .await,
    );
    seen.push(
        api.post(
            "/api/v1/auth/elevate",
            Some(&admin),
            &json!({"password": user_pw}),
        )
        .await,
    );
    seen.push(
        api.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await,
    );
    // Reuse: revokes the family and is audited.
    seen.push(
        api.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await,
    );

    let mut body = json!({"tool_type": "remote", "name": unique("sealed"), "risk_level": "high",
                          "server_url": mcp.url, "static_headers": {"Authorization": "Bearer test-token", "X-Secret": header_values[0]}});
    let created = api.post("/api/v1/tools", Some(&admin), &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    seen.push(created);
    seen.push(
        api.post(
            "/api/v1/tools/remote/test-connection",
            Some(&admin),
            &json!({"server_url": mcp.url, "static_headers": {"X-Secret": header_values[1]}}),
        )
        .await,
    );
    seen.push(api.send("PATCH", &format!("/api/v1/tools/{id}"), Some(&admin), Some(&json!({"static_headers": {"Authorization": "Bearer test-token", "X-Secret": header_values[2]}})), &[]).await);
    // A rejected header (CR/LF) must not be echoed in the 422 either.
    body["name"] = json!(unique("rejected"));
    body["static_headers"] = json!({"X-Secret": format!("{}\r\nInjected: yes", header_values[0])});
    seen.push(api.post("/api/v1/tools", Some(&admin), &body).await);
    seen.push(
        api.post(
            &format!("/api/v1/tools/{id}/reprobe"),
            Some(&admin),
            &json!({}),
        )
        .await,
    );
    seen.push(api.get(&format!("/api/v1/tools/{id}"), Some(&admin)).await);
    seen.push(
        api.get(&format!("/api/v1/tools/{id}/probes"), Some(&admin))
            .await,
    );
    seen.push(api.get("/api/v1/tools", Some(&admin)).await);

    // Every audit event, all pages.
    let mut cursor: Option<String> = None;
    let mut audit_text = String::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/audit-events?limit=100&cursor={c}"),
            None => "/api/v1/audit-events?limit=100".to_string(),
        };
        let r = api.get(&path, Some(&admin)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        audit_text.push_str(&r.text);
        cursor = r.body["next_cursor"].as_str().map(str::to_owned);
        seen.push(r);
        if cursor.is_none() {
            break;
        }
    }
    assert!(audit_text.contains("auth.refresh_reuse") && audit_text.contains("tool.create"));

    let keys = s.state().await.keys.get().await.expect("keys");
    let mut secrets: Vec<String> = vec![
        user_pw.clone(),
        wrong_pw.clone(),
        ADMIN_PASSWORD.to_string(),
        "test-token".into(),
    ];
    secrets.extend(header_values.iter().cloned());
    secrets.extend(
        keys.keys
            .values()
            .map(|k| String::from_utf8_lossy(k).into_owned()),
    );

    let log = s.log_text();
    assert!(
        log.contains("request served"),
        "the server log was captured"
    );
    for secret in &secrets {
        for r in &seen {
            assert!(
                !r.text.contains(secret.as_str()),
                "a secret appeared in a response: {}",
                r.text
            );
        }
        assert!(
            !audit_text.contains(secret.as_str()),
            "a secret appeared in the audit log"
        );
        assert!(
            !log.contains(secret.as_str()),
            "a secret appeared in the server log"
        );
    }
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_look_the_same() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let known = api
        .login(
            toolreg_tests::stack::ADMIN_USERNAME,
            "definitely-not-the-password",
        )
        .await;
    let unknown = api
        .login(&unique("ghost"), "definitely-not-the-password")
        .await;
    assert_eq!(known.status, 401);
    assert_eq!(known.status, unknown.status);
    let strip = |r: &Resp| {
        let mut b = r.body.clone();
        b.as_object_mut().unwrap().remove("request_id");
        b
    };
    assert_eq!(strip(&known), strip(&unknown));
    assert_eq!(
        known.header("www-authenticate"),
        unknown.header("www-authenticate")
    );
}

/// A loopback "DynamoDB" answering every request with a 200 whose body is not DynamoDB's JSON
/// but carries something secret-looking, as a garbled or intercepted answer might.
fn garbling_dynamodb(secret: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut seen = Vec::new();
            let mut buf = [0u8; 8192];
            // Read the head, then as much body as it announces.
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).to_lowercase();
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if seen.len() >= head_end + 4 + len {
                        break;
                    }
                }
            }
            let body = format!("{{\"Items\": \"{secret}\", \"Count\": [");
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_garbled_dynamodb_answer_is_logged_without_its_body() {
    const SECRET: &str = "$argon2id$v=19$m=19456,t=2,p=1$GARBLEDSALT0000$GARBLEDHASHSECRET";
    let mut env = server().env.clone();
    env.insert(
        "AWS_ENDPOINT_URL_DYNAMODB".into(),
        garbling_dynamodb(SECRET),
    );
    let log = std::env::temp_dir().join(format!("{}.log", unique("garbled")));
    let mut rt = toolreg_tests::runtime_api::RuntimeApi::start().await;
    rt.launch_logged(&bin("auth-login"), "auth-login", &env, Some(&log));
    let event = toolreg_tests::runtime_api::http_event(
        "POST",
        "/api/v1/auth/login",
        "/api/v1/auth/login",
        &[],
        &[],
        Some(&json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})),
    );
    let answer = match rt.invoke(event, std::time::Duration::from_secs(60)).await {
        toolreg_tests::runtime_api::Answer::Response(v) => v,
        toolreg_tests::runtime_api::Answer::Error(e) => panic!("invocation error: {e}"),
    };
    let status = answer["statusCode"].as_u64().unwrap();
    assert!(status >= 500, "{answer}");
    assert!(!answer.to_string().contains("GARBLED"), "{answer}");
    drop(rt);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("dynamodb"), "the failure is logged: {text}");
    assert!(
        !text.contains("GARBLED"),
        "a raw answer reached the log: {text}"
    );
}
