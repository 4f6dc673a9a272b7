//! The OpenAPI 3.1 document, generated from the route table.

use crate::routes::ROUTES;
use serde_json::{json, Value};

/// The whole document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method.to_ascii_lowercase()] =
            json!({"operationId": r.function, "responses": {"200": {"description": "OK"}}});
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "toolreg", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
    })
}
