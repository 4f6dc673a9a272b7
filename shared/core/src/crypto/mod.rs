//! Encryption of stored secrets.

pub mod envelope;
