pub mod api;
pub mod proc;
pub mod runtime_api;
pub mod stack;
