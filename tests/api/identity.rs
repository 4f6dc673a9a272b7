//! Login, refresh rotation and reuse detection, elevation, and token attacks.

use base64::Engine;
use serde_json::{json, Value};
use toolreg_core::auth::jwt::{self, Claims, TokenType};
use toolreg_core::auth::keys::KeySet;
use toolreg_core::domain::user::Role;
use toolreg_tests::api::{unique, Api};
use toolreg_tests::stack::{server, Server, ADMIN_PASSWORD, ADMIN_USERNAME};

fn claims(typ: TokenType) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: "attacker".into(),
        username: ADMIN_USERNAME.into(),
        role: Role::Admin,
        typ,
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now,
        exp: now + 600,
        // The shared server's issuer: its public URL.
        iss: server().base.clone(),
        aud: "toolreg-api".into(),
        fam: None,
        amr: Vec::new(),
        scope: None,
        groups: vec![],
        tags: vec![],
        key: None,
    }
}

async fn keys(s: &Server) -> KeySet {
    (*s.state().await.keys.get().await.expect("keys")).clone()
}

#[tokio::test]
async fn login_returns_a_token_pair_in_two_round_trips() {
    let api = Api::new(server());
    let r = api.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], json!("bearer"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Two rate-limit counters and the user lookup (concurrently), then one transaction.
    assert_eq!(r.calls("dynamodb"), 4);
    let access_exp =
        toolreg_core::time::parse(r.body["access_token_expires_at"].as_str().unwrap()).unwrap();
    let refresh_exp =
        toolreg_core::time::parse(r.body["refresh_token_expires_at"].as_str().unwrap()).unwrap();
    let now = chrono::Utc::now();
    assert!((access_exp - now).num_seconds().abs_diff(15 * 60) < 30);
    assert!((refresh_exp - now).num_seconds().abs_diff(14 * 86_400) < 30);
    // Case-insensitive usernames.
    assert_eq!(
        api.login(&ADMIN_USERNAME.to_uppercase(), ADMIN_PASSWORD)
            .await
            .status,
        200
    );

    let me = api
        .get("/api/v1/auth/me", r.body["access_token"].as_str())
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["username"], json!(ADMIN_USERNAME));
    assert_eq!(me.body["role"], json!("admin"));
    assert_eq!(
        me.calls("dynamodb"),
        0,
        "an access token is checked without any database call"
    );
}

#[tokio::test]
async fn bad_credentials_and_bodies_are_refused() {
    let api = Api::new(server());
    api.login(ADMIN_USERNAME, "not-the-password")
        .await
        .assert_problem(401);
    api.login("nobody", "not-the-password")
        .await
        .assert_problem(401);
    let r = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": ADMIN_USERNAME}),
        )
        .await;
    r.assert_problem(422);
    assert_eq!(r.body["errors"][0]["pointer"], json!("/password"));
    let r = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": 5, "password": "x"}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["pointer"], json!("/username"));
    let r = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "a", "password": "b", "otp": 1}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["pointer"], json!("/otp"));
    let r = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "a", "password": "x".repeat(2000)}),
        )
        .await;
    r.assert_problem(422);
}

#[tokio::test]
async fn refresh_rotates_once_and_reuse_revokes_the_family() {
    let api = Api::new(server());
    let (_, first) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let r = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.calls("dynamodb"), 1, "refresh is one transaction");
    let second = r.body["refresh_token"].as_str().unwrap().to_owned();
    let access = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api.get("/api/v1/auth/me", Some(&access)).await.status, 200);

    // Presenting the spent token again: refused, and the whole family with it.
    let reuse = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first}),
        )
        .await;
    reuse.assert_problem(401);
    assert!(reuse.body["detail"].as_str().unwrap().contains("revoked"));
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": second}),
    )
    .await
    .assert_problem(401);

    let admin = api.admin().await;
    let audit = api
        .get(
            "/api/v1/audit-events?action=auth.refresh_reuse&limit=100",
            Some(&admin),
        )
        .await;
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["request_id"] == json!(reuse.header("x-request-id").unwrap())),
        "{}",
        audit.text
    );
    // An access token is not a refresh token.
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": access}),
    )
    .await
    .assert_problem(401);
}

#[tokio::test]
async fn twenty_concurrent_refreshes_with_one_token_let_exactly_one_through() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let (_, token) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let body = json!({"refresh_token": token});
    let results =
        futures::future::join_all((0..20).map(|_| api.post("/api/v1/auth/refresh", None, &body)))
            .await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(results.iter().all(|r| r.status == 200 || r.status == 401));
}

