//! Child processes for the test stack (DynamoDB Local, moto, the local server, MCP servers).
//!
//! Every child is started from one long-lived thread with `PR_SET_PDEATHSIG`, so the kernel kills
//! it when the test process exits — however the test run ends. (The death signal fires when the
//! *thread* that spawned the child exits, which is why spawning happens on a thread that never
//! does.)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

type Job = (Command, mpsc::Sender<std::io::Result<Child>>);

fn spawner() -> &'static Mutex<mpsc::Sender<Job>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("child-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(spawn_with_deathsig(&mut cmd));
                }
                // Keep this thread alive for the life of the process: its exit would kill the
                // children.
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn the child-spawner thread");
        Mutex::new(tx)
    })
}

#[allow(unsafe_code)]
fn spawn_with_deathsig(cmd: &mut Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and only touches the child's own state.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd.spawn()
}

/// Spawns `cmd` so that it dies with the test process.
pub fn spawn(cmd: Command) -> Child {
    let (tx, rx) = mpsc::channel();
    spawner()
        .lock()
        .expect("spawner lock")
        .send((cmd, tx))
        .expect("spawner thread alive");
    rx.recv()
        .expect("spawner reply")
        .expect("spawn child process")
}

/// Spawns `cmd` with stdout piped and waits (up to `timeout`) for a line starting with `prefix`,
/// returning the rest of that line. The remaining stdout is drained on a thread (and echoed to
/// stderr when `TOOLREG_TEST_ECHO` is set) so the child never blocks on a full pipe.
pub fn spawn_and_read_line(cmd: Command, prefix: &str, timeout: Duration) -> (Child, String) {
    spawn_and_read_line_logged(cmd, prefix, timeout, None)
}

/// Like [`spawn_and_read_line`], also appending every stdout line to `log` (the secrets suite
/// reads the server's own log lines back).
pub fn spawn_and_read_line_logged(
    mut cmd: Command,
    prefix: &str,
    timeout: Duration,
    log: Option<std::path::PathBuf>,
) -> (Child, String) {
    cmd.stdout(Stdio::piped());
    let mut child = spawn(cmd);
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let wanted = prefix.to_owned();
    std::thread::spawn(move || {
        let echo = std::env::var_os("TOOLREG_TEST_ECHO").is_some();
        let mut log_file = log.and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        });
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if echo {
                eprintln!("{line}");
            }
            if let Some(f) = log_file.as_mut() {
                use std::io::Write;
                let _ = writeln!(f, "{line}");
            }
            if !sent {
                if let Some(rest) = line.strip_prefix(&wanted) {
                    let _ = tx.send(rest.trim().to_owned());
                    sent = true;
                }
            }
        }
    });
    let deadline = Instant::now() + timeout;
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(rest) => (child, rest),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let _ = child.kill();
            panic!("child did not print a line starting with {prefix:?} within {timeout:?}");
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = child.wait();
            panic!("child exited ({status:?}) before printing a line starting with {prefix:?}");
        }
    }
}

/// A free loopback TCP port (bound then released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind an ephemeral port")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Waits until something accepts TCP connections on `127.0.0.1:port`.
pub fn wait_for_port(port: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("nothing listened on 127.0.0.1:{port} within {timeout:?}");
}

/// The project's virtualenv Python (created by `make venv`); `TOOLREG_PYTHON` overrides it.
pub fn venv_python() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("TOOLREG_PYTHON") {
        return p.into();
    }
    repo_root().join(".venv/bin/python")
}

/// The repository root (the parent of this crate's directory).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}
