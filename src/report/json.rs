//! The JSON report (`ecr-audit/report/v1`), for scripts.
//!
//! Written straight to the output: a scan of a large organization has
//! hundreds of thousands of findings, and a whole-document `Value` of them
//! would hold them a second time.

use std::io::Write;

use serde::Serialize;
use serde_json::{json, Value};

use super::{rfc3339, Report};

pub use super::REPORT_SCHEMA as SCHEMA;

/// The top level, in the order the report has always had.
#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    tool: Value,
    scanned: Value,
    summary: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a super::baseline::Baseline>,
    findings: &'a [crate::finding::Finding],
    errors: &'a [crate::scan::ScanError],
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    proofs: Option<Value>,
}

fn document<'a>(report: &'a Report) -> JsonReport<'a> {
    let counts: serde_json::Map<String, Value> = report
        .counts()
        .into_iter()
        .rev()
        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
        .collect();
    JsonReport {
        errors: report.errors,
        findings: report.findings,
        proofs: report.proofs.map(super::proofs::summary),
        scanned: json!({
            "as_of": rfc3339(report.as_of),
            "collected_at": report.collected_at.map(rfc3339),
            "sources": report.sources,
            "accounts": report.scanned.accounts,
            "regions": report.scanned.regions,
            "repositories": report.scanned.repositories,
            "images": report.scanned.images,
            "iam_principals": report.scanned.iam_principals,
            "complete": report.errors.is_empty(),
            "request_counts": report.request_counts,
        }),
        schema: SCHEMA,
        summary: json!({
            "findings": report.findings.len(),
            "by_severity": counts,
            "suppressed": report.suppressed,
            "below_min_severity": report.below_min_severity,
        }),
        tool: json!({"name": "ecr-audit", "version": env!("CARGO_PKG_VERSION")}),
        baseline: report.baseline,
        warnings: report.warnings,
    }
}

/// Writes the report, indented and ending in a newline.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report)).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// The report as text (tests, and callers that need it whole).
pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    // PANIC SAFETY: writing to a Vec cannot fail, and every value serializes
    // (string keys only).
    #[allow(clippy::expect_used)]
    write(report, &mut out).expect("the JSON report serializes");
    String::from_utf8_lossy(&out).into_owned()
}
