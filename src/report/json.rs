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
/// elements indented by four spaces, the closing bracket by two. Each
/// window is rendered on the worker threads while the one before is
/// written.
fn write_findings(
    findings: &[crate::finding::Finding],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    if findings.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[\n")?;
    std::thread::scope(|scope| {
        // One window waits while the next is rendered: the text is never
        // held whole.
        let (rendered, to_write) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            for window in findings.chunks(FINDINGS_PER_CHUNK * CHUNKS_IN_FLIGHT) {
                let chunks: Vec<std::io::Result<Vec<u8>>> = window
                    .par_chunks(FINDINGS_PER_CHUNK)
                    .map(render_indented)
                    .collect();
                // The writer stopped (a write failed): nothing more to do.
                if rendered.send(chunks).is_err() {
                    break;
                }
            }
        });
        let mut first = true;
        for chunks in to_write {
            for chunk in chunks {
                if !first {
                    out.write_all(b",\n")?;
                }
                first = false;
                out.write_all(&chunk?)?;
            }
        }
        Ok::<(), std::io::Error>(())
    })?;
    out.write_all(b"\n  ]")
}

/// Findings as array elements two levels deep, separated by ",\n": the
/// bytes serde_json's pretty printer writes for them, written here field by
/// field. A large report is half a million findings of a dozen strings and
/// their keys; serde_json looks up each byte of each of them in its escape
/// table, which was most of the report's time. Here a string is checked in
/// one pass that the compiler vectorizes, and copied whole when (nearly
/// always) nothing in it needs escaping.
fn render_indented(findings: &[crate::finding::Finding]) -> std::io::Result<Vec<u8>> {
    let mut text = Vec::with_capacity(findings.len() * 1024);
    for (i, finding) in findings.iter().enumerate() {
        if i > 0 {
            text.extend_from_slice(b",\n");
        }
        write_finding(&mut text, finding)?;
    }
    Ok(text)
}

/// One finding, three levels deep (its fields), as `Finding`'s derived
/// `Serialize` orders and names them.
fn write_finding(out: &mut Vec<u8>, f: &crate::finding::Finding) -> std::io::Result<()> {
    let field = |out: &mut Vec<u8>, name: &str| {
        out.extend_from_slice(b",\n      \"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\": ");
    };
    out.extend_from_slice(b"    {\n      \"rule_id\": ");
    json_string(out, &f.rule_id)?;
    field(out, "rule_name");
    json_string(out, &f.rule_name)?;
    field(out, "severity");
    serde_json::to_writer(&mut *out, &f.severity)?;
    field(out, "title");
    json_string(out, &f.title)?;
    field(out, "message");
    json_string(out, &f.message)?;
    field(out, "resource_kind");
    serde_json::to_writer(&mut *out, &f.resource_kind)?;
    field(out, "resource_arn");
    json_string(out, &f.resource_arn)?;
    field(out, "account");
    json_string(out, &f.account)?;
    field(out, "region");
    match &f.region {
        Some(region) => json_string(out, region)?,
        None => out.extend_from_slice(b"null"),
    }
    field(out, "location");
    json_string(out, &f.location)?;
    field(out, "fingerprint");
    json_string(out, &f.fingerprint)?;
    field(out, "details");
    write_pretty_object(out, f.details.iter(), 3)?;
    if let Some(state) = &f.baseline_state {
        field(out, "baseline_state");
        serde_json::to_writer(&mut *out, state)?;
    }
    out.extend_from_slice(b"\n    }");
    Ok(())
}

