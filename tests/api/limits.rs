//! Fixed-window rate limits: exact under concurrency, with the headers clients need.

use serde_json::json;
use std::time::Duration;
use toolreg_tests::api::Api;
use toolreg_tests::stack::{Server, ADMIN_USERNAME};

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
