//! toolreg's core: everything the Lambda functions, the local server and the CLI share.
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
pub mod local;
pub mod logging;
pub mod openapi;
pub mod probe;
pub mod routes;
pub mod services;
pub mod setup;
pub mod state;
pub mod store;
pub mod time;
