//! Tool drift: a remote tool keeps the tool list it was approved with; a probe that finds
//! another list marks it drifted, with what was added, removed and changed, until an admin
//! approves the list found.
//!
//! Lists are compared by the probe's `tools_sha256` (names, descriptions and input schemas,
//! canonical JSON); the diff by per-tool fingerprints of the same three fields. Fingerprints are
//! kept for the first [`MAX_FINGERPRINTED_TOOLS`] tools in name order: for longer lists the hash
//! still decides, and the diff says it is `partial`.

use super::probe::{ProbeOutcome, ProbeStatus, MAX_FINGERPRINTED_TOOLS};

/// Names kept in each of a drift's `added`, `removed` and `changed` (the first in name order):
/// a tool's answers stay small however much a server changes; `partial` says names were cut.
pub const MAX_DRIFT_NAMES: usize = 50;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A server's tool list, as far as approval is concerned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolList {
    /// The probe's `tools_sha256` of the whole list.
    pub sha256: String,
    /// Tool name → fingerprint (at most [`MAX_FINGERPRINTED_TOOLS`]).
    pub tools: BTreeMap<String, String>,
    /// The list had more tools than `tools` holds.
    #[serde(default)]
    pub partial: bool,
}

impl ToolList {
    /// The list a probe found: only a passed probe that listed tools found one.
    pub fn of(o: &ProbeOutcome) -> Option<Self> {
        if o.status != ProbeStatus::Passed {
            return None;
        }
        let sha256 = o.tools_sha256.clone()?;
        let count = o.tool_count.unwrap_or(0) as usize;
        Some(Self {
            sha256,
            partial: count > o.tool_fingerprints.len() || count > MAX_FINGERPRINTED_TOOLS,
            tools: o.tool_fingerprints.clone(),
        })
    }
}

/// How the tool list found differs from the approved one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// When the probe that found this list ran.
    pub detected_at: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    /// Either list was longer than its fingerprints: the names cover only the fingerprinted
    /// tools (the hashes still differ).
    #[serde(default)]
    pub partial: bool,
    /// The list found: what approving accepts.
    pub current: ToolList,
}

/// Names added, removed and changed from `approved` to `current`, each in name order.
pub fn diff(approved: &ToolList, current: &ToolList) -> (Vec<String>, Vec<String>, Vec<String>) {
    let added = current
        .tools
        .keys()
        .filter(|n| !approved.tools.contains_key(*n))
        .cloned()
        .collect();
    let removed = approved
        .tools
        .keys()
        .filter(|n| !current.tools.contains_key(*n))
        .cloned()
        .collect();
    let changed = current
        .tools
        .iter()
        .filter(|(n, f)| approved.tools.get(*n).is_some_and(|a| a != *f))
        .map(|(n, _)| n.clone())
        .collect();
    (added, removed, changed)
}

/// What a probe did to a tool's drift state.
#[derive(Debug, PartialEq)]
pub enum DriftUpdate {
    /// Nothing to compare (a failed probe, an auth-only answer) or the same state as before.
    Unchanged,
    /// The first list seen: it becomes the approved one.
    Baseline,
    /// A list other than the approved one, and other than the drift already recorded.
    Detected,
    /// The server is back to the approved list.
    Cleared,
}

