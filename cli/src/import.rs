//! `toolreg import FILE|DIR`: creates remote tools from official MCP registry `server.json`
//! files, each probed as `POST /api/v1/tools` probes it, a few at a time.

use futures::StreamExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toolreg_core::auth::jwt::TokenType;
use toolreg_core::auth::principal::UserPrincipal;
use toolreg_core::domain::audit::RequestMeta;
use toolreg_core::domain::tool::{self, RiskLevel, ToolType};
use toolreg_core::domain::user::{Role, UserId};
use toolreg_core::error::AppError;
use toolreg_core::probe::TransportPreference;
use toolreg_core::services::tools::create::{self, NewTool};
use toolreg_core::state::AppState;

/// How many servers are probed at once.
const CONCURRENCY: usize = 4;
/// The tag every imported tool carries, so they can be found (`GET /tools?tag=`).
pub const IMPORT_TAG: &str = "mcp-registry-import";
/// How often one server waits out the probe rate limit before it is reported failed.
const RATE_LIMIT_RETRIES: u32 = 10;

/// One server entry read from a file.
struct Entry {
    source: String,
    server: Value,
}

/// What became of one entry.
enum Outcome {
    Created { name: String, id: String },
    Skipped { name: String, reason: String },
    Failed { name: String, reason: String },
}

/// The files to read: `path` itself, or every `*.json` directly in it, in name order.
fn files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_dir() {
        let mut out: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
            .collect();
        out.sort();
        Ok(out)
    } else if path.is_file() {
        Ok(vec![path.to_owned()])
    } else {
        Err(format!("{}: no such file or directory", path.display()))
    }
}

/// The server entries of one file: a `server.json`, a registry answer (`{"server": …}` or
/// `{"servers": [...]}`), or an array of either.
fn entries_of(v: Value, source: &str, out: &mut Vec<Entry>) {
    match v {
        Value::Array(items) => {
            for item in items {
                entries_of(item, source, out);
            }
        }
        Value::Object(mut map) => {
            if let Some(servers) = map.remove("servers") {
                entries_of(servers, source, out);
            } else if let Some(server) = map.remove("server") {
                entries_of(server, source, out);
            } else {
                out.push(Entry {
                    source: source.to_owned(),
                    server: Value::Object(map),
                });
            }
        }
        other => out.push(Entry {
            source: source.to_owned(),
            server: other,
        }),
    }
}

/// The toolreg tool name for a registry server name: the part after the last `/`, with every
/// character a tool name may not hold made `_`, starting with a letter, at most 64 long.
pub fn tool_name(server_name: &str) -> Option<String> {
    let last = server_name.rsplit('/').next().unwrap_or(server_name);
    let mut name: String = last
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while name.contains("__") {
        name = name.replace("__", "_");
    }
    let name = name.trim_matches('_');
    let mut name = if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.to_owned()
    } else {
        format!("mcp_{name}")
    };
    name.truncate(tool::MAX_NAME_LEN);
    let name = name.trim_end_matches('_').to_owned();
    tool::validate_name(&name).is_ok().then_some(name)
}

/// A `{variable}` placeholder a client would have to fill in.
fn templated(s: &str) -> bool {
    s.contains('{') && s.contains('}')
}

/// What to create from a server entry, or why it cannot be imported.
fn new_tool(server: &Value) -> Result<(String, NewTool), (String, String)> {
    let server_name = server["name"].as_str().unwrap_or_default();
    let shown = if server_name.is_empty() {
        "(unnamed)".to_owned()
    } else {
        server_name.to_owned()
    };
    let name = tool_name(server_name).ok_or_else(|| {
        (
            shown.clone(),
            "the server has no name a tool name can be made of".to_owned(),
        )
    })?;
    let remotes = server["remotes"].as_array().cloned().unwrap_or_default();
    if remotes.is_empty() {
        return Err((
            name,
            "no remotes[] entry (packages are run locally, not registered)".into(),
        ));
    }
    let mut reasons = Vec::new();
    for remote in &remotes {
        let kind = remote["type"].as_str().unwrap_or_default();
        let transport = match kind {
            "streamable-http" => TransportPreference::StreamableHttp,
            "sse" => TransportPreference::Sse,
            other => {
                reasons.push(format!(
                    "remote type {other:?} is not streamable-http or sse"
                ));
                continue;
            }
        };
        let Some(url) = remote["url"].as_str() else {
            reasons.push("a remote has no url".into());
            continue;
        };
        if templated(url) {
            reasons.push(format!("the url {url} needs variables filled in"));
            continue;
        }
        let mut headers = BTreeMap::new();
        let mut missing = Vec::new();
        for h in remote["headers"].as_array().into_iter().flatten() {
            let Some(h_name) = h["name"].as_str() else {
                continue;
            };
            match h["value"].as_str() {
                Some(v) if !templated(v) => {
                    headers.insert(h_name.to_owned(), v.to_owned());
                }
                _ if h["isRequired"].as_bool() == Some(true) => missing.push(h_name.to_owned()),
                _ => {}
            }
        }
        if !missing.is_empty() {
            reasons.push(format!(
                "the header(s) {} need a value the file does not hold",
                missing.join(", ")
            ));
            continue;
        }
        let text = |k: &str| {
            server[k]
                .as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let display_name = text("title").filter(|t| tool::validate_display_name(t).is_ok());
        return Ok((
            name.clone(),
            NewTool {
                tool_type: ToolType::Remote,
                name,
                display_name,
                description: text("description"),
                risk_level: RiskLevel::Medium,
                is_active: Some(true),
                tags: Some(vec![IMPORT_TAG.to_owned()]),
                input_schema: None,
                server_url: Some(url.to_owned()),
                transport_preference: Some(transport),
                static_headers: (!headers.is_empty()).then_some(headers),
                requires_per_user_auth: None,
            },
        ));
    }
    Err((name, reasons.join("; ")))
}

fn reason_of(e: &AppError) -> String {
    match e {
        AppError::ProbeFailed(o) => format!(
            "probe failed: {}",
            o.error
                .as_deref()
                .unwrap_or("the server did not answer as an MCP server")
        ),
        AppError::Validation(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.pointer.trim_start_matches('/'), e.detail))
            .collect::<Vec<_>>()
            .join("; "),
        AppError::BadRequest(m) | AppError::Conflict(m) | AppError::Forbidden(m) => m.clone(),
        other => other.to_string(),
    }
}

