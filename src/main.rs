//! CLI entry: parse, run, map the outcome to an exit code.

use std::collections::{BTreeSet, HashSet};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use time::OffsetDateTime;

use ecr_audit::check;
use ecr_audit::cli::{
    AnalysisArgs, CheckPolicyArgs, Cli, ColorChoice, Command, ExplainPolicyArgs, Format,
    OutputArgs, ProofArgs, ProveArgs, ProveFormat, RulesFormat, ScanArgs, TargetArgs,
};
use ecr_audit::collect::{self, CollectOptions};
use ecr_audit::config::{self, Config};
use ecr_audit::engine::{self, Rule, RuleSelection};
use ecr_audit::inventory::Inventory;
use ecr_audit::model::ModelOptions;
use ecr_audit::policy::{self, PolicyKind};
use ecr_audit::prove::{self, ProverOptions, Verdict};
use ecr_audit::report::{self, Report};
use ecr_audit::scan::ScanResult;
use ecr_audit::scan::{self, ProveSettings, ScanOptions};

/// The embedded demo organization.
const DEMO_INVENTORY: &str = include_str!("../fixtures/demo-org.json");

/// Width of the table when not writing to a terminal.
const TABLE_WIDTH: u16 = 150;

const EXIT_CLEAN: u8 = 0;
const EXIT_FINDINGS: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_INCOMPLETE: u8 = 3;

/// A failure before anything was scanned: printed, exit 2.
struct UsageError(String);

