//! The local stack the black-box tests run against: one moto server and local toolreg servers,
//! each server on its own table so tests with different settings cannot disturb each other.

use crate::proc::{self, free_port, repo_root, venv_python, wait_for_port};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The bootstrap admin every test server seeds.
pub const ADMIN_USERNAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "test-admin-password-0123";

/// A moto server on loopback.
pub struct Moto {
    pub child: Child,
    pub endpoint: String,
    pub port: u16,
}

impl Moto {
    /// Starts a fresh moto server and waits for it to accept connections.
    pub fn start() -> Moto {
        Self::start_on(free_port())
    }

    /// Starts a moto server on `port` (to bring a stack back where a killed one was).
    pub fn start_on(port: u16) -> Moto {
        let mut cmd = Command::new(venv_python());
        cmd.arg(repo_root().join("scripts/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = proc::spawn(cmd);
        wait_for_port(port, Duration::from_secs(60));
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The moto server shared by most tests.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// Where cargo put the binaries (`make test` builds them before running the tests).
pub fn bin(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    // `make bench` measures release binaries; tests use the debug build.
    let profile = std::env::var("TOOLREG_BIN_PROFILE").unwrap_or_else(|_| "debug".into());
    let p = target.join(profile).join(name);
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace --bins` (make test does)",
        p.display()
    );
    p
}

/// A running local toolreg server and the environment it was started with.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub env: BTreeMap<String, String>,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment of a test server on `endpoint`: generous limits unless overridden.
pub fn server_env(endpoint: &str, overrides: &[(&str, &str)]) -> BTreeMap<String, String> {
    let table = format!(
        "toolreg-test-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut env: BTreeMap<String, String> = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("TABLE_NAME", &table),
        ("KMS_KEY_ID", "alias/toolreg-test"),
        ("JWT_SECRET_ARN", "toolreg-test/jwt-signing-key"),
        ("BOOTSTRAP_ADMIN_USERNAME", ADMIN_USERNAME),
        ("BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("LOGIN_RATE_LIMIT_IP", "100000/minute"),
        ("LOGIN_RATE_LIMIT_USERNAME", "100000/minute"),
        ("PROBE_RATE_LIMIT_USER", "100000/minute"),
        ("PROBE_RATE_LIMIT_IP", "100000/minute"),
        ("PROBE_ALLOW_PRIVATE_NETWORKS", "true"),
        ("PROBE_TIMEOUT_SECONDS", "3"),
        ("TOOLREG_EXPOSE_CALL_COUNTS", "true"),
        ("RUST_LOG", "info"),
        ("PORT", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in overrides {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    env
}

impl Server {
    /// Starts `target/debug/local` with `env` and waits until it listens.
    pub fn start_with_env(env: BTreeMap<String, String>) -> Server {
        let dir = repo_root().join("target/test-logs");
        std::fs::create_dir_all(&dir).expect("create target/test-logs");
        let log = dir.join(format!("{}.log", env["TABLE_NAME"]));
        let mut cmd = Command::new(bin("local"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&env)
            .stderr(Stdio::inherit());
        let (child, base) = proc::spawn_and_read_line_logged(
            cmd,
            "LISTENING ",
            Duration::from_secs(60),
            Some(log.clone()),
        );
        Server {
            child,
            base,
            env,
            log,
        }
    }

    /// A server on the shared moto with `overrides` on top of the test defaults.
    pub fn start(overrides: &[(&str, &str)]) -> Server {
        Self::start_with_env(server_env(&moto().endpoint, overrides))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// An in-process `AppState` on this server's table, for setting up users and inspecting
    /// stored items directly.
    pub async fn state(&self) -> toolreg_core::state::AppState {
        let env = self.env.clone();
        let config = toolreg_core::config::Config::from_lookup(|k| env.get(k).cloned())
            .expect("test server configuration is valid");
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.env["AWS_ENDPOINT_URL"])
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .load()
            .await;
        toolreg_core::state::AppState::new(config, toolreg_core::aws::Clients::new(&sdk))
    }

    /// Creates a user with `role` directly through the service layer (there is no user API).
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: toolreg_core::domain::user::Role,
    ) {
        let state = self.state().await;
        let actor = toolreg_core::domain::audit::Actor::default();
        let meta = toolreg_core::domain::audit::RequestMeta::default();
        toolreg_core::services::auth::create_user(&state, username, password, role, &actor, &meta)
            .await
            .map(|_| ())
            .or_else(|e| match e {
                toolreg_core::services::auth::CreateUserError::Taken => Ok(()),
                other => Err(other),
            })
            .expect("create test user");
    }

    /// Everything the server logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The server most tests share: generous limits, private networks allowed, call counts exposed.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(&[]))
}
