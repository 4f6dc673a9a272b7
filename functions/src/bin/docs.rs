//! Lambda function for `docs`: wiring only.

use toolreg_core::routes::{docs, DOCS};

fn main() {
    toolreg_core::lambda::serve(&DOCS, toolreg_core::handler!(docs::page));
}
