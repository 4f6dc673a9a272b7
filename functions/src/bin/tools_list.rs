//! Lambda function for `tools-list`: wiring only.

use toolreg_core::routes::{tools, TOOLS_LIST};

fn main() {
    toolreg_core::lambda::serve(&TOOLS_LIST, toolreg_core::handler!(tools::list::list));
}
