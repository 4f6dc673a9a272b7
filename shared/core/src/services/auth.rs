//! Login, refresh, elevation and user creation.

use crate::auth::jwt::{self, Claims, TokenType};
use crate::auth::password;
use crate::auth::principal::{verify_token, UserPrincipal};
use crate::domain::audit::{self, action, Actor, AuditEvent, Outcome, RequestMeta};
use crate::domain::user::{self, Role, User};
use crate::error::{AppError, AppResult};
use crate::services::mfa;
use crate::services::ratelimit::{self, Check};
use crate::state::AppState;
use crate::store::tokens::{RefreshRecord, RotateError};
use serde::Serialize;
use serde_json::json;

/// Tokens handed out by login and refresh.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub token_type: &'static str,
    pub access_token: String,
    pub access_token_expires_at: String,
    pub refresh_token: String,
    pub refresh_token_expires_at: String,
}

/// What a right password gets: the token pair, or, for a user with TOTP, the token that the
/// code redeems at `POST /auth/login/mfa`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum LoginOutcome {
    Tokens(TokenPair),
    MfaRequired(crate::services::mfa::MfaChallenge),
}

/// The short-lived token for destructive operations.
#[derive(Debug, Serialize)]
pub struct ElevatedToken {
    pub token_type: &'static str,
    pub elevated_token: String,
    pub elevated_token_expires_at: String,
}

fn at(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(crate::time::stamp)
        .unwrap_or_default()
}

struct Issued {
    token: String,
    jti: String,
    exp: i64,
}

async fn issue(
    state: &AppState,
    user_id: &str,
    username: &str,
    role: Role,
    typ: TokenType,
    family: Option<&str>,
    mfa: bool,
) -> AppResult<Issued> {
    let c = &state.config;
    let now = crate::time::now().timestamp();
    let ttl = match typ {
        TokenType::Access => c.access_token_ttl,
        TokenType::Refresh => c.refresh_token_ttl,
        TokenType::Elevated => c.elevated_token_ttl,
    };
    let claims = Claims {
        sub: user_id.to_owned(),
        username: username.to_owned(),
        role,
        typ,
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now,
        exp: now + ttl.as_secs() as i64,
        iss: c.jwt_issuer.clone(),
        aud: c.jwt_audience.clone(),
        fam: family.map(str::to_owned),
        scope: None,
        groups: vec![],
        tags: vec![],
        key: None,
        amr: jwt::amr(mfa),
    };
    let keys = state.keys.get().await?;
    let token = jwt::sign(&keys, &claims).map_err(AppError::internal)?;
    Ok(Issued {
        token,
        jti: claims.jti,
        exp: claims.exp,
    })
}

/// Rate-limit scopes of login: attempts per source IP, failed passwords per username.
const LOGIN_IP: &str = "login_ip";
const LOGIN_USER_FAILURES: &str = "login_user_failures";

/// Logs a refused login and audits the first refusal of the window (`auth.login.rate_limited`),
/// so a flood of refusals is visible without writing an event per request. Never fails the 429.
async fn refused(
    state: &AppState,
    scope: &str,
    key: &str,
    limit: crate::config::RateLimit,
    now: i64,
    username: &str,
    meta: &RequestMeta,
) {
    tracing::warn!(request_id = %meta.request_id, scope, "login rate limited");
    let ev = AuditEvent::new(
        action::LOGIN_RATE_LIMITED,
        Outcome::Failure,
        &Actor::default(),
        meta,
    )
    .details(json!({
        "limit": scope,
        "attempted_username": attempted_username(username, false),
        "window_seconds": limit.window_secs,
        "note": "first refusal of this window; later ones in the same window are not recorded",
    }));
    if let Err(e) = state
        .store
        .audit_first_refusal(scope, key, limit, now, &ev)
        .await
    {
        tracing::warn!(request_id = %meta.request_id, error = ?e, "could not audit a rate-limit refusal");
    }
}

/// What a login's audit event keeps of the username it was sent: the name of an existing user
/// as sent; another name only if it is a valid username with nothing key-like in it (a key or
/// a password typed into the username field must not rest in the audit log).
fn attempted_username(username: &str, exists: bool) -> serde_json::Value {
    let safe = exists
        || (user::validate_username(username).is_ok()
            && !crate::auth::apikey::may_hold_key(username));
    audit::unauthenticated_identifier(username, safe)
}

fn invalid_credentials() -> AppError {
    AppError::Unauthenticated("invalid username or password".into())
}

