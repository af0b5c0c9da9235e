//! What each fuzz target does with one input, shared by the fuzz targets
//! (`fuzz/fuzz_targets/*.rs`) and by the replay of their regression inputs
//! in CI (`tests/it/fuzz_regressions.rs`), so both run the same code paths.
//!
//! Every function returns a small `Outcome` instead of panicking on a bad
//! input: a panic, a stack overflow, a hang or an out-of-memory is the bug.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use ecr_audit::access::{self, identity, RegistryScope, Target, Zone};
use ecr_audit::cedar;
use ecr_audit::config::{self, Config};
use ecr_audit::engine::rules;
use ecr_audit::inventory::Inventory;
use ecr_audit::model::lifecycle::lifecycle_facts;
use ecr_audit::policy::{self, PolicyKind};

/// What one input came to; the replay checks it is one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not text (invalid UTF-8): refused before parsing.
    NotText,
    /// Refused with an error message (the message is never empty).
    Rejected(String),
    /// Read; for a policy, `analyzable` says whether it is understood
    /// (ECR001 is reported when it is not).
    Accepted { analyzable: bool },
}

impl Outcome {
    /// A bounded, well-formed outcome: errors say something.
    pub fn is_well_formed(&self) -> bool {
        match self {
            Outcome::Rejected(m) => !m.trim().is_empty(),
            _ => true,
        }
    }
}

pub const OWNER: &str = "111122223333";
pub const REPOSITORY_ARN: &str = "arn:aws:ecr:us-east-1:111122223333:repository/app";
pub const REGISTRY_ARN: &str = "arn:aws:ecr:us-east-1:111122223333:repository/*";
pub const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/pusher";

/// A small fixed zone of trust: the owner, one organization member and one
/// trusted partner, an organization id, and a reference time.
pub fn zone() -> &'static Zone {
    static ZONE: OnceLock<Zone> = OnceLock::new();
    ZONE.get_or_init(|| Zone {
        owner: OWNER.to_string(),
        accounts: [OWNER, "444455556666", "999988887777"]
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        org_id: Some("o-a1b2c3d4e5".to_string()),
        // 2026-01-01T00:00:00Z
        time: Some(1_767_225_600),
    })
}

/// The policy kind a selector byte stands for.
pub fn kind_of(selector: u8) -> PolicyKind {
    match selector % 4 {
        0 | 1 => PolicyKind::Resource,
        2 => PolicyKind::Identity,
        _ => PolicyKind::Trust,
    }
}

/// Target (a) from raw bytes: the first byte picks the policy kind (and, for
/// a resource policy, repository or registry), the rest is the policy text.
pub fn policy_bytes(data: &[u8]) -> Outcome {
    let Some((&selector, rest)) = data.split_first() else {
        return Outcome::Rejected("empty input".into());
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return Outcome::NotText;
    };
    policy_text(selector, text)
}

/// Parse, translate to Cedar, and decide access as the scan does.
pub fn policy_text(selector: u8, text: &str) -> Outcome {
    let kind = kind_of(selector);
    let doc = match policy::parse(text, kind) {
        Ok(doc) => doc,
        Err(e) => {
            // The scan's own entry points must agree: a policy that does not
            // parse is reported (ECR001), never dropped.
            if kind == PolicyKind::Resource {
                let a = access::analyze_resource_policy(
                    text,
                    Target::Repository,
                    REPOSITORY_ARN,
                    zone(),
                );
                assert!(!a.policy.analyzable, "an unparsable policy is analyzable");
            }
            return Outcome::Rejected(e.to_string());
        }
    };
    let _ = doc.unsupported();
    let translation = cedar::translate(&doc);
    let _ = translation.text();
    let _ = cedar::explain_translation(&doc, &translation);
    let analyzable = match kind {
        PolicyKind::Resource => {
            let target = match selector % 4 {
                0 => Target::Repository,
                1 => Target::Registry(RegistryScope::V1),
                _ => Target::Registry(RegistryScope::V2),
            };
            let arn = if target == Target::Repository {
                REPOSITORY_ARN
            } else {
                REGISTRY_ARN
            };
            let a = access::analyze_resource_document(&doc, target, arn, zone());
            let _ = a.reach();
            a.policy.analyzable
        }
        PolicyKind::Trust => {
            let t = identity::analyze_trust_document(&doc, ROLE_ARN, zone());
            t.policy.as_ref().is_none_or(|p| p.analyzable)
        }
        PolicyKind::Identity => {
            let named = [identity::NamedPolicy {
                name: "fuzz".into(),
                text,
            }];
            let a = identity::analyze_identity(&named, None, OWNER, zone());
            a.problems.is_empty()
        }
    };
    Outcome::Accepted { analyzable }
}

