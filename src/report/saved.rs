//! JSON reports (`ecr-audit/report/v1`) read back, and several merged into
//! one: a nightly job scans once and renders every other format from the
//! JSON, and the reports of an organization's shards become one report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::finding::{sort_findings, Finding};
use crate::inventory::CollectionError;
use crate::model::ScanScope;
use crate::scan::ScanError;

/// A saved report the CLI cannot use: which file, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct SavedReportError {
    pub file: String,
    pub message: String,
}

crate::files::user_diagnostic!(
    SavedReportError,
    "ecr_audit::report",
    "`ecr-audit report` reads JSON reports written by `ecr-audit scan --format json` (schema ecr-audit/report/v1)"
);

#[derive(Deserialize)]
struct SavedScanned {
    as_of: String,
    #[serde(default)]
    collected_at: Option<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(flatten)]
    scope: ScanScope,
    #[serde(default)]
    request_counts: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct SavedSummary {
    #[serde(default)]
    suppressed: usize,
    #[serde(default)]
    below_min_severity: usize,
}

/// One JSON report as `scan --format json` writes it.
#[derive(Deserialize)]
pub struct SavedReport {
    schema: String,
    scanned: SavedScanned,
    summary: SavedSummary,
    findings: Vec<Finding>,
    #[serde(default)]
    errors: Vec<CollectionError>,
    #[serde(default)]
    warnings: Vec<String>,
    /// A proof summary: not carried into a merged report (its proofs are
    /// in the findings' details and messages already).
    #[serde(default)]
    proofs: Option<serde_json::Value>,
}

impl SavedReport {
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

/// What makes two findings the same finding across reports.
pub fn finding_key(f: &Finding) -> (&str, &str) {
    (f.fingerprint.as_str(), &f.resource_arn)
}

/// Several reports as one.
#[derive(Debug, Clone, Default)]
pub struct MergedReport {
    /// Sorted for presentation, duplicates (same fingerprint) once.
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    pub warnings: Vec<String>,
    pub scanned: ScanScope,
    pub as_of: Option<OffsetDateTime>,
    pub collected_at: Option<OffsetDateTime>,
    pub sources: Vec<String>,
    pub request_counts: BTreeMap<String, u64>,
    pub suppressed: usize,
    pub below_min_severity: usize,
}

/// Reads one report; errors name the file and, for JSON, line and column.
pub fn read(path: &Path) -> Result<SavedReport, SavedReportError> {
    let source = path.display().to_string();
    let error = |message: String| SavedReportError {
        file: source.clone(),
        message,
    };
    let text = crate::files::read_text_file(path, u64::MAX)
        .map_err(|e| error(format!("cannot read: {e}")))?;
    let report: SavedReport = serde_json::from_str(&text).map_err(|e| {
        error(format!(
            "line {}, column {}: not an ecr-audit JSON report: {e}",
            e.line(),
            e.column()
        ))
    })?;
    if report.schema != super::REPORT_SCHEMA {
        return Err(error(format!(
            "unsupported report schema \"{}\" (this version reads \"{}\")",
            report.schema,
            super::REPORT_SCHEMA
        )));
    }
    Ok(report)
}

fn parse_time(text: &str, what: &str, source: &str) -> Result<OffsetDateTime, SavedReportError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| SavedReportError {
        file: source.to_string(),
        message: format!("scanned.{what} \"{text}\" is not an RFC 3339 time: {e}"),
    })
}

/// Merges reports (each named by its file). Counts add up, regions and
/// sources are joined, a finding or error present in several reports is
/// kept once; the scan time is the latest and a warning says when the
/// reports were made at different times.
pub fn merge(parts: Vec<(String, SavedReport)>) -> Result<MergedReport, SavedReportError> {
    let mut merged = MergedReport::default();
    let mut fingerprints: BTreeSet<(String, String)> = BTreeSet::new();
    let mut errors_seen: BTreeSet<String> = BTreeSet::new();
    let mut times: BTreeSet<OffsetDateTime> = BTreeSet::new();
    for (source, part) in parts {
        let as_of = parse_time(&part.scanned.as_of, "as_of", &source)?;
        times.insert(as_of);
        merged.as_of = merged.as_of.max(Some(as_of));
        if let Some(c) = &part.scanned.collected_at {
            let c = parse_time(c, "collected_at", &source)?;
            merged.collected_at = Some(merged.collected_at.map_or(c, |m| m.min(c)));
        }
        for s in part.scanned.sources {
            // Shards of one inventory name the same source.
            if !merged.sources.contains(&s) {
                merged.sources.push(s);
            }
        }
        let scope = part.scanned.scope;
        merged.scanned.accounts += scope.accounts;
        merged.scanned.regions.extend(scope.regions);
        merged.scanned.repositories += scope.repositories;
        merged.scanned.images += scope.images;
        merged.scanned.iam_principals += scope.iam_principals;
        for (op, n) in part.scanned.request_counts {
            *merged.request_counts.entry(op).or_default() += n;
        }
        merged.suppressed += part.summary.suppressed;
        merged.below_min_severity += part.summary.below_min_severity;
        for f in part.findings {
            // The fingerprint is rule + resource (+ sub-key): the same
            // finding in two overlapping reports is one finding.
            let (a, b) = finding_key(&f);
            if fingerprints.insert((a.to_string(), b.to_string())) {
                merged.findings.push(f);
            }
        }
        for e in part.errors {
            let key = serde_json::to_string(&e).unwrap_or_default();
            if errors_seen.insert(key) {
                merged.errors.push(ScanError::from_operation(e));
            }
        }
        for w in part.warnings {
            if !merged.warnings.contains(&w) {
                merged.warnings.push(w);
            }
        }
        if part.proofs.is_some() {
            merged.warnings.push(format!(
                "{source}: its proof summary is not carried into the merged report (the proofs' counterexamples remain in the findings)"
            ));
        }
    }
    if times.len() > 1 {
        let first = times.iter().next().copied().map(super::rfc3339);
        let last = times.iter().next_back().copied().map(super::rfc3339);
        merged.warnings.push(format!(
            "the reports were made at different times ({} to {}); the merged report is dated at the latest",
            first.unwrap_or_default(),
            last.unwrap_or_default()
        ));
    }
    sort_findings(&mut merged.findings);
    Ok(merged)
}
