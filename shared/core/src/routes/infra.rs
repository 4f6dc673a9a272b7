//! The deployment inputs rendered from the route table: `infra/routes.json` (routes, for the
//! Terraform and scripts/gen_template.py) and `infra/functions.json` (each function's
//! permissions, timeout and memory). `make infra` writes them; tests/api/deploy.rs fails when the
//! committed files differ from these renderings.

use super::table::{Function, Iam, REPROBE, ROUTES};
use serde_json::{json, Map, Value};

/// `infra/routes.json`.
pub fn routes_json() -> String {
    let routes: Vec<Value> = ROUTES
        .iter()
        .map(|r| json!({"method": r.method, "path": r.path, "function": r.function}))
        .collect();
    pretty(&Value::Array(routes))
}

fn function(f: &Function) -> Value {
    let Iam {
        dynamodb,
        index,
        kms,
        secret,
    } = f.iam;
    json!({"dynamodb": dynamodb, "index": index, "kms": kms, "secret": secret,
           "timeout": f.timeout, "memory": f.memory})
}

/// `infra/functions.json`: every deployed function, the routes' and the scheduled re-prober.
pub fn functions_json() -> String {
    let mut functions = Map::new();
    for r in ROUTES {
        functions.insert(r.function.to_owned(), function(&r.as_function()));
    }
    functions.insert(REPROBE.name.to_owned(), function(&REPROBE));
    pretty(&json!({
        "_comment": "Generated from the route table (shared/core/src/routes/table.rs) by `make infra`; do not edit. What each Lambda function may touch, its timeout (s) and memory (MB): the least-privilege source for template.yaml (scripts/gen_template.py) and infra/terraform.",
        "functions": functions,
    }))
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON");
    s.push('\n');
    s
}
