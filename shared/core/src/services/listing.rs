//! What every listing's cursors are bound to (store/cursor.rs): the listing with its filters,
//! and the caller.

use crate::error::AppResult;
use crate::state::AppState;
use crate::store::cursor::{Binding, CursorKey};
use hmac::{Hmac, Mac};

/// The label that makes cursor keys differ from the JWT keys they come from (and from any other
/// key derived from them): no new secret to provision, rotated with the JWT secret.
const CURSOR_KEY_LABEL: &[u8] = b"toolreg/cursor/v1";

/// The binding of `scope` (the listing and its filters, as text) for `viewer` (the caller's
/// principal id), with the cursor keys of the JWT secret's versions in force: HMAC-SHA256 of
/// the label under each, the signing (`AWSCURRENT`) one first. The key set is cached per
/// function, so this reads nothing on a warm one.
pub async fn binding(state: &AppState, viewer: &str, scope: String) -> AppResult<Binding> {
    let set = state.keys.get().await?;
    let derive = |kid: &String, secret: &Vec<u8>| {
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(CURSOR_KEY_LABEL);
        CursorKey {
            kid: kid.clone(),
            key: mac.finalize().into_bytes().into(),
        }
    };
    let mut keys: Vec<CursorKey> = set
        .keys
        .iter()
        .map(|(kid, secret)| derive(kid, secret))
        .collect();
    // The signing key seals.
    keys.sort_by_key(|k| k.kid != set.signing_kid);
    Ok(Binding::new(scope, viewer, keys))
}