impl<E: std::fmt::Display> From<E> for UsageError {
    fn from(e: E) -> Self {
        UsageError(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Collect(args) => run_collect(args),
        Command::Rules(args) => run_rules(args),
        Command::CheckPolicy(args) => run_check_policy(args),
        Command::ExplainPolicy(args) => run_explain_policy(args),
        Command::Prove(args) => run_prove(args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(UsageError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The custom rules directory: the flag's, else the config's — relative to
/// the config file's folder, and named with the config file and line when it
/// is missing.
fn rules_dir(
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
    Err(UsageError(format!(
        "{source}{line}: rules_dir \"{}\" is not a directory ({}; a relative path is read from the config file's folder)",
        dir.display(),
        resolved.display()
    )))
}

fn load_rules(dir: Option<&Path>) -> Result<Vec<Rule>, UsageError> {
    engine::load_rules(dir).map_err(|errors| {
        UsageError(
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\nerror: "),
        )
    })
}

fn parse_as_of(text: &str) -> Result<OffsetDateTime, UsageError> {
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
        return Err(UsageError(format!(
            "--as-of: \"{text}\" has no time zone offset; write it as {text}Z (UTC) or with an offset such as +02:00, or give a date (YYYY-MM-DD)"
        )));
    }
    Err(UsageError(format!(
        "--as-of: \"{text}\" is neither a date (YYYY-MM-DD) nor an RFC 3339 time (such as 2026-11-20T06:00:00Z)"
    )))
}

/// An organization id as AWS writes it: `o-` and 10 to 32 lower-case
/// letters or digits.
fn check_org_id(id: &str) -> Result<(), UsageError> {
    let rest = id.strip_prefix("o-").unwrap_or("");
    if (10..=32).contains(&rest.len())
        && rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(UsageError(format!(
            "--org-id: \"{id}\" is not an organization id (o- followed by 10 to 32 lower-case letters or digits)"
        )))
    }
}

/// Flags that only make sense for a live scan, when the input is the demo
/// or saved inventories: an error rather than silently ignored.
fn check_no_live_flags(target: &TargetArgs, input: &str) -> Result<(), UsageError> {
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
        Err(UsageError(format!(
            "{} {} only to a live scan, not to {input}",
            given.join(", "),
            if given.len() == 1 { "applies" } else { "apply" }
        )))
    }
}

fn collect_options(target: &TargetArgs, config: &Config) -> Result<CollectOptions, UsageError> {
    let accounts = if target.accounts.is_empty() {
        config.scan.accounts.clone()
    } else {
        target.accounts.clone()
    };
    for id in &accounts {
        config::check_account(id).map_err(|e| UsageError(format!("--accounts: {e}")))?;
    }
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
            .unwrap_or_else(|| "ecr-audit".to_string()),
        external_id: target
            .external_id
            .clone()
            .or_else(|| config.scan.external_id.clone()),
        max_concurrency: usize::from(target.max_concurrency),
        request_timeout: std::time::Duration::from_secs(target.request_timeout),
        deadline: target.timeout.map(std::time::Duration::from_secs),
        progress: !target.quiet && std::io::stderr().is_terminal(),
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

fn print_stats(inventory: &Inventory) {
    eprintln!("AWS requests by operation:");
    for (op, n) in &inventory.request_counts {
        eprintln!("  {op:<55} {n:>7}");
    }
    let total: u64 = inventory.request_counts.values().sum();
    eprintln!("  {:<55} {total:>7}", "total");
    eprintln!(
        "  {:<55} {:>7}",
        "retried attempts (throttling, server errors)", inventory.retries
    );
}

fn live_inventory(target: &TargetArgs, config: &Config) -> Result<Inventory, UsageError> {
    let options = collect_options(target, config)?;
    let inventory = collect::collect(&options)?;
    if target.stats {
        print_stats(&inventory);
    }
    Ok(inventory)
}

/// The inventory to work on: the demo, saved shards (merged), or collected live.
fn load_input(
    inventories: &[std::path::PathBuf],
    demo: bool,
    target: &TargetArgs,
    config: &Config,
) -> Result<(Inventory, Vec<String>), UsageError> {
    if demo {
        if !inventories.is_empty() {
            return Err(UsageError(
                "--demo and --inventory are two inputs: give one".to_string(),
            ));
        }
        check_no_live_flags(target, "--demo")?;
        let inv = Inventory::from_json(DEMO_INVENTORY, "embedded demo")?;
        Ok((inv, vec!["embedded demo".to_string()]))
    } else if !inventories.is_empty() {
        check_no_live_flags(target, "--inventory")?;
        let mut parts = Vec::new();
        for path in inventories {
            parts.push((path.display().to_string(), Inventory::load(path)?));
        }
        let sources = parts.iter().map(|(s, _)| s.clone()).collect();
        Ok((Inventory::merge(parts)?, sources))
    } else {
        Ok((live_inventory(target, config)?, vec!["live".to_string()]))
    }
}

/// Solver settings from the command line; fails early when cvc5 is missing.
fn prove_settings(args: &ProofArgs) -> Result<ProveSettings, UsageError> {
    if !(args.proof_timeout > 0.0 && args.proof_timeout.is_finite()) {
        return Err(UsageError(format!(
            "--proof-timeout must be a positive number of seconds, not {}",
            args.proof_timeout
        )));
    }
    prove::solver_available().map_err(UsageError)?;
    let workers = args.proof_jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if workers == 0 {
        return Err(UsageError("--proof-jobs must be at least 1".into()));
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
) -> Result<BTreeSet<String>, UsageError> {
    let mut trusted: BTreeSet<String> = config.scan.trusted_accounts.iter().cloned().collect();
    for id in &analysis.trusted_accounts {
        config::check_account(id).map_err(|e| UsageError(format!("--trusted-account: {e}")))?;
        trusted.insert(id.clone());
    }
    Ok(trusted)
}

/// `--as-of`, parsed before any input is read.
fn as_of_flag(analysis: &AnalysisArgs) -> Result<Option<OffsetDateTime>, UsageError> {
    analysis.as_of.as_deref().map(parse_as_of).transpose()
}

/// The options that change facts: `--as-of` (else the inventory's
/// collection time, else now), the config's thresholds, trusted accounts.
fn model_options(
    config: &Config,
    as_of_flag: Option<OffsetDateTime>,
    inventory: &Inventory,
    trusted_accounts: BTreeSet<String>,
) -> ModelOptions {
    ModelOptions {
        as_of: as_of_flag
            .or(inventory.collected_at)
            .unwrap_or_else(OffsetDateTime::now_utc),
        stale_days: config.thresholds.stale_days,
        unpulled_days: config.thresholds.unpulled_days,
        trusted_accounts,
    }
}

fn run_scan(args: ScanArgs) -> Result<u8, UsageError> {
    let config = Config::discover(args.analysis.config.as_deref())?;
    let rules_dir = rules_dir(args.analysis.rules_dir.as_deref(), &config)?;
    let rules = load_rules(rules_dir.as_deref())?;
    config.check_rule_ids(&engine::rules::rule_ids(&rules))?;
    let trusted = trusted_accounts(&config, &args.analysis)?;
    let as_of_flag = as_of_flag(&args.analysis)?;

    let started = std::time::Instant::now();
    let (inventory, sources) = load_input(&args.inventories, args.demo, &args.target, &config)?;
    let input_time = started.elapsed();

    let model = model_options(&config, as_of_flag, &inventory, trusted);
    let as_of = model.as_of;
    let selection = rule_selection(&config);
    let options = ScanOptions {
        model,
        selection,
        min_severity: args.output.min_severity.severity(),
        ignores: config.ignore.clone(),
        prove: if args.prove {
            Some(prove_settings(&args.proof)?)
        } else {
            None
        },
    };
    let result = scan::run(&inventory, rules, &options);
    let started = std::time::Instant::now();
    let code = emit(&result, &sources, as_of, &args.output, false)?;
    if args.analysis.timings {
        let mut phases = vec![("input (read, parse, or collect)", input_time)];
        phases.extend(result.timings.iter().copied());
        phases.push(("report (render and write)", started.elapsed()));
        let total: std::time::Duration = phases.iter().map(|(_, d)| *d).sum();
        eprintln!("timings:");
        for (phase, d) in phases {
            eprintln!("  {phase:<40} {:>9.3} s", d.as_secs_f64());
        }
        eprintln!("  {:<40} {:>9.3} s", "total", total.as_secs_f64());
    }
    Ok(code)
}

/// Writes the report of a finished scan and says which exit code it earns.
/// Long paragraphs of rule text wrapped for a terminal.
fn text_wrapped(text: &str) -> String {
    let width = usize::from(table_width(std::io::stdout().is_terminal())).min(100);
    let mut out = String::new();
    for line in text.lines() {
        for piece in report::table::wrap(line, width) {
            out.push_str(&piece);
            out.push('\n');
        }
    }
    out
}

/// The width the table fits: `COLUMNS` when set, else the terminal's, else
/// (files and pipes) a fixed width so reports diff well.
fn table_width(to_terminal: bool) -> u16 {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| *c >= 20);
    columns
        .or_else(|| {
            to_terminal
                .then(|| crossterm::terminal::size().ok().map(|(w, _)| w))
                .flatten()
                .filter(|w| *w >= 20)
        })
        .unwrap_or(TABLE_WIDTH)
}

fn emit(
    result: &ScanResult,
    sources: &[String],
    as_of: OffsetDateTime,
    output: &OutputArgs,
    checked_document: bool,
) -> Result<u8, UsageError> {
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    let report = Report {
        findings: &result.findings,
        rules: &result.rules,
        errors: &result.errors,
        warnings: &result.warnings,
        scanned: &result.scanned,
        as_of,
        collected_at: result.collected_at,
        sources,
        request_counts: &result.request_counts,
        suppressed: result.suppressed,
        below_min_severity: result.below_min_severity,
        checked_document,
        proofs: result.proofs.as_ref(),
    };
    let to_terminal = output.output.is_none() && std::io::stdout().is_terminal();
    let text = match output.format {
        Format::Json => report::json::render(&report),
        Format::Sarif => {
            let (text, warnings) = report::sarif::render(&report);
            for w in warnings {
                eprintln!("warning: {w}");
            }
            text
        }
        Format::Table => {
            let color = match output.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            report::table::render(
                &report,
                &report::table::TableStyle {
                    color,
                    width: table_width(to_terminal),
                    all: output.all,
                },
            )
        }
    };
    write_output(output.output.as_deref(), &text)?;
    let failing = output
        .fail_on
        .threshold()
        .is_some_and(|t| result.findings.iter().any(|f| f.severity >= t));
    Ok(if failing {
        EXIT_FINDINGS
    } else if !result.errors.is_empty() {
        EXIT_INCOMPLETE
    } else {
        EXIT_CLEAN
    })
}

fn run_check_policy(args: CheckPolicyArgs) -> Result<u8, UsageError> {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| UsageError(format!("{}: cannot read: {e}", args.file.display())))?;
    // A file that is not a JSON document is an input error, never a pass.
    let (text, input_warnings) = check::read_policy_text(&bytes)
        .map_err(|e| UsageError(e.describe(&args.file.display().to_string())))?;
    for w in &input_warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    let config = Config::discover(args.config.as_deref())?;
    let rules = load_rules(rules_dir(args.rules_dir.as_deref(), &config)?.as_deref())?;
    let account = args
        .account
        .clone()
        .unwrap_or_else(|| check::DEFAULT_ACCOUNT.to_string());
    for id in std::iter::once(&account)
        .chain(&args.org_accounts)
        .chain(&args.trusted_accounts)
    {
        config::check_account(id).map_err(|e| UsageError(format!("account: {e}")))?;
    }
    if let Some(id) = &args.org_id {
        check_org_id(id)?;
    }
    let mut trusted = args.trusted_accounts.clone();
    trusted.extend(config.scan.trusted_accounts.iter().cloned());
    let as_of = match args.as_of.as_deref() {
        Some(text) => parse_as_of(text)?,
        None => OffsetDateTime::now_utc(),
    };
    let input = check::CheckInput {
        text,
        kind: args.kind.kind(),
        account: account.clone(),
        org_id: args.org_id.clone(),
        org_accounts: args.org_accounts.clone(),
        trusted_accounts: trusted,
        as_of,
    };
    let verdict = check::verdict(&input);
    let decided = match input.kind {
        check::Kind::Repository | check::Kind::Registry if verdict.verdict == "unanalyzable" => {
            format!(
                "not fully decided (at most: read {}, write {})",
                verdict.read, verdict.write
            )
        }
        check::Kind::Repository | check::Kind::Registry => format!(
            "verdict {} (read {}, write {})",
            verdict.verdict, verdict.read, verdict.write
        ),
        check::Kind::Trust if verdict.verdict == "unanalyzable" => {
            "who can assume the role: not fully decided".to_string()
        }
        check::Kind::Trust => format!("who can assume the role: {}", verdict.verdict),
        check::Kind::Identity => {
            let grants = check::identity_grants(&input);
            if verdict.verdict == "unanalyzable" {
                format!("grants (not fully decided, at least): {grants}")
            } else {
                format!("grants: {grants}")
            }
        }
    };
    eprintln!(
        "{}: analysed as {} {} policy in account {}{}{}; {decided}",
        args.file.display(),
        check::article(input.kind.as_str()),
        input.kind.as_str(),
        account,
        if args.account.is_none() {
            " (default: pass --account)"
        } else {
            ""
        },
        if input.kind == check::Kind::Trust {
            " of a role assumed to have ECR write access"
        } else {
            ""
        },
    );
    let mismatch = check::kind_mismatch(&input);
    if let Some(m) = &mismatch {
        eprintln!("warning: {}: {m}", args.file.display());
    }
    config.check_rule_ids(&engine::rules::rule_ids(&rules))?;
    let selection = rule_selection(&config);
    let prove = if args.prove {
        Some(prove_settings(&args.proof)?)
    } else {
        None
    };
    let mut result = check::check(&input, rules, selection, prove);
    // Only what the policy decides: the synthetic resources carry no images
    // and compliant settings, so configuration rules stay silent anyway.
    result.findings.retain(|f| f.rule_id.as_str() < "ECR3");
    let code = emit(
        &result,
        &[args.file.display().to_string()],
        as_of,
        &args.output,
        true,
    )?;
    // In CI, a document nobody could fully analyse, or one checked as the
    // wrong kind, must not pass unnoticed.
    let undecided = verdict.verdict == "unanalyzable";
    if code == EXIT_CLEAN && !args.allow_undecided && (undecided || mismatch.is_some()) {
        eprintln!(
            "error: {}: {}; the check fails (pass --allow-undecided to accept it)",
            args.file.display(),
            if undecided {
                "the document could not be fully analysed (ECR001)"
            } else {
                "the document grants nothing of its kind"
            }
        );
        return Ok(EXIT_FINDINGS);
    }
    Ok(code)
}

fn run_explain_policy(args: ExplainPolicyArgs) -> Result<u8, UsageError> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| UsageError(format!("{}: cannot read: {e}", args.file.display())))?;
    let kind = match args.kind.kind() {
        check::Kind::Identity => PolicyKind::Identity,
        check::Kind::Trust => PolicyKind::Trust,
        _ => PolicyKind::Resource,
    };
    let doc = policy::parse(&text, kind)
        .map_err(|e| UsageError(format!("{}: {e}", args.file.display())))?;
    let explained = ecr_audit::cedar::explain(&doc);
    write_output(None, &explained)?;
    Ok(EXIT_CLEAN)
}