/// Target (c): the inventory reader the CLI uses for `--inventory`.
pub fn inventory(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::NotText;
    };
    match Inventory::from_json(text, "fuzz.json") {
        Ok(inv) => {
            let _ = inv.repository_count();
            let _ = inv.image_count();
            Outcome::Accepted { analyzable: true }
        }
        Err(e) => Outcome::Rejected(e.to_string()),
    }
}

/// Target (d): `ecr-audit.toml`.
pub fn config(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::NotText;
    };
    match Config::parse(text, "fuzz.toml") {
        Ok(c) => {
            for ig in &c.ignore {
                let _ = config::glob_match(&ig.resource, REPOSITORY_ARN);
            }
            Outcome::Accepted { analyzable: true }
        }
        Err(e) => Outcome::Rejected(e.to_string()),
    }
}

/// Target (e): a repository's lifecycle policy.
pub fn lifecycle(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::NotText;
    };
    let facts = lifecycle_facts(Some(text));
    assert!(facts.present);
    if facts.valid {
        Outcome::Accepted { analyzable: true }
    } else {
        Outcome::Rejected(facts.summary)
    }
}

/// Target (f): one custom rule file, parsed and validated against the rule
/// schema as `--rules-dir` does.
pub fn rule_file(data: &[u8]) -> Outcome {
    static SCHEMA: OnceLock<cedar_policy::Schema> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::NotText;
    };
    let schema = SCHEMA.get_or_init(rules::schema);
    match rules::parse_rule_file("fuzz.cedar", text, schema) {
        Ok(parsed) => {
            for rule in &parsed {
                for kind in rule.resource_kinds() {
                    let _ = rule.message_for(kind);
                }
            }
            Outcome::Accepted { analyzable: true }
        }
        Err(errors) => {
            let first = errors
                .first()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "fuzz.cedar: rejected without an error".into());
            Outcome::Rejected(first)
        }
    }
}

/// The fuzz targets, by name.
pub const TARGETS: &[&str] = &[
    "policy_bytes",
    "policy_structured",
    "inventory",
    "config",
    "lifecycle",
    "rules",
];

