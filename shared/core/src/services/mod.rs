//! Business rules: validation beyond shape, rate limits, transactions with their audit events.

pub mod agents;
pub mod audit;
pub mod auth;
pub mod oauth;
pub mod ratelimit;
pub mod reprobe;
pub mod tools;
pub mod users;
