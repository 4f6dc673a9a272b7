//! Lambda function for `tools-update`: wiring only.

use toolreg_core::routes::{tools, TOOLS_UPDATE};

fn main() {
    toolreg_core::lambda::serve(&TOOLS_UPDATE, toolreg_core::handler!(tools::update::update));
}
