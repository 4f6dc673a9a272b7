//! The role matrix through the deployed artefacts: every generated Lambda binary
//! (functions/src/bin/), started once through the Lambda Runtime API, gets every kind of
//! credential, and must answer as a hand-written list says and stay alive.
//!
//! A function holds only the parts of the state its row grants (`state::Part`); the local server
//! holds every part, so a credential that makes a function reach for a part it lacks only shows
//! here. The expected answers come from [`WHO`], written down from the README's API table, not
//! from the route table under test: a wrong row fails this test.

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use toolreg_core::routes::ROUTES;
use toolreg_tests::api::{unique, Api};
use toolreg_tests::proc::repo_root;
use toolreg_tests::runtime_api::{http_event, Answer, RuntimeApi};
use toolreg_tests::stack::{bin, server};

/// Who may call a function, as the README's API table says.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    /// Anyone; a credential in the headers changes nothing.
    Anyone,
    /// Anyone; reads client credentials from the Authorization header itself (`/oauth/token`).
    OAuthClient,
    /// Users, admins, and agents with `catalog:read`.
    AnyPrincipal,
    /// Users, admins, and agents with `tools:access`.
    ToolsAccess,
    /// Users and admins, never agents.
    Person,
    Admin,
    ElevatedAdmin,
}

/// Every route function and who may call it: the oracle, kept by hand.
const WHO: &[(&str, Who)] = &[
    ("health", Who::Anyone),
    ("auth-login", Who::Anyone),
    ("auth-refresh", Who::Anyone),
    ("auth-me", Who::AnyPrincipal),
    ("auth-elevate", Who::Admin),
    ("auth-password", Who::Person),
    ("auth-logout", Who::Anyone),
    ("auth-login-mfa", Who::Anyone),
    ("auth-mfa-totp-enrol", Who::Person),
    ("auth-mfa-totp-confirm", Who::Person),
    ("auth-mfa-totp-remove", Who::Person),
    ("users-create", Who::Admin),
    ("users-list", Who::Admin),
    ("users-get", Who::Admin),
    ("users-update", Who::Admin),
    ("users-disable", Who::Admin),
    ("users-enable", Who::Admin),
    ("users-reset-password", Who::ElevatedAdmin),
    ("users-mfa-totp-reset", Who::ElevatedAdmin),
    ("tools-create", Who::Admin),
    ("tools-list", Who::AnyPrincipal),
    ("tools-get", Who::AnyPrincipal),
    ("tools-update", Who::Admin),
    ("tools-activate", Who::Admin),
    ("tools-deactivate", Who::Admin),
    ("tools-delete", Who::ElevatedAdmin),
    ("tools-test-connection", Who::Admin),
    ("tools-reprobe", Who::Admin),
    ("tools-probes", Who::AnyPrincipal),
    ("tools-approve-tools", Who::Admin),
    ("agents-create", Who::Admin),
    ("agents-list", Who::Admin),
    ("agents-get", Who::Admin),
    ("agents-update", Who::Admin),
    ("agents-disable", Who::Admin),
    ("agents-enable", Who::Admin),
    ("agent-keys-create", Who::Admin),
    ("agent-keys-list", Who::Admin),
    ("agent-keys-revoke", Who::Admin),
    ("oauth-token", Who::OAuthClient),
    ("oauth-metadata", Who::Anyone),
    ("jwks", Who::Anyone),
    ("policies-create", Who::Admin),
    ("policies-list", Who::Admin),
    ("policies-simulate", Who::Admin),
    ("policies-get", Who::Admin),
    ("policies-activate", Who::ElevatedAdmin),
    ("tools-access", Who::ToolsAccess),
    ("decisions-list", Who::Admin),
    ("decisions-get", Who::Admin),
    ("credentials-get", Who::AnyPrincipal),
    ("credentials-revoke", Who::Admin),
    ("audit-list", Who::Admin),
    ("mcp", Who::AnyPrincipal),
    ("oauth-protected-resource", Who::Anyone),
    ("openapi", Who::Anyone),
    ("docs", Who::Anyone),
    ("redoc", Who::Anyone),
    ("docs-asset", Who::Anyone),
    ("console", Who::Anyone),
    ("console-asset", Who::Anyone),
    ("registry-servers-list", Who::AnyPrincipal),
    ("registry-server-versions", Who::AnyPrincipal),
    ("registry-server-version", Who::AnyPrincipal),
    ("registry-servers-list-preflight", Who::Anyone),
    ("registry-server-versions-preflight", Who::Anyone),
    ("registry-server-version-preflight", Who::Anyone),
];

/// Every kind of credential a client can send.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cred {
    Anonymous,
    User,
    Admin,
    ElevatedAdmin,
    /// An agent's API key as `X-Api-Key`.
    KeyHeader,
    /// The same key as `Authorization: Bearer trk_…`.
    KeyBearer,
    /// An agent's OAuth access token holding `catalog:read` only.
    AgentToken,
    /// Not a token at all.
    Garbage,
    /// A user's token with its claims changed to an admin's (the signature no longer matches).
    ForgedToken,
    /// The agent's key with its secret changed (a real prefix), as `X-Api-Key`.
    ForgedKeyHeader,
    /// A key-shaped bearer whose prefix no key has.
    ForgedKeyBearer,
}

