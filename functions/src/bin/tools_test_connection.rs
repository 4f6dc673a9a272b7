//! Lambda function for `tools-test-connection`: wiring only.

fn main() {
    toolreg_core::lambda::run_route(toolreg_core::routes::RouteId::ToolsTestConnection);
}
