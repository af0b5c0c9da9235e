//! The fault matrix: every AWS operation the collector calls, answered in
//! turn with a denial, a server error, a timeout, a malformed answer and
//! moto's own answer to an operation it does not implement, in every account
//! and region of the test organization (scripts/moto/seeds.py). For each:
//! the exit code, the error list (operation, kind, one per read), the rules
//! reported as not evaluated (ECR002), and that every finding of a complete
//! scan that does not depend on the failed read is still reported.
//!
//! Then throttling (a deterministic share of every request answered with
//! the service's throttling error: identical findings, retries counted), a
//! pagination token that repeats (an error, no hang), and the whole-scan
//! deadline (`--timeout`) with an operation that hangs.
//!
//! `cargo test --test it live_faults -- --ignored --nocapture` measures the
//! organization's scan time with and without throttling (README figures).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;

use crate::support::{
    ecr_audit_with, read_json, scratch, Moto, Run, ACCESS_KEY, SECRET_KEY, SESSION_TOKEN,
};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const MANAGEMENT: &str = "123456789012";

/// Every operation the collector calls (src/collect), in the order it
/// calls them.
const OPERATIONS: [&str; 19] = [
    "sts:GetCallerIdentity",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "sts:AssumeRole",
    "iam:GetAccountAuthorizationDetails",
    "ecr:DescribeRegistry",
    "ecr:GetRegistryPolicy",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:DescribePullThroughCacheRules",
    "ecr:GetAccountSetting",
    "ecr:DescribeRepositoryCreationTemplates",
    "ecr:GetSigningConfiguration",
    "ecr:DescribeRepositories",
    "ecr:BatchGetRepositoryScanningConfiguration",
    "ecr:GetRepositoryPolicy",
    "ecr:GetLifecyclePolicy",
    "ecr:ListTagsForResource",
    "ecr:DescribeImages",
    "ecr:BatchGetImage",
];

/// Without these, `--org` has nothing to scan: exit 2, nothing written.
const FATAL: [&str; 3] = [
    "sts:GetCallerIdentity",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
];

/// The rules each failed read leaves not evaluated (ECR002), on the
/// resources it was about. Operations not listed produce no ECR002: what
/// they would have read is not there at all (an account, IAM, the list of
/// repositories, the creation templates) or no rule reads it (tags).
const NOT_EVALUATED: [(&str, &[&str]); 13] = [
    ("ecr:DescribeRegistry", &["ECR112"]),
    (
        "ecr:GetRegistryPolicy",
        &[
            "ECR001", "ECR101", "ECR102", "ECR103", "ECR104", "ECR106", "ECR107", "ECR109",
            "ECR111",
        ],
    ),
    // ECR306 reads the registry's scan type; a repository's coverage comes
    // from its effective scan frequency: without it, coverage is unknown
    // (scan on push alone does not decide it).
    // ECR307 needs the scan type too (enhanced or not), where images are
    // in use: on repositories not pulled lately it stays decided.
    (
        "ecr:GetRegistryScanningConfiguration",
        &["ECR306", "ECR307"],
    ),
    // The registry policy scope decides whether a registry policy's grant
    // of pulls counts (V2) or not (V1): the test world's registry policies
    // grant a partner pulls, so the rule that reads it is not evaluated.
    ("ecr:GetAccountSetting", &["ECR306", "ECR103"]),
    ("ecr:DescribePullThroughCacheRules", &["ECR113"]),
    // Whether a repository must be signed, where it holds unsigned images.
    ("ecr:GetSigningConfiguration", &["ECR404"]),
    // Who can assume a creation template's custom role.
    ("iam:GetAccountAuthorizationDetails", &["ECR114"]),
    (
        "ecr:BatchGetRepositoryScanningConfiguration",
        &["ECR301", "ECR307"],
    ),
    (
        "ecr:GetRepositoryPolicy",
        &[
            "ECR001", "ECR101", "ECR102", "ECR103", "ECR104", "ECR105", "ECR106", "ECR107",
            "ECR108", "ECR109",
        ],
    ),
    ("ecr:GetLifecyclePolicy", &["ECR303", "ECR304"]),
    ("ecr:ListTagsForResource", &[]),
    // ECR307 on the enhanced registry's repository scanned on push only:
    // whether its images are in use is unknown (elsewhere it is decided);
    // ECR404 likewise on base/shared, the one repository that must be
    // signed (and holds the world's image index, read by BatchGetImage).
    (
        "ecr:DescribeImages",
        &["ECR307", "ECR401", "ECR402", "ECR403", "ECR404"],
    ),
    (
        "ecr:BatchGetImage",
        &["ECR401", "ECR402", "ECR403", "ECR404"],
    ),
];

