//! Lambda function for `tools-delete`: wiring only.

fn main() {
    toolreg_core::lambda::run_route(toolreg_core::routes::RouteId::ToolsDelete);
}
