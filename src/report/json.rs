//! The JSON report (`ecr-audit/report/v1`), for scripts.

use serde_json::{json, Value};

use super::{rfc3339, Report};

pub const SCHEMA: &str = "ecr-audit/report/v1";

pub fn render(report: &Report) -> String {
    let counts: serde_json::Map<String, Value> = report
        .counts()
        .into_iter()
        .rev()
        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
        .collect();
    let mut value = json!({
        "schema": SCHEMA,
        "tool": {"name": "ecr-audit", "version": env!("CARGO_PKG_VERSION")},
        "scanned": {
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
        },
        "summary": {
            "findings": report.findings.len(),
            "by_severity": counts,
            "suppressed": report.suppressed,
            "below_min_severity": report.below_min_severity,
        },
        "findings": report.findings,
        "errors": report.errors,
        "warnings": report.warnings,
    });
    if let Some(run) = report.proofs {
        value["proofs"] = super::proofs::summary(run);
    }
    super::pretty(&value)
}
