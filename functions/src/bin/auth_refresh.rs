//! Lambda function for `auth-refresh`: wiring only.

fn main() {
    toolreg_core::lambda::run_route(toolreg_core::routes::RouteId::AuthRefresh);
}
