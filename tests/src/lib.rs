pub mod api;
pub mod proc;
pub mod stack;
