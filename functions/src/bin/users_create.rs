//! Lambda function for `users-create`: wiring only.

use toolreg_core::routes::{users, USERS_CREATE};

fn main() {
    toolreg_core::lambda::serve(&USERS_CREATE, toolreg_core::handler!(users::create));
}
