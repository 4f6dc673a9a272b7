//! The TOTP second factor: enrolment, confirmation, removal, the login's second step, the code
//! check elevation uses, and the login-context memory of password-only users.
//!
//! Secrets: a TOTP secret leaves the service once, in the enrolment answer. It is stored sealed
//! with KMS (bound to the user id), opened only to check a code, and never logged, audited or
//! returned again; codes are never logged or audited either.

use crate::auth::principal::UserPrincipal;
use crate::auth::totp::{self, CodeRefusal};
use crate::crypto::envelope::{self, TOTP_CONTEXT};
use crate::domain::audit::{action, Actor, AuditEvent, Outcome, RequestMeta};
use crate::domain::mfa::{MfaToken, Totp, TotpStatus};
use crate::domain::user::User;
use crate::error::{AppError, AppResult};
use crate::services::auth::{new_session, TokenPair};
use crate::services::ratelimit::{self, Check};
use crate::state::AppState;
use crate::store::tokens::new_family_id;
use serde::Serialize;
use serde_json::json;

/// How long an unconfirmed enrolment waits for its first code.
pub const PENDING_TTL_SECONDS: i64 = 15 * 60;
/// How long the password step of a login stays good for its code.
pub const MFA_TOKEN_TTL_SECONDS: i64 = 5 * 60;
/// Login contexts remembered per user (newest first); older ones are forgotten.
pub const MAX_LOGIN_CONTEXTS: usize = 20;

/// The answer to starting an enrolment: the only time the secret is shown.
#[derive(Debug, Serialize)]
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
    pub algorithm: &'static str,
    pub digits: u32,
    pub period: i64,
    pub expires_at: String,
}

/// The answer to a right password of a user with TOTP.
#[derive(Debug, Serialize)]
pub struct MfaChallenge {
    pub mfa_required: bool,
    pub mfa_token: String,
    pub mfa_token_expires_at: String,
}

fn at(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(crate::time::stamp)
        .unwrap_or_default()
}

fn now() -> i64 {
    crate::time::now().timestamp()
}

/// Rate-limit scope of code attempts per user, on the per-username login limit: six digits
/// must not be guessable by volume.
const MFA_USER: &str = "mfa_user";

/// Counts an attempt (enrolment, confirm, remove) against the user's code budget.
async fn limit_codes(state: &AppState, user_id: &str) -> AppResult<()> {
    let key = ratelimit::key_of(user_id);
    ratelimit::enforce(
        &state.store,
        &[Check {
            scope: MFA_USER,
            key: &key,
            limit: state.config.login_rate_limit_username,
        }],
    )
    .await
}

/// Checks `code` against the user's authenticator: unseals the secret (one KMS call) and
/// returns the step the code belongs to. The secret is dropped before this returns.
pub(crate) async fn check_code(
    state: &AppState,
    t: &Totp,
    code: &str,
) -> AppResult<Result<i64, CodeRefusal>> {
    let secret =
        envelope::open_bytes(&state.kms, TOTP_CONTEXT, &t.user_id, &t.sealed_secret).await?;
    Ok(totp::verify(&secret, code, now(), t.last_step))
}

/// The 401 for a refused code; the audit event says which refusal it was.
fn refused_code(r: &CodeRefusal) -> AppError {
    AppError::Unauthenticated(match r {
        CodeRefusal::Invalid => "the code is not valid".into(),
        CodeRefusal::Replayed => {
            "this code was already used; wait for the next one of your authenticator".into()
        }
    })
}

fn refusal_reason(r: &CodeRefusal) -> &'static str {
    match r {
        CodeRefusal::Invalid => "invalid_code",
        CodeRefusal::Replayed => "replayed_code",
    }
}

/// The `auth.mfa.failed` event of a refused code during `stage`.
pub(crate) fn failed_event(
    actor: &Actor,
    user_id: &str,
    stage: &str,
    reason: &str,
    meta: &RequestMeta,
) -> AuditEvent {
    AuditEvent::new(action::MFA_FAILED, Outcome::Failure, actor, meta)
        .target("user", user_id)
        .details(json!({"stage": stage, "reason": reason}))
}

