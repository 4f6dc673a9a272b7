//! Lambda function for `auth-login`: wiring only.

use toolreg_core::routes::{auth, AUTH_LOGIN};

fn main() {
    toolreg_core::lambda::serve(&AUTH_LOGIN, toolreg_core::handler!(auth::login));
}
