//! The OpenAPI document matches the route table, both ways (its pages: tests/api/console.rs).

use std::collections::BTreeSet;
use toolreg_core::routes::ROUTES;
use toolreg_tests::api::Api;
use toolreg_tests::stack::server;

#[tokio::test]
async fn the_document_has_exactly_the_routes_of_the_route_table() {
    let api = Api::new(server());
    let r = api.get("/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let doc = &r.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            documented.insert((
                method.to_ascii_uppercase(),
                path.clone(),
                op["operationId"].as_str().expect("operationId").to_owned(),
            ));
            assert!(
                op["security"].is_array(),
                "{path} {method} states its security"
            );
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{path} {method} has responses"
            );
            // Errors are problems, except the OAuth token endpoint's RFC 6749 errors and the MCP
            // endpoint's JSON-RPC errors (its refusals before any message is read stay problems).
            let oauth = path == "/api/v1/oauth/token";
            let mcp = path == "/mcp";
            for (code, resp) in op["responses"].as_object().unwrap() {
                if mcp && ["400", "404", "413"].contains(&code.as_str()) {
                    assert_eq!(
                        resp["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/JsonRpcResponse",
                        "{path} {method} {code} is a JSON-RPC error"
                    );
                } else if code.as_str() >= "400" && oauth {
                    assert_eq!(
                        resp["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/OAuthError",
                        "{path} {method} {code} is an OAuth error"
                    );
                } else if code.as_str() >= "400" {
                    assert!(
                        resp["content"]["application/problem+json"].is_object(),
                        "{path} {method} {code} is a problem"
                    );
                }
            }
        }
    }
    let routes: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.path.to_owned(),
                r.function.to_owned(),
            )
        })
        .collect();
    assert_eq!(documented, routes);
    // Every $ref resolves.
    let text = r.text.clone();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
