//! Command-line definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::inventory::{AccountId, Shard};

pub mod commands;
pub mod settings;

#[derive(Debug, Parser)]
#[command(
    name = "ecr-audit",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("ECR_AUDIT_COMMIT"), ")"),
    about = "Audit Amazon ECR across an AWS organization: who can reach each repository, how registry tokens are granted, how images are kept.",
    after_help = "Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 usage, config or input error; 3 the scan finished but is incomplete."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect (or read saved inventories), analyse and report.
    Scan(ScanArgs),
    /// Collect from AWS and save the inventory, without analysing it.
    Collect(CollectArgs),
    /// List the rules (built-in and custom).
    Rules(RulesArgs),
    /// Analyse one policy document offline, as if attached in an account.
    CheckPolicy(CheckPolicyArgs),
    /// Print the Cedar a policy document normalizes to.
    ExplainPolicy(ExplainPolicyArgs),
    /// Prove, with an SMT solver (cvc5), that no principal outside the zone
    /// of trust can read, write or change permissions of each repository and
    /// registry, or assume a role that can write to ECR; print a replayed
    /// counterexample for each property that fails.
    Prove(ProveArgs),
    /// Render saved JSON reports (`scan --format json`) in any format,
    /// merging several (an organization's shards, several organizations)
    /// into one.
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// JSON reports written by `scan --format json`.
    #[arg(value_name = "REPORT.json", required = true, num_args = 1..)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Directory of the custom .cedar rules the scans ran (for the SARIF
    /// rule catalogue).
    #[arg(long, value_name = "DIR")]
    pub rules_dir: Option<PathBuf>,
    /// Config file [default: $ECR_AUDIT_CONFIG, then ./ecr-audit.toml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Solver options, shared by `prove` and `scan --prove`.
#[derive(Debug, Clone, Args)]
pub struct ProofArgs {
    /// Time limit per solver query, in seconds; a query that runs out is "unknown".
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub proof_timeout: f64,
    /// Solver processes run in parallel [default: the number of CPUs].
    #[arg(long, value_name = "N")]
    pub proof_jobs: Option<usize>,
    /// Ask the solver every question, even one already answered for an
    /// identical policy (for measuring the cache).
    #[arg(long)]
    pub no_proof_cache: bool,
}

/// What `scan` and `prove` read instead of collecting live.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Saved inventory to read instead of collecting (repeatable: shards merge).
    #[arg(long = "inventory", value_name = "FILE")]
    pub inventories: Vec<PathBuf>,
    /// Use the embedded demo organization.
    #[arg(long, conflicts_with = "inventories")]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct ProveArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub proof: ProofArgs,
    #[arg(long, value_enum, default_value_t = ProveFormat::Table)]
    pub format: ProveFormat,
    /// Write the proofs here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print every verdict, not only refuted and unknown ones (table).
    #[arg(long)]
    pub all: bool,
}

