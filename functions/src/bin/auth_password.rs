//! Lambda function for `auth-password`: wiring only.

use toolreg_core::routes::{users, AUTH_PASSWORD};

fn main() {
    toolreg_core::lambda::serve(
        &AUTH_PASSWORD,
        toolreg_core::handler!(users::change_password),
    );
}
