//! Lambda function for `auth-logout`: wiring only.

use toolreg_core::routes::{users, AUTH_LOGOUT};

fn main() {
    toolreg_core::lambda::serve(&AUTH_LOGOUT, toolreg_core::handler!(users::logout));
}
