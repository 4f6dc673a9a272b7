//! Lambda function for `auth-elevate`: wiring only.

fn main() {
    toolreg_core::lambda::run_route(toolreg_core::routes::RouteId::AuthElevate);
}
