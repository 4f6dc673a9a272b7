//! Listing cursors (shared/core/src/store/cursor.rs): sealed, bound to their listing, its
//! filters and the caller, and never naming a row the caller was not shown.
//!
//! The tests open cursors themselves, from the documented format (docs/architecture.md,
//! "Cursors") and the JWT signing secret the test stack holds: AES-256-GCM under
//! HMAC-SHA256(secret, "toolreg/cursor/v1"), `base64url(0x01 | kid length | kid | nonce | sealed)`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use toolreg_core::domain::audit::{Actor, AuditEvent, Outcome, RequestMeta};
use toolreg_core::domain::user::Role;
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::mcp::McpServer;
use toolreg_tests::stack::Server;

/// The JWT signing secret's current version, `(kid, key)`, as the server reads it.
async fn jwt_secret(s: &Server) -> (String, Vec<u8>) {
    let clients = toolreg_tests::stack::clients(&s.endpoints()).await;
    let out = clients
        .secrets
        .get_secret_value()
        .secret_id(&s.env["JWT_SECRET_ARN"])
        .send()
        .await
        .expect("the JWT secret");
    let v: Value = serde_json::from_str(out.secret_string().unwrap()).unwrap();
    (
        v["kid"].as_str().unwrap().to_owned(),
        v["key"].as_str().unwrap().as_bytes().to_vec(),
    )
}

/// What a cursor says, readable: its plaintext (opened with the service's key), or, for a
/// cursor that is not sealed, its base64 decoding.
async fn plaintext(s: &Server, cursor: &str) -> String {
    let raw = URL_SAFE_NO_PAD
        .decode(cursor)
        .unwrap_or_else(|_| panic!("a cursor is base64url: {cursor}"));
    if serde_json::from_slice::<Value>(&raw).is_ok() {
        return String::from_utf8(raw).unwrap();
    }
    let (kid, secret) = jwt_secret(s).await;
    assert_eq!(raw[0], 1, "version");
    let kid_len = usize::from(raw[1]);
    assert_eq!(
        &raw[2..2 + kid_len],
        kid.as_bytes(),
        "sealed under the current key"
    );
    let header = &raw[..2 + kid_len];
    let (nonce, sealed) = raw[2 + kid_len..].split_at(12);
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&secret).unwrap();
    mac.update(b"toolreg/cursor/v1");
    let key = mac.finalize().into_bytes();
    let aead = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
    let opened = aead
        .decrypt(
            aes_gcm::Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: header,
            },
        )
        .expect("a cursor opens under the service's key");
    String::from_utf8(opened).unwrap()
}

/// The next cursor of a listing answer (REST or registry).
fn next(r: &Resp) -> Option<String> {
    r.body["next_cursor"]
        .as_str()
        .or_else(|| r.body["metadata"]["nextCursor"].as_str())
        .map(str::to_owned)
}

fn with_cursor(path: &str, cursor: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}cursor={cursor}")
}

/// Walks a listing to its end: every page's names (`name` of items, or registry server
/// names) and cursors.
async fn walk(api: &Api, token: &str, path: &str) -> (Vec<String>, Vec<String>) {
    let (mut names, mut cursors) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let p = match &cursor {
            Some(c) => with_cursor(path, c),
            None => path.to_owned(),
        };
        let r = api.get(&p, Some(token)).await;
        r.assert_status(200);
        if let Some(items) = r.body["items"].as_array() {
            names.extend(items.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
        } else {
            let servers = r.body["servers"].as_array().expect("servers");
            names.extend(servers.iter().map(|e| {
                let n = e["server"]["name"].as_str().unwrap();
                n.rsplit('/').next().unwrap().to_owned()
            }));
        }
        match next(&r) {
            Some(c) => {
                cursors.push(c.clone());
                cursor = Some(c);
            }
            None => return (names, cursors),
        }
    }
    panic!("{path} did not end in 100 pages");
}

