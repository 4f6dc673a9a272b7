//! The role matrix: every route × every kind of credential, generated from the route table. A
//! new route does not compile until it is classified here.

use serde_json::{json, Value};
use toolreg_core::auth::jwt::{self, Claims, TokenType};
use toolreg_core::domain::user::Role;
use toolreg_core::routes::{RouteId, ROUTES};
use toolreg_tests::api::{unique, Api};
use toolreg_tests::stack::{Server, ADMIN_PASSWORD, ADMIN_USERNAME};

/// Who a route is for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Access {
    Public,
    /// The credential travels in the body (`/auth/refresh`).
    RefreshBody,
    AnyUser,
    Admin,
    Elevated,
}

fn access(id: RouteId) -> Access {
    use RouteId::*;
    match id {
        Health | OpenApi | Docs | AuthLogin => Access::Public,
        AuthRefresh => Access::RefreshBody,
        AuthMe | ToolsList | ToolsGet | ToolsProbes => Access::AnyUser,
        AuthElevate | ToolsCreate | ToolsUpdate | ToolsActivate | ToolsDeactivate
        | ToolsTestConnection | ToolsReprobe | AuditList => Access::Admin,
        ToolsDelete => Access::Elevated,
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
}

const CREDS: [Cred; 7] = [
    Cred::None,
    Cred::Garbage,
    Cred::User,
    Cred::Admin,
    Cred::ElevatedAdmin,
    Cred::Refresh,
    Cred::Expired,
];

/// The status an authorised, well-formed request to `id` gets in this test's setup.
fn success_status(id: RouteId) -> u16 {
    use RouteId::*;
    match id {
        ToolsCreate => 201,
        ToolsDelete => 204,
        ToolsReprobe => 409, // the matrix's tool is a function tool: authorised, but nothing to probe
        _ => 200,
    }
}

fn expected(a: Access, c: Cred, id: RouteId) -> u16 {
    let ok = success_status(id);
    match (a, c) {
        (Access::Public, _) => ok,
        (Access::RefreshBody, Cred::Refresh) => ok,
        (Access::RefreshBody, Cred::None) => 422,
        (Access::RefreshBody, _) => 401,
        (_, Cred::None | Cred::Garbage | Cred::Refresh | Cred::Expired) => 401,
        (Access::AnyUser, Cred::User | Cred::Admin) => ok,
        (Access::AnyUser, Cred::ElevatedAdmin) => 401,
        (Access::Admin, Cred::User) => 403,
        (Access::Admin, Cred::Admin) => ok,
        (Access::Admin, Cred::ElevatedAdmin) => 401,
        (Access::Elevated, Cred::User | Cred::Admin) => 403,
        (Access::Elevated, Cred::ElevatedAdmin) => ok,
    }
}

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
        iss: "toolreg".into(),
        aud: "toolreg-api".into(),
        fam: None,
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

#[tokio::test]
async fn every_route_answers_every_credential_as_its_role_allows() {
    // Its own table: the matrix writes over a hundred tools.
    let s = &Server::start(&[]);
    let api = Api::new(s);
    let (admin, _) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let username = unique("matrix_user");
    s.create_user(&username, "matrix-user-password", Role::User)
        .await;
    let user = api.tokens(&username, "matrix-user-password").await.0;
    let expired = expired_admin_token(s).await;

    let mut failures = Vec::new();
    let mut checked = 0;
    for route in ROUTES {
        let a = access(route.id);
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
            };
            let id = new_function_tool(&api, &admin).await;
            let path = route.path.replace("{id}", &id);
            let body: Option<Value> = match route.id {
                RouteId::AuthLogin => {
                    Some(json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}))
                }
                RouteId::AuthRefresh => Some(match &token {
                    Some(t) => json!({"refresh_token": t}),
                    None => json!({}),
                }),
                RouteId::AuthElevate => Some(json!({"password": ADMIN_PASSWORD})),
                RouteId::ToolsCreate => Some(
                    json!({"tool_type": "function", "name": unique("m"), "risk_level": "low", "input_schema": {"type": "object"}}),
                ),
                RouteId::ToolsUpdate => Some(json!({"description": "changed"})),
                RouteId::ToolsTestConnection => {
                    Some(json!({"server_url": "http://127.0.0.1:9/mcp"}))
                }
                _ => None,
            };
            let header_token = if route.id == RouteId::AuthRefresh {
                None
            } else {
                token.as_deref()
            };
            let r = api
                .send(route.method, &path, header_token, body.as_ref(), &[])
                .await;
            let want = expected(a, cred, route.id);
            checked += 1;
            if r.status != want {
                failures.push(format!(
                    "{} {} as {cred:?}: got {} want {want}: {}",
                    route.method, route.path, r.status, r.text
                ));
            } else if r.status >= 400 {
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
