//! Secrets stay secret: after a session that handles passwords, header values and tokens, none
//! of them appears in any response body, any line the server logged, or any audit event.

use serde_json::json;
use toolreg_core::domain::user::Role;
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::mcp::McpServer;
use toolreg_tests::stack::{Server, ADMIN_PASSWORD};

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