const CREDS: [Cred; 11] = [
    Cred::Anonymous,
    Cred::User,
    Cred::Admin,
    Cred::ElevatedAdmin,
    Cred::KeyHeader,
    Cred::KeyBearer,
    Cred::AgentToken,
    Cred::Garbage,
    Cred::ForgedToken,
    Cred::ForgedKeyHeader,
    Cred::ForgedKeyBearer,
];

/// What a function must answer a credential.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    /// The handler ran: no 401, no role refusal, no 5xx.
    Served,
    /// 401.
    Unauthenticated,
    /// 403 from the role check (`forbidden` or `elevation-required`).
    Refused,
    /// Whatever it answers anonymously (a public route ignores credentials).
    AsAnonymous,
    /// Anything but a 5xx (`/oauth/token` judges an Authorization header as client credentials).
    NoServerError,
}

fn want(who: Who, cred: Cred) -> Want {
    use Cred::*;
    match (who, cred) {
        (Who::Anyone, _) => Want::AsAnonymous,
        (Who::OAuthClient, _) => Want::NoServerError,
        (_, Anonymous | Garbage | ForgedToken) => Want::Unauthenticated,
        // Elevated tokens are for elevated routes only.
        (Who::AnyPrincipal | Who::ToolsAccess | Who::Person | Who::Admin, ElevatedAdmin) => {
            Want::Unauthenticated
        }
        (Who::AnyPrincipal | Who::ToolsAccess, User | Admin | KeyHeader | KeyBearer) => {
            Want::Served
        }
        (Who::AnyPrincipal, AgentToken) => Want::Served,
        // The token lacks the tools:access scope.
        (Who::ToolsAccess, AgentToken) => Want::Refused,
        (Who::AnyPrincipal | Who::ToolsAccess, ForgedKeyHeader | ForgedKeyBearer) => {
            Want::Unauthenticated
        }
        (Who::Person, User | Admin) => Want::Served,
        (Who::Admin, Admin) => Want::Served,
        (Who::Admin, User) => Want::Refused,
        (Who::ElevatedAdmin, ElevatedAdmin) => Want::Served,
        // A plain admin is told to elevate; a user is refused.
        (Who::ElevatedAdmin, User | Admin) => Want::Refused,
        // Routes for people refuse an API key, valid or not, without checking it.
        (
            Who::Person | Who::Admin | Who::ElevatedAdmin,
            KeyHeader | KeyBearer | AgentToken | ForgedKeyHeader | ForgedKeyBearer,
        ) => Want::Refused,
    }
}

/// The generated route binaries: functions/src/bin/*.rs but the scheduled re-prober.
fn generated_functions() -> BTreeSet<String> {
    std::fs::read_dir(repo_root().join("functions/src/bin"))
        .expect("functions/src/bin")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter_map(|f| f.strip_suffix(".rs").map(|s| s.replace('_', "-")))
        .filter(|f| f != "reprobe")
        .collect()
}

/// `user`'s token with `role` rewritten to admin: well-formed, wrongly signed.
fn forged_admin_token(user: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = user.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT");
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = json!("admin");
    format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    )
}

/// `key` with the last character of its secret changed (still well-formed: keys are
/// lower-case base32).
fn forged_key(key: &str) -> String {
    let mut k = key.to_owned();
    let last = k.pop().expect("a key");
    k.push(if last == 'a' { 'b' } else { 'a' });
    k
}

