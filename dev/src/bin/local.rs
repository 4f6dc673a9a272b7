//! The local server: creates the stack's table, key and secret if missing, seeds the bootstrap
//! admin, and serves every route on one port. For development and tests, never for AWS.

fn main() {
    toolreg_core::logging::init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(toolreg_dev::local::run_from_env()) {
        eprintln!("toolreg local: {e}");
        std::process::exit(1);
    }
}
