//! Tool credentials signed ES256 by an asymmetric KMS key (`ECC_NIST_P256`, `SIGN_VERIFY`): the
//! private key never leaves KMS. The public keys are published as a JWKS so a tool's server
//! verifies credentials offline.
//!
//! Rotation: `CREDENTIAL_KMS_KEY_IDS` lists key ids or aliases, the first signs and every one is
//! published; add a new key in front and drop the old one once its credentials expired (at most
//! an hour). A key's `kid` is its KMS key id. Public keys are read once per cold start.

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use tokio::sync::OnceCell;

/// Why a credential could not be signed or the keys published.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// KMS did not answer in time (a retry may succeed).
    #[error("kms {0}: unreachable")]
    Unavailable(&'static str),
    #[error("kms {op}: {code}: {message}")]
    Kms {
        op: &'static str,
        code: String,
        message: String,
    },
    /// KMS answered something this code cannot use (not a P-256 key, a malformed signature).
    #[error("{0}")]
    Broken(String),
}

fn kms_error<E, R>(
    op: &'static str,
    e: aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> SignerError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    if crate::aws::is_unavailable(&e) {
        return SignerError::Unavailable(op);
    }
    SignerError::Kms {
        op,
        code: e.code().unwrap_or("unknown").to_owned(),
        message: e.message().unwrap_or_default().to_owned(),
    }
}

/// One published key.
#[derive(Clone, Debug)]
struct PublicKey {
    /// What `Sign` is called with (the configured id or alias).
    key_ref: String,
    kid: String,
    x: Vec<u8>,
    y: Vec<u8>,
}

/// Signs credentials and publishes their keys. Cheap to share: one per cold start.
pub struct CredentialSigner {
    kms: aws_sdk_kms::Client,
    key_refs: Vec<String>,
    keys: OnceCell<Vec<PublicKey>>,
}

/// The uncompressed P-256 point at the end of a DER SubjectPublicKeyInfo: `04 || X || Y`.
fn p256_point(spki: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    // The SPKI of a P-256 key is 91 bytes: a fixed 26-byte prefix naming id-ecPublicKey and
    // prime256v1, then the 65-byte point.
    const PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let point = spki.strip_prefix(&PREFIX)?;
    if point.len() != 65 || point[0] != 0x04 {
        return None;
    }
    Some((point[1..33].to_vec(), point[33..].to_vec()))
}