/// `POST /auth/mfa/totp`: with the caller's current password, a new secret, sealed and stored
/// as a pending enrolment (replacing an earlier pending one). Refused (409) while an
/// authenticator is active. Counted with the code attempts before the password is checked
/// (each attempt also costs a KMS data key).
///
/// The password is what keeps a stolen access token from becoming a lasting takeover: the
/// confirmation answers a long-lived session, and an authenticator the thief enrolled would
/// lock the owner out.
pub async fn enrol(
    state: &AppState,
    p: &UserPrincipal,
    current_password: &str,
    meta: &RequestMeta,
) -> AppResult<Enrolment> {
    let secret = totp::new_secret();
    let (limited, user, sealed) = tokio::join!(
        limit_codes(state, &p.user_id),
        state.store.get_user(&p.user_id),
        envelope::seal_bytes(
            &state.kms,
            &state.config.kms_key_id,
            TOTP_CONTEXT,
            &p.user_id,
            &secret,
        )
    );
    limited?;
    let hash = match user? {
        Some(u) if !u.disabled => u.password_hash,
        _ => {
            return Err(AppError::Unauthenticated(
                "this account is disabled or no longer exists".into(),
            ))
        }
    };
    if !crate::services::auth::verify_password(current_password.to_owned(), Some(hash)).await {
        let ev = AuditEvent::new(action::MFA_ENROL, Outcome::Failure, &p.actor(), meta)
            .target("user", &p.user_id)
            .details(json!({"method": "totp", "reason": "invalid_credentials"}));
        state.store.put_audit(&ev).await?;
        return Err(AppError::Unauthenticated(
            "the current password is incorrect".into(),
        ));
    }
    let sealed = sealed?;
    let expires_at = now() + PENDING_TTL_SECONDS;
    let t = Totp {
        user_id: p.user_id.to_string(),
        enrolment_id: uuid::Uuid::new_v4().to_string(),
        status: TotpStatus::Pending,
        sealed_secret: sealed,
        last_step: None,
        created_at: crate::time::stamp(crate::time::now()),
        confirmed_at: None,
        expires_at: Some(expires_at),
    };
    let ev = AuditEvent::new(action::MFA_ENROL, Outcome::Success, &p.actor(), meta)
        .target("user", &p.user_id)
        .details(json!({"method": "totp", "enrolment_id": t.enrolment_id}));
    match state.store.put_totp_enrolment(&t, &ev).await {
        Ok(()) => {}
        Err(e) if e.failed_condition_index() == Some(0) => {
            return Err(AppError::Conflict(
                "a TOTP authenticator is already active; remove it (DELETE /api/v1/auth/mfa/totp \
                 with a code) before enrolling another"
                    .into(),
            ))
        }
        Err(e) if e.failed_condition_index() == Some(1) => {
            return Err(AppError::Unauthenticated(
                "this account is disabled or no longer exists".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let secret_base32 = totp::base32_encode(&secret);
    Ok(Enrolment {
        // The label authenticator apps show: the product's name (the token issuer is a URL).
        otpauth_uri: totp::otpauth_uri("toolreg", &p.username, &secret_base32),
        secret: secret_base32,
        algorithm: "SHA1",
        digits: totp::DIGITS,
        period: totp::STEP_SECONDS,
        expires_at: at(expires_at),
    })
}

/// `POST /auth/mfa/totp/confirm`: the first code activates the pending enrolment. Answers a
/// new session authenticated with the second factor (the caller's current one has none).
pub async fn confirm(
    state: &AppState,
    p: &UserPrincipal,
    code: &str,
    meta: &RequestMeta,
) -> AppResult<TokenPair> {
    let (limited, found, user) = tokio::join!(
        limit_codes(state, &p.user_id),
        state.store.get_totp(&p.user_id),
        state.store.get_user(&p.user_id)
    );
    limited?;
    let actor = p.actor();
    let t =
        match found? {
            Some(t) if t.is_active() => {
                return Err(AppError::Conflict(
                    "TOTP is already enabled for this account".into(),
                ))
            }
            Some(t) if t.is_pending_at(now()) => t,
            _ => return Err(AppError::Conflict(
                "no TOTP enrolment is pending (none was started, or it lapsed); start one with \
                 POST /api/v1/auth/mfa/totp"
                    .into(),
            )),
        };
    let mut user = match user? {
        Some(u) if !u.disabled => u,
        _ => {
            return Err(AppError::Unauthenticated(
                "this account is disabled or no longer exists".into(),
            ))
        }
    };
    let step = match check_code(state, &t, code).await? {
        Ok(step) => step,
        Err(r) => {
            let ev = failed_event(&actor, &p.user_id, "confirm", refusal_reason(&r), meta);
            state.store.put_audit(&ev).await?;
            return Err(refused_code(&r));
        }
    };
    user.totp_enabled = true;
    let family_id = new_family_id(crate::time::now().timestamp_millis());
    let (pair, first) = new_session(state, &user, &family_id).await?;
    let ev = AuditEvent::new(action::MFA_CONFIRM, Outcome::Success, &actor, meta)
        .target("user", &p.user_id)
        .details(json!({"method": "totp", "enrolment_id": t.enrolment_id, "new_token_family": family_id}));
    match state
        .store
        .confirm_totp(&p.user_id, &t.enrolment_id, step, now(), &first, &ev)
        .await
    {
        Ok(()) => Ok(pair),
        Err(e) if e.failed_condition_index() == Some(0) => Err(AppError::Conflict(
            "the enrolment changed while it was being confirmed (confirmed, replaced or lapsed); \
             check its state and retry"
                .into(),
        )),
        Err(e) if e.failed_condition_index() == Some(1) => Err(AppError::Unauthenticated(
            "this account is disabled or no longer exists".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /auth/mfa/totp`: a current code removes the authenticator. Every session of the
/// user ends with it (they were authenticated with the factor now gone); log in again.
pub async fn remove(
    state: &AppState,
    p: &UserPrincipal,
    code: &str,
    meta: &RequestMeta,
) -> AppResult<()> {
    let (limited, found) = tokio::join!(
        limit_codes(state, &p.user_id),
        state.store.get_totp(&p.user_id)
    );
    limited?;
    let actor = p.actor();
    let t = match found? {
        Some(t) if t.is_active() => t,
        _ => {
            return Err(AppError::Conflict(
                "TOTP is not enabled for this account".into(),
            ))
        }
    };
    let step = match check_code(state, &t, code).await? {
        Ok(step) => step,
        Err(r) => {
            let ev = failed_event(&actor, &p.user_id, "remove", refusal_reason(&r), meta);
            state.store.put_audit(&ev).await?;
            return Err(refused_code(&r));
        }
    };
    let now_ms = crate::time::now().timestamp_millis();
    let ev = AuditEvent::new(action::MFA_REMOVE, Outcome::Success, &actor, meta)
        .target("user", &p.user_id)
        .details(json!({"method": "totp", "sessions_revoked": true}));
    match state
        .store
        .remove_totp(&p.user_id, Some(step), now_ms, &ev)
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if e.failed_condition_index() == Some(0) => {
            Err(refused_code(&CodeRefusal::Replayed))
        }
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /users/{id}/mfa/totp` (elevated admin): removes the user's authenticator, active or
/// pending, without a code (the phone is lost), and revokes every session of the user, in one
/// transaction with `user.mfa_reset`. The user logs in with the password alone afterwards and
/// may enrol again. 404 for an unknown user, 409 when there is nothing to remove.
pub async fn admin_reset(
    state: &AppState,
    p: &UserPrincipal,
    user_id: &str,
    meta: &RequestMeta,
) -> AppResult<()> {
    let (user, found) = tokio::join!(
        crate::services::users::get(state, user_id),
        state.store.get_totp(user_id)
    );
    let user = user?;
    let no_totp = || {
        AppError::Conflict(format!(
            "user {} has no TOTP authenticator to remove",
            user.id
        ))
    };
    let t = found?.ok_or_else(no_totp)?;
    let now_ms = crate::time::now().timestamp_millis();
    let ev = AuditEvent::new(action::USER_MFA_RESET, Outcome::Success, &p.actor(), meta)
        .target("user", &user.id)
        .details(json!({
            "method": "totp",
            "status": t.status,
            "enrolment_id": t.enrolment_id,
            "sessions_revoked": true,
        }));
    match state.store.remove_totp(&user.id, None, now_ms, &ev).await {
        Ok(()) => Ok(()),
        // Removed meanwhile (by the user or another admin).
        Err(e) if e.failed_condition_index() == Some(0) => Err(no_totp()),
        Err(e) => Err(e.into()),
    }
}

/// A fresh MFA token: `<user id>.<256 random bits>`. The user id lets the second step read the
/// token, the user and the authenticator in one round trip; the random part makes it secret.
fn new_mfa_token(user_id: &str) -> String {
    use base64::Engine;
    let random: [u8; 32] = rand::random();
    format!(
        "{user_id}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    )
}

/// The password was right and the user has TOTP: hands out an MFA token (one transaction:
/// the token item and `auth.login.mfa_challenge`).
pub(crate) async fn challenge(
    state: &AppState,
    user: &User,
    meta: &RequestMeta,
) -> AppResult<MfaChallenge> {
    let token = new_mfa_token(&user.id);
    let t = MfaToken {
        user_id: user.id.clone(),
        expires_at: now() + MFA_TOKEN_TTL_SECONDS,
        attempts: 0,
    };
    let actor = Actor {
        user_id: Some(user.id.clone()),
        username: Some(user.username.clone()),
    };
    let ev = AuditEvent::new(action::LOGIN_MFA_CHALLENGE, Outcome::Success, &actor, meta)
        .target("user", &user.id)
        .details(json!({"method": "totp"}));
    state.store.put_mfa_token(&token, &t, &ev).await?;
    Ok(MfaChallenge {
        mfa_required: true,
        mfa_token: token,
        mfa_token_expires_at: at(t.expires_at),
    })
}

/// The one refusal of `POST /auth/login/mfa`, whatever was wrong: a made-up, spent, lapsed or
/// exhausted token, a wrong or replayed code, or a right code that lost a race. Telling them
/// apart would tell a guesser which code was right; the audit event says which it was.
fn refused_login() -> AppError {
    AppError::Unauthenticated(
        "the MFA token or the code is not valid (a token lasts 5 minutes and takes 5 codes); \
         check the code, or log in again"
            .into(),
    )
}

/// `POST /auth/login/mfa`: the second step. Every attempt is counted before its code is looked
/// at, so racing requests cannot get more codes checked than the limits allow:
///
/// 1. concurrently: the attempt counted on the MFA token (a conditional update that fails for
///    a made-up, foreign, lapsed or exhausted token), the user and the authenticator;
/// 2. concurrently: the attempt counted against the user's code budget (`mfa_user`, again a
///    conditional update that fails past the limit) and the secret's KMS unwrap;
/// 3. only then the code is compared, and one write follows: the transaction that consumes the
///    token, spends the step and starts the session, or the failure's audit event.
///
/// Only attempts with a valid token reach the user's budget: made-up tokens naming someone's
/// user id cannot lock them out. Every refusal is the same 401 ([`refused_login`]).
pub async fn finish_login(
    state: &AppState,
    mfa_token: &str,
    code: &str,
    meta: &RequestMeta,
) -> AppResult<TokenPair> {
    let user_id = match mfa_token.split_once('.') {
        Some((id, rest)) if !id.is_empty() && !rest.is_empty() => id,
        _ => return Err(refused_login()),
    };
    let now = now();
    let (counted, user, found) = tokio::join!(
        state.store.count_mfa_attempt(mfa_token, user_id, now),
        state.store.get_user(user_id),
        state.store.get_totp(user_id)
    );
    if !counted? {
        return Err(refused_login());
    }
    let user = match user? {
        Some(u) if !u.disabled => u,
        _ => return Err(refused_login()),
    };
    let t = match found? {
        Some(t) if t.is_active() => t,
        // Removed between the password and the code: start over.
        _ => return Err(refused_login()),
    };
    let budget_key = ratelimit::key_of(user_id);
    let (budget, secret) = tokio::join!(
        state.store.hit_rate_limit(
            MFA_USER,
            &budget_key,
            state.config.login_rate_limit_username,
            now
        ),
        envelope::open_bytes(&state.kms, TOTP_CONTEXT, &t.user_id, &t.sealed_secret)
    );
    let budget = budget?;
    if !budget.allowed {
        return Err(AppError::RateLimited {
            limit: budget.limit,
            reset_at: budget.reset_at,
        });
    }
    let verdict = totp::verify(&secret?, code, now, t.last_step);
    let actor = Actor {
        user_id: Some(user.id.clone()),
        username: Some(user.username.clone()),
    };
    let step = match verdict {
        Ok(step) => step,
        Err(r) => {
            let ev = failed_event(&actor, &user.id, "login", refusal_reason(&r), meta);
            state.store.put_audit(&ev).await?;
            return Err(refused_login());
        }
    };
    let family_id = new_family_id(crate::time::now().timestamp_millis());
    let (pair, first) = new_session(state, &user, &family_id).await?;
    let ev = AuditEvent::new(action::LOGIN, Outcome::Success, &actor, meta)
        .target("user", &user.id)
        .details(json!({"mfa": "totp"}));
    match state
        .store
        .finish_mfa_login(mfa_token, &user.id, step, now, &first, &ev)
        .await
    {
        Ok(()) => Ok(pair),
        // A right code that lost a race (the token or the step was spent meanwhile). Not
        // audited: a second write here would make this refusal slower than a wrong code's.
        Err(e) if matches!(e.failed_condition_index(), Some(0 | 1)) => Err(refused_login()),
        Err(e) => Err(e.into()),
    }
}

/// The remembered form of a login context: a hash of the user, source IP and user agent (so
/// the user item holds no addresses, and a context of one user says nothing about another's).
pub fn context_key(user_id: &str, meta: &RequestMeta) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for part in [user_id, &meta.source_ip, &meta.user_agent] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..12])
}

/// The user's remembered contexts with `key` in front, when `key` is new; `None` when known.
pub fn remember_context(user: &User, key: &str) -> Option<Vec<String>> {
    if user.login_contexts.iter().any(|k| k == key) {
        return None;
    }
    let mut list = Vec::with_capacity(MAX_LOGIN_CONTEXTS);
    list.push(key.to_owned());
    list.extend(
        user.login_contexts
            .iter()
            .take(MAX_LOGIN_CONTEXTS - 1)
            .cloned(),
    );
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Role;

    fn meta(ip: &str, ua: &str) -> RequestMeta {
        RequestMeta {
            source_ip: ip.into(),
            user_agent: ua.into(),
            request_id: "r".into(),
        }
    }

    #[test]
    fn contexts_are_per_user_hashed_and_bounded() {
        let a = context_key("u1", &meta("10.0.0.1", "curl"));
        assert_eq!(a, context_key("u1", &meta("10.0.0.1", "curl")));
        assert_ne!(a, context_key("u2", &meta("10.0.0.1", "curl")));
        assert_ne!(a, context_key("u1", &meta("10.0.0.2", "curl")));
        assert_ne!(a, context_key("u1", &meta("10.0.0.1", "wget")));
        // Length-prefixed: moving text between fields changes the key.
        assert_ne!(
            context_key("u1", &meta("10.0.0.1", "1curl")),
            context_key("u1", &meta("10.0.0.11", "curl"))
        );
        assert!(!a.contains("10.0.0.1"));

        let mut u = User::new("u1".into(), "alice", Role::User, "h".into(), "t".into());
        for i in 0..(MAX_LOGIN_CONTEXTS + 5) {
            let k = format!("k{i}");
            let next = remember_context(&u, &k).expect("a new context");
            assert_eq!(next[0], k);
            assert!(next.len() <= MAX_LOGIN_CONTEXTS);
            u.login_contexts = next;
        }
        assert_eq!(remember_context(&u, "k24"), None);
        assert!(
            remember_context(&u, "k0").is_some(),
            "the oldest are forgotten"
        );
    }
}
