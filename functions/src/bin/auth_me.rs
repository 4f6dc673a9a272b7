//! Lambda function for `auth-me`: wiring only.

use toolreg_core::routes::{auth, AUTH_ME};

fn main() {
    toolreg_core::lambda::serve(&AUTH_ME, toolreg_core::handler!(auth::me));
}
