//! The dispatcher every request goes through, and [`ALL`]: every route's row with its handler.
//! A route is one endpoint file (`tools/get.rs`: its row, written as what differs from
//! `Route::DEFAULT`, its types and its handler); the local server serves them all, while each
//! Lambda binary serves only its own row and handler.

pub mod access;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod console;
pub mod credentials;
mod dispatch;
pub mod docs;
pub mod health;
pub mod idempotency;
pub mod mcp;
pub mod mfa;
pub mod oauth;
pub mod policies;
pub mod registry;
mod resolve;
pub mod table;
pub mod tools;
pub mod users;

pub use access::DECISIONS_GET;
pub use access::DECISIONS_LIST;
pub use access::TOOLS_ACCESS;
pub use agents::AGENTS_CREATE;
pub use agents::AGENTS_DISABLE;
pub use agents::AGENTS_ENABLE;
pub use agents::AGENTS_GET;
pub use agents::AGENTS_LIST;
pub use agents::AGENTS_UPDATE;
pub use agents::AGENT_KEYS_CREATE;
pub use agents::AGENT_KEYS_LIST;
pub use agents::AGENT_KEYS_REVOKE;
pub use audit::AUDIT_LIST;
pub use auth::AUTH_ELEVATE;
pub use auth::AUTH_LOGIN;
pub use auth::AUTH_ME;
pub use auth::AUTH_REFRESH;
pub use console::CONSOLE;
pub use console::CONSOLE_ASSET;
pub use credentials::CREDENTIALS_GET;
pub use credentials::CREDENTIALS_REVOKE;
pub use credentials::JWKS;
pub use dispatch::{dispatch, dispatch_any, REFUSAL_AUDIT_WINDOW_SECS};
pub use docs::DOCS;
pub use docs::DOCS_ASSET;
pub use docs::OPENAPI;
pub use docs::REDOC;
pub use health::HEALTH;
pub use mcp::MCP;
pub use mcp::OAUTH_PROTECTED_RESOURCE;
pub use mfa::AUTH_LOGIN_MFA;
pub use mfa::AUTH_MFA_TOTP_CONFIRM;
pub use mfa::AUTH_MFA_TOTP_ENROL;
pub use mfa::AUTH_MFA_TOTP_REMOVE;
pub use mfa::USERS_MFA_TOTP_RESET;
pub use oauth::OAUTH_METADATA;
pub use oauth::OAUTH_TOKEN;
pub use policies::POLICIES_ACTIVATE;
pub use policies::POLICIES_CREATE;
pub use policies::POLICIES_GET;
pub use policies::POLICIES_LIST;
pub use policies::POLICIES_SIMULATE;
pub use registry::REGISTRY_SERVERS_LIST;
pub use registry::REGISTRY_SERVERS_LIST_PREFLIGHT;
pub use registry::REGISTRY_SERVER_VERSION;
pub use registry::REGISTRY_SERVER_VERSIONS;
pub use registry::REGISTRY_SERVER_VERSIONS_PREFLIGHT;
pub use registry::REGISTRY_SERVER_VERSION_PREFLIGHT;
pub use resolve::{match_template, method_not_allowed, not_found, resolve, MatchError};
pub use table::*;
pub use tools::create::TOOLS_CREATE;
pub use tools::drift::TOOLS_APPROVE_TOOLS;
pub use tools::get::TOOLS_GET;
pub use tools::lifecycle::TOOLS_ACTIVATE;
pub use tools::lifecycle::TOOLS_DEACTIVATE;
pub use tools::lifecycle::TOOLS_DELETE;
pub use tools::list::TOOLS_LIST;
pub use tools::probe::TOOLS_PROBES;
pub use tools::probe::TOOLS_REPROBE;
pub use tools::probe::TOOLS_TEST_CONNECTION;
pub use tools::update::TOOLS_UPDATE;
pub use users::AUTH_LOGOUT;
pub use users::AUTH_PASSWORD;
pub use users::USERS_CREATE;
pub use users::USERS_DISABLE;
pub use users::USERS_ENABLE;
pub use users::USERS_GET;
pub use users::USERS_LIST;
pub use users::USERS_RESET_PASSWORD;
pub use users::USERS_UPDATE;

