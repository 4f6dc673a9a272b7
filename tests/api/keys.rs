//! The JWT signing-key cache (shared/core/src/auth/keys.rs): rotation reaches a warm function
//! that only signs, and a stalled Secrets Manager neither queues requests behind one another nor
//! lets unknown-`kid` tokens delay valid ones.

use std::time::{Duration, Instant};
use toolreg_core::auth::jwt::{self, Claims, TokenType};
use toolreg_core::auth::keys::KeySet;
use toolreg_core::domain::user::Role;
use toolreg_tests::api::{unique, Api};
use toolreg_tests::stack::{
    server_env, Emulator, Endpoints, Moto, Server, ADMIN_PASSWORD, ADMIN_USERNAME,
};

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("a JWT")
        .kid
        .expect("a kid")
}

/// A server on its own JWT secret (rotating it must not disturb other tests' servers).
fn server_with_own_secret(endpoints: &Endpoints, ttl_seconds: &str) -> Server {
    let secret = format!("toolreg-test/{}", unique("jwt"));
    Server::start_with_env(server_env(
        endpoints,
        &[
            ("JWT_SECRET_ARN", &secret),
            ("JWT_KEY_TTL_SECONDS", ttl_seconds),
        ],
    ))
}

async fn rotate(s: &Server, kid: &str) {
    toolreg_tests::stack::clients(&s.endpoints())
        .await
        .secrets
        .put_secret_value()
        .secret_id(&s.env["JWT_SECRET_ARN"])
        .secret_string(
            serde_json::json!({"kid": kid, "key": format!("{kid}-{}", "k".repeat(40))}).to_string(),
        )
        .send()
        .await
        .expect("rotate the JWT secret");
}

#[tokio::test]
async fn a_warm_login_function_signs_with_the_rotated_key_after_its_ttl() {
    let s = server_with_own_secret(&Endpoints::shared(), "1");
    let api = Api::new(&s);
    let (first, _) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let original = kid_of(&first);

    for (round, kid) in ["rotated-1", "rotated-2"].into_iter().enumerate() {
        rotate(&s, kid).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let token = loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (t, _) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
            if kid_of(&t) == kid {
                break t;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: still signing with {} after rotating to {kid}",
                kid_of(&t)
            );
        };
        api.get("/api/v1/auth/me", Some(&token))
            .await
            .assert_status(200);
    }
    // Two rotations later the original key is neither current nor previous.
    assert_ne!(original, "rotated-1");
    api.get("/api/v1/auth/me", Some(&first))
        .await
        .assert_problem(401);
}

fn signal(child: &Emulator, sig: i32) {
    #[allow(unsafe_code)]
    // SAFETY: kill(2) on a child we started.
    unsafe {
        libc::kill(child.child.id() as i32, sig);
    }
}

/// An access token for the bootstrap admin, signed with `keys` by the test itself.
fn token(keys: &KeySet, s: &Server) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: "test-admin".into(),
        username: ADMIN_USERNAME.into(),
        role: Role::Admin,
        typ: TokenType::Access,
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now,
        exp: now + 600,
        // JWT_ISSUER defaults to the public base URL the server was started with.
        iss: s
            .env
            .get("JWT_ISSUER")
            .or(s.env.get("PUBLIC_BASE_URL"))
            .cloned()
            .expect("the server's issuer"),
        aud: s
            .env
            .get("JWT_AUDIENCE")
            .cloned()
            .unwrap_or("toolreg-api".into()),
        fam: None,
        amr: Vec::new(),
        scope: None,
        groups: vec![],
        tags: vec![],
        key: None,
    };
    jwt::sign(keys, &claims).expect("sign")
}

#[tokio::test]
async fn a_stalled_secrets_manager_neither_queues_requests_nor_lets_unknown_kids_delay_valid_ones()
{
    // Its own moto, frozen mid-test; the server's key cache is still cold (nothing signed or
    // verified yet).
    let moto = Moto::start();
    let s = server_with_own_secret(&Endpoints::with_moto(&moto), "3");
    let api = Api::new(&s);
    let current = toolreg_tests::stack::clients(&s.endpoints())
        .await
        .secrets
        .get_secret_value()
        .secret_id(&s.env["JWT_SECRET_ARN"])
        .send()
        .await
        .expect("read the secret")
        .secret_string
        .expect("a string secret");
    let (kid, key) = KeySet::parse_version(&current).expect("a valid secret");
    let keys = KeySet {
        signing_kid: kid.clone(),
        keys: [(kid, key)].into_iter().collect(),
    };
    let valid = token(&keys, &s);

    // Cold cache, Secrets Manager frozen: five concurrent requests fail together after one
    // load's timeout, not one after another.
    signal(&moto, libc::SIGSTOP);
    let started = Instant::now();
    let answers =
        futures::future::join_all((0..5).map(|_| api.get("/api/v1/auth/me", Some(&valid)))).await;
    let took = started.elapsed();
    signal(&moto, libc::SIGCONT);
    for r in &answers {
        r.assert_problem(503);
    }
    // One load is bounded by the 5 s operation timeout; queued loads would take 5 s each.
    assert!(took < Duration::from_secs(10), "answered after {took:?}");

    // Warm the cache, let the unknown-kid interval (the 3 s TTL here) pass, freeze again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    api.get("/api/v1/auth/me", Some(&valid))
        .await
        .assert_status(200);
    tokio::time::sleep(Duration::from_secs(4)).await;
    signal(&moto, libc::SIGSTOP);
    let forged = KeySet {
        signing_kid: "nobody-knows".into(),
        keys: [("nobody-knows".to_owned(), vec![7u8; 40])]
            .into_iter()
            .collect(),
    };
    let forged = token(&forged, &s);
    let unknown = api.get("/api/v1/auth/me", Some(&forged));
    let valid_ones = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t0 = Instant::now();
        let rs =
            futures::future::join_all((0..5).map(|_| api.get("/api/v1/auth/me", Some(&valid))))
                .await;
        (rs, t0.elapsed())
    };
    let (unknown, (valid_answers, valid_took)) = tokio::join!(unknown, valid_ones);
    signal(&moto, libc::SIGCONT);
    unknown.assert_problem(401);
    for r in &valid_answers {
        r.assert_status(200);
    }
    // Zero AWS calls each: anything near the SDK timeout means they waited on the reload.
    assert!(
        valid_took < Duration::from_secs(3),
        "valid tokens waited {valid_took:?} behind an unknown kid"
    );
}
