//! The scheduled re-prober Lambda (EventBridge): wiring only.

fn main() {
    toolreg_core::lambda::run_reprobe();
}