/// A remote tool written straight into the store (no probe needed), active, tagged `tag`.
async fn seeded_remote(s: &Server, name: String, tag: &str) -> String {
    let mut t = toolreg_tests::fixtures::stale_tool(name, "https://mcp.example.invalid/mcp");
    t.tags = vec![tag.to_owned()];
    let ev = AuditEvent::new(
        "tool.create",
        Outcome::Success,
        &Actor::default(),
        &RequestMeta::default(),
    )
    .target("tool", &t.id.to_string());
    s.state()
        .await
        .store
        .create_tool(&t, 0, &ev)
        .await
        .expect("seed");
    t.id.to_string()
}

#[tokio::test]
async fn cursors_never_name_a_hidden_tool_and_paging_shows_every_visible_tool_once() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    api.activate_policy(&json!({
        "default": "deny",
        "rules": [{"id": "shown", "effect": "allow", "rationale": "SHOWN",
                   "principal": {"kind": "agent"}, "tool": {"tags": ["shown"]}}]
    }))
    .await;
    let agent = api
        .create_agent(&admin, &json!({"name": unique("cursor_agent")}))
        .await;
    let (_, key) = api.agent_key(&admin, &agent).await;

    // Shown and hidden tools alternate in name order, function tools and remote ones.
    let prefix = unique("cur").to_lowercase();
    let (mut shown, mut hidden) = (BTreeSet::new(), Vec::new());
    for i in 0..10 {
        let name = format!("{prefix}_{i:02}");
        let tag = if i % 2 == 0 { "shown" } else { "hidden" };
        let id = if i < 6 {
            let r = api
                .post(
                    "/api/v1/tools",
                    Some(&admin),
                    &json!({"tool_type": "function", "name": name, "risk_level": "low",
                            "input_schema": {"type": "object"}, "tags": [tag]}),
                )
                .await;
            r.assert_status(201);
            r.body["id"].as_str().unwrap().to_owned()
        } else {
            seeded_remote(&s, name.clone(), tag).await
        };
        if tag == "shown" {
            shown.insert(name);
        } else {
            hidden.push(id);
            hidden.push(name);
        }
    }

    for (path, expected) in [
        (format!("/api/v1/tools?q={prefix}&limit=2"), shown.clone()),
        (format!("/api/v1/tools?q={prefix}&limit=1"), shown.clone()),
        (
            format!("/api/v1/tools?tag=shown&q={prefix}&limit=1"),
            shown.clone(),
        ),
        (
            format!("/v0.1/servers?search={prefix}&limit=1"),
            shown
                .iter()
                .filter(|n| *n > &format!("{prefix}_05"))
                .cloned()
                .collect(),
        ),
    ] {
        let (names, cursors) = walk(&api, &key, &path).await;
        let once: BTreeSet<String> = names.iter().cloned().collect();
        assert_eq!(once.len(), names.len(), "{path}: a tool twice: {names:?}");
        assert_eq!(once, expected, "{path}");
        assert!(!cursors.is_empty(), "{path}: paged");
        for c in &cursors {
            let text = plaintext(&s, c).await;
            for h in &hidden {
                assert!(
                    !text.contains(h.as_str()),
                    "{path}: cursor names {h}: {text}"
                );
                assert!(!c.contains(h.as_str()));
            }
        }
    }

    // People see the whole catalog, each tool once.
    let (names, _) = walk(&api, &admin, &format!("/api/v1/tools?q={prefix}&limit=3")).await;
    assert_eq!(names.len(), 10, "{names:?}");
}

/// Flips one character in the middle of a cursor.
fn tampered(c: &str) -> String {
    let mut b = c.as_bytes().to_vec();
    let i = b.len() / 2;
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).unwrap()
}