fn write_output(path: Option<&Path>, text: &str) -> Result<(), UsageError> {
    match path {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", p.display()))),
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a stack of text.
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
            Ok(())
        }
    }
}

fn run_collect(args: ecr_audit::cli::CollectArgs) -> Result<u8, UsageError> {
    let config = Config::discover(args.config.as_deref())?;
    let inventory = live_inventory(&args.target, &config)?;
    let mut text = inventory.to_json_pretty();
    text.push('\n');
    std::fs::write(&args.output, text)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", args.output.display())))?;
    if !args.target.quiet {
        eprintln!(
            "wrote {}: {} accounts, {} repositories, {} images, {} collection errors",
            args.output.display(),
            inventory.accounts.len(),
            inventory.repository_count(),
            inventory.image_count(),
            inventory.errors.len()
        );
    }
    Ok(if inventory.errors.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_INCOMPLETE
    })
}

fn run_rules(args: ecr_audit::cli::RulesArgs) -> Result<u8, UsageError> {
    let config = Config::discover(args.config.as_deref())?;
    let dir = rules_dir(args.rules_dir.as_deref(), &config)?;
    let rules = load_rules(dir.as_deref())?;
    config.check_rule_ids(&engine::rules::rule_ids(&rules))?;
    let disabled: HashSet<&str> = config
        .rules
        .iter()
        .filter(|(_, r)| r.enabled == Some(false))
        .map(|(id, _)| id.as_str())
        .collect();
    let rules: Vec<Rule> = match &args.id {
        Some(id) => {
            let wanted = id.to_ascii_uppercase();
            let one: Vec<Rule> = rules.into_iter().filter(|r| r.id == wanted).collect();
            if one.is_empty() {
                return Err(UsageError(format!(
                    "no rule {id}: `ecr-audit rules` lists them"
                )));
            }
            one
        }
        None => rules,
    };
    if let (Some(_), RulesFormat::Table) = (&args.id, args.format) {
        let mut t = String::new();
        for r in &rules {
            let on = if r.enabled_by_default {
                !disabled.contains(r.id.as_str())
            } else {
                config.rules.get(&r.id).and_then(|c| c.enabled) == Some(true)
            };
            let severity = config
                .rules
                .get(&r.id)
                .and_then(|c| c.severity)
                .unwrap_or(r.severity);
            let kinds: Vec<String> = r
                .resource_kinds()
                .iter()
                .map(|k| format!("{k:?}").to_ascii_lowercase())
                .collect();
            t.push_str(&format!(
                "{} {} ({}, {})\n{}\n\n{}\n\nHow to fix it: {}\n\nApplies to: {}",
                r.id,
                r.name,
                severity.as_str(),
                if on {
                    "on"
                } else {
                    "off by default or in the config"
                },
                r.title,
                r.description,
                r.remediation,
                kinds.join(", "),
            ));
            if let Some(c) = &r.compliance {
                t.push_str(&format!("\nCompliance: {c}"));
            }
            if let Some(u) = &r.help_uri {
                t.push_str(&format!("\nMore: {u}"));
            }
            t.push_str(&format!("\nDefined in: {}\n", r.source));
        }
        write_output(None, &text_wrapped(&t))?;
        return Ok(EXIT_CLEAN);
    }
    let text = match args.format {
        RulesFormat::Json => {
            let list: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "name": r.name,
                        "severity": config.rules.get(&r.id).and_then(|c| c.severity).unwrap_or(r.severity),
                        "resources": r.resource_kinds(),
                        "title": r.title,
                        "description": r.description,
                        "remediation": r.remediation,
                        "compliance": r.compliance,
                        "help_uri": r.help_uri,
                        "enabled": if r.enabled_by_default { !disabled.contains(r.id.as_str()) } else { config.rules.get(&r.id).and_then(|c| c.enabled) == Some(true) },
                        "source": r.source,
                    })
                })
                .collect();
            let mut t = serde_json::to_string_pretty(&list).expect("serializes");
            t.push('\n');
            t
        }
        RulesFormat::Table => {
            let mut t = String::new();
            t.push_str(&format!(
                "{:<7} {:<9} {:<4} {:<42} {}\n",
                "ID", "SEVERITY", "ON", "NAME", "TITLE"
            ));
            for r in &rules {
                let on = if r.enabled_by_default {
                    !disabled.contains(r.id.as_str())
                } else {
                    config.rules.get(&r.id).and_then(|c| c.enabled) == Some(true)
                };
                t.push_str(&format!(
                    "{:<7} {:<9} {:<4} {:<42} {}{}\n",
                    r.id,
                    config
                        .rules
                        .get(&r.id)
                        .and_then(|c| c.severity)
                        .unwrap_or(r.severity)
                        .as_str(),
                    if on { "yes" } else { "off" },
                    r.name,
                    r.title,
                    r.compliance
                        .as_ref()
                        .map(|c| format!(" [{c}]"))
                        .unwrap_or_default()
                ));
            }
            t
        }
    };
    write_output(None, &text)?;
    Ok(EXIT_CLEAN)
}

