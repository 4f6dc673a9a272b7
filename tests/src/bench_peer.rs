//! The side-by-side table of `make bench`: toolreg's `local` server and the FastAPI + boto3 peer,
//! both measured by the peer's harness in one run (scripts/bench-peer.sh writes the JSON).

use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

fn read(dir: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The section's Markdown, or a sentence saying why there is none.
pub fn section(dir: &Path) -> String {
    let mut md = String::from("## Side by side with the FastAPI + boto3 peer\n\n");
    let (Some(ours), Some(peer)) = (
        read(dir, "toolreg-measure.json"),
        read(dir, "peer-measure.json"),
    ) else {
        md.push_str("Not measured in this run: `scripts/bench-peer.sh` found no comparator (it looks in `../shared/comparator`, or `PEER_DIR`).\n");
        return md;
    };
    md.push_str(&table(&ours, &peer));
    let cold = |name: &str| {
        read(dir, name)
            .and_then(|v| v["ready_ms"]["median"].as_f64())
            .map(|ms| format!("{ms:.1} ms"))
            .unwrap_or_else(|| "not measured".into())
    };
    let rss = |v: &Value| v["memory_kib"]["vmhwm"].as_f64().unwrap_or(0.0) / 1024.0;
    writeln!(
        md,
        "\nPeak RSS over the run: toolreg {:.1} MiB, peer {:.1} MiB. Process start → first `200` on `/health` (median of the spawns; both create their table and seed the admin first): toolreg {}, peer {}.\n",
        rss(&ours),
        rss(&peer),
        cold("toolreg-coldstart.json"),
        cold("peer-coldstart.json"),
    )
    .unwrap();
    md.push_str("Both servers ran against one DynamoDB Local (each its own table), toolreg's keys in moto, one at a time on this machine's 2 cores, `N` sequential requests per route on one keep-alive connection after a warm-up; CPU is the server process's own (utime + stime), so the client and the emulators are not counted. The peer's README lists the biases; the one that matters most here: `/health` and `/auth/me` CPU is close to the cost of one HTTP exchange, so their ratios say more about the servers' HTTP stacks than about the work.\n");
    md
}

fn table(ours: &Value, peer: &Value) -> String {
    let mut md = String::from(
        "| route | N | toolreg CPU ms/req | peer CPU ms/req | peer ÷ toolreg | toolreg p50 ms | peer p50 ms |\n|---|---|---|---|---|---|---|\n",
    );
    let empty = Vec::new();
    let peer_routes = peer["routes"].as_array().unwrap_or(&empty);
    for r in ours["routes"].as_array().unwrap_or(&empty) {
        let route = r["route"].as_str().unwrap_or("?");
        let Some(p) = peer_routes.iter().find(|p| p["route"] == r["route"]) else {
            continue;
        };
        let cpu = |v: &Value| v["cpu_ms_per_req"].as_f64().unwrap_or(f64::NAN);
        let p50 = |v: &Value| v["latency_ms"]["p50"].as_f64().unwrap_or(f64::NAN);
        writeln!(
            md,
            "| `{route}` | {} | {:.3} | {:.3} | {:.1}× | {:.2} | {:.2} |",
            r["n"],
            cpu(r),
            cpu(p),
            cpu(p) / cpu(r),
            p50(r),
            p50(p)
        )
        .unwrap();
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_table_pairs_routes_and_divides_the_peer_by_toolreg() {
        let ours = json!({"routes": [
            {"route": "GET /health", "n": 10, "cpu_ms_per_req": 0.05, "latency_ms": {"p50": 0.2}},
            {"route": "GET /only-ours", "n": 10, "cpu_ms_per_req": 1.0, "latency_ms": {"p50": 1.0}}
        ]});
        let peer = json!({"routes": [
            {"route": "GET /health", "n": 10, "cpu_ms_per_req": 0.25, "latency_ms": {"p50": 0.9}}
        ]});
        let t = table(&ours, &peer);
        assert!(
            t.contains("| `GET /health` | 10 | 0.050 | 0.250 | 5.0× | 0.20 | 0.90 |"),
            "{t}"
        );
        assert!(!t.contains("only-ours"), "{t}");
    }

    #[test]
    fn without_the_peer_the_section_says_so() {
        let s = section(Path::new("/nonexistent/peer"));
        assert!(s.contains("Not measured in this run"), "{s}");
    }
}