/// A DER ECDSA signature (`SEQUENCE { INTEGER r, INTEGER s }`) as JWS's fixed 64 bytes.
pub fn der_to_jws(der: &[u8]) -> Option<[u8; 64]> {
    fn int(b: &[u8]) -> Option<(&[u8], &[u8])> {
        let (&tag, rest) = b.split_first()?;
        let (&len, rest) = rest.split_first()?;
        if tag != 0x02 || len as usize > rest.len() || len > 33 {
            return None;
        }
        Some(rest.split_at(len as usize))
    }
    let (&tag, rest) = der.split_first()?;
    let (&len, body) = rest.split_first()?;
    if tag != 0x30 || len as usize != body.len() {
        return None;
    }
    let (r, rest) = int(body)?;
    let (s, rest) = int(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let mut out = [0u8; 64];
    for (i, v) in [r, s].into_iter().enumerate() {
        let v = if v.len() == 33 {
            if v[0] != 0 {
                return None;
            }
            &v[1..]
        } else {
            v
        };
        out[i * 32 + 32 - v.len()..(i + 1) * 32].copy_from_slice(v);
    }
    Some(out)
}

impl CredentialSigner {
    pub fn new(kms: aws_sdk_kms::Client, key_refs: Vec<String>) -> Self {
        Self {
            kms,
            key_refs,
            keys: OnceCell::new(),
        }
    }

    async fn keys(&self) -> Result<&Vec<PublicKey>, SignerError> {
        self.keys
            .get_or_try_init(|| async {
                let mut keys = Vec::new();
                for key_ref in &self.key_refs {
                    let out = self
                        .kms
                        .get_public_key()
                        .key_id(key_ref)
                        .send()
                        .await
                        .map_err(|e| kms_error("GetPublicKey", e))?;
                    let spki = out
                        .public_key
                        .ok_or_else(|| SignerError::Broken("kms returned no public key".into()))?;
                    let (x, y) = p256_point(spki.as_ref()).ok_or_else(|| {
                        SignerError::Broken(format!("{key_ref} is not an ECC_NIST_P256 key"))
                    })?;
                    // Real KMS answers the key's ARN, moto its bare id: the kid is the id.
                    let id = out.key_id.unwrap_or_else(|| key_ref.clone());
                    let kid = id.rsplit('/').next().unwrap_or(&id).to_owned();
                    keys.push(PublicKey {
                        key_ref: key_ref.clone(),
                        kid,
                        x,
                        y,
                    });
                }
                if keys.is_empty() {
                    return Err(SignerError::Broken(
                        "no credential signing key is configured".into(),
                    ));
                }
                Ok(keys)
            })
            .await
    }

    /// The JWKS document (RFC 7517) of every configured key.
    pub async fn jwks(&self) -> Result<Value, SignerError> {
        let keys: Vec<Value> = self
            .keys()
            .await?
            .iter()
            .map(|k| {
                json!({"kty": "EC", "crv": "P-256", "x": B64.encode(&k.x), "y": B64.encode(&k.y),
                       "kid": k.kid, "use": "sig", "alg": "ES256"})
            })
            .collect();
        Ok(json!({ "keys": keys }))
    }

    /// A compact JWS of `claims`, signed by the first key with KMS.
    pub async fn sign(&self, claims: &Value) -> Result<String, SignerError> {
        let key = &self.keys().await?[0];
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": key.kid});
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let out = self
            .kms
            .sign()
            .key_id(&key.key_ref)
            .message(Blob::new(input.as_bytes()))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| kms_error("Sign", e))?;
        let der = out
            .signature
            .ok_or_else(|| SignerError::Broken("kms returned no signature".into()))?;
        let sig = der_to_jws(der.as_ref())
            .ok_or_else(|| SignerError::Broken("kms returned a malformed signature".into()))?;
        Ok(format!("{input}.{}", B64.encode(sig)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_signatures_become_fixed_width() {
        // r with a leading zero (33 bytes), s short (31 bytes).
        let mut der = vec![0x30, 0, 0x02, 33, 0x00];
        der.extend([0x81; 32]);
        der.extend([0x02, 31]);
        der.extend([0x7f; 31]);
        der[1] = (der.len() - 2) as u8;
        let jws = der_to_jws(&der).unwrap();
        assert_eq!(&jws[..32], &[0x81; 32]);
        assert_eq!(jws[32], 0);
        assert_eq!(&jws[33..], &[0x7f; 31]);
    }

    #[test]
    fn malformed_der_is_refused() {
        assert!(der_to_jws(&[]).is_none());
        assert!(der_to_jws(&[0x30, 2, 0x02, 0]).is_none());
        assert!(der_to_jws(&[0x31, 0]).is_none());
        let mut bad_pad = vec![0x30, 37, 0x02, 33, 0x01];
        bad_pad.extend([0; 32]);
        bad_pad.extend([0x02, 0]);
        assert!(der_to_jws(&bad_pad).is_none());
    }

    #[test]
    fn only_p256_points_are_read() {
        let mut spki = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
        ];
        spki.extend([1; 32]);
        spki.extend([2; 32]);
        let (x, y) = p256_point(&spki).unwrap();
        assert_eq!((x, y), (vec![1; 32], vec![2; 32]));
        spki[26] = 0x02;
        assert!(p256_point(&spki).is_none());
        assert!(p256_point(&spki[..90]).is_none());
    }
}
