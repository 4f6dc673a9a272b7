//! HS256 JWTs: access, refresh and elevated tokens.

use super::keys::KeySet;
use crate::domain::user::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a token may be used for. Each route accepts exactly one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenType {
    Access,
    Refresh,
    Elevated,
}

/// The claims toolreg signs (DESIGN.md §5), plus the username so `/auth/me` needs no read and
/// the refresh family id on refresh tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub username: String,
    pub role: Role,
    pub typ: TokenType,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
    /// Agents' tokens (`sub` = `agent:<id>`): the granted scopes, space-separated (RFC 6749
    /// §3.3), and the agent's groups and tags, so policies match without a read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Agents' tokens: the public prefix of the API key the token was minted with, so an access
    /// request can check that key (and its copy of the agent) is still good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// How the session was authenticated (RFC 8176 values): `pwd`, plus `otp` when a TOTP code
    /// was checked. Refresh carries it over, so the dispatcher can tell an MFA session from the
    /// token alone (`REQUIRE_ADMIN_MFA`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

/// The `amr` value of a second factor (RFC 8176 `otp`).
pub const AMR_OTP: &str = "otp";

/// The `amr` of a session: the password, plus the one-time code when one was checked.
pub fn amr(mfa: bool) -> Vec<String> {
    let mut v = vec!["pwd".to_owned()];
    if mfa {
        v.push(AMR_OTP.to_owned());
    }
    v
}

impl Claims {
    /// True when the session was authenticated with a second factor.
    pub fn mfa(&self) -> bool {
        self.amr.iter().any(|m| m == AMR_OTP)
    }
}

/// Why a token could not be signed: always a bug or a broken key set, never the client's doing.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the signing key is missing from the key set")]
    MissingKey,
    #[error("token encoding failed: {0}")]
    Encode(#[from] jsonwebtoken::errors::Error),
}

/// Signs `claims` with the current key.
pub fn sign(keys: &KeySet, claims: &Claims) -> Result<String, SignError> {
    let key = keys
        .keys
        .get(&keys.signing_kid)
        .ok_or(SignError::MissingKey)?;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(keys.signing_kid.clone());
    Ok(jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(key),
    )?)
}

/// Why a token was refused. The detail goes to the client; it reveals nothing secret.
#[derive(Debug, PartialEq)]
pub enum VerifyError {
    /// Signed with a `kid` this key set does not have (maybe a newer key: reload and retry).
    UnknownKid,
    Invalid(String),
}

/// Verifies signature, algorithm, expiry, issuer and audience. The token type is checked by the
/// caller, which knows what it expects.
pub fn verify(
    keys: &KeySet,
    token: &str,
    issuer: &str,
    audience: &str,
) -> Result<Claims, VerifyError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| VerifyError::Invalid("the token is malformed".into()))?;
    if header.alg != Algorithm::HS256 {
        return Err(VerifyError::Invalid(
            "the token's algorithm is not accepted".into(),
        ));
    }
    let kid = header
        .kid
        .ok_or_else(|| VerifyError::Invalid("the token has no key id".into()))?;
    let key = keys.keys.get(&kid).ok_or(VerifyError::UnknownKid)?;
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    v.leeway = 5;
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(key), &v)
        .map(|d| d.claims)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind::*;
            let why = match e.kind() {
                ExpiredSignature => "the token has expired",
                InvalidIssuer => "the token was not issued by this service",
                InvalidAudience => "the token is not meant for this service",
                InvalidSignature => "the token's signature is invalid",
                MissingRequiredClaim(_) => "the token lacks a required claim",
                _ => "the token is invalid",
            };
            VerifyError::Invalid(why.into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn keys(kid: &str, secret: &str) -> KeySet {
        KeySet {
            signing_kid: kid.into(),
            keys: HashMap::from([(kid.to_string(), secret.as_bytes().to_vec())]),
        }
    }

    fn claims(exp_in: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "u1".into(),
            username: "alice".into(),
            role: Role::Admin,
            typ: TokenType::Access,
            jti: "j1".into(),
            iat: now,
            exp: now + exp_in,
            iss: "toolreg".into(),
            aud: "toolreg-api".into(),
            fam: None,
            scope: None,
            groups: vec![],
            tags: vec![],
            key: None,
            amr: amr(false),
        }
    }

    const K: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn signed_tokens_verify_and_carry_their_kid() {
        let k = keys("k1", K);
        let t = sign(&k, &claims(60)).unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&t).unwrap().kid.as_deref(),
            Some("k1")
        );
        assert_eq!(verify(&k, &t, "toolreg", "toolreg-api").unwrap().sub, "u1");
    }

    #[test]
    fn wrong_key_issuer_audience_expiry_and_kid_are_refused() {
        let k = keys("k1", K);
        let t = sign(&k, &claims(60)).unwrap();
        let other = keys("k1", "another-key-another-key-another-key");
        assert!(matches!(
            verify(&other, &t, "toolreg", "toolreg-api"),
            Err(VerifyError::Invalid(_))
        ));
        assert!(verify(&k, &t, "someone-else", "toolreg-api").is_err());
        assert!(verify(&k, &t, "toolreg", "other-api").is_err());
        let expired = sign(&k, &claims(-3600)).unwrap();
        assert!(verify(&k, &expired, "toolreg", "toolreg-api").is_err());
        let k2 = keys("k2", K);
        assert_eq!(
            verify(&k2, &t, "toolreg", "toolreg-api"),
            Err(VerifyError::UnknownKid)
        );
    }

    #[test]
    fn alg_none_is_refused() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        let body = b64.encode(serde_json::to_vec(&claims(60)).unwrap());
        let token = format!("{header}.{body}.");
        assert!(verify(&keys("k1", K), &token, "toolreg", "toolreg-api").is_err());
    }
}
