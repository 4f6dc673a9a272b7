//! The policy decision point at work: access requests, their recorded decisions, the
//! credentials allowed requests get, and simulations of a candidate policy against recorded
//! decisions.
//!
//! An access request on a warm function: the tool read (with the active-policy head, at most
//! every 30 s), the evaluation, the rate counter when the rule sets a rate, then the KMS
//! signature and the decision's transaction (record + audit event) side by side. The
//! credential's `jti` is the decision id.

use crate::auth::agent_keys;
use crate::auth::principal::{AgentCredential, Principal, AGENT_SUBJECT};
use crate::domain::audit::{action, AuditEvent, Outcome, RequestMeta};
use crate::domain::policy::{
    self, AccessRequest, Context, Decision, Effect, Policy, PrincipalKind, ProbeStatus, Subject,
    ToolFacts,
};
use crate::domain::probe::ProbeStatus as ProbeVerdict;
use crate::domain::tool::{RiskLevel, Tool, ToolId, ToolKind, ToolType};
use crate::domain::user::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::services::ratelimit::{self, Check};
use crate::state::AppState;
use crate::store::decisions::DecisionItem;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// `POST /tools/{id}/access` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessBody {
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub purpose: Option<String>,
}

/// Everything a decision was made on, owned and stored with it (simulations replay it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub principal_kind: String,
    pub principal_id: String,
    pub role: Option<Role>,
    pub groups: Vec<String>,
    pub tags: Vec<String>,
    pub tool_id: String,
    pub tool_name: String,
    pub tool_tags: Vec<String>,
    pub risk_level: RiskLevel,
    pub tool_type: ToolType,
    pub probe_status: Option<ProbeStatus>,
    pub drifted: bool,
    pub is_active: bool,
    pub scopes: Vec<String>,
    pub purpose: Option<String>,
    pub now: chrono::DateTime<chrono::Utc>,
    pub source_ip: Option<std::net::IpAddr>,
}

impl Facts {
    fn new(p: &Principal, t: &Tool, b: &AccessBody, meta: &RequestMeta) -> Self {
        let now = crate::time::now();
        let (kind, role, groups, tags) = match p {
            Principal::User(u) => ("user", Some(u.role), vec![], vec![]),
            Principal::Agent(a) => ("agent", None, a.groups.clone(), a.tags.clone()),
        };
        Self {
            principal_kind: kind.into(),
            principal_id: p.id(),
            role,
            groups,
            tags,
            tool_id: t.id.to_string(),
            tool_name: t.name.clone(),
            tool_tags: t.tags.clone(),
            risk_level: t.risk_level,
            tool_type: t.tool_type(),
            probe_status: probe_status(t, now),
            drifted: drifted(t),
            is_active: t.is_active,
            scopes: b.scopes.clone(),
            purpose: b.purpose.clone(),
            now,
            source_ip: meta.source_ip.parse().ok(),
        }
    }

    /// Decides with `policy` (guards first).
    pub fn decide(&self, policy: &Policy) -> Decision {
        let kind = PrincipalKind::parse(&self.principal_kind).unwrap_or(PrincipalKind::User);
        // Policies name principals by their bare id, as discovery (`visible`) matches them:
        // `principal_id` keeps the `agent:` prefix decisions and audit events show.
        let id = match kind {
            PrincipalKind::Agent => self
                .principal_id
                .strip_prefix(AGENT_SUBJECT)
                .unwrap_or(&self.principal_id),
            PrincipalKind::User => &self.principal_id,
        };
        let subject = Subject {
            kind,
            id,
            role: self.role,
            groups: &self.groups,
            tags: &self.tags,
        };
        let tool = self.tool_facts();
        let request = AccessRequest {
            scopes: &self.scopes,
            purpose: self.purpose.as_deref(),
        };
        let ctx = Context {
            now: self.now,
            source_ip: self.source_ip,
        };
        policy::evaluate_with_guards(policy, &subject, &tool, &request, &ctx)
    }

    fn tool_facts(&self) -> ToolFacts<'_> {
        ToolFacts {
            id: &self.tool_id,
            name: &self.tool_name,
            tags: &self.tool_tags,
            risk_level: self.risk_level,
            tool_type: self.tool_type,
            probe_status: self.probe_status,
            drifted: self.drifted,
            is_active: self.is_active,
        }
    }
}

/// A tool's probe state as policies see it: the last verdict, or stale once it is past its
/// `valid_until`. Function tools are never probed.
pub fn probe_status(t: &Tool, now: chrono::DateTime<chrono::Utc>) -> Option<ProbeStatus> {
    let record = match &t.kind {
        ToolKind::Remote(r) => r.last_probe.as_ref()?,
        ToolKind::Function { .. } => return None,
    };
    Some(match record.outcome.status {
        ProbeVerdict::Failed => ProbeStatus::Failed,
        ProbeVerdict::Passed if record.valid_until.as_str() < crate::time::stamp(now).as_str() => {
            ProbeStatus::Stale
        }
        ProbeVerdict::Passed => ProbeStatus::Passed,
    })
}

