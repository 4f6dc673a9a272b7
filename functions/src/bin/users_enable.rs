//! Lambda function for `users-enable`: wiring only.

use toolreg_core::routes::{users, USERS_ENABLE};

fn main() {
    toolreg_core::lambda::serve(&USERS_ENABLE, toolreg_core::handler!(users::enable));
}
