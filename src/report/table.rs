//! The table report, for people.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};

use super::Report;
use crate::finding::{Finding, Severity};

pub struct TableStyle {
    pub color: bool,
    /// The width to fit (the terminal's, `COLUMNS`, or a default).
    pub width: u16,
    /// One row per finding; otherwise a rule with many findings is rolled
    /// up into one row with a count and examples.
    pub all: bool,
}

/// Below this width for the finding text, the table becomes one finding
/// per block of lines.
const COMPACT_TEXT_BELOW: usize = 40;
/// A medium, low or info rule with more findings than this is rolled up
/// (unless `--all`).
const ROLL_UP_OVER: usize = 3;
/// Examples a rolled-up row shows.
const EXAMPLES: usize = 3;

fn severity_color(s: Severity) -> Color {
    match s {
        Severity::Critical => Color::Magenta,
        Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Cyan,
        Severity::Info => Color::Grey,
    }
}

fn ansi(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "\x1b[35m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Info => "\x1b[90m",
    }
}

/// The resource's name as a person reads it.
fn resource_name(f: &Finding) -> String {
    match f.resource_kind {
        crate::finding::ResourceKind::Repository => f
            .resource_arn
            .split_once(":repository/")
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|| f.resource_arn.to_string()),
        crate::finding::ResourceKind::Registry => "(registry)".to_string(),
        crate::finding::ResourceKind::CreationTemplate => f
            .resource_arn
            .split_once(":repository-creation-template/")
            .map(|(_, prefix)| format!("(template {prefix})"))
            .unwrap_or_else(|| f.resource_arn.to_string()),
        crate::finding::ResourceKind::IamPrincipal => f
            .resource_arn
            .rsplit_once(':')
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|| f.resource_arn.to_string()),
    }
}

fn place(f: &Finding) -> String {
    format!("{} {}", f.account, f.region.as_deref().unwrap_or("global"))
}

/// Pieces of a token too long for a line, cut after `/` or `:` (between the
/// segments of a path or an ARN) and only as a last resort inside one.
fn split_long(token: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for segment in token.split_inclusive(['/', ':']) {
        if !current.is_empty() && current.chars().count() + segment.chars().count() > width {
            out.push(std::mem::take(&mut current));
        }
        current.push_str(segment);
        while current.chars().count() > width {
            let head: String = current.chars().take(width).collect();
            let tail: String = current.chars().skip(width).collect();
            out.push(head);
            current = tail;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Wraps text to `width` columns at spaces, never inside a word (a token
/// longer than a line is cut between its path or ARN segments).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let pieces = if word.chars().count() > width {
                split_long(word, width)
            } else {
                vec![word.to_string()]
            };
            for piece in pieces {
                let needed = if line.is_empty() {
                    piece.chars().count()
                } else {
                    line.chars().count() + 1 + piece.chars().count()
                };
                if needed > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&piece);
            }
        }
        lines.push(line);
    }
    lines
}

