//! Audit events: who did what to what, when, from where, and how it ended.

use serde::{Deserialize, Serialize};

/// Every audited action.
pub mod action {
    pub const LOGIN: &str = "auth.login";
    /// A write an authenticated caller attempted and was refused.
    pub const REQUEST_FAILED: &str = "request.failed";
    pub const LOGIN_RATE_LIMITED: &str = "auth.login.rate_limited";
    pub const REFRESH: &str = "auth.refresh";
    pub const REFRESH_REUSE: &str = "auth.refresh_reuse";
    pub const ELEVATE: &str = "auth.elevate";
    /// A password was right for a user with TOTP: an MFA token was handed out.
    pub const LOGIN_MFA_CHALLENGE: &str = "auth.login.mfa_challenge";
    /// A login without MFA from a (source IP, user agent) pair never seen for the user.
    pub const LOGIN_NEW_CONTEXT: &str = "auth.login.new_context";
    pub const MFA_ENROL: &str = "auth.mfa.enrol";
    pub const MFA_CONFIRM: &str = "auth.mfa.confirm";
    pub const MFA_REMOVE: &str = "auth.mfa.remove";
    /// A wrong, malformed-for-the-account or replayed TOTP code.
    pub const MFA_FAILED: &str = "auth.mfa.failed";
    pub const USER_CREATE: &str = "user.create";
    pub const USER_UPDATE: &str = "user.update";
    pub const USER_DISABLE: &str = "user.disable";
    pub const USER_ENABLE: &str = "user.enable";
    pub const USER_PASSWORD_RESET: &str = "user.password_reset";
    pub const USER_MFA_RESET: &str = "user.mfa_reset";
    pub const PASSWORD_CHANGE: &str = "auth.password_change";
    pub const LOGOUT: &str = "auth.logout";
    pub const AGENT_CREATE: &str = "agent.create";
    pub const AGENT_UPDATE: &str = "agent.update";
    pub const AGENT_DISABLE: &str = "agent.disable";
    pub const AGENT_ENABLE: &str = "agent.enable";
    pub const AGENT_KEY_CREATE: &str = "agent.key.create";
    pub const AGENT_KEY_REVOKE: &str = "agent.key.revoke";
    /// An OAuth access token issued (or refused) at `/oauth/token`.
    pub const TOKEN: &str = "auth.token";
    pub const POLICY_CREATE: &str = "policy.create";
    pub const POLICY_ACTIVATE: &str = "policy.activate";
    /// An access request decided (allow or deny), with its decision record.
    pub const ACCESS_DECISION: &str = "access.decision";
    pub const CREDENTIAL_REVOKE: &str = "credential.revoke";
    pub const TOOL_CREATE: &str = "tool.create";
    pub const TOOL_UPDATE: &str = "tool.update";
    pub const TOOL_ACTIVATE: &str = "tool.activate";
    pub const TOOL_DEACTIVATE: &str = "tool.deactivate";
    pub const TOOL_DELETE: &str = "tool.delete";
    pub const TOOL_TEST_CONNECTION: &str = "tool.remote.test_connection";
    pub const TOOL_REPROBE: &str = "tool.remote.reprobe";
    /// A probe found a tool list other than the approved one (with the probe's result).
    pub const TOOL_DRIFT: &str = "tool.remote.drift";
    /// An admin accepted the tool list found.
    pub const TOOL_APPROVE_TOOLS: &str = "tool.remote.approve_tools";
}

/// How an audited action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            _ => None,
        }
    }
}

/// An audit event as stored and as returned by `GET /audit-events`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: String,
    pub timestamp: String,
    pub action: String,
    pub outcome: Outcome,
    /// `None` for anonymous failures; `system` for the scheduled re-prober.
    pub actor_user_id: Option<String>,
    pub actor_username: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// Free-form, secret-free details (header names, never values).
    pub details: serde_json::Value,
}

/// What an event records in place of an identifier a client sent before it authenticated that
/// is not shaped like one (see [`unauthenticated_identifier`]).
pub const NOT_RECORDED: &str = "[not recorded: not shaped like an identifier]";

/// What an audit event may keep of an identifier a client sent before authenticating (an OAuth
/// `client_id`, a login's username): the value when `safe` (the caller checked it has the
/// identifier's shape and holds nothing key-like), else [`NOT_RECORDED`]. These fields are
/// where secrets land by mistake — a key sent as the client id, a password typed as the
/// username — and the audit log keeps everything for good.
pub fn unauthenticated_identifier(raw: &str, safe: bool) -> serde_json::Value {
    if safe {
        serde_json::Value::String(raw.to_owned())
    } else {
        serde_json::Value::String(NOT_RECORDED.to_owned())
    }
}

/// Where a request came from, carried into its audit event.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub source_ip: String,
    pub user_agent: String,
    pub request_id: String,
}

/// Who acted.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub user_id: Option<String>,
    pub username: Option<String>,
}

impl AuditEvent {
    /// A new event stamped now.
    pub fn new(action: &str, outcome: Outcome, actor: &Actor, meta: &RequestMeta) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            timestamp: crate::time::stamp(crate::time::now()),
            action: action.to_owned(),
            outcome,
            actor_user_id: actor.user_id.clone(),
            actor_username: actor.username.clone(),
            target_type: None,
            target_id: None,
            source_ip: Some(meta.source_ip.clone()).filter(|s| !s.is_empty()),
            user_agent: Some(meta.user_agent.chars().take(512).collect::<String>())
                .filter(|s| !s.is_empty()),
            request_id: Some(meta.request_id.clone()).filter(|s| !s.is_empty()),
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn target(mut self, kind: &str, id: &str) -> Self {
        self.target_type = Some(kind.to_owned());
        self.target_id = Some(id.to_owned());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}
