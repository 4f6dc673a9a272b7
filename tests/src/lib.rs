pub mod proc;
