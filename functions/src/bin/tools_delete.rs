//! Lambda function for `tools-delete`: wiring only.

use toolreg_core::routes::{tools, TOOLS_DELETE};

fn main() {
    toolreg_core::lambda::serve(
        &TOOLS_DELETE,
        toolreg_core::handler!(tools::lifecycle::delete),
    );
}
