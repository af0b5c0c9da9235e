//! Settings resolved once from the configuration file and the flags, and
//! checked: account ids, dates, the rules directory, solver options. A
//! command runs only on settings that passed these checks.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::Path;

use time::OffsetDateTime;

use super::{AnalysisArgs, ProofArgs, TargetArgs};
use crate::collect::{CollectOptions, DEFAULT_ROLE_NAME};
use crate::config::{self, Config};
use crate::engine::{self, Rule, RuleSelection};
use crate::inventory::{AccountId, Inventory};
use crate::model::ModelOptions;
use crate::prove::{self, ProverOptions};
use crate::scan::ProveSettings;

/// A failure before anything was scanned: printed, exit 2. Errors of the
/// layers below arrive as `miette::Diagnostic`s and keep their code and help.
#[derive(Debug)]
pub struct UsageError {
    pub message: String,
    /// `ecr_audit::config`, ...: which kind of input was wrong.
    pub code: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> UsageError {
        UsageError {
            message: message.into(),
            code: None,
            help: None,
        }
    }

    /// How the CLI prints it: `error[CODE]: message`, then `help: ...`.
    pub fn render(&self) -> String {
        let mut text = match &self.code {
            Some(code) => format!("error[{code}]: {}", self.message),
            None => format!("error: {}", self.message),
        };
        if let Some(help) = &self.help {
            text.push_str(&format!("\n  help: {help}"));
        }
        text
    }
}

impl<E: miette::Diagnostic> From<E> for UsageError {
    fn from(e: E) -> Self {
        UsageError {
            message: e.to_string(),
            code: e.code().map(|c| c.to_string()),
            help: e.help().map(|h| h.to_string()),
        }
    }
}

/// What every analysing command (`scan`, `prove`) resolves first: the
/// configuration, the trusted accounts and `--as-of`, before any input is
/// read.
pub struct AnalysisSettings {
    pub config: Config,
    pub trusted_accounts: BTreeSet<AccountId>,
    pub as_of: Option<OffsetDateTime>,
}

impl AnalysisSettings {
    pub fn resolve(analysis: &AnalysisArgs) -> Result<AnalysisSettings, UsageError> {
        let config = Config::discover(analysis.config.as_deref())?;
        let trusted_accounts = trusted_accounts(&config, analysis)?;
        let as_of = analysis.as_of.as_deref().map(parse_as_of).transpose()?;
        Ok(AnalysisSettings {
            config,
            trusted_accounts,
            as_of,
        })
    }

    /// The options that change facts: `--as-of` (else the inventory's
    /// collection time, else now), the config's thresholds, trusted
    /// accounts.
    pub fn model_options(&self, inventory: &Inventory) -> ModelOptions {
        ModelOptions {
            as_of: self
                .as_of
                .or(inventory.collected_at)
                .unwrap_or_else(OffsetDateTime::now_utc),
            stale_days: self.config.thresholds.stale_days,
            unpulled_days: self.config.thresholds.unpulled_days,
            trusted_accounts: self.trusted_accounts.clone(),
        }
    }
}

/// The rules a command runs: built-in and custom (flag, else config), their
/// ids checked against the config's `[rules.ID]` tables, and the selection
/// the config makes.
pub struct RuleSettings {
    pub rules: Vec<Rule>,
    pub selection: RuleSelection,
}

impl RuleSettings {
    pub fn resolve(flag_dir: Option<&Path>, config: &Config) -> Result<RuleSettings, UsageError> {
        let dir = rules_dir(flag_dir, config)?;
        let rules = load_rules(dir.as_deref())?;
        config.check_rule_ids(&engine::rules::rule_ids(&rules))?;
        Ok(RuleSettings {
            rules,
            selection: rule_selection(config),
        })
    }
}

/// The custom rules directory: the flag's, else the config's — relative to
/// the config file's folder, and named with the config file and line when it
/// is missing.
pub fn rules_dir(
    flag: Option<&Path>,
    config: &Config,
) -> Result<Option<std::path::PathBuf>, UsageError> {
    if let Some(dir) = flag {
        return Ok(Some(dir.to_path_buf()));
    }
    let Some(dir) = &config.rules_dir else {
        return Ok(None);
    };
    let base = config
        .source
        .as_deref()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty());
    let resolved = match base {
        Some(b) if dir.is_relative() => b.join(dir),
        _ => dir.clone(),
    };
    if resolved.is_dir() {
        return Ok(Some(resolved));
    }
    let source = config
        .source
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "the configuration".to_string());
    let line = config
        .source
        .as_deref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| {
            text.lines()
                .position(|l| l.trim_start().starts_with("rules_dir"))
                .map(|i| format!(":{}", i + 1))
        })
        .unwrap_or_default();
    Err(UsageError::new(format!(
        "{source}{line}: rules_dir \"{}\" is not a directory ({}; a relative path is read from the config file's folder)",
        dir.display(),
        resolved.display()
    )))
}

pub fn load_rules(dir: Option<&Path>) -> Result<Vec<Rule>, UsageError> {
    engine::load_rules(dir).map_err(|errors| {
        // Every broken rule file at once, one `error[...]` line each; the
        // help once, after the last.
        let mut usage = errors
            .first()
            .map(|e| UsageError::from(e.clone()))
            .unwrap_or_else(|| UsageError::new("the rules could not be loaded"));
        let code = usage
            .code
            .as_deref()
            .unwrap_or("ecr_audit::rules")
            .to_string();
        for e in errors.iter().skip(1) {
            usage.message.push_str(&format!("\nerror[{code}]: {e}"));
        }
        usage
    })
}

