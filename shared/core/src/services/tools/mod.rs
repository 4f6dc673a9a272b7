//! The catalog: creating, changing, listing and probing tools, one module per use case. What
//! several use cases share (reading a tool, probing, the write-error mapping, `If-Match`) lives
//! here.

pub mod create;
pub mod drift;
pub mod get;
pub mod lifecycle;
pub mod list;
pub mod probe;
pub mod update;

pub use get::get;
pub use probe::{probe_and_apply, run_probe};

use crate::auth::principal::UserPrincipal;
use crate::crypto::envelope;
use crate::domain::audit::RequestMeta;
use crate::domain::tool::{self, Errors, IfMatch, Tool};
use crate::error::{AppError, AppResult};
use crate::services::ratelimit::{self, Check};
use crate::state::AppState;
use crate::store::tools::ToolWriteError;
use std::collections::BTreeMap;

fn now_stamp() -> String {
    crate::time::stamp(crate::time::now())
}

fn check_url(state: &AppState, url: &str, pointer: &str, errors: &mut Errors) {
    if url.len() > tool::MAX_SERVER_URL_LEN {
        errors.add(
            pointer,
            format!("must be at most {} characters", tool::MAX_SERVER_URL_LEN),
        );
        return;
    }
    if let Err(why) = crate::probe::check_server_url(url, state.config.probe_allow_private_networks)
    {
        errors.add(pointer, why);
    }
}

/// Probes cost outbound connections and time: limited per user and per source IP.
async fn enforce_probe_limits(
    state: &AppState,
    p: &UserPrincipal,
    meta: &RequestMeta,
) -> AppResult<()> {
    let ip = ratelimit::key_of(&meta.source_ip);
    let c = &state.config;
    ratelimit::enforce(
        &state.store,
        &[
            Check {
                scope: "probe_user",
                key: &p.user_id,
                limit: c.probe_rate_limit_user,
            },
            Check {
                scope: "probe_ip",
                key: &ip,
                limit: c.probe_rate_limit_ip,
            },
        ],
    )
    .await
}

/// When a probe record's history item expires.
pub fn probe_history_expiry(state: &AppState) -> i64 {
    crate::time::now().timestamp() + state.config.probe_history_ttl.as_secs() as i64
}

fn write_error(e: ToolWriteError, name: &str, if_match: bool) -> AppError {
    match e {
        ToolWriteError::NameTaken => AppError::Conflict(format!(
            "a tool named {name:?} already exists (names are case-insensitive)"
        )),
        ToolWriteError::Stale if if_match => AppError::PreconditionFailed(
            "the tool changed since the given ETag; fetch it again".into(),
        ),
        ToolWriteError::Stale => {
            AppError::Conflict("the tool was changed concurrently; retry".into())
        }
        ToolWriteError::Store(e) => e.into(),
    }
}

/// Checks `If-Match` against the tool's current ETag (`*` matches any existing tool).
pub fn check_if_match(t: &Tool, if_match: Option<&IfMatch>) -> AppResult<()> {
    match if_match {
        Some(IfMatch::Tags { raw, .. }) if !if_match.is_some_and(|m| m.accepts(t.version)) => {
            Err(AppError::PreconditionFailed(format!(
                "If-Match {raw} does not match the current ETag {}",
                t.etag()
            )))
        }
        _ => Ok(()),
    }
}

/// The decrypted static headers of a remote tool (empty when it has none).
pub async fn open_headers(state: &AppState, t: &Tool) -> AppResult<BTreeMap<String, String>> {
    match t.remote().and_then(|r| r.sealed_headers.as_ref()) {
        Some(sealed) => Ok(envelope::open(&state.kms, &t.id.to_string(), sealed).await?),
        None => Ok(BTreeMap::new()),
    }
}
