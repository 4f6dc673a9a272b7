//! Lambda function for `tools-probes`: wiring only.

fn main() {
    toolreg_core::lambda::run_route(toolreg_core::routes::RouteId::ToolsProbes);
}
