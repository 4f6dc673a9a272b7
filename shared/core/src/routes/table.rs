//! The route table: one `const` row per route holding every per-route fact — method, path,
//! function, who may call it, how it is documented, what it may touch in AWS, its timeout and
//! memory. The dispatcher, the OpenAPI document, template.yaml, the Terraform inputs and the
//! role-matrix test are all rendered from these rows.
//!
//! A leaf module: it imports nothing from the crate, so the table, `openapi` and the docs route
//! never form a cycle.

/// Who may call a route. The dispatcher checks it before the handler runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No token (any credential travels in the body, as for `/auth/refresh`).
    Public,
    /// Any principal: a user's access token, or an agent (API key or OAuth access token) that
    /// holds the `catalog:read` scope.
    AnyPrincipal,
    /// Any principal; an agent must hold this scope (e.g. `tools:access` to ask for tools).
    Scoped(&'static str),
    /// A person (user or admin), never an agent: self-service routes.
    Person,
    /// An admin's access token.
    Admin,
    /// An admin's elevated token.
    ElevatedAdmin,
}

/// The success response's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    None,
    /// JSON of a schema in `#/components/schemas`.
    Json(&'static str),
    /// Any JSON object.
    AnyJson,
    Html,
    /// A script or style sheet of a browser page (the console's and the docs').
    Asset,
}

/// A query parameter; `schema` is a JSON Schema as JSON text.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub schema: &'static str,
    pub description: &'static str,
}

/// How a route is documented in the OpenAPI document.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    pub summary: &'static str,
    pub tag: &'static str,
    /// The request body's schema.
    pub request: Option<&'static str>,
    /// The success status and body.
    pub status: u16,
    pub response: Content,
    pub query: &'static [Param],
    /// Problem statuses besides 500.
    pub problems: &'static [u16],
    /// Takes an `If-Match` header.
    pub if_match: bool,
    /// Answers with a `Location` header.
    pub location: bool,
}

/// What a function may touch: DynamoDB actions on the table (and its indexes), KMS actions on
/// the header key, whether it reads the JWT secret, and whether it reads the API-key pepper
/// (every route an agent may call with a key: see `auth::agent_keys`), and KMS actions on the
/// asymmetric keys that sign tool credentials.
#[derive(Clone, Copy, Debug)]
pub struct Iam {
    pub dynamodb: &'static [&'static str],
    pub index: bool,
    pub kms: &'static [&'static str],
    pub secret: bool,
    pub pepper: bool,
    /// KMS actions on the credential signing keys (`CREDENTIAL_KMS_KEY_IDS`).
    pub signing: &'static [&'static str],
}

impl Iam {
    /// Whether the function calls AWS at all (`health`, `openapi` and `docs` do not).
    /// Inlined so that a Lambda binary, whose row is a constant, folds it (`lambda::cold_start`).
    #[inline]
    pub const fn uses_aws(&self) -> bool {
        !self.dynamodb.is_empty()
            || !self.kms.is_empty()
            || self.secret
            || self.pepper
            || !self.signing.is_empty()
    }
}

/// A deployed Lambda function with no route (the scheduled re-prober).
#[derive(Clone, Copy, Debug)]
pub struct Function {
    pub name: &'static str,
    pub iam: Iam,
    /// Seconds.
    pub timeout: u32,
    /// MB.
    pub memory: u32,
}

/// A route: every fact about it.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: &'static str,
    /// API Gateway path template.
    pub path: &'static str,
    /// The binary and function name (`target/lambda/<function>/bootstrap`).
    pub function: &'static str,
    pub access: Access,
    pub openapi: Operation,
    pub iam: Iam,
    /// Seconds.
    pub timeout: u32,
    /// MB.
    pub memory: u32,
}

/// DynamoDB actions the dispatcher itself needs for a route with a principal: recording a
/// refusal before the handler (`routes::audit_refused_once`: an update and a put in one
/// transaction). `routes::infra` adds them to such a route's permissions.
pub const REFUSAL_AUDIT: &[&str] = &["UpdateItem", "PutItem", "TransactWriteItems"];

impl Route {
    /// DynamoDB actions the dispatcher needs on top of the row's own `iam.dynamodb`.
    pub const fn dispatcher_dynamodb(&self) -> &'static [&'static str] {
        match self.access {
            Access::Public => &[],
            _ => REFUSAL_AUDIT,
        }
    }

    /// The route as a deployed function.
    pub const fn as_function(&self) -> Function {
        Function {
            name: self.function,
            iam: self.iam,
            timeout: self.timeout,
            memory: self.memory,
        }
    }
}

const READ: &[u16] = &[400, 401, 404, 503];
const WRITE: &[u16] = &[400, 401, 403, 404, 409, 412, 413, 415, 422, 503];

