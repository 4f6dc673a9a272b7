//! Lambda function for `auth-elevate`: wiring only.

use toolreg_core::routes::{auth, AUTH_ELEVATE};

fn main() {
    toolreg_core::lambda::serve(&AUTH_ELEVATE, toolreg_core::handler!(auth::elevate));
}
