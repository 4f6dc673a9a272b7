//! Lambda function for `auth-login`: wiring only.

fn main() {
    toolreg_core::lambda::run_route(toolreg_core::routes::RouteId::AuthLogin);
}
