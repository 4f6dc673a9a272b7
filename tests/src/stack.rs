//! The local stack the black-box tests run against: Amazon DynamoDB Local (the table), one moto
//! server (KMS and Secrets Manager) and local toolreg servers, each server on its own table so
//! tests with different settings cannot disturb each other.

use crate::proc::{self, free_port, repo_root, venv_python, wait_for_port};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The bootstrap admin every test server seeds.
pub const ADMIN_USERNAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "test-admin-password-0123";

/// A local AWS emulator process on loopback (DynamoDB Local or moto).
pub struct Emulator {
    pub child: Child,
    pub endpoint: String,
    pub port: u16,
}

impl Emulator {
    fn spawn(mut cmd: Command, port: u16) -> Emulator {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let child = proc::spawn(cmd);
        wait_for_port(port, Duration::from_secs(120));
        Emulator {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Amazon DynamoDB Local, in memory (`scripts/dynamodb-local.sh`; `make test` fetches it).
pub struct DynamoDbLocal;

impl DynamoDbLocal {
    /// Starts a fresh, empty DynamoDB Local and waits for it to accept connections.
    pub fn start() -> Emulator {
        Self::start_on(free_port())
    }

    /// Starts DynamoDB Local on `port` (to bring a store back where a killed one was).
    pub fn start_on(port: u16) -> Emulator {
        let mut cmd = Command::new(repo_root().join("scripts/dynamodb-local.sh"));
        cmd.args(["run", &port.to_string()]);
        Emulator::spawn(cmd, port)
    }
}

/// moto, serving KMS and Secrets Manager only.
pub struct Moto;

impl Moto {
    /// Starts a fresh moto server and waits for it to accept connections.
    pub fn start() -> Emulator {
        let port = free_port();
        let mut cmd = Command::new(venv_python());
        cmd.arg(repo_root().join("scripts/moto_server.py")).args([
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ]);
        Emulator::spawn(cmd, port)
    }
}

/// The DynamoDB Local shared by most tests.
pub fn dynamodb() -> &'static Emulator {
    static DDB: OnceLock<Emulator> = OnceLock::new();
    DDB.get_or_init(DynamoDbLocal::start)
}

/// The moto server shared by most tests.
pub fn moto() -> &'static Emulator {
    static MOTO: OnceLock<Emulator> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// Where a server finds each AWS service.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub dynamodb: String,
    /// KMS and Secrets Manager.
    pub moto: String,
}

impl Endpoints {
    /// The shared DynamoDB Local and moto.
    pub fn shared() -> Endpoints {
        Endpoints {
            dynamodb: dynamodb().endpoint.clone(),
            moto: moto().endpoint.clone(),
        }
    }

    /// The shared stack with its own DynamoDB Local (for tests that freeze or kill the store).
    pub fn with_dynamodb(ddb: &Emulator) -> Endpoints {
        Endpoints {
            dynamodb: ddb.endpoint.clone(),
            ..Self::shared()
        }
    }

    /// The shared DynamoDB Local with its own moto (for tests that break KMS).
    pub fn with_moto(moto: &Emulator) -> Endpoints {
        Endpoints {
            moto: moto.endpoint.clone(),
            ..Self::shared()
        }
    }
}

/// SDK clients for `endpoints`, as a test process builds them (the service reads the
/// per-service `AWS_ENDPOINT_URL_*` variables instead).
pub async fn clients(endpoints: &Endpoints) -> toolreg_core::aws::Clients {
    let load = |url: String| async move {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(url)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .load()
            .await
    };
    let ddb = load(endpoints.dynamodb.clone()).await;
    let moto = load(endpoints.moto.clone()).await;
    toolreg_core::aws::Clients {
        dynamodb: aws_sdk_dynamodb::Client::new(&ddb),
        kms: aws_sdk_kms::Client::new(&moto),
        secrets: aws_sdk_secretsmanager::Client::new(&moto),
    }
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

/// The environment of a test server on `endpoints`: generous limits unless overridden.
pub fn server_env(endpoints: &Endpoints, overrides: &[(&str, &str)]) -> BTreeMap<String, String> {
    let table = format!(
        "toolreg-test-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut env: BTreeMap<String, String> = [
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoints.dynamodb.as_str()),
        ("AWS_ENDPOINT_URL_KMS", endpoints.moto.as_str()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoints.moto.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("TABLE_NAME", &table),
        ("KMS_KEY_ID", "alias/toolreg-test"),
        ("JWT_SECRET_ARN", "toolreg-test/jwt-signing-key"),
        ("API_KEY_PEPPER_SECRET_ARN", "toolreg-test/api-key-pepper"),
        ("CREDENTIAL_KMS_KEY_IDS", "alias/toolreg-test-credentials"),
        ("OAUTH_RATE_LIMIT_CLIENT", "100000/minute"),
        ("OAUTH_RATE_LIMIT_IP", "100000/minute"),
        ("ACCESS_RATE_LIMIT_PRINCIPAL", "100000/minute"),
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
    /// Every item of the server's table, all pages, read consistently: for tests that look at
    /// what rests in the table (secrets must not).
    pub async fn scan_table(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let clients = clients(&self.endpoints()).await;
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = clients
                .dynamodb
                .scan()
                .table_name(&self.env["TABLE_NAME"])
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .expect("scan the table");
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return items;
            }
        }
    }

    /// Starts `target/debug/local` with `env` and waits until it listens.
    pub fn start_with_env(env: BTreeMap<String, String>) -> Server {
        Self::start_under(env, &[])
    }

    /// Starts `target/<profile>/local` run by `wrapper` (a command and its arguments, e.g.
    /// valgrind's; empty: none) with `env`, and waits until it listens.
    pub fn start_under(env: BTreeMap<String, String>, wrapper: &[&str]) -> Server {
        let dir = repo_root().join("target/test-logs");
        std::fs::create_dir_all(&dir).expect("create target/test-logs");
        let log = dir.join(format!("{}.log", env["TABLE_NAME"]));
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin("local"));
                c
            }
            None => Command::new(bin("local")),
        };
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&env)
            .stderr(Stdio::inherit());
        let (child, base) = proc::spawn_and_read_line_logged(
            cmd,
            "LISTENING ",
            Duration::from_secs(if wrapper.is_empty() { 60 } else { 600 }),
            Some(log.clone()),
        );
        // Without PUBLIC_BASE_URL the server's public URL, and so its tokens' issuer, is where
        // it listens: Lambda functions launched with this environment (which must have it) and
        // in-process states then agree with it.
        let mut env = env;
        env.entry("PUBLIC_BASE_URL".into())
            .or_insert_with(|| base.clone());
        Server {
            child,
            base,
            env,
            log,
        }
    }

    /// A server on the shared stack with `overrides` on top of the test defaults.
    pub fn start(overrides: &[(&str, &str)]) -> Server {
        Self::start_with_env(server_env(&Endpoints::shared(), overrides))
    }

    /// The endpoints this server was started with.
    pub fn endpoints(&self) -> Endpoints {
        Endpoints {
            dynamodb: self.env["AWS_ENDPOINT_URL_DYNAMODB"].clone(),
            moto: self.env["AWS_ENDPOINT_URL_KMS"].clone(),
        }
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
        toolreg_core::state::AppState::new(config, clients(&self.endpoints()).await)
    }

    /// Creates a user with `role` directly through the service layer (no token needed).
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
