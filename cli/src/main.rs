//! `toolreg`: the operator's command line. Works against the local stack and AWS alike: it reads
//! the same environment as the functions (TABLE_NAME, JWT_SECRET_ARN, KMS_KEY_ID, AWS_*).

mod import;

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use toolreg_core::state::AppState;

const USAGE: &str = "usage:
  toolreg seed-admin --username NAME   create an admin; the password is read from a prompt
                                       (or the first line of standard input), never an argument
  toolreg user create --username NAME --role user|admin
                                       create a user; the password is read like seed-admin's
  toolreg reprobe --once               re-probe every stale active remote tool once, then exit
  toolreg probe URL                    probe the MCP server at URL as registering it would
                                       (PROBE_TIMEOUT_SECONDS, PROBE_ALLOW_PRIVATE_NETWORKS) and
                                       print the outcome as JSON; exit 2 if the probe failed
  toolreg import FILE|DIR              create remote tools from official MCP registry server.json
                                       files (FILE, or every *.json in DIR), probing each, 4 at a
                                       time; reports created / skipped / failed (exit 2 if any
                                       failed)
  toolreg routes                       print the route table as JSON (infra/routes.json)
  toolreg openapi                      print the OpenAPI document (openapi.json)
  toolreg functions                    print each function's permissions (infra/functions.json)
  toolreg bins DIR                     write the route binaries and their [[bin]] entries into
                                       the functions crate at DIR (make infra)
  toolreg setup                        create the table, KMS key alias, JWT secret and API-key
                                       pepper if missing
                                       (local stack; in AWS the deployment creates them)";

fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the passwords differ".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

async fn run(args: Vec<String>) -> Result<(), String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["seed-admin", "--username", username] => {
            let password = read_password()?;
            let state = AppState::from_env().await.map_err(|e| e.to_string())?;
            match toolreg_dev::setup::seed_admin(&state, username, &password, "toolreg-cli").await?
            {
                toolreg_dev::setup::Seeded::Created => println!("created admin {username}"),
                toolreg_dev::setup::Seeded::AlreadyExists => {
                    return Err(format!("a user named {username} already exists"))
                }
            }
            Ok(())
        }
        ["user", "create", "--username", username, "--role", role] => {
            let role = toolreg_core::domain::user::Role::parse(role)
                .ok_or_else(|| format!("--role must be user or admin, not {role:?}"))?;
            let password = read_password()?;
            let state = AppState::from_env().await.map_err(|e| e.to_string())?;
            let actor = toolreg_core::domain::audit::Actor {
                user_id: Some("system:cli".into()),
                username: Some("toolreg-cli".into()),
            };
            let meta = toolreg_core::domain::audit::RequestMeta {
                source_ip: String::new(),
                user_agent: "toolreg-cli".into(),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            let body = toolreg_core::services::users::CreateUser {
                username: (*username).to_owned(),
                role,
                display_name: None,
                password,
            };
            match toolreg_core::services::users::create(&state, &actor, body, &meta).await {
                Ok(u) => {
                    println!("created {} {} ({})", u.role.as_str(), u.username, u.id);
                    Ok(())
                }
                Err(toolreg_core::error::AppError::Validation(errors)) => Err(errors
                    .iter()
                    .map(|e| format!("{}: {}", e.pointer.trim_start_matches('/'), e.detail))
                    .collect::<Vec<_>>()
                    .join("; ")),
                Err(toolreg_core::error::AppError::Conflict(m)) => Err(m),
                Err(e) => Err(format!("{e:?}")),
            }
        }
        ["reprobe", "--once"] => {
            let state = AppState::from_env().await.map_err(|e| e.to_string())?;
            // Same code as the scheduled function; a CLI run gets a generous deadline.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(900);
            let summary = toolreg_core::services::reprobe::run(&state, deadline, "cli")
                .await
                .map_err(|e| format!("{e:?}"))?;
            println!("{}", serde_json::to_string(&summary).unwrap_or_default());
            Ok(())
        }
        ["probe", url] => probe(url).await,
        ["import", path] => import::run(std::path::Path::new(path)).await,
        ["routes"] => {
            // The route table as JSON (infra/routes.json), for scripts/gen_template.py.
            print!("{}", toolreg_build::infra::routes_json());
            Ok(())
        }
        ["openapi"] => {
            // The OpenAPI document (openapi.json, which the docs route serves).
            println!("{}", toolreg_build::openapi::document_text());
            Ok(())
        }
        ["functions"] => {
            // Each function's permissions, timeout and memory (infra/functions.json).
            print!("{}", toolreg_build::infra::functions_json());
            Ok(())
        }
        ["bins", dir] => {
            // The route binaries and their [[bin]] entries (functions/src/bin, Cargo.toml).
            write_bins(std::path::Path::new(dir))
        }
        ["setup"] => {
            let config = toolreg_core::config::Config::from_env().map_err(|e| e.to_string())?;
            let clients = toolreg_core::aws::Clients::from_env().await;
            toolreg_dev::setup::ensure_stack(&config, &clients).await?;
            println!(
                "table {}, key {}, secret {} are ready",
                config.table_name, config.kms_key_id, config.jwt_secret_arn
            );
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    }
}

