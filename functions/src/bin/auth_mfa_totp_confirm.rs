//! Lambda function for `auth-mfa-totp-confirm`: wiring only.

use toolreg_core::routes::{mfa, MFA_TOTP_CONFIRM};

fn main() {
    toolreg_core::lambda::serve(&MFA_TOTP_CONFIRM, toolreg_core::handler!(mfa::confirm));
}