#[tokio::test]
async fn elevation_rechecks_the_password_and_is_for_admins() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let r = api
        .post(
            "/api/v1/auth/elevate",
            Some(&admin),
            &json!({"password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let exp =
        toolreg_core::time::parse(r.body["elevated_token_expires_at"].as_str().unwrap()).unwrap();
    assert!((exp - chrono::Utc::now()).num_seconds().abs_diff(5 * 60) < 30);
    let bad = api
        .post(
            "/api/v1/auth/elevate",
            Some(&admin),
            &json!({"password": "wrong-password"}),
        )
        .await;
    bad.assert_problem(401);
    let audit = api
        .get(
            "/api/v1/audit-events?action=auth.elevate&outcome=failure&limit=100",
            Some(&admin),
        )
        .await;
    assert!(audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["request_id"] == json!(bad.header("x-request-id").unwrap())));

    let name = unique("plain_user");
    s.create_user(&name, "plain-user-password", Role::User)
        .await;
    let user = api.tokens(&name, "plain-user-password").await.0;
    api.post(
        "/api/v1/auth/elevate",
        Some(&user),
        &json!({"password": "plain-user-password"}),
    )
    .await
    .assert_problem(403);
    api.get("/api/v1/audit-events", Some(&user))
        .await
        .assert_problem(403);
}

#[tokio::test]
async fn forged_and_misused_tokens_are_401() {
    let s = server();
    let api = Api::new(s);
    let k = keys(s).await;
    let other = KeySet {
        signing_kid: k.signing_kid.clone(),
        keys: [(
            k.signing_kid.clone(),
            b"an-entirely-different-key-0123456789".to_vec(),
        )]
        .into(),
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let valid = jwt::sign(&k, &claims(TokenType::Access)).unwrap();
    let mut cases: Vec<(&str, String)> = Vec::new();
    let mut expired = claims(TokenType::Access);
    expired.exp = chrono::Utc::now().timestamp() - 60;
    cases.push(("expired", jwt::sign(&k, &expired).unwrap()));
    cases.push((
        "other key",
        jwt::sign(&other, &claims(TokenType::Access)).unwrap(),
    ));
    let mut iss = claims(TokenType::Access);
    iss.iss = "someone-else".into();
    cases.push(("wrong iss", jwt::sign(&k, &iss).unwrap()));
    let mut aud = claims(TokenType::Access);
    aud.aud = "another-api".into();
    cases.push(("wrong aud", jwt::sign(&k, &aud).unwrap()));
    cases.push((
        "refresh as access",
        jwt::sign(&k, &claims(TokenType::Refresh)).unwrap(),
    ));
    cases.push((
        "elevated as access",
        jwt::sign(&k, &claims(TokenType::Elevated)).unwrap(),
    ));
    let payload = b64.encode(serde_json::to_vec(&claims(TokenType::Access)).unwrap());
    cases.push((
        "alg none",
        format!(
            "{}.{payload}.",
            b64.encode(format!(
                r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#,
                k.signing_kid
            ))
        ),
    ));
    // RS256 header over an HMAC signature made with the key: algorithm confusion.
    let parts: Vec<&str> = valid.split('.').collect();
    let rs_header = b64.encode(format!(
        r#"{{"alg":"RS256","typ":"JWT","kid":"{}"}}"#,
        k.signing_kid
    ));
    cases.push((
        "alg confusion",
        format!("{rs_header}.{}.{}", parts[1], parts[2]),
    ));
    // Tampered payload, original signature.
    let mut promoted: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    promoted["sub"] = json!("someone-else");
    cases.push((
        "tampered",
        format!(
            "{}.{}.{}",
            parts[0],
            b64.encode(promoted.to_string()),
            parts[2]
        ),
    ));
    // No exp at all.
    let mut no_exp: Value = serde_json::to_value(claims(TokenType::Access)).unwrap();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(k.signing_kid.clone());
    let key = jsonwebtoken::EncodingKey::from_secret(&k.keys[&k.signing_kid]);
    cases.push((
        "missing exp",
        jsonwebtoken::encode(&header, &no_exp, &key).unwrap(),
    ));
    cases.push(("garbage", "definitely.not.ajwt".into()));

    assert_eq!(
        api.get("/api/v1/auth/me", Some(&valid)).await.status,
        200,
        "the control token works"
    );
    for (what, token) in &cases {
        let r = api.get("/api/v1/auth/me", Some(token)).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text);
        r.assert_problem(401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{what}");
    }
    let r = api
        .send(
            "GET",
            "/api/v1/auth/me",
            None,
            None,
            &[("authorization", "Basic YWRtaW46YWRtaW4=")],
        )
        .await;
    r.assert_problem(401);
}

#[tokio::test]
async fn the_cli_seeds_an_admin_with_a_password_from_stdin() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let s = server();
    let name = unique("cli_admin");
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(toolreg_tests::stack::bin("toolreg"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&s.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run toolreg");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(
        &["seed-admin", "--username", &name],
        "cli-admin-password-1\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let api = Api::new(s);
    let r = api.login(&name, "cli-admin-password-1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = api
        .get("/api/v1/auth/me", r.body["access_token"].as_str())
        .await;
    assert_eq!(me.body["role"], json!("admin"));
    // Taken names, short passwords and passwords as arguments are refused.
    assert!(!run(
        &["seed-admin", "--username", &name],
        "cli-admin-password-1\n"
    )
    .status
    .success());
    assert!(
        !run(&["seed-admin", "--username", &unique("short")], "short\n")
            .status
            .success()
    );
    assert!(
        !run(&["seed-admin", "--username", "x", "--password", "y"], "")
            .status
            .success()
    );
}
