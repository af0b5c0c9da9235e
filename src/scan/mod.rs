//! One scan: inventory → audit model → findings, with config applied.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::config::{apply_ignores, Ignore};
use crate::engine::{AuditContext, Engine, EvaluationError, Rule, RuleSelection};
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
    /// What could not be read, evaluated or proved: the scan is incomplete.
    pub errors: Vec<ScanError>,
    pub scanned: ScanScope,
    pub rules: Vec<Rule>,
    pub request_counts: BTreeMap<String, u64>,
    pub collected_at: Option<OffsetDateTime>,
    /// The proofs, with `--prove`.
    pub proofs: Option<ProofRun>,
    /// How long each phase took ("model", "proofs", "rules", ...).
    pub timings: Vec<Timing>,
}

/// One phase of a scan, for `--timings`.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub phase: &'static str,
    pub took: std::time::Duration,
    /// The process's resident memory when the phase ended, where the
    /// system tells (Linux).
    pub resident_bytes: Option<u64>,
    /// The process's CPU time (every thread, user and system) when the
    /// phase ended, where the system tells (Linux): a phase's CPU time
    /// against its wall time shows how many cores it kept busy.
    pub cpu_at_end: Option<std::time::Duration>,
}

impl Timing {
    /// The phase that began at `started` and ends now.
    pub fn since(phase: &'static str, started: std::time::Instant) -> Timing {
        Timing {
            phase,
            took: started.elapsed(),
            resident_bytes: resident_bytes(),
            cpu_at_end: process_cpu_time(),
        }
    }
}

/// User and system time of every thread so far, from `/proc/self/stat`
/// (fields 14 and 15, in the kernel's fixed 100 ticks a second).
fn process_cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name, in parentheses, may hold spaces: fields are
    // counted after its closing one.
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(std::time::Duration::from_millis((user + system) * 10))
}

/// Resident memory, from `VmRSS` in `/proc/self/status` (in kB; on the
/// platforms that have the file).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

/// Why a scan is incomplete.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanError {
    /// A read that failed during collection (or in a saved inventory).
    Collection(CollectionError),
    /// A rule that could not be evaluated on a resource (a bug in a custom
    /// rule, never silently dropped).
    Rule(EvaluationError),
    /// The proofs (`--prove`) could not run.
    Proofs(String),
}

impl ScanError {
    /// The error in the shape of the report's `errors` list
    /// (`ecr-audit/report/v1`): every kind as a failed operation.
    pub fn as_operation(&self) -> CollectionError {
        match self {
            ScanError::Collection(e) => e.clone(),
            ScanError::Rule(e) => CollectionError {
                account: String::new(),
                region: None,
                operation: format!("rule {}", e.rule_id),
                resource: Some(e.resource_arn.clone()),
                kind: ErrorKind::Other,
                message: e.message.clone(),
            },
            ScanError::Proofs(message) => CollectionError {
                account: String::new(),
                region: None,
                operation: "prove".to_string(),
                resource: None,
                kind: ErrorKind::Other,
                message: message.clone(),
            },
        }
    }
}

impl ScanError {
    /// The inverse of [`ScanError::as_operation`], for reports read back.
    pub fn from_operation(e: CollectionError) -> ScanError {
        if e.account.is_empty() && e.region.is_none() {
            if let Some(rule_id) = e.operation.strip_prefix("rule ") {
                return ScanError::Rule(EvaluationError {
                    rule_id: rule_id.to_string(),
                    resource_arn: e.resource.unwrap_or_default(),
                    message: e.message,
                });
            }
            if e.operation == "prove" && e.resource.is_none() {
                return ScanError::Proofs(e.message);
            }
        }
        ScanError::Collection(e)
    }
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::Collection(e) => e.fmt(f),
            ScanError::Rule(e) => write!(
                f,
                "rule {} could not be evaluated on {}: {}",
                e.rule_id, e.resource_arn, e.message
            ),
            ScanError::Proofs(message) => write!(f, "the proofs could not run: {message}"),
        }
    }
}

impl serde::Serialize for ScanError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_operation().serialize(serializer)
    }
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

/// Runs a scan over an inventory, which it drops once the model (and any
/// proofs) no longer need it: a large organization's inventory is most of
/// the memory, and the rules and the report need only the model.
pub fn run(mut inventory: Inventory, rules: Vec<Rule>, options: &ScanOptions) -> ScanResult {
    let mut timings = Vec::new();
    let started = std::time::Instant::now();
    let mut model = model::build(&inventory, &options.model);
    timings.push(Timing::since(
        "model (policy analysis, image facts)",
        started,
    ));
    let started = std::time::Instant::now();
    let mut proof_warnings = Vec::new();
    let mut proof_errors = Vec::new();
    let proofs = options.prove.as_ref().and_then(|settings| {
        match proofs::prove_model(
            &inventory,
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
                proof_errors.push(ScanError::Proofs(e.to_string()));
                None
            }
        }
    });
    if options.prove.is_some() {
        timings.push(Timing::since("proofs", started));
    }
    let collection_errors = std::mem::take(&mut inventory.errors);
    let request_counts = std::mem::take(&mut inventory.request_counts);
    let collected_at = inventory.collected_at;
    // Freeing millions of images takes seconds: done beside the rules.
    std::thread::spawn(move || drop(inventory));
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
    let scanned = model.scanned.clone();
    // Freed beside the ordering and the report, as the inventory is.
    std::thread::spawn(move || drop(model));
    let all = findings.len();
    let findings: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.severity >= options.min_severity)
        .collect();
    let below_min_severity = all - findings.len();
    timings.push(Timing::since("rules", started));
    let started = std::time::Instant::now();
    let today = options.model.as_of.date();
    let mut outcome = apply_ignores(findings, &options.ignores, today);
    sort_findings(&mut outcome.kept);
    timings.push(Timing::since("ignores and order", started));
    let mut warnings = outcome.warnings;
    warnings.extend(proof_warnings);
    let mut errors: Vec<ScanError> = collection_errors
        .into_iter()
        .map(ScanError::Collection)
        .collect();
    errors.extend(proof_errors);
    errors.extend(eval_errors.into_iter().map(ScanError::Rule));
    ScanResult {
        findings: outcome.kept,
        suppressed: outcome.suppressed,
        below_min_severity,
        warnings,
        errors,
        scanned,
        rules: engine.rules().cloned().collect(),
        request_counts,
        collected_at,
        proofs,
        timings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_error_says_what_failed_and_keeps_the_report_shape() {
        let error = ScanError::Rule(EvaluationError {
            rule_id: "CUSTOM1".into(),
            resource_arn: "arn:aws:ecr:us-east-1:111122223333:repository/app".into(),
            message: "attribute `x` not found".into(),
        });
        assert_eq!(
            error.to_string(),
            "rule CUSTOM1 could not be evaluated on arn:aws:ecr:us-east-1:111122223333:repository/app: attribute `x` not found"
        );
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["operation"], "rule CUSTOM1");
        assert_eq!(
            json["resource"],
            "arn:aws:ecr:us-east-1:111122223333:repository/app"
        );
        assert_eq!(json["kind"], "other");
        let proofs = serde_json::to_value(ScanError::Proofs("cvc5 missing".into())).unwrap();
        assert_eq!(proofs["operation"], "prove");
        assert_eq!(proofs["message"], "cvc5 missing");
    }
}