fn run_prove(args: ProveArgs) -> Result<u8, UsageError> {
    let config = Config::discover(args.analysis.config.as_deref())?;
    let trusted = trusted_accounts(&config, &args.analysis)?;
    let as_of_flag = as_of_flag(&args.analysis)?;
    let settings = prove_settings(&args.proof)?;
    let (inventory, sources) = load_input(&args.inventories, args.demo, &args.target, &config)?;
    let options = model_options(&config, as_of_flag, &inventory, trusted);
    // The model says which roles can write to ECR: their trust policies are
    // the subjects of the role property.
    let model = ecr_audit::model::build(&inventory, &options);
    let run = prove::run::prove_model(
        &inventory,
        &model,
        &options.trusted_accounts,
        &settings.prover,
        settings.workers,
    )
    .map_err(UsageError)?;
    let text = match args.format {
        ProveFormat::Json => {
            let value = serde_json::json!({
                "schema": "ecr-audit/proofs/v1",
                "tool": {"name": "ecr-audit", "version": env!("CARGO_PKG_VERSION")},
                "sources": sources,
                "subjects": run.subjects,
                "proved": run.count("proved"),
                "refuted": run.count("refuted"),
                "unknown": run.count("unknown"),
                "solver": run.stats,
                "workers": run.workers,
                "elapsed_ms": run.elapsed_ms,
                "results": run.proofs,
            });
            let mut t = serde_json::to_string_pretty(&value).expect("proofs serialize");
            t.push('\n');
            t
        }
        ProveFormat::Table => {
            let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
            let width = (!to_terminal).then_some(TABLE_WIDTH);
            report::proofs::render_table(&run, args.all, width)
        }
    };
    write_output(args.output.as_deref(), &text)?;
    let refuted = run
        .proofs
        .iter()
        .any(|p| matches!(p.verdict, Verdict::Refuted { .. }));
    let unknown = run
        .proofs
        .iter()
        .any(|p| matches!(p.verdict, Verdict::Unknown { .. }));
    Ok(if refuted {
        EXIT_FINDINGS
    } else if unknown || !inventory.errors.is_empty() {
        EXIT_INCOMPLETE
    } else {
        EXIT_CLEAN
    })
}
