//! `make bench`: cold start, memory, CPU per request and AWS calls per route, measured on the
//! release binaries against a local DynamoDB Local + moto stack, written to docs/benchmarks.md.

use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use toolreg_core::routes::{Access, AUTH_LOGIN, AUTH_REFRESH, ROUTES};
use toolreg_tests::api::{unique, Api};
use toolreg_tests::mcp::McpServer;
use toolreg_tests::runtime_api::{http_event, RuntimeApi};
use toolreg_tests::stack::{bin, server_env, Endpoints, Server, ADMIN_PASSWORD, ADMIN_USERNAME};

fn sh(cmd: &str) -> String {
    std::process::Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// utime + stime of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    #[allow(unsafe_code)]
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / hz
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Writes per route: 300 keeps the run in minutes and the CPU figure stable.
const WRITES: usize = 300;

/// label, method, path, body, DynamoDB budget, request count.
type Case<'a> = (&'a str, &'a str, String, Option<Value>, &'a str, usize);

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The figures `make bench` holds instruction counts to.
const COMMITTED_INSTRUCTIONS: &str = "docs/benchmarks-instructions.json";

/// An MCP `tools/call` of `search_tools`, with the headers the 2026-07-28 revision asks for.
fn mcp_search() -> (Value, [(&'static str, &'static str); 4]) {
    (
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "search_tools", "arguments": {"query": "bench"},
                          "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                                    "io.modelcontextprotocol/clientCapabilities": {}}}}),
        [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "search_tools"),
            ("accept", "application/json, text/event-stream"),
        ],
    )
}

/// An agent with a key and an OAuth token, under an allow-all policy: (id, key, token).
async fn allowed_agent(api: &Api, admin: &str) -> (String, String, String) {
    api.activate_policy(&json!({"default": "allow"})).await;
    let agent_id = api
        .create_agent(admin, &json!({"name": unique("bench-agent")}))
        .await;
    let (_, agent_key) = api.agent_key(admin, &agent_id).await;
    let agent_token = api
        .oauth_token(
            Some((&agent_id, &agent_key)),
            &[("grant_type", "client_credentials")],
        )
        .await
        .body["access_token"]
        .as_str()
        .expect("an agent token")
        .to_owned();
    (agent_id, agent_key, agent_token)
}

/// Twenty more function tools, so that listings measure full pages of 20 (as the peer's
/// harness does).
async fn seed_tools(api: &Api, admin: &str) {
    for i in 0..20 {
        let r = api
            .post("/api/v1/tools", Some(admin), &json!({"tool_type": "function", "name": unique(&format!("seed{i}")), "risk_level": "low", "description": "A seeded tool for full pages", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}))
            .await;
        assert_eq!(r.status, 201, "seeding: {}", r.text);
    }
}

