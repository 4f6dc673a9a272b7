//! Identity: password hashing, JWT signing keys and tokens, and who is calling.

pub mod agent_keys;
pub mod apikey;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod principal;