async fn import_one(state: &AppState, actor: &UserPrincipal, e: &Entry) -> Outcome {
    let (name, body) = match new_tool(&e.server) {
        Ok(x) => x,
        Err((name, reason)) => return Outcome::Skipped { name, reason },
    };
    match state.store.get_tool_by_name(&name).await {
        Ok(Some(_)) => {
            return Outcome::Skipped {
                name: name.clone(),
                reason: format!("a tool named {name} exists"),
            }
        }
        Ok(None) => {}
        Err(err) => {
            return Outcome::Failed {
                name,
                reason: err.to_string(),
            }
        }
    }
    let meta = RequestMeta {
        source_ip: String::new(),
        user_agent: "toolreg-cli import".into(),
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    let mut tries = 0;
    loop {
        let again = copy(&body);
        match create::create(state, actor, again, &meta).await {
            Ok(t) => {
                return Outcome::Created {
                    name,
                    id: t.id.to_string(),
                }
            }
            Err(AppError::Conflict(_)) => {
                return Outcome::Skipped {
                    name: name.clone(),
                    reason: format!("a tool named {name} exists"),
                }
            }
            Err(AppError::RateLimited { reset_at, .. }) if tries < RATE_LIMIT_RETRIES => {
                tries += 1;
                let wait = (reset_at - chrono_now()).clamp(1, 3600) as u64;
                eprintln!("  {name}: probe rate limit reached, waiting {wait}s (PROBE_RATE_LIMIT_USER raises it)");
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            }
            Err(err) => {
                return Outcome::Failed {
                    name,
                    reason: reason_of(&err),
                }
            }
        }
    }
}

/// Another request for the same tool (a retry).
fn copy(b: &NewTool) -> NewTool {
    NewTool {
        tool_type: b.tool_type,
        name: b.name.clone(),
        display_name: b.display_name.clone(),
        description: b.description.clone(),
        risk_level: b.risk_level,
        is_active: b.is_active,
        tags: b.tags.clone(),
        input_schema: b.input_schema.clone(),
        server_url: b.server_url.clone(),
        transport_preference: b.transport_preference,
        static_headers: b.static_headers.clone(),
        requires_per_user_auth: b.requires_per_user_auth,
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Reads `path`, imports every server it holds and prints the report. An error when any
/// server failed (so the exit code says so) or nothing could be read.
pub async fn run(path: &Path) -> Result<(), String> {
    let mut entries = Vec::new();
    let mut unreadable = Vec::new();
    for f in files(path)? {
        let source = f.display().to_string();
        match std::fs::read(&f)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => entries_of(v, &source, &mut entries),
            Err(e) => unreadable.push(format!("{source}: {e}")),
        }
    }
    let state = AppState::from_env().await.map_err(|e| e.to_string())?;
    let actor = UserPrincipal {
        user_id: UserId::new("system:cli"),
        username: "toolreg-cli".into(),
        role: Role::Admin,
        token_type: TokenType::Access,
        mfa: false,
    };
    let total = entries.len();
    eprintln!("importing {total} server(s) from {}", path.display());
    let done = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<(String, Outcome)> = futures::stream::iter(entries.iter())
        .map(|e| async {
            let o = import_one(&state, &actor, e).await;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let line = match &o {
                Outcome::Created { name, .. } => format!("{name} ... created"),
                Outcome::Skipped { name, reason } => format!("{name} ... skipped: {reason}"),
                Outcome::Failed { name, reason } => format!("{name} ... failed: {reason}"),
            };
            eprintln!("[{n}/{total}] {line}");
            (e.source.clone(), o)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let (mut created, mut skipped, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for (source, o) in outcomes {
        match o {
            Outcome::Created { name, id } => created.push(format!("  {name} ({id}) from {source}")),
            Outcome::Skipped { name, reason } => {
                skipped.push(format!("  {name} from {source}: {reason}"))
            }
            Outcome::Failed { name, reason } => {
                failed.push(format!("  {name} from {source}: {reason}"))
            }
        }
    }
    for u in &unreadable {
        failed.push(format!("  {u}"));
    }
    for list in [&mut created, &mut skipped, &mut failed] {
        list.sort();
    }
    println!(
        "created {}, skipped {}, failed {}",
        created.len(),
        skipped.len(),
        failed.len()
    );
    for (title, list) in [
        ("created", &created),
        ("skipped", &skipped),
        ("failed", &failed),
    ] {
        if !list.is_empty() {
            println!("{title}:");
            for l in list.iter() {
                println!("{l}");
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} server(s) failed to import", failed.len()))
    }
}