/// `toolreg probe URL`: the prober on its own, no table or AWS needed (the conformance suite's
/// client scenarios run it as their "client", see tests/api/conformance.rs).
async fn probe(url: &str) -> Result<(), String> {
    use toolreg_core::probe::{
        ProbeSettings, ProbeStatus, ProbeTarget, Prober, TransportPreference,
    };
    let config = toolreg_core::config::Config::from_env().map_err(|e| e.to_string())?;
    toolreg_core::probe::check_server_url(url, config.probe_allow_private_networks)
        .map_err(|e| format!("the URL {e}"))?;
    let prober = Prober::new(ProbeSettings {
        timeout: config.probe_timeout,
        allow_private_networks: config.probe_allow_private_networks,
        max_body_bytes: 1024 * 1024,
    });
    let outcome = prober
        .probe(&ProbeTarget {
            url: url.to_owned(),
            transport: TransportPreference::Auto,
            headers: Vec::new(),
        })
        .await;
    println!(
        "{}",
        serde_json::to_string(&outcome).map_err(|e| e.to_string())?
    );
    match outcome.status {
        ProbeStatus::Passed => Ok(()),
        _ => Err(format!(
            "the probe failed: {}",
            outcome.error.as_deref().unwrap_or("no reason given")
        )),
    }
}

/// Writes each route's Lambda binary under `<dir>/src/bin/` and the `[[bin]]` entries into
/// `<dir>/Cargo.toml`; deletes generated binaries of routes that are gone.
fn write_bins(dir: &std::path::Path) -> Result<(), String> {
    use toolreg_build::infra;
    use toolreg_core::routes::ALL;
    let bin_dir = dir.join("src/bin");
    let wanted: Vec<String> = ALL
        .iter()
        .map(|s| infra::bin_file(s.route.function))
        .collect();
    let entries = std::fs::read_dir(&bin_dir).map_err(|e| format!("{}: {e}", bin_dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if !wanted.contains(&name) && text.contains("generated by `make infra`") {
            std::fs::remove_file(entry.path()).map_err(|e| format!("{name}: {e}"))?;
        }
    }
    for s in ALL {
        let path = bin_dir.join(infra::bin_file(s.route.function));
        std::fs::write(&path, infra::bin_source(s))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let manifest = dir.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let new = infra::with_bins_manifest(&text).ok_or_else(|| {
        format!(
            "{} lacks the generated-binaries markers",
            manifest.display()
        )
    })?;
    std::fs::write(&manifest, new).map_err(|e| format!("{}: {e}", manifest.display()))
}

fn main() -> ExitCode {
    toolreg_core::logging::init_stderr();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("toolreg: {e}");
            ExitCode::from(2)
        }
    }
}
