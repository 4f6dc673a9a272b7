//! KMS envelope encryption of a remote tool's static headers.
//!
//! KMS generates a fresh AES-256 data key per write; the headers are sealed locally with
//! AES-256-GCM and only the KMS-wrapped key is stored. The encryption context names the tool,
//! so a sealed blob copied onto another tool cannot be opened there (KMS refuses the unwrap),
//! and the tool id is also the GCM associated data.
//!
//! The same envelope seals a user's TOTP secret ([`seal_bytes`] / [`open_bytes`] with
//! [`TOTP_CONTEXT`]), bound to the user's id the same way.

use crate::domain::tool::SealedHeaders;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use std::collections::BTreeMap;

const CONTEXT_KEY: &str = "toolreg:tool_id";
/// The encryption-context key that binds a sealed TOTP secret to its user id.
pub const TOTP_CONTEXT: &str = "toolreg:totp_user_id";

/// Why headers could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// KMS did not answer in time (a retry may succeed).
    #[error("kms {0}: unreachable")]
    Unavailable(&'static str),
    /// KMS answered with an error.
    #[error("kms {op}: {code}: {message}")]
    Kms {
        op: &'static str,
        code: String,
        message: String,
    },
    /// KMS or the stored blob is not what this code expects: a bug, tampering, or a blob
    /// sealed for another tool.
    #[error("{0}")]
    Broken(&'static str),
    #[error("headers do not serialise: {0}")]
    Json(#[from] serde_json::Error),
}

fn kms_error<E, R>(
    op: &'static str,
    e: aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> EnvelopeError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    if crate::aws::is_unavailable(&e) {
        return EnvelopeError::Unavailable(op);
    }
    EnvelopeError::Kms {
        op,
        code: e.code().unwrap_or("unknown").to_owned(),
        message: e.message().unwrap_or_default().to_owned(),
    }
}

/// Seals `headers` for `tool_id` under `key_id`.
pub async fn seal(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    tool_id: &str,
    headers: &BTreeMap<String, String>,
) -> Result<SealedHeaders, EnvelopeError> {
    let body = serde_json::to_vec(headers)?;
    seal_bytes(kms, key_id, CONTEXT_KEY, tool_id, &body).await
}

/// Opens headers sealed for `tool_id`. Fails if the blob belongs to another tool.
pub async fn open(
    kms: &aws_sdk_kms::Client,
    tool_id: &str,
    sealed: &SealedHeaders,
) -> Result<BTreeMap<String, String>, EnvelopeError> {
    let body = open_bytes(kms, CONTEXT_KEY, tool_id, sealed).await?;
    Ok(serde_json::from_slice(&body)?)
}

/// Seals `plaintext` under `key_id`, bound to `context_key = owner` (the KMS encryption context)
/// and to `owner` (the GCM associated data).
pub async fn seal_bytes(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    context_key: &str,
    owner: &str,
    plaintext: &[u8],
) -> Result<SealedHeaders, EnvelopeError> {
    let dk = kms
        .generate_data_key()
        .key_id(key_id)
        .key_spec(DataKeySpec::Aes256)
        .encryption_context(context_key, owner)
        .send()
        .await
        .map_err(|e| kms_error("GenerateDataKey", e))?;
    let plaintext_key = dk
        .plaintext
        .ok_or(EnvelopeError::Broken("kms returned no plaintext data key"))?;
    let wrapped = dk
        .ciphertext_blob
        .ok_or(EnvelopeError::Broken("kms returned no wrapped data key"))?;
    let cipher = Aes256Gcm::new_from_slice(plaintext_key.as_ref())
        .map_err(|_| EnvelopeError::Broken("kms data key is not 256 bits"))?;
    let mut nonce = [0u8; 12];
    rand::Rng::fill(&mut rand::rng(), &mut nonce);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: owner.as_bytes(),
            },
        )
        .map_err(|_| EnvelopeError::Broken("encryption failed"))?;
    Ok(SealedHeaders {
        wrapped_key: wrapped.into_inner(),
        nonce: nonce.to_vec(),
        ciphertext,
    })
}

/// Opens what [`seal_bytes`] sealed for `context_key = owner`; fails for any other owner.
pub async fn open_bytes(
    kms: &aws_sdk_kms::Client,
    context_key: &str,
    owner: &str,
    sealed: &SealedHeaders,
) -> Result<Vec<u8>, EnvelopeError> {
    let dk = kms
        .decrypt()
        .ciphertext_blob(Blob::new(sealed.wrapped_key.clone()))
        .encryption_context(context_key, owner)
        .send()
        .await
        .map_err(|e| kms_error("Decrypt", e))?;
    let key = dk
        .plaintext
        .ok_or(EnvelopeError::Broken("kms returned no plaintext"))?;
    let cipher = Aes256Gcm::new_from_slice(key.as_ref())
        .map_err(|_| EnvelopeError::Broken("unwrapped data key is not 256 bits"))?;
    if sealed.nonce.len() != 12 {
        return Err(EnvelopeError::Broken("sealed data has a bad nonce"));
    }
    cipher
        .decrypt(
            Nonce::from_slice(&sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad: owner.as_bytes(),
            },
        )
        .map_err(|_| EnvelopeError::Broken("sealed data failed authentication"))
}
