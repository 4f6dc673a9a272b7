//! Every DynamoDB key string toolreg writes or reads, in one place.
//!
//! The single table holds several item kinds; their partition keys are told apart by prefix.
//! Changing a string here changes the stored format: `store::shapes` pins each item's shape.

pub const GSI1: &str = "GSI1";
pub const GSI2: &str = "GSI2";

pub const USER_SK: &str = "USER";
pub const UNIQUE_SK: &str = "UNIQUE";
pub const RTOKEN_SK: &str = "RTOKEN";
pub const RFAMILY_SK: &str = "RFAMILY";
pub const TOOL_SK: &str = "TOOL";
pub const RATE_SK: &str = "RL";
/// A user's TOTP authenticator, in the user's partition (`USER#<id>` / `MFA#TOTP`).
pub const TOTP_SK: &str = "MFA#TOTP";
pub const MFA_TOKEN_SK: &str = "MFATOKEN";
pub const AGENT_SK: &str = "AGENT";
pub const API_KEY_SK: &str = "APIKEY";

/// GSI1 partition listing every user by lower-cased username.
pub const USERS_INDEX_PK: &str = "USERS";
/// GSI1 partition listing every tool by lower-cased name: the catalog's sort order.
pub const TOOLS_INDEX_PK: &str = "TOOLS";
/// GSI1 partition listing every agent by name.
pub const AGENTS_INDEX_PK: &str = "AGENTS";
/// GSI2 partition of active remote tools, sorted by when their probe goes stale.
pub const PROBE_DUE_PK: &str = "PROBE_DUE";
/// Sort-key prefix of probe records under their tool's partition.
pub const PROBE_SK_PREFIX: &str = "PROBE#";

/// What every `user_pk` starts with (a listing's cursor must stay inside it).
pub const USER_PK_PREFIX: &str = "USER#";

pub fn user_pk(user_id: &str) -> String {
    format!("{USER_PK_PREFIX}{user_id}")
}

pub fn username_guard_pk(username_lower: &str) -> String {
    format!("USERNAME#{username_lower}")
}

pub fn refresh_token_pk(jti: &str) -> String {
    format!("RTOKEN#{jti}")
}

pub fn token_family_pk(family_id: &str) -> String {
    format!("RFAMILY#{family_id}")
}

/// What every `agent_pk` starts with (a listing's cursor must stay inside it).
pub const AGENT_PK_PREFIX: &str = "AGENT#";

pub fn agent_pk(agent_id: &str) -> String {
    format!("{AGENT_PK_PREFIX}{agent_id}")
}

pub fn agent_name_guard_pk(name: &str) -> String {
    format!("AGENTNAME#{name}")
}

/// What every `api_key_pk` starts with (a listing's cursor must stay inside it).
pub const API_KEY_PK_PREFIX: &str = "APIKEY#";

/// An API key by its public prefix: authentication is one `GetItem` of this.
pub fn api_key_pk(prefix: &str) -> String {
    format!("{API_KEY_PK_PREFIX}{prefix}")
}

/// GSI1 partition of one agent's keys, sorted by creation.
pub fn agent_keys_index_pk(agent_id: &str) -> String {
    format!("AGENTKEYS#{agent_id}")
}

/// What every `tool_pk` starts with (a listing's cursor must stay inside it).
pub const TOOL_PK_PREFIX: &str = "TOOL#";

pub fn tool_pk(tool_id: &str) -> String {
    format!("{TOOL_PK_PREFIX}{tool_id}")
}

pub fn tool_name_guard_pk(name_lower: &str) -> String {
    format!("TOOLNAME#{name_lower}")
}

/// `PROBE#<probed_at>#<probe_id>`: newest last, so history queries run backwards.
pub fn probe_sk(probed_at: &str, probe_id: &str) -> String {
    format!("{PROBE_SK_PREFIX}{probed_at}#{probe_id}")
}

/// `<valid_until>#<tool_id>`: the due index sorts by staleness, then by id for uniqueness.
pub fn probe_due_sk(valid_until: &str, tool_id: &str) -> String {
    format!("{valid_until}#{tool_id}")
}

/// The one partition of audit events: see `store::audit` for why.
pub const AUDIT_PK: &str = "AUDIT";

/// `<timestamp>#<event_id>`: chronological within a partition.
pub fn audit_sk(timestamp: &str, event_id: &str) -> String {
    format!("{timestamp}#{event_id}")
}

pub fn audit_actor_pk(user_id: &str) -> String {
    format!("ACTOR#{user_id}")
}

pub fn audit_target_pk(target_id: &str) -> String {
    format!("TARGET#{target_id}")
}

/// A fixed-window counter: the window's start is part of the key, so a new window starts a new
/// item and old ones simply expire.
pub fn rate_counter_pk(scope: &str, key: &str, window_start: i64) -> String {
    format!("RL#{scope}#{key}#{window_start}")
}

pub const IDEMPOTENCY_SK: &str = "IDEMP";

/// `IDEMP#<principal>#<sha256(key)>`: keys are the client's, so they are hashed (bounded length,
/// no separator tricks) and scoped to the principal (one client cannot replay another's).
pub fn idempotency_pk(principal: &str, key: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    format!("IDEMP#{principal}#{}", hex::encode(&digest[..16]))
}

/// `MFATOKEN#<sha256(token)>`: the token between a right password and its TOTP code. Only its
/// hash is stored, so a read of the table cannot finish anyone's login.
pub fn mfa_token_pk(token: &str) -> String {
    use sha2::Digest;
    format!(
        "MFATOKEN#{}",
        hex::encode(sha2::Sha256::digest(token.as_bytes()))
    )
}

/// The partition of policy versions (`V#<version>`) and their head (`HEAD`: latest and active).
pub const POLICIES_PK: &str = "POLICIES";
pub const POLICY_HEAD_SK: &str = "HEAD";

/// What every policy version's sort key starts with.
pub const POLICY_VERSION_SK_PREFIX: &str = "V#";

/// `V#<version, zero-padded>`: versions sort numerically.
pub fn policy_version_sk(version: u64) -> String {
    format!("{POLICY_VERSION_SK_PREFIX}{version:010}")
}

/// One document (by the SHA-256 of its canonical form) is one version.
pub fn policy_sha_guard_pk(sha256: &str) -> String {
    format!("POLICYSHA#{sha256}")
}

pub const DECISION_SK: &str = "DECISION";
/// GSI1 partition listing every access decision, newest last by `<timestamp>#<id>`.
pub const DECISIONS_INDEX_PK: &str = "DECISIONS";

/// What every `decision_pk` starts with (a listing's cursor must stay inside it).
pub const DECISION_PK_PREFIX: &str = "DECISION#";

pub fn decision_pk(id: &str) -> String {
    format!("{DECISION_PK_PREFIX}{id}")
}
