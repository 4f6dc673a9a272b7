//! The TOTP second factor: enrolment, confirmation, the two-step login, elevation, removal,
//! `REQUIRE_ADMIN_MFA`, and the audit of logins from new contexts. Codes come from the secret
//! the enrolment answered, as an authenticator app would compute them.

use serde_json::{json, Value};
use toolreg_core::domain::user::Role;
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::stack::{server, Server, ADMIN_PASSWORD, ADMIN_USERNAME};
use toolreg_tests::totp::Authenticator;

const PW: &str = "mfa-test-password";

/// A new user of `role` on `s`: (id, username).
async fn new_user(s: &Server, api: &Api, role: Role) -> (String, String) {
    let username = unique("mfa");
    s.create_user(&username, PW, role).await;
    let access = api.tokens(&username, PW).await.0;
    let me = api.get("/api/v1/auth/me", Some(&access)).await;
    me.assert_status(200);
    (me.body["id"].as_str().unwrap().to_owned(), username)
}

/// Starts an enrolment for the user logged in with `access`, whose password is `password`.
async fn enrol(api: &Api, access: &str, password: &str) -> (Authenticator, String) {
    let r = api
        .post(
            "/api/v1/auth/mfa/totp",
            Some(access),
            &json!({"current_password": password}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let uri = r.body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/toolreg:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(
        uri.contains("digits=6") && uri.contains("period=30") && uri.contains("algorithm=SHA1")
    );
    (Authenticator::new(&secret), secret)
}

/// Enrols and confirms TOTP for a user logged in with `access`; returns the authenticator, the
/// secret and the confirmation's token pair.
async fn enable(api: &Api, access: &str, password: &str) -> (Authenticator, String, Value) {
    let (mut auth, secret) = enrol(api, access, password).await;
    let code = auth.next_code().await;
    let r = api
        .post(
            "/api/v1/auth/mfa/totp/confirm",
            Some(access),
            &json!({"code": code}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["totp_enabled"], json!(true));
    assert!(r.body["access_token"].is_string() && r.body["refresh_token"].is_string());
    assert!(!r.text.contains(&secret));
    (auth, secret, r.body)
}

async fn login_mfa(api: &Api, token: &str, code: &str) -> Resp {
    api.post(
        "/api/v1/auth/login/mfa",
        None,
        &json!({"mfa_token": token, "code": code}),
    )
    .await
}

/// Logs in with the password of a user with TOTP: the MFA token.
async fn challenge(api: &Api, username: &str) -> String {
    let r = api.login(username, PW).await;
    r.assert_status(200);
    assert_eq!(r.body["mfa_required"], json!(true), "{}", r.text);
    assert!(r.body.get("access_token").is_none(), "{}", r.text);
    r.body["mfa_token"].as_str().unwrap().to_owned()
}

async fn events(api: &Api, admin: &str, target: &str, action: &str) -> Vec<Value> {
    let r = api
        .get(
            &format!("/api/v1/audit-events?target_id={target}&action={action}&limit=100"),
            Some(admin),
        )
        .await;
    r.assert_status(200);
    r.body["items"].as_array().unwrap().clone()
}

/// Every audit event about `target`, as text.
async fn audit_text(api: &Api, admin: &str, target: &str) -> String {
    let r = api
        .get(
            &format!("/api/v1/audit-events?target_id={target}&limit=100"),
            Some(admin),
        )
        .await;
    r.assert_status(200);
    r.text
}

#[tokio::test]
async fn enrol_confirm_then_login_needs_a_code_that_works_once() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let (id, username) = new_user(s, &api, Role::User).await;
    let (access, _) = api.tokens(&username, PW).await;

    let (mut auth, secret) = enrol(&api, &access, PW).await;
    // A pending enrolment changes nothing about login yet.
    let r = api.login(&username, PW).await;
    r.assert_status(200);
    assert!(r.body["access_token"].is_string());

    // Bad confirmations change nothing.
    for bad in [
        json!({"code": "12ab56"}),
        json!({"code": 123456}),
        json!({}),
        json!({"code": "123456", "x": 1}),
    ] {
        api.post("/api/v1/auth/mfa/totp/confirm", Some(&access), &bad)
            .await
            .assert_problem(422);
    }
    let r = api
        .post(
            "/api/v1/auth/mfa/totp/confirm",
            Some(&access),
            &json!({"code": auth.wrong_code()}),
        )
        .await;
    r.assert_problem(401);
    assert!(api.login(&username, PW).await.body["access_token"].is_string());

    let code = auth.next_code().await;
    let r = api
        .post(
            "/api/v1/auth/mfa/totp/confirm",
            Some(&access),
            &json!({"code": code}),
        )
        .await;
    r.assert_status(200);
    assert!(!r.text.contains(&secret));
    // The confirmation's session carries the second factor; enrolling again is refused.
    let confirmed_access = r.body["access_token"].as_str().unwrap().to_owned();
    api.get("/api/v1/auth/me", Some(&confirmed_access))
        .await
        .assert_status(200);
    api.post(
        "/api/v1/auth/mfa/totp/confirm",
        Some(&access),
        &json!({"code": "000000"}),
    )
    .await
    .assert_problem(409);
    api.post(
        "/api/v1/auth/mfa/totp",
        Some(&access),
        &json!({"current_password": PW}),
    )
    .await
    .assert_problem(409);

    // Password, then code.
    let token = challenge(&api, &username).await;
    login_mfa(&api, &token, &auth.wrong_code())
        .await
        .assert_problem(401);
    login_mfa(&api, &token, "12345").await.assert_problem(422);
    let code = auth.next_code().await;
    let r = login_mfa(&api, &token, &code).await;
    r.assert_status(200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let access2 = r.body["access_token"].as_str().unwrap().to_owned();
    api.get("/api/v1/tools", Some(&access2))
        .await
        .assert_status(200);
    // The MFA token is spent: refused for the token, before the code is looked at.
    let r = login_mfa(&api, &token, &code).await;
    r.assert_problem(401);
    assert!(
        r.body["detail"].as_str().unwrap().contains("MFA token"),
        "{}",
        r.text
    );

    // The same code again, with a fresh MFA token: refused as a replay (audited as one below),
    // answered like any wrong code.
    let token = challenge(&api, &username).await;
    let r = login_mfa(&api, &token, &code).await;
    r.assert_problem(401);
    let wrong = login_mfa(&api, &token, &auth.wrong_code()).await;
    assert_eq!(without_request_id(&r), without_request_id(&wrong));
    // Two attempts of the token's five spent: the next right code still works.
    let r = login_mfa(&api, &token, &auth.next_code().await).await;
    r.assert_status(200);

    // Refresh keeps the session's second factor working.
    let refresh = r.body["refresh_token"].as_str().unwrap();
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_status(200);

    // Audited, without the secret or any code.
    let enrolled = events(&api, &admin, &id, "auth.mfa.enrol").await;
    assert_eq!(enrolled.len(), 1);
    assert_eq!(events(&api, &admin, &id, "auth.mfa.confirm").await.len(), 1);
    let failed = events(&api, &admin, &id, "auth.mfa.failed").await;
    let reasons: Vec<&str> = failed
        .iter()
        .map(|e| e["details"]["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"invalid_code") && reasons.contains(&"replayed_code"),
        "{reasons:?}"
    );
    assert_eq!(
        events(&api, &admin, &id, "auth.login.mfa_challenge")
            .await
            .len(),
        2
    );
    let all = audit_text(&api, &admin, &id).await;
    assert!(!all.contains(&secret));
    assert!(!all.contains("\"code\""), "{all}");
    assert!(!s.log_text().contains(&secret), "the secret is not logged");
}

#[tokio::test]
async fn elevation_needs_the_code_and_removal_ends_every_session() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let (id, username) = new_user(s, &api, Role::Admin).await;
    let (access, _) = api.tokens(&username, PW).await;
    let (mut auth, secret, pair) = enable(&api, &access, PW).await;
    let mfa_access = pair["access_token"].as_str().unwrap().to_owned();
    let mfa_refresh = pair["refresh_token"].as_str().unwrap().to_owned();

    let elevate = |body: Value| {
        let api = api.clone();
        let token = mfa_access.clone();
        async move { api.post("/api/v1/auth/elevate", Some(&token), &body).await }
    };
    elevate(json!({"password": PW})).await.assert_problem(401);
    elevate(json!({"password": PW, "code": auth.wrong_code()}))
        .await
        .assert_problem(401);
    elevate(json!({"password": "wrong-password-123", "code": auth.next_code().await}))
        .await
        .assert_problem(401);
    elevate(json!({"password": PW, "code": "1234567"}))
        .await
        .assert_problem(422);
    // The code above went with a wrong password: it was not spent.
    let r = elevate(json!({"password": PW, "code": auth.last_code()})).await;
    r.assert_status(200);
    assert!(r.body["elevated_token"].is_string());
    // Counter, user and authenticator at once, one unwrap, then the step spent with the event.
    assert_eq!((r.calls("dynamodb"), r.calls("kms")), (4, 1), "{}", r.text);
    // Spent now.
    elevate(json!({"password": PW, "code": auth.last_code()}))
        .await
        .assert_problem(401);

    // Removal needs a fresh code.
    let remove = |code: Value| {
        let api = api.clone();
        let token = mfa_access.clone();
        async move {
            api.send(
                "DELETE",
                "/api/v1/auth/mfa/totp",
                Some(&token),
                Some(&code),
                &[],
            )
            .await
        }
    };
    remove(json!({"code": auth.last_code()}))
        .await
        .assert_problem(401);
    remove(json!({"code": "abcdef"})).await.assert_problem(422);
    remove(json!({})).await.assert_problem(422);
    let r = remove(json!({"code": auth.next_code().await})).await;
    r.assert_status(204);
    remove(json!({"code": "000000"})).await.assert_problem(409);

    // Every session ended; the password alone logs in again.
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": mfa_refresh}),
    )
    .await
    .assert_problem(401);
    let r = api.login(&username, PW).await;
    r.assert_status(200);
    let access = r.body["access_token"].as_str().unwrap().to_owned();
    api.post(
        "/api/v1/auth/elevate",
        Some(&access),
        &json!({"password": PW}),
    )
    .await
    .assert_status(200);

    assert_eq!(events(&api, &admin, &id, "auth.mfa.remove").await.len(), 1);
    let failed = events(&api, &admin, &id, "auth.mfa.failed").await;
    let stages: Vec<&str> = failed
        .iter()
        .map(|e| e["details"]["stage"].as_str().unwrap())
        .collect();
    assert!(
        stages.contains(&"elevate") && stages.contains(&"remove"),
        "{stages:?}"
    );
    assert!(!audit_text(&api, &admin, &id).await.contains(&secret));
}

#[tokio::test]
async fn mfa_tokens_are_single_use_bounded_and_expire() {
    let s = server();
    let api = Api::new(s);
    let (id, username) = new_user(s, &api, Role::User).await;
    let (access, _) = api.tokens(&username, PW).await;
    let (mut auth, _, _) = enable(&api, &access, PW).await;

    // Made-up, malformed and foreign tokens.
    for token in ["", "nodot", ".x", &format!("{id}.made-up"), "someone.else"] {
        let r = login_mfa(&api, token, &auth.wrong_code()).await;
        assert!(matches!(r.status, 401 | 422), "{token:?}: {}", r.text);
        r.assert_problem(r.status);
    }
    api.post("/api/v1/auth/login/mfa", None, &json!({"code": "123456"}))
        .await
        .assert_problem(422);

    // Five wrong codes use a token up: the right one no longer helps.
    let token = challenge(&api, &username).await;
    for _ in 0..5 {
        login_mfa(&api, &token, &auth.wrong_code())
            .await
            .assert_problem(401);
    }
    let code = auth.next_code().await;
    login_mfa(&api, &token, &code).await.assert_problem(401);

    // An expired token is refused even though DynamoDB Local keeps the item: written directly
    // with an expiry in the past.
    let state = s.state().await;
    let expired = format!("{id}.expired-{}", unique("t"));
    let past = toolreg_core::domain::mfa::MfaToken {
        user_id: id.clone(),
        expires_at: chrono::Utc::now().timestamp() - 1,
        attempts: 0,
    };
    let ev = toolreg_core::domain::audit::AuditEvent::new(
        "test.setup",
        toolreg_core::domain::audit::Outcome::Success,
        &Default::default(),
        &Default::default(),
    );
    state
        .store
        .put_mfa_token(&expired, &past, &ev)
        .await
        .unwrap();
    login_mfa(&api, &expired, &code).await.assert_problem(401);
    let token = challenge(&api, &username).await;
    login_mfa(&api, &token, &auth.next_code().await)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn login_round_trips_with_and_without_mfa() {
    let s = server();
    let api = Api::new(s);
    let (_, username) = new_user(s, &api, Role::User).await;
    // Known context (new_user logged in from here): the login's usual two round trips, four
    // calls (three concurrent, one transaction).
    let r = api.login(&username, PW).await;
    r.assert_status(200);
    assert_eq!(r.calls("dynamodb"), 4, "{}", r.text);
    // A new context writes inside the same transaction.
    let r = api
        .send(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": username, "password": PW})),
            &[("user-agent", "another-agent/1.0")],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.calls("dynamodb"), 4, "{}", r.text);

    let access = r.body["access_token"].as_str().unwrap().to_owned();
    let (mut auth, _, _) = enable(&api, &access, PW).await;
    let r = api.login(&username, PW).await;
    assert_eq!(r.calls("dynamodb"), 4, "the MFA token replaces the session");
    let token = r.body["mfa_token"].as_str().unwrap().to_owned();
    let r = login_mfa(&api, &token, &auth.next_code().await).await;
    r.assert_status(200);
    // Token, user, authenticator and rate counter at once, then one transaction; one unwrap.
    assert_eq!(r.calls("dynamodb"), 5, "{}", r.text);
    assert_eq!(r.calls("kms"), 1, "{}", r.text);
}

#[tokio::test]
async fn logins_from_new_contexts_are_audited_without_mfa() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let (id, username) = new_user(s, &api, Role::User).await;
    let login_as = |api: Api, agent: &'static str| {
        let username = username.clone();
        async move {
            let r = api
                .send(
                    "POST",
                    "/api/v1/auth/login",
                    None,
                    Some(&json!({"username": username, "password": PW})),
                    &[("user-agent", agent)],
                )
                .await;
            r.assert_status(200);
            assert!(
                r.body["access_token"].is_string(),
                "the same login as before"
            );
        }
    };
    // new_user's login was the first context.
    assert_eq!(
        events(&api, &admin, &id, "auth.login.new_context")
            .await
            .len(),
        1
    );
    login_as(api.clone(), "agent-a/1").await;
    login_as(api.clone(), "agent-a/1").await;
    login_as(api.clone(), "agent-b/1").await;
    login_as(Api::from_source(s, "127.0.0.9"), "agent-a/1").await;
    login_as(api.clone(), "agent-a/1").await;
    let ev = events(&api, &admin, &id, "auth.login.new_context").await;
    assert_eq!(ev.len(), 4, "{ev:?}");
    let newest = &ev[0];
    assert_eq!(newest["user_agent"], json!("agent-a/1"));
    assert_eq!(newest["source_ip"], json!("127.0.0.9"));
    assert_eq!(newest["outcome"], json!("success"));
    // Each new context is one event next to its login, never a second login event.
    assert_eq!(events(&api, &admin, &id, "auth.login").await.len(), 6);
}

#[tokio::test]
async fn require_admin_mfa_lets_admins_without_it_only_enrol() {
    let s = &Server::start(&[("REQUIRE_ADMIN_MFA", "true")]);
    let api = Api::new(s);
    let (access, refresh) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let gated = |r: Resp| {
        r.assert_problem(403);
        assert_eq!(
            r.body["type"],
            json!("urn:toolreg:problem:mfa-enrolment-required"),
            "{}",
            r.text
        );
    };
    gated(api.get("/api/v1/users", Some(&access)).await);
    gated(api.get("/api/v1/tools", Some(&access)).await);
    gated(
        api.post(
            "/api/v1/tools",
            Some(&access),
            &json!({"tool_type": "function", "name": unique("gate"), "risk_level": "low", "input_schema": {"type": "object"}}),
        )
        .await,
    );
    gated(
        api.post(
            "/api/v1/auth/elevate",
            Some(&access),
            &json!({"password": ADMIN_PASSWORD}),
        )
        .await,
    );
    api.get("/api/v1/auth/me", Some(&access))
        .await
        .assert_status(200);
    // Refreshing keeps the session as it was: still without a second factor.
    let r = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    r.assert_status(200);
    gated(
        api.get(
            "/api/v1/users",
            Some(r.body["access_token"].as_str().unwrap()),
        )
        .await,
    );
    // Users are not gated.
    let username = unique("gate_user");
    s.create_user(&username, PW, Role::User).await;
    let user = api.tokens(&username, PW).await.0;
    api.get("/api/v1/tools", Some(&user))
        .await
        .assert_status(200);

    // Enrolling lifts the gate for the session the confirmation answers.
    let (mut auth, _, pair) = enable(&api, &access, ADMIN_PASSWORD).await;
    let mfa_access = pair["access_token"].as_str().unwrap();
    api.get("/api/v1/users", Some(mfa_access))
        .await
        .assert_status(200);
    gated(api.get("/api/v1/users", Some(&access)).await);
    // Logging out needs nothing more.
    api.post(
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": pair["refresh_token"]}),
    )
    .await
    .assert_status(204);
    // From now on the admin logs in with a code, and that session passes.
    let r = api.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let token = r.body["mfa_token"].as_str().unwrap().to_owned();
    let r = login_mfa(&api, &token, &auth.next_code().await).await;
    r.assert_status(200);
    let access = r.body["access_token"].as_str().unwrap();
    api.get("/api/v1/users", Some(access))
        .await
        .assert_status(200);
    let r = api
        .post(
            "/api/v1/auth/elevate",
            Some(access),
            &json!({"password": ADMIN_PASSWORD, "code": auth.next_code().await}),
        )
        .await;
    r.assert_status(200);
    // The elevated token carries the factor too.
    let elevated = r.body["elevated_token"].as_str().unwrap();
    let tool = api
        .post(
            "/api/v1/tools",
            Some(access),
            &json!({"tool_type": "function", "name": unique("gate"), "risk_level": "low", "input_schema": {"type": "object"}}),
        )
        .await;
    tool.assert_status(201);
    let path = format!("/api/v1/tools/{}", tool.body["id"].as_str().unwrap());
    api.send("DELETE", &path, Some(elevated), None, &[])
        .await
        .assert_status(204);
}

#[tokio::test]
async fn wrong_codes_spend_the_users_budget_made_up_tokens_do_not() {
    // An hour-long window: the test cannot straddle two of them in practice.
    let s = &Server::start(&[("LOGIN_RATE_LIMIT_USERNAME", "4/hour")]);
    let api = Api::new(s);
    let (id, username) = new_user(s, &api, Role::User).await;
    let (access, _) = api.tokens(&username, PW).await;
    // Enrolling and confirming are two attempts of the four.
    let (mut auth, _, _) = enable(&api, &access, PW).await;
    // Tokens made up around the user's id are refused without touching the budget.
    for i in 0..6 {
        login_mfa(&api, &format!("{id}.made-up-{i}"), &auth.wrong_code())
            .await
            .assert_problem(401);
    }
    let token = challenge(&api, &username).await;
    for _ in 0..2 {
        login_mfa(&api, &token, &auth.wrong_code())
            .await
            .assert_problem(401);
    }
    // Four attempts spent: even the right code waits for the window.
    let r = login_mfa(&api, &token, &auth.next_code().await).await;
    r.assert_problem(429);
    assert!(r.header("retry-after").is_some());
}

/// What a refusal says, minus its request id (which differs per request by design): status,
/// content type and problem body.
fn without_request_id(r: &Resp) -> (u16, Option<String>, Value) {
    let mut body = r.body.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("request_id");
    }
    (r.status, r.header("content-type").map(str::to_owned), body)
}

