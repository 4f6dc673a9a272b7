//! Lambda function for `tools-reprobe`: wiring only.

use toolreg_core::routes::{tools, TOOLS_REPROBE};

fn main() {
    toolreg_core::lambda::serve(
        &TOOLS_REPROBE,
        toolreg_core::handler!(tools::probe::reprobe),
    );
}