/// Applies a probe's `outcome` (run at `at`) to a tool's `approved` list and `drift`.
pub fn apply(
    approved: &mut Option<ToolList>,
    drift: &mut Option<Drift>,
    outcome: &ProbeOutcome,
    at: &str,
) -> DriftUpdate {
    let Some(current) = ToolList::of(outcome) else {
        return DriftUpdate::Unchanged;
    };
    let Some(base) = approved.as_ref() else {
        *approved = Some(current);
        *drift = None;
        return DriftUpdate::Baseline;
    };
    if base.sha256 == current.sha256 {
        return match drift.take() {
            Some(_) => DriftUpdate::Cleared,
            None => DriftUpdate::Unchanged,
        };
    }
    if drift
        .as_ref()
        .is_some_and(|d| d.current.sha256 == current.sha256)
    {
        return DriftUpdate::Unchanged;
    }
    let (mut added, mut removed, mut changed) = diff(base, &current);
    let mut cut = false;
    for names in [&mut added, &mut removed, &mut changed] {
        cut |= names.len() > MAX_DRIFT_NAMES;
        names.truncate(MAX_DRIFT_NAMES);
    }
    *drift = Some(Drift {
        detected_at: at.to_owned(),
        added,
        removed,
        changed,
        partial: base.partial || current.partial || cut,
        current,
    });
    DriftUpdate::Detected
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn list(sha: &str, tools: &[(&str, &str)]) -> ToolList {
        ToolList {
            sha256: sha.into(),
            tools: tools
                .iter()
                .map(|(n, f)| (n.to_string(), f.to_string()))
                .collect(),
            partial: false,
        }
    }

    fn passed(sha: &str, tools: &[(&str, &str)]) -> ProbeOutcome {
        let mut o = ProbeOutcome::failed("x", Duration::ZERO);
        o.status = ProbeStatus::Passed;
        o.error = None;
        o.tools_sha256 = Some(sha.into());
        o.tool_count = Some(tools.len() as u32);
        o.tool_fingerprints = list(sha, tools).tools;
        o
    }

    #[test]
    fn the_diff_names_added_removed_and_changed_tools() {
        let a = list("1", &[("add", "f1"), ("echo", "f2"), ("gone", "f3")]);
        let b = list("2", &[("add", "f1"), ("echo", "f9"), ("new", "f4")]);
        let (added, removed, changed) = diff(&a, &b);
        assert_eq!(added, ["new"]);
        assert_eq!(removed, ["gone"]);
        assert_eq!(changed, ["echo"]);
        assert_eq!(diff(&a, &a), (vec![], vec![], vec![]));
    }

    #[test]
    fn probes_set_the_baseline_then_detect_and_clear_drift() {
        let (mut approved, mut drift) = (None, None);
        let v1 = passed("1", &[("echo", "f1")]);
        let v2 = passed("2", &[("echo", "f2"), ("add", "f3")]);
        let v3 = passed("3", &[]);
        let failed = ProbeOutcome::failed("down", Duration::ZERO);
        assert_eq!(
            apply(&mut approved, &mut drift, &failed, "t0"),
            DriftUpdate::Unchanged
        );
        assert!(approved.is_none());
        assert_eq!(
            apply(&mut approved, &mut drift, &v1, "t1"),
            DriftUpdate::Baseline
        );
        assert_eq!(
            apply(&mut approved, &mut drift, &v1, "t2"),
            DriftUpdate::Unchanged
        );
        assert_eq!(
            apply(&mut approved, &mut drift, &v2, "t3"),
            DriftUpdate::Detected
        );
        let d = drift.clone().unwrap();
        assert_eq!(
            (d.added, d.changed, d.detected_at),
            (
                vec!["add".to_string()],
                vec!["echo".to_string()],
                "t3".into()
            )
        );
        // The same drift again is not news; a failed probe keeps it.
        assert_eq!(
            apply(&mut approved, &mut drift, &v2, "t4"),
            DriftUpdate::Unchanged
        );
        assert_eq!(
            apply(&mut approved, &mut drift, &failed, "t5"),
            DriftUpdate::Unchanged
        );
        assert_eq!(drift.as_ref().unwrap().detected_at, "t3");
        // Another list is.
        assert_eq!(
            apply(&mut approved, &mut drift, &v3, "t6"),
            DriftUpdate::Detected
        );
        assert_eq!(drift.as_ref().unwrap().removed, ["echo"]);
        // Back to the approved list.
        assert_eq!(
            apply(&mut approved, &mut drift, &v1, "t7"),
            DriftUpdate::Cleared
        );
        assert!(drift.is_none());
        assert_eq!(approved.unwrap().sha256, "1");
    }

    #[test]
    fn a_list_longer_than_its_fingerprints_gives_a_partial_diff() {
        let mut big = passed("9", &[("a", "f")]);
        big.tool_count = Some(3000);
        assert!(ToolList::of(&big).unwrap().partial);
        let (mut approved, mut drift) = (Some(list("1", &[("a", "f")])), None);
        assert_eq!(
            apply(&mut approved, &mut drift, &big, "t"),
            DriftUpdate::Detected
        );
        assert!(drift.unwrap().partial);
        // Long diffs keep the first names only, and say so.
        let many: Vec<(String, String)> =
            (0..120).map(|i| (format!("t{i:03}"), "f".into())).collect();
        let mut o = passed("7", &[]);
        o.tool_fingerprints = many.into_iter().collect();
        o.tool_count = Some(120);
        let (mut approved, mut drift) = (Some(list("1", &[])), None);
        apply(&mut approved, &mut drift, &o, "t");
        let d = drift.unwrap();
        assert_eq!(d.added.len(), MAX_DRIFT_NAMES);
        assert_eq!(d.added[0], "t000");
        assert!(d.partial);
        assert_eq!(
            d.current.tools.len(),
            120,
            "approving accepts the whole list"
        );
    }
}
