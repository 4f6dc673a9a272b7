//! toolreg's development-only code, kept out of `toolreg-core` so the Lambda functions link
//! none of it: the local server that serves every route on one port (`local`, `make dev`, the
//! tests) and the setup of a local stack (table, KMS key, JWT secret, the first admin), which the
//! `toolreg` CLI and the tests also use.

pub mod local;
pub mod setup;
