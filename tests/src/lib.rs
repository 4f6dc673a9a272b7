pub mod api;
pub mod bench_policy;
pub mod fixtures;
pub mod mcp;
pub mod proc;
pub mod runtime_api;
pub mod stack;
pub mod totp;