/// An event for `function`'s route with `headers`: made-up ids (nothing is found, so nothing
/// changes) and an empty JSON object for bodies (a validation error once the handler runs).
fn event(function: &str, headers: &[(&str, &str)]) -> Value {
    let route = ROUTES
        .iter()
        .find(|r| r.function == function)
        .unwrap_or_else(|| panic!("{function} has no row"));
    let p = route.path;
    let values = [
        ("id", uuid::Uuid::new_v4().to_string()),
        ("key_id", uuid::Uuid::new_v4().to_string()),
        ("jti", uuid::Uuid::new_v4().to_string()),
        ("version", "999999".to_owned()),
        ("name", "io.toolreg.local%2Fno_such_server".to_owned()),
        ("asset", "no-such-asset.js".to_owned()),
    ];
    let mut concrete = p.to_owned();
    let mut params = Vec::new();
    for (name, value) in &values {
        let slot = format!("{{{name}}}");
        if p.contains(&slot) {
            concrete = concrete.replace(&slot, value);
            params.push((*name, value.as_str()));
        }
    }
    let body = match (function, route.method) {
        ("mcp", _) => Some(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
        (_, "POST" | "PATCH" | "PUT" | "DELETE") if route.openapi.request.is_some() => {
            Some(json!({}))
        }
        _ => None,
    };
    http_event(route.method, &concrete, p, &params, headers, body.as_ref())
}

fn status_and_type(v: &Value) -> (u16, String) {
    let status = v["statusCode"].as_u64().expect("statusCode") as u16;
    let body: Value =
        serde_json::from_str(v["body"].as_str().unwrap_or("null")).unwrap_or_default();
    (status, body["type"].as_str().unwrap_or_default().to_owned())
}

fn is_role_refusal(status: u16, kind: &str) -> bool {
    status == 403
        && matches!(
            kind,
            "urn:toolreg:problem:forbidden" | "urn:toolreg:problem:elevation-required"
        )
}

#[tokio::test]
async fn every_lambda_binary_answers_every_credential_as_its_role_allows_and_stays_up() {
    // The oracle names exactly the generated binaries.
    let listed: BTreeSet<String> = WHO.iter().map(|(f, _)| (*f).to_owned()).collect();
    assert_eq!(listed.len(), WHO.len(), "a function is listed twice");
    assert_eq!(
        listed,
        generated_functions(),
        "WHO must name every generated binary in functions/src/bin"
    );

    let s = server();
    let api = Api::new(s);
    let bootstrap = api.admin().await;
    // A person and an admin of this test's own, so its requests disturb no one else's sessions.
    let password = "roles-matrix-password";
    let make = |role: &'static str| {
        let (api, bootstrap) = (api.clone(), bootstrap.clone());
        async move {
            let name = unique("roles");
            let r = api
                .post(
                    "/api/v1/users",
                    Some(&bootstrap),
                    &json!({"username": name, "role": role, "password": password}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            api.tokens(&name, password).await.0
        }
    };
    let user = make("user").await;
    let admin = make("admin").await;
    let r = api
        .post(
            "/api/v1/auth/elevate",
            Some(&admin),
            &json!({"password": password}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let elevated = r.body["elevated_token"].as_str().unwrap().to_owned();
    let agent = api
        .create_agent(&bootstrap, &json!({"name": unique("roles-agent")}))
        .await;
    let (_, key) = api.agent_key(&bootstrap, &agent).await;
    let r = api
        .oauth_token(
            Some((&agent, &key)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "catalog:read"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let agent_token = r.body["access_token"].as_str().unwrap().to_owned();
    let forged_token = forged_admin_token(&user);
    let forged_key_header = forged_key(&key);
    let unknown_key = format!("trk_{}_{}", "zzzzzzzzzzzz", "a".repeat(52));

    let bearer = |t: &str| format!("Bearer {t}");
    let headers_for = |cred: Cred| -> Vec<(String, String)> {
        let auth = |v: String| vec![("authorization".to_owned(), v)];
        let x = |v: &str| vec![("x-api-key".to_owned(), v.to_owned())];
        match cred {
            Cred::Anonymous => vec![],
            Cred::User => auth(bearer(&user)),
            Cred::Admin => auth(bearer(&admin)),
            Cred::ElevatedAdmin => auth(bearer(&elevated)),
            Cred::KeyHeader => x(&key),
            Cred::KeyBearer => auth(bearer(&key)),
            Cred::AgentToken => auth(bearer(&agent_token)),
            Cred::Garbage => auth(bearer("garbage.token.value")),
            Cred::ForgedToken => auth(bearer(&forged_token)),
            Cred::ForgedKeyHeader => x(&forged_key_header),
            Cred::ForgedKeyBearer => auth(bearer(&unknown_key)),
        }
    };

    let mut failures = Vec::new();
    for (function, who) in WHO {
        let mut rt = RuntimeApi::start().await;
        rt.launch(&bin(function), function, &s.env);
        let mut anonymous = None;
        for cred in CREDS {
            let headers = headers_for(cred);
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let answer = rt
                .invoke(event(function, &headers), Duration::from_secs(30))
                .await;
            if !rt.alive() {
                failures.push(format!("{function} as {cred:?}: the process died"));
                break;
            }
            let v = match answer {
                Answer::Response(v) => v,
                Answer::Error(e) => {
                    failures.push(format!("{function} as {cred:?}: invocation error {e}"));
                    continue;
                }
            };
            let (status, kind) = status_and_type(&v);
            if cred == Cred::Anonymous {
                anonymous = Some(status);
            }
            let w = want(*who, cred);
            let ok = status < 500
                && match w {
                    Want::Served => status != 401 && !is_role_refusal(status, &kind),
                    Want::Unauthenticated => status == 401,
                    Want::Refused => is_role_refusal(status, &kind),
                    Want::AsAnonymous => Some(status) == anonymous,
                    Want::NoServerError => true,
                };
            if !ok {
                failures.push(format!(
                    "{function} as {cred:?}: want {w:?}, got {status} {}",
                    v["body"]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} answers were wrong:\n{}",
        failures.len(),
        WHO.len() * CREDS.len(),
        failures.join("\n")
    );
}
