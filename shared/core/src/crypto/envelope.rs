//! KMS envelope encryption of a remote tool's static headers.
//!
//! KMS generates a fresh AES-256 data key per write; the headers are sealed locally with
//! AES-256-GCM and only the KMS-wrapped key is stored. The encryption context names the tool,
//! so a sealed blob copied onto another tool cannot be opened there (KMS refuses the unwrap),
//! and the tool id is also the GCM associated data.

use crate::domain::tool::SealedHeaders;
use crate::error::AppError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use std::collections::BTreeMap;

const CONTEXT_KEY: &str = "toolreg:tool_id";

fn kms_error<E, R>(op: &str, e: aws_smithy_runtime_api::client::result::SdkError<E, R>) -> AppError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    if crate::aws::is_unavailable(&e) {
        return AppError::Unavailable(format!("kms {op}: unreachable"));
    }
    AppError::Internal(format!(
        "kms {op}: {}: {}",
        e.code().unwrap_or("unknown"),
        e.message().unwrap_or_default()
    ))
}

/// Seals `headers` for `tool_id` under `key_id`.
pub async fn seal(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    tool_id: &str,
    headers: &BTreeMap<String, String>,
) -> Result<SealedHeaders, AppError> {
    let dk = kms
        .generate_data_key()
        .key_id(key_id)
        .key_spec(DataKeySpec::Aes256)
        .encryption_context(CONTEXT_KEY, tool_id)
        .send()
        .await
        .map_err(|e| kms_error("GenerateDataKey", e))?;
    let plaintext_key = dk
        .plaintext
        .ok_or_else(|| AppError::Internal("kms returned no plaintext data key".into()))?;
    let wrapped = dk
        .ciphertext_blob
        .ok_or_else(|| AppError::Internal("kms returned no wrapped data key".into()))?;
    let cipher = Aes256Gcm::new_from_slice(plaintext_key.as_ref())
        .map_err(|_| AppError::Internal("kms data key is not 256 bits".into()))?;
    let mut nonce = [0u8; 12];
    rand::Rng::fill(&mut rand::rng(), &mut nonce);
    let body = serde_json::to_vec(headers).map_err(AppError::internal)?;
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &body,
                aad: tool_id.as_bytes(),
            },
        )
        .map_err(|_| AppError::Internal("header encryption failed".into()))?;
    Ok(SealedHeaders {
        wrapped_key: wrapped.into_inner(),
        nonce: nonce.to_vec(),
        ciphertext,
    })
}

/// Opens headers sealed for `tool_id`. Fails if the blob belongs to another tool.
pub async fn open(
    kms: &aws_sdk_kms::Client,
    tool_id: &str,
    sealed: &SealedHeaders,
) -> Result<BTreeMap<String, String>, AppError> {
    let dk = kms
        .decrypt()
        .ciphertext_blob(Blob::new(sealed.wrapped_key.clone()))
        .encryption_context(CONTEXT_KEY, tool_id)
        .send()
        .await
        .map_err(|e| kms_error("Decrypt", e))?;
    let key = dk
        .plaintext
        .ok_or_else(|| AppError::Internal("kms returned no plaintext".into()))?;
    let cipher = Aes256Gcm::new_from_slice(key.as_ref())
        .map_err(|_| AppError::Internal("unwrapped data key is not 256 bits".into()))?;
    if sealed.nonce.len() != 12 {
        return Err(AppError::Internal("sealed headers have a bad nonce".into()));
    }
    let body = cipher
        .decrypt(
            Nonce::from_slice(&sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad: tool_id.as_bytes(),
            },
        )
        .map_err(|_| AppError::Internal("sealed headers failed authentication".into()))?;
    serde_json::from_slice(&body).map_err(AppError::internal)
}
