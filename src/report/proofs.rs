//! The `prove` command's table: one row per refuted or unknown property
//! (every property with `--all`), with the counterexample or the reason.
//! The properties are named by their short names; the legend under the
//! table says what each one states.

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use crate::prove::run::ProofRun;
use crate::prove::{Subject, Verdict};

/// `payments/api` / `612930478825 us-east-1`, `(registry)`, `role/ci`.
fn subject_label(subject: Subject, arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (region, account, rest) = match parts[..] {
        [_, _, _, region, account, rest] => (region, account, rest),
        _ => return arn.to_string(),
    };
    match subject {
        Subject::Repository => format!(
            "{}\n{account} {region}",
            rest.strip_prefix("repository/").unwrap_or(rest)
        ),
        Subject::Registry => format!("(registry)\n{account} {region}"),
        Subject::Role => format!("{rest}\n{account}"),
    }
}

/// A proof run as JSON: counts, solver figures and every result (the
/// `proofs` member of a scan report).
pub fn summary(run: &ProofRun) -> serde_json::Value {
    let tally = run.tally();
    serde_json::json!({
        "subjects": run.subjects,
        "proved": tally.proved,
        "refuted": tally.refuted,
        "unknown": tally.unknown,
        "solver": run.stats,
        "workers": run.workers,
        "elapsed_ms": run.elapsed_ms,
        "results": run.proofs,
    })
}

/// The `prove --format json` document (`ecr-audit/proofs/v1`): the summary
/// with the schema, the tool and the inputs first.
pub fn render_json(run: &ProofRun, sources: &[String]) -> String {
    let mut value = serde_json::json!({
        "schema": "ecr-audit/proofs/v1",
        "tool": {"name": "ecr-audit", "version": env!("CARGO_PKG_VERSION")},
        "sources": sources,
    });
    if let (Some(head), serde_json::Value::Object(body)) = (value.as_object_mut(), summary(run)) {
        head.extend(body);
    }
    super::pretty(&value)
}

pub fn render_table(run: &ProofRun, all: bool, width: Option<u16>) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "Verdict",
            "Property",
            "Subject",
            "Counterexample / reason",
        ]);
    if let Some(w) = width {
        table.set_width(w);
    }
    let mut rows = 0;
    for p in &run.proofs {
        let shown = match &p.verdict {
            Verdict::Proved => all,
            _ => true,
        };
        if !shown {
            continue;
        }
        let evidence = match &p.verdict {
            Verdict::Proved => "no request from outside the zone is allowed".to_string(),
            Verdict::Refuted { counterexample } => counterexample.request_line(),
            Verdict::Unknown { reason } => reason.clone(),
        };
        table.add_row(vec![
            p.verdict.name().to_string(),
            p.property.name().to_string(),
            subject_label(p.subject, &p.arn),
            evidence,
        ]);
        rows += 1;
    }
    let mut out = String::new();
    if rows > 0 {
        out.push_str(&table.to_string());
        out.push('\n');
    } else if run.proofs.is_empty() {
        out.push_str(
            "Nothing to prove: no repository or registry policy, no role that can write to ECR.\n",
        );
    } else {
        out.push_str("Every property is proved.\n");
    }
    if rows > 0 {
        out.push_str(
            "Properties: no principal outside the zone of trust can read / write / change permissions (permissions) / replicate, create or import (registry-actions) / assume the role (assume).\n",
        );
    }
    out.push_str(&super::table::proof_summary(run));
    out.push('\n');
    out
}
