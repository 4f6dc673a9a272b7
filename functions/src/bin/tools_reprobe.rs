//! Lambda function for `tools-reprobe`: wiring only.

fn main() {
    toolreg_core::lambda::run_route(toolreg_core::routes::RouteId::ToolsReprobe);
}