const LIMIT: Param = Param {
    name: "limit",
    schema: r#"{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}"#,
    description: "Page size.",
};
const CURSOR: Param = Param {
    name: "cursor",
    schema: r#"{"type": "string", "minLength": 1, "maxLength": 2048}"#,
    description: "Opaque cursor from a previous page's next_cursor.",
};
const PAGE_PARAMS: &[Param] = &[LIMIT, CURSOR];
const TOOL_LIST_PARAMS: &[Param] = &[
    Param {
        name: "tool_type",
        schema: r#"{"type": "string", "enum": ["function", "remote"]}"#,
        description: "Only tools of this type.",
    },
    Param {
        name: "risk_level",
        schema: r#"{"type": "string", "enum": ["low", "medium", "high", "critical"]}"#,
        description: "Only tools of this risk level.",
    },
    Param {
        name: "is_active",
        schema: r#"{"type": "string", "enum": ["true", "false"]}"#,
        description: "Only active or inactive tools.",
    },
    Param {
        name: "tag",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 64}"#,
        description: "Only tools with this tag.",
    },
    Param {
        name: "q",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 100}"#,
        description: "Case-insensitive text in name, display name or description.",
    },
    Param {
        name: "drifted",
        schema: r#"{"type": "string", "enum": ["true", "false"]}"#,
        description: "Only remote tools whose tool list drifted from the approved one (true), or only tools that did not drift (false, function tools included).",
    },
    LIMIT,
    CURSOR,
];
const USER_LIST_PARAMS: &[Param] = &[
    Param {
        name: "role",
        schema: r#"{"type": "string", "enum": ["admin", "user"]}"#,
        description: "Only users of this role.",
    },
    Param {
        name: "disabled",
        schema: r#"{"type": "string", "enum": ["true", "false"]}"#,
        description: "Only disabled or only enabled users.",
    },
    Param {
        name: "q",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 100}"#,
        description: "Case-insensitive text in username or display name.",
    },
    LIMIT,
    CURSOR,
];
const AUDIT_PARAMS: &[Param] = &[
    Param {
        name: "actor_user_id",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 128}"#,
        description: "Events by this user.",
    },
    Param {
        name: "action",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 128}"#,
        description: "e.g. tool.create, auth.login.",
    },
    Param {
        name: "target_id",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 128}"#,
        description: "Events about this tool, user or token family.",
    },
    Param {
        name: "outcome",
        schema: r#"{"type": "string", "enum": ["success", "failure"]}"#,
        description: "Outcome.",
    },
    Param {
        name: "from_timestamp",
        schema: r#"{"type": "string", "format": "date-time"}"#,
        description: "Inclusive lower bound (RFC 3339).",
    },
    Param {
        name: "to_timestamp",
        schema: r#"{"type": "string", "format": "date-time"}"#,
        description: "Inclusive upper bound (RFC 3339).",
    },
    LIMIT,
    CURSOR,
];

const AGENT_LIST_PARAMS: &[Param] = &[
    Param {
        name: "disabled",
        schema: r#"{"type": "string", "enum": ["true", "false"]}"#,
        description: "Only disabled or only enabled agents.",
    },
    Param {
        name: "group",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 64}"#,
        description: "Only agents in this group.",
    },
    Param {
        name: "tag",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 64}"#,
        description: "Only agents with this tag.",
    },
    Param {
        name: "owner_user_id",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 64}"#,
        description: "Only agents this user owns.",
    },
    Param {
        name: "q",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 100}"#,
        description: "Case-insensitive text in name or description.",
    },
    LIMIT,
    CURSOR,
];

const DECISION_PARAMS: &[Param] = &[
    Param {
        name: "principal_id",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 128}"#,
        description: "Decisions about this principal (a user id or agent:<id>).",
    },
    Param {
        name: "tool_id",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 128}"#,
        description: "Decisions about this tool.",
    },
    Param {
        name: "decision",
        schema: r#"{"type": "string", "enum": ["allow", "deny"]}"#,
        description: "Only allowed or only denied requests.",
    },
    Param {
        name: "from_timestamp",
        schema: r#"{"type": "string", "format": "date-time"}"#,
        description: "Inclusive lower bound (RFC 3339).",
    },
    Param {
        name: "to_timestamp",
        schema: r#"{"type": "string", "format": "date-time"}"#,
        description: "Inclusive upper bound (RFC 3339).",
    },
    LIMIT,
    CURSOR,
];

/// The scope an agent needs to ask for tool access (a leaf module: spelled here, checked equal
/// to `domain::agent::TOOLS_ACCESS` by a unit test).
pub const TOOLS_ACCESS_SCOPE: &str = "tools:access";

