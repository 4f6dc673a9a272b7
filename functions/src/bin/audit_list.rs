//! Lambda function for `audit-list`: wiring only.

use toolreg_core::routes::{audit, AUDIT_LIST};

fn main() {
    toolreg_core::lambda::serve(&AUDIT_LIST, toolreg_core::handler!(audit::list));
}
