//! Lambda function for `auth-refresh`: wiring only.

use toolreg_core::routes::{auth, AUTH_REFRESH};

fn main() {
    toolreg_core::lambda::serve(&AUTH_REFRESH, toolreg_core::handler!(auth::refresh));
}
