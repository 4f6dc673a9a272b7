//! The role matrix: every route × every kind of credential, generated from the route table: each
//! row's `access` says who may call it and its `openapi.status` what success looks like.

use serde_json::{json, Value};
use toolreg_core::auth::jwt::{self, Claims, TokenType};
use toolreg_core::domain::user::Role;
use toolreg_core::routes::{
    Access, Route, AUTH_LOGOUT, AUTH_MFA_TOTP_ENROL, AUTH_PASSWORD, AUTH_REFRESH, OAUTH_TOKEN,
    ROUTES, TOOLS_APPROVE_TOOLS, TOOLS_REPROBE, USERS_MFA_TOTP_RESET,
};
use toolreg_tests::api::{unique, Api};
use toolreg_tests::stack::{Server, ADMIN_PASSWORD, ADMIN_USERNAME};

/// Who a route is for: the row's [`Access`], with the one public route whose credential travels
/// in the body told apart.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Public,
    /// The credential travels in the body (`/auth/refresh`).
    RefreshBody,
    /// The client's credentials travel in the form (`/oauth/token`).
    ClientBody,
    /// Users, admins and agents.
    AnyPrincipal,
    /// Users and admins, not agents.
    Person,
    Admin,
    Elevated,
}

fn who(route: &Route) -> Who {
    match route.access {
        Access::Public
            if route.function == AUTH_REFRESH.function
                || route.function == AUTH_LOGOUT.function =>
        {
            Who::RefreshBody
        }
        Access::Public if route.function == OAUTH_TOKEN.function => Who::ClientBody,
        Access::Public => Who::Public,
        Access::AnyPrincipal | Access::Scoped(_) => Who::AnyPrincipal,
        Access::Person => Who::Person,
        Access::Admin => Who::Admin,
        Access::ElevatedAdmin => Who::Elevated,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cred {
    None,
    Garbage,
    User,
    Admin,
    ElevatedAdmin,
    Refresh,
    Expired,
    /// An agent's API key.
    AgentKey,
    /// An agent's OAuth access token.
    AgentToken,
    /// The access token of a user disabled after it was issued: it works until it expires.
    DisabledUser,
    /// A revoked API key.
    RevokedKey,
}

const CREDS: [Cred; 11] = [
    Cred::None,
    Cred::Garbage,
    Cred::User,
    Cred::Admin,
    Cred::ElevatedAdmin,
    Cred::Refresh,
    Cred::Expired,
    Cred::AgentKey,
    Cred::AgentToken,
    Cred::DisabledUser,
    Cred::RevokedKey,
];

/// The status an authorised, well-formed request to `route` gets in this test's setup: the row's
/// documented success status.
fn success_status(route: &Route) -> u16 {
    if route.function == TOOLS_REPROBE.function || route.function == TOOLS_APPROVE_TOOLS.function {
        return 409; // the matrix's tool is a function tool: authorised, but nothing to probe
    }
    if route.function == USERS_MFA_TOTP_RESET.function {
        return 409; // the matrix's fresh user has no authenticator: authorised, nothing to remove
    }
    if MALFORMED_CODE_ROUTES.contains(&route.function) {
        return 422; // the matrix has no authenticator to read codes from: it sends a bad one
    }
    if route.path.starts_with("/v0.1/servers/{name}") && route.method == "GET" {
        return 404; // the matrix names no registry server: authorised, but nothing there
    }
    if route.path.ends_with("/{asset}") {
        return 404; // the matrix names no browser asset: public, but nothing there
    }
    route.openapi.status
}

fn expected(a: Who, c: Cred, route: &Route) -> u16 {
    let ok = success_status(route);
    // A disabled user's access token runs out on its own; their own password change and TOTP
    // enrolment check the account.
    let c = match c {
        Cred::DisabledUser
            if route.function == AUTH_PASSWORD.function
                || route.function == AUTH_MFA_TOTP_ENROL.function =>
        {
            return 401
        }
        Cred::DisabledUser => Cred::User,
        other => other,
    };
    match (a, c) {
        (Who::Public, _) => ok,
        (Who::RefreshBody, Cred::Refresh) => ok,
        (Who::RefreshBody, Cred::None) => 422,
        (Who::RefreshBody, _) => 401,
        (Who::ClientBody, Cred::AgentKey) => ok,
        (Who::ClientBody, _) => 401,
        // Routes for people refuse any API key unchecked (they do not read the pepper).
        (Who::Person | Who::Admin | Who::Elevated, Cred::RevokedKey) => 403,
        (_, Cred::None | Cred::Garbage | Cred::Refresh | Cred::Expired | Cred::RevokedKey) => 401,
        (Who::AnyPrincipal, Cred::User | Cred::Admin | Cred::AgentKey | Cred::AgentToken) => ok,
        (Who::AnyPrincipal | Who::Person, Cred::ElevatedAdmin) => 401,
        (Who::Person, Cred::User | Cred::Admin) => ok,
        (Who::Person | Who::Admin | Who::Elevated, Cred::AgentKey | Cred::AgentToken) => 403,
        (Who::Admin, Cred::User) => 403,
        (Who::Admin, Cred::Admin) => ok,
        (Who::Admin, Cred::ElevatedAdmin) => 401,
        (Who::Elevated, Cred::User | Cred::Admin) => 403,
        (Who::Elevated, Cred::ElevatedAdmin) => ok,
        (_, Cred::DisabledUser) => unreachable!("mapped above"),
    }
}

/// The body a well-formed request to `route` sends.
fn body_for(route: &Route, token: &Option<String>, cred: Cred) -> Option<Value> {
    match route.function {
        "auth-logout" => Some(match token {
            Some(t) => json!({"refresh_token": t}),
            None => json!({}),
        }),
        // Changing to the same password keeps the matrix's credentials working.
        "auth-password" => {
            let current = if matches!(cred, Cred::User | Cred::DisabledUser) {
                MATRIX_USER_PASSWORD
            } else {
                ADMIN_PASSWORD
            };
            Some(json!({"current_password": current, "new_password": current}))
        }
        "auth-mfa-totp-enrol" => Some(
            json!({"current_password": if matches!(cred, Cred::User | Cred::DisabledUser) {
                MATRIX_USER_PASSWORD
            } else {
                ADMIN_PASSWORD
            }}),
        ),
        "users-create" => Some(
            json!({"username": unique("matrix_new"), "role": "user", "password": "matrix-new-password"}),
        ),
        "users-update" => Some(json!({"display_name": "Changed"})),
        "users-reset-password" => Some(json!({"new_password": "matrix-reset-password"})),
        "auth-login" => Some(json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})),
        "auth-refresh" => Some(match token {
            Some(t) => json!({"refresh_token": t}),
            None => json!({}),
        }),
        "auth-elevate" => Some(json!({"password": ADMIN_PASSWORD})),
        "auth-login-mfa" => Some(json!({"mfa_token": "matrix.token", "code": "12345"})),
        "auth-mfa-totp-confirm" | "auth-mfa-totp-remove" => Some(json!({"code": "12345"})),
        "tools-create" => Some(
            json!({"tool_type": "function", "name": unique("m"), "risk_level": "low", "input_schema": {"type": "object"}}),
        ),
        "tools-update" => Some(json!({"description": "changed"})),
        "tools-test-connection" => Some(json!({"server_url": "http://127.0.0.1:9/mcp"})),
        "agents-create" => Some(json!({"name": unique("matrix-agent")})),
        "agents-update" => Some(json!({"description": "changed"})),
        "agent-keys-create" => Some(json!({"description": "matrix"})),
        "policies-create" => Some(json!({"default": "deny", "rules": [
            {"id": unique("r"), "effect": "deny", "rationale": "MATRIX"}
        ]})),
        "policies-simulate" => Some(json!({"version": 1, "limit": 10})),
        "tools-access" => Some(json!({"scopes": ["matrix:read"]})),
        "mcp" => Some(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
        // Sent form-encoded by the matrix itself.
        "oauth-token" => None,
        _ => {
            assert!(
                route.openapi.request.is_none(),
                "{} takes a body: add one here",
                route.function
            );
            None
        }
    }
}

const MATRIX_USER_PASSWORD: &str = "matrix-user-password";

/// Routes that take a TOTP code; the matrix sends a malformed one (tests/api/mfa.rs covers them
/// with real codes).
const MALFORMED_CODE_ROUTES: [&str; 3] = [
    "auth-login-mfa",
    "auth-mfa-totp-confirm",
    "auth-mfa-totp-remove",
];

async fn expired_admin_token(s: &Server) -> String {
    let state = s.state().await;
    let keys = state.keys.get().await.expect("signing keys");
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: "expired-user".into(),
        username: ADMIN_USERNAME.into(),
        role: Role::Admin,
        typ: TokenType::Access,
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now - 7200,
        exp: now - 3600,
        iss: s.base.clone(),
        aud: "toolreg-api".into(),
        fam: None,
        scope: None,
        groups: vec![],
        tags: vec![],
        key: None,
        amr: Vec::new(),
    };
    jwt::sign(&keys, &claims).expect("sign")
}