/// Differences from the complete scan the matrix knows of and expects
/// (each is described in docs/robustness.md):
/// - (operation, rule, "message"): the finding stands (it does not depend on
///   the failed read) but its message says "unknown (not read)" where it
///   would have quoted what the read returns (ECR303 counts the
///   repository's images; ECR111 quotes which statements grant what, and
///   without the registry policy scope the pulls a statement grants may or
///   may not count).
const KNOWN: [(&str, &str, &str); 2] = [
    ("ecr:DescribeImages", "ECR303", "message"),
    ("ecr:GetAccountSetting", "ECR111", "message"),
];

fn known(operation: &str, rule: &str, what: &str) -> bool {
    KNOWN.contains(&(operation, rule, what))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Denied,
    ServerError,
    Timeout,
    Malformed,
    Unimplemented,
}

const FAULTS: [Fault; 5] = [
    Fault::Denied,
    Fault::ServerError,
    Fault::Timeout,
    Fault::Malformed,
    Fault::Unimplemented,
];

fn is_xml_service(operation: &str) -> bool {
    operation.starts_with("iam:") || operation.starts_with("sts:")
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Denied => "AccessDenied",
            Fault::ServerError => "HTTP 500",
            Fault::Timeout => "timeout",
            Fault::Malformed => "malformed 200",
            Fault::Unimplemented => "moto: not implemented",
        }
    }

    /// The error kind the collector records for the failed read.
    fn kind(self) -> &'static str {
        match self {
            Fault::Denied => "access-denied",
            Fault::ServerError | Fault::Unimplemented => "server-error",
            Fault::Timeout => "timeout",
            Fault::Malformed => "other",
        }
    }

    /// What the error message says (the underlying cause of an AssumeRole
    /// failure, whose kind is always assume-role-failed).
    fn says(self) -> &'static str {
        match self {
            Fault::Denied => "AccessDenied",
            Fault::ServerError => "InternalFailure",
            Fault::Timeout => "timed out",
            Fault::Malformed => "could not be read",
            Fault::Unimplemented => "HTTP 500",
        }
    }

    /// Makes every request of `operation` fail this way, in every account
    /// and region, as AWS (or moto) would answer it.
    fn apply(self, moto: &Moto, operation: &str) {
        let xml = is_xml_service(operation);
        let fault = match self {
            Fault::Denied if xml => json!({"status": 403, "body": "xml", "code": "AccessDenied",
                "message": format!("User: arn:aws:iam::{MANAGEMENT}:user/scanner is not authorized to perform: {operation}")}),
            Fault::Denied => json!({"status": 400, "body": "json", "code": "AccessDeniedException",
                "message": format!("User: arn:aws:iam::{MANAGEMENT}:user/scanner is not authorized to perform: {operation} with an explicit deny in a service control policy")}),
            Fault::ServerError => json!({"status": 500, "body": if xml { "xml" } else { "json" },
                "code": "InternalFailure", "message": "We encountered an internal error. Please try again."}),
            // moto answers after the delay; the client gave up before.
            Fault::Timeout => json!({"delay": 3}),
            Fault::Malformed => json!({"body": "malformed"}),
            Fault::Unimplemented => {
                moto.command(json!({"cmd": "unimplement", "operation": operation}));
                return;
            }
        };
        let mut fault = fault;
        fault["operation"] = json!(operation);
        moto.fault(fault);
    }
}

/// A seeded test organization and its complete scan.
struct World {
    moto: Moto,
    facts: Value,
    at: String,
    baseline: Vec<Value>,
}

impl World {
    fn new(name: &str) -> World {
        let moto = Moto::start();
        let facts = moto.seed(json!({"cmd": "seed", "world": "org"}));
        let now = facts["now"].as_i64().unwrap();
        let at = OffsetDateTime::from_unix_timestamp(now)
            .unwrap()
            .format(&Rfc3339)
            .unwrap();
        let mut world = World {
            moto,
            facts,
            at,
            baseline: Vec::new(),
        };
        let (run, report) = world.scan(name, &[], &[]);
        assert_eq!(run.status, 0, "{}", run.describe());
        let report = report.expect("a report");
        assert_eq!(report["errors"], json!([]));
        world.baseline = findings(&report);
        assert!(
            world.baseline.len() > 20,
            "the test organization has findings"
        );
        world
    }

