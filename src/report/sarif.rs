//! SARIF 2.1.0 for GitHub code scanning, built from the typed `serde-sarif`
//! model (generated from the SARIF schema), so a misspelt property is a
//! compile error rather than a file GitHub quietly ignores.
//!
//! GitHub rejects a run with more than 25,000 results, or a file over 10 MB
//! gzipped; past either, the least severe findings are folded into one
//! result per rule, account and region (and a warning says so) rather than
//! emitting a file that would be refused.
//!
//! Properties are written in the model's order (alphabetical within each
//! object; property bags sorted by name): the same content as before the
//! move to the typed model, in a different key order.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif,
    Tool, ToolComponent,
};

use super::{rfc3339, Report};
use crate::finding::{fingerprint, Finding, Severity};

pub const MAX_RESULTS: usize = 25_000;
/// The code-scanning category when none is given.
pub const DEFAULT_CATEGORY: &str = "ecr-audit";
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A property bag of the given JSON object's members (a bag is an object
/// whose members are free-form, apart from `tags`).
fn property_bag(tags: Option<Vec<String>>, members: Value) -> PropertyBag {
    let additional_properties: BTreeMap<String, Value> = match members {
        Value::Object(map) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    PropertyBag {
        tags,
        additional_properties,
    }
}

fn text(text: String) -> Message {
    Message::builder().text(text).build()
}

pub fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

/// A result before rendering: one finding, or several folded together.
struct Entry<'a> {
    finding: &'a Finding,
    folded: usize,
}

/// Keeps at most `limit` entries by folding the least severe, largest
/// (rule, account, region) groups first. Returns the entries and warnings.
fn fit<'a>(findings: &'a [Finding], limit: usize) -> (Vec<Entry<'a>>, Vec<String>) {
    if findings.len() <= limit {
        return (
            findings
                .iter()
                .map(|f| Entry {
                    finding: f,
                    folded: 1,
                })
                .collect(),
            vec![],
        );
    }
    let mut groups: BTreeMap<(String, String, String), Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        groups
            .entry((
                f.rule_id.to_string(),
                f.account.to_string(),
                f.region.as_deref().unwrap_or_default().to_string(),
            ))
            .or_default()
            .push(f);
    }
    let mut order: Vec<_> = groups.keys().cloned().collect();
    order.sort_by(|a, b| {
        let (ga, gb) = (&groups[a], &groups[b]);
        ga[0]
            .severity
            .cmp(&gb[0].severity)
            .then(gb.len().cmp(&ga.len()))
    });
    let mut total = findings.len();
    let mut folded = std::collections::BTreeSet::new();
    for key in order {
        if total <= limit {
            break;
        }
        let n = groups[&key].len();
        if n > 1 {
            total -= n - 1;
            folded.insert(key);
        }
    }
    let mut entries = Vec::new();
    for (key, members) in &groups {
        if folded.contains(key) {
            entries.push(Entry {
                finding: members[0],
                folded: members.len(),
            });
        } else {
            entries.extend(members.iter().map(|f| Entry {
                finding: f,
                folded: 1,
            }));
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.finding.severity));
    let mut warnings = vec![format!(
        "SARIF: {} findings are more than the {limit} results this log can hold (GitHub's limits: 25,000 results per run, 10 MB gzipped per file); {} groups of less severe findings were folded into one result each",
        findings.len(),
        folded.len()
    )];
    if entries.len() > limit {
        warnings.push(format!(
            "SARIF: still {} results after folding; the {} least severe were dropped (the JSON report has them all)",
            entries.len(),
            entries.len() - limit
        ));
        entries.truncate(limit);
    }
    (entries, warnings)
}

/// Renders the SARIF log under a code-scanning category; the warnings say
/// what had to be folded.
pub fn render(report: &Report, category: &str) -> (String, Vec<String>) {
    fit_upload(report, category, MAX_RESULTS, MAX_GZIPPED_BYTES)
}

/// GitHub's limit on an uploaded SARIF file, gzipped (10 MB).
pub const MAX_GZIPPED_BYTES: usize = 10_000_000;

/// Renders under `limit` results, then folds further while the gzipped log
/// is over `max_gzipped` bytes: each retry scales the result limit by how
/// far over the size is, with a margin.
pub fn fit_upload(
    report: &Report,
    category: &str,
    limit: usize,
    max_gzipped: usize,
) -> (String, Vec<String>) {
    let (mut text, mut warnings) = render_with_limit(report, category, limit);
    let mut results = limit.min(report.findings.len());
    let mut size = gzipped_len(&text);
    while size > max_gzipped && results > 1 {
        let scaled = (results as f64 * max_gzipped as f64 / size as f64 * 0.9) as usize;
        results = scaled.clamp(1, results - 1);
        let first = size;
        (text, warnings) = render_with_limit(report, category, results);
        size = gzipped_len(&text);
        warnings.push(format!(
            "SARIF: the log was {:.1} MB gzipped, over GitHub's {:.0} MB limit; folded to at most {results} results ({:.1} MB gzipped)",
            first as f64 / 1e6,
            max_gzipped as f64 / 1e6,
            size as f64 / 1e6
        ));
    }
    (text, warnings)
}

/// The size of `text` gzipped at the default level (as an upload is).
fn gzipped_len(text: &str) -> usize {
    use std::io::Write;
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut encoder = flate2::write::GzEncoder::new(Count(0), flate2::Compression::default());
    // Writing to a counter cannot fail; were it to, the size is unknown and
    // taken as over any limit.
    match encoder
        .write_all(text.as_bytes())
        .and_then(|_| encoder.finish())
    {
        Ok(count) => count.0,
        Err(_) => usize::MAX,
    }
}

