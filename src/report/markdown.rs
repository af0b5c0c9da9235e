//! A Markdown summary for a CI job summary or a pull-request comment.
//!
//! GitHub caps a job summary at 1 MiB, and a scan can have any number of
//! findings and errors, so every list here is capped and every piece of
//! text taken from the scan is shortened: the summary stays far under the
//! limit whatever the scan's size (`MAX_BYTES` is checked by the tests on a
//! generated organization). The JSON report has everything.

use std::collections::BTreeMap;

use super::table::{plural, summary};
use super::{rfc3339, Report};
use crate::finding::{Finding, Severity};

/// GitHub's limit for one step's job summary.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Findings listed one by one, most severe first.
pub const MAX_FINDINGS: usize = 50;
/// Errors listed one by one.
pub const MAX_ERRORS: usize = 20;
/// Rows of the by-rule table (custom rules can make many).
const MAX_RULES: usize = 100;
/// Characters kept of any one text taken from the scan.
const MAX_TEXT: usize = 300;

pub fn render(report: &Report) -> String {
    let mut out = String::from("## ecr-audit\n\n");
    out.push_str(&cell(&summary(report)));
    out.push_str(&format!("\n\nAs of {}.\n", rfc3339(report.as_of)));
    if let Some(baseline) = report.baseline {
        out.push_str(&format!("\n{}.\n", cell(&baseline.summary())));
    }

    out.push_str("\n| Severity | Findings |\n|---|---:|\n");
    let counts = report.counts();
    for severity in Severity::ALL.iter() {
        let n = counts.get(severity).copied().unwrap_or(0);
        out.push_str(&format!("| {severity} | {n} |\n"));
    }

    if !report.findings.is_empty() {
        out.push_str(&by_rule(report.findings));
        out.push_str(&most_severe(report.findings));
    }

    if !report.errors.is_empty() {
        let n = report.errors.len();
        out.push_str(&format!(
            "\n### The scan is incomplete: {}\n\nWhat was not read is neither clean nor a finding.\n\n",
            plural(n, "error")
        ));
        for e in report.errors.iter().take(MAX_ERRORS) {
            out.push_str(&format!("- {}\n", cell(&e.to_string())));
        }
        if n > MAX_ERRORS {
            out.push_str(&format!(
                "- … and {} more (see the JSON report)\n",
                n - MAX_ERRORS
            ));
        }
    }

    let warnings = report.warnings.len();
    if warnings > 0 {
        out.push_str(&format!("\n### {}\n\n", plural(warnings, "warning")));
        for w in report.warnings.iter().take(MAX_ERRORS) {
            out.push_str(&format!("- {}\n", cell(w)));
        }
        if warnings > MAX_ERRORS {
            out.push_str(&format!("- … and {} more\n", warnings - MAX_ERRORS));
        }
    }
    out
}

/// Findings per rule, most severe rule first.
fn by_rule(findings: &[Finding]) -> String {
    let mut rules: BTreeMap<&str, (Severity, &str, usize)> = BTreeMap::new();
    for f in findings {
        rules
            .entry(&*f.rule_id)
            .or_insert((f.severity, &*f.title, 0))
            .2 += 1;
    }
    let mut rows: Vec<_> = rules.into_iter().collect();
    rows.sort_by(|(a_id, a), (b_id, b)| b.0.cmp(&a.0).then(a_id.cmp(b_id)));
    let mut out = String::from(
        "\n### By rule\n\n| Rule | Severity | Title | Findings |\n|---|---|---|---:|\n",
    );
    for (id, (severity, title, n)) in rows.iter().take(MAX_RULES) {
        out.push_str(&format!(
            "| {} | {severity} | {} | {n} |\n",
            cell(id),
            cell(title)
        ));
    }
    if rows.len() > MAX_RULES {
        out.push_str(&format!(
            "\n… and {} more rules (see the JSON report).\n",
            rows.len() - MAX_RULES
        ));
    }
    out
}

/// The first findings in report order (most severe first).
fn most_severe(findings: &[Finding]) -> String {
    let shown = findings.len().min(MAX_FINDINGS);
    let heading = if shown < findings.len() {
        format!(
            "The {shown} most severe of {}",
            plural(findings.len(), "finding")
        )
    } else {
        "Findings".to_string()
    };
    let mut out = format!(
        "\n### {heading}\n\n| Severity | Rule | Account | Region | Finding |\n|---|---|---|---|---|\n"
    );
    for f in findings.iter().take(MAX_FINDINGS) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            f.severity,
            cell(&f.rule_id),
            cell(&f.account),
            cell(f.region.as_deref().unwrap_or("global")),
            cell(&f.message)
        ));
    }
    if shown < findings.len() {
        out.push_str(&format!(
            "\n… and {} more (see the JSON report).\n",
            findings.len() - shown
        ));
    }
    out
}

/// Text from the scan made safe for one table cell or list item: at most
/// `MAX_TEXT` characters, on one line, with the characters that would end
/// a cell, start markup or open HTML escaped.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_TEXT * 2));
    for (count, c) in text.chars().enumerate() {
        if count == MAX_TEXT {
            out.push('…');
            break;
        }
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_is_one_escaped_shortened_line() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(cell("<script>"), "\\<script\\>");
        assert_eq!(cell("[x](javascript:y)"), "\\[x\\](javascript:y)");
        let long = "x".repeat(MAX_TEXT + 10);
        assert_eq!(cell(&long).chars().count(), MAX_TEXT + 1);
    }
}
