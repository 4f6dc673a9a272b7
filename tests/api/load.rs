//! 50 concurrent clients for 30 seconds: no 5xx, and every acknowledged write is there after.

use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use toolreg_tests::api::Api;
use toolreg_tests::stack::{server_env, Endpoints, Server};

#[tokio::test]
async fn fifty_clients_for_thirty_seconds_lose_nothing() {
    let s = Server::start_with_env(server_env(&Endpoints::shared(), &[("RUST_LOG", "warn")]));
    let api = Api::new(&s);
    let admin = Arc::new(api.admin().await);
    let created = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut clients = Vec::new();
    for c in 0..50 {
        let (api, admin, created, served) =
            (api.clone(), admin.clone(), created.clone(), served.clone());
        clients.push(tokio::spawn(async move {
            let mut i = 0;
            let mut bad = Vec::new();
            while Instant::now() < deadline {
                i += 1;
                let r = if i % 4 == 1 {
                    let body = json!({"tool_type": "function", "name": format!("load_{c}_{i}"), "risk_level": "low", "input_schema": {"type": "object"}});
                    let r = api.post("/api/v1/tools", Some(&admin), &body).await;
                    if r.status == 201 {
                        created.fetch_add(1, Ordering::Relaxed);
                    }
                    r
                } else if i % 4 == 2 {
                    api.get("/api/v1/tools?limit=20", Some(&admin)).await
                } else {
                    api.get("/api/v1/auth/me", Some(&admin)).await
                };
                served.fetch_add(1, Ordering::Relaxed);
                if r.status >= 500 || (r.status >= 400 && r.status != 409) {
                    bad.push(format!("{} {}", r.status, r.text));
                }
            }
            bad
        }));
    }
    let mut failures = Vec::new();
    for c in clients {
        failures.extend(c.await.unwrap());
    }
    assert!(
        failures.is_empty(),
        "{} failed requests, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    let created = created.load(Ordering::Relaxed);
    assert!(created > 0 && served.load(Ordering::Relaxed) > created);

    // Every acknowledged create is listed, exactly once.
    let mut listed = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tools?limit=100&cursor={c}"),
            None => "/api/v1/tools?limit=100".to_string(),
        };
        let r = api.get(&path, Some(&admin)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        for t in r.body["items"].as_array().unwrap() {
            assert!(
                listed.insert(t["id"].as_str().unwrap().to_owned()),
                "listed twice"
            );
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        listed.len(),
        created,
        "acknowledged creates vs listed tools"
    );
}
