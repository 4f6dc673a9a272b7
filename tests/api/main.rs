mod faults;
mod lambda;
mod remote;
mod reprobe;
mod secrets;
mod security;
mod tools;