/// Whether a remote tool's server lists other tools than the approved ones (`domain::drift`).
pub fn drifted(t: &Tool) -> bool {
    t.remote().is_some_and(|r| r.drift.is_some())
}

/// Whether an agent could be allowed `t` by the active policy (discovery narrowing: see
/// `domain::policy::could_allow` for exactly what that means). People see the whole catalog.
pub fn visible(p: &Principal, policy: &Policy, t: &Tool) -> bool {
    let Principal::Agent(a) = p else {
        return true;
    };
    let now = crate::time::now();
    let subject = Subject {
        kind: PrincipalKind::Agent,
        id: &a.agent_id,
        role: None,
        groups: &a.groups,
        tags: &a.tags,
    };
    let id = t.id.to_string();
    let facts = ToolFacts {
        id: &id,
        name: &t.name,
        tags: &t.tags,
        risk_level: t.risk_level,
        tool_type: t.tool_type(),
        probe_status: probe_status(t, now),
        drifted: drifted(t),
        is_active: t.is_active,
    };
    policy::could_allow(policy, &subject, &facts)
}

fn check_body(b: &AccessBody) -> AppResult<()> {
    let mut errors = Vec::new();
    if b.scopes.len() > 32 {
        errors.push(FieldError::new("/scopes", "at most 32 scopes"));
    }
    for (i, s) in b.scopes.iter().enumerate() {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"._:/-*".contains(&c));
        if !ok {
            errors.push(FieldError::new(
                format!("/scopes/{i}"),
                "must be 1 to 64 characters of letters, digits and . _ : / - *",
            ));
        }
    }
    if let Some(p) = &b.purpose {
        if p.trim().is_empty() || p.chars().count() > 500 || p.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "/purpose",
                "must be 1 to 500 characters without control characters",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// An allowed request's answer.
#[derive(Debug, Serialize)]
pub struct Granted {
    pub decision: &'static str,
    pub rationale: String,
    pub rule_id: Option<String>,
    pub policy_sha256: String,
    pub policy_version: u64,
    pub decision_id: String,
    pub credential: Credential,
}

#[derive(Debug, Serialize)]
pub struct Credential {
    pub token: String,
    pub token_type: &'static str,
    pub audience: String,
    pub scope: String,
    pub expires_in: u32,
    pub expires_at: String,
}

/// The credential's audience: the server a remote tool lives on, `tool:<name>` for a function
/// tool (which the caller runs itself).
fn audience(t: &Tool) -> String {
    match &t.kind {
        ToolKind::Remote(r) => r.server_url.clone(),
        ToolKind::Function { .. } => format!("tool:{}", t.name),
    }
}

/// The principal as it stands now. An agent's OAuth token was checked without a read; before
/// it gets a credential, the key it was minted with is read (see `agent_keys::recheck`), so a
/// revoked key, a disabled agent or changed groups count at once. Others are current already.
async fn current_principal(state: &AppState, p: &Principal) -> AppResult<Principal> {
    match p {
        Principal::Agent(a) if matches!(a.via, AgentCredential::OAuthToken { .. }) => {
            agent_keys::recheck(state, a).await.map(Principal::Agent)
        }
        _ => Ok(p.clone()),
    }
}

/// Decides an access request, records the decision with its audit event in one transaction,
/// and for an allow answers a credential signed by KMS. A deny is `AccessDenied` (403).
///
/// The first round trip reads the tool, the policy head (when due), the key behind an OAuth
/// token, and counts the request against the principal's limit, all at once: a principal over
/// its limit gets a 429 before anything is decided, signed or written.
pub async fn request_access(
    state: &AppState,
    p: &Principal,
    tool_id: &str,
    b: AccessBody,
    meta: &RequestMeta,
) -> AppResult<Granted> {
    check_body(&b)?;
    let not_found = || {
        AppError::NotFound(format!(
            "no tool with id {:?}",
            tool_id.chars().take(64).collect::<String>()
        ))
    };
    let id = ToolId::parse(tool_id).ok_or_else(not_found)?;
    let principal_key = ratelimit::key_of(&p.id());
    let checks = [Check {
        scope: "access_principal",
        key: &principal_key,
        limit: state.config.access_rate_limit_principal,
    }];
    let (tool, active, counted, current) = tokio::join!(
        state.store.get_tool(id),
        state
            .policies
            .get(&state.store, state.config.policy_cache_ttl),
        ratelimit::enforce(&state.store, &checks),
        current_principal(state, p),
    );
    let p = &current?;
    counted?;
    // Every request for an existing tool is decided and recorded, even one for a tool the
    // caller's listing hides: the guards and the policy answer it (403 with the rationale).
    let (tool, active) = (tool?.ok_or_else(not_found)?, active?);
    let facts = Facts::new(p, &tool, &b, meta);
    let mut decision = facts.decide(&active.policy);
    let decision_id = uuid::Uuid::now_v7().to_string();
    let mut limited = None;
    if let Some(rate) = decision.obligations.as_ref().and_then(|o| o.rate) {
        let key = ratelimit::key_of(&format!("{}\n{}", facts.principal_id, facts.tool_id));
        let checks = [Check {
            scope: "access",
            key: &key,
            limit: rate,
        }];
        if let Err(e @ AppError::RateLimited { .. }) =
            ratelimit::enforce(&state.store, &checks).await
        {
            decision = Decision {
                effect: Effect::Deny,
                rule_id: decision.rule_id,
                rationale: "RATE_LIMIT_EXCEEDED".into(),
                obligations: None,
            };
            limited = Some(e);
        }
    }
    let now = facts.now.timestamp();
    let granted = decision.obligations.clone().filter(|_| decision.is_allow());
    let expires_at = granted
        .as_ref()
        .map(|o| now + i64::from(o.max_credential_seconds));
    let record = DecisionItem {
        pk: String::new(),
        sk: String::new(),
        gsi1pk: String::new(),
        gsi1sk: String::new(),
        entity: crate::store::item::Entity::Decision,
        id: decision_id.clone(),
        timestamp: crate::time::stamp(facts.now),
        principal_id: facts.principal_id.clone(),
        principal_name: p.actor().username.unwrap_or_default(),
        tool_id: facts.tool_id.clone(),
        tool_name: facts.tool_name.clone(),
        requested_scopes: facts.scopes.clone(),
        granted_scopes: granted
            .as_ref()
            .map(|o| o.granted_scopes.clone())
            .unwrap_or_default(),
        purpose: facts.purpose.clone(),
        source_ip: meta.source_ip.clone(),
        decision: decision.effect.as_str().to_owned(),
        rationale: decision.rationale.clone(),
        rule_id: decision.rule_id.clone(),
        policy_version: active.version,
        policy_sha256: active.sha256.clone(),
        credential_expires_at: expires_at,
        revoked_at: None,
        key_prefix: match p {
            Principal::Agent(a) => a.key_prefix().map(str::to_owned),
            Principal::User(_) => None,
        },
        facts: serde_json::to_string(&facts).map_err(AppError::internal)?,
    }
    .keyed();
    let outcome = if decision.is_allow() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let ev = AuditEvent::new(action::ACCESS_DECISION, outcome, &p.actor(), meta)
        .target("tool", &facts.tool_id)
        .details(json!({
            "decision_id": decision_id,
            "decision": record.decision,
            "rationale": record.rationale,
            "rule_id": record.rule_id,
            "scopes": record.requested_scopes,
            "granted_scopes": record.granted_scopes,
            "policy_version": active.version,
            "policy_sha256": active.sha256,
        }));
    let Some(obligations) = granted else {
        state.store.put_decision(&record, &ev).await?;
        if let Some(e) = limited {
            return Err(e);
        }
        return Err(AppError::AccessDenied {
            rationale: decision.rationale,
            rule_id: decision.rule_id,
            decision_id,
            policy_sha256: active.sha256.clone(),
        });
    };
    let exp = expires_at.unwrap_or(now);
    let scope = obligations.granted_scopes.join(" ");
    let aud = audience(&tool);
    let claims = json!({
        "iss": state.config.jwt_issuer,
        "sub": facts.principal_id,
        "aud": aud,
        "tool_id": facts.tool_id,
        "scope": scope,
        "jti": decision_id,
        "iat": now,
        "exp": exp,
    });
    // The signature and the record are independent: neither waits for the other. A failure of
    // either answers an error, and a credential is only ever handed out once both landed.
    let (token, stored) = tokio::join!(
        state.signer.sign(&claims),
        state.store.put_decision(&record, &ev)
    );
    stored?;
    let token = token?;
    Ok(Granted {
        decision: "allow",
        rationale: decision.rationale,
        rule_id: decision.rule_id,
        policy_sha256: active.sha256.clone(),
        policy_version: active.version,
        decision_id,
        credential: Credential {
            token,
            token_type: "Bearer",
            audience: aud,
            scope,
            expires_in: obligations.max_credential_seconds,
            expires_at: chrono::DateTime::from_timestamp(exp, 0)
                .map(crate::time::stamp)
                .unwrap_or_default(),
        },
    })
}

pub use super::decisions::{
    credential_view, decision_view, get_credential, get_decision, list_decisions,
    revoke_credential, revoke_issued,
};
pub use super::simulate::{simulate, SimulateBody};
