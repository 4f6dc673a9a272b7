//! Embeds what `make console` built into `assets/` (the console bundle in `assets/console/`, the
//! vendored Swagger UI and Redoc files in `assets/docs/`): generates `$OUT_DIR/assets.rs` with one
//! `include_bytes!` per file. Without a build there are no files, and the handlers serve a page
//! that says to run `make console`, so a Rust build never needs Node.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if path.is_dir() {
            files(&path, &format!("{prefix}{name}/"), out);
        } else if !name.starts_with('.') {
            out.push((format!("{prefix}{name}"), path));
        }
    }
}

fn table(name: &str, entries: &[(String, PathBuf)]) -> String {
    let mut s = format!("pub static {name}: &[(&str, &[u8])] = &[\n");
    for (n, p) in entries {
        let _ = writeln!(
            s,
            "    ({n:?}, include_bytes!({:?})),",
            p.display().to_string()
        );
    }
    s.push_str("];\n");
    s
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("assets");
    // The folder always exists (its .gitignore is committed); Cargo rescans it recursively.
    println!("cargo:rerun-if-changed={}", root.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut console = Vec::new();
    files(&root.join("console"), "", &mut console);
    let index = console.iter().find(|(n, _)| n == "index.html").cloned();
    let console_assets: Vec<_> = console
        .into_iter()
        .filter_map(|(n, p)| n.strip_prefix("assets/").map(|n| (n.to_owned(), p)))
        .collect();
    let mut docs = Vec::new();
    files(&root.join("docs"), "", &mut docs);

    let mut out = String::new();
    match index {
        Some((_, p)) => {
            let _ = writeln!(
                out,
                "pub static CONSOLE_INDEX: Option<&[u8]> = Some(include_bytes!({:?}));",
                p.display().to_string()
            );
        }
        None => out.push_str("pub static CONSOLE_INDEX: Option<&[u8]> = None;\n"),
    }
    out.push_str(&table("CONSOLE_ASSETS", &console_assets));
    out.push_str(&table("DOCS_VENDOR", &docs));
    // A plain flag, so the pages that ask do not link the bundles themselves.
    let _ = writeln!(out, "pub const DOCS_VENDORED: bool = {};", !docs.is_empty());
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("assets.rs");
    std::fs::write(dest, out).unwrap();
}
