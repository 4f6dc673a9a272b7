//! Argon2id password hashing with OWASP's recommended parameters.

use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::Mutex;

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
/// Uses the pooled working memory, like [`verify`].
pub fn hash(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_buf)
        .map_err(HashError)?;
    let argon = hasher();
    let mut out = [0u8; 32];
    with_memory(argon.params().block_count(), |memory| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
    })
    .map_err(|e| HashError(e.into()))?;
    let output = Output::new(&out).map_err(HashError)?;
    let p = argon.params();
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        p.m_cost(),
        p.t_cost(),
        p.p_cost(),
        salt.as_str(),
        output
    ))
}

/// Argon2's working memory (19 MiB at OWASP's parameters), kept for reuse.
///
/// Allocating it per verification made a warm login function grow by ~19 MiB per invocation:
/// each verification ran on whichever blocking thread was free, glibc gave each thread its own
/// arena, and a freed 19 MiB block raised the mmap threshold so later ones stayed in the arenas.
/// A pool holds one buffer per concurrent verification (one in Lambda), so memory is flat.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let pooled = MEMORY.lock().unwrap_or_else(|p| p.into_inner()).pop();
    let mut memory = match pooled {
        Some(m) if m.len() == blocks => m,
        _ => vec![Block::default(); blocks],
    };
    let result = f(&mut memory);
    MEMORY
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(memory);
    result
}

/// Verifies in constant time. A malformed stored hash verifies as false.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(params), Some(salt), Some(expected)) =
        (Params::try_from(&parsed), parsed.salt, parsed.hash)
    else {
        return false;
    };
    let (Ok(algorithm), Ok(version)) = (
        Algorithm::try_from(parsed.algorithm),
        Version::try_from(parsed.version.unwrap_or(0x13)),
    ) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let computed = with_memory(params.block_count(), |memory| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
    });
    // `Output` equality is constant-time.
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
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