/// Instructions per request of the routes that carry the most traffic, with the `local`
/// server under callgrind on its own table, and the Markdown section with the gate's verdict.
/// Returns the section and the regressions (empty: the gate passes).
async fn instructions_section() -> (String, Vec<String>) {
    use std::collections::BTreeMap;
    use toolreg_tests::instructions::{regressions, Callgrind, STALE_BELOW, TOLERANCE};
    let env = server_env(
        &Endpoints::shared(),
        &[("RUST_LOG", "warn"), ("ACCESS_TOKEN_TTL_MINUTES", "600")],
    );
    let cg = Callgrind::start(env);
    let api = Api::new(&cg.server);
    let (admin, _) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let tool = api
        .post("/api/v1/tools", Some(&admin), &json!({"tool_type": "function", "name": unique("icount"), "risk_level": "low", "input_schema": {"type": "object"}}))
        .await;
    let tool_id = tool.body["id"].as_str().expect("a tool").to_owned();
    seed_tools(&api, &admin).await;
    let (_, agent_key, agent_token) = allowed_agent(&api, &admin).await;
    let (search, mcp_headers) = mcp_search();
    // label, method, path, body (None for POST /tools: a fresh name each time), credential.
    let cases: Vec<(&str, &str, String, Option<Value>, &str)> = vec![
        ("GET /health", "GET", "/health".into(), None, ""),
        (
            "GET /auth/me",
            "GET",
            "/api/v1/auth/me".into(),
            None,
            &admin,
        ),
        (
            "GET /tools?limit=20",
            "GET",
            "/api/v1/tools?limit=20".into(),
            None,
            &admin,
        ),
        (
            "GET /tools/{id}",
            "GET",
            format!("/api/v1/tools/{tool_id}"),
            None,
            &admin,
        ),
        (
            "GET /audit-events?limit=20",
            "GET",
            "/api/v1/audit-events?limit=20".into(),
            None,
            &admin,
        ),
        ("POST /tools", "POST", "/api/v1/tools".into(), None, &admin),
        (
            "PATCH /tools/{id}",
            "PATCH",
            format!("/api/v1/tools/{tool_id}"),
            Some(json!({"description": "bench"})),
            &admin,
        ),
        (
            "GET /tools (agent API key)",
            "GET",
            "/api/v1/tools?limit=20".into(),
            None,
            &agent_key,
        ),
        (
            "GET /tools (agent OAuth token)",
            "GET",
            "/api/v1/tools?limit=20".into(),
            None,
            &agent_token,
        ),
        (
            "POST /tools/{id}/access (agent)",
            "POST",
            format!("/api/v1/tools/{tool_id}/access"),
            Some(json!({"scopes": ["bench:read"]})),
            &agent_token,
        ),
        (
            "POST /mcp search_tools (agent)",
            "POST",
            "/mcp".into(),
            Some(search),
            &agent_token,
        ),
    ];
    let mut now: BTreeMap<String, u64> = BTreeMap::new();
    for (label, method, path, body, cred) in &cases {
        let send = |i: usize| {
            let body = body.clone().unwrap_or_else(|| {
                json!({"tool_type": "function", "name": format!("icount_{i}_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]), "risk_level": "low", "input_schema": {"type": "object"}})
            });
            let body = (*method != "GET").then_some(body);
            let token = (!cred.is_empty()).then_some(*cred);
            let headers: &[(&str, &str)] = if *path == "/mcp" { &mcp_headers } else { &[] };
            let api = &api;
            async move {
                let r = api.send(method, path, token, body.as_ref(), headers).await;
                assert!(r.status < 400, "{label}: {} {}", r.status, r.text);
            }
        };
        for i in 0..3 {
            send(1000 + i).await;
        }
        now.insert((*label).to_owned(), cg.per_request(20, send).await);
    }
    let root = toolreg_tests::proc::repo_root();
    let path = root.join(COMMITTED_INSTRUCTIONS);
    let committed: BTreeMap<String, u64> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let accept = std::env::var_os("BENCH_ACCEPT").is_some() || committed.is_empty();
    let failed = if accept {
        Vec::new()
    } else {
        regressions(&committed, &now)
    };
    let mut md = format!("## Instructions per request (callgrind)\n\nThe `local` server under `valgrind --tool=callgrind`, its own table, 20 requests per route after 3 unmeasured ones; counts are the server's own instructions (all threads) divided by 20. Unlike times they repeat run to run, so `make bench` fails when a route grows by more than {:.0}% against `{COMMITTED_INSTRUCTIONS}`, or falls below {:.0}% of it (a stale figure would let the route grow back unnoticed; `make bench BENCH_ACCEPT=1` records new figures after a deliberate change).\n\n| route | instructions/request | committed | change |\n|---|---|---|---|\n", TOLERANCE * 100.0, STALE_BELOW * 100.0);
    for (route, count) in &now {
        let (base, change) = match committed.get(route) {
            Some(b) => (
                b.to_string(),
                format!("{:+.1}%", (*count as f64 / *b as f64 - 1.0) * 100.0),
            ),
            None => ("new".into(), String::new()),
        };
        writeln!(md, "| {route} | {count} | {base} | {change} |").unwrap();
    }
    if failed.is_empty() {
        md.push_str("\nGate: passed.\n");
    } else {
        writeln!(md, "\nGate: **failed**: {}.", failed.join("; ")).unwrap();
    }
    if accept {
        let text = serde_json::to_string_pretty(&now).unwrap() + "\n";
        std::fs::write(&path, text).expect("write the committed instruction counts");
    }
    (md, failed)
}

/// Re-probe throughput against an MCP server with 50 ms of added latency per response.
async fn reprobe_section() -> String {
    let mut md = String::new();
    writeln!(md, "## Re-probe throughput\n\nStale active remote tools re-probed in-process by `services::reprobe::run` (one invocation) against eight stateless MCP servers (the official Python SDK) with 50 ms added per response (a 2026-07-28 probe is 2 exchanges, `server/discover` and `tools/list`: ~100 ms, then the probe's DynamoDB transaction). Target: ≥ 200 probes/s at the default concurrency.\n\n| concurrency | tools | seconds | probes/s | toolreg CPU ms/probe |\n|---|---|---|---|---|").unwrap();
    // A registry probes many servers, and one Python test server (the official SDK, one
    // process) saturates its own core long before toolreg does: spread the tools over eight.
    let slow: Vec<McpServer> = (0..8)
        .map(|_| McpServer::start_with("stateless", &["--latency-ms", "50"]))
        .collect();
    for concurrency in [16usize, 64, 128] {
        let env2 = server_env(
            &Endpoints::shared(),
            &[
                ("RUST_LOG", "warn"),
                ("REPROBE_CONCURRENCY", &concurrency.to_string()),
            ],
        );
        let s2 = Server::start_with_env(env2);
        let state = s2.state().await;
        let tools = 256;
        for i in 0..tools {
            let t = toolreg_tests::fixtures::stale_tool(
                format!("bench_{i}"),
                &slow[i % slow.len()].url,
            );
            let ev = toolreg_core::domain::audit::AuditEvent::new(
                "tool.create",
                toolreg_core::domain::audit::Outcome::Success,
                &Default::default(),
                &Default::default(),
            );
            state.store.create_tool(&t, 0, &ev).await.expect("seed");
        }
        let t0 = Instant::now();
        let cpu0 = cpu_seconds(std::process::id());
        let summary = toolreg_core::services::reprobe::run(
            &state,
            Instant::now() + Duration::from_secs(600),
            "bench",
        )
        .await
        .expect("run");
        let secs = t0.elapsed().as_secs_f64();
        let cpu_ms = (cpu_seconds(std::process::id()) - cpu0) * 1000.0;
        writeln!(
            md,
            "| {concurrency} | {} | {secs:.1} | {:.1} | {:.2} |",
            summary.probed,
            summary.probed as f64 / secs,
            cpu_ms / summary.probed.max(1) as f64
        )
        .unwrap();
    }

    md
}

#[tokio::main]
async fn main() {
    // `bench instructions`: only the instruction counts and their gate (a few minutes).
    if std::env::args().nth(1).as_deref() == Some("instructions") {
        let (md, failed) = instructions_section().await;
        println!("{md}");
        if !failed.is_empty() {
            std::process::exit(1);
        }
        return;
    }
    // `bench reprobe`: only the re-probe throughput.
    if std::env::args().nth(1).as_deref() == Some("reprobe") {
        println!("{}", reprobe_section().await);
        return;
    }
    // Tokens must outlive the run (the default 15 minutes does not).
    let env = server_env(
        &Endpoints::shared(),
        &[("RUST_LOG", "warn"), ("ACCESS_TOKEN_TTL_MINUTES", "600")],
    );
    let server = Server::start_with_env(env.clone());
    // The functions must name the server's issuer (its PUBLIC_BASE_URL) to accept its tokens.
    let env = server.env.clone();
    let api = Api::new(&server);
    let (admin, _) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let elevated = api.elevated().await;
    let mcp = McpServer::start("stateless");
    let tool = api
        .post("/api/v1/tools", Some(&admin), &json!({"tool_type": "function", "name": unique("bench"), "risk_level": "low", "input_schema": {"type": "object"}}))
        .await;
    let tool_id = tool.body["id"].as_str().unwrap().to_owned();
    seed_tools(&api, &admin).await;
    let remote = api
        .post("/api/v1/tools", Some(&admin), &json!({"tool_type": "remote", "name": unique("bench_remote"), "risk_level": "low", "server_url": mcp.url, "static_headers": {"X-Key": "bench"}}))
        .await;
    let remote_id = remote.body["id"].as_str().unwrap().to_owned();
    let (agent_id, agent_key, agent_token) = allowed_agent(&api, &admin).await;

    let mut md = String::new();
    let commit = sh("git rev-parse --short HEAD");
    let dirty = if sh("git status --porcelain --untracked-files=no").is_empty() {
        ""
    } else {
        "-dirty"
    };
    let cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
    writeln!(md, "# Benchmarks\n\nProduced by `make bench`: binaries built with the `bench` profile (the release settings), DynamoDB Local (the table) and moto (KMS, Secrets Manager), real MCP servers on loopback. Figures are from one run; the emulators' CPU is not counted (they are other processes), which is the point: these are toolreg's costs.\n").unwrap();
    writeln!(
        md,
        "- machine: {} cores, {}, kernel {}",
        sh("nproc"),
        cpu.trim(),
        sh("uname -r")
    )
    .unwrap();
    writeln!(md, "- commit: `{commit}{dirty}`").unwrap();
    writeln!(
        md,
        "- command: `make bench` (runs `scripts/bench-peer.sh`, then `target/release/bench`, built with the bench profile)\n"
    )
    .unwrap();
    let root = toolreg_tests::proc::repo_root();
    md.push_str(&toolreg_tests::bench_peer::section(
        &root.join("target/bench/peer"),
    ));
    let (section, failed) = instructions_section().await;
    md.push('\n');
    md.push_str(&section);
    md.push('\n');

    // 1. Cold start and memory through the Lambda Runtime API.
    writeln!(md, "## Cold start and peak memory per function\n\nProcess spawn → first response through the Runtime API, first request authorised where the route needs it (so it includes the Secrets Manager key fetch). Median and max of 5 launches; peak RSS is VmHWM after the first response, and after 100 more warm invocations of the first launch (flat means no growth). Targets: median ≤ 25 ms, < 40 MB, warm peak within 1 MB of the first.\n").unwrap();
    writeln!(
        md,
        "| function | median ms | max ms | peak RSS MB | after 100 warm MB | within target |\n|---|---|---|---|---|---|"
    )
    .unwrap();
    let bearer = format!("Bearer {admin}");
    let mut fns: Vec<(&str, Value)> = Vec::new();
    for r in ROUTES {
        let p = r.path;
        let params: Vec<(&str, &str)> = if p.contains("{id}") {
            vec![("id", tool_id.as_str())]
        } else {
            vec![]
        };
        let concrete = p.replace("{id}", &tool_id);
        let auth: &[(&str, &str)] = &[("authorization", &bearer)];
        let ev = match r.function {
            f if f == AUTH_LOGIN.function => http_event(
                "POST",
                p,
                p,
                &[],
                &[],
                Some(&json!({"username": "nobody-here", "password": "x"})),
            ),
            f if f == AUTH_REFRESH.function => http_event(
                "POST",
                p,
                p,
                &[],
                &[],
                Some(&json!({"refresh_token": "x.y.z"})),
            ),
            _ if r.method == "GET" => {
                let auth: &[(&str, &str)] = if r.access == Access::Public {
                    &[]
                } else {
                    auth
                };
                http_event("GET", &concrete, p, &params, auth, None)
            }
            _ => http_event(r.method, &concrete, p, &params, auth, Some(&json!({}))),
        };
        fns.push((r.function, ev));
    }
    fns.push((
        "reprobe",
        json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}),
    ));
    for (function, event) in &fns {
        let mut times = Vec::new();
        let mut rss = 0;
        let mut warm_rss = 0;
        for launch in 0..5 {
            let mut rt = RuntimeApi::start().await;
            rt.launch(&bin(function), function, &env);
            let _ = rt.invoke(event.clone(), Duration::from_secs(30)).await;
            times.push(rt.started.unwrap().elapsed().as_secs_f64() * 1000.0);
            rss = rss.max(peak_rss_kb(rt.pid().unwrap()));
            // Memory must stay flat while warm: the first launch serves 100 more invocations
            // (the re-prober's, each a whole pass, only 10).
            if launch == 0 {
                let warm = if *function == "reprobe" { 10 } else { 100 };
                for _ in 0..warm {
                    let _ = rt.invoke(event.clone(), Duration::from_secs(30)).await;
                }
                warm_rss = peak_rss_kb(rt.pid().unwrap());
            }
        }
        let max = times.iter().cloned().fold(0.0, f64::max);
        let med = median(&mut times);
        let ok = med < 25.0 && rss < 40 * 1024 && warm_rss <= rss + 1024;
        writeln!(
            md,
            "| {function} | {med:.1} | {max:.1} | {:.1} | {:.1} | {} |",
            rss as f64 / 1024.0,
            warm_rss as f64 / 1024.0,
            if ok { "yes" } else { "**no**" }
        )
        .unwrap();
    }

    let out_path = toolreg_tests::proc::repo_root().join("docs/benchmarks.md");
    let _ = std::fs::write(&out_path, &md);
    // 2 and 3. CPU per request and AWS calls, from the local server's own accounting.
    writeln!(md, "\n## CPU time and AWS calls per request\n\nThe `local` server's own CPU (utime + stime from /proc) over N sequential requests per route, divided by N. Budget: < 0.5 ms per request, argon2 excluded (login and elevate are reported separately: they are argon2 by design). AWS calls are read from the `X-Toolreg-Aws-Calls` header of a steady-state request.\n").unwrap();
    writeln!(md, "| route | N | CPU µs/request | DynamoDB | KMS | Secrets Manager | DynamoDB budget |\n|---|---|---|---|---|---|---|").unwrap();
    let pid = server.child.id();
    let n = 1000;
    let cases: Vec<Case> = vec![
        ("GET /health", "GET", "/health".into(), None, "0", n),
        (
            "GET /auth/me",
            "GET",
            "/api/v1/auth/me".into(),
            None,
            "0",
            n,
        ),
        (
            "GET /tools",
            "GET",
            "/api/v1/tools?limit=20".into(),
            None,
            "1 query",
            n,
        ),
        (
            "GET /tools/{id}",
            "GET",
            format!("/api/v1/tools/{tool_id}"),
            None,
            "1 read",
            n,
        ),
        (
            "GET /tools/{id}/probes",
            "GET",
            format!("/api/v1/tools/{remote_id}/probes"),
            None,
            "1 query",
            n,
        ),
        (
            "GET /audit-events",
            "GET",
            "/api/v1/audit-events?limit=20".into(),
            None,
            "1 query",
            n,
        ),
        (
            "PATCH /tools/{id}",
            "PATCH",
            format!("/api/v1/tools/{tool_id}"),
            Some(json!({"description": "bench"})),
            "1 read + 1 transaction",
            WRITES,
        ),
        (
            "POST /tools (function)",
            "POST",
            "/api/v1/tools".into(),
            None,
            "1 transaction",
            WRITES,
        ),
        (
            "POST /tools/{id}/reprobe",
            "POST",
            format!("/api/v1/tools/{remote_id}/reprobe"),
            Some(json!({})),
            "1 read + 2 limits + 1 transaction",
            200,
        ),
        (
            "POST /auth/login (argon2)",
            "POST",
            "/api/v1/auth/login".into(),
            Some(json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})),
            "2 limits + 1 query, then 1 transaction",
            100,
        ),
    ];
    // Agents' routes: (label, path, credential, DynamoDB budget).
    let agent_cases = [
        (
            "GET /tools (agent API key)",
            "/api/v1/tools?limit=20".to_owned(),
            agent_key.clone(),
            "1 key read + 1 query",
        ),
        (
            "GET /tools (agent OAuth token)",
            "/api/v1/tools?limit=20".to_owned(),
            agent_token.clone(),
            "1 query",
        ),
    ];
    for (label, path, cred, budget) in agent_cases {
        let started_cpu = cpu_seconds(pid);
        let mut last = None;
        for _ in 0..n {
            last = Some(api.get(&path, Some(&cred)).await);
        }
        let per = (cpu_seconds(pid) - started_cpu) / n as f64 * 1e6;
        let r = last.unwrap();
        assert!(r.status < 400, "{label}: {} {}", r.status, r.text);
        writeln!(
            md,
            "| {label} | {n} | {per:.0} | {} | {} | {} | {budget} |",
            r.calls("dynamodb"),
            r.calls("kms"),
            r.calls("secretsmanager")
        )
        .unwrap();
    }
    {
        // The cold-start runs above deactivated the bench tool (tools-deactivate): agents see,
        // and may ask for, active tools only.
        let r = api
            .post(
                &format!("/api/v1/tools/{tool_id}/activate"),
                Some(&admin),
                &json!({}),
            )
            .await;
        assert!(r.status < 400, "activate: {}", r.text);
        let count = 200;
        let started_cpu = cpu_seconds(pid);
        let mut last = None;
        for _ in 0..count {
            last = Some(
                api.oauth_token(
                    Some((&agent_id, &agent_key)),
                    &[("grant_type", "client_credentials")],
                )
                .await,
            );
        }
        let per = (cpu_seconds(pid) - started_cpu) / count as f64 * 1e6;
        let r = last.unwrap();
        assert!(r.status < 400, "oauth token: {} {}", r.status, r.text);
        writeln!(
            md,
            "| POST /oauth/token | {count} | {per:.0} | {} | {} | {} | 2 limits ∥ 1 key read, then 1 audit put (2 sequential) |",
            r.calls("dynamodb"),
            r.calls("kms"),
            r.calls("secretsmanager")
        )
        .unwrap();
        let started_cpu = cpu_seconds(pid);
        let mut last = None;
        for _ in 0..count {
            last = Some(
                api.post(
                    &format!("/api/v1/tools/{tool_id}/access"),
                    Some(&agent_token),
                    &json!({"scopes": ["bench:read"]}),
                )
                .await,
            );
        }
        let per = (cpu_seconds(pid) - started_cpu) / count as f64 * 1e6;
        let r = last.unwrap();
        assert!(r.status < 400, "access: {} {}", r.status, r.text);
        writeln!(
            md,
            "| POST /tools/{{id}}/access (agent token, allowed) | {count} | {per:.0} | {} | {} | {} | 1 tool read, then 1 transaction ∥ 1 KMS Sign |",
            r.calls("dynamodb"),
            r.calls("kms"),
            r.calls("secretsmanager")
        )
        .unwrap();
    }
    for (label, method, path, body, budget, count) in cases {
        let started_cpu = cpu_seconds(pid);
        let wall = Instant::now();
        let mut last = None;
        for i in 0..count {
            let b = if label.starts_with("POST /tools (function)") {
                Some(
                    json!({"tool_type": "function", "name": format!("bench_{i}_{}", &uuid::Uuid::new_v4().simple().to_string()[..6]), "risk_level": "low", "input_schema": {"type": "object"}}),
                )
            } else {
                body.clone()
            };
            let token = if path.contains("/auth/login") {
                None
            } else {
                Some(admin.as_str())
            };
            last = Some(api.send(method, &path, token, b.as_ref(), &[]).await);
        }
        let per = (cpu_seconds(pid) - started_cpu) / count as f64 * 1e6;
        let r = last.unwrap();
        assert!(r.status < 400, "{label}: {} {}", r.status, r.text);
        let _ = wall;
        writeln!(
            md,
            "| {label} | {count} | {per:.0} | {} | {} | {} | {budget} |",
            r.calls("dynamodb"),
            r.calls("kms"),
            r.calls("secretsmanager")
        )
        .unwrap();
    }
    let _ = elevated;

    let _ = std::fs::write(&out_path, &md);
    // 4. Artefact sizes.
    writeln!(md, "\n## Artefact size per function\n").unwrap();
    let zips: Vec<_> = fns
        .iter()
        .map(|(f, _)| (f, root.join(format!("target/lambda/{f}/bootstrap.zip"))))
        .collect();
    if zips.iter().all(|(_, p)| p.exists()) {
        writeln!(md, "From `make build && make package` (arm64). Targets: 1.5 MiB for a function that calls no AWS service (health, openapi, docs; the static-asset functions carry their files and have none), 3.5 MiB for a read route (GET), none set for the others.\n\n| function | zip MiB | target MiB | within target |\n|---|---|---|---|").unwrap();
        for (f, p) in zips {
            let mb = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0) as f64 / 1_048_576.0;
            let target = ROUTES.iter().find(|r| r.function == *f).and_then(|r| {
                let i = &r.permissions();
                let no_aws = i.dynamodb.is_empty()
                    && i.kms.is_empty()
                    && i.signing.is_empty()
                    && !i.secret
                    && !i.pepper;
                match (no_aws, r.openapi.response) {
                    // Static files: their size is the files'.
                    (true, toolreg_core::routes::Content::Asset) => None,
                    (true, _) => Some(1.5),
                    (false, _) => (r.method == "GET").then_some(3.5),
                }
            });
            let (t, ok) = match target {
                Some(t) if mb <= t => (format!("{t}"), "yes"),
                Some(t) => (format!("{t}"), "**no**"),
                None => ("—".into(), "—"),
            };
            writeln!(md, "| {f} | {mb:.2} | {t} | {ok} |").unwrap();
        }
    } else {
        writeln!(md, "`make package` had not been run, so the zips were not measured; the x86_64 bench-profile binaries (stripped) are:\n\n| function | binary MB |\n|---|---|").unwrap();
        for (f, _) in &fns {
            let mb = std::fs::metadata(bin(f)).map(|m| m.len()).unwrap_or(0) as f64 / 1_048_576.0;
            writeln!(md, "| {f} | {mb:.2} |").unwrap();
        }
    }

    let _ = std::fs::write(&out_path, &md);
    writeln!(md).unwrap();
    md.push_str(&reprobe_section().await);

    let (us, rules) = toolreg_tests::bench_policy::bench_policy_eval();
    writeln!(md, "\n## Policy evaluation\n\n{rules}-rule policy, the match on the last rule, guards included: {us:.2} µs per evaluation (budget < 50 µs).").unwrap();
    let out = root.join("docs/benchmarks.md");
    std::fs::write(&out, md).expect("write docs/benchmarks.md");
    println!("wrote {}", out.display());
    if !failed.is_empty() {
        eprintln!("instruction-count gate failed:\n  {}", failed.join("\n  "));
        std::process::exit(1);
    }
}
