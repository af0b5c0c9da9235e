//! One scan: inventory → audit model → findings, with config applied.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::config::{apply_ignores, Ignore};
use crate::engine::{AuditContext, Engine, Rule, RuleSelection};
use crate::finding::{sort_findings, Finding, Severity};
use crate::inventory::{CollectionError, ErrorKind, Inventory};
use crate::model::{self, ModelOptions, ScanScope};
use crate::prove::{run::ProofRun, ProverOptions};

pub mod proofs;

pub struct ScanOptions {
    pub model: ModelOptions,
    pub selection: RuleSelection,
    pub min_severity: Severity,
    pub ignores: Vec<Ignore>,
    /// Prove the access properties too (`scan --prove`).
    pub prove: Option<ProveSettings>,
}

/// How proofs run within a scan.
#[derive(Debug, Clone)]
pub struct ProveSettings {
    pub prover: ProverOptions,
    /// Solver processes run in parallel.
    pub workers: usize,
}

pub struct ScanResult {
    pub findings: Vec<Finding>,
    pub suppressed: usize,
    /// Findings left out by `--min-severity`.
    pub below_min_severity: usize,
    pub warnings: Vec<String>,
    /// Collection errors and rule evaluation errors: the scan is incomplete.
    pub errors: Vec<CollectionError>,
    pub scanned: ScanScope,
    pub rules: Vec<Rule>,
    pub request_counts: BTreeMap<String, u64>,
    pub collected_at: Option<OffsetDateTime>,
    /// The proofs, with `--prove`.
    pub proofs: Option<ProofRun>,
    /// How long each phase took ("model", "proofs", "rules", ...).
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// The process exit status of a command, as the CLI documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// No finding at or above `--fail-on`, nothing missing.
    Clean = 0,
    /// Findings at or above `--fail-on`.
    Findings = 1,
    /// A usage, configuration or input error: nothing was scanned.
    Usage = 2,
    /// The scan finished but is incomplete (collection or rule errors).
    Incomplete = 3,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl ScanResult {
    /// Findings at or above `fail_on` fail the run first; then an
    /// incomplete scan; else clean.
    pub fn exit(&self, fail_on: Option<Severity>) -> Exit {
        if fail_on.is_some_and(|t| self.findings.iter().any(|f| f.severity >= t)) {
            Exit::Findings
        } else if !self.errors.is_empty() {
            Exit::Incomplete
        } else {
            Exit::Clean
        }
    }
}

pub fn run(inventory: &Inventory, rules: Vec<Rule>, options: &ScanOptions) -> ScanResult {
    let mut timings = Vec::new();
    let started = std::time::Instant::now();
    let mut model = model::build(inventory, &options.model);
    timings.push(("model (policy analysis, image facts)", started.elapsed()));
    let started = std::time::Instant::now();
    let mut proof_warnings = Vec::new();
    let mut proof_errors = Vec::new();
    let proofs = options.prove.as_ref().and_then(|settings| {
        match proofs::prove_model(
            inventory,
            &model,
            &options.model.trusted_accounts,
            &settings.prover,
            settings.workers,
        ) {
            Ok(run) => {
                proof_warnings = proofs::apply_proofs(&mut model, &run.proofs);
                Some(run)
            }
            Err(e) => {
                proof_errors.push(CollectionError {
                    account: String::new(),
                    region: None,
                    operation: "prove".to_string(),
                    resource: None,
                    kind: ErrorKind::Other,
                    message: e.to_string(),
                });
                None
            }
        }
    });
    if options.prove.is_some() {
        timings.push(("proofs", started.elapsed()));
    }
    let started = std::time::Instant::now();
    let engine = Engine::new(
        rules,
        &options.selection,
        AuditContext {
            stale_days: options.model.stale_days,
            unpulled_days: options.model.unpulled_days,
        },
    );
    let (findings, eval_errors) = engine.evaluate(&model);
    let all = findings.len();
    let findings: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.severity >= options.min_severity)
        .collect();
    let below_min_severity = all - findings.len();
    timings.push(("rules", started.elapsed()));
    let today = options.model.as_of.date();
    let mut outcome = apply_ignores(findings, &options.ignores, today);
    sort_findings(&mut outcome.kept);
    let mut warnings = outcome.warnings;
    warnings.extend(proof_warnings);
    let mut errors = inventory.errors.clone();
    errors.extend(proof_errors);
    errors.extend(eval_errors.into_iter().map(|e| CollectionError {
        account: String::new(),
        region: None,
        operation: format!("rule {}", e.rule_id),
        resource: Some(e.resource_arn),
        kind: ErrorKind::Other,
        message: e.message,
    }));
    ScanResult {
        findings: outcome.kept,
        suppressed: outcome.suppressed,
        below_min_severity,
        warnings,
        errors,
        scanned: model.scanned,
        rules: engine.rules().cloned().collect(),
        request_counts: inventory.request_counts.clone(),
        collected_at: inventory.collected_at,
        proofs,
        timings,
    }
}