/// Checks a password off the async executor (argon2 takes tens of milliseconds of CPU).
pub(crate) async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => password::verify(&password, &h),
        None => {
            password::verify_dummy(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Logs a user in: two sequential round trips. First, concurrently: the per-IP counter, a read
/// of the username's failed-password counter and the user lookup. Then one transaction records
/// the token family and the audit event (or, for a wrong password, the username's failure count
/// and the failure event).
///
/// A user with TOTP gets an MFA token instead (the same transaction's place: the token item and
/// its event); the code finishes the login at `POST /auth/login/mfa`. A password-only login
/// from a (source IP, user agent) pair the user item does not remember also writes the
/// remembered list and `auth.login.new_context` in its transaction, whose user-item write is
/// conditional on the user still having no TOTP (the lookup came from an eventually consistent
/// index): only a user who enabled TOTP in that instant costs a third round trip.
///
/// Only attempts the IP limit let through, and only failed passwords, count against a username:
/// requests already refused per IP cannot lock someone else's account, and a user's own
/// successful logins never do. Concurrent attempts can overshoot the username limit by the
/// number in flight (each read the counter below it); the per-IP limit bounds that burst.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    meta: &RequestMeta,
) -> AppResult<LoginOutcome> {
    let c = &state.config;
    let now = crate::time::now().timestamp();
    let user_key = ratelimit::key_of(&username.to_lowercase());
    let ip_key = ratelimit::key_of(&meta.source_ip);
    let lookup = async {
        // Usernames that cannot exist need no lookup, but still cost a verify below.
        if user::validate_username(username).is_err() {
            return Ok(None);
        }
        state.store.find_user_by_username(username).await
    };
    let (ip, failures, found) = tokio::join!(
        state
            .store
            .hit_rate_limit(LOGIN_IP, &ip_key, c.login_rate_limit_ip, now),
        state.store.peek_rate_limit(
            LOGIN_USER_FAILURES,
            &user_key,
            c.login_rate_limit_username,
            now
        ),
        lookup
    );
    let ip = ip?;
    if !ip.allowed {
        refused(
            state,
            LOGIN_IP,
            &ip_key,
            c.login_rate_limit_ip,
            now,
            username,
            meta,
        )
        .await;
        return Err(AppError::RateLimited {
            limit: ip.limit,
            reset_at: ip.reset_at,
        });
    }
    let failures = failures?;
    if !failures.allowed {
        refused(
            state,
            LOGIN_USER_FAILURES,
            &user_key,
            c.login_rate_limit_username,
            now,
            username,
            meta,
        )
        .await;
        return Err(AppError::RateLimited {
            limit: failures.limit,
            reset_at: failures.reset_at,
        });
    }
    let found = found?;
    let ok = verify_password(
        password.to_owned(),
        found.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    let user = match (ok, found) {
        (true, Some(u)) if !u.disabled => u,
        (_, found) => {
            let mut ev = AuditEvent::new(action::LOGIN, Outcome::Failure, &Actor::default(), meta)
                .details(json!({"attempted_username": attempted_username(username, found.is_some()), "reason": "invalid_credentials"}));
            if let Some(u) = &found {
                ev = ev.target("user", &u.id);
            }
            let (counted, audited) = tokio::join!(
                state.store.hit_rate_limit(
                    LOGIN_USER_FAILURES,
                    &user_key,
                    c.login_rate_limit_username,
                    now
                ),
                state.store.put_audit(&ev)
            );
            counted?;
            audited?;
            return Err(invalid_credentials());
        }
    };
    if user.totp_enabled {
        return mfa::challenge(state, &user, meta)
            .await
            .map(LoginOutcome::MfaRequired);
    }
    let family_id = crate::store::tokens::new_family_id(crate::time::now().timestamp_millis());
    let (pair, record) = new_session(state, &user, &family_id).await?;
    let actor = Actor {
        user_id: Some(user.id.clone()),
        username: Some(user.username.clone()),
    };
    let mut events = vec![
        AuditEvent::new(action::LOGIN, Outcome::Success, &actor, meta).target("user", &user.id),
    ];
    let context = mfa::context_key(&user.id, meta);
    let contexts = mfa::remember_context(&user, &context);
    if let Some(list) = &contexts {
        events.push(
            AuditEvent::new(action::LOGIN_NEW_CONTEXT, Outcome::Success, &actor, meta)
                .target("user", &user.id)
                .details(json!({"context": context, "remembered_contexts": list.len()})),
        );
    }
    match state
        .store
        .start_password_session(&record, contexts.as_deref(), &events)
        .await
    {
        Ok(()) => Ok(LoginOutcome::Tokens(pair)),
        // TOTP was confirmed between the lookup and now: the code is needed after all.
        Err(e) if e.failed_condition_index() == Some(2) => mfa::challenge(state, &user, meta)
            .await
            .map(LoginOutcome::MfaRequired),
        Err(e) => Err(e.into()),
    }
}

/// Rotates a refresh token: one transaction. Reuse of a spent token revokes its family.
pub async fn refresh(state: &AppState, token: &str, meta: &RequestMeta) -> AppResult<TokenPair> {
    let claims = verify_token(state, token, TokenType::Refresh).await?;
    let family_id = claims
        .fam
        .clone()
        .ok_or_else(|| AppError::Unauthenticated("the refresh token has no family".into()))?;
    let actor = Actor {
        user_id: Some(claims.sub.clone()),
        username: Some(claims.username.clone()),
    };
    let access = issue(
        state,
        &claims.sub,
        &claims.username,
        claims.role,
        TokenType::Access,
        None,
        claims.mfa(),
    )
    .await?;
    let next = issue(
        state,
        &claims.sub,
        &claims.username,
        claims.role,
        TokenType::Refresh,
        Some(&family_id),
        claims.mfa(),
    )
    .await?;
    let now = crate::time::now().timestamp();
    let ev = AuditEvent::new(action::REFRESH, Outcome::Success, &actor, meta)
        .target("token_family", &family_id);
    let record = RefreshRecord {
        jti: next.jti.clone(),
        family_id: family_id.clone(),
        user_id: claims.sub.clone(),
        expires_at: next.exp,
    };
    match state
        .store
        .rotate_refresh_token(&claims.jti, &record, now, &ev)
        .await
    {
        Ok(()) => Ok(TokenPair {
            token_type: "bearer",
            access_token: access.token,
            access_token_expires_at: at(access.exp),
            refresh_token: next.token,
            refresh_token_expires_at: at(next.exp),
        }),
        Err(RotateError::Reused) => {
            let ev = AuditEvent::new(action::REFRESH_REUSE, Outcome::Failure, &actor, meta)
                .target("token_family", &family_id)
                .details(json!({"reason": "refresh_token_reused", "family_revoked": true}));
            state
                .store
                .revoke_token_family(&family_id, now, &ev)
                .await?;
            Err(AppError::Unauthenticated(
                "this refresh token was already used; its session has been revoked, log in again"
                    .into(),
            ))
        }
        Err(RotateError::Revoked) => Err(AppError::Unauthenticated(
            "this session was revoked; log in again".into(),
        )),
        Err(RotateError::Unknown) => Err(AppError::Unauthenticated(
            "the refresh token is not valid; log in again".into(),
        )),
        Err(RotateError::Store(e)) => Err(e.into()),
    }
}

/// Re-checks an admin's password, and the TOTP code when the admin has an authenticator, and
/// hands out an elevated token (audited either way). With TOTP, the code's step is spent in the
/// transaction of the success event.
pub async fn elevate(
    state: &AppState,
    p: &UserPrincipal,
    password: &str,
    code: Option<&str>,
    meta: &RequestMeta,
) -> AppResult<ElevatedToken> {
    let key = ratelimit::key_of(&p.user_id);
    let checks = [Check {
        scope: "elevate_user",
        key: &key,
        limit: state.config.login_rate_limit_username,
    }];
    let (limited, user, totp) = tokio::join!(
        ratelimit::enforce(&state.store, &checks),
        state.store.get_user(&p.user_id),
        state.store.get_totp(&p.user_id)
    );
    limited?;
    let user = user?;
    let totp = totp?;
    let ok = verify_password(
        password.to_owned(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    let actor = p.actor();
    let user = match (ok, user) {
        (true, Some(u)) if u.role == Role::Admin && !u.disabled => u,
        _ => {
            let ev = AuditEvent::new(action::ELEVATE, Outcome::Failure, &actor, meta)
                .target("user", &p.user_id)
                .details(json!({"reason": "invalid_credentials"}));
            state.store.put_audit(&ev).await?;
            return Err(AppError::Unauthenticated(
                "the password is incorrect".into(),
            ));
        }
    };
    let step = if user.totp_enabled {
        let Some(totp) = totp.filter(|t| t.is_active()) else {
            return Err(AppError::Internal(
                "the user is marked totp_enabled but has no active authenticator".into(),
            ));
        };
        let Some(code) = code else {
            let ev = AuditEvent::new(action::ELEVATE, Outcome::Failure, &actor, meta)
                .target("user", &p.user_id)
                .details(json!({"reason": "mfa_code_missing"}));
            state.store.put_audit(&ev).await?;
            return Err(AppError::Unauthenticated(
                "this account uses a TOTP authenticator: send its current `code` with the password"
                    .into(),
            ));
        };
        match mfa::check_code(state, &totp, code).await? {
            Ok(step) => Some(step),
            Err(r) => {
                let reason = match r {
                    crate::auth::totp::CodeRefusal::Invalid => "invalid_code",
                    crate::auth::totp::CodeRefusal::Replayed => "replayed_code",
                };
                let ev = mfa::failed_event(&actor, &p.user_id, "elevate", reason, meta);
                state.store.put_audit(&ev).await?;
                return Err(AppError::Unauthenticated(
                    "the code is not valid or was already used".into(),
                ));
            }
        }
    } else {
        None
    };
    let t = issue(
        state,
        &user.id,
        &user.username,
        user.role,
        TokenType::Elevated,
        None,
        step.is_some(),
    )
    .await?;
    let ev = AuditEvent::new(action::ELEVATE, Outcome::Success, &actor, meta)
        .target("user", &user.id)
        .details(json!({"mfa": step.is_some()}));
    match step {
        Some(step) => match state.store.spend_totp_step(&user.id, step, &ev).await {
            Ok(()) => {}
            Err(e) if e.failed_condition_index() == Some(0) => {
                return Err(AppError::Unauthenticated(
                    "the code is not valid or was already used".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        },
        None => state.store.put_audit(&ev).await?,
    }
    Ok(ElevatedToken {
        token_type: "bearer",
        elevated_token: t.token,
        elevated_token_expires_at: at(t.exp),
    })
}

/// Why a user could not be created.
#[derive(Debug)]
pub enum CreateUserError {
    Invalid(String),
    Taken,
    Other(AppError),
}

/// Creates a user (the CLI's `seed-admin` and the local bootstrap), audited.
pub async fn create_user(
    state: &AppState,
    username: &str,
    password_plain: &str,
    role: Role,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<User, CreateUserError> {
    user::validate_username(username)
        .map_err(|e| CreateUserError::Invalid(format!("username {e}")))?;
    user::validate_password(password_plain)
        .map_err(|e| CreateUserError::Invalid(format!("password {e}")))?;
    let pw = password_plain.to_owned();
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| CreateUserError::Other(AppError::internal(e)))?
        .map_err(|e| CreateUserError::Other(AppError::internal(e)))?;
    let u = User::new(
        uuid::Uuid::new_v4().to_string(),
        username,
        role,
        hash,
        crate::time::stamp(crate::time::now()),
    );
    let ev = AuditEvent::new(action::USER_CREATE, Outcome::Success, actor, meta)
        .target("user", &u.id)
        .details(json!({"username": username, "role": role.as_str()}));
    match state.store.create_user(&u, &ev).await {
        Ok(()) => Ok(u),
        Err(e) if e.failed_condition_index() == Some(1) => Err(CreateUserError::Taken),
        Err(e) => Err(CreateUserError::Other(e.into())),
    }
}

/// A new session for `user` in family `family_id` (a password change hands the caller one):
/// the token pair and the first refresh token's record, for the caller to store.
pub async fn new_session(
    state: &AppState,
    user: &User,
    family_id: &str,
) -> AppResult<(TokenPair, RefreshRecord)> {
    let access = issue(
        state,
        &user.id,
        &user.username,
        user.role,
        TokenType::Access,
        None,
        user.totp_enabled,
    )
    .await?;
    let refresh = issue(
        state,
        &user.id,
        &user.username,
        user.role,
        TokenType::Refresh,
        Some(family_id),
        user.totp_enabled,
    )
    .await?;
    let record = RefreshRecord {
        jti: refresh.jti,
        family_id: family_id.to_owned(),
        user_id: user.id.clone(),
        expires_at: refresh.exp,
    };
    Ok((
        TokenPair {
            token_type: "bearer",
            access_token: access.token,
            access_token_expires_at: at(access.exp),
            refresh_token: refresh.token,
            refresh_token_expires_at: at(refresh.exp),
        },
        record,
    ))
}
