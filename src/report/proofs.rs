//! The `prove` command's table: one row per refuted or unknown property
//! (every property with `--all`), with the counterexample or the reason.

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use crate::prove::run::ProofRun;
use crate::prove::{Subject, Verdict};

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
            Verdict::Refuted { counterexample } => counterexample.summary(),
            Verdict::Unknown { reason } => reason.clone(),
        };
        let subject = match p.subject {
            Subject::Repository => "repository",
            Subject::Registry => "registry",
            Subject::Role => "role",
        };
        table.add_row(vec![
            p.verdict.name().to_string(),
            p.property.sentence().to_string(),
            format!("{subject} {}", p.arn),
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
    out.push_str(&super::table::proof_summary(run));
    out.push('\n');
    out
}
