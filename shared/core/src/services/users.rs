//! People and agents: admins create, change, disable and re-enable users and reset their
//! passwords; everyone changes their own password and ends their own sessions.
//!
//! Every change is one transaction holding the user item and its audit event. Passwords are
//! hashed here and never leave: not in responses, logs or audit details.
//!
//! Sessions: a refresh-token family carries its start time in its id, and the user item carries
//! `sessions_valid_after_ms`; refresh refuses families that started before that mark, or of a
//! disabled user (see `store::tokens`). So disabling, a role change, a password change or reset
//! revoke every session of the user with one attribute in the same transaction, whatever the
//! number of families. Access tokens are checked without a database call and run out on their
//! own (15 minutes by default).
//!
//! The last-admin rule: demoting or disabling an active admin needs another active admin, the
//! *witness*. Its item is condition-checked (still an enabled admin) in the same transaction, so
//! two admins demoting each other at once cannot both succeed: the transactions touch both
//! items, and the second to commit fails its check and retries against the new state.

use crate::auth::jwt::TokenType;
use crate::auth::password;
use crate::auth::principal::{verify_token, UserPrincipal};
use crate::domain::audit::{action, Actor, AuditEvent, Outcome, RequestMeta};
use crate::domain::user::{self, Role, User};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::body::present;
use crate::services::auth::TokenPair;
use crate::services::ratelimit::{self, Check};
use crate::state::AppState;
use crate::store::tokens::{family_started_ms, new_family_id};
use crate::store::users::{UserFilter, UserPage, UserWriteError};
use serde::Deserialize;
use serde_json::{json, Value};

/// `POST /users` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub role: Role,
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<String>,
    pub password: String,
}

/// `PATCH /users/{id}` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub role: Option<Role>,
}

/// `POST /users/{id}/reset-password` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    pub new_password: String,
}

/// `POST /auth/password` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /auth/logout` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logout {
    pub refresh_token: String,
}

/// Anything longer cannot be a stored password; refusing it early bounds argon2's work.
const MAX_CREDENTIAL_LEN: usize = 1024;

fn now_stamp() -> String {
    crate::time::stamp(crate::time::now())
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!(
        "no user with id {:?}",
        id.chars().take(64).collect::<String>()
    ))
}

fn last_admin() -> AppError {
    AppError::Conflict("this is the last active admin: make another user an admin first".into())
}