/// Wraps a line made of parts joined by `separator` between parts where it
/// can, and inside a part (at spaces) only when the part alone is too long.
fn wrap_parts(text: &str, separator: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for part in text.split(separator) {
        let joined = if line.is_empty() {
            part.to_string()
        } else {
            format!("{line}{separator}{part}")
        };
        if joined.chars().count() <= width {
            line = joined;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut pieces = wrap(part, width);
        line = pieces.pop().unwrap_or_default();
        lines.extend(pieces);
    }
    lines.push(line);
    lines
}

/// A row of the report: one finding, or a rule's findings rolled up.
struct Row {
    severity: Severity,
    rule: String,
    resource: String,
    text: String,
}

fn rows(report: &Report, all: bool) -> Vec<Row> {
    let mut per_rule: std::collections::BTreeMap<&str, Vec<&Finding>> = Default::default();
    for f in report.findings {
        per_rule.entry(&f.rule_id).or_default().push(f);
    }
    let mut out = Vec::new();
    let mut rolled: std::collections::BTreeSet<&str> = Default::default();
    for f in report.findings {
        let same = &per_rule[&*f.rule_id];
        // Critical and high findings always keep a row each.
        if !all && same.len() > ROLL_UP_OVER && f.severity < Severity::High {
            if !rolled.insert(&f.rule_id) {
                continue;
            }
            let examples: Vec<String> = same
                .iter()
                .take(EXAMPLES)
                .map(|g| format!("{} ({})", resource_name(g), place(g)))
                .collect();
            out.push(Row {
                severity: f.severity,
                rule: format!("{}\n{}", f.rule_id, f.rule_name),
                resource: format!("{} resources", same.len()),
                text: format!(
                    "{}: {} findings, among them {}. Every one: --all; the fix: ecr-audit rules {}.",
                    f.title,
                    same.len(),
                    examples.join(", "),
                    f.rule_id
                ),
            });
            continue;
        }
        out.push(Row {
            severity: f.severity,
            rule: format!("{}\n{}", f.rule_id, f.rule_name),
            resource: format!("{}\n{}", resource_name(f), place(f)),
            text: f.message.clone(),
        });
    }
    out
}

/// Column widths (severity, rule, resource, text) for a width, or `None`
/// when the text would be too narrow for a table.
fn columns(rows: &[Row], width: u16) -> Option<[usize; 4]> {
    let longest = |f: &dyn Fn(&Row) -> &str| {
        rows.iter()
            .flat_map(|r| {
                f(r).split('\n')
                    .map(|l| l.chars().count())
                    .collect::<Vec<_>>()
            })
            .max()
            .unwrap_or(0)
    };
    // Borders and padding of four columns: "│ " + 3 × " ┆ " + " │".
    let chrome = 13usize;
    let sev_w = 8;
    let rule_w = longest(&|r| &r.rule).clamp(6, 44);
    let res_w = longest(&|r| &r.resource).clamp(8, 38);
    let text_w = usize::from(width).checked_sub(chrome + sev_w + rule_w + res_w)?;
    (text_w >= COMPACT_TEXT_BELOW).then_some([sev_w, rule_w, res_w, text_w])
}

fn render_table(rows: &[Row], widths: [usize; 4], style: &TableStyle) -> String {
    let cell_lines = |text: &str, width: usize| wrap(text, width).join("\n");
    let [sev_w, rule_w, res_w, text_w] = widths;
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    // Cells are wrapped here, so the table never re-wraps (or breaks a word).
    table.set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(vec!["Severity", "Rule", "Resource", "Finding"]);
    for (index, w) in [(0, sev_w), (1, rule_w), (2, res_w), (3, text_w)] {
        if let Some(column) = table.column_mut(index) {
            // The constraint counts the one-space padding on either side.
            let with_padding = u16::try_from(w + 2).unwrap_or(u16::MAX);
            column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(with_padding)));
        }
    }
    for r in rows {
        let mut sev = Cell::new(r.severity.as_str().to_uppercase());
        if style.color {
            sev = sev.fg(severity_color(r.severity));
        }
        table.add_row(vec![
            sev,
            Cell::new(cell_lines(&r.rule, rule_w)),
            Cell::new(cell_lines(&r.resource, res_w)),
            Cell::new(cell_lines(&r.text, text_w)),
        ]);
    }
    table.to_string()
}

/// Narrow terminals: a block of lines per finding, the text indented.
fn render_compact(rows: &[Row], style: &TableStyle) -> String {
    let width = usize::from(style.width).max(20);
    let mut out = String::new();
    for r in rows {
        let sev = r.severity.as_str().to_uppercase();
        let sev = if style.color {
            format!("{}{sev}\x1b[0m", ansi(r.severity))
        } else {
            sev
        };
        let rule = r.rule.replace('\n', " ");
        let resource = r.resource.replace('\n', " · ");
        let head = format!("{rule} · {resource}");
        let first = wrap(&head, width.saturating_sub(10));
        for (i, line) in first.iter().enumerate() {
            if i == 0 {
                out.push_str(&format!("{sev:<8}  {line}\n"));
            } else {
                out.push_str(&format!("          {line}\n"));
            }
        }
        for line in wrap(&r.text, width.saturating_sub(4)) {
            out.push_str(&format!("    {line}\n"));
        }
        out.push('\n');
    }
    out
}

pub fn render(report: &Report, style: &TableStyle) -> String {
    let mut out = String::new();
    if report.findings.is_empty() {
        out.push_str("No findings.\n");
    } else {
        let rows = rows(report, style.all);
        match columns(&rows, style.width) {
            Some(widths) => {
                out.push_str(&render_table(&rows, widths, style));
                out.push('\n');
            }
            None => out.push_str(&render_compact(&rows, style)),
        }
        for line in wrap(
            "How to fix a finding: `ecr-audit rules RULE_ID` prints the rule with its remediation.",
            usize::from(style.width),
        ) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    for line in wrap_parts(&summary(report), " · ", usize::from(style.width)) {
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(run) = report.proofs {
        out.push_str(&proof_summary(run));
        out.push('\n');
    }
    if let Some(baseline) = report.baseline {
        for line in wrap(&baseline.summary(), usize::from(style.width)) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    if !report.errors.is_empty() {
        let n = report.errors.len();
        out.push_str(&format!(
            "\nThe scan is incomplete: {n} {} could not be read:\n",
            if n == 1 {
                "resource or operation"
            } else {
                "resources or operations"
            }
        ));
        for e in report.errors {
            let text = format!("- {e}");
            for (i, line) in wrap(&text, usize::from(style.width).saturating_sub(4))
                .iter()
                .enumerate()
            {
                out.push_str(if i == 0 { "  " } else { "    " });
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// One line on the proofs of a scan.
pub fn proof_summary(run: &crate::prove::run::ProofRun) -> String {
    let tally = run.tally();
    format!(
        "Proofs: {} properties of {} subjects · {} proved, {} refuted, {} unknown · {} solver queries, {} answered from cache · {:.1} s on {} solver processes",
        run.proofs.len(),
        run.subjects,
        tally.proved,
        tally.refuted,
        tally.unknown,
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
