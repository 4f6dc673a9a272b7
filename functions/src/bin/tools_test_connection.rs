//! Lambda function for `tools-test-connection`: wiring only.

use toolreg_core::routes::{tools, TOOLS_TEST_CONNECTION};

fn main() {
    toolreg_core::lambda::serve(
        &TOOLS_TEST_CONNECTION,
        toolreg_core::handler!(tools::probe::test_connection),
    );
}