/// Runs one input of a target as the fuzz target does. A
/// `policy_structured` input is kept in its rendered form: the selector byte
/// in decimal on the first line, the policy JSON after it.
pub fn run(target: &str, data: &[u8]) -> Outcome {
    match target {
        "policy_bytes" => policy_bytes(data),
        "policy_structured" => {
            let Ok(text) = std::str::from_utf8(data) else {
                return Outcome::NotText;
            };
            let (first, policy) = text.split_once('\n').unwrap_or((text, ""));
            let selector = first.trim().parse::<u8>().unwrap_or(0);
            policy_text(selector, policy)
        }
        "inventory" => inventory(data),
        "config" => config(data),
        "lifecycle" => lifecycle(data),
        "rules" => rule_file(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// The seed corpus of a target, taken from the repository's fixtures (and
/// the hand-written seeds in `fuzz/seeds/<target>/`): (name, input) pairs.
pub fn seeds(target: &str, root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let files = |dir: &str, ext: &str| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(root.join(dir))
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == ext))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let name_of = |p: &std::path::Path| {
        p.strip_prefix(root)
            .unwrap_or(p)
            .display()
            .to_string()
            .replace(['/', '\\'], "_")
    };
    let inventories = || {
        let mut v = files("fixtures/inventories", "json");
        v.push(root.join("fixtures/demo-org.json"));
        v
    };
    match target {
        "policy_bytes" | "policy_structured" => {
            let mut policies: Vec<(String, u8, String)> = Vec::new();
            for (dir, selector) in [
                ("fixtures/policies/repository", 0u8),
                ("fixtures/policies/registry", 1),
                ("fixtures/policies/identity", 2),
                ("fixtures/policies/trust", 3),
            ] {
                for p in files(dir, "json") {
                    let Ok(text) = std::fs::read_to_string(&p) else {
                        continue;
                    };
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                        continue;
                    };
                    let policy = match (&v["policy_text"], &v["policy"]) {
                        (serde_json::Value::String(s), _) => s.clone(),
                        (_, p) if !p.is_null() => p.to_string(),
                        _ => continue,
                    };
                    policies.push((name_of(&p), selector, policy));
                }
            }
            for p in files("fixtures/examples", "json") {
                if let Ok(text) = std::fs::read_to_string(&p) {
                    let selector = if text.contains("sts:AssumeRole") {
                        3
                    } else {
                        0
                    };
                    policies.push((name_of(&p), selector, text));
                }
            }
            for p in inventories() {
                let Ok(text) = std::fs::read_to_string(&p) else {
                    continue;
                };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                let mut found = Vec::new();
                collect_policies(&v, "", &mut found);
                found.sort();
                found.dedup();
                for (i, (selector, policy)) in found.into_iter().enumerate() {
                    policies.push((format!("{}_{i}", name_of(&p)), selector, policy));
                }
            }
            for (name, selector, policy) in policies {
                let data = if target == "policy_bytes" {
                    let mut d = vec![selector];
                    d.extend_from_slice(policy.as_bytes());
                    d
                } else {
                    format!("{selector}\n{policy}").into_bytes()
                };
                out.push((name, data));
            }
        }
        "inventory" => {
            let mut v = inventories();
            v.extend(files("fixtures/inventories/bad", "json"));
            for p in v {
                if let Ok(d) = std::fs::read(&p) {
                    out.push((name_of(&p), d));
                }
            }
        }
        "lifecycle" => {
            for p in inventories() {
                let Ok(text) = std::fs::read_to_string(&p) else {
                    continue;
                };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                let mut found = Vec::new();
                collect_strings(&v, "lifecyclePolicy", &mut found);
                found.sort();
                found.dedup();
                for (i, s) in found.into_iter().enumerate() {
                    out.push((format!("{}_{i}", name_of(&p)), s.into_bytes()));
                }
            }
        }
        "rules" => {
            for p in files("rules", "cedar") {
                if let Ok(d) = std::fs::read(&p) {
                    out.push((name_of(&p), d));
                }
            }
        }
        _ => {}
    }
    for p in files(&format!("fuzz/seeds/{target}"), "seed") {
        if let Ok(d) = std::fs::read(&p) {
            out.push((name_of(&p), d));
        }
    }
    out
}

/// Policy texts of an inventory with the selector of their kind.
fn collect_policies(v: &serde_json::Value, parent: &str, out: &mut Vec<(u8, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("policy", serde_json::Value::String(s)) => {
                        let selector = if parent == "registry" { 1 } else { 0 };
                        out.push((selector, s.clone()));
                    }
                    ("policyDocument", serde_json::Value::String(s)) => out.push((2, s.clone())),
                    ("assumeRolePolicyDocument", serde_json::Value::String(s)) => {
                        out.push((3, s.clone()))
                    }
                    _ => collect_policies(x, k, out),
                }
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                collect_policies(x, parent, out);
            }
        }
        _ => {}
    }
}

fn collect_strings(v: &serde_json::Value, key: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                match x {
                    serde_json::Value::String(s) if k == key => out.push(s.clone()),
                    _ => collect_strings(x, key, out),
                }
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                collect_strings(x, key, out);
            }
        }
        _ => {}
    }
}
