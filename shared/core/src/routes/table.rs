//! What a route row is: every per-route fact — method, path, function, who may call it, how it is
//! documented, what it may touch in AWS, its timeout and memory — and the defaults a row leaves
//! out. Each row lives in its endpoint's file beside its handler (`routes/tools/get.rs` holds
//! `TOOLS_GET`); `routes::ALL` lists them. The dispatcher, the OpenAPI document, template.yaml,
//! the Terraform inputs and the Lambda binaries are all rendered from the rows.
//!
//! A leaf module: it imports nothing from the crate.

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
    /// No AWS permissions: what a row's `iam` adds to.
    pub const NONE: Iam = Iam {
        dynamodb: &[],
        index: false,
        kms: &[],
        secret: false,
        pepper: false,
        signing: &[],
    };

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

impl Operation {
    /// What a row's operation does not say: no request body, a 200 with no body, no query, no
    /// `If-Match` or `Location`, no problems besides 500. `summary` and `tag` are always written.
    pub const DEFAULT: Operation = Operation {
        summary: "",
        tag: "",
        request: None,
        status: 200,
        response: Content::None,
        query: &[],
        problems: &[],
        if_match: false,
        location: false,
    };
}

impl Route {
    /// What a row does not say: 15 s, 128 MB, no AWS permissions. A row always writes its method,
    /// path, function, access and operation (`routes::tests::every_row_names_itself` holds it to
    /// that).
    pub const DEFAULT: Route = Route {
        method: "",
        path: "",
        function: "",
        access: Access::Public,
        openapi: Operation::DEFAULT,
        iam: Iam::NONE,
        timeout: 15,
        memory: 128,
    };

    /// DynamoDB actions the dispatcher needs on top of the row's own `iam.dynamodb`.
    pub const fn dispatcher_dynamodb(&self) -> &'static [&'static str] {
        match self.access {
            Access::Public => &[],
            _ => REFUSAL_AUDIT,
        }
    }

    /// The route as a deployed function.
    /// What the function may touch: the row's `iam`, plus what its access level makes the
    /// dispatcher read before any handler — the JWT key for every route with a principal, and the
    /// API-key pepper for every route an agent may call with a key (`auth::agent_keys`). A row
    /// writes only what its handler needs beyond that. Read this, never `iam` alone.
    pub const fn permissions(&self) -> Iam {
        let mut iam = self.iam;
        iam.secret |= !matches!(self.access, Access::Public);
        iam.pepper |= matches!(self.access, Access::AnyPrincipal | Access::Scoped(_));
        iam
    }

    pub const fn as_function(&self) -> Function {
        Function {
            name: self.function,
            iam: self.permissions(),
            timeout: self.timeout,
            memory: self.memory,
        }
    }
}

/// DynamoDB action sets many rows share.
/// Read an item, change it (or another) with its audit event in one transaction.
pub const AUDITED_WRITE: &[&str] = &["GetItem", "UpdateItem", "PutItem", "TransactWriteItems"];
/// `AUDITED_WRITE`, with a condition on an item the transaction does not change (a guard).
pub const GUARDED_WRITE: &[&str] = &[
    "GetItem",
    "UpdateItem",
    "PutItem",
    "ConditionCheckItem",
    "TransactWriteItems",
];
/// `GUARDED_WRITE`, with a query (of what the change revokes: sessions, credentials).
pub const GUARDED_WRITE_QUERY: &[&str] = &[
    "GetItem",
    "UpdateItem",
    "PutItem",
    "ConditionCheckItem",
    "TransactWriteItems",
    "Query",
];
/// `AUDITED_WRITE`, deleting items too.
pub const AUDITED_DELETE: &[&str] = &[
    "GetItem",
    "UpdateItem",
    "PutItem",
    "DeleteItem",
    "TransactWriteItems",
];

pub const READ: &[u16] = &[400, 401, 404, 503];
pub const WRITE: &[u16] = &[400, 401, 403, 404, 409, 412, 413, 415, 422, 503];

pub const LIMIT: Param = Param {
    name: "limit",
    schema: r#"{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}"#,
    description: "Page size.",
};
pub const CURSOR: Param = Param {
    name: "cursor",
    schema: r#"{"type": "string", "minLength": 1, "maxLength": 2048}"#,
    description: "Opaque cursor from a previous page's next_cursor.",
};
/// A filter by an identifier (a user's, agent's, tool's or event's id).
pub const fn id_filter(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        schema: r#"{"type": "string", "minLength": 1, "maxLength": 128}"#,
        description,
    }
}

/// A yes-or-no filter (`true` / `false`).
pub const fn flag_filter(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        schema: r#"{"type": "string", "enum": ["true", "false"]}"#,
        description,
    }
}

pub const FROM_TIMESTAMP: Param = Param {
    name: "from_timestamp",
    schema: r#"{"type": "string", "format": "date-time"}"#,
    description: "Inclusive lower bound (RFC 3339).",
};
pub const TO_TIMESTAMP: Param = Param {
    name: "to_timestamp",
    schema: r#"{"type": "string", "format": "date-time"}"#,
    description: "Inclusive upper bound (RFC 3339).",
};
pub const PAGE_PARAMS: &[Param] = &[LIMIT, CURSOR];
/// The scope an agent needs to ask for tool access (a leaf module: spelled here, checked equal
/// to `domain::agent::TOOLS_ACCESS` by a unit test).
pub const TOOLS_ACCESS_SCOPE: &str = "tools:access";

/// Whether answers on `route` carry `Access-Control-Allow-Origin: *`: the MCP Registry API,
/// which browser clients read with bearer tokens (never cookies).
pub fn cors(route: &Route) -> bool {
    route.path.starts_with("/v0.1/")
}

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

/// Where the dispatcher reads a route's row from. The local server passes the row it looked up
/// (`&'static Route`); a Lambda binary passes a type whose row is a compile-time constant
/// (`lambda::Row`), so every branch on the row in the dispatcher (`routes::dispatch`) folds when the binary is compiled and the
/// authentication, idempotency and audit code its route never runs is not linked into it.
///
/// The rule that keeps this true: code that branches on the row only *picks* a future (boxed, so
/// the one that stays is reached through its own vtable) and awaits it afterwards. An `.await`
/// inside a branch would keep that branch's code in the `async` state machine even when the
/// branch can never be taken.
pub trait RowOf: Copy + Send + Sync + 'static {
    fn route(self) -> &'static Route;
}

impl RowOf for &'static Route {
    fn route(self) -> &'static Route {
        self
    }
}