/// `n` distinct well-formed codes that no step the server accepts around now has.
fn wrong_codes(auth: &Authenticator, n: usize) -> Vec<String> {
    let step = toolreg_core::auth::totp::step_at(chrono::Utc::now().timestamp());
    let valid: Vec<String> = ((step - 3)..=(step + 3))
        .map(|s| toolreg_core::auth::totp::code_at_step(&auth.secret, s))
        .collect();
    (1u32..)
        .map(|i| format!("{:06}", (i * 104_729) % 1_000_000))
        .filter(|c| !valid.contains(c))
        .take(n)
        .collect()
}

/// `auth.mfa.failed` events of the login stage about `user`: one per code that was checked
/// and found wrong.
async fn checked_wrong_logins(api: &Api, admin: &str, user: &str) -> usize {
    events(api, admin, user, "auth.mfa.failed")
        .await
        .iter()
        .filter(|e| e["details"]["stage"] == json!("login"))
        .count()
}

#[tokio::test]
async fn parallel_guesses_on_one_mfa_token_are_counted_before_they_are_checked() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let (id, username) = new_user(s, &api, Role::User).await;
    let (access, _) = api.tokens(&username, PW).await;
    let (mut auth, _, _) = enable(&api, &access, PW).await;

    // Forty guesses at once, the right code among them: at most five are checked.
    let token = challenge(&api, &username).await;
    let right = auth.next_code().await;
    let mut guesses = wrong_codes(&auth, 39);
    guesses.insert(17, right.clone());
    let answers =
        futures::future::join_all(guesses.iter().map(|c| login_mfa(&api, &token, c))).await;
    let wins: Vec<&Resp> = answers.iter().filter(|r| r.status == 200).collect();
    assert!(wins.len() <= 1, "one session at most");
    let refusals: Vec<_> = answers
        .iter()
        .filter(|r| r.status != 200)
        .map(without_request_id)
        .collect();
    for r in answers.iter().filter(|r| r.status != 200) {
        r.assert_problem(401);
    }
    // Every refusal looks the same, whether its code was wrong, unchecked, or right but late.
    assert!(
        refusals.iter().all(|r| r == &refusals[0]),
        "refusals differ: {refusals:#?}"
    );
    let checked_wrong = checked_wrong_logins(&api, &admin, &id).await;
    assert!(
        checked_wrong + wins.len() <= 5,
        "{checked_wrong} wrong codes were checked and {} right one won, of 5 allowed",
        wins.len()
    );

    // One after another: five wrong codes use the token up; the right code afterwards answers
    // exactly what a wrong one does.
    let token = challenge(&api, &username).await;
    let mut seen = Vec::new();
    for c in wrong_codes(&auth, 6) {
        seen.push(login_mfa(&api, &token, &c).await);
    }
    seen.push(login_mfa(&api, &token, &auth.next_code().await).await);
    let first = without_request_id(&seen[0]);
    assert_eq!(first.0, 401, "{}", seen[0].text);
    for r in &seen {
        assert_eq!(without_request_id(r), first, "{}", r.text);
    }
    assert!(checked_wrong_logins(&api, &admin, &id).await <= checked_wrong + 5);
}

