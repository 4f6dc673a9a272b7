//! Lambda function for `tools-deactivate`: wiring only.

use toolreg_core::routes::{tools, TOOLS_DEACTIVATE};

fn main() {
    toolreg_core::lambda::serve(
        &TOOLS_DEACTIVATE,
        toolreg_core::handler!(tools::lifecycle::deactivate),
    );
}
