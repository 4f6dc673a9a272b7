//! Lambda function for `tools-approve-tools`: wiring only.

use toolreg_core::routes::{tools, TOOLS_APPROVE_TOOLS};

fn main() {
    toolreg_core::lambda::serve(
        &TOOLS_APPROVE_TOOLS,
        toolreg_core::handler!(tools::drift::approve_tools),
    );
}