/// A category GitHub accepts: not empty, one line, no trailing slash (the
/// id's last slash ends the category).
fn parse_sarif_category(text: &str) -> Result<String, String> {
    if text.is_empty() || text.ends_with('/') || text.chars().any(char::is_control) {
        Err("a SARIF category is one line of text that does not end in '/'".to_string())
    } else {
        Ok(text.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProveFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckPolicyArgs {
    /// The policy document (JSON).
    pub file: PathBuf,
    /// What the policy is attached to.
    #[arg(long, value_enum)]
    pub kind: crate::check::Kind,
    /// Account the policy lives in [default: 123456789012].
    #[arg(long, value_name = "ID", value_parser = AccountId::parse)]
    pub account: Option<AccountId>,
    /// Your organization's id.
    #[arg(long, value_name = "ID")]
    pub org_id: Option<String>,
    /// An account of your organization (repeatable).
    #[arg(long = "org-account", value_name = "ID", value_parser = AccountId::parse)]
    pub org_accounts: Vec<AccountId>,
    /// For --kind registry: the account's registry policy scope
    /// (REGISTRY_POLICY_SCOPE). V1 governs only replication, pull-through
    /// import and CreateRepository; V2 (AWS's default) every ECR action.
    #[arg(long, value_enum, default_value_t = RegistryScopeArg::V2)]
    pub registry_scope: RegistryScopeArg,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Pass a document the analysis cannot fully decide (ECR001), or one
    /// that grants no action of its kind, instead of failing the check.
    #[arg(long)]
    pub allow_undecided: bool,
    /// Also prove the document's access properties with the SMT solver.
    #[arg(long)]
    pub prove: bool,
    #[command(flatten)]
    pub proof: ProofArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegistryScopeArg {
    #[value(name = "v1", alias = "V1")]
    V1,
    #[value(name = "v2", alias = "V2")]
    V2,
}

impl From<RegistryScopeArg> for crate::access::RegistryScope {
    fn from(arg: RegistryScopeArg) -> Self {
        match arg {
            RegistryScopeArg::V1 => crate::access::RegistryScope::V1,
            RegistryScopeArg::V2 => crate::access::RegistryScope::V2,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExplainPolicyArgs {
    /// The policy document (JSON).
    pub file: PathBuf,
    /// What the policy is attached to.
    #[arg(long, value_enum, default_value_t = crate::check::Kind::Repository)]
    pub kind: crate::check::Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
    /// A capped summary for a CI job summary or a pull-request comment.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl SeverityArg {
    pub fn severity(self) -> crate::finding::Severity {
        use crate::finding::Severity;
        match self {
            SeverityArg::Critical => Severity::Critical,
            SeverityArg::High => Severity::High,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Info => Severity::Info,
        }
    }
}

impl FailOn {
    pub fn threshold(self) -> Option<crate::finding::Severity> {
        match self {
            FailOn::Never => None,
            FailOn::Critical => Some(SeverityArg::Critical.severity()),
            FailOn::High => Some(SeverityArg::High.severity()),
            FailOn::Medium => Some(SeverityArg::Medium.severity()),
            FailOn::Low => Some(SeverityArg::Low.severity()),
            FailOn::Info => Some(SeverityArg::Info.severity()),
        }
    }
}

/// Where to collect from, when not reading saved inventories.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// AWS profile for the caller's credentials.
    #[arg(long)]
    pub profile: Option<String>,
    /// Region to scan (repeatable). Default: the configured region.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Scan every region where ECR is available and enabled.
    #[arg(long, conflicts_with = "regions")]
    pub all_regions: bool,
    /// Accounts to scan, comma-separated. Default: the caller's account.
    #[arg(long, value_delimiter = ',', value_name = "ID,...", value_parser = AccountId::parse)]
    pub accounts: Vec<AccountId>,
    /// Scan every active account of the organization.
    #[arg(long, conflicts_with = "accounts")]
    pub org: bool,
    /// Role assumed in every target account other than the caller's [default: ecr-audit].
    #[arg(long)]
    pub role_name: Option<String>,
    /// External id for the assumed role.
    #[arg(long)]
    pub external_id: Option<String>,
    /// Bound on AWS requests in flight.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub max_concurrency: u16,
    /// Longest one attempt of one AWS request may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: u64,
    /// Deadline for the whole collection, in seconds: what is not read by
    /// then is reported as an error (exit 3) and everything read is kept.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Print the number of AWS requests made, by operation, to stderr.
    #[arg(long)]
    pub stats: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Only slice K of N of the target accounts (live, saved inventories
    /// or the demo alike), by a stable hash of the account id; the others
    /// stay in the zone of trust. `ecr-audit report part-*.json` merges
    /// the shards' reports.
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also prove the access properties with the SMT solver (see `prove`):
    /// refuted properties add their counterexamples to the findings, unknown
    /// ones raise ECR001.
    #[arg(long)]
    pub prove: bool,
    #[command(flatten)]
    pub proof: ProofArgs,
}

/// Options that change the analysis.
#[derive(Debug, Clone, Args)]
pub struct AnalysisArgs {
    /// Config file [default: $ECR_AUDIT_CONFIG, then ./ecr-audit.toml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of custom .cedar rules (added to the built-in ones).
    #[arg(long, value_name = "DIR")]
    pub rules_dir: Option<PathBuf>,
    /// Reference time, what aws:CurrentTime is (YYYY-MM-DD or RFC 3339) [default: the inventory's collection time, else now].
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Account trusted in addition to the scanned ones and the organization (repeatable).
    #[arg(long = "trusted-account", value_name = "ID", value_parser = AccountId::parse)]
    pub trusted_accounts: Vec<AccountId>,
    /// Print the time each phase took (input, model, rules, ignores and
    /// order, report), its CPU time (all threads) and the resident memory
    /// after it, to stderr.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// table (for people), json (for scripts), sarif (for code scanning).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// Report only findings at or above this severity.
    #[arg(long, value_enum, default_value_t = SeverityArg::Info)]
    pub min_severity: SeverityArg,
    /// Colour in the table: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Table: one row per finding (a rule with many findings is otherwise
    /// one row with a count and examples).
    #[arg(long)]
    pub all: bool,
    /// SARIF: the code-scanning category (`runs[].automationDetails.id` is
    /// CATEGORY/), one per organization or shard, so uploads of different
    /// organizations do not close each other's alerts [default: ecr-audit].
    #[arg(long, value_name = "CATEGORY", value_parser = parse_sarif_category)]
    pub sarif_category: Option<String>,
    /// A previous JSON report: each finding is marked new or unchanged
    /// (SARIF `baselineState`), and the report lists the previous findings
    /// now absent.
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: exit 1 only when a *new* finding is at or above this
    /// severity (instead of --fail-on).
    #[arg(long, value_enum, value_name = "SEVERITY", requires = "baseline")]
    pub fail_on_new: Option<SeverityArg>,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Where to write the inventory (JSON).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Config file [default: $ECR_AUDIT_CONFIG, then ./ecr-audit.toml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// One rule to print in full (description, remediation, ...).
    #[arg(value_name = "RULE_ID")]
    pub id: Option<String>,
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
    /// Directory of custom .cedar rules to list too.
    #[arg(long, value_name = "DIR")]
    pub rules_dir: Option<PathBuf>,
    /// Config file [default: $ECR_AUDIT_CONFIG, then ./ecr-audit.toml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
}
