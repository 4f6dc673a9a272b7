//! RFC 6238 time-based one-time passwords (HMAC-SHA1, 6 digits, 30-second steps), the RFC 4226
//! truncation they are built on, and the base32 (RFC 4648) form authenticator apps read.
//!
//! Pure functions: no clock (the caller passes the time), no storage. Replay protection lives
//! with the stored last-used step (`services::mfa`).

use hmac::{Hmac, Mac};

/// Seconds per time step (RFC 6238's default X).
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one (clock drift between phone and server).
pub const WINDOW: i64 = 1;
/// Bytes of a new secret: 160 bits, the HMAC-SHA1 block-size recommendation of RFC 4226 §4.
pub const SECRET_BYTES: usize = 20;

/// The time step of `unix_seconds` (T = floor((now − T0) / X), T0 = 0).
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// RFC 4226 HOTP value of `counter` with `digits` digits (the dynamic truncation of §5.3).
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes keys of any size");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let binary = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    binary % 10u32.pow(digits)
}

/// The 6-digit code of `step`, zero-padded.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    format!(
        "{:0width$}",
        hotp(secret, step.max(0) as u64, DIGITS),
        width = DIGITS as usize
    )
}

/// The 6-digit code at `unix_seconds`.
pub fn code_at(secret: &[u8], unix_seconds: i64) -> String {
    code_at_step(secret, step_at(unix_seconds))
}

/// True when `code` has the form of a code: exactly six ASCII digits.
pub fn is_well_formed(code: &str) -> bool {
    code.len() == DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit())
}

/// Why a code was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeRefusal {
    /// No step within the window produces this code.
    Invalid,
    /// The code matches a step at or before the last one used: a code works once.
    Replayed,
}

/// Checks `code` at `unix_seconds` against the steps within [`WINDOW`]; `last_used_step` is the
/// newest step a code was accepted for. Returns the matched step, which the caller stores as the
/// new last-used step (in the same transaction as what the code authorises). Every candidate
/// step is compared, in constant time, so timing does not tell which one matched.
pub fn verify(
    secret: &[u8],
    code: &str,
    unix_seconds: i64,
    last_used_step: Option<i64>,
) -> Result<i64, CodeRefusal> {
    if !is_well_formed(code) {
        return Err(CodeRefusal::Invalid);
    }
    let now = step_at(unix_seconds);
    let mut matched: Option<i64> = None;
    for step in (now - WINDOW)..=(now + WINDOW) {
        let candidate = code_at_step(secret, step);
        if constant_time_eq(candidate.as_bytes(), code.as_bytes()) && matched.is_none() {
            matched = Some(step);
        }
    }
    match matched {
        None => Err(CodeRefusal::Invalid),
        Some(step) if last_used_step.is_some_and(|last| step <= last) => Err(CodeRefusal::Replayed),
        Some(step) => Ok(step),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    let mut s = vec![0u8; SECRET_BYTES];
    rand::Rng::fill(&mut rand::rng(), &mut s[..]);
    s
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what `otpauth://` URIs carry).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes base32 (case-insensitive, padding and spaces ignored); `None` for other characters.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !matches!(c, b'=' | b' ')) {
        let v = BASE32.iter().position(|&x| x == c.to_ascii_uppercase())? as u32;
        buffer = ((buffer << 5) | v) & 0xffff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The `otpauth://totp/...` URI (Google Authenticator's key-URI format) for `account` at
/// `issuer`, which authenticator apps turn into an entry (often via a QR code).
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        percent(issuer),
        percent(account),
        percent(issuer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
    const SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let vectors: [(i64, &str); 6] = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (t, want) in vectors {
            let got = format!("{:08}", hotp(SEED, step_at(t) as u64, 8));
            assert_eq!(got, want, "T = {t}");
            // Six digits are the same truncation modulo 10^6.
            assert_eq!(code_at(SEED, t), want[2..], "T = {t}");
        }
        // RFC 6238's T column for T = 59 and 1111111109.
        assert_eq!(step_at(59), 1);
        assert_eq!(step_at(1_111_111_109), 0x023523EC);
    }

    #[test]
    fn rfc4226_appendix_d_hotp_vectors() {
        let want = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, w) in want.iter().enumerate() {
            assert_eq!(hotp(SEED, counter as u64, 6), *w, "counter {counter}");
        }
    }

    #[test]
    fn the_window_is_one_step_either_side_and_a_code_works_once() {
        let t = 1_234_567_890;
        let now = step_at(t);
        for step in [now - 1, now, now + 1] {
            assert_eq!(verify(SEED, &code_at_step(SEED, step), t, None), Ok(step));
        }
        for step in [now - 2, now + 2] {
            assert_eq!(
                verify(SEED, &code_at_step(SEED, step), t, None),
                Err(CodeRefusal::Invalid)
            );
        }
        let code = code_at_step(SEED, now);
        assert_eq!(
            verify(SEED, &code, t, Some(now)),
            Err(CodeRefusal::Replayed)
        );
        // An older step than the last one used is refused too; a newer one passes.
        assert_eq!(
            verify(SEED, &code_at_step(SEED, now - 1), t, Some(now)),
            Err(CodeRefusal::Replayed)
        );
        assert_eq!(
            verify(SEED, &code_at_step(SEED, now + 1), t, Some(now)),
            Ok(now + 1)
        );
        for bad in ["", "12345", "1234567", "12345a", " 23456", "１２３４５６"] {
            assert_eq!(
                verify(SEED, bad, t, None),
                Err(CodeRefusal::Invalid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc4648() {
        // RFC 4648 §10, padding dropped.
        for (plain, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap(), plain.as_bytes());
        }
        let s = new_secret();
        assert_eq!(s.len(), SECRET_BYTES);
        let text = base32_encode(&s);
        assert_eq!(text.len(), 32);
        assert_eq!(base32_decode(&text.to_lowercase()).unwrap(), s);
        assert_eq!(base32_decode("MZXW6YTB1"), None);
        assert_ne!(new_secret(), s);
    }

    #[test]
    fn otpauth_uris_encode_the_label() {
        assert_eq!(
            otpauth_uri("toolreg", "alice@example.com", "MZXW6"),
            "otpauth://totp/toolreg:alice%40example.com?secret=MZXW6&issuer=toolreg&algorithm=SHA1&digits=6&period=30"
        );
    }
}
