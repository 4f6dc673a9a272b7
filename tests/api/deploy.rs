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
        toolreg_build::infra::routes_json(),
        "infra/routes.json is stale: run `make infra`"
    );
    assert_eq!(
        read("infra/functions.json"),
        toolreg_build::infra::functions_json(),
        "infra/functions.json is stale: run `make infra`"
    );
    // The docs route serves this file as it is (embedded at build time).
    assert!(
        read("infra/openapi.json") == toolreg_build::openapi::document_text() + "\n",
        "infra/openapi.json is stale: run `make infra`"
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
    let out = std::process::Command::new("python3")
        .arg(repo_root().join("scripts/gen_template.py"))
        .arg("--terraform-settings")
        .output()
        .expect("run scripts/gen_template.py --terraform-settings");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        read("infra/terraform/settings.tf") == String::from_utf8_lossy(&out.stdout),
        "infra/terraform/settings.tf is stale: run `make infra`"
    );
}

/// Every route has a Lambda binary that serves exactly its own row and handler, as `make infra`
/// generates it, and a `[[bin]]` entry.
#[test]
fn route_binaries_are_generated_from_the_table() {
    use toolreg_build::infra;
    use toolreg_core::routes::ALL;
    let cargo = std::fs::read_to_string(repo_root().join("functions/Cargo.toml")).expect("toml");
    assert_eq!(
        infra::with_bins_manifest(&cargo).as_deref(),
        Some(cargo.as_str()),
        "functions/Cargo.toml's [[bin]] entries are stale: run `make infra`"
    );
    for s in ALL {
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
    assert_eq!(ALL.len(), ROUTES.len());
}

/// Settings of README.md's Configuration table that a deployment does not set, and why.
const LOCAL_ONLY: &[(&str, &str)] = &[
    (
        "BOOTSTRAP_ADMIN_USERNAME",
        "the admin `make dev` seeds on the local stack; a deployment seeds its first admin with \
         `toolreg seed-admin` (docs/deploy.md)",
    ),
    ("BOOTSTRAP_ADMIN_PASSWORD", "as BOOTSTRAP_ADMIN_USERNAME"),
    (
        "PORT",
        "the local server's port; a Lambda function listens on none",
    ),
    (
        "PROBE_ALLOW_PRIVATE_NETWORKS",
        "lifts the prober's SSRF guard for local development and tests; no deployment may offer it",
    ),
    (
        "TOOLREG_EXPOSE_CALL_COUNTS",
        "a response header for the tests' round-trip budgets",
    ),
    (
        "AWS_ENDPOINT_URL_DYNAMODB",
        "points the SDK at the local stack; in AWS the SDK finds the service itself",
    ),
    ("AWS_ENDPOINT_URL_KMS", "as AWS_ENDPOINT_URL_DYNAMODB"),
    (
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "as AWS_ENDPOINT_URL_DYNAMODB",
    ),
];

/// Settings a deployment wires to the resources it creates itself rather than taking as
/// parameters: the SAM resource and the Terraform resource they name.
const FROM_THE_STACK: &[(&str, &str, &str)] = &[
    ("TABLE_NAME", "Table", "aws_dynamodb_table.main"),
    (
        "JWT_SECRET_ARN",
        "JwtSecret",
        "aws_secretsmanager_secret.jwt",
    ),
    (
        "API_KEY_PEPPER_SECRET_ARN",
        "ApiKeyPepper",
        "aws_secretsmanager_secret.pepper",
    ),
    ("KMS_KEY_ID", "HeaderKey", "aws_kms_key.headers"),
    (
        "CREDENTIAL_KMS_KEY_IDS",
        "CredentialKey",
        "aws_kms_key.credentials",
    ),
];

/// README.md's Configuration table: each variable with its default as a deployment writes it (a
/// literal such as `5/minute` or 30; empty where the README describes a default the service
/// derives, such as "the value of `PUBLIC_BASE_URL`"; [`REQUIRED`] where it says **required**).
fn readme_settings() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let table = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("README.md has a Configuration section")
        .split("\n## ")
        .next()
        .unwrap();
    let literal = |cell: &str| {
        let cell = cell.trim();
        if cell.starts_with("**required") {
            return REQUIRED.to_owned();
        }
        match cell.strip_prefix('`').and_then(|c| c.strip_suffix('`')) {
            Some(inner) if !inner.contains('`') => inner.to_owned(),
            _ if !cell.is_empty() && cell.bytes().all(|b| b.is_ascii_digit()) => cell.to_owned(),
            _ => String::new(),
        }
    };
    let mut settings = Vec::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
        let names: Vec<String> = cells[0]
            .split(" / ")
            .map(|n| n.trim().trim_matches('`').to_owned())
            .collect();
        let defaults: Vec<&str> = cells[1].split(" / ").collect();
        for (i, name) in names.iter().enumerate() {
            let default = if defaults.len() == names.len() {
                literal(defaults[i])
            } else {
                literal(cells[1])
            };
            settings.push((name.clone(), default));
        }
    }
    settings
}

