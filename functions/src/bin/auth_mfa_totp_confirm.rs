//! Lambda function for `auth-mfa-totp-confirm`: wiring only.

use toolreg_core::routes::{mfa, AUTH_MFA_TOTP_CONFIRM};

fn main() {
    toolreg_core::lambda::serve(&AUTH_MFA_TOTP_CONFIRM, toolreg_core::handler!(mfa::confirm));
}
