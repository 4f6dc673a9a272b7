//! Lambda function for `tools-probes`: wiring only.

use toolreg_core::routes::{tools, TOOLS_PROBES};

fn main() {
    toolreg_core::lambda::serve(&TOOLS_PROBES, toolreg_core::handler!(tools::probe::probes));
}
