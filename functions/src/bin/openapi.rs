//! Lambda function for `openapi`: wiring only.

use toolreg_core::routes::{docs, OPENAPI};

fn main() {
    toolreg_core::lambda::serve(&OPENAPI, toolreg_core::handler!(docs::openapi));
}
