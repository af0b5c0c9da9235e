//! The commands: each resolves its settings, runs, writes its output and
//! says which exit status it earns.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use time::OffsetDateTime;

use super::settings::{
    check_no_live_flags, check_org_id, collect_options, parse_as_of, prove_settings,
    AnalysisSettings, RuleSettings, UsageError,
};
use super::{
    CheckPolicyArgs, Cli, CollectArgs, ColorChoice, Command, ExplainPolicyArgs, Format, InputArgs,
    OutputArgs, ProveArgs, ProveFormat, ReportArgs, RulesArgs, RulesFormat, ScanArgs, TargetArgs,
};
use crate::check;
use crate::collect;
use crate::config::{self, Config};
use crate::engine::{AuditContext, Engine};
use crate::finding::Finding;
use crate::inventory::Inventory;
use crate::policy::{self, PolicyKind};
use crate::report::{self, Report};
use crate::scan::{self, Exit, ScanOptions, ScanResult, Timing};

/// The embedded demo organization.
const DEMO_INVENTORY: &str = include_str!("../../fixtures/demo-org.json");

/// Width of the table when not writing to a terminal.
const TABLE_WIDTH: u16 = 150;

/// Runs one command line to its exit status.
pub fn run(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Collect(args) => run_collect(args),
        Command::Rules(args) => run_rules(args),
        Command::CheckPolicy(args) => run_check_policy(args),
        Command::ExplainPolicy(args) => run_explain_policy(args),
        Command::Prove(args) => run_prove(args),
        Command::Report(args) => run_report(args),
    };
    match outcome {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(error) => {
            eprintln!("{}", error.render());
            ExitCode::from(Exit::Usage.code())
        }
    }
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
    input: &InputArgs,
    target: &TargetArgs,
    config: &Config,
) -> Result<(Inventory, Vec<String>), UsageError> {
    let (mut inventory, sources) = load_whole_input(input, target, config)?;
    if let Some(shard) = target.shard {
        inventory.select_shard(shard);
    }
    Ok((inventory, sources))
}

