//! Pure types and validation: no I/O here.

pub mod audit;
pub mod tool;
pub mod user;
