//! Reports: findings → bytes. Each format reads the same `Report`.

pub mod baseline;
pub mod json;
pub mod markdown;
pub mod proofs;
pub mod rules;
pub mod sarif;
pub mod saved;
pub mod table;

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::engine::Rule;
use crate::finding::{Finding, Severity};
use crate::model::ScanScope;
use crate::scan::ScanError;

/// The JSON report's schema tag, written by `json` and read by `saved`.
pub const REPORT_SCHEMA: &str = "ecr-audit/report/v1";

pub struct Report<'a> {
    /// Sorted, filtered, suppressions applied.
    pub findings: &'a [Finding],
    /// The rules that ran (for SARIF's rule catalogue).
    pub rules: &'a [Rule],
    /// What could not be read or evaluated: the scan is incomplete.
    pub errors: &'a [ScanError],
    pub warnings: &'a [String],
    pub scanned: &'a ScanScope,
    pub as_of: OffsetDateTime,
    pub collected_at: Option<OffsetDateTime>,
    /// Inventory files read, or "live" / "embedded demo".
    pub sources: &'a [String],
    pub request_counts: &'a BTreeMap<String, u64>,
    pub suppressed: usize,
    /// Findings left out by `--min-severity`.
    pub below_min_severity: usize,
    /// `check-policy`: one document in a synthetic inventory, whose
    /// counts are not worth reporting.
    pub checked_document: bool,
    /// With `--prove`.
    pub proofs: Option<&'a crate::prove::run::ProofRun>,
    /// With `--baseline` (the findings carry their state).
    pub baseline: Option<&'a baseline::Baseline>,
}

impl Report<'_> {
    pub fn counts(&self) -> BTreeMap<Severity, usize> {
        let mut counts: BTreeMap<Severity, usize> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        for f in self.findings {
            *counts.entry(f.severity).or_default() += 1;
        }
        counts
    }
}

/// A JSON document as the reports write it: indented, ending in a newline.
pub fn pretty(value: &serde_json::Value) -> String {
    // PANIC SAFETY: a `Value` has string keys only, so it always serializes.
    #[allow(clippy::expect_used)]
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value serializes");
    text.push('\n');
    text
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    crate::model::images::rfc3339(t)
}
