//! Lambda function for `tools-get`: wiring only.

use toolreg_core::routes::{tools, TOOLS_GET};

fn main() {
    toolreg_core::lambda::serve(&TOOLS_GET, toolreg_core::handler!(tools::get::get));
}
