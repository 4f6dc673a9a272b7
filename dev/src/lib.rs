//! toolreg's development-only code, kept out of `toolreg-core` so the Lambda functions link
//! none of it: the local server that serves every route on one port (`local`, `make dev`, the
//! tests) and the setup of a local stack (table, KMS key, JWT secret, the first admin), which the
//! `toolreg` CLI and the tests also use.

// The local server awaits every handler's future inside one hyper service: the async state
// machines nest deeper than the default limit of 128 allows the compiler to lay out.
#![recursion_limit = "256"]

pub mod local;
pub mod setup;
