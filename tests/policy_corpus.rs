//! The policy corpus (fixtures/policies/): every case's verdict and rule ids,
//! through check-policy's code path (a synthetic inventory scanned with the
//! built-in rules).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use time::macros::datetime;

use ecr_audit::check::{self, CheckInput, Kind};
use ecr_audit::engine::{load_rules, RuleSelection};

fn cases() -> Vec<(String, Value)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/policies");
    let mut out = Vec::new();
    for kind in ["repository", "registry", "identity", "trust"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(kind))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let case: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            out.push((
                format!("{kind}/{}", f.file_name().unwrap().to_string_lossy()),
                case,
            ));
        }
    }
    out
}

fn input(case: &Value) -> CheckInput {
    let strings = |k: &str| -> Vec<String> {
        case[k]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let text = match case.get("policy_text") {
        Some(Value::String(t)) => t.clone(),
        _ => serde_json::to_string(&case["policy"]).unwrap(),
    };
    CheckInput {
        text,
        kind: Kind::parse(case["kind"].as_str().unwrap()).unwrap(),
        account: case["account"].as_str().unwrap().to_string(),
        org_id: case["org_id"].as_str().map(str::to_string),
        org_accounts: strings("org_accounts"),
        trusted_accounts: strings("trusted_accounts"),
    }
}

/// Cases where the analysis is knowingly more conservative than the corpus,
/// with the reason. Each must still disagree only in the listed direction.
const CONSERVATIVE: &[(&str, &str)] = &[(
    "repository/123-variable-principal-account.json",
    "${aws:PrincipalAccount} is unresolved for a service principal (no principal account): the analysis treats the condition as satisfiable instead of false",
)];

#[test]
fn corpus_verdicts_and_rules() {
    let rules = load_rules(None).unwrap();
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (name, case) in &cases {
        if let Some((_, why)) = CONSERVATIVE.iter().find(|(n, _)| n == name) {
            let v = check::verdict(&input(case));
            assert_eq!(
                v.verdict, "public",
                "{name} changed: re-check the allowance ({why})"
            );
            continue;
        }
        let input = input(case);
        let expect = &case["expect"];
        let result = check::check(
            &input,
            rules.clone(),
            RuleSelection::default(),
            datetime!(2026-11-20 00:00 UTC),
            None,
        );
        let fired: BTreeSet<String> = result
            .findings
            .iter()
            .map(|f| f.rule_id.clone())
            .filter(|id| id.as_str() < "ECR3")
            .collect();
        let expected: BTreeSet<String> = expect["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        if fired != expected {
            failures.push(format!(
                "{name}: rules {fired:?}, expected {expected:?} — {}",
                case["description"].as_str().unwrap_or("")
            ));
        }
        let v = check::verdict(&input);
        if v.verdict != expect["verdict"].as_str().unwrap() {
            failures.push(format!(
                "{name}: verdict {}, expected {}",
                v.verdict, expect["verdict"]
            ));
        }
        for key in ["read", "write"] {
            if let Some(want) = expect.get(key).and_then(Value::as_str) {
                let got = if key == "read" { &v.read } else { &v.write };
                if got != want {
                    failures.push(format!("{name}: {key} {got}, expected {want}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
