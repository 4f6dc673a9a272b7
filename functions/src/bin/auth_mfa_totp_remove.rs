//! Lambda function for `auth-mfa-totp-remove`: wiring only.

use toolreg_core::routes::{mfa, AUTH_MFA_TOTP_REMOVE};

fn main() {
    toolreg_core::lambda::serve(&AUTH_MFA_TOTP_REMOVE, toolreg_core::handler!(mfa::remove));
}
