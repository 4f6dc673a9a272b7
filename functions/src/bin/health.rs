//! Lambda function for `health`: wiring only.

use toolreg_core::routes::{health, HEALTH};

fn main() {
    toolreg_core::lambda::serve(&HEALTH, toolreg_core::handler!(health::health));
}
