//! Lambda function for `auth-mfa-totp-enrol`: wiring only.

use toolreg_core::routes::{mfa, AUTH_MFA_TOTP_ENROL};

fn main() {
    toolreg_core::lambda::serve(&AUTH_MFA_TOTP_ENROL, toolreg_core::handler!(mfa::enrol));
}
