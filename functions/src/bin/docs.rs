//! Lambda function for `docs`: wiring only.

fn main() {
    toolreg_core::lambda::run_route(toolreg_core::routes::RouteId::Docs);
}