/// A JSON string: copied between quotes when nothing in it is escaped
/// (a control character, a quote or a backslash), else serde_json's.
fn json_string(out: &mut Vec<u8>, text: &str) -> std::io::Result<()> {
    let escaped = text.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if escaped {
        serde_json::to_writer(&mut *out, text)?;
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
    Ok(())
}

fn indent(out: &mut Vec<u8>, level: usize) {
    for _ in 0..level {
        out.extend_from_slice(b"  ");
    }
}

/// A value as serde_json's pretty printer writes it `level` levels deep.
fn write_pretty(out: &mut Vec<u8>, value: &Value, level: usize) -> std::io::Result<()> {
    match value {
        Value::String(text) => json_string(out, text),
        Value::Array(items) => write_pretty_items(out, b"[]", items.iter(), level, |out, item| {
            write_pretty(out, item, level + 1)
        }),
        Value::Object(map) => write_pretty_object(out, map.iter().map(|(k, v)| (&**k, v)), level),
        // Numbers, booleans and null: serde_json's own text.
        other => Ok(serde_json::to_writer(&mut *out, other)?),
    }
}

fn write_pretty_object<'a>(
    out: &mut Vec<u8>,
    entries: impl Iterator<Item = (&'a str, &'a Value)>,
    level: usize,
) -> std::io::Result<()> {
    write_pretty_items(out, b"{}", entries, level, |out, (key, value)| {
        json_string(out, key)?;
        out.extend_from_slice(b": ");
        write_pretty(out, value, level + 1)
    })
}

/// An array or object `level` levels deep between `brackets`: each item on
/// its own line one level deeper, or the bare brackets when there is none.
fn write_pretty_items<T>(
    out: &mut Vec<u8>,
    brackets: &[u8; 2],
    items: impl Iterator<Item = T>,
    level: usize,
    mut write_item: impl FnMut(&mut Vec<u8>, T) -> std::io::Result<()>,
) -> std::io::Result<()> {
    out.push(brackets[0]);
    let mut empty = true;
    for item in items {
        out.extend_from_slice(if empty { b"\n" } else { b",\n" });
        empty = false;
        indent(out, level + 1);
        write_item(out, item)?;
    }
    if !empty {
        out.push(b'\n');
        indent(out, level);
    }
    out.push(brackets[1]);
    Ok(())
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
            message: if n.is_multiple_of(2) {
                format!("message {n} with \"quotes\", a \\ and a\nnewline")
            } else {
                format!("plain message {n}")
            },
            resource_kind: ResourceKind::Repository,
            resource_arn: format!("arn:aws:ecr:us-east-1:111122223333:repository/r{n}").into(),
            account: "111122223333".into(),
            region: (!n.is_multiple_of(3)).then(|| "us-east-1".into()),
            location: format!("aws/ecr/r{n}").into(),
            fingerprint: format!("{n:032x}"),
            details: [
                ("granted_by", json!([format!("s{n}")])),
                ("nested", json!({"empty": [], "n": n, "none": {}, "deep": [[1.5, -2, null], {"t": true, "f": false}]})),
                ("text", json!(["plain", "tab\there", "\u{1}",
                        "\u{1f}",
                        " ", "caf\u{e9} \u{1f600}", "back\\slash", "q\"uote", "\u{7f}"])),
                ("ke\"y\n", json!(u64::MAX)),
            ]
            .into_iter()
            .take(1 + n % 4)
            .collect(),
            baseline_state: match n % 3 {
                0 => None,
                1 => Some(crate::finding::BaselineState::New),
                _ => Some(crate::finding::BaselineState::Unchanged),
            },
        }
    }

    /// A write that fails mid-report is the report's error, and the
    /// rendering behind it stops (the test would hang if it did not).
    #[test]
    fn a_failed_write_ends_the_report_with_its_error() {
        struct FailsAfter(usize);
        impl Write for FailsAfter {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if buf.len() > self.0 {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let scope = ScanScope::default();
        let counts = BTreeMap::new();
        let findings: Vec<Finding> = (0..FINDINGS_PER_CHUNK * CHUNKS_IN_FLIGHT * 3)
            .map(finding)
            .collect();
        let report = Report {
            findings: &findings,
            rules: &[],
            errors: &[],
            warnings: &[],
            scanned: &scope,
            as_of: time::macros::datetime!(2026-01-01 0:00 UTC),
            collected_at: None,
            sources: &[],
            request_counts: &counts,
            suppressed: 0,
            below_min_severity: 0,
            checked_document: false,
            proofs: None,
            baseline: None,
        };
        let error = write(&report, &mut FailsAfter(1 << 20)).unwrap_err();
        assert_eq!(error.to_string(), "disk full");
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