use crate::auth::principal::{Principal, UserPrincipal};
use crate::error::{AppError, AppResult};
use crate::http::{ApiRequest, ApiResponse};
use crate::state::AppState;
use std::future::Future;
use std::pin::Pin;

/// Who is calling, as the dispatcher established it from the row's [`Access`].
#[derive(Clone, Debug)]
pub struct Caller(Option<Principal>);

impl Caller {
    /// The principal's id, if there is one (scopes idempotency keys).
    pub fn principal_id(&self) -> Option<String> {
        self.0.as_ref().map(Principal::id)
    }

    /// The authenticated principal; routes with [`Access::Public`] have none.
    pub fn principal(self) -> AppResult<Principal> {
        self.0.ok_or_else(|| {
            AppError::Internal("the handler wants a principal but its route is public".into())
        })
    }

    /// The person calling: what routes for people and admins get.
    pub fn user(self) -> AppResult<UserPrincipal> {
        match self.principal()? {
            Principal::User(u) => Ok(u),
            Principal::Agent(_) => Err(AppError::Internal(
                "the handler wants a person but its route lets agents in".into(),
            )),
        }
    }
}

/// What a handler returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = AppResult<ApiResponse>> + Send + 'a>>;

/// A route handler: the request and the caller the dispatcher authorised.
pub type Handler = for<'a> fn(&'a AppState, &'a ApiRequest, Caller) -> HandlerFuture<'a>;

/// Turns `async fn(&AppState, &ApiRequest, Caller) -> AppResult<ApiResponse>` into a [`Handler`].
#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        let h: $crate::routes::Handler =
            |state, req, caller| ::std::boxed::Box::pin($f(state, req, caller));
        h
    }};
}

/// A row with its handler, and both their names: the Lambda binaries in functions/src/bin/ are
/// generated from these by `make infra` (see `routes::infra`).
#[derive(Clone, Copy)]
pub struct Served {
    pub route: &'static Route,
    pub handler: Handler,
    /// The row's constant, e.g. `TOOLS_GET`.
    pub row: &'static str,
    /// The handler's path under `routes`, e.g. `tools::get::get`.
    pub handler_path: &'static str,
}

/// `served!(TOOLS_GET => tools::get::get)`: a [`Served`] entry.
#[macro_export]
macro_rules! served {
    ($row:ident => $($seg:ident)::+) => {
        $crate::routes::Served {
            route: &$row,
            handler: $crate::handler!($($seg)::+),
            row: stringify!($row),
            handler_path: stringify!($($seg)::+),
        }
    };
}

