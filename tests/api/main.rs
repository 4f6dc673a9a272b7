mod tools;
mod lambda;
mod security;