    /// A live scan of the organization, as JSON; the report when written.
    fn scan(
        &self,
        name: &str,
        extra: &[&str],
        env: &[(&str, Option<&str>)],
    ) -> (Run, Option<Value>) {
        let dir = scratch(name);
        let path = dir.join("report.json");
        let mut args = vec![
            "scan",
            "--org",
            "--format",
            "json",
            "--as-of",
            &self.at,
            "--fail-on",
            "never",
            "-o",
            path.to_str().unwrap(),
        ];
        for r in REGIONS {
            args.extend(["--region", r]);
        }
        args.extend(extra);
        let run = ecr_audit_with(&self.moto, &args, None, env);
        let report = path.exists().then(|| read_json(&path));
        assert_no_secrets(&run, &dir);
        (run, report)
    }

    fn repositories(&self) -> Vec<&Value> {
        self.facts["accounts"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|a| a["regions"].as_object().unwrap().values())
            .flat_map(|r| r["repositories"].as_object().unwrap().values())
            .collect()
    }

    fn accounts(&self) -> usize {
        self.facts["accounts"].as_object().unwrap().len()
    }

    /// How many errors one failing operation must leave: one per read.
    fn expected_errors(&self, operation: &str) -> usize {
        let scopes = self.accounts() * REGIONS.len();
        let repositories = self.repositories();
        match operation {
            "sts:AssumeRole" => self.accounts() - 1,
            "iam:GetAccountAuthorizationDetails" => self.accounts(),
            "ecr:DescribeRegistry"
            | "ecr:GetRegistryPolicy"
            | "ecr:GetRegistryScanningConfiguration"
            | "ecr:DescribePullThroughCacheRules"
            | "ecr:DescribeRepositoryCreationTemplates"
            | "ecr:GetSigningConfiguration"
            | "ecr:DescribeRepositories" => scopes,
            // One read per account setting (BASIC_SCAN_TYPE_VERSION,
            // REGISTRY_POLICY_SCOPE) and registry.
            "ecr:GetAccountSetting" => 2 * scopes,
            "ecr:BatchGetImage" => repositories
                .iter()
                .filter(|r| {
                    r["images"]
                        .as_object()
                        .unwrap()
                        .values()
                        .any(|i| !i["children"].as_array().unwrap().is_empty())
                })
                .count(),
            _ => repositories.len(),
        }
    }
}

fn findings(report: &Value) -> Vec<Value> {
    report["findings"].as_array().expect("findings").clone()
}

