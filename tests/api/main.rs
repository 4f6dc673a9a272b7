mod faults;
mod lambda;
mod security;
mod tools;
