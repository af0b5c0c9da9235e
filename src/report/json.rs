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

/// Writes the report, indented and ending in a newline: the same bytes as
/// `serde_json::to_writer_pretty` of the whole document, with the findings
/// (nearly all of a large report) rendered on every core.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let whole = document(report);
    let head = HeadFields {
        schema: whole.schema,
        tool: &whole.tool,
        scanned: &whole.scanned,
        summary: &whole.summary,
        baseline: whole.baseline,
    };
    let tail = TailFields {
        errors: whole.errors,
        warnings: whole.warnings,
        proofs: whole.proofs.as_ref(),
    };
    let head = serde_json::to_vec_pretty(&head).map_err(std::io::Error::from)?;
    let tail = serde_json::to_vec_pretty(&tail).map_err(std::io::Error::from)?;
    // Both are objects of at least one field: "{\n  ...\n}".
    let (Some(head), Some(tail)) = (head.strip_suffix(b"\n}"), tail.strip_prefix(b"{\n")) else {
        return Err(std::io::Error::other(
            "the report's fields did not render as an object",
        ));
    };
    out.write_all(head)?;
    out.write_all(b",\n  \"findings\": ")?;
    write_findings(whole.findings, out)?;
    out.write_all(b",\n")?;
    out.write_all(tail)?;
    out.write_all(b"\n")
}

/// The fields before `findings`, in the report's order.
#[derive(Serialize)]
struct HeadFields<'a> {
    schema: &'static str,
    tool: &'a Value,
    scanned: &'a Value,
    summary: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a super::baseline::Baseline>,
}

/// The fields after `findings`.
#[derive(Serialize)]
struct TailFields<'a> {
    errors: &'a [crate::scan::ScanError],
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    proofs: Option<&'a Value>,
}

/// Findings rendered per chunk, in parallel, then written in order; a few
/// chunks per core at a time, so the rendered text is never held whole.
const FINDINGS_PER_CHUNK: usize = 1024;
const CHUNKS_IN_FLIGHT: usize = 16;

/// The `findings` array as the pretty printer writes it one level deep:
/// elements indented by four spaces, the closing bracket by two.
fn write_findings(
    findings: &[crate::finding::Finding],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    if findings.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[\n")?;
    for (w, window) in findings
        .chunks(FINDINGS_PER_CHUNK * CHUNKS_IN_FLIGHT)
        .enumerate()
    {
        let rendered: Vec<std::io::Result<Vec<u8>>> = window
            .par_chunks(FINDINGS_PER_CHUNK)
            .map(render_indented)
            .collect();
        for (i, chunk) in rendered.into_iter().enumerate() {
            if w > 0 || i > 0 {
                out.write_all(b",\n")?;
            }
            out.write_all(&chunk?)?;
        }
    }
    out.write_all(b"\n  ]")
}

/// Findings as array elements two levels deep, separated by ",\n".
fn render_indented(findings: &[crate::finding::Finding]) -> std::io::Result<Vec<u8>> {
    let mut text = Vec::with_capacity(findings.len() * 1024);
    let mut one = Vec::with_capacity(4096);
    for (i, finding) in findings.iter().enumerate() {
        if i > 0 {
            text.extend_from_slice(b",\n");
        }
        one.clear();
        serde_json::to_writer_pretty(&mut one, finding).map_err(std::io::Error::from)?;
        // A JSON string holds no raw newline: every newline is the
        // printer's, and starts a line to indent.
        for (l, line) in one.split(|&b| b == b'\n').enumerate() {
            if l > 0 {
                text.push(b'\n');
            }
            text.extend_from_slice(b"    ");
            text.extend_from_slice(line);
        }
    }
    Ok(text)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Severity};
    use crate::model::{ResourceKind, ScanScope};
    use std::collections::BTreeMap;

    fn finding(n: usize) -> Finding {
        Finding {
            rule_id: "ECR101".into(),
            rule_name: "public-read-access".into(),
            severity: Severity::High,
            title: "Anyone can pull".into(),
            message: format!("message {n} with \"quotes\", a \\ and a\nnewline"),
            resource_kind: ResourceKind::Repository,
            resource_arn: format!("arn:aws:ecr:us-east-1:111122223333:repository/r{n}"),
            account: "111122223333".into(),
            region: (!n.is_multiple_of(3)).then(|| "us-east-1".to_string()),
            location: format!("aws/ecr/r{n}"),
            fingerprint: format!("{n:032x}"),
            details: [
                ("granted_by", json!([format!("s{n}")])),
                ("nested", json!({"empty": [], "n": n})),
            ]
            .into_iter()
            .collect(),
            baseline_state: None,
        }
    }

    /// The findings are rendered in parallel chunks: the bytes must be the
    /// pretty printer's for the whole document, across chunk and window
    /// boundaries, with and without the optional fields.
    #[test]
    fn the_report_is_the_pretty_printed_document_byte_for_byte() {
        let scope = ScanScope::default();
        let counts = BTreeMap::new();
        let baseline = super::super::baseline::Baseline {
            source: "old.json".into(),
            new: 1,
            unchanged: 2,
            absent: Vec::new(),
        };
        let warnings = vec!["a warning".to_string()];
        let sizes = [
            0,
            1,
            FINDINGS_PER_CHUNK,
            FINDINGS_PER_CHUNK * CHUNKS_IN_FLIGHT + 3,
        ];
        for n in sizes {
            let findings: Vec<Finding> = (0..n).map(finding).collect();
            for with_optional in [false, true] {
                let report = Report {
                    findings: &findings,
                    rules: &[],
                    errors: &[],
                    warnings: if with_optional { &warnings } else { &[] },
                    scanned: &scope,
                    as_of: time::macros::datetime!(2026-01-01 0:00 UTC),
                    collected_at: None,
                    sources: &[],
                    request_counts: &counts,
                    suppressed: 0,
                    below_min_severity: 0,
                    checked_document: false,
                    proofs: None,
                    baseline: with_optional.then_some(&baseline),
                };
                let mut expected = serde_json::to_vec_pretty(&document(&report)).unwrap();
                expected.push(b'\n');
                let mut written = Vec::new();
                write(&report, &mut written).unwrap();
                assert!(
                    written == expected,
                    "{n} findings, optional fields {with_optional}"
                );
            }
        }
    }
}
