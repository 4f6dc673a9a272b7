//! Lambda function for `auth-login-mfa`: wiring only.

use toolreg_core::routes::{mfa, AUTH_LOGIN_MFA};

fn main() {
    toolreg_core::lambda::serve(&AUTH_LOGIN_MFA, toolreg_core::handler!(mfa::login));
}
