//! Lambda function for `tools-activate`: wiring only.

use toolreg_core::routes::{tools, TOOLS_ACTIVATE};

fn main() {
    toolreg_core::lambda::serve(
        &TOOLS_ACTIVATE,
        toolreg_core::handler!(tools::lifecycle::activate),
    );
}
