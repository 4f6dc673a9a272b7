//! The users API: admins manage people and agents; everyone manages their own password and
//! sessions. Disabling, a role change and password changes revoke sessions at the next refresh.

use serde_json::{json, Value};
use toolreg_tests::api::{unique, Api};
use toolreg_tests::stack::{server, Server, ADMIN_PASSWORD, ADMIN_USERNAME};

const PW: &str = "users-test-password";

async fn create(api: &Api, admin: &str, role: &str) -> (String, String) {
    let username = unique("u");
    let r = api
        .post(
            "/api/v1/users",
            Some(admin),
            &json!({"username": username, "role": role, "display_name": "Some One", "password": PW}),
        )
        .await;
    r.assert_status(201);
    assert!(r
        .header("location")
        .unwrap()
        .ends_with(r.body["id"].as_str().unwrap()));
    (r.body["id"].as_str().unwrap().to_owned(), username)
}

async fn events(api: &Api, admin: &str, target: &str) -> Vec<Value> {
    let r = api
        .get(
            &format!("/api/v1/audit-events?target_id={target}"),
            Some(admin),
        )
        .await;
    r.assert_status(200);
    r.body["items"].as_array().unwrap().clone()
}

/// The actions of the changes among `ev` (refused attempts, `request.failed`, left out).
fn actions(ev: &[Value]) -> Vec<String> {
    ev.iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .filter(|a| a != "request.failed")
        .collect()
}

#[tokio::test]
async fn admins_create_list_get_and_update_users_without_passwords_leaking() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let (id, username) = create(&api, &admin, "user").await;
    let r = api.get(&format!("/api/v1/users/{id}"), Some(&admin)).await;
    r.assert_status(200);
    assert_eq!(r.body["username"], json!(username));
    assert_eq!(r.body["display_name"], json!("Some One"));
    assert_eq!(r.body["disabled"], json!(false));
    assert!(!r.text.contains("password") && !r.text.contains("argon2"));
    let etag = r.header("etag").unwrap().to_owned();

    // Usernames are unique case-insensitively.
    let r = api
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": username.to_uppercase(), "role": "user", "password": PW}),
        )
        .await;
    r.assert_problem(409);

    // Listing with filters.
    let q = format!(
        "/api/v1/users?role=user&disabled=false&q={}",
        username.to_uppercase()
    );
    let r = api.get(&q, Some(&admin)).await;
    r.assert_status(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    assert_eq!(items[0]["id"], json!(id));
    let r = api
        .get("/api/v1/users?role=admin&limit=100", Some(&admin))
        .await;
    assert!(r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["role"] == json!("admin")));

    // PATCH with a stale ETag changes nothing; with the current one it applies.
    let r = api
        .send(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(&json!({"display_name": "X"})),
            &[("if-match", "\"v99\"")],
        )
        .await;
    r.assert_problem(412);
    let r = api
        .send(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(&json!({"display_name": "Renamed"})),
            &[("if-match", &etag)],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["display_name"], json!("Renamed"));
    assert_eq!(r.body["version"], json!(2));

    // Bad inputs are 4xx problems and change nothing.
    for (method, path, body) in [
        (
            "POST",
            "/api/v1/users".to_owned(),
            json!({"username": "x", "role": "user", "password": PW}),
        ),
        (
            "POST",
            "/api/v1/users".to_owned(),
            json!({"username": unique("ok"), "role": "root", "password": PW}),
        ),
        (
            "POST",
            "/api/v1/users".to_owned(),
            json!({"username": unique("ok"), "role": "user", "password": "short"}),
        ),
        ("PATCH", format!("/api/v1/users/{id}"), json!({})),
        (
            "PATCH",
            format!("/api/v1/users/{id}"),
            json!({"role": null}),
        ),
        (
            "POST",
            "/api/v1/users".to_owned(),
            json!({"username": unique("ok"), "role": "user", "password": PW, "display_name": null}),
        ),
        (
            "PATCH",
            format!("/api/v1/users/{id}"),
            json!({"display_name": "  "}),
        ),
        (
            "PATCH",
            format!("/api/v1/users/{id}"),
            json!({"username": "renamed"}),
        ),
    ] {
        let r = api
            .send(method, &path, Some(&admin), Some(&body), &[])
            .await;
        assert_eq!(r.status, 422, "{method} {path} {body}: {}", r.text);
    }
    api.get("/api/v1/users/not-an-id", Some(&admin))
        .await
        .assert_problem(404);
    api.get("/api/v1/users?role=root", Some(&admin))
        .await
        .assert_problem(400);
    let r = api.get(&format!("/api/v1/users/{id}"), Some(&admin)).await;
    assert_eq!(r.body["version"], json!(2));
    assert_eq!(r.body["display_name"], json!("Renamed"));

    let ev = events(&api, &admin, &id).await;
    assert_eq!(actions(&ev), ["user.update", "user.create"]);
    // The refused attempts on this user were audited as failures.
    assert!(ev
        .iter()
        .any(|e| e["action"] == json!("request.failed") && e["outcome"] == json!("failure")));
    let text = serde_json::to_string(&ev).unwrap();
    assert!(!text.contains(PW) && !text.contains("argon2"));
}

