//! The browser assets toolreg serves, embedded in the binaries of the routes that serve them:
//! the admin console's bundle (`/console`) and the API docs pages (`/docs`, `/redoc`) with their
//! vendored Swagger UI and Redoc files. `make console` builds them into `assets/`; `build.rs`
//! embeds whatever is there. Each table is a separate static, referenced only by its own
//! handler, so no other function's binary carries any of it.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The console's `index.html`, if the console was built.
pub fn console_index() -> Option<&'static [u8]> {
    generated::CONSOLE_INDEX
}

/// A file of the console's `assets/` folder (content-hashed names), if the console was built.
pub fn console_asset(name: &str) -> Option<&'static [u8]> {
    lookup(generated::CONSOLE_ASSETS, name)
}

/// The names of the console's assets (tests).
pub fn console_asset_names() -> impl Iterator<Item = &'static str> {
    generated::CONSOLE_ASSETS.iter().map(|(n, _)| *n)
}

/// The Swagger UI page (`/docs`).
pub const SWAGGER_PAGE: &str = include_str!("../static/swagger.html");
/// The Redoc page (`/redoc`).
pub const REDOC_PAGE: &str = include_str!("../static/redoc.html");
/// What `/console` and the docs pages answer when `make console` has not run.
pub const NOT_BUILT_PAGE: &str = include_str!("../static/not-built.html");

/// Files of `/docs/assets/`: the pages' own scripts and styles (in this crate) and the vendored
/// Swagger UI and Redoc bundles (from npm, when built).
pub fn docs_asset(name: &str) -> Option<&'static [u8]> {
    match name {
        "swagger-init.js" => Some(include_bytes!("../static/swagger-init.js")),
        "redoc-init.js" => Some(include_bytes!("../static/redoc-init.js")),
        "docs.css" => Some(include_bytes!("../static/docs.css")),
        _ => lookup(generated::DOCS_VENDOR, name),
    }
}

/// Whether the vendored docs bundles were built (`make console`).
pub fn docs_vendored() -> bool {
    generated::DOCS_VENDORED
}

fn lookup(table: &'static [(&'static str, &'static [u8])], name: &str) -> Option<&'static [u8]> {
    table.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// The content type of an asset, from its extension.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_follow_extensions() {
        assert_eq!(
            content_type("index-abc.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("a.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }

    #[test]
    fn the_docs_pages_load_nothing_inline_or_remote() {
        for page in [SWAGGER_PAGE, REDOC_PAGE, NOT_BUILT_PAGE] {
            assert!(!page.contains("<script>"), "no inline script");
            assert!(!page.contains(" style="), "no inline style");
            assert!(!page.contains("http://") && !page.contains("https://"));
        }
        assert!(docs_asset("swagger-init.js").is_some());
        assert!(docs_asset("../secret").is_none());
    }
}