pub fn parse_as_of(text: &str) -> Result<OffsetDateTime, UsageError> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    if let Ok(date) = config::parse_date(text) {
        return Ok(date.midnight().assume_utc());
    }
    // A time of day without an offset is ambiguous: say which forms work.
    let time_part = text.split_once(['T', 't']).map(|(_, t)| t);
    if time_part.is_some_and(|t| !t.contains(['Z', 'z', '+', '-'])) {
        return Err(UsageError::new(format!(
            "--as-of: \"{text}\" has no time zone offset; write it as {text}Z (UTC) or with an offset such as +02:00, or give a date (YYYY-MM-DD)"
        )));
    }
    Err(UsageError::new(format!(
        "--as-of: \"{text}\" is neither a date (YYYY-MM-DD) nor an RFC 3339 time (such as 2026-11-20T06:00:00Z)"
    )))
}

/// An organization id as AWS writes it: `o-` and 10 to 32 lower-case
/// letters or digits.
pub fn check_org_id(id: &str) -> Result<(), UsageError> {
    let rest = id.strip_prefix("o-").unwrap_or("");
    if (10..=32).contains(&rest.len())
        && rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "--org-id: \"{id}\" is not an organization id (o- followed by 10 to 32 lower-case letters or digits)"
        )))
    }
}

/// Flags that only make sense for a live scan, when the input is the demo
/// or saved inventories: an error rather than silently ignored.
pub fn check_no_live_flags(target: &TargetArgs, input: &str) -> Result<(), UsageError> {
    let mut given = Vec::new();
    if target.profile.is_some() {
        given.push("--profile");
    }
    if !target.regions.is_empty() {
        given.push("--region");
    }
    if target.all_regions {
        given.push("--all-regions");
    }
    if !target.accounts.is_empty() {
        given.push("--accounts");
    }
    if target.org {
        given.push("--org");
    }
    if target.role_name.is_some() {
        given.push("--role-name");
    }
    if target.external_id.is_some() {
        given.push("--external-id");
    }
    if target.timeout.is_some() {
        given.push("--timeout");
    }
    if given.is_empty() {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "{} {} only to a live scan, not to {input}",
            given.join(", "),
            if given.len() == 1 { "applies" } else { "apply" }
        )))
    }
}

pub fn collect_options(target: &TargetArgs, config: &Config) -> Result<CollectOptions, UsageError> {
    let accounts = if target.accounts.is_empty() {
        config.scan.accounts.clone()
    } else {
        target.accounts.clone()
    };
    Ok(CollectOptions {
        profile: target.profile.clone(),
        regions: if target.regions.is_empty() {
            config.scan.regions.clone()
        } else {
            target.regions.clone()
        },
        all_regions: target.all_regions || config.scan.all_regions,
        accounts,
        org: target.org || config.scan.org,
        role_name: target
            .role_name
            .clone()
            .or_else(|| config.scan.role_name.clone())
            .unwrap_or_else(|| DEFAULT_ROLE_NAME.to_string()),
        external_id: target
            .external_id
            .clone()
            .or_else(|| config.scan.external_id.clone()),
        max_concurrency: usize::from(target.max_concurrency),
        request_timeout: std::time::Duration::from_secs(target.request_timeout),
        deadline: target.timeout.map(std::time::Duration::from_secs),
        progress: !target.quiet && std::io::stderr().is_terminal(),
        shard: target.shard,
    })
}

/// Which rules run, and at what severity, per the config's [rules.ID].
fn rule_selection(config: &Config) -> RuleSelection {
    let mut selection = RuleSelection::default();
    for (id, rule) in &config.rules {
        match rule.enabled {
            Some(false) => {
                selection.disabled.insert(id.clone());
            }
            Some(true) => {
                selection.enabled.insert(id.clone());
            }
            None => {}
        }
        if let Some(sev) = rule.severity {
            selection.severity.insert(id.clone(), sev);
        }
    }
    selection
}

/// Solver settings from the command line; fails early when cvc5 is missing.
pub fn prove_settings(args: &ProofArgs) -> Result<ProveSettings, UsageError> {
    if !(args.proof_timeout > 0.0 && args.proof_timeout.is_finite()) {
        return Err(UsageError::new(format!(
            "--proof-timeout must be a positive number of seconds, not {}",
            args.proof_timeout
        )));
    }
    prove::solver_available()?;
    let workers = args.proof_jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if workers == 0 {
        return Err(UsageError::new("--proof-jobs must be at least 1"));
    }
    Ok(ProveSettings {
        prover: ProverOptions {
            timeout: std::time::Duration::from_secs_f64(args.proof_timeout),
            cache: !args.no_proof_cache,
        },
        workers,
    })
}

/// Accounts trusted by the config file and by `--trusted-account`.
fn trusted_accounts(
    config: &Config,
    analysis: &AnalysisArgs,
) -> Result<BTreeSet<AccountId>, UsageError> {
    let mut trusted: BTreeSet<AccountId> = config.scan.trusted_accounts.iter().cloned().collect();
    trusted.extend(analysis.trusted_accounts.iter().cloned());
    Ok(trusted)
}
