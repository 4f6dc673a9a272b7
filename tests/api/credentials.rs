//! Tool credentials: the JWKS that verifies them.

use serde_json::json;
use toolreg_tests::api::Api;
use toolreg_tests::stack::server;

#[tokio::test]
async fn the_jwks_publishes_the_p256_signing_key() {
    let api = Api::new(server());
    let r = api.get("/.well-known/jwks.json", None).await;
    r.assert_status(200);
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    let keys = r.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{}", r.text);
    let k = &keys[0];
    assert_eq!(k["kty"], json!("EC"));
    assert_eq!(k["crv"], json!("P-256"));
    assert_eq!(k["alg"], json!("ES256"));
    for coord in ["x", "y"] {
        assert_eq!(k[coord].as_str().unwrap().len(), 43, "32 bytes, base64url");
    }
    assert!(!k["kid"].as_str().unwrap().is_empty());
    // The public key only: no private part.
    assert!(k.get("d").is_none());
}