/// The README's "default" of a setting a deployment must choose: no default in either template.
const REQUIRED: &str = "(required)";

/// A YAML scalar as the environment sees it.
fn scalar(v: &serde_yaml_ng::Value) -> String {
    match v {
        serde_yaml_ng::Value::String(s) => s.clone(),
        serde_yaml_ng::Value::Number(n) => n.to_string(),
        serde_yaml_ng::Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// `!Ref name` → `name`.
fn reference(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::Tagged(t) if t.tag == "Ref" => t.value.as_str().map(str::to_owned),
        _ => None,
    }
}

/// The parameter a template environment value takes: `!Ref P`, or `!If [HasP, !Ref P, !Ref
/// AWS::NoValue]` (an empty P leaves the variable unset).
fn parameter_of(v: &serde_yaml_ng::Value) -> Option<String> {
    if let Some(p) = reference(v) {
        return Some(p);
    }
    let serde_yaml_ng::Value::Tagged(t) = v else {
        return None;
    };
    let branches = t.value.as_sequence().filter(|_| t.tag == "If")?;
    let p = reference(branches.get(1)?)?;
    (branches.first()?.as_str() == Some(&format!("Has{p}"))
        && reference(branches.get(2)?).as_deref() == Some("AWS::NoValue"))
    .then_some(p)
}

/// The Terraform's environment (`NAME = expression` lines of main.tf's `environment` and
/// settings.tf's `settings`) and its variables' defaults.
fn terraform_settings() -> (
    std::collections::BTreeMap<String, String>,
    std::collections::BTreeMap<String, String>,
    std::collections::BTreeSet<String>,
) {
    let tf =
        |f: &str| std::fs::read_to_string(repo_root().join("infra/terraform").join(f)).expect(f);
    let main = tf("main.tf");
    let settings = tf("settings.tf");
    let mut env = std::collections::BTreeMap::new();
    for line in main.lines().chain(settings.lines()) {
        if let Some((name, value)) = line.trim().split_once(" = ") {
            let name = name.trim();
            if !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
            {
                env.insert(name.to_owned(), value.trim().to_owned());
            }
        }
    }
    let mut defaults = std::collections::BTreeMap::new();
    let mut variables = std::collections::BTreeSet::new();
    let mut variable = None;
    for line in tf("variables.tf").lines().chain(settings.lines()) {
        if let Some(rest) = line.strip_prefix("variable \"") {
            variable = rest.split('"').next().map(str::to_owned);
            variables.extend(variable.clone());
        } else if let (Some(v), Some(value)) = (&variable, line.trim().strip_prefix("default")) {
            let value = value
                .trim()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"');
            defaults.insert(v.clone(), value.to_owned());
        } else if line == "}" {
            variable = None;
        }
    }
    (env, defaults, variables)
}

/// Every setting README.md lists is settable in both deployments with the README's default:
/// a SAM parameter and a Terraform variable passed to every function's environment. The
/// exceptions are written down above with their reasons: local-only settings (which a
/// deployment must not set) and the ones wired to the stack's own resources.
#[test]
fn every_setting_the_readme_lists_is_settable_in_both_deployments() {
    let settings = readme_settings();
    let names: Vec<&str> = settings.iter().map(|(n, _)| n.as_str()).collect();
    for known in ["REQUIRE_ADMIN_MFA", "PUBLIC_BASE_URL", "TABLE_NAME", "PORT"] {
        assert!(
            names.contains(&known),
            "the README table lists {known}: {names:?}"
        );
    }
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(repo_root().join("template.yaml")).expect("template.yaml"),
    )
    .expect("template.yaml is YAML");
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    let params = &template["Parameters"];
    let resources = &template["Resources"];
    let (tf_env, tf_defaults, tf_variables) = terraform_settings();
    let main = std::fs::read_to_string(repo_root().join("infra/terraform/main.tf")).unwrap();
    assert!(
        main.contains("for k, v in local.settings : k => v if v != \"\""),
        "main.tf passes the settings to the functions' environment"
    );

    let mut problems = Vec::new();
    for (name, default) in &settings {
        let in_sam = env.get(name.as_str());
        let in_tf = tf_env.get(name);
        if LOCAL_ONLY.iter().any(|(n, _)| n == name) {
            if in_sam.is_some() || in_tf.is_some() {
                problems.push(format!("{name} is local-only, yet a deployment sets it"));
            }
            continue;
        }
        if let Some((_, sam_resource, tf_resource)) =
            FROM_THE_STACK.iter().find(|(n, _, _)| n == name)
        {
            let wired = in_sam.is_some_and(|v| {
                let serde_yaml_ng::Value::Tagged(t) = v else {
                    return false;
                };
                let target = scalar(&t.value);
                (t.tag == "Ref" && target == *sam_resource)
                    || (t.tag == "GetAtt" && target.starts_with(&format!("{sam_resource}.")))
            });
            if !wired || resources.get(sam_resource).is_none() {
                problems.push(format!(
                    "template.yaml does not set {name} from {sam_resource}"
                ));
            }
            if !in_tf.is_some_and(|v| v.starts_with(&format!("{tf_resource}."))) {
                problems.push(format!(
                    "the Terraform does not set {name} from {tf_resource}"
                ));
            }
            continue;
        }
        // A parameter with the README's default.
        match in_sam.and_then(parameter_of) {
            None => problems.push(format!("template.yaml has no parameter for {name}")),
            Some(p) => match params.get(p.as_str()).map(|p| p.get("Default")) {
                None => problems.push(format!("{name}: template.yaml lacks the parameter {p}")),
                Some(None) if default == REQUIRED => {}
                Some(None) => problems.push(format!("{name}: the parameter {p} has no default")),
                Some(Some(d)) if default == REQUIRED => problems.push(format!(
                    "{name} is required, yet the parameter {p} defaults to {:?}",
                    scalar(d)
                )),
                Some(Some(d)) if scalar(d) != *default => problems.push(format!(
                    "{name}: the parameter {p} defaults to {:?}, the README says {default:?}",
                    scalar(d)
                )),
                Some(Some(_)) => {}
            },
        }
        // A Terraform variable with the README's default.
        let variable = in_tf.and_then(|v| {
            let v = v
                .strip_prefix("tostring(")
                .map_or(v.as_str(), |v| v.trim_end_matches(')'));
            v.strip_prefix("var.").map(str::to_owned)
        });
        match variable {
            None => problems.push(format!("the Terraform has no variable for {name}")),
            Some(v) => match tf_defaults.get(&v) {
                None if default == REQUIRED && tf_variables.contains(&v) => {}
                None => problems.push(format!(
                    "{name}: the Terraform lacks the variable {v} or its default"
                )),
                Some(d) if default == REQUIRED => problems.push(format!(
                    "{name} is required, yet the variable {v} defaults to {d:?}"
                )),
                Some(d) if d != default => problems.push(format!(
                    "{name}: the variable {v} defaults to {d:?}, the README says {default:?}"
                )),
                Some(_) => {}
            },
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