async fn new_function_tool(api: &Api, admin: &str) -> String {
    let r = api
        .post(
            "/api/v1/tools",
            Some(admin),
            &json!({"tool_type": "function", "name": unique("matrix"), "risk_level": "low", "input_schema": {"type": "object"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn new_user(api: &Api, admin: &str) -> String {
    let r = api
        .post(
            "/api/v1/users",
            Some(admin),
            &json!({"username": unique("matrix_u"), "role": "user", "password": "matrix-some-password"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_route_answers_every_credential_as_its_role_allows() {
    // Its own table: the matrix writes over a hundred tools.
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let (admin, _) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let username = unique("matrix_user");
    s.create_user(&username, MATRIX_USER_PASSWORD, Role::User)
        .await;
    let user = api.tokens(&username, MATRIX_USER_PASSWORD).await.0;
    let expired = expired_admin_token(s).await;
    // An agent with a key and an OAuth token, and a key of it that was revoked.
    let agent_id = api
        .create_agent(&admin, &json!({"name": unique("matrix-agent")}))
        .await;
    let (_, agent_key) = api.agent_key(&admin, &agent_id).await;
    let (revoked_id, revoked_key) = api.agent_key(&admin, &agent_id).await;
    let r = api
        .send(
            "DELETE",
            &format!("/api/v1/agents/{agent_id}/keys/{revoked_id}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = api
        .oauth_token(
            Some((&agent_id, &agent_key)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let agent_token = r.body["access_token"].as_str().unwrap().to_owned();
    // A user disabled after logging in.
    let disabled_name = unique("matrix_disabled");
    let r = api
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": disabled_name, "role": "user", "password": MATRIX_USER_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let disabled_id = r.body["id"].as_str().unwrap().to_owned();
    let disabled = api.tokens(&disabled_name, MATRIX_USER_PASSWORD).await.0;
    let r = api
        .post(
            &format!("/api/v1/users/{disabled_id}/disable"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // An allow-all policy, active: agents see the catalog and access requests are allowed. One
    // decision to read and whose credential to check and revoke.
    let elevated_admin = api.elevated().await;
    let r = api
        .post(
            "/api/v1/policies",
            Some(&admin),
            &json!({"default": "allow"}),
        )
        .await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text);
    let version = r.body["version"].to_string();
    let r = api
        .post(
            &format!("/api/v1/policies/{version}/activate"),
            Some(&elevated_admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let tool = new_function_tool(&api, &admin).await;
    let r = api
        .post(
            &format!("/api/v1/tools/{tool}/access"),
            Some(&admin),
            &json!({"scopes": ["matrix:read"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let decision = r.body["decision_id"].as_str().unwrap().to_owned();

    let mut failures = Vec::new();
    let mut checked = 0;
    for route in ROUTES {
        let a = who(route);
        for cred in CREDS {
            // Fresh per request where success consumes something (refresh, delete).
            let elevated = if cred == Cred::ElevatedAdmin {
                Some(api.elevated().await)
            } else {
                None
            };
            let refresh = if cred == Cred::Refresh {
                Some(api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await.1)
            } else {
                None
            };
            let token: Option<String> = match cred {
                Cred::None => None,
                Cred::Garbage => Some("garbage.token.value".into()),
                Cred::User => Some(user.clone()),
                Cred::Admin => Some(admin.clone()),
                Cred::ElevatedAdmin => elevated.clone(),
                Cred::Refresh => refresh.clone(),
                Cred::Expired => Some(expired.clone()),
                Cred::AgentKey => Some(agent_key.clone()),
                Cred::AgentToken => Some(agent_token.clone()),
                Cred::DisabledUser => Some(disabled.clone()),
                Cred::RevokedKey => Some(revoked_key.clone()),
            };
            // Routes about a user get a fresh (plain) user, about an agent a fresh agent (and
            // key), the others a fresh tool.
            let mut path = route.path.to_owned();
            if route.path.starts_with("/api/v1/users/") {
                path = path.replace("{id}", &new_user(&api, &admin).await);
            } else if route.path.starts_with("/api/v1/agents/") {
                let id = api
                    .create_agent(&admin, &json!({"name": unique("matrix-fresh")}))
                    .await;
                if path.contains("{key_id}") {
                    let (key_id, _) = api.agent_key(&admin, &id).await;
                    path = path.replace("{key_id}", &key_id);
                }
                path = path.replace("{id}", &id);
            } else if path.starts_with("/api/v1/decisions/") {
                path = path.replace("{id}", &decision);
            } else if path.contains("{id}") {
                path = path.replace("{id}", &new_function_tool(&api, &admin).await);
            }
            path = path
                .replace("{version}", &version)
                .replace("{jti}", &decision);
            let body = body_for(route, &token, cred);
            let header_token = if who(route) == Who::RefreshBody {
                None
            } else {
                token.as_deref()
            };
            let r = if a == Who::ClientBody {
                let mut form = vec![("grant_type", "client_credentials")];
                if let Some(t) = token.as_deref() {
                    form.push(("client_id", &agent_id));
                    form.push(("client_secret", t));
                }
                api.oauth_token(None, &form).await
            } else {
                api.send(route.method, &path, header_token, body.as_ref(), &[])
                    .await
            };
            let want = expected(a, cred, route);
            checked += 1;
            if r.status != want {
                failures.push(format!(
                    "{} {} as {cred:?}: got {} want {want}: {}",
                    route.method, route.path, r.status, r.text
                ));
            } else if r.status >= 400 && a != Who::ClientBody {
                assert_eq!(
                    r.header("content-type"),
                    Some("application/problem+json"),
                    "{}",
                    r.text
                );
            }
        }
    }
    assert_eq!(checked, ROUTES.len() * CREDS.len());
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
