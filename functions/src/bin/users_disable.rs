//! Lambda function for `users-disable`: wiring only.

use toolreg_core::routes::{users, USERS_DISABLE};

fn main() {
    toolreg_core::lambda::serve(&USERS_DISABLE, toolreg_core::handler!(users::disable));
}
