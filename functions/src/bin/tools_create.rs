//! Lambda function for `tools-create`: wiring only.

use toolreg_core::routes::{tools, TOOLS_CREATE};

fn main() {
    toolreg_core::lambda::serve(&TOOLS_CREATE, toolreg_core::handler!(tools::create::create));
}
