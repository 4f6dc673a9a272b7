//! Pure types and validation: no I/O here.

pub mod agent;
pub mod audit;
pub mod drift;
pub mod error;
pub mod mfa;
pub mod pattern;
pub mod policy;
pub mod probe;
pub mod tool;
pub mod tool_view;
pub mod user;