#[tokio::test]
async fn forged_tampered_swapped_and_other_callers_cursors_are_400_on_every_listing() {
    let s = Server::start(&[]);
    let api = Api::new(&s);
    let admin = api.admin().await;
    let second_admin = unique("cursor_admin");
    s.create_user(&second_admin, "second-admin-password", Role::Admin)
        .await;
    let other_admin = api.tokens(&second_admin, "second-admin-password").await.0;
    let person = api.create_user_token(&admin).await;

    // Two of everything.
    api.activate_policy(&json!({"default": "allow", "rules": []}))
        .await;
    api.activate_policy(&json!({"default": "allow", "rules": [
        {"id": "x", "effect": "allow", "rationale": "X"}]}))
        .await;
    let agent = api
        .create_agent(&admin, &json!({"name": unique("cursor_a")}))
        .await;
    let (_, key) = api.agent_key(&admin, &agent).await;
    api.agent_key(&admin, &agent).await;
    let other_agent = api
        .create_agent(&admin, &json!({"name": unique("cursor_b")}))
        .await;
    let (_, other_key) = api.agent_key(&admin, &other_agent).await;
    let mcp = McpServer::start("stateless");
    let remote = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &json!({"tool_type": "remote", "name": unique("cursor_remote"), "risk_level": "low",
                    "server_url": mcp.url}),
        )
        .await;
    remote.assert_status(201);
    let remote_id = remote.body["id"].as_str().unwrap().to_owned();
    api.post(
        &format!("/api/v1/tools/{remote_id}/reprobe"),
        Some(&admin),
        &json!({}),
    )
    .await
    .assert_status(200);
    seeded_remote(&s, unique("cursor_seeded"), "x").await;
    for _ in 0..2 {
        api.post(
            &format!("/api/v1/tools/{remote_id}/access"),
            Some(&key),
            &json!({}),
        )
        .await
        .assert_status(200);
    }

    // Each listing, who may read it, and another caller who may read it too.
    let listings: Vec<(String, &str, &str)> = vec![
        ("/api/v1/tools?limit=1".into(), &key, &other_key),
        ("/api/v1/tools?limit=1".into(), &admin, &person),
        ("/v0.1/servers?limit=1".into(), &key, &other_key),
        ("/api/v1/agents?limit=1".into(), &admin, &other_admin),
        (
            format!("/api/v1/agents/{agent}/keys?limit=1"),
            &admin,
            &other_admin,
        ),
        ("/api/v1/audit-events?limit=1".into(), &admin, &other_admin),
        ("/api/v1/decisions?limit=1".into(), &admin, &other_admin),
        (
            format!("/api/v1/tools/{remote_id}/probes?limit=1"),
            &admin,
            &other_admin,
        ),
        ("/api/v1/policies?limit=1".into(), &admin, &other_admin),
        ("/api/v1/users?limit=1".into(), &admin, &other_admin),
    ];
    let mut issued: Vec<(String, String)> = Vec::new();
    for (path, owner, other) in &listings {
        let first = api.get(path, Some(owner)).await;
        first.assert_status(200);
        let c = next(&first).unwrap_or_else(|| panic!("{path}: a second page: {}", first.text));
        // Opaque: nothing of a key shows through.
        let decoded = String::from_utf8_lossy(&URL_SAFE_NO_PAD.decode(&c).unwrap()).into_owned();
        let words = [
            "\"PK\"",
            "\"SK\"",
            "GSI1",
            "TOOL#",
            "USER#",
            "AGENT#",
            "APIKEY#",
            "DECISION#",
            "AUDIT",
            "POLICIES",
        ];
        for word in words {
            assert!(!decoded.contains(word), "{path}: {word} in {decoded}");
        }
        api.get(&with_cursor(path, &c), Some(owner))
            .await
            .assert_status(200);
        // Another caller, a tampered cursor, a forged one: 400.
        let r = api.get(&with_cursor(path, &c), Some(other)).await;
        r.assert_problem(400);
        api.get(&with_cursor(path, &tampered(&c)), Some(owner))
            .await
            .assert_problem(400);
        let forged = URL_SAFE_NO_PAD
            .encode(json!({"s": "tools::::", "k": {"PK": "TOOL#x", "SK": "TOOL"}}).to_string());
        api.get(&with_cursor(path, &forged), Some(owner))
            .await
            .assert_problem(400);
        issued.push((path.clone(), c));
    }
    // A cursor on any other listing, or with other filters: 400.
    for (i, (path, owner, _)) in listings.iter().enumerate() {
        for (j, (from, c)) in issued.iter().enumerate() {
            if i == j || from == path {
                continue;
            }
            let r = api.get(&with_cursor(path, c), Some(owner)).await;
            assert_eq!(r.status, 400, "{from}'s cursor on {path}: {}", r.text);
        }
    }
    let c = &issued[1].1;
    api.get(
        &with_cursor("/api/v1/tools?limit=1&risk_level=low", c),
        Some(&admin),
    )
    .await
    .assert_problem(400);
}