#[tokio::test]
async fn the_users_code_budget_holds_under_parallel_guesses() {
    // An hour-long window: the test cannot straddle two of them in practice.
    let s = &Server::start(&[("LOGIN_RATE_LIMIT_USERNAME", "12/hour")]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let (id, username) = new_user(s, &api, Role::User).await;
    let (access, _) = api.tokens(&username, PW).await;
    // Enrolling and confirming are two attempts of the twelve.
    let (mut auth, _, _) = enable(&api, &access, PW).await;
    let mut tokens = Vec::new();
    for _ in 0..6 {
        tokens.push(challenge(&api, &username).await);
    }
    // Thirty wrong codes at once, five on each token: ten attempts are left in the budget.
    let codes = wrong_codes(&auth, 30);
    let answers = futures::future::join_all(
        codes
            .iter()
            .enumerate()
            .map(|(i, c)| login_mfa(&api, &tokens[i / 5], c)),
    )
    .await;
    let refused_for_budget = answers.iter().filter(|r| r.status == 429).count();
    assert!(
        answers.iter().all(|r| matches!(r.status, 401 | 429)),
        "{answers:#?}"
    );
    let checked = checked_wrong_logins(&api, &admin, &id).await;
    assert!(
        checked <= 10,
        "{checked} codes checked against a budget of 10"
    );
    assert!(
        refused_for_budget >= 20,
        "{refused_for_budget} refused for the budget"
    );
    // The budget is spent: even the right code waits for the window.
    let token = challenge(&api, &username).await;
    login_mfa(&api, &token, &auth.next_code().await)
        .await
        .assert_problem(429);
}

#[tokio::test]
async fn enrolling_needs_the_current_password() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let (id, username) = new_user(s, &api, Role::User).await;
    // The access token alone (say, a stolen one) cannot enrol an authenticator.
    let (access, _) = api.tokens(&username, PW).await;
    let enrol_with = |body: Value| {
        let api = api.clone();
        let access = access.clone();
        async move {
            api.post("/api/v1/auth/mfa/totp", Some(&access), &body)
                .await
        }
    };
    for bad in [
        json!({}),
        json!({"current_password": ""}),
        json!({"current_password": 42}),
        json!({"current_password": PW, "x": 1}),
    ] {
        let r = enrol_with(bad.clone()).await;
        r.assert_problem(422);
        assert!(!r.text.contains("secret"), "{bad}: {}", r.text);
    }
    let r = api
        .send("POST", "/api/v1/auth/mfa/totp", Some(&access), None, &[])
        .await;
    assert!(matches!(r.status, 400 | 415 | 422), "{}", r.text);
    r.assert_problem(r.status);
    let r = enrol_with(json!({"current_password": "not-the-password"})).await;
    r.assert_problem(401);
    assert!(r.body.get("secret").is_none() && r.body.get("otpauth_uri").is_none());
    // Nothing was started: there is no enrolment to confirm.
    api.post(
        "/api/v1/auth/mfa/totp/confirm",
        Some(&access),
        &json!({"code": "123456"}),
    )
    .await
    .assert_problem(409);
    let failures = events(&api, &admin, &id, "auth.mfa.enrol").await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["outcome"], json!("failure"));
    assert!(!audit_text(&api, &admin, &id)
        .await
        .contains("not-the-password"));

    // With the password it works.
    let (mut auth, _) = enrol(&api, &access, PW).await;
    let code = auth.next_code().await;
    api.post(
        "/api/v1/auth/mfa/totp/confirm",
        Some(&access),
        &json!({"code": code}),
    )
    .await
    .assert_status(200);
    assert!(api.login(&username, PW).await.body["mfa_required"] == json!(true));
}

