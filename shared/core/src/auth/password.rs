//! Argon2id password hashing with OWASP's recommended parameters.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

/// OWASP (2023): argon2id, 19 MiB, 2 iterations, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a password could not be hashed (argon2 refused its input or parameters).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(argon2::password_hash::Error);

/// Hashes a password to a PHC string.
pub fn hash(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(HashError)
}

/// Verifies in constant time. A malformed stored hash verifies as false.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A PHC string with the same parameters as [`hasher`] whose salt and hash are random bytes: no
/// known password matches it. Precomputed so that the first unknown-username login of a cold
/// start does not pay for an extra hash.
const DUMMY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$h5Ai8rJh+KhI6iwwvpvARw$S0/aIP17nvtyV+WS31GRxkAeVwpF1tBWzt3ZAWo5GUM";

/// Spends one verification on a hash no password matches, so a login for an unknown username
/// costs the same time as one with a wrong password.
pub fn verify_dummy(password: &str) {
    let _ = verify(password, DUMMY_PHC);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_mismatch() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        // Same algorithm, version and parameters as a stored hash, so the unknown-user path
        // takes as long as a wrong password.
        let real = hash("x").unwrap();
        let params = |phc: &str| phc.rsplitn(3, '$').nth(2).unwrap().to_owned();
        assert_eq!(params(DUMMY_PHC), params(&real));
        let parsed = PasswordHash::new(DUMMY_PHC).unwrap();
        assert_eq!(parsed.salt.unwrap().len(), 22);
        assert_eq!(parsed.hash.unwrap().len(), 32);
        assert!(!verify("", DUMMY_PHC));
    }
}
