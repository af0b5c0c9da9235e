//! SARIF 2.1.0 for GitHub code scanning, written by hand with serde.
//!
//! GitHub rejects a run with more than 25,000 results; past that, the least
//! severe findings are folded into one result per rule, account and region
//! (and a warning says so) rather than emitting a file that would be refused.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::{rfc3339, Report};
use crate::finding::{fingerprint, Finding, Severity};

pub const MAX_RESULTS: usize = 25_000;
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    automation_details: AutomationDetails,
    results: Vec<SarifResult>,
    invocations: Vec<Invocation>,
    properties: Value,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: DefaultConfiguration,
    properties: Value,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct DefaultConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AutomationDetails {
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
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
                f.rule_id.clone(),
                f.account.clone(),
                f.region.clone().unwrap_or_default(),
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
        "SARIF: {} findings exceed GitHub's limit of {limit} results per run; {} groups of less severe findings were folded into one result each",
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

/// Renders the SARIF log; the warnings say what had to be folded.
pub fn render(report: &Report) -> (String, Vec<String>) {
    render_with_limit(report, MAX_RESULTS)
}

// PANIC SAFETY: the log has string keys only, so it serializes.
#[allow(clippy::expect_used)]
pub fn render_with_limit(report: &Report, limit: usize) -> (String, Vec<String>) {
    let rule_index: BTreeMap<&str, usize> = report
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let rules = report
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
            ReportingDescriptor {
                id: r.id.clone(),
                name: r.name.clone(),
                short_description: Text {
                    text: r.title.clone(),
                },
                full_description: Text {
                    text: r.description.clone(),
                },
                help: Help {
                    text: format!("{}\n\nRemediation: {}", r.description, r.remediation),
                    markdown,
                },
                help_uri: r.help_uri.clone(),
                default_configuration: DefaultConfiguration {
                    level: level(r.severity),
                },
                properties: json!({
                    "tags": tags,
                    "security-severity": r.severity.security_severity(),
                    "precision": "high",
                }),
            }
        })
        .collect();
    let (entries, warnings) = fit(report.findings, limit);
    let results = entries
        .iter()
        .filter_map(|entry| {
            let f = entry.finding;
            let index = *rule_index.get(f.rule_id.as_str())?;
            let (message, uri, fqn, fp) = if entry.folded == 1 {
                (f.message.clone(), f.location.clone(), f.resource_arn.clone(), f.fingerprint.clone())
            } else {
                let region = f.region.clone().unwrap_or_else(|| "global".to_string());
                let scope = format!("{}/{}", f.account, region);
                (
                    format!(
                        "{} findings of rule {} ({}) in account {} region {} (folded to stay under GitHub's result limit; see the JSON report), e.g. {}",
                        entry.folded, f.rule_id, f.title, f.account, region, f.message
                    ),
                    format!("aws/ecr/{scope}/_registry"),
                    f.resource_arn.clone(),
                    fingerprint(&f.rule_id, &scope, "folded"),
                )
            };
            Some(SarifResult {
                rule_id: f.rule_id.clone(),
                rule_index: index,
                level: level(f.severity),
                message: Text { text: message },
                locations: vec![Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation { uri },
                        region: Region { start_line: 1 },
                    },
                    logical_locations: vec![LogicalLocation {
                        fully_qualified_name: fqn,
                        kind: "resource",
                    }],
                }],
                partial_fingerprints: BTreeMap::from([("primaryLocationLineHash", fp)]),
                properties: json!({
                    "severity": f.severity.as_str(),
                    "account": f.account,
                    "region": f.region,
                    "resourceArn": f.resource_arn,
                    "folded": entry.folded,
                    "details": f.details,
                }),
            })
        })
        .collect();
    let notifications = report
        .errors
        .iter()
        .map(|e| Notification {
            level: "error",
            message: Text {
                text: e.to_string(),
            },
        })
        .chain(
            report
                .warnings
                .iter()
                .chain(warnings.iter())
                .map(|w| Notification {
                    level: "warning",
                    message: Text { text: w.clone() },
                }),
        )
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "ecr-audit",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            automation_details: AutomationDetails {
                id: "ecr-audit/".to_string(),
            },
            results,
            invocations: vec![Invocation {
                execution_successful: report.errors.is_empty(),
                tool_execution_notifications: notifications,
            }],
            properties: json!({
                "asOf": rfc3339(report.as_of),
                "accounts": report.scanned.accounts,
                "regions": report.scanned.regions,
                "repositories": report.scanned.repositories,
                "images": report.scanned.images,
                "iamPrincipals": report.scanned.iam_principals,
                "suppressed": report.suppressed,
            }),
        }],
    };
    let mut text = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    text.push('\n');
    (text, warnings)
}