/// No credential of the test environment in anything a run printed or
/// wrote.
fn assert_no_secrets(run: &Run, dir: &Path) {
    let mut texts = vec![
        ("stdout".to_string(), run.stdout.clone()),
        ("stderr".to_string(), run.stderr.clone()),
    ];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        texts.push((
            path.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    for (name, text) in texts {
        for secret in [ACCESS_KEY, SECRET_KEY, SESSION_TOKEN] {
            assert!(
                !text.contains(secret),
                "credential {secret} in {name}:\n{text}"
            );
        }
    }
}

/// Waits until the server has answered every request still in flight (the
/// delayed answers a timed-out client no longer waits for), so that they
/// do not meet the next cell's faults.
fn settle(moto: &Moto) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < until {
        let answer = moto.command(json!({"cmd": "requests", "reset": false}));
        if answer["inFlight"] == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server still has requests in flight after 30 s");
}

/// What one cell of the matrix saw.
struct Cell {
    operation: &'static str,
    fault: Fault,
    exit: i32,
    errors: usize,
    kind: String,
    not_evaluated: BTreeSet<String>,
    kept: usize,
    lost: usize,
}

/// Runs one cell and checks it; Err says what was wrong.
fn cell(world: &World, operation: &'static str, fault: Fault) -> Result<Cell, String> {
    world.moto.clear_faults();
    fault.apply(&world.moto, operation);
    let name = format!("live-faults-{}-{:?}", operation.replace(':', "-"), fault);
    let extra: &[&str] = if fault == Fault::Timeout {
        &["--request-timeout", "1"]
    } else {
        &[]
    };
    let (run, report) = world.scan(&name, extra, &[]);
    if fault == Fault::Timeout {
        settle(&world.moto);
    }
    world.moto.clear_faults();
    verify(world, operation, fault, fault.says(), &run, report)
}

/// Checks a scan in which every `operation` failed with `fault`, the
/// errors saying `says`.
fn verify(
    world: &World,
    operation: &'static str,
    fault: Fault,
    says: &str,
    run: &Run,
    report: Option<Value>,
) -> Result<Cell, String> {
    let context = || format!("{operation} × {}: {}", fault.name(), run.describe());
    let mut cell = Cell {
        operation,
        fault,
        exit: run.status,
        errors: 0,
        kind: String::new(),
        not_evaluated: BTreeSet::new(),
        kept: 0,
        lost: 0,
    };

    if FATAL.contains(&operation) {
        if run.status != 2 || report.is_some() || !run.stderr.contains(operation) {
            return Err(format!(
                "expected exit 2, no report and {operation} named on stderr; {}",
                context()
            ));
        }
        cell.kind = "—".into();
        return Ok(cell);
    }
    if run.status != 3 {
        return Err(format!("expected exit 3; {}", context()));
    }
    let report = report.ok_or_else(|| format!("no report; {}", context()))?;

    // The errors: one per failed read, all of this operation and kind.
    let errors = report["errors"].as_array().unwrap();
    cell.errors = errors.len();
    let expected_kind = if operation == "sts:AssumeRole" {
        "assume-role-failed"
    } else {
        fault.kind()
    };
    cell.kind = expected_kind.to_string();
    if errors.len() != world.expected_errors(operation) {
        return Err(format!(
            "expected {} errors, got {errors:#?}; {}",
            world.expected_errors(operation),
            context()
        ));
    }
    for e in errors {
        let message = e["message"].as_str().unwrap_or("");
        if e["operation"] != operation || e["kind"] != expected_kind || !message.contains(says) {
            return Err(format!(
                "expected {operation} errors of kind {expected_kind} saying {says:?}, got {e}; {}",
                context()
            ));
        }
    }
    let failed: BTreeSet<(String, String)> = errors
        .iter()
        .map(|e| {
            (
                e["account"].as_str().unwrap().to_string(),
                e["region"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();

    // The rules not evaluated, each naming the failed read, on resources
    // whose read failed.
    let all = findings(&report);
    let not_evaluated: Vec<&Value> = all.iter().filter(|f| f["rule_id"] == "ECR002").collect();
    let mut pairs: BTreeSet<(String, String)> = BTreeSet::new();
    for f in &not_evaluated {
        let message = f["message"].as_str().unwrap_or("");
        let said = format!("{operation} failed ({expected_kind})");
        let scope = (
            f["account"].as_str().unwrap().to_string(),
            f["region"].as_str().unwrap_or("").to_string(),
        );
        // An IAM read is per account (no region): it is about the
        // account's resources in every region.
        let in_failed_scope =
            failed.contains(&scope) || failed.contains(&(scope.0.clone(), String::new()));
        if !message.contains(&said) || !in_failed_scope {
            return Err(format!(
                "ECR002 should say {said:?} about a resource whose read failed: {f}; {}",
                context()
            ));
        }
        let rule = f["details"]["rule"].as_str().unwrap().to_string();
        cell.not_evaluated.insert(rule.clone());
        pairs.insert((rule, f["resource_arn"].as_str().unwrap().to_string()));
    }
    let expected_rules: BTreeSet<String> = NOT_EVALUATED
        .iter()
        .find(|(op, _)| *op == operation)
        .map(|(_, rules)| rules.iter().map(|r| r.to_string()).collect())
        .unwrap_or_default();
    if cell.not_evaluated != expected_rules {
        return Err(format!(
            "rules not evaluated: expected {expected_rules:?}, got {:?}; {}",
            cell.not_evaluated,
            context()
        ));
    }

    // Every finding that does not depend on the failed read is reported,
    // and nothing else.
    let members: BTreeSet<String> = world.facts["accounts"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|a| *a != MANAGEMENT)
        .cloned()
        .collect();
    let scan_on_push: BTreeSet<String> = world.facts["accounts"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(account, a)| {
            a["regions"]
                .as_object()
                .unwrap()
                .iter()
                .flat_map(move |(region, r)| {
                    r["repositories"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .filter(|(_, repo)| repo["scanOnPush"] == true)
                        .map(move |(name, _)| {
                            format!("arn:aws:ecr:{region}:{account}:repository/{name}")
                        })
                })
        })
        .collect();
    let depends = |f: &Value| -> bool {
        let rule = f["rule_id"].as_str().unwrap();
        if known(operation, rule, "lost-if-scan-on-push")
            && scan_on_push.contains(f["resource_arn"].as_str().unwrap())
        {
            return true;
        }
        let pair = (
            f["rule_id"].as_str().unwrap().to_string(),
            f["resource_arn"].as_str().unwrap().to_string(),
        );
        pairs.contains(&pair)
            || match operation {
                "sts:AssumeRole" => members.contains(f["account"].as_str().unwrap()),
                "iam:GetAccountAuthorizationDetails" => f["resource_kind"] == "iam-principal",
                "ecr:DescribeRepositories" => f["resource_kind"] == "repository",
                "ecr:DescribeRepositoryCreationTemplates" => {
                    f["resource_kind"] == "creation-template"
                }
                _ => false,
            }
    };
    let kept: Vec<Value> = world
        .baseline
        .iter()
        .filter(|f| !depends(f))
        .cloned()
        .collect();
    let reported: Vec<Value> = all
        .iter()
        .filter(|f| f["rule_id"] != "ECR002")
        .cloned()
        .collect();
    cell.kept = kept.len();
    cell.lost = world.baseline.len() - kept.len();
    // Findings whose message may tell what the failed read would have said
    // are compared by identity only.
    let identity = |f: &Value| -> Value {
        if known(operation, f["rule_id"].as_str().unwrap(), "message") {
            json!([
                f["rule_id"],
                f["resource_arn"],
                f["severity"],
                f["fingerprint"]
            ])
        } else {
            f.clone()
        }
    };
    let reported: Vec<Value> = reported.iter().map(identity).collect();
    let kept: Vec<Value> = kept.iter().map(identity).collect();
    if reported != kept {
        let fingerprints = |list: &[Value]| -> BTreeSet<String> {
            list.iter()
                .map(|f| format!("{} {}", f["rule_id"], f["resource_arn"]))
                .collect()
        };
        let (r, k) = (fingerprints(&reported), fingerprints(&kept));
        let changed: Vec<String> = reported
            .iter()
            .zip(&kept)
            .filter(|(a, b)| a != b)
            .take(2)
            .map(|(a, b)| format!("reported {a}\ncomplete {b}"))
            .collect();
        return Err(format!(
            "findings differ from the complete scan's minus those depending on {operation}: missing {:?}, unexpected {:?}, changed:\n{}\n{}",
            k.difference(&r).collect::<Vec<_>>(),
            r.difference(&k).collect::<Vec<_>>(),
            changed.join("\n"),
            context()
        ));
    }
    Ok(cell)
}

/// The matrix as a Markdown table (docs/robustness.md, "Fault matrix").
fn render(cells: &[Cell], baseline: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| operation | {} | not evaluated (ECR002) | findings kept (of {baseline}) |",
        FAULTS.map(Fault::name).join(" | ")
    );
    let _ = writeln!(out, "|---|{}---|---|", "---|".repeat(FAULTS.len()));
    for op in OPERATIONS {
        let row: Vec<&Cell> = FAULTS
            .iter()
            .filter_map(|f| cells.iter().find(|c| c.operation == op && c.fault == *f))
            .collect();
        let Some(first) = row.first() else { continue };
        let outcomes: Vec<String> = row
            .iter()
            .map(|c| {
                if c.exit == 2 {
                    "exit 2".to_string()
                } else {
                    format!("exit {} · {} × {}", c.exit, c.errors, c.kind)
                }
            })
            .collect();
        let rules = if first.exit == 2 {
            "—".to_string()
        } else if first.not_evaluated.is_empty() {
            "none".to_string()
        } else {
            first
                .not_evaluated
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let kept = if first.exit == 2 {
            "nothing scanned".to_string()
        } else {
            format!("{} (−{})", first.kept, first.lost)
        };
        let _ = writeln!(
            out,
            "| `{op}` | {} | {rules} | {kept} |",
            outcomes.join(" | ")
        );
    }
    out
}

/// `LIVE_FAULTS_ONLY=ecr:DescribeImages,iam:...` runs only those rows.
fn chosen(operation: &str) -> bool {
    match std::env::var("LIVE_FAULTS_ONLY") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|o| o.trim() == operation),
        _ => true,
    }
}

#[test]
fn every_operation_failing_every_way_loses_only_what_it_would_have_read() {
    let started = std::time::Instant::now();
    // Two servers, each taking every other operation: the cells are
    // independent, and a scan mostly waits on its (single-threaded) server.
    let workers = 2;
    let results: Mutex<Vec<Result<Cell, String>>> = Mutex::new(Vec::new());
    let baselines: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for w in 0..workers {
            let results = &results;
            let baselines = &baselines;
            scope.spawn(move || {
                let world = World::new(&format!("live-faults-baseline-{w}"));
                baselines.lock().unwrap().push(world.baseline.len());
                for (i, op) in OPERATIONS.iter().enumerate() {
                    if i % workers != w || !chosen(op) {
                        continue;
                    }
                    for fault in FAULTS {
                        let outcome = cell(&world, op, fault);
                        results.lock().unwrap().push(outcome);
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let baselines = baselines.into_inner().unwrap();
    assert!(
        baselines.windows(2).all(|w| w[0] == w[1]),
        "both worlds give the same complete scan: {baselines:?}"
    );
    let mut cells = Vec::new();
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(c) => cells.push(c),
            Err(e) => failures.push(e),
        }
    }
    // The same read failing in any way loses the same findings and leaves
    // the same rules not evaluated.
    for op in OPERATIONS {
        let row: Vec<&Cell> = cells.iter().filter(|c| c.operation == op).collect();
        if row
            .windows(2)
            .any(|w| w[0].not_evaluated != w[1].not_evaluated || w[0].kept != w[1].kept)
        {
            failures.push(format!("{op}: the outcome depends on how it failed"));
        }
    }
    eprintln!(
        "fault matrix ({} cells, {:.1}s):\n{}",
        cells.len(),
        started.elapsed().as_secs_f64(),
        render(&cells, baselines[0])
    );
    assert!(
        failures.is_empty(),
        "{} of {} cells failed:\n\n{}",
        failures.len(),
        OPERATIONS.iter().filter(|o| chosen(o)).count() * FAULTS.len(),
        failures.join("\n\n")
    );
}

/// Both reads that tell whether a repository is scanned failing: coverage
/// is unknown, so ECR301 is not evaluated on the repositories (where the
/// matrix shows that either read alone suffices).
#[test]
fn without_either_scanning_read_coverage_is_not_evaluated() {
    let world = World::new("live-faults-scanning-baseline");
    for op in [
        "ecr:GetRegistryScanningConfiguration",
        "ecr:BatchGetRepositoryScanningConfiguration",
    ] {
        Fault::Denied.apply(&world.moto, op);
    }
    let (run, report) = world.scan("live-faults-scanning", &[], &[]);
    assert_eq!(run.status, 3, "{}", run.describe());
    let report = report.unwrap();
    let not_evaluated: BTreeSet<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "ECR002")
        .map(|f| {
            (
                f["details"]["rule"].as_str().unwrap(),
                f["resource_kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        not_evaluated.contains(&("ECR301", "repository")),
        "{not_evaluated:?}"
    );
    let lost: Vec<&Value> = world
        .baseline
        .iter()
        .filter(|f| f["rule_id"] == "ECR301")
        .collect();
    assert!(!lost.is_empty());
    for f in findings(&report) {
        assert_ne!(f["rule_id"], "ECR301", "coverage is unknown: {f}");
    }
}

/// The retried attempts `--stats` reports.
fn retried(stderr: &str) -> u64 {
    stderr
        .lines()
        .find(|l| l.contains("retried attempts"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no retried attempts in --stats:\n{stderr}"))
}

/// The SDK's own retries and backoff, as a user gets them.
const RETRIES_ON: [(&str, Option<&str>); 1] = [("AWS_MAX_ATTEMPTS", None)];

/// 30% of every request throttled, with the error code each service uses:
/// the SDK retries them, the findings are those of the complete scan, and
/// `--stats` counts every retry.
#[test]
fn throttling_is_retried_to_identical_findings_and_counted() {
    let world = World::new("live-faults-throttle-baseline");
    world
        .moto
        .command(json!({"cmd": "requests", "reset": true}));
    world
        .moto
        .command(json!({"cmd": "throttle", "fraction": 0.3}));
    // And the first request of each other service, with its own code.
    let once = [
        ("sts:GetCallerIdentity", "xml", "Throttling"),
        (
            "organizations:DescribeOrganization",
            "json",
            "TooManyRequestsException",
        ),
        ("sts:AssumeRole", "xml", "Throttling"),
        ("iam:GetAccountAuthorizationDetails", "xml", "Throttling"),
    ];
    for (operation, body, code) in once {
        world
            .moto
            .fault(json!({"operation": operation, "status": 400, "body": body,
                                "code": code, "message": "Rate exceeded", "times": 1}));
    }
    let (run, report) = world.scan("live-faults-throttle", &["--stats"], &RETRIES_ON);
    world.moto.clear_faults();
    let answer = world
        .moto
        .command(json!({"cmd": "requests", "reset": true}));
    assert_eq!(run.status, 0, "{}", run.describe());
    let report = report.unwrap();
    assert_eq!(report["errors"], json!([]));
    assert_eq!(findings(&report), world.baseline);
    let throttled = answer["throttled"].as_u64().unwrap();
    let served: u64 = answer["operations"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert!(throttled * 4 > served, "{throttled} of {served} throttled");
    // Every throttled answer was retried, and counted.
    let throttled = throttled + once.len() as u64;
    assert_eq!(retried(&run.stderr), throttled, "{}", run.stderr);
    eprintln!(
        "30% throttled: {throttled} of {served} requests throttled and retried, {:.2}s",
        run.seconds
    );
}

/// A listing whose next-page token comes back unchanged ends with an error
/// after the second page: no hang, no duplicate, the rest is reported.
#[test]
fn a_repeating_page_token_is_an_error_not_a_hang() {
    let world = World::new("live-faults-pages-baseline");
    // Images of one repository.
    world
        .moto
        .command(json!({"cmd": "requests", "reset": true}));
    world.moto.fault(
        json!({"operation": "ecr:DescribeImages", "match": "svc/api",
                            "rewrite": "repeat-token"}),
    );
    let (run, report) = world.scan("live-faults-pages-images", &[], &[]);
    let (served, _) = world.moto.requests(true);
    world.moto.clear_faults();
    assert_eq!(run.status, 3, "{}", run.describe());
    let report = report.unwrap();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["operation"], "ecr:DescribeImages");
    assert!(errors[0]["resource"]
        .as_str()
        .unwrap()
        .ends_with("/svc/api"));
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("same pagination token"),
        "{}",
        errors[0]
    );
    let repositories = world.repositories().len() as u64;
    assert_eq!(
        served["ecr:DescribeImages"],
        repositories + 1,
        "two pages of svc/api, one of each other repository"
    );
    let not_evaluated: BTreeSet<String> = findings(&report)
        .iter()
        .filter(|f| f["rule_id"] == "ECR002")
        .map(|f| {
            assert!(
                f["resource_arn"].as_str().unwrap().ends_with("/svc/api"),
                "{f}"
            );
            f["details"]["rule"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        not_evaluated,
        ["ECR401", "ECR402", "ECR403"].map(String::from).into(),
        "the image rules are not evaluated on svc/api"
    );
    let unaffected = |f: &&Value| !f["resource_arn"].as_str().unwrap().ends_with("/svc/api");
    let others: Vec<Value> = findings(&report)
        .iter()
        .filter(unaffected)
        .cloned()
        .collect();
    let expected: Vec<Value> = world.baseline.iter().filter(unaffected).cloned().collect();
    assert_eq!(others, expected);

    // Every other listing the collector pages through.
    for (operation, status) in [
        ("ecr:DescribeRepositories", 3),
        ("ecr:DescribePullThroughCacheRules", 3),
        ("ecr:DescribeRepositoryCreationTemplates", 3),
        ("iam:GetAccountAuthorizationDetails", 3),
        ("organizations:ListAccounts", 2),
    ] {
        world.moto.requests(true);
        world
            .moto
            .fault(json!({"operation": operation, "rewrite": "repeat-token"}));
        let name = format!("live-faults-pages-{}", operation.replace(':', "-"));
        let (run, report) = world.scan(&name, &[], &[]);
        let (served, _) = world.moto.requests(true);
        world.moto.clear_faults();
        assert_eq!(run.status, status, "{operation}: {}", run.describe());
        let listings = match operation {
            "iam:GetAccountAuthorizationDetails" => world.accounts() as u64,
            "organizations:ListAccounts" => 1,
            _ => (world.accounts() * REGIONS.len()) as u64,
        };
        assert_eq!(served[operation], 2 * listings, "{operation}: {served:?}");
        if status == 2 {
            assert!(
                run.stderr.contains("same pagination token"),
                "{}",
                run.stderr
            );
            continue;
        }
        let report = report.unwrap();
        let errors = report["errors"].as_array().unwrap();
        assert_eq!(errors.len() as u64, listings, "{operation}: {errors:#?}");
        for e in errors {
            assert_eq!(e["operation"], operation);
            assert!(
                e["message"]
                    .as_str()
                    .unwrap()
                    .contains("same pagination token"),
                "{e}"
            );
        }
        // What the first page held is kept, once.
        let mut seen = BTreeSet::new();
        for f in findings(&report) {
            let key = format!("{} {}", f["rule_id"], f["resource_arn"]);
            assert!(
                seen.insert(key.clone()),
                "{operation}: {key} reported twice"
            );
        }
        eprintln!(
            "{operation} with a repeating token: exit {}, {} errors, {} findings ({} in the complete scan)",
            run.status,
            errors.len(),
            seen.len(),
            world.baseline.len()
        );
    }
}

/// `--timeout`: an operation that hangs (its answer comes after a minute)
/// ends the scan at the deadline with exit 3; every read that finished is
/// kept and every unfinished one is an error of kind timeout.
#[test]
fn the_scan_deadline_ends_a_hung_scan_with_what_was_read() {
    let world = World::new("live-faults-deadline-baseline");
    world
        .moto
        .fault(json!({"operation": "ecr:DescribeImages", "delay": 60}));
    let (run, report) = world.scan("live-faults-deadline", &["--timeout", "5"], &[]);
    eprintln!(
        "--timeout 5 with DescribeImages hanging: exit {} after {:.1}s",
        run.status, run.seconds
    );
    let cell = verify(
        &world,
        "ecr:DescribeImages",
        Fault::Timeout,
        "deadline",
        &run,
        report,
    );
    if let Err(e) = cell {
        panic!("{e}");
    }
}

/// Scan times of the test organization (README, "Throttling"): without
/// throttling, with 30% of every request throttled, and with 30% of one
/// member account's requests throttled (the other accounts keep their
/// pace: each account × region retries in its own partition). Not a test:
/// `cargo test --release --test it live_faults -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_throttling() {
    let world = World::new("live-faults-measure-baseline");
    let prod = world.facts["ids"]["prod"].as_str().unwrap().to_string();
    let runs = 5;
    let scenarios: [(&str, Value); 3] = [
        ("no throttling", json!({"fraction": 0})),
        ("30% of all requests", json!({"fraction": 0.3})),
        (
            "30% of one account's requests",
            json!({"fraction": 0.3, "account": prod}),
        ),
    ];
    for (name, throttle) in scenarios {
        let mut times = Vec::new();
        let mut lines = Vec::new();
        for i in 0..runs {
            let mut command = throttle.clone();
            command["cmd"] = json!("throttle");
            world.moto.command(command);
            world
                .moto
                .command(json!({"cmd": "requests", "reset": true}));
            let (run, report) = world.scan("live-faults-measure", &["--stats"], &RETRIES_ON);
            let answer = world
                .moto
                .command(json!({"cmd": "requests", "reset": true}));
            assert_eq!(run.status, 0, "{}", run.describe());
            assert_eq!(findings(&report.unwrap()), world.baseline);
            times.push(run.seconds);
            let served: u64 = answer["operations"]
                .as_object()
                .unwrap()
                .values()
                .map(|n| n.as_u64().unwrap())
                .sum();
            let mut spans: Vec<String> = answer["accounts"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(a, v)| {
                    let who = if *a == prod { "prod" } else { a.as_str() };
                    format!("{who} {}s", v["seconds"])
                })
                .collect();
            spans.sort();
            lines.push(format!(
                "  run {}: {:.2}s, {served} requests, {} throttled, {} retried; per account first→last request: {}",
                i + 1,
                run.seconds,
                answer["throttled"],
                retried(&run.stderr),
                spans.join(", ")
            ));
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        eprintln!(
            "{name}: median {:.2}s (min {:.2}s, max {:.2}s) over {runs} scans\n{}",
            times[runs / 2],
            times[0],
            times[runs - 1],
            lines.join("\n")
        );
    }
    world
        .moto
        .command(json!({"cmd": "throttle", "fraction": 0}));
}
