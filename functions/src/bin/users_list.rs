//! Lambda function for `users-list`: wiring only.

use toolreg_core::routes::{users, USERS_LIST};

fn main() {
    toolreg_core::lambda::serve(&USERS_LIST, toolreg_core::handler!(users::list));
}