pub const HEALTH: Route = Route {
    method: "GET",
    path: "/health",
    function: "health",
    access: Access::Public,
    openapi: Operation {
        summary: "Liveness",
        tag: "meta",
        request: None,
        status: 200,
        response: Content::Json("Health"),
        query: &[],
        problems: &[],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AUTH_LOGIN: Route = Route {
    method: "POST",
    path: "/api/v1/auth/login",
    function: "auth-login",
    access: Access::Public,
    openapi: Operation {
        summary: "Log in with username and password (users with TOTP get an mfa_token for /auth/login/mfa)",
        tag: "auth",
        request: Some("LoginRequest"),
        status: 200,
        response: Content::Json("LoginResult"),
        query: &[],
        problems: &[400, 401, 413, 415, 422, 429, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "Query",
            "GetItem",
            "UpdateItem",
            "PutItem",
            "ConditionCheckItem",
            "TransactWriteItems",
        ],
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    // argon2id (19 MiB, t=2) is CPU work: Lambda gives CPU in proportion to memory, so 1024 MB
    // (~0.6 vCPU) verifies in ~70 ms where 128 MB (~1/14 vCPU) took ~0.6 s, for the same
    // GB-seconds.
    memory: 1024,
};

pub const AUTH_REFRESH: Route = Route {
    method: "POST",
    path: "/api/v1/auth/refresh",
    function: "auth-refresh",
    access: Access::Public,
    openapi: Operation {
        summary: "Exchange a refresh token for a new pair (single use; reuse revokes the session)",
        tag: "auth",
        request: Some("RefreshRequest"),
        status: 200,
        response: Content::Json("TokenPair"),
        query: &[],
        problems: &[400, 401, 413, 415, 422, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "UpdateItem",
            "PutItem",
            "ConditionCheckItem",
            "TransactWriteItems",
        ],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AUTH_ME: Route = Route {
    method: "GET",
    path: "/api/v1/auth/me",
    function: "auth-me",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "The caller, from the access token",
        tag: "auth",
        request: None,
        status: 200,
        response: Content::Json("Me"),
        query: &[],
        problems: &[401],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: true,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AUTH_ELEVATE: Route = Route {
    method: "POST",
    path: "/api/v1/auth/elevate",
    function: "auth-elevate",
    access: Access::Admin,
    openapi: Operation {
        summary:
            "Re-enter the password (and the TOTP code when enrolled) for a 5-minute elevated token",
        tag: "auth",
        request: Some("ElevateRequest"),
        status: 200,
        response: Content::Json("ElevatedToken"),
        query: &[],
        problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem", "PutItem", "TransactWriteItems"],
        index: false,
        kms: &["Decrypt"],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    // argon2id (19 MiB, t=2) is CPU work: Lambda gives CPU in proportion to memory, so 1024 MB
    // (~0.6 vCPU) verifies in ~70 ms where 128 MB (~1/14 vCPU) took ~0.6 s, for the same
    // GB-seconds.
    memory: 1024,
};

pub const AUTH_PASSWORD: Route = Route {
    method: "POST",
    path: "/api/v1/auth/password",
    function: "auth-password",
    access: Access::Person,
    openapi: Operation {
        summary: "Change your own password (revokes your other sessions; answers a new token pair)",
        tag: "auth",
        request: Some("ChangePassword"),
        status: 200,
        response: Content::Json("TokenPair"),
        query: &[],
        problems: &[400, 401, 409, 413, 415, 422, 429, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem", "PutItem", "TransactWriteItems"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    // argon2id hashing: see AUTH_LOGIN for why 1024 MB.
    memory: 1024,
};

pub const AUTH_LOGOUT: Route = Route {
    method: "POST",
    path: "/api/v1/auth/logout",
    function: "auth-logout",
    access: Access::Public,
    openapi: Operation {
        summary: "Log out: revoke the session of a refresh token",
        tag: "auth",
        request: Some("LogoutRequest"),
        status: 204,
        response: Content::None,
        query: &[],
        problems: &[400, 401, 413, 415, 422, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["UpdateItem", "PutItem", "TransactWriteItems"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AUTH_LOGIN_MFA: Route = Route {
    method: "POST",
    path: "/api/v1/auth/login/mfa",
    function: "auth-login-mfa",
    access: Access::Public,
    openapi: Operation {
        summary: "Finish a login with the mfa_token from /auth/login and a TOTP code",
        tag: "auth",
        request: Some("LoginMfaRequest"),
        status: 200,
        response: Content::Json("TokenPair"),
        query: &[],
        problems: &[400, 401, 413, 415, 422, 429, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "UpdateItem",
            "PutItem",
            "DeleteItem",
            "TransactWriteItems",
        ],
        index: false,
        kms: &["Decrypt"],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AUTH_MFA_TOTP_ENROL: Route = Route {
    method: "POST",
    path: "/api/v1/auth/mfa/totp",
    function: "auth-mfa-totp-enrol",
    access: Access::Person,
    openapi: Operation {
        summary: "Start TOTP enrolment with the current password: the secret and otpauth:// URI, shown once",
        tag: "auth",
        request: Some("TotpEnrol"),
        status: 200,
        response: Content::Json("TotpEnrolment"),
        query: &[],
        problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "UpdateItem",
            "PutItem",
            "ConditionCheckItem",
            "TransactWriteItems",
        ],
        index: false,
        kms: &["GenerateDataKey"],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    // argon2id verification of the current password: see AUTH_LOGIN for why 1024 MB.
    memory: 1024,
};

pub const AUTH_MFA_TOTP_CONFIRM: Route = Route {
    method: "POST",
    path: "/api/v1/auth/mfa/totp/confirm",
    function: "auth-mfa-totp-confirm",
    access: Access::Person,
    openapi: Operation {
        summary: "Activate TOTP with a first code; answers a new session authenticated with it",
        tag: "auth",
        request: Some("TotpCode"),
        status: 200,
        response: Content::Json("TotpConfirmed"),
        query: &[],
        problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem", "PutItem", "TransactWriteItems"],
        index: false,
        kms: &["Decrypt"],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AUTH_MFA_TOTP_REMOVE: Route = Route {
    method: "DELETE",
    path: "/api/v1/auth/mfa/totp",
    function: "auth-mfa-totp-remove",
    access: Access::Person,
    openapi: Operation {
        summary: "Remove TOTP with a current code (ends every session of the caller)",
        tag: "auth",
        request: Some("TotpCode"),
        status: 204,
        response: Content::None,
        query: &[],
        problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "UpdateItem",
            "PutItem",
            "DeleteItem",
            "TransactWriteItems",
        ],
        index: false,
        kms: &["Decrypt"],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const USERS_CREATE: Route = Route {
    method: "POST",
    path: "/api/v1/users",
    function: "users-create",
    access: Access::Admin,
    openapi: Operation {
        summary: "Create a user",
        tag: "users",
        request: Some("CreateUser"),
        status: 201,
        response: Content::Json("User"),
        query: &[],
        problems: &[400, 401, 403, 409, 413, 415, 422, 503],
        if_match: false,
        location: true,
    },
    iam: Iam {
        dynamodb: &["PutItem", "TransactWriteItems", "GetItem", "UpdateItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    // argon2id hashing: see AUTH_LOGIN for why 1024 MB.
    memory: 1024,
};

pub const USERS_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/users",
    function: "users-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "List users, sorted by username",
        tag: "users",
        request: None,
        status: 200,
        response: Content::Json("UserPage"),
        query: USER_LIST_PARAMS,
        problems: &[400, 401, 403, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["Query"],
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const USERS_GET: Route = Route {
    method: "GET",
    path: "/api/v1/users/{id}",
    function: "users-get",
    access: Access::Admin,
    openapi: Operation {
        summary: "One user",
        tag: "users",
        request: None,
        status: 200,
        response: Content::Json("User"),
        query: &[],
        problems: &[400, 401, 403, 404, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const USERS_UPDATE: Route = Route {
    method: "PATCH",
    path: "/api/v1/users/{id}",
    function: "users-update",
    access: Access::Admin,
    openapi: Operation {
        summary: "Change a user's display name or role (a role change revokes their sessions)",
        tag: "users",
        request: Some("UpdateUser"),
        status: 200,
        response: Content::Json("User"),
        query: &[],
        problems: &[400, 401, 403, 404, 409, 412, 413, 415, 422, 503],
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "Query",
            "PutItem",
            "ConditionCheckItem",
            "TransactWriteItems",
            "UpdateItem",
        ],
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const USERS_DISABLE: Route = Route {
    method: "POST",
    path: "/api/v1/users/{id}/disable",
    function: "users-disable",
    access: Access::Admin,
    openapi: Operation {
        summary: "Disable a user and revoke their sessions (idempotent)",
        tag: "users",
        request: None,
        status: 200,
        response: Content::Json("User"),
        query: &[],
        problems: &[400, 401, 403, 404, 409, 412, 503],
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "Query",
            "PutItem",
            "ConditionCheckItem",
            "TransactWriteItems",
            "UpdateItem",
        ],
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const USERS_ENABLE: Route = Route {
    method: "POST",
    path: "/api/v1/users/{id}/enable",
    function: "users-enable",
    access: Access::Admin,
    openapi: Operation {
        summary: "Enable a user (idempotent)",
        tag: "users",
        request: None,
        status: 200,
        response: Content::Json("User"),
        query: &[],
        problems: &[400, 401, 403, 404, 409, 412, 503],
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "PutItem", "TransactWriteItems", "UpdateItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const USERS_RESET_PASSWORD: Route = Route {
    method: "POST",
    path: "/api/v1/users/{id}/reset-password",
    function: "users-reset-password",
    access: Access::ElevatedAdmin,
    openapi: Operation {
        summary: "Set a user's password and revoke their sessions (elevated token)",
        tag: "users",
        request: Some("ResetPassword"),
        status: 200,
        response: Content::Json("User"),
        query: &[],
        problems: &[400, 401, 403, 404, 409, 413, 415, 422, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "PutItem", "TransactWriteItems", "UpdateItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    // argon2id hashing: see AUTH_LOGIN for why 1024 MB.
    memory: 1024,
};

pub const USERS_MFA_TOTP_RESET: Route = Route {
    method: "DELETE",
    path: "/api/v1/users/{id}/mfa/totp",
    function: "users-mfa-totp-reset",
    access: Access::ElevatedAdmin,
    openapi: Operation {
        summary: "Remove a user's TOTP authenticator (a lost phone) and revoke their sessions (elevated token)",
        tag: "users",
        request: None,
        status: 204,
        response: Content::None,
        query: &[],
        problems: &[401, 403, 404, 409, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "PutItem",
            "DeleteItem",
            "UpdateItem",
            "TransactWriteItems",
        ],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const TOOLS_CREATE: Route = Route {
    method: "POST",
    path: "/api/v1/tools",
    function: "tools-create",
    access: Access::Admin,
    openapi: Operation {
        summary: "Create a function tool, or a remote tool whose probe passes",
        tag: "tools",
        request: Some("CreateTool"),
        status: 201,
        response: Content::Json("Tool"),
        query: &[],
        problems: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
        if_match: false,
        location: true,
    },
    iam: Iam {
        dynamodb: &["UpdateItem", "PutItem", "TransactWriteItems", "GetItem"],
        index: false,
        kms: &["GenerateDataKey"],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 30,
    memory: 128,
};

pub const TOOLS_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/tools",
    function: "tools-list",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "List tools, sorted by name",
        tag: "tools",
        request: None,
        status: 200,
        response: Content::Json("ToolPage"),
        query: TOOL_LIST_PARAMS,
        problems: &[400, 401, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["Query", "GetItem", "UpdateItem"],
        index: true,
        kms: &[],
        secret: true,
        pepper: true,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const TOOLS_GET: Route = Route {
    method: "GET",
    path: "/api/v1/tools/{id}",
    function: "tools-get",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "One tool",
        tag: "tools",
        request: None,
        status: 200,
        response: Content::Json("Tool"),
        query: &[],
        problems: READ,
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: true,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const TOOLS_UPDATE: Route = Route {
    method: "PATCH",
    path: "/api/v1/tools/{id}",
    function: "tools-update",
    access: Access::Admin,
    openapi: Operation {
        summary: "Change a tool (connection changes re-probe; a failed probe changes nothing)",
        tag: "tools",
        request: Some("UpdateTool"),
        status: 200,
        response: Content::Json("Tool"),
        query: &[],
        problems: &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503],
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "UpdateItem",
            "PutItem",
            "DeleteItem",
            "TransactWriteItems",
        ],
        index: false,
        kms: &["GenerateDataKey", "Decrypt"],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 30,
    memory: 128,
};

pub const TOOLS_ACTIVATE: Route = Route {
    method: "POST",
    path: "/api/v1/tools/{id}/activate",
    function: "tools-activate",
    access: Access::Admin,
    openapi: Operation {
        summary: "Activate (idempotent)",
        tag: "tools",
        request: None,
        status: 200,
        response: Content::Json("Tool"),
        query: &[],
        problems: WRITE,
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "PutItem", "TransactWriteItems", "UpdateItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const TOOLS_DEACTIVATE: Route = Route {
    method: "POST",
    path: "/api/v1/tools/{id}/deactivate",
    function: "tools-deactivate",
    access: Access::Admin,
    openapi: Operation {
        summary: "Deactivate (idempotent)",
        tag: "tools",
        request: None,
        status: 200,
        response: Content::Json("Tool"),
        query: &[],
        problems: WRITE,
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "PutItem",
            "TransactWriteItems",
            "UpdateItem",
            "Query",
        ],
        // Query on GSI1: revoking the credentials issued from what it disables (the last
        // hour of decisions, filtered).
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const TOOLS_DELETE: Route = Route {
    method: "DELETE",
    path: "/api/v1/tools/{id}",
    function: "tools-delete",
    access: Access::ElevatedAdmin,
    openapi: Operation {
        summary: "Delete a tool and its probe history (elevated token)",
        tag: "tools",
        request: None,
        status: 204,
        response: Content::None,
        query: &[],
        problems: &[400, 401, 403, 404, 409, 412, 503],
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "Query",
            "DeleteItem",
            "PutItem",
            "TransactWriteItems",
            "BatchWriteItem",
            "GetItem",
            "UpdateItem",
        ],
        // Query on GSI1: revoking the credentials issued from what it disables (the last
        // hour of decisions, filtered).
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const TOOLS_TEST_CONNECTION: Route = Route {
    method: "POST",
    path: "/api/v1/tools/remote/test-connection",
    function: "tools-test-connection",
    access: Access::Admin,
    openapi: Operation {
        summary: "Probe a server without storing a tool",
        tag: "tools",
        request: Some("TestConnection"),
        status: 200,
        response: Content::Json("ProbeRecord"),
        query: &[],
        problems: &[400, 401, 403, 413, 415, 422, 429, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["UpdateItem", "PutItem", "GetItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 30,
    memory: 128,
};

pub const TOOLS_REPROBE: Route = Route {
    method: "POST",
    path: "/api/v1/tools/{id}/reprobe",
    function: "tools-reprobe",
    access: Access::Admin,
    openapi: Operation {
        summary: "Probe a remote tool now and record the result",
        tag: "tools",
        request: None,
        status: 200,
        response: Content::Json("Tool"),
        query: &[],
        problems: &[400, 401, 403, 404, 409, 412, 429, 503],
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem", "PutItem", "TransactWriteItems"],
        index: false,
        kms: &["Decrypt"],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 30,
    memory: 128,
};

pub const TOOLS_PROBES: Route = Route {
    method: "GET",
    path: "/api/v1/tools/{id}/probes",
    function: "tools-probes",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "A tool's probe history, newest first",
        tag: "tools",
        request: None,
        status: 200,
        response: Content::Json("ProbePage"),
        query: PAGE_PARAMS,
        problems: READ,
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["Query", "GetItem", "UpdateItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: true,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const TOOLS_APPROVE_TOOLS: Route = Route {
    method: "POST",
    path: "/api/v1/tools/{id}/approve-tools",
    function: "tools-approve-tools",
    access: Access::Admin,
    openapi: Operation {
        summary:
            "Accept the tool list a remote tool's server lists now and clear its drift (idempotent)",
        tag: "tools",
        request: None,
        status: 200,
        response: Content::Json("Tool"),
        query: &[],
        problems: WRITE,
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "PutItem", "TransactWriteItems", "UpdateItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AUDIT_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/audit-events",
    function: "audit-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "Audit events, newest first",
        tag: "audit",
        request: None,
        status: 200,
        response: Content::Json("AuditPage"),
        query: AUDIT_PARAMS,
        problems: &[400, 401, 403, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["Query"],
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const OPENAPI: Route = Route {
    method: "GET",
    path: "/openapi.json",
    function: "openapi",
    access: Access::Public,
    openapi: Operation {
        summary: "This document",
        tag: "meta",
        request: None,
        status: 200,
        response: Content::AnyJson,
        query: &[],
        problems: &[],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const DOCS: Route = Route {
    method: "GET",
    path: "/docs",
    function: "docs",
    access: Access::Public,
    openapi: Operation {
        summary: "Interactive API documentation (HTML)",
        tag: "meta",
        request: None,
        status: 200,
        response: Content::Html,
        query: &[],
        problems: &[],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

/// Every HTTP route, in the order the documents list them.
pub const AGENTS_CREATE: Route = Route {
    method: "POST",
    path: "/api/v1/agents",
    function: "agents-create",
    access: Access::Admin,
    openapi: Operation {
        summary: "Register an agent",
        tag: "agents",
        request: Some("CreateAgent"),
        status: 201,
        response: Content::Json("Agent"),
        query: &[],
        problems: &[400, 401, 403, 409, 413, 415, 422, 503],
        if_match: false,
        location: true,
    },
    iam: Iam {
        dynamodb: &["PutItem", "ConditionCheckItem", "TransactWriteItems"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AGENTS_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/agents",
    function: "agents-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "List agents, sorted by name",
        tag: "agents",
        request: None,
        status: 200,
        response: Content::Json("AgentPage"),
        query: AGENT_LIST_PARAMS,
        problems: &[400, 401, 403, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["Query"],
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AGENTS_GET: Route = Route {
    method: "GET",
    path: "/api/v1/agents/{id}",
    function: "agents-get",
    access: Access::Admin,
    openapi: Operation {
        summary: "Get an agent",
        tag: "agents",
        request: None,
        status: 200,
        response: Content::Json("Agent"),
        query: &[],
        problems: &[401, 403, 404, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AGENTS_UPDATE: Route = Route {
    method: "PATCH",
    path: "/api/v1/agents/{id}",
    function: "agents-update",
    access: Access::Admin,
    openapi: Operation {
        summary: "Change an agent's description, owner, groups or tags",
        tag: "agents",
        request: Some("UpdateAgent"),
        status: 200,
        response: Content::Json("Agent"),
        query: &[],
        problems: &[400, 401, 403, 404, 409, 412, 413, 415, 422, 503],
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "PutItem",
            "UpdateItem",
            "ConditionCheckItem",
            "TransactWriteItems",
        ],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AGENTS_DISABLE: Route = Route {
    method: "POST",
    path: "/api/v1/agents/{id}/disable",
    function: "agents-disable",
    access: Access::Admin,
    openapi: Operation {
        summary: "Disable an agent: its keys stop working at once",
        tag: "agents",
        request: None,
        status: 200,
        response: Content::Json("Agent"),
        query: &[],
        problems: &[401, 403, 404, 409, 412, 503],
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "PutItem",
            "UpdateItem",
            "ConditionCheckItem",
            "TransactWriteItems",
            "Query",
        ],
        // Query on GSI1: revoking the credentials issued from what it disables (the last
        // hour of decisions, filtered).
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AGENTS_ENABLE: Route = Route {
    method: "POST",
    path: "/api/v1/agents/{id}/enable",
    function: "agents-enable",
    access: Access::Admin,
    openapi: Operation {
        summary: "Enable an agent",
        tag: "agents",
        request: None,
        status: 200,
        response: Content::Json("Agent"),
        query: &[],
        problems: &[401, 403, 404, 409, 412, 503],
        if_match: true,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "PutItem",
            "UpdateItem",
            "ConditionCheckItem",
            "TransactWriteItems",
        ],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AGENT_KEYS_CREATE: Route = Route {
    method: "POST",
    path: "/api/v1/agents/{id}/keys",
    function: "agent-keys-create",
    access: Access::Admin,
    openapi: Operation {
        summary: "Issue an API key (the secret is answered once)",
        tag: "agents",
        request: Some("CreateApiKey"),
        status: 201,
        response: Content::Json("NewApiKey"),
        query: &[],
        problems: &[400, 401, 403, 404, 409, 413, 415, 422, 503],
        if_match: false,
        location: true,
    },
    iam: Iam {
        dynamodb: &["GetItem", "PutItem", "TransactWriteItems"],
        index: false,
        kms: &[],
        secret: true,
        pepper: true,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AGENT_KEYS_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/agents/{id}/keys",
    function: "agent-keys-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "List an agent's API keys",
        tag: "agents",
        request: None,
        status: 200,
        response: Content::Json("ApiKeyPage"),
        query: PAGE_PARAMS,
        problems: &[400, 401, 403, 404, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "Query"],
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const AGENT_KEYS_REVOKE: Route = Route {
    method: "DELETE",
    path: "/api/v1/agents/{id}/keys/{key_id}",
    function: "agent-keys-revoke",
    access: Access::Admin,
    openapi: Operation {
        summary: "Revoke an API key",
        tag: "agents",
        request: None,
        status: 204,
        response: Content::None,
        query: &[],
        problems: &[401, 403, 404, 409, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "PutItem",
            "UpdateItem",
            "TransactWriteItems",
            "Query",
        ],
        // Query on GSI1: revoking the credentials issued from what it disables (the last
        // hour of decisions, filtered).
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const OAUTH_TOKEN: Route = Route {
    method: "POST",
    path: "/api/v1/oauth/token",
    function: "oauth-token",
    access: Access::Public,
    openapi: Operation {
        summary: "OAuth 2.0 client credentials: an agent's access token",
        tag: "oauth",
        request: Some("TokenRequestForm"),
        status: 200,
        response: Content::Json("OAuthToken"),
        query: &[],
        problems: &[],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem", "PutItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: true,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const OAUTH_METADATA: Route = Route {
    method: "GET",
    path: "/.well-known/oauth-authorization-server",
    function: "oauth-metadata",
    access: Access::Public,
    openapi: Operation {
        summary: "OAuth 2.0 authorization server metadata (RFC 8414)",
        tag: "oauth",
        request: None,
        status: 200,
        response: Content::Json("OAuthMetadata"),
        query: &[],
        problems: &[],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const JWKS: Route = Route {
    method: "GET",
    path: "/.well-known/jwks.json",
    function: "jwks",
    access: Access::Public,
    openapi: Operation {
        summary: "The public keys that verify tool credentials (RFC 7517)",
        tag: "credentials",
        request: None,
        status: 200,
        response: Content::Json("Jwks"),
        query: &[],
        problems: &[503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &["GetPublicKey"],
    },
    timeout: 15,
    memory: 128,
};

pub const POLICIES_CREATE: Route = Route {
    method: "POST",
    path: "/api/v1/policies",
    function: "policies-create",
    access: Access::Admin,
    openapi: Operation {
        summary: "Store a policy version (JSON, or YAML with a YAML content type)",
        tag: "policies",
        request: Some("PolicyDocument"),
        // 201 for a new version; 200 when the same canonical document was stored before
        // (documented beside it in openapi.rs).
        status: 201,
        response: Content::Json("PolicyVersion"),
        query: &[],
        problems: &[400, 401, 403, 409, 413, 415, 422, 503],
        if_match: false,
        location: true,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem", "PutItem", "TransactWriteItems"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const POLICIES_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/policies",
    function: "policies-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "List policy versions, newest first",
        tag: "policies",
        request: None,
        status: 200,
        response: Content::Json("PolicyVersionPage"),
        query: PAGE_PARAMS,
        problems: &[400, 401, 403, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "Query"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const POLICIES_GET: Route = Route {
    method: "GET",
    path: "/api/v1/policies/{version}",
    function: "policies-get",
    access: Access::Admin,
    openapi: Operation {
        summary: "Get a policy version with its document",
        tag: "policies",
        request: None,
        status: 200,
        response: Content::Json("PolicyVersion"),
        query: &[],
        problems: &[401, 403, 404, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const POLICIES_ACTIVATE: Route = Route {
    method: "POST",
    path: "/api/v1/policies/{version}/activate",
    function: "policies-activate",
    access: Access::ElevatedAdmin,
    openapi: Operation {
        summary: "Make a policy version the active one",
        tag: "policies",
        request: None,
        status: 200,
        response: Content::Json("PolicyVersion"),
        query: &[],
        problems: &[401, 403, 404, 409, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "UpdateItem",
            "ConditionCheckItem",
            "PutItem",
            "TransactWriteItems",
        ],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const POLICIES_SIMULATE: Route = Route {
    method: "POST",
    path: "/api/v1/policies/simulate",
    function: "policies-simulate",
    access: Access::Admin,
    openapi: Operation {
        summary: "Replay recent decisions against a candidate policy",
        tag: "policies",
        request: Some("Simulation"),
        status: 200,
        response: Content::Json("SimulationResult"),
        query: &[],
        problems: &[400, 401, 403, 404, 413, 415, 422, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "Query"],
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 512,
};

pub const TOOLS_ACCESS: Route = Route {
    method: "POST",
    path: "/api/v1/tools/{id}/access",
    function: "tools-access",
    access: Access::Scoped(TOOLS_ACCESS_SCOPE),
    openapi: Operation {
        summary: "Ask for access to a tool: a policy decision and, when allowed, a credential",
        tag: "credentials",
        request: Some("AccessRequest"),
        status: 200,
        response: Content::Json("AccessGranted"),
        query: &[],
        problems: &[400, 401, 403, 404, 409, 413, 415, 422, 429, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem", "PutItem", "TransactWriteItems"],
        index: false,
        kms: &[],
        secret: true,
        pepper: true,
        signing: &["Sign", "GetPublicKey"],
    },
    timeout: 15,
    memory: 128,
};

pub const DECISIONS_LIST: Route = Route {
    method: "GET",
    path: "/api/v1/decisions",
    function: "decisions-list",
    access: Access::Admin,
    openapi: Operation {
        summary: "List access decisions, newest first",
        tag: "credentials",
        request: None,
        status: 200,
        response: Content::Json("DecisionPage"),
        query: DECISION_PARAMS,
        problems: &[400, 401, 403, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["Query"],
        index: true,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const DECISIONS_GET: Route = Route {
    method: "GET",
    path: "/api/v1/decisions/{id}",
    function: "decisions-get",
    access: Access::Admin,
    openapi: Operation {
        summary: "Get an access decision",
        tag: "credentials",
        request: None,
        status: 200,
        response: Content::Json("Decision"),
        query: &[],
        problems: &[401, 403, 404, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const CREDENTIALS_GET: Route = Route {
    method: "GET",
    path: "/api/v1/credentials/{jti}",
    function: "credentials-get",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "The state of a credential (active, expired, revoked), for tool servers that check online",
        tag: "credentials",
        request: None,
        status: 200,
        response: Content::Json("CredentialStatus"),
        query: &[],
        problems: &[401, 403, 404, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem"],
        index: false,
        kms: &[],
        secret: true,
        pepper: true,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const CREDENTIALS_REVOKE: Route = Route {
    method: "POST",
    path: "/api/v1/credentials/{jti}/revoke",
    function: "credentials-revoke",
    access: Access::Admin,
    openapi: Operation {
        summary: "Revoke a credential",
        tag: "credentials",
        request: None,
        status: 200,
        response: Content::Json("CredentialStatus"),
        query: &[],
        problems: &[401, 403, 404, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &["GetItem", "UpdateItem", "PutItem", "TransactWriteItems"],
        index: false,
        kms: &[],
        secret: true,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const MCP: Route = Route {
    method: "POST",
    path: "/mcp",
    function: "mcp",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "The catalog as an MCP server (streamable HTTP, JSON answers; revisions 2026-07-28 and 2025-11-25)",
        tag: "mcp",
        request: Some("JsonRpcMessage"),
        status: 200,
        response: Content::Json("JsonRpcResponse"),
        query: &[],
        problems: &[401, 403, 415, 503],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[
            "GetItem",
            "Query",
            "UpdateItem",
            "PutItem",
            "TransactWriteItems",
        ],
        index: true,
        kms: &[],
        secret: true,
        pepper: true,
        signing: &["Sign", "GetPublicKey"],
    },
    timeout: 15,
    memory: 256,
};

pub const OAUTH_PROTECTED_RESOURCE: Route = Route {
    method: "GET",
    path: "/.well-known/oauth-protected-resource",
    function: "oauth-protected-resource",
    access: Access::Public,
    openapi: Operation {
        summary: "OAuth 2.0 protected resource metadata of the MCP endpoint (RFC 9728)",
        tag: "mcp",
        request: None,
        status: 200,
        response: Content::Json("ProtectedResourceMetadata"),
        query: &[],
        problems: &[],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

const REGISTRY_LIST_PARAMS: &[Param] = &[
    CURSOR,
    LIMIT,
    Param {
        name: "search",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 200}"#,
        description: "Case-insensitive text in the server's name, title or description (a full server name searches by its last part).",
    },
    Param {
        name: "updated_since",
        schema: r#"{"type": "string", "format": "date-time"}"#,
        description: "Only servers changed at or after this RFC 3339 time.",
    },
    Param {
        name: "version",
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 255}"#,
        description: "latest (every server: each has one version), or an exact version.",
    },
    INCLUDE_DELETED,
];
const INCLUDE_DELETED: Param = Param {
    name: "include_deleted",
    schema: r#"{"type": "string", "enum": ["true", "false"]}"#,
    description: "Accepted for compatibility: deleted servers are never served.",
};
/// What the registry's read routes may touch: the catalog index (and the policy, for agents).
const REGISTRY_IAM: Iam = Iam {
    dynamodb: &["Query", "GetItem", "UpdateItem"],
    index: true,
    kms: &[],
    secret: true,
    pepper: true,
    signing: &[],
};
const PREFLIGHT_IAM: Iam = Iam {
    dynamodb: &[],
    index: false,
    kms: &[],
    secret: false,
    pepper: false,
    signing: &[],
};
const PREFLIGHT_OPERATION: Operation = Operation {
    summary: "CORS preflight for MCP Registry API clients in browsers",
    tag: "registry",
    request: None,
    status: 204,
    response: Content::None,
    query: &[],
    problems: &[],
    if_match: false,
    location: false,
};

/// Whether answers on `route` carry `Access-Control-Allow-Origin: *`: the MCP Registry API,
/// which browser clients read with bearer tokens (never cookies).
pub fn cors(route: &Route) -> bool {
    route.path.starts_with("/v0.1/")
}

pub const REGISTRY_SERVERS_LIST: Route = Route {
    method: "GET",
    path: "/v0.1/servers",
    function: "registry-servers-list",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "MCP Registry API: the active remote tools as server.json entries",
        tag: "registry",
        request: None,
        status: 200,
        response: Content::Json("RegistryServerList"),
        query: REGISTRY_LIST_PARAMS,
        problems: &[400, 401, 503],
        if_match: false,
        location: false,
    },
    iam: REGISTRY_IAM,
    timeout: 15,
    memory: 128,
};

pub const REGISTRY_SERVER_VERSIONS: Route = Route {
    method: "GET",
    path: "/v0.1/servers/{name}/versions",
    function: "registry-server-versions",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "MCP Registry API: a server's versions (its one current version)",
        tag: "registry",
        request: None,
        status: 200,
        response: Content::Json("RegistryServerList"),
        query: &[INCLUDE_DELETED],
        problems: READ,
        if_match: false,
        location: false,
    },
    iam: REGISTRY_IAM,
    timeout: 15,
    memory: 128,
};

pub const REGISTRY_SERVER_VERSION: Route = Route {
    method: "GET",
    path: "/v0.1/servers/{name}/versions/{version}",
    function: "registry-server-version",
    access: Access::AnyPrincipal,
    openapi: Operation {
        summary: "MCP Registry API: one version of a server (or latest)",
        tag: "registry",
        request: None,
        status: 200,
        response: Content::Json("RegistryServerResponse"),
        query: &[INCLUDE_DELETED],
        problems: READ,
        if_match: false,
        location: false,
    },
    iam: REGISTRY_IAM,
    timeout: 15,
    memory: 128,
};

pub const REGISTRY_SERVERS_LIST_PREFLIGHT: Route = Route {
    method: "OPTIONS",
    path: "/v0.1/servers",
    function: "registry-servers-list-preflight",
    access: Access::Public,
    openapi: PREFLIGHT_OPERATION,
    iam: PREFLIGHT_IAM,
    timeout: 15,
    memory: 128,
};

pub const REGISTRY_SERVER_VERSIONS_PREFLIGHT: Route = Route {
    method: "OPTIONS",
    path: "/v0.1/servers/{name}/versions",
    function: "registry-server-versions-preflight",
    access: Access::Public,
    openapi: PREFLIGHT_OPERATION,
    iam: PREFLIGHT_IAM,
    timeout: 15,
    memory: 128,
};

pub const REGISTRY_SERVER_VERSION_PREFLIGHT: Route = Route {
    method: "OPTIONS",
    path: "/v0.1/servers/{name}/versions/{version}",
    function: "registry-server-version-preflight",
    access: Access::Public,
    openapi: PREFLIGHT_OPERATION,
    iam: PREFLIGHT_IAM,
    timeout: 15,
    memory: 128,
};

pub const ROUTES: &[&Route] = &[
    &HEALTH,
    &AUTH_LOGIN,
    &AUTH_REFRESH,
    &AUTH_ME,
    &AUTH_ELEVATE,
    &AUTH_PASSWORD,
    &AUTH_LOGOUT,
    &AUTH_LOGIN_MFA,
    &AUTH_MFA_TOTP_ENROL,
    &AUTH_MFA_TOTP_CONFIRM,
    &AUTH_MFA_TOTP_REMOVE,
    &USERS_CREATE,
    &USERS_LIST,
    &USERS_GET,
    &USERS_UPDATE,
    &USERS_DISABLE,
    &USERS_ENABLE,
    &USERS_RESET_PASSWORD,
    &USERS_MFA_TOTP_RESET,
    &TOOLS_CREATE,
    &TOOLS_LIST,
    &TOOLS_GET,
    &TOOLS_UPDATE,
    &TOOLS_ACTIVATE,
    &TOOLS_DEACTIVATE,
    &TOOLS_DELETE,
    &TOOLS_TEST_CONNECTION,
    &TOOLS_REPROBE,
    &TOOLS_PROBES,
    &TOOLS_APPROVE_TOOLS,
    &AGENTS_CREATE,
    &AGENTS_LIST,
    &AGENTS_GET,
    &AGENTS_UPDATE,
    &AGENTS_DISABLE,
    &AGENTS_ENABLE,
    &AGENT_KEYS_CREATE,
    &AGENT_KEYS_LIST,
    &AGENT_KEYS_REVOKE,
    &OAUTH_TOKEN,
    &OAUTH_METADATA,
    &JWKS,
    &POLICIES_CREATE,
    &POLICIES_LIST,
    &POLICIES_SIMULATE,
    &POLICIES_GET,
    &POLICIES_ACTIVATE,
    &TOOLS_ACCESS,
    &DECISIONS_LIST,
    &DECISIONS_GET,
    &CREDENTIALS_GET,
    &CREDENTIALS_REVOKE,
    &AUDIT_LIST,
    &MCP,
    &OAUTH_PROTECTED_RESOURCE,
    &OPENAPI,
    &DOCS,
    &REGISTRY_SERVERS_LIST,
    &REGISTRY_SERVER_VERSIONS,
    &REGISTRY_SERVER_VERSION,
    &REGISTRY_SERVERS_LIST_PREFLIGHT,
    &REGISTRY_SERVER_VERSIONS_PREFLIGHT,
    &REGISTRY_SERVER_VERSION_PREFLIGHT,
    &REDOC,
    &DOCS_ASSET,
    &CONSOLE,
    &CONSOLE_ASSET,
];

/// The scheduled re-prober: a function with no route.
pub const REPROBE: Function = Function {
    name: "reprobe",
    iam: Iam {
        dynamodb: &[
            "Query",
            "GetItem",
            "UpdateItem",
            "PutItem",
            "TransactWriteItems",
        ],
        index: true,
        kms: &["Decrypt"],
        secret: false,
        pepper: false,
        signing: &[],
    },
    timeout: 300,
    // Lambda's CPU grows with memory, and a pass is CPU-bound past a few dozen probes in
    // flight (~2 ms of CPU a probe): 1024 MB (~0.6 vCPU) keeps one invocation above 200
    // probes/s for about what 256 MB costs per probe, since GB-seconds scale back.
    memory: 1024,
};

pub const REDOC: Route = Route {
    method: "GET",
    path: "/redoc",
    function: "redoc",
    access: Access::Public,
    openapi: Operation {
        summary: "API documentation in Redoc (HTML)",
        tag: "meta",
        request: None,
        status: 200,
        response: Content::Html,
        query: &[],
        problems: &[],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const DOCS_ASSET: Route = Route {
    method: "GET",
    path: "/docs/assets/{asset}",
    function: "docs-asset",
    access: Access::Public,
    openapi: Operation {
        summary: "A script or style sheet of the API documentation pages",
        tag: "meta",
        request: None,
        status: 200,
        response: Content::Asset,
        query: &[],
        problems: &[404],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const CONSOLE: Route = Route {
    method: "GET",
    path: "/console",
    function: "console",
    access: Access::Public,
    openapi: Operation {
        summary: "The admin console, a single-page app (HTML)",
        tag: "meta",
        request: None,
        status: 200,
        response: Content::Html,
        query: &[],
        problems: &[],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

pub const CONSOLE_ASSET: Route = Route {
    method: "GET",
    path: "/console/assets/{asset}",
    function: "console-asset",
    access: Access::Public,
    openapi: Operation {
        summary: "A content-hashed script or style sheet of the admin console",
        tag: "meta",
        request: None,
        status: 200,
        response: Content::Asset,
        query: &[],
        problems: &[404],
        if_match: false,
        location: false,
    },
    iam: Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &[],
    },
    timeout: 15,
    memory: 128,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// An agent's API key is checked with a read of the key, an occasional `last_used_at`
    /// stamp and the pepper: every route agents may call needs those permissions.
    #[test]
    fn routes_agents_may_call_can_check_api_keys() {
        for r in ROUTES
            .iter()
            .filter(|r| matches!(r.access, Access::AnyPrincipal | Access::Scoped(_)))
        {
            assert!(r.iam.pepper, "{} must read the pepper", r.function);
            for action in ["GetItem", "UpdateItem"] {
                assert!(
                    r.iam.dynamodb.contains(&action),
                    "{} needs dynamodb:{action}",
                    r.function
                );
            }
            assert!(r.iam.secret, "{} verifies tokens", r.function);
        }
    }
}