#[tokio::test]
async fn an_elevated_admin_resets_a_lost_authenticator() {
    let s = server();
    let api = Api::new(s);
    let admin = api.admin().await;
    let (id, username) = new_user(s, &api, Role::User).await;
    let (access, _) = api.tokens(&username, PW).await;
    let (mut auth, secret, pair) = enable(&api, &access, PW).await;
    let mfa_refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/users/{id}/mfa/totp");

    // Only an elevated admin may.
    let user_token = api.create_user_token(&admin).await;
    for token in [&admin, &user_token, &access] {
        api.send("DELETE", &path, Some(token), None, &[])
            .await
            .assert_problem(403);
    }
    api.send("DELETE", &path, None, None, &[])
        .await
        .assert_problem(401);
    // Nothing changed: the user still needs a code.
    assert_eq!(
        api.login(&username, PW).await.body["mfa_required"],
        json!(true)
    );

    let elevated = api.elevated().await;
    let missing = format!("/api/v1/users/{}/mfa/totp", uuid::Uuid::new_v4());
    api.send("DELETE", &missing, Some(&elevated), None, &[])
        .await
        .assert_problem(404);
    let r = api.send("DELETE", &path, Some(&elevated), None, &[]).await;
    r.assert_status(204);
    // Gone, so a second reset has nothing to remove.
    api.send("DELETE", &path, Some(&elevated), None, &[])
        .await
        .assert_problem(409);

    // Audited, naming the user, without the secret; the user's sessions ended with it.
    let reset = events(&api, &admin, &id, "user.mfa_reset").await;
    assert_eq!(reset.len(), 1, "{reset:?}");
    assert_eq!(reset[0]["outcome"], json!("success"));
    assert_eq!(reset[0]["target_id"], json!(id));
    assert_eq!(reset[0]["actor_username"], json!(ADMIN_USERNAME));
    assert!(!audit_text(&api, &admin, &id).await.contains(&secret));
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": mfa_refresh}),
    )
    .await
    .assert_problem(401);
    let user = api.get(&format!("/api/v1/users/{id}"), Some(&admin)).await;
    user.assert_status(200);
    assert_eq!(user.body["totp_enabled"], json!(false), "{}", user.text);

    // The password alone logs in again, and the user can enrol a new authenticator.
    let r = api.login(&username, PW).await;
    r.assert_status(200);
    assert!(r.body.get("mfa_required").is_none(), "{}", r.text);
    let access = r.body["access_token"].as_str().unwrap().to_owned();
    let (mut again, new_secret) = enrol(&api, &access, PW).await;
    assert_ne!(new_secret, secret);
    let code = again.next_code().await;
    api.post(
        "/api/v1/auth/mfa/totp/confirm",
        Some(&access),
        &json!({"code": code}),
    )
    .await
    .assert_status(200);
    // The old authenticator's codes mean nothing now; the new one's do.
    let token = challenge(&api, &username).await;
    let old = auth.next_code().await;
    login_mfa(&api, &token, &old).await.assert_problem(401);
    login_mfa(&api, &token, &again.next_code().await)
        .await
        .assert_status(200);
}
