//! Fixed-window rate limits: exact under concurrency, with the headers clients need.

use serde_json::json;
use std::time::Duration;
use toolreg_tests::api::Api;
use toolreg_tests::stack::{Server, ADMIN_PASSWORD, ADMIN_USERNAME};

/// Fixed windows reset on the minute: start a burst well inside one.
async fn away_from_a_window_edge() {
    let s = chrono::Utc::now().timestamp() % 60;
    if s >= 50 {
        tokio::time::sleep(Duration::from_secs((61 - s) as u64)).await;
    }
}

#[tokio::test]
async fn thirty_parallel_logins_from_one_ip_let_exactly_five_through() {
    let s = Server::start(&[("LOGIN_RATE_LIMIT_IP", "5/minute")]);
    let api = Api::new(&s);
    away_from_a_window_edge().await;
    let body = json!({"username": ADMIN_USERNAME, "password": "wrong-password-here"});
    let results =
        futures::future::join_all((0..30).map(|_| api.post("/api/v1/auth/login", None, &body)))
            .await;
    let limited: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    let through = results.iter().filter(|r| r.status == 401).count();
    assert_eq!(
        through,
        5,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(limited.len(), 25);
    let r = limited[0];
    r.assert_problem(429);
    assert_eq!(r.header("x-ratelimit-limit"), Some("5"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    let retry: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let reset: i64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert_eq!(reset % 60, 0, "the window ends on the minute");
}

#[tokio::test]
async fn the_username_limit_holds_across_addresses_of_one_name() {
    let s = Server::start(&[("LOGIN_RATE_LIMIT_USERNAME", "3/minute")]);
    let api = Api::new(&s);
    away_from_a_window_edge().await;
    let mut statuses = Vec::new();
    for name in ["admin", "ADMIN", "Admin", "admin", "aDmin"] {
        statuses.push(api.login(name, "wrong-password-here").await.status);
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 429, 429],
        "usernames are limited case-insensitively"
    );
    // Another username is unaffected.
    assert_eq!(
        api.login("someone-else", "wrong-password-here")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn refused_attempts_cannot_lock_an_account_and_refusals_are_audited_once_per_window() {
    let s = Server::start(&[
        ("LOGIN_RATE_LIMIT_IP", "2/minute"),
        ("LOGIN_RATE_LIMIT_USERNAME", "3/minute"),
    ]);
    let from = |ip: &str| Api::from_source(&s, ip);
    away_from_a_window_edge().await;

    // One address hammers the admin's name: two attempts pass the IP limit, the rest do not.
    let attacker = from("127.0.0.11");
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(
            attacker
                .login(ADMIN_USERNAME, "wrong-password-here")
                .await
                .status,
        );
    }
    assert_eq!(statuses, [401, 401, 429, 429, 429, 429, 429, 429, 429, 429]);

    // Only the two that reached the password check count against the name: the owner still
    // logs in from elsewhere, and a success does not count.
    let owner = from("127.0.0.12")
        .login(ADMIN_USERNAME, ADMIN_PASSWORD)
        .await;
    owner.assert_status(200);
    let admin = owner.body["access_token"].as_str().unwrap().to_owned();
    // A third failed password exhausts the name; then even the right password waits.
    from("127.0.0.13")
        .login(ADMIN_USERNAME, "wrong-password-here")
        .await
        .assert_status(401);
    from("127.0.0.14")
        .login(ADMIN_USERNAME, ADMIN_PASSWORD)
        .await
        .assert_problem(429);
    from("127.0.0.15")
        .login(ADMIN_USERNAME, ADMIN_PASSWORD)
        .await
        .assert_problem(429);

    // Nine refusals, two windows' first refusals: exactly two audit events.
    let events = Api::new(&s)
        .get(
            "/api/v1/audit-events?action=auth.login.rate_limited&limit=100",
            Some(&admin),
        )
        .await;
    events.assert_status(200);
    let limits: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"]["limit"].as_str().unwrap())
        .collect();
    assert_eq!(limits.len(), 2, "{}", events.text);
    assert!(limits.contains(&"login_ip") && limits.contains(&"login_user_failures"));
    assert!(!events.text.contains(ADMIN_PASSWORD));
}