/// Every route's row with its handler, in the order the documents list them: what the local
/// server dispatches across, and what the OpenAPI document, the deployment and the Lambda
/// binaries are generated from. Adding a route is one line here.
pub const ALL: &[Served] = &[
    served!(HEALTH => health::health),
    served!(AUTH_LOGIN => auth::login),
    served!(AUTH_REFRESH => auth::refresh),
    served!(AUTH_ME => auth::me),
    served!(AUTH_ELEVATE => auth::elevate),
    served!(AUTH_PASSWORD => users::change_password),
    served!(AUTH_LOGOUT => users::logout),
    served!(AUTH_LOGIN_MFA => mfa::login),
    served!(AUTH_MFA_TOTP_ENROL => mfa::enrol),
    served!(AUTH_MFA_TOTP_CONFIRM => mfa::confirm),
    served!(AUTH_MFA_TOTP_REMOVE => mfa::remove),
    served!(USERS_CREATE => users::create),
    served!(USERS_LIST => users::list),
    served!(USERS_GET => users::get),
    served!(USERS_UPDATE => users::update),
    served!(USERS_DISABLE => users::disable),
    served!(USERS_ENABLE => users::enable),
    served!(USERS_RESET_PASSWORD => users::reset_password),
    served!(USERS_MFA_TOTP_RESET => mfa::reset),
    served!(TOOLS_CREATE => tools::create::create),
    served!(TOOLS_LIST => tools::list::list),
    served!(TOOLS_GET => tools::get::get),
    served!(TOOLS_UPDATE => tools::update::update),
    served!(TOOLS_ACTIVATE => tools::lifecycle::activate),
    served!(TOOLS_DEACTIVATE => tools::lifecycle::deactivate),
    served!(TOOLS_DELETE => tools::lifecycle::delete),
    served!(TOOLS_TEST_CONNECTION => tools::probe::test_connection),
    served!(TOOLS_REPROBE => tools::probe::reprobe),
    served!(TOOLS_PROBES => tools::probe::probes),
    served!(TOOLS_APPROVE_TOOLS => tools::drift::approve_tools),
    served!(AGENTS_CREATE => agents::create),
    served!(AGENTS_LIST => agents::list),
    served!(AGENTS_GET => agents::get),
    served!(AGENTS_UPDATE => agents::update),
    served!(AGENTS_DISABLE => agents::disable),
    served!(AGENTS_ENABLE => agents::enable),
    served!(AGENT_KEYS_CREATE => agents::create_key),
    served!(AGENT_KEYS_LIST => agents::list_keys),
    served!(AGENT_KEYS_REVOKE => agents::revoke_key),
    served!(OAUTH_TOKEN => oauth::token),
    served!(OAUTH_METADATA => oauth::metadata),
    served!(JWKS => credentials::jwks),
    served!(POLICIES_CREATE => policies::create),
    served!(POLICIES_LIST => policies::list),
    served!(POLICIES_SIMULATE => policies::simulate),
    served!(POLICIES_GET => policies::get),
    served!(POLICIES_ACTIVATE => policies::activate),
    served!(TOOLS_ACCESS => access::request),
    served!(DECISIONS_LIST => access::list),
    served!(DECISIONS_GET => access::get),
    served!(CREDENTIALS_GET => credentials::status),
    served!(CREDENTIALS_REVOKE => credentials::revoke),
    served!(AUDIT_LIST => audit::list),
    served!(MCP => mcp::serve),
    served!(OAUTH_PROTECTED_RESOURCE => mcp::resource_metadata),
    served!(OPENAPI => docs::openapi),
    served!(DOCS => docs::page),
    served!(REGISTRY_SERVERS_LIST => registry::list),
    served!(REGISTRY_SERVER_VERSIONS => registry::versions),
    served!(REGISTRY_SERVER_VERSION => registry::version),
    served!(REGISTRY_SERVERS_LIST_PREFLIGHT => registry::preflight),
    served!(REGISTRY_SERVER_VERSIONS_PREFLIGHT => registry::preflight),
    served!(REGISTRY_SERVER_VERSION_PREFLIGHT => registry::preflight),
    served!(REDOC => docs::redoc),
    served!(DOCS_ASSET => docs::asset),
    served!(CONSOLE => console::page),
    served!(CONSOLE_ASSET => console::asset),
];

/// Every row, in [`ALL`]'s order.
pub const ROUTES: &[&Route] = &rows::<{ ALL.len() }>(ALL);

const fn rows<const N: usize>(all: &[Served]) -> [&'static Route; N] {
    let mut out = [&Route::DEFAULT; N];
    let mut i = 0;
    while i < N {
        out[i] = all[i].route;
        i += 1;
    }
    out
}

