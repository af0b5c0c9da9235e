//! The table report, for people.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};

use super::Report;
use crate::finding::{Finding, Severity};

pub struct TableStyle {
    pub color: bool,
    /// Wrap to this width; `None`: the terminal's width (comfy-table asks
    /// the terminal).
    pub width: Option<u16>,
}

fn severity_color(s: Severity) -> Color {
    match s {
        Severity::Critical => Color::Magenta,
        Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Cyan,
        Severity::Info => Color::Grey,
    }
}

/// Where a finding is, as a person reads it: account, region, name.
fn resource_label(f: &Finding) -> String {
    let name = match f.resource_kind {
        crate::finding::ResourceKind::Repository => f
            .resource_arn
            .split_once(":repository/")
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|| f.resource_arn.clone()),
        crate::finding::ResourceKind::Registry => "(registry)".to_string(),
        crate::finding::ResourceKind::IamPrincipal => f
            .resource_arn
            .rsplit_once(":")
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|| f.resource_arn.clone()),
    };
    format!(
        "{}\n{} {}",
        name,
        f.account,
        f.region.as_deref().unwrap_or("global")
    )
}

pub fn render(report: &Report, style: &TableStyle) -> String {
    let mut out = String::new();
    if report.findings.is_empty() {
        out.push_str("No findings.\n");
    } else {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        if !style.color {
            table.force_no_tty();
        } else {
            table.enforce_styling();
        }
        table.set_content_arrangement(ContentArrangement::Dynamic);
        if let Some(width) = style.width {
            table.set_width(width);
        }
        table.set_header(vec!["Severity", "Rule", "Resource", "Finding"]);
        // Let the finding text take the room; names wrap past these bounds.
        for (index, bound) in [(1, 44), (2, 38)] {
            if let Some(column) = table.column_mut(index) {
                column.set_constraint(ColumnConstraint::UpperBoundary(Width::Fixed(bound)));
            }
        }
        for f in report.findings {
            let mut sev = Cell::new(f.severity.as_str().to_uppercase());
            if style.color {
                sev = sev.fg(severity_color(f.severity));
            }
            table.add_row(vec![
                sev,
                Cell::new(format!("{}\n{}", f.rule_id, f.rule_name)),
                Cell::new(resource_label(f)),
                Cell::new(&f.message),
            ]);
        }
        out.push_str(&table.to_string());
        out.push('\n');
    }
    out.push_str(&summary(report));
    out.push('\n');
    if let Some(run) = report.proofs {
        out.push_str(&proof_summary(run));
        out.push('\n');
    }
    if !report.errors.is_empty() {
        out.push_str(&format!(
            "\nThe scan is incomplete: {} resources or operations could not be read:\n",
            report.errors.len()
        ));
        for e in report.errors {
            out.push_str(&format!("  - {e}\n"));
        }
    }
    out
}

/// One line on the proofs of a scan.
pub fn proof_summary(run: &crate::prove::run::ProofRun) -> String {
    format!(
        "Proofs: {} properties of {} subjects · {} proved, {} refuted, {} unknown · {} solver queries, {} answered from cache · {:.1} s on {} solver processes",
        run.proofs.len(),
        run.subjects,
        run.count("proved"),
        run.count("refuted"),
        run.count("unknown"),
        run.stats.queries,
        run.stats.cache_hits,
        run.elapsed_ms as f64 / 1000.0,
        run.workers
    )
}

/// "1 finding", "2 findings"; "1 repository", "3 repositories".
pub fn plural(n: usize, one: &str) -> String {
    let many = match one.strip_suffix('y') {
        Some(stem) if !one.ends_with("ey") => format!("{stem}ies"),
        _ => format!("{one}s"),
    };
    format!("{n} {}", if n == 1 { one } else { &many })
}

pub fn summary(report: &Report) -> String {
    let counts = report.counts();
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .map(|s| format!("{} {}", counts.get(s).copied().unwrap_or(0), s))
        .collect();
    let s = report.scanned;
    let mut left_out = Vec::new();
    if report.suppressed > 0 {
        left_out.push(format!("{} suppressed", report.suppressed));
    }
    if report.below_min_severity > 0 {
        left_out.push(format!(
            "{} below --min-severity not shown",
            report.below_min_severity
        ));
    }
    let left_out = if left_out.is_empty() {
        String::new()
    } else {
        format!(", {}", left_out.join(", "))
    };
    let scope = if report.checked_document {
        "checked 1 policy document".to_string()
    } else {
        format!(
            "scanned {}, {}, {}, {}, {}",
            plural(s.accounts, "account"),
            plural(s.regions.len(), "region"),
            plural(s.repositories, "repository"),
            plural(s.images, "image"),
            plural(s.iam_principals, "IAM principal"),
        )
    };
    format!(
        "{} ({}){left_out} · {scope} · {}",
        plural(report.findings.len(), "finding"),
        by_sev.join(", "),
        plural(report.errors.len(), "collection error"),
    )
}
