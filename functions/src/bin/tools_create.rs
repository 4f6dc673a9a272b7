//! Lambda function for `tools-create`: wiring only.

fn main() {
    toolreg_core::lambda::run_route(toolreg_core::routes::RouteId::ToolsCreate);
}