async fn hash(plain: &str) -> AppResult<String> {
    let pw = plain.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

async fn verify(plain: &str, hash: &str) -> bool {
    let (pw, h) = (plain.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || password::verify(&pw, &h))
        .await
        .unwrap_or(false)
}

fn check_password(pointer: &str, p: &str, errors: &mut Vec<FieldError>) {
    if let Err(e) = user::validate_password(p) {
        errors.push(FieldError::new(pointer, e.0));
    }
}

fn done(errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Creates a user (the API and `toolreg user create`), audited as `user.create`.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    b: CreateUser,
    meta: &RequestMeta,
) -> AppResult<User> {
    let mut errors = Vec::new();
    if let Err(e) = user::validate_username(&b.username) {
        errors.push(FieldError::new("/username", e.0));
    }
    if let Some(d) = &b.display_name {
        if let Err(e) = user::validate_display_name(d) {
            errors.push(FieldError::new("/display_name", e));
        }
    }
    check_password("/password", &b.password, &mut errors);
    done(errors)?;
    let mut u = User::new(
        uuid::Uuid::new_v4().to_string(),
        &b.username,
        b.role,
        hash(&b.password).await?,
        now_stamp(),
    );
    if let Some(d) = b.display_name {
        u.display_name = d;
    }
    let ev = AuditEvent::new(action::USER_CREATE, Outcome::Success, actor, meta)
        .target("user", &u.id)
        .details(json!({"username": u.username, "role": u.role.as_str(), "display_name": u.display_name}));
    match state.store.create_user(&u, &ev).await {
        Ok(()) => Ok(u),
        Err(e) if e.failed_condition_index() == Some(1) => Err(AppError::Conflict(format!(
            "a user named {:?} already exists (usernames are case-insensitive)",
            b.username
        ))),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(state: &AppState, id: &str) -> AppResult<User> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(not_found(id));
    }
    state.store.get_user(id).await?.ok_or_else(|| not_found(id))
}

pub async fn list(
    state: &AppState,
    viewer: &str,
    f: &UserFilter,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<UserPage> {
    let scope = format!(
        "users:{}:{}:{}",
        f.role.map(|r| r.as_str()).unwrap_or(""),
        f.disabled.map(|d| d.to_string()).unwrap_or_default(),
        ratelimit::key_of(f.q.as_deref().unwrap_or(""))
    );
    let binding = super::listing::binding(state, viewer, scope).await?;
    Ok(state.store.list_users(f, limit, cursor, &binding).await?)
}

/// What an edit of a user does: the new user and the audit details, or nothing to do.
type Edit = Option<(User, Value)>;

/// Reads the user, applies `edit`, and stores the result with its audit event (and, for a
/// password change, the caller's new session) in one transaction. Without `If-Match` a
/// concurrent change is retried on the fresh copy; with it, it is a 412.
async fn change<F>(
    state: &AppState,
    id: &str,
    if_match: Option<&str>,
    actor: &Actor,
    meta: &RequestMeta,
    act: &str,
    mut edit: F,
) -> AppResult<User>
where
    F: FnMut(&User) -> AppResult<Edit>,
{
    for _ in 0..3 {
        let old = get(state, id).await?;
        super::check_if_match(old.version, if_match)?;
        let Some((mut new, details)) = edit(&old)? else {
            return Ok(old);
        };
        new.version = old.version + 1;
        new.updated_at = now_stamp();
        let witness = if old.is_active_admin() && !new.is_active_admin() {
            match state.store.other_active_admin(&old.id).await? {
                Some(w) => Some(w.id),
                None => return Err(last_admin()),
            }
        } else {
            None
        };
        let ev = AuditEvent::new(act, Outcome::Success, actor, meta)
            .target("user", &old.id)
            .details(details);
        match state
            .store
            .save_user(&new, old.version, witness.as_deref(), None, &ev)
            .await
        {
            Ok(()) => return Ok(new),
            Err(UserWriteError::Stale) if if_match.is_some() => {
                return Err(AppError::PreconditionFailed(
                    "the user changed since the given ETag; fetch it again".into(),
                ))
            }
            Err(UserWriteError::Stale | UserWriteError::WitnessGone) => continue,
            Err(UserWriteError::Store(e)) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict(
        "the user was changed concurrently; retry".into(),
    ))
}

/// Revokes every session of `u` started up to now (see the module docs).
fn revoke_sessions(u: &mut User) {
    u.sessions_valid_after_ms = Some(crate::time::now().timestamp_millis());
}

/// `PATCH /users/{id}`: display name and role. A role change ends the user's sessions, so
/// their next tokens carry the new role.
pub async fn update(
    state: &AppState,
    p: &UserPrincipal,
    id: &str,
    b: UpdateUser,
    if_match: Option<&str>,
    meta: &RequestMeta,
) -> AppResult<User> {
    if b.display_name.is_none() && b.role.is_none() {
        return Err(AppError::field(
            "",
            "send at least one of display_name, role",
        ));
    }
    if let Some(d) = &b.display_name {
        user::validate_display_name(d).map_err(|e| AppError::field("/display_name", e))?;
    }
    change(
        state,
        id,
        if_match,
        &p.actor(),
        meta,
        action::USER_UPDATE,
        |old| {
            let mut new = old.clone();
            let mut changed = Vec::new();
            if let Some(d) = &b.display_name {
                if *d != old.display_name {
                    new.display_name = d.clone();
                    changed.push("display_name");
                }
            }
            if let Some(r) = b.role {
                if r != old.role {
                    new.role = r;
                    revoke_sessions(&mut new);
                    changed.push("role");
                }
            }
            if changed.is_empty() {
                return Ok(None);
            }
            let details = json!({
                "changed": changed,
                "role": new.role.as_str(),
                "previous_role": old.role.as_str(),
                "display_name": new.display_name,
                "version": old.version + 1,
            });
            Ok(Some((new, details)))
        },
    )
    .await
}

/// `POST /users/{id}/disable` and `/enable` (idempotent: no change, no event). Disabling
/// revokes every session of the user.
pub async fn set_disabled(
    state: &AppState,
    p: &UserPrincipal,
    id: &str,
    disabled: bool,
    if_match: Option<&str>,
    meta: &RequestMeta,
) -> AppResult<User> {
    let act = if disabled {
        action::USER_DISABLE
    } else {
        action::USER_ENABLE
    };
    change(state, id, if_match, &p.actor(), meta, act, |old| {
        if old.disabled == disabled {
            return Ok(None);
        }
        let mut new = old.clone();
        new.disabled = disabled;
        if disabled {
            revoke_sessions(&mut new);
        }
        let details = json!({"sessions_revoked": disabled, "version": old.version + 1});
        Ok(Some((new, details)))
    })
    .await
}

/// `POST /users/{id}/reset-password` (elevated admin): a new password and every session of
/// the user revoked.
pub async fn reset_password(
    state: &AppState,
    p: &UserPrincipal,
    id: &str,
    b: ResetPassword,
    meta: &RequestMeta,
) -> AppResult<User> {
    let mut errors = Vec::new();
    check_password("/new_password", &b.new_password, &mut errors);
    done(errors)?;
    // Checked before hashing so an unknown id costs no argon2.
    get(state, id).await?;
    let new_hash = hash(&b.new_password).await?;
    change(
        state,
        id,
        None,
        &p.actor(),
        meta,
        action::USER_PASSWORD_RESET,
        |old| {
            let mut new = old.clone();
            new.password_hash = new_hash.clone();
            revoke_sessions(&mut new);
            Ok(Some((
                new,
                json!({"sessions_revoked": true, "version": old.version + 1}),
            )))
        },
    )
    .await
}

/// `POST /auth/password`: the caller's own password, checked, then replaced; every session of
/// the caller is revoked and a new one handed back in the same transaction, so the caller stays
/// logged in and everything else holding their tokens is cut off at its next refresh.
pub async fn change_own_password(
    state: &AppState,
    p: &UserPrincipal,
    b: ChangePassword,
    meta: &RequestMeta,
) -> AppResult<TokenPair> {
    if b.current_password.is_empty() || b.current_password.len() > MAX_CREDENTIAL_LEN {
        return Err(AppError::field(
            "/current_password",
            format!("must be 1 to {MAX_CREDENTIAL_LEN} bytes"),
        ));
    }
    let mut errors = Vec::new();
    check_password("/new_password", &b.new_password, &mut errors);
    done(errors)?;
    let key = ratelimit::key_of(&p.user_id);
    let checks = [Check {
        scope: "password_user",
        key: &key,
        limit: state.config.login_rate_limit_username,
    }];
    let (limited, found) = tokio::join!(
        ratelimit::enforce(&state.store, &checks),
        state.store.get_user(&p.user_id)
    );
    limited?;
    let actor = p.actor();
    let old = match found? {
        Some(u) if !u.disabled => u,
        _ => {
            return Err(AppError::Unauthenticated(
                "this account is disabled or no longer exists".into(),
            ))
        }
    };
    if !verify(&b.current_password, &old.password_hash).await {
        let ev = AuditEvent::new(action::PASSWORD_CHANGE, Outcome::Failure, &actor, meta)
            .target("user", &old.id)
            .details(json!({"reason": "invalid_credentials"}));
        state.store.put_audit(&ev).await?;
        return Err(AppError::Unauthenticated(
            "the current password is incorrect".into(),
        ));
    }
    let mut new = old.clone();
    new.password_hash = hash(&b.new_password).await?;
    new.version = old.version + 1;
    new.updated_at = now_stamp();
    revoke_sessions(&mut new);
    let cutoff = new.sessions_valid_after_ms.unwrap_or_default();
    // The new session starts after the mark, so it survives it.
    let family_id = new_family_id(cutoff + 1);
    debug_assert!(family_started_ms(&family_id) > cutoff);
    let (pair, first) = crate::services::auth::new_session(state, &new, &family_id).await?;
    let ev = AuditEvent::new(action::PASSWORD_CHANGE, Outcome::Success, &actor, meta)
        .target("user", &old.id)
        .details(json!({"sessions_revoked": true, "new_token_family": family_id, "version": new.version}));
    match state
        .store
        .save_user(&new, old.version, None, Some(&first), &ev)
        .await
    {
        Ok(()) => Ok(pair),
        Err(UserWriteError::Stale | UserWriteError::WitnessGone) => Err(AppError::Conflict(
            "the account changed while the password was being changed; retry".into(),
        )),
        Err(UserWriteError::Store(e)) => Err(e.into()),
    }
}

/// `POST /auth/logout`: revokes the family of the presented refresh token (idempotent).
pub async fn logout(state: &AppState, b: Logout, meta: &RequestMeta) -> AppResult<()> {
    if b.refresh_token.is_empty() || b.refresh_token.len() > MAX_CREDENTIAL_LEN {
        return Err(AppError::field(
            "/refresh_token",
            format!("must be 1 to {MAX_CREDENTIAL_LEN} bytes"),
        ));
    }
    let claims = verify_token(state, &b.refresh_token, TokenType::Refresh).await?;
    let family_id = claims
        .fam
        .clone()
        .ok_or_else(|| AppError::Unauthenticated("the refresh token has no family".into()))?;
    let actor = Actor {
        user_id: Some(claims.sub.clone()),
        username: Some(claims.username.clone()),
    };
    let ev = AuditEvent::new(action::LOGOUT, Outcome::Success, &actor, meta)
        .target("token_family", &family_id);
    let now = crate::time::now().timestamp();
    match state.store.revoke_token_family(&family_id, now, &ev).await {
        Ok(()) => Ok(()),
        // The family expired and is gone: nothing is left to revoke.
        Err(e) if e.failed_condition_index() == Some(0) => {
            state.store.put_audit(&ev).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
