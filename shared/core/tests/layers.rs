//! Every `crate::` path in toolreg-core points down the layers written below: a module may use
//! its own submodules and modules of a lower layer, never one of its own layer or above. So no
//! import circle spans more than one module, and a newcomer reads the crate bottom-up.
//!
//! The layers are written here by hand, from the design (docs/architecture.md), not read from
//! the code: a new upward import fails this test, and moving a module is a decision made here.

use std::path::{Path, PathBuf};

/// (module path, layer), lowest first. A file's layer is its longest matching prefix.
const LAYERS: &[(&str, u8)] = &[
    // Leaves: no imports from the crate.
    ("time", 0),
    ("config", 0),
    ("aws", 0),
    ("logging", 0),
    ("routes::table", 0),
    // Pure data and rules.
    ("domain", 1),
    // Talking to AWS and to probed servers.
    ("crypto", 2),
    ("probe", 2),
    ("store", 3),
    // One error for clients, mapped from every lower layer's own.
    ("error", 4),
    ("http", 5),
    // Tokens, keys, passwords, TOTP: what the state holds.
    ("auth", 6),
    ("state", 7),
    // Authenticating a request reads the state.
    ("auth::principal", 8),
    ("auth::agent_keys", 8),
    ("services", 9),
    ("mcp", 10),
    ("routes", 11),
    ("lambda", 12),
];

fn layer(module: &str) -> Option<(&'static str, u8)> {
    LAYERS
        .iter()
        .filter(|(m, _)| module == *m || module.starts_with(&format!("{m}::")))
        .max_by_key(|(m, _)| m.len())
        .map(|(m, l)| (*m, *l))
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/auth/principal.rs` → `auth::principal`; `src/store/mod.rs` → `store`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|c| c != "mod")
        .collect();
    parts.join("::")
}

/// The module paths a file names with `crate::a::b…` (in `use` lines and inline), as far as
/// they name modules (lower-case segments).
fn targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        // `$crate::` is a macro's path, resolved where the macro is used.
        if text[..i].ends_with('$') {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let path: Vec<&str> = rest
            .split("::")
            .map(|s| {
                s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")
            })
            .take_while(|s| !s.is_empty() && s.starts_with(|c: char| c.is_ascii_lowercase()))
            .collect();
        if !path.is_empty() {
            out.push(path.join("::"));
        }
    }
    out
}

#[test]
fn every_import_points_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    assert!(all.len() > 50, "found only {} files", all.len());
    let mut problems = Vec::new();
    for file in &all {
        let module = module_of(&src, file);
        if module == "lib" {
            continue;
        }
        let Some((_, own)) = layer(&module) else {
            problems.push(format!("{module}: not in LAYERS"));
            continue;
        };
        let top = module.split("::").next().unwrap().to_owned();
        let text = std::fs::read_to_string(file).unwrap();
        for target in targets(&text) {
            let target_top = target.split("::").next().unwrap();
            // The macros exported at the crate root (`handler!`, `served!`).
            if matches!(target_top, "handler" | "served") {
                continue;
            }
            let Some((_, theirs)) = layer(&target) else {
                problems.push(format!(
                    "{module} uses crate::{target}, which is not in LAYERS"
                ));
                continue;
            };
            // Within one top-level module anything goes, except reaching a part of it that
            // sits in a higher layer (`auth::keys` may not use `auth::principal`).
            let same_module = target_top == top;
            if (same_module && theirs > own) || (!same_module && theirs >= own) {
                problems.push(format!(
                    "{module} (layer {own}) uses crate::{target} (layer {theirs})"
                ));
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_an_upward_import() {
    // A domain file naming the store, and a store file naming the error type: both upward.
    assert_eq!(layer("domain::tool"), Some(("domain", 1)));
    assert_eq!(
        targets("use crate::store::tools::X;\nfn f() -> crate::error::AppError {}"),
        vec!["store::tools", "error"]
    );
    assert!(layer("store").unwrap().1 >= layer("domain").unwrap().1);
    assert_eq!(targets("$crate::routes::Handler"), Vec::<String>::new());
}
