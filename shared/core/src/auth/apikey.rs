//! Agent API keys: `trk_<prefix>_<secret>`.
//!
//! The prefix is public (it names the key in listings and is the key's DynamoDB key, so
//! authentication is one `GetItem`); the secret is 256 bits of randomness. Only an HMAC-SHA256
//! of the whole key under a pepper is stored. The pepper lives in Secrets Manager, not in the
//! table, so a copy of the table alone cannot test guesses; it rotates by `kid` like the JWT
//! key (see `auth::keys`): a key records the pepper `kid` it was made with.

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

const PREFIX: &str = "trk_";
const PREFIX_LEN: usize = 12;
const SECRET_LEN: usize = 52;
/// RFC 4648 base32, lower-case: no `_`, so the parts split unambiguously.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A freshly made key: shown to its owner once.
pub struct NewKey {
    pub prefix: String,
    pub key: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("NewKey")
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn random(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A new key: 60 bits of prefix, 260 bits of secret.
pub fn generate() -> NewKey {
    let prefix = random(PREFIX_LEN);
    let key = format!("{PREFIX}{prefix}_{}", random(SECRET_LEN));
    NewKey { prefix, key }
}

/// Whether `s` looks like one of our keys at all (cheap, before any read).
pub fn looks_like_key(s: &str) -> bool {
    s.starts_with(PREFIX)
}

/// The public prefix of a well-formed key, or `None`.
pub fn prefix_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(PREFIX)?;
    let (prefix, secret) = rest.split_once('_')?;
    let ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| ALPHABET.contains(&b));
    (ok(prefix, PREFIX_LEN) && ok(secret, SECRET_LEN)).then_some(prefix)
}

/// Whether `prefix` is shaped like a key prefix (path parameters).
pub fn is_prefix(prefix: &str) -> bool {
    prefix.len() == PREFIX_LEN && prefix.bytes().all(|b| ALPHABET.contains(&b))
}

fn mac(pepper: &[u8], key: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(pepper).expect("HMAC takes any key length");
    m.update(key.as_bytes());
    m
}

/// Hex HMAC-SHA256 of `key` under `pepper`: what is stored.
pub fn digest(pepper: &[u8], key: &str) -> String {
    hex::encode(mac(pepper, key).finalize().into_bytes())
}

/// Compares `key` with a stored digest in constant time.
pub fn matches(pepper: &[u8], key: &str, stored_hex: &str) -> bool {
    match hex::decode(stored_hex) {
        Ok(stored) => mac(pepper, key).verify_slice(&stored).is_ok(),
        Err(_) => false,
    }
}

/// Runs of key-alphabet characters this long or longer look like key material (a key's secret
/// is 52 of them); shorter runs are what names are made of.
const KEY_LIKE_RUN: usize = 16;

/// Whether `s` may hold (part of) a key: the `trk_` marker anywhere, or a run of
/// [`KEY_LIKE_RUN`]+ characters of the key alphabet, case-insensitively. For text a client sent
/// before it authenticated, where a key or secret lands by mistake (swapped client id and
/// secret, a key typed as a username): such text is never stored or logged as sent.
pub fn may_hold_key(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if lower.contains(PREFIX) {
        return true;
    }
    let mut run = 0;
    for b in lower.bytes() {
        run = if ALPHABET.contains(&b) { run + 1 } else { 0 };
        if run >= KEY_LIKE_RUN {
            return true;
        }
    }
    false
}

/// `s` with every `trk_…` run (the marker and the key characters after it) replaced by
/// `trk_[redacted]`: for request paths in log lines.
pub fn redact(s: &str) -> std::borrow::Cow<'_, str> {
    let lower = s.to_ascii_lowercase();
    if !lower.contains(PREFIX) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = 0;
    let bytes = lower.as_bytes();
    while let Some(at) = lower[rest..].find(PREFIX).map(|i| rest + i) {
        out.push_str(&s[rest..at]);
        out.push_str("trk_[redacted]");
        let mut end = at + PREFIX.len();
        while end < bytes.len() && (ALPHABET.contains(&bytes[end]) || bytes[end] == b'_') {
            end += 1;
        }
        rest = end;
    }
    out.push_str(&s[rest..]);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_material_is_recognised_and_redacted() {
        let k = generate().key;
        assert!(may_hold_key(&k));
        assert!(may_hold_key(&k[4..]), "without the marker");
        assert!(may_hold_key(&k[20..36]), "any 16 characters of the secret");
        assert!(may_hold_key(&k.to_uppercase()));
        for name in [
            "alice",
            "bob.smith@example.com",
            "svc-reporting_01",
            "mfa_c2a2480580",
        ] {
            assert!(!may_hold_key(name), "{name}");
        }
        let path = format!("/api/v1/credentials/{k}/x");
        let r = redact(&path);
        assert_eq!(r, "/api/v1/credentials/trk_[redacted]/x");
        assert!(!r.contains(&k[4..20]));
        assert_eq!(redact("/api/v1/tools"), "/api/v1/tools");
        assert_eq!(redact("a TRK_ab b"), "a trk_[redacted] b");
    }

    #[test]
    fn generated_keys_parse_and_differ() {
        let a = generate();
        let b = generate();
        assert_ne!(a.key, b.key);
        assert_eq!(prefix_of(&a.key), Some(a.prefix.as_str()));
        assert!(is_prefix(&a.prefix));
        assert!(looks_like_key(&a.key));
        assert!(!format!("{a:?}").contains(&a.key[17..]));
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        let k = generate().key;
        for bad in [
            "trk_",
            "trk_abc_def",
            &k[..k.len() - 1],
            &format!("{k}a"),
            &k.replace("trk_", "trx_"),
            &k.to_uppercase(),
        ] {
            assert_eq!(prefix_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn digests_match_only_the_same_key_and_pepper() {
        let k = generate().key;
        let d = digest(b"pepper-one", &k);
        assert!(matches(b"pepper-one", &k, &d));
        assert!(!matches(b"pepper-two", &k, &d));
        assert!(!matches(b"pepper-one", &generate().key, &d));
        assert!(!matches(b"pepper-one", &k, "not hex"));
    }
}
