//! Instructions per request, counted by valgrind's callgrind: repeatable where times are not
//! (the same binary and requests give the same count whatever else the machine is doing), so
//! `make bench` can hold every route to its committed figure (`docs/benchmarks-instructions.json`).

use crate::stack::Server;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::process::Command;

/// A route may grow this much (a fraction) before the gate fails.
pub const TOLERANCE: f64 = 0.10;

/// A route measured below this fraction of its committed figure fails the gate too: the
/// baseline is stale (`/health` once stood committed at 299k and measured 90k), and a stale
/// baseline lets the route triple before the growth check fires. Re-recording keeps it honest.
pub const STALE_BELOW: f64 = 0.70;

/// The `local` server running under callgrind, with counting controlled per phase.
pub struct Callgrind {
    pub server: Server,
    dir: PathBuf,
}

impl Callgrind {
    /// Starts the server under callgrind. Everything runs ~50× slower, so the SDK's timeouts are
    /// lifted for this server only.
    pub fn start(mut env: BTreeMap<String, String>) -> Callgrind {
        let dir =
            crate::proc::repo_root().join(format!("target/bench/callgrind-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the callgrind folder");
        env.insert("AWS_ATTEMPT_TIMEOUT_SECONDS".into(), "30".into());
        env.insert("AWS_OPERATION_TIMEOUT_SECONDS".into(), "60".into());
        let out = format!("--callgrind-out-file={}/cg.out", dir.display());
        let log = format!("--log-file={}/valgrind.log", dir.display());
        let server = Server::start_under(env, &["valgrind", "--tool=callgrind", &out, &log]);
        Callgrind { server, dir }
    }

    fn control(&self, flag: &str) {
        let pid = self.server.child.id().to_string();
        let out = Command::new("callgrind_control")
            .args([flag, &pid])
            .output()
            .expect("run callgrind_control");
        assert!(
            out.status.success(),
            "callgrind_control {flag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Instructions the server executed per call of `request`, over `n` calls (counting starts
    /// after the calls `request` made before, e.g. warm-up).
    pub async fn per_request<F, Fut>(&self, n: usize, mut request: F) -> u64
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = ()>,
    {
        self.control("-z");
        for i in 0..n {
            request(i).await;
        }
        let before = self.dumps();
        self.control("-d");
        let dump = self
            .dumps()
            .into_iter()
            .find(|p| !before.contains(p))
            .expect("callgrind wrote a dump");
        let text = std::fs::read_to_string(&dump).expect("read the callgrind dump");
        parse_totals(&text).expect("a totals line in the dump") / n as u64
    }

    fn dumps(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("cg.out."))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The instruction count (the first event, `Ir`) of a callgrind dump's `totals:` line.
pub fn parse_totals(dump: &str) -> Option<u64> {
    dump.lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Routes that fail the gate against the committed figures, each as a sentence: those that grew
/// by more than [`TOLERANCE`], and those that fell below [`STALE_BELOW`] of their figure (the
/// baseline is stale and must be re-recorded). Routes without a committed figure are new and
/// pass.
pub fn regressions(committed: &BTreeMap<String, u64>, now: &BTreeMap<String, u64>) -> Vec<String> {
    now.iter()
        .filter_map(|(route, &count)| {
            let &base = committed.get(route)?;
            let change = (count as f64 / base as f64 - 1.0) * 100.0;
            if count as f64 > base as f64 * (1.0 + TOLERANCE) {
                Some(format!(
                    "{route}: {count} instructions per request, {change:+.1}% against the committed {base}"
                ))
            } else if (count as f64) < base as f64 * STALE_BELOW {
                Some(format!(
                    "{route}: {count} instructions per request, {change:+.1}% against the committed \
                     {base}: the baseline is stale (a route could grow back past it unnoticed); \
                     re-record it with BENCH_ACCEPT=1"
                ))
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_read_from_the_dump() {
        let dump = "events: Ir\nfl=(1) a.rs\nfn=(1) main\n3 10\nsummary: 999\ntotals: 123456\n";
        assert_eq!(parse_totals(dump), Some(123_456));
        assert_eq!(parse_totals("events: Ir\n"), None);
    }

    #[test]
    fn the_gate_fails_past_ten_percent_only() {
        let committed: BTreeMap<String, u64> = [("a".into(), 1000), ("b".into(), 1000)]
            .into_iter()
            .collect();
        let now: BTreeMap<String, u64> = [
            ("a".into(), 1100), // exactly +10%: allowed
            ("b".into(), 1101), // over: fails
            ("c".into(), 5000), // new: passes
        ]
        .into_iter()
        .collect();
        let r = regressions(&committed, &now);
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].starts_with("b: 1101"), "{r:?}");
    }

    #[test]
    fn the_gate_fails_far_below_the_baseline_and_says_to_re_record() {
        let committed: BTreeMap<String, u64> = [
            ("health".into(), 299_147),
            ("edge".into(), 1000),
            ("under".into(), 1000),
            ("faster".into(), 1000),
        ]
        .into_iter()
        .collect();
        let now: BTreeMap<String, u64> = [
            ("health".into(), 90_000), // the stale /health baseline the issue found: fails
            ("edge".into(), 700),      // exactly 70%: allowed
            ("under".into(), 699),     // just under: fails
            ("faster".into(), 850),    // a real 15% gain: passes until re-recorded
        ]
        .into_iter()
        .collect();
        let r = regressions(&committed, &now);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].starts_with("health: 90000"), "{r:?}");
        assert!(r[1].starts_with("under: 699"), "{r:?}");
        for failure in &r {
            assert!(failure.contains("BENCH_ACCEPT=1"), "{failure}");
            assert!(failure.contains("stale"), "{failure}");
        }
    }
}