/// The handler of `route` (the local server).
pub fn handler_for(route: &Route) -> Option<Handler> {
    ALL.iter()
        .find(|s| s.route.function == route.function)
        .map(|s| s.handler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_beat_parameters() {
        let (r, p) = resolve("POST", "/api/v1/tools/remote/test-connection").unwrap();
        assert_eq!(r.function, TOOLS_TEST_CONNECTION.function);
        assert!(p.is_empty());
        let (r, p) = resolve("POST", "/api/v1/tools/abc/activate").unwrap();
        assert_eq!(r.function, TOOLS_ACTIVATE.function);
        assert_eq!(p["id"], "abc");
    }

    #[test]
    fn unknown_paths_and_methods_are_told_apart() {
        assert!(matches!(resolve("GET", "/nope"), Err(MatchError::NotFound)));
        match resolve("PUT", "/api/v1/tools/abc") {
            Err(MatchError::MethodNotAllowed(m)) => {
                assert!(m.contains(&"GET") && m.contains(&"PATCH") && m.contains(&"DELETE"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_route_resolves_to_itself_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for r in ROUTES {
            let path = r
                .path
                .replace("{id}", "x")
                .replace("{key_id}", "y")
                .replace("{version}", "1")
                .replace("{jti}", "j")
                .replace("{name}", "n")
                .replace("{asset}", "a.js");
            assert_eq!(
                resolve(r.method, &path).unwrap().0.function,
                r.function,
                "{}",
                r.path
            );
            assert!(
                names.insert(r.function),
                "duplicate function {}",
                r.function
            );
        }
    }

    /// A Lambda function holds only the parts its row's `Iam` grants (`state::Part`), and the
    /// dispatcher reads some before any handler runs: every row with a principal grants the JWT
    /// key and the store (refusals are audited through it). Routes for people refuse API keys
    /// unread; the routes that take them are held to the pepper by
    /// `table::tests::routes_agents_may_call_can_check_api_keys`.
    #[test]
    fn every_row_grants_what_its_access_makes_the_dispatcher_read() {
        for r in ROUTES.iter().filter(|r| r.access != Access::Public) {
            assert!(r.permissions().secret, "{} checks tokens", r.function);
            assert!(
                !r.permissions().dynamodb.is_empty(),
                "{} audits refusals without DynamoDB",
                r.function
            );
            assert_eq!(r.dispatcher_dynamodb(), REFUSAL_AUDIT, "{}", r.function);
        }
    }

    #[test]
    fn the_table_spells_the_tools_access_scope_as_the_domain_does() {
        assert_eq!(TOOLS_ACCESS_SCOPE, crate::domain::agent::TOOLS_ACCESS);
    }

    #[test]
    fn every_route_has_exactly_one_handler() {
        for r in ROUTES {
            let n = ALL
                .iter()
                .filter(|s| s.route.function == r.function)
                .count();
            assert_eq!(n, 1, "{} has {n} handlers in ALL", r.function);
        }
        assert_eq!(ALL.len(), ROUTES.len());
    }

    /// A row leaves out only what `Route::DEFAULT` may fill in: nothing may fall back to its
    /// blank method, path, function, summary or tag.
    #[test]
    fn every_row_names_itself() {
        for r in ROUTES {
            assert!(
                ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"].contains(&r.method),
                "{}: method {:?}",
                r.function,
                r.method
            );
            assert!(r.path.starts_with('/'), "{}: path {:?}", r.function, r.path);
            assert!(!r.function.is_empty(), "{}: no function", r.path);
            assert!(!r.openapi.summary.is_empty(), "{}: no summary", r.function);
            assert!(!r.openapi.tag.is_empty(), "{}: no tag", r.function);
        }
    }

    /// An agent's API key is checked with a read of the key, an occasional `last_used_at`
    /// stamp and the pepper: every route agents may call needs those permissions.
    #[test]
    fn routes_agents_may_call_can_check_api_keys() {
        for r in ROUTES
            .iter()
            .filter(|r| matches!(r.access, Access::AnyPrincipal | Access::Scoped(_)))
        {
            assert!(
                r.permissions().pepper,
                "{} must read the pepper",
                r.function
            );
            for action in ["GetItem", "UpdateItem"] {
                assert!(
                    r.permissions().dynamodb.contains(&action),
                    "{} needs dynamodb:{action}",
                    r.function
                );
            }
            assert!(r.permissions().secret, "{} verifies tokens", r.function);
        }
    }
}
