//! toolreg's core: everything the Lambda functions link (and the local server and the CLI
//! share). Dev-only code — the local all-routes server and stack setup — lives in `toolreg-dev`.
//!
//! Layers, each talking only to its neighbour: `routes` (HTTP in and out) → `services`
//! (business rules, transactions, audit) → `store` (DynamoDB items and keys) → `domain` (pure
//! types and validation).

pub mod auth;
pub mod aws;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod http;
pub mod lambda;
pub mod logging;
pub mod mcp;
pub mod probe;
pub mod routes;
pub mod services;
pub mod state;
pub mod store;
pub mod time;
