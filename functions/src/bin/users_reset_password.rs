//! Lambda function for `users-reset-password`: wiring only.

use toolreg_core::routes::{users, USERS_RESET_PASSWORD};

fn main() {
    toolreg_core::lambda::serve(
        &USERS_RESET_PASSWORD,
        toolreg_core::handler!(users::reset_password),
    );
}
