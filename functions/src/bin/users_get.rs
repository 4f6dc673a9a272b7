//! Lambda function for `users-get`: wiring only.

use toolreg_core::routes::{users, USERS_GET};

fn main() {
    toolreg_core::lambda::serve(&USERS_GET, toolreg_core::handler!(users::get));
}