// PANIC SAFETY: the log has string keys only, so it serializes.
#[allow(clippy::expect_used)]
pub fn render_with_limit(report: &Report, category: &str, limit: usize) -> (String, Vec<String>) {
    let rule_index: BTreeMap<&str, usize> = report
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let rules: Vec<ReportingDescriptor> = report
        .rules
        .iter()
        .map(|r| {
            let mut tags = vec!["security".to_string(), "ecr".to_string()];
            if let Some(c) = &r.compliance {
                tags.push(c.clone());
            }
            let markdown = format!(
                "**{}** ({})\n\n{}\n\n**Remediation:** {}{}",
                r.title,
                r.severity,
                r.description,
                r.remediation,
                r.compliance
                    .as_ref()
                    .map(|c| format!("\n\n**Compliance:** {c}"))
                    .unwrap_or_default()
            );
            let mut descriptor = ReportingDescriptor::builder()
                .id(r.id.clone())
                .name(r.name.clone())
                .short_description(
                    MultiformatMessageString::builder()
                        .text(r.title.clone())
                        .build(),
                )
                .full_description(
                    MultiformatMessageString::builder()
                        .text(r.description.clone())
                        .build(),
                )
                .help(
                    MultiformatMessageString::builder()
                        .text(format!(
                            "{}\n\nRemediation: {}",
                            r.description, r.remediation
                        ))
                        .markdown(markdown)
                        .build(),
                )
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(json!(level(r.severity)))
                        .build(),
                )
                .properties(property_bag(
                    Some(tags),
                    json!({
                        "security-severity": r.severity.security_severity(),
                        "precision": "high",
                    }),
                ))
                .build();
            descriptor.help_uri = r.help_uri.clone();
            descriptor
        })
        .collect();
    let (entries, warnings) = fit(report.findings, limit);
    let results: Vec<SarifResult> = entries
        .iter()
        .filter_map(|entry| {
            let f = entry.finding;
            let index = *rule_index.get(&*f.rule_id)?;
            let (message, uri, fqn, fp) = if entry.folded == 1 {
                (
                    f.message.clone(),
                    f.location.to_string(),
                    f.resource_arn.to_string(),
                    f.fingerprint.clone(),
                )
            } else {
                let region = f.region.as_deref().unwrap_or("global");
                let scope = format!("{}/{}", f.account, region);
                (
                    format!(
                        "{} findings of rule {} ({}) in account {} region {} (folded to stay under GitHub's result limit; see the JSON report), e.g. {}",
                        entry.folded, f.rule_id, f.title, f.account, region, f.message
                    ),
                    format!("aws/ecr/{scope}/_registry"),
                    f.resource_arn.to_string(),
                    fingerprint(&f.rule_id, &scope, "folded"),
                )
            };
            let mut result = SarifResult::builder()
                    .rule_id(f.rule_id.to_string())
                    .rule_index(i64::try_from(index).unwrap_or(i64::MAX))
                    .level(level(f.severity))
                    .message(text(message))
                    .locations(vec![Location::builder()
                        .physical_location(
                            PhysicalLocation::builder()
                                .artifact_location(ArtifactLocation::builder().uri(uri).build())
                                .region(Region::builder().start_line(1).build())
                                .build(),
                        )
                        .logical_locations(vec![LogicalLocation::builder()
                            .fully_qualified_name(fqn)
                            .kind("resource")
                            .build()])
                        .build()])
                    .partial_fingerprints(BTreeMap::from([(
                        "primaryLocationLineHash".to_string(),
                        fp,
                    )]))
                    .properties(property_bag(
                        None,
                        json!({
                            "severity": f.severity.as_str(),
                            "account": f.account,
                            "region": f.region,
                            "resourceArn": f.resource_arn,
                            "folded": entry.folded,
                            "details": f.details,
                        }),
                    ))
                    .build();
            // A folded result stands for several findings: no one state.
            if entry.folded == 1 {
                result.baseline_state = f.baseline_state.map(|s| json!(s.as_str()));
            }
            Some(result)
        })
        .collect();
    let notifications: Vec<Notification> = report
        .errors
        .iter()
        .map(|e| notification("error", e.to_string()))
        .chain(
            report
                .warnings
                .iter()
                .chain(warnings.iter())
                .map(|w| notification("warning", w.clone())),
        )
        .collect();
    let driver = ToolComponent::builder()
        .name("ecr-audit")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(env!("CARGO_PKG_REPOSITORY"))
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .automation_details(
            RunAutomationDetails::builder()
                .id(format!("{category}/"))
                .build(),
        )
        .results(results)
        .invocations(vec![Invocation::builder()
            .execution_successful(report.errors.is_empty())
            .tool_execution_notifications(notifications)
            .build()])
        .properties(property_bag(
            None,
            json!({
                "asOf": rfc3339(report.as_of),
                "accounts": report.scanned.accounts,
                "regions": report.scanned.regions,
                "repositories": report.scanned.repositories,
                "images": report.scanned.images,
                "iamPrincipals": report.scanned.iam_principals,
                "suppressed": report.suppressed,
            }),
        ))
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut text = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    text.push('\n');
    (text, warnings)
}

fn notification(level: &str, message: String) -> Notification {
    Notification::builder()
        .level(json!(level))
        .message(text(message))
        .build()
}
