//! Findings compared with a previous report (`--baseline`): each current
//! finding is `new` or `unchanged`, and the previous findings no longer
//! present are `absent` (fixed, or their resource is gone). A finding is
//! the same finding when its fingerprint is (rule id + resource ARN + the
//! rule's sub-key): stable while nothing about it changes, whatever else
//! in the organization does.

use std::collections::BTreeSet;

use serde::Serialize;

use super::saved::{finding_key, SavedReport};
use crate::finding::{BaselineState, Finding, Severity};

/// A previous finding the current scan no longer has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbsentFinding {
    pub rule_id: std::sync::Arc<str>,
    pub severity: Severity,
    pub title: std::sync::Arc<str>,
    pub resource_arn: std::sync::Arc<str>,
    pub account: std::sync::Arc<str>,
    pub region: Option<std::sync::Arc<str>>,
    pub fingerprint: String,
}

/// The comparison, for the reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// The baseline report's file.
    pub source: String,
    pub new: usize,
    pub unchanged: usize,
    pub absent: Vec<AbsentFinding>,
}

impl Baseline {
    /// One line for the table and the Markdown summary.
    pub fn summary(&self) -> String {
        format!(
            "Baseline {}: {} new, {} unchanged, {} absent (fixed or gone)",
            self.source,
            self.new,
            self.unchanged,
            self.absent.len()
        )
    }
}

/// Marks each finding against the previous report and lists what is gone.
pub fn compare(findings: &mut [Finding], source: String, previous: SavedReport) -> Baseline {
    let before: BTreeSet<(String, String)> = previous
        .findings()
        .iter()
        .map(|f| {
            let (a, b) = finding_key(f);
            (a.to_string(), b.to_string())
        })
        .collect();
    let mut now: BTreeSet<(&str, &str)> = BTreeSet::new();
    let (mut new, mut unchanged) = (0, 0);
    for f in findings.iter_mut() {
        let (a, b) = finding_key(f);
        let state = if before.contains(&(a.to_string(), b.to_string())) {
            unchanged += 1;
            BaselineState::Unchanged
        } else {
            new += 1;
            BaselineState::New
        };
        f.baseline_state = Some(state);
    }
    for f in findings.iter() {
        now.insert(finding_key(f));
    }
    let absent = previous
        .findings()
        .iter()
        .filter(|f| !now.contains(&finding_key(f)))
        .map(|f| AbsentFinding {
            rule_id: f.rule_id.clone(),
            severity: f.severity,
            title: f.title.clone(),
            resource_arn: f.resource_arn.clone(),
            account: f.account.clone(),
            region: f.region.clone(),
            fingerprint: f.fingerprint.clone(),
        })
        .collect();
    Baseline {
        source,
        new,
        unchanged,
        absent,
    }
}

/// Whether any new finding is at or above `threshold` (`--fail-on-new`).
pub fn has_new_at_or_above(findings: &[Finding], threshold: Severity) -> bool {
    findings
        .iter()
        .any(|f| f.baseline_state == Some(BaselineState::New) && f.severity >= threshold)
}