#[tokio::test]
async fn disabling_refuses_login_and_refresh_and_enabling_restores_login() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let (id, username) = create(&api, &admin, "user").await;
    let (_, refresh) = api.tokens(&username, PW).await;
    let r = api
        .post(
            &format!("/api/v1/users/{id}/disable"),
            Some(&admin),
            &json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["disabled"], json!(true));
    api.login(&username, PW).await.assert_problem(401);
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401);
    // Idempotent: a second disable changes nothing.
    api.post(
        &format!("/api/v1/users/{id}/disable"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);
    let r = api
        .post(
            &format!("/api/v1/users/{id}/enable"),
            Some(&admin),
            &json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["disabled"], json!(false));
    // The old session stays revoked; a new login works and refreshes.
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401);
    let (_, fresh) = api.tokens(&username, PW).await;
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": fresh}),
    )
    .await
    .assert_status(200);
    let ev = events(&api, &admin, &id).await;
    let a = actions(&ev);
    assert!(
        a.contains(&"user.disable".to_owned()) && a.contains(&"user.enable".to_owned()),
        "{a:?}"
    );
    assert_eq!(a.iter().filter(|x| *x == "user.disable").count(), 1);
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_or_disabled() {
    // Its own table, so the seeded admin is the only one.
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let admin = api.admin().await;
    let me = api.get("/api/v1/auth/me", Some(&admin)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.post(
        &format!("/api/v1/users/{me}/disable"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_problem(409);
    api.send(
        "PATCH",
        &format!("/api/v1/users/{me}"),
        Some(&admin),
        Some(&json!({"role": "user"})),
        &[],
    )
    .await
    .assert_problem(409);
    assert_eq!(
        api.get(&format!("/api/v1/users/{me}"), Some(&admin))
            .await
            .body["role"],
        json!("admin")
    );
    // With a second admin, demoting the first works; then the second is the last.
    let (other, _) = create(&api, &admin, "admin").await;
    let r = api
        .send(
            "PATCH",
            &format!("/api/v1/users/{me}"),
            Some(&admin),
            Some(&json!({"role": "user"})),
            &[],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["role"], json!("user"));
    // The old admin's access token still says admin until it expires.
    api.post(
        &format!("/api/v1/users/{other}/disable"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_problem(409);
    // A demoted admin's sessions end: the new role applies from the next login.
    let r = api.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    r.assert_status(200);
    let user_token = r.body["access_token"].as_str().unwrap();
    api.get("/api/v1/users", Some(user_token))
        .await
        .assert_problem(403);
}

#[tokio::test]
async fn password_change_revokes_other_sessions_and_logout_ends_one() {
    let api = Api::new(server());
    let admin = api.admin().await;
    let (id, username) = create(&api, &admin, "user").await;
    let (access, other_refresh) = api.tokens(&username, PW).await;
    let r = api
        .post(
            "/api/v1/auth/password",
            Some(&access),
            &json!({"current_password": "wrong-password-x", "new_password": "a-new-password-1"}),
        )
        .await;
    r.assert_problem(401);
    let r = api
        .post(
            "/api/v1/auth/password",
            Some(&access),
            &json!({"current_password": PW, "new_password": "short"}),
        )
        .await;
    r.assert_problem(422);
    api.login(&username, PW).await.assert_status(200);
    let r = api
        .post(
            "/api/v1/auth/password",
            Some(&access),
            &json!({"current_password": PW, "new_password": "a-new-password-1"}),
        )
        .await;
    r.assert_status(200);
    let mine = r.body["refresh_token"].as_str().unwrap().to_owned();
    // Other sessions are cut off; the one handed back lives.
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": other_refresh}),
    )
    .await
    .assert_problem(401);
    let r = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": mine}),
        )
        .await;
    r.assert_status(200);
    let mine = r.body["refresh_token"].as_str().unwrap().to_owned();
    api.login(&username, PW).await.assert_problem(401);
    api.login(&username, "a-new-password-1")
        .await
        .assert_status(200);

    // Logout revokes the presented token's session only.
    let (_, kept) = api.tokens(&username, "a-new-password-1").await;
    api.post("/api/v1/auth/logout", None, &json!({"refresh_token": mine}))
        .await
        .assert_status(204);
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": mine}),
    )
    .await
    .assert_problem(401);
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": kept}),
    )
    .await
    .assert_status(200);
    api.post(
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": "garbage"}),
    )
    .await
    .assert_problem(401);

    // Admin reset needs an elevated token and revokes sessions.
    let (_, before_reset) = api.tokens(&username, "a-new-password-1").await;
    let reset = format!("/api/v1/users/{id}/reset-password");
    api.post(
        &reset,
        Some(&admin),
        &json!({"new_password": "reset-password-1"}),
    )
    .await
    .assert_problem(403);
    let elevated = api.elevated().await;
    api.post(
        &reset,
        Some(&elevated),
        &json!({"new_password": "reset-password-1"}),
    )
    .await
    .assert_status(200);
    api.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": before_reset}),
    )
    .await
    .assert_problem(401);
    api.login(&username, "reset-password-1")
        .await
        .assert_status(200);

    let ev = events(&api, &admin, &id).await;
    let a = actions(&ev);
    for want in ["user.create", "auth.password_change", "user.password_reset"] {
        assert!(a.contains(&want.to_owned()), "{want} missing from {a:?}");
    }
    let text = serde_json::to_string(&ev).unwrap();
    for secret in [PW, "a-new-password-1", "reset-password-1"] {
        assert!(!text.contains(secret));
    }
    let r = api
        .get("/api/v1/audit-events?action=auth.logout", Some(&admin))
        .await;
    assert!(!r.body["items"].as_array().unwrap().is_empty());
}
