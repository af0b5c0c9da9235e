//! The rules catalogue (`ecr-audit rules`): every rule with its effective
//! severity and whether it runs, as a table, as JSON, or one rule in full.

use crate::engine::{Rule, RuleSelection};
use crate::finding::Severity;

/// One rule as configured.
pub struct Listing<'a> {
    pub rule: &'a Rule,
    pub severity: Severity,
    pub on: bool,
}

/// The rules with the selection applied.
pub fn listings<'a>(rules: &'a [Rule], selection: &RuleSelection) -> Vec<Listing<'a>> {
    rules
        .iter()
        .map(|rule| Listing {
            rule,
            severity: selection.severity_of(rule),
            on: selection.is_on(rule),
        })
        .collect()
}

pub fn render_json(listings: &[Listing]) -> String {
    let list: Vec<serde_json::Value> = listings
        .iter()
        .map(|l| {
            let r = l.rule;
            serde_json::json!({
                "id": r.id,
                "name": r.name,
                "severity": l.severity,
                "resources": r.resource_kinds(),
                "title": r.title,
                "description": r.description,
                "remediation": r.remediation,
                "compliance": r.compliance,
                "help_uri": r.help_uri,
                "enabled": l.on,
                "source": r.source,
            })
        })
        .collect();
    super::pretty(&serde_json::Value::Array(list))
}

pub fn render_table(listings: &[Listing]) -> String {
    let mut t = format!(
        "{:<7} {:<9} {:<4} {:<42} {}\n",
        "ID", "SEVERITY", "ON", "NAME", "TITLE"
    );
    for l in listings {
        let r = l.rule;
        t.push_str(&format!(
            "{:<7} {:<9} {:<4} {:<42} {}{}\n",
            r.id,
            l.severity.as_str(),
            if l.on { "yes" } else { "off" },
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

/// Rules in full (`ecr-audit rules ID`): paragraphs, unwrapped.
pub fn render_detail(listings: &[Listing]) -> String {
    let mut t = String::new();
    for l in listings {
        let r = l.rule;
        let kinds: Vec<String> = r
            .resource_kinds()
            .iter()
            .map(|k| format!("{k:?}").to_ascii_lowercase())
            .collect();
        t.push_str(&format!(
            "{} {} ({}, {})\n{}\n\n{}\n\nHow to fix it: {}\n\nApplies to: {}",
            r.id,
            r.name,
            l.severity.as_str(),
            if l.on {
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
    t
}