fn load_whole_input(
    input: &InputArgs,
    target: &TargetArgs,
    config: &Config,
) -> Result<(Inventory, Vec<String>), UsageError> {
    let inventories = &input.inventories;
    if input.demo {
        if !inventories.is_empty() {
            return Err(UsageError::new(
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
            parts.push((
                path.display().to_string(),
                Inventory::load_for_analysis(path)?,
            ));
        }
        let sources = parts.iter().map(|(s, _)| s.clone()).collect();
        Ok((Inventory::merge(parts)?, sources))
    } else {
        Ok((live_inventory(target, config)?, vec!["live".to_string()]))
    }
}

fn run_scan(args: ScanArgs) -> Result<Exit, UsageError> {
    let analysis = AnalysisSettings::resolve(&args.analysis)?;
    let rules = RuleSettings::resolve(args.analysis.rules_dir.as_deref(), &analysis.config)?;
    let prove = if args.prove {
        Some(prove_settings(&args.proof)?)
    } else {
        None
    };
    let config = &analysis.config;

    let started = std::time::Instant::now();
    let (inventory, sources) = load_input(&args.input, &args.target, config)?;
    let input_time = Timing::since(INPUT_PHASE, started);

    let model = analysis.model_options(&inventory);
    let as_of = model.as_of;
    let options = ScanOptions {
        model,
        selection: rules.selection,
        min_severity: args.output.min_severity.severity(),
        ignores: config.ignore.clone(),
        prove,
    };
    let result = scan::run(inventory, rules.rules, &options);
    let started = std::time::Instant::now();
    let mut result = result;
    let code = emit(&mut result, &sources, as_of, &args.output, false)?;
    if args.analysis.timings {
        print_timings(input_time, &result, Timing::since(REPORT_PHASE, started));
    }
    // The process ends next: freeing a large organization's findings one by
    // one would only delay the exit by seconds.
    std::mem::forget(result);
    Ok(code)
}

fn run_report(args: ReportArgs) -> Result<Exit, UsageError> {
    let config = Config::discover(args.config.as_deref())?;
    let rules = RuleSettings::resolve(args.rules_dir.as_deref(), &config)?;
    let mut parts = Vec::new();
    for path in &args.reports {
        parts.push((path.display().to_string(), report::saved::read(path)?));
    }
    let merged = report::saved::merge(parts)?;
    let min_severity = args.output.min_severity.severity();
    let read = merged.findings.len();
    let findings: Vec<Finding> = merged
        .findings
        .into_iter()
        .filter(|f| f.severity >= min_severity)
        .collect();
    // The rule catalogue as a scan has it (selection and severities from
    // the config), for SARIF.
    let engine = Engine::new(
        rules.rules,
        &rules.selection,
        AuditContext {
            stale_days: config::DEFAULT_STALE_DAYS,
            unpulled_days: config::DEFAULT_UNPULLED_DAYS,
        },
    );
    let mut result = ScanResult {
        below_min_severity: merged.below_min_severity + (read - findings.len()),
        findings,
        suppressed: merged.suppressed,
        warnings: merged.warnings,
        errors: merged.errors,
        scanned: merged.scanned,
        rules: engine.rules().cloned().collect(),
        request_counts: merged.request_counts,
        collected_at: merged.collected_at,
        proofs: None,
        timings: Vec::new(),
    };
    let as_of = merged.as_of.unwrap_or_else(OffsetDateTime::now_utc);
    emit(&mut result, &merged.sources, as_of, &args.output, false)
}

const INPUT_PHASE: &str = "input (read, parse, or collect)";
const REPORT_PHASE: &str = "report (render and write)";

/// `--timings`: each phase of a scan, to stderr, with the CPU time it
/// took (all threads) and the resident memory at its end.
fn print_timings(input: Timing, result: &ScanResult, report: Timing) {
    let mut phases = vec![input];
    phases.extend(result.timings.iter().copied());
    phases.push(report);
    let total: Duration = phases.iter().map(|t| t.took).sum();
    eprintln!("timings:");
    // The first phase began with the process: its CPU time is all so far.
    let mut cpu_before = Some(Duration::ZERO);
    for t in &phases {
        let cpu = match (cpu_before, t.cpu_at_end) {
            (Some(before), Some(end)) => {
                format!("  {:>8.2} s CPU", end.saturating_sub(before).as_secs_f64())
            }
            _ => String::new(),
        };
        cpu_before = t.cpu_at_end;
        let resident = t
            .resident_bytes
            .map(|b| format!("  {:>6} MiB resident", b / (1024 * 1024)))
            .unwrap_or_default();
        eprintln!(
            "  {:<40} {:>9.3} s{cpu}{resident}",
            t.phase,
            t.took.as_secs_f64()
        );
    }
    let cpu = phases
        .last()
        .and_then(|t| t.cpu_at_end)
        .map(|c| format!("  {:>8.2} s CPU", c.as_secs_f64()))
        .unwrap_or_default();
    eprintln!("  {:<40} {:>9.3} s{cpu}", "total", total.as_secs_f64());
}

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

/// Writes the report of a finished scan and says which exit status it earns.
fn emit(
    result: &mut ScanResult,
    sources: &[String],
    as_of: OffsetDateTime,
    output: &OutputArgs,
    checked_document: bool,
) -> Result<Exit, UsageError> {
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    let baseline = match &output.baseline {
        Some(path) => {
            let previous = report::saved::read(path)?;
            Some(report::baseline::compare(
                &mut result.findings,
                path.display().to_string(),
                previous,
            ))
        }
        None => None,
    };
    let exit = match output.fail_on_new {
        // Gate on what this scan adds: known findings do not fail the job.
        Some(threshold) => {
            if report::baseline::has_new_at_or_above(&result.findings, threshold.severity()) {
                Exit::Findings
            } else {
                result.exit(None)
            }
        }
        None => result.exit(output.fail_on.threshold()),
    };
    let result = &*result;
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
        baseline: baseline.as_ref(),
    };
    let to_terminal = output.output.is_none() && std::io::stdout().is_terminal();
    let text = match output.format {
        Format::Json => {
            // Streamed: a large organization's report is hundreds of MB.
            write_output_with(output.output.as_deref(), &mut |w| {
                report::json::write(&report, w)
            })?;
            return Ok(exit);
        }
        Format::Markdown => report::markdown::render(&report),
        Format::Sarif => {
            let category = output
                .sarif_category
                .as_deref()
                .unwrap_or(report::sarif::DEFAULT_CATEGORY);
            let (text, warnings) = report::sarif::render(&report, category);
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
    Ok(exit)
}

fn run_check_policy(args: CheckPolicyArgs) -> Result<Exit, UsageError> {
    let begun = std::time::Instant::now();
    let bytes = std::fs::read(&args.file)
        .map_err(|e| UsageError::new(format!("{}: cannot read: {e}", args.file.display())))?;
    // A file that is not a JSON document is an input error, never a pass.
    let (text, input_warnings) = check::read_policy_text(&bytes)
        .map_err(|e| UsageError::new(e.describe(&args.file.display().to_string())))?;
    for w in &input_warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    let config = Config::discover(args.analysis.config.as_deref())?;
    let rules = RuleSettings::resolve(args.analysis.rules_dir.as_deref(), &config)?;
    let account = args.account.clone().unwrap_or_else(check::default_account);
    if let Some(id) = &args.org_id {
        check_org_id(id)?;
    }
    let mut trusted = args.analysis.trusted_accounts.clone();
    trusted.extend(config.scan.trusted_accounts.iter().cloned());
    let as_of = match args.analysis.as_of.as_deref() {
        Some(text) => parse_as_of(text)?,
        None => OffsetDateTime::now_utc(),
    };
    let input = check::CheckInput {
        text,
        kind: args.kind,
        account: account.clone(),
        org_id: args.org_id.clone(),
        org_accounts: args.org_accounts.clone(),
        trusted_accounts: trusted,
        as_of,
        registry_scope: args.registry_scope.into(),
    };
    let verdict = check::verdict(&input);
    let decided = match input.kind {
        check::Kind::Repository | check::Kind::Registry if !verdict.verdict.decided() => {
            format!(
                "not fully decided (at most: read {}, write {})",
                verdict.read, verdict.write
            )
        }
        check::Kind::Repository | check::Kind::Registry => format!(
            "verdict {} (read {}, write {})",
            verdict.verdict, verdict.read, verdict.write
        ),
        check::Kind::Trust if !verdict.verdict.decided() => {
            "who can assume the role: not fully decided".to_string()
        }
        check::Kind::Trust => format!("who can assume the role: {}", verdict.verdict),
        check::Kind::Identity => {
            let grants = check::identity_grants(&input);
            if !verdict.verdict.decided() {
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
    let prove = if args.prove {
        Some(prove_settings(&args.proof)?)
    } else {
        None
    };
    let input_time = Timing::since(INPUT_PHASE, begun);
    let mut result = check::check(&input, rules.rules, rules.selection, prove);
    let started = std::time::Instant::now();
    // Only what the policy decides: the synthetic resources carry no images
    // and compliant settings, so configuration rules stay silent anyway.
    let judges_policies: std::collections::HashSet<String> = result
        .rules
        .iter()
        .filter(|r| r.judges_policies())
        .map(|r| r.id.clone())
        .collect();
    result
        .findings
        .retain(|f| judges_policies.contains(&*f.rule_id));
    let code = emit(
        &mut result,
        &[args.file.display().to_string()],
        as_of,
        &args.output,
        true,
    )?;
    if args.analysis.timings {
        print_timings(input_time, &result, Timing::since(REPORT_PHASE, started));
    }
    // In CI, a document nobody could fully analyse, or one checked as the
    // wrong kind, must not pass unnoticed.
    let undecided = !verdict.verdict.decided();
    if code == Exit::Clean && !args.allow_undecided && (undecided || mismatch.is_some()) {
        eprintln!(
            "error: {}: {}; the check fails (pass --allow-undecided to accept it)",
            args.file.display(),
            if undecided {
                "the document could not be fully analysed (ECR001)"
            } else {
                "the document grants nothing of its kind"
            }
        );
        return Ok(Exit::Findings);
    }
    Ok(code)
}

fn run_explain_policy(args: ExplainPolicyArgs) -> Result<Exit, UsageError> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| UsageError::new(format!("{}: cannot read: {e}", args.file.display())))?;
    let kind = match args.kind {
        check::Kind::Identity => PolicyKind::Identity,
        check::Kind::Trust => PolicyKind::Trust,
        _ => PolicyKind::Resource,
    };
    let doc = policy::parse(&text, kind)
        .map_err(|e| UsageError::new(format!("{}: {e}", args.file.display())))?;
    let explained = crate::cedar::explain(&doc);
    write_output(None, &explained)?;
    Ok(Exit::Clean)
}

fn write_output(path: Option<&Path>, text: &str) -> Result<(), UsageError> {
    write_output_with(path, &mut |w| w.write_all(text.as_bytes()))
}

/// Writes through a buffer to the file, or to standard output.
fn write_output_with(
    path: Option<&Path>,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), UsageError> {
    match path {
        Some(p) => {
            let written = std::fs::File::create(p).and_then(|file| {
                let mut out = std::io::BufWriter::new(file);
                write(&mut out)?;
                out.flush()
            });
            written.map_err(|e| UsageError::new(format!("cannot write {}: {e}", p.display())))
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            // A closed pipe (`| head`) is not an error worth a stack of text.
            let _ = write(&mut out).and_then(|_| out.flush());
            Ok(())
        }
    }
}

fn run_collect(args: CollectArgs) -> Result<Exit, UsageError> {
    let config = Config::discover(args.config.as_deref())?;
    let inventory = live_inventory(&args.target, &config)?;
    let mut text = inventory.to_json_pretty();
    text.push('\n');
    std::fs::write(&args.output, text)
        .map_err(|e| UsageError::new(format!("cannot write {}: {e}", args.output.display())))?;
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
        Exit::Clean
    } else {
        Exit::Incomplete
    })
}

fn run_rules(args: RulesArgs) -> Result<Exit, UsageError> {
    let config = Config::discover(args.config.as_deref())?;
    let settings = RuleSettings::resolve(args.rules_dir.as_deref(), &config)?;
    let rules = match &args.id {
        Some(id) => {
            let wanted = id.to_ascii_uppercase();
            let one: Vec<_> = settings
                .rules
                .into_iter()
                .filter(|r| r.id == wanted)
                .collect();
            if one.is_empty() {
                return Err(UsageError::new(format!(
                    "no rule {id}: `ecr-audit rules` lists them"
                )));
            }
            one
        }
        None => settings.rules,
    };
    let listings = report::rules::listings(&rules, &settings.selection);
    let text = match (&args.id, args.format) {
        (Some(_), RulesFormat::Table) => text_wrapped(&report::rules::render_detail(&listings)),
        (None, RulesFormat::Table) => report::rules::render_table(&listings),
        (_, RulesFormat::Json) => report::rules::render_json(&listings),
    };
    write_output(None, &text)?;
    Ok(Exit::Clean)
}

fn run_prove(args: ProveArgs) -> Result<Exit, UsageError> {
    let analysis = AnalysisSettings::resolve(&args.analysis)?;
    let settings = prove_settings(&args.proof)?;
    let (inventory, sources) = load_input(&args.input, &args.target, &analysis.config)?;
    let options = analysis.model_options(&inventory);
    // The model says which roles can write to ECR: their trust policies are
    // the subjects of the role property.
    let model = crate::model::build(&inventory, &options);
    let run = scan::proofs::prove_model(
        &inventory,
        &model,
        &options.trusted_accounts,
        &settings.prover,
        settings.workers,
    )?;
    let text = match args.format {
        ProveFormat::Json => report::proofs::render_json(&run, &sources),
        ProveFormat::Table => {
            let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
            let width = (!to_terminal).then_some(TABLE_WIDTH);
            report::proofs::render_table(&run, args.all, width)
        }
    };
    write_output(args.output.as_deref(), &text)?;
    let tally = run.tally();
    Ok(if tally.refuted > 0 {
        Exit::Findings
    } else if tally.unknown > 0 || !inventory.errors.is_empty() {
        Exit::Incomplete
    } else {
        Exit::Clean
    })
}
