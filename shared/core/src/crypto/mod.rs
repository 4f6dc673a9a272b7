//! Encryption of stored secrets.

pub mod envelope;
pub mod signer;
