//! Each configuration/image rule fires, and does not fire, exactly where
//! fixtures/inventories/README.md says: the table there is the expectation.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

struct Case {
    file: String,
    rule: String,
    fires: bool,
    repositories: BTreeSet<String>,
}

fn cases() -> Vec<Case> {
    let readme = std::fs::read_to_string(crate::common::fixture("inventories/README.md")).unwrap();
    let mut cases = Vec::new();
    for line in readme.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `file` | rule | fires/clean | fires on | also fires | why |
        if cells.len() < 7 || !cells[1].starts_with('`') || !cells[2].starts_with("ECR") {
            continue;
        }
        let repositories = cells[4]
            .split(',')
            .map(|s| s.trim().trim_matches('`').to_string())
            .filter(|s| !s.is_empty() && s != "—")
            .collect();
        cases.push(Case {
            file: cells[1].trim_matches('`').to_string(),
            rule: cells[2].to_string(),
            fires: cells[3] == "fires",
            repositories,
        });
    }
    cases
}

fn findings_of(file: &str) -> Vec<Value> {
    let path = crate::common::fixture(&format!("inventories/{file}"));
    let run = crate::common::run(&[
        "scan",
        "--inventory",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(run.code, 0, "{file}: {}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    report["findings"].as_array().unwrap().clone()
}

#[test]
fn every_fixture_is_described() {
    let described: BTreeSet<String> = cases().into_iter().map(|c| c.file).collect();
    let dir = crate::common::fixture("inventories");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            assert!(
                described.contains(&name),
                "{name} is not in the README table"
            );
        }
    }
    // Every configuration and image rule has a firing and a clean case.
    let mut seen: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for c in cases() {
        *seen.entry((c.rule, c.fires)).or_default() += 1;
    }
    for rule in [
        "ECR301", "ECR302", "ECR303", "ECR304", "ECR305", "ECR307", "ECR401", "ECR402", "ECR403",
        "ECR404",
    ] {
        for fires in [true, false] {
            assert!(
                seen.contains_key(&(rule.to_string(), fires)),
                "{rule} fires={fires} has no fixture"
            );
        }
    }
}

#[test]
fn rules_fire_exactly_where_expected() {
    let cases = cases();
    assert!(cases.len() >= 16, "only {} cases parsed", cases.len());
    for case in cases {
        let fired: BTreeSet<String> = findings_of(&case.file)
            .iter()
            .filter(|f| f["rule_id"] == case.rule.as_str())
            .map(|f| {
                let arn = f["resource_arn"].as_str().unwrap();
                arn.split_once(":repository/")
                    .map(|(_, n)| n.to_string())
                    .unwrap_or_default()
            })
            .collect();
        if case.fires {
            assert!(
                !fired.is_empty(),
                "{}: {} should fire",
                case.file,
                case.rule
            );
            assert_eq!(
                fired, case.repositories,
                "{}: {} fired on the wrong repositories",
                case.file, case.rule
            );
        } else {
            assert!(
                fired.is_empty(),
                "{}: {} should not fire, fired on {fired:?}",
                case.file,
                case.rule
            );
        }
    }
}

/// Registry rules, from fixtures/inventories/registry/README.md: the
/// registries (by region) each rule fires on.
#[test]
fn registry_rules_fire_exactly_where_expected() {
    let expected: [(&str, &str, &[&str], &str); 6] = [
        ("ecr306-fires-clair.json", "ECR306", &["us-east-1"], "BASIC_SCAN_TYPE_VERSION CLAIR"),
        ("ecr306-clean-aws-native.json", "ECR306", &[], ""),
        (
            "ecr113-fires-outside-upstream.json",
            "ECR113",
            &["us-east-1"],
            "prefix `vendor`: upstream ECR registry 999988887777 (us-east-1) is outside the zone of trust.",
        ),
        (
            "ecr113-fires-outside-custom-role.json",
            "ECR113",
            &["us-east-1"],
            "prefix `mirror`: ECR pulls from the upstream as role arn:aws:iam::999988887777:role/ecr-ptc-pull of 999988887777, outside the zone of trust",
        ),
        ("ecr113-clean-own-upstreams.json", "ECR113", &[], ""),
        (
            "ecr113-fires-secret-name.json",
            "ECR113",
            &["us-east-1"],
            "prefix `ghcr`: upstream credentials secret `ghcr-token-AbCdEf` is not named with the `ecr-pullthroughcache/` prefix ECR requires",
        ),
    ];
    let readme =
        std::fs::read_to_string(crate::common::fixture("inventories/registry/README.md")).unwrap();
    for (file, rule, regions, message) in expected {
        assert!(
            readme.contains(&format!("| `{file}` | {rule} |")),
            "{file} is not described"
        );
        let findings = findings_of(&format!("registry/{file}"));
        let fired: Vec<&str> = findings
            .iter()
            .filter(|f| f["rule_id"] == rule)
            .map(|f| f["region"].as_str().unwrap())
            .collect();
        assert_eq!(fired, regions, "{file}");
        for f in findings.iter().filter(|f| f["rule_id"] == rule) {
            assert_eq!(f["resource_kind"], "registry");
            assert!(f["message"].as_str().unwrap().contains(message), "{f}");
        }
    }
}

/// Creation template rules, from fixtures/inventories/templates/README.md:
/// the rules that fire on each template (by prefix), and nothing else on a
/// template.
#[test]
fn creation_template_rules_fire_exactly_where_expected() {
    type Expected<'a> = &'a [(&'a str, &'a [&'a str])];
    let cases: [(&str, Expected); 4] = [
        (
            "templates-fire-public-cache-template.json",
            &[
                (
                    "docker-hub",
                    &["ECR101", "ECR114", "ECR302", "ECR303", "ECR305"],
                ),
                ("ROOT", &[]),
            ],
        ),
        ("templates-clean-root-template.json", &[("ROOT", &[])]),
        (
            "ecr114-fires-outside-account-role.json",
            &[("ROOT", &["ECR114"])],
        ),
        (
            "ecr114-fires-unanalyzable-trust.json",
            &[("ROOT", &["ECR114"])],
        ),
    ];
    let readme =
        std::fs::read_to_string(crate::common::fixture("inventories/templates/README.md")).unwrap();
    for (file, expected) in cases {
        assert!(
            readme.contains(&format!("| `{file}` |")),
            "{file} is not described"
        );
        let findings = findings_of(&format!("templates/{file}"));
        for (prefix, rules) in expected {
            let arn_end = format!(":repository-creation-template/{prefix}");
            let fired: BTreeSet<&str> = findings
                .iter()
                .filter(|f| f["resource_arn"].as_str().unwrap().ends_with(&arn_end))
                .map(|f| f["rule_id"].as_str().unwrap())
                .collect();
            let want: BTreeSet<&str> = rules.iter().copied().collect();
            assert_eq!(fired, want, "{file}: template {prefix}");
        }
        for f in findings
            .iter()
            .filter(|f| f["resource_kind"] == "creation-template")
        {
            assert!(
                f["message"]
                    .as_str()
                    .unwrap()
                    .contains("Creation template `"),
                "{f}"
            );
        }
    }
    // The finding of `rule` in `file` says `text`.
    let says = |file: &str, rule: &str, text: &str| {
        let findings = findings_of(&format!("templates/{file}"));
        let found = findings.iter().find(|f| f["rule_id"] == rule).unwrap();
        assert!(found["message"].as_str().unwrap().contains(text), "{found}");
    };
    says(
        "ecr114-fires-unanalyzable-trust.json",
        "ECR114",
        "whether others can assume it is not known",
    );
    // The public template's message says what the future repositories get.
    says(
        "templates-fire-public-cache-template.json",
        "ECR101",
        "every repository ECR creates under `docker-hub/` (for PULL_THROUGH_CACHE) can be read by any AWS principal",
    );
    says(
        "templates-fire-public-cache-template.json",
        "ECR114",
        "as arn:aws:iam::111122223333:role/ecr-cache-creator: it can be assumed by 999988887777",
    );
}
