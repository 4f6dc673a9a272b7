//! The browser pages: the admin console (`/console`) and the API docs (`/docs`, `/redoc`) are
//! served from this origin with their embedded assets and strict browser headers. They need the
//! assets `make console` builds (`make test` builds them first). The console itself is driven in
//! a real browser by tests/e2e (`make e2e`).

use toolreg_tests::api::{Api, Resp};
use toolreg_tests::stack::server;

fn assert_browser_headers(r: &Resp) {
    let csp = r.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
}

/// The `src`/`href` values of `attr` in an HTML page.
fn links<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    html.split(&format!("{attr}=\""))
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect()
}

fn assert_no_inline_script(html: &str) {
    for piece in html.split("<script").skip(1) {
        let tag = piece.split('>').next().unwrap_or_default();
        assert!(tag.contains("src="), "an inline <script{tag}>");
    }
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"));
}

#[tokio::test]
async fn the_console_is_an_embedded_single_page_app_with_strict_headers() {
    let api = Api::new(server());
    let r = api.get("/console", None).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_browser_headers(&r);
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("style-src 'self';"), "no inline styles: {csp}");
    assert!(
        r.text.contains("toolreg console"),
        "the built console (make console), not the fallback: {}",
        r.text
    );
    assert_no_inline_script(&r.text);
    // Every script and style sheet the page names is served, cached for good under its hash.
    let mut assets: Vec<&str> = links(&r.text, "src");
    assets.extend(links(&r.text, "href"));
    let assets: Vec<&str> = assets
        .into_iter()
        .filter(|a| a.starts_with("/console/assets/"))
        .collect();
    assert!(!assets.is_empty(), "{}", r.text);
    for a in &assets {
        let asset = api.get(a, None).await;
        assert_eq!(asset.status, 200, "{a}");
        assert_eq!(
            asset.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        let ct = asset.header("content-type").unwrap();
        assert!(
            ct.starts_with("text/javascript") || ct.starts_with("text/css"),
            "{a}: {ct}"
        );
        assert_browser_headers(&asset);
    }
    assert_eq!(
        toolreg_web::console_asset_names().count(),
        toolreg_web::console_asset_names()
            .filter(|n| !n.contains('/'))
            .count(),
        "assets sit flat in assets/ (one path segment)"
    );
    // A trailing slash is the same page; an unknown asset is a problem, not the page.
    assert_eq!(api.get("/console/", None).await.status, 200);
    api.get("/console/assets/nope-123.js", None)
        .await
        .assert_problem(404);
    api.get("/console/assets/..%2Findex.html", None)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn swagger_ui_and_redoc_are_served_from_here_on_the_openapi_document() {
    let api = Api::new(server());
    for (page, bundle) in [
        ("/docs", "/docs/assets/swagger-ui-bundle.js"),
        ("/redoc", "/docs/assets/redoc.standalone.js"),
    ] {
        let r = api.get(page, None).await;
        assert_eq!(r.status, 200, "{page}");
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert_browser_headers(&r);
        assert_no_inline_script(&r.text);
        assert!(r.text.contains("data-spec=\"/openapi.json\""), "{}", r.text);
        let scripts = links(&r.text, "src");
        assert!(scripts.contains(&bundle), "{page}: {scripts:?}");
        for a in scripts.into_iter().chain(
            links(&r.text, "href")
                .into_iter()
                .filter(|h| h.starts_with("/docs/assets/")),
        ) {
            let asset = api.get(a, None).await;
            assert_eq!(asset.status, 200, "{a}");
            assert!(asset.text.len() > 100, "{a}");
            assert_browser_headers(&asset);
        }
    }
    api.get("/docs/assets/nope.js", None)
        .await
        .assert_problem(404);
}

/// The console and the docs bundles are linked only into the binaries of the routes that serve
/// them: every other function's artefact (and cold start) is what it was.
#[test]
fn only_their_own_route_binaries_carry_the_browser_assets() {
    use toolreg_core::routes::ROUTES;
    use toolreg_tests::stack::bin;
    // std's (optimised) substring search: a byte-window scan is too slow in a debug test build.
    let contains = |hay: &str, needle: &str| hay.contains(needle);
    // One marker from each embedded bundle: Swagger UI's, Redoc's and the console's script.
    let swagger = "SwaggerUIBundle";
    let redoc = "styled-components";
    let console_js = toolreg_web::console_asset_names()
        .find(|n| n.ends_with(".js"))
        .map(|n| String::from_utf8_lossy(toolreg_web::console_asset(n).unwrap()).into_owned())
        .expect("the console was built (make console)");
    assert!(console_js.contains("Confirm it is you"));
    // The browser routes and a sample of the others (reading all ~70 debug binaries takes
    // minutes; the linker treats every route binary alike).
    let sample = [
        "docs",
        "redoc",
        "docs-asset",
        "console",
        "console-asset",
        "openapi",
        "health",
        "tools-list",
        "auth-login",
        "mcp",
    ];
    let routes: Vec<_> = ROUTES
        .iter()
        .filter(|r| sample.contains(&r.function))
        .collect();
    assert_eq!(routes.len(), sample.len());
    for r in routes {
        let bytes = std::fs::read(bin(r.function)).unwrap();
        let b = String::from_utf8_lossy(&bytes);
        let (want_swagger, want_redoc) = match r.function {
            "docs-asset" => (true, true),
            _ => (false, false),
        };
        assert_eq!(
            contains(&b, swagger),
            want_swagger,
            "{} and Swagger UI",
            r.function
        );
        assert_eq!(contains(&b, redoc), want_redoc, "{} and Redoc", r.function);
        assert_eq!(
            contains(&b, "Confirm it is you"),
            r.function == "console-asset",
            "{} and the console's script",
            r.function
        );
    }
}
