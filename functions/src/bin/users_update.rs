//! Lambda function for `users-update`: wiring only.

use toolreg_core::routes::{users, USERS_UPDATE};

fn main() {
    toolreg_core::lambda::serve(&USERS_UPDATE, toolreg_core::handler!(users::update));
}
