//! One route table, three places: the code, template.yaml and the Terraform deploy exactly the
//! same routes with the same functions, and every function has a permission entry.

use std::collections::BTreeSet;
use toolreg_core::routes::ROUTES;
use toolreg_tests::proc::repo_root;

fn code_routes() -> BTreeSet<(String, String, String)> {
    ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.path.to_owned(),
                r.function.to_owned(),
            )
        })
        .collect()
}

#[test]
fn template_yaml_deploys_exactly_the_route_table() {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).expect("template.yaml");
    let mut deployed = BTreeSet::new();
    let mut functions = BTreeSet::new();
    let (mut function, mut method) = (None::<String>, None::<String>);
    let mut scheduled = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("CodeUri: target/lambda/") {
            let f = rest.trim_end_matches('/').to_owned();
            functions.insert(f.clone());
            function = Some(f);
            method = None;
        } else if let Some(m) = t.strip_prefix("Method: ") {
            method = Some(m.to_owned());
        } else if let Some(p) = t.strip_prefix("Path: ") {
            let f = function.clone().expect("a Path belongs to a function");
            deployed.insert((method.clone().expect("Method before Path"), p.to_owned(), f));
        } else if t == "Type: ScheduleV2" {
            scheduled.push(function.clone().expect("a schedule belongs to a function"));
        }
    }
    assert_eq!(
        deployed,
        code_routes(),
        "template.yaml is out of date: run scripts/gen_template.py"
    );
    assert_eq!(scheduled, ["reprobe"]);
    let mut expected: BTreeSet<String> = ROUTES.iter().map(|r| r.function.to_owned()).collect();
    expected.insert("reprobe".into());
    assert_eq!(
        functions, expected,
        "no function is deployed that the code lacks"
    );
    assert!(
        !text.contains("Action: \"*\"") && !text.contains("- \"*\""),
        "no wildcard actions"
    );
    assert!(!text.contains("dynamodb:*") && !text.contains("kms:Decrypt*"));
}

#[test]
fn terraform_deploys_exactly_the_route_table() {
    let routes: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("infra/routes.json")).expect("infra/routes.json"),
    )
    .expect("routes.json is JSON");
    let listed: BTreeSet<(String, String, String)> = routes
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().expect("string field").to_owned();
            (s("method"), s("path"), s("function"))
        })
        .collect();
    assert_eq!(
        listed,
        code_routes(),
        "infra/routes.json is out of date: `toolreg routes > infra/routes.json`"
    );

    let perms: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("infra/functions.json")).expect("functions.json"),
    )
    .expect("functions.json is JSON");
    let mut with_perms: BTreeSet<String> = perms["functions"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert!(
        with_perms.remove("reprobe"),
        "the scheduled function has permissions"
    );
    let route_fns: BTreeSet<String> = ROUTES.iter().map(|r| r.function.to_owned()).collect();
    assert_eq!(with_perms, route_fns);

    // The Terraform builds its routes and functions from those two files and nothing else.
    let tf =
        |f: &str| std::fs::read_to_string(repo_root().join("infra/terraform").join(f)).expect(f);
    let main = tf("main.tf");
    assert!(main.contains("file(\"${path.module}/../routes.json\")"));
    assert!(main.contains("file(\"${path.module}/../functions.json\")"));
    let api = tf("api.tf");
    assert!(api.contains("route_key = \"${each.value.route.method} ${each.value.route.path}\""));
    assert!(!api.contains("$default\"\n  target"), "no catch-all route");
    assert!(tf("schedule.tf").contains("aws_lambda_function.fn[\"reprobe\"]"));
}

/// The generated deployment inputs match the route table: `make infra` regenerates them.
#[test]
fn generated_infra_files_are_up_to_date() {
    let read = |f: &str| std::fs::read_to_string(repo_root().join(f)).expect(f);
    assert_eq!(
        read("infra/routes.json"),
        toolreg_core::routes::infra::routes_json(),
        "infra/routes.json is stale: run `make infra`"
    );
    assert_eq!(
        read("infra/functions.json"),
        toolreg_core::routes::infra::functions_json(),
        "infra/functions.json is stale: run `make infra`"
    );
    let out = std::process::Command::new("python3")
        .arg(repo_root().join("scripts/gen_template.py"))
        .arg(repo_root().join("infra/routes.json"))
        .output()
        .expect("run scripts/gen_template.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        read("template.yaml") == String::from_utf8_lossy(&out.stdout),
        "template.yaml is stale: run `make infra`"
    );
}

/// Every route has a Lambda binary that serves exactly its own row and handler, as `make infra`
/// generates it, and a `[[bin]]` entry.
#[test]
fn route_binaries_are_generated_from_the_table() {
    use toolreg_core::routes::{infra, HANDLERS};
    let cargo = std::fs::read_to_string(repo_root().join("functions/Cargo.toml")).expect("toml");
    assert_eq!(
        infra::with_bins_manifest(&cargo).as_deref(),
        Some(cargo.as_str()),
        "functions/Cargo.toml's [[bin]] entries are stale: run `make infra`"
    );
    for s in HANDLERS {
        let file = format!("functions/src/bin/{}", infra::bin_file(s.route.function));
        let src = std::fs::read_to_string(repo_root().join(&file)).expect(&file);
        assert_eq!(
            src,
            infra::bin_source(s),
            "{file} is stale: run `make infra`"
        );
        assert!(
            src.contains(&format!(
                "const ROUTE: &'static Route = &routes::{};",
                s.row
            )),
            "{file}"
        );
    }
    assert_eq!(HANDLERS.len(), ROUTES.len());
}
