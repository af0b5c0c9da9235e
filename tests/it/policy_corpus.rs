//! The policy corpus (fixtures/policies/): every case's verdict and rule ids,
//! through check-policy's code path (a synthetic inventory scanned with the
//! built-in rules).

use std::collections::BTreeSet;

use serde_json::Value;

use ecr_audit::check;
use ecr_audit::engine::{load_rules, RuleSelection};

use crate::common::{corpus_cases, corpus_input};

/// Cases where the analysis is knowingly more conservative than the corpus,
/// with the reason. Each must still disagree only in the listed direction.
const CONSERVATIVE: &[(&str, &str, &str)] = &[(
    "repository/123-variable-principal-account.json",
    "unanalyzable",
    "${aws:PrincipalAccount} has no value for a service principal (Principal \"*\" admits services), and IAM says only that an unresolved variable \"might cause the entire statement to be invalid\": the analysis reports the statement as undecided (ECR001) instead of false",
)];

#[test]
fn corpus_verdicts_and_rules() {
    let rules = load_rules(None).unwrap();
    let cases = corpus_cases(&["repository", "registry", "identity", "trust"]);
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (name, case) in &cases {
        if let Some((_, verdict, why)) = CONSERVATIVE.iter().find(|(n, _, _)| n == name) {
            let v = check::verdict(&corpus_input(case));
            assert_eq!(
                v.verdict.as_str(),
                *verdict,
                "{name} changed: re-check the allowance ({why})"
            );
            continue;
        }
        let input = corpus_input(case);
        let expect = &case["expect"];
        let result = check::check(&input, rules.clone(), RuleSelection::default(), None);
        let fired: BTreeSet<String> = result
            .findings
            .iter()
            .map(|f| f.rule_id.to_string())
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
        if v.verdict.as_str() != expect["verdict"].as_str().unwrap() {
            failures.push(format!(
                "{name}: verdict {}, expected {}",
                v.verdict, expect["verdict"]
            ));
        }
        for key in ["read", "write"] {
            if let Some(want) = expect.get(key).and_then(Value::as_str) {
                let got = if key == "read" { v.read } else { v.write }.as_str();
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
