//! Proofs of the policy corpus (fixtures/policies/) with cvc5, and the
//! cross-check with the concrete analysis: for every repository, registry
//! and trust case and every property, the proof and the concrete analysis
//! must agree.
//!
//! - refuted  ⇔ the concrete analysis finds outside access for certain;
//! - proved   ⇔ it finds none;
//! - unknown  ⇔ it finds access only through undecidable constructs.
//!
//! Every refutation carries a counterexample that was replayed through the
//! concrete Cedar authorizer and the reference evaluator (`prove::witness`).

use ecr_audit::check::{self, OutsideAccess};
use ecr_audit::prove::{ProofCache, Property, Prover, ProverOptions, Verdict};

mod common;
use common::{corpus_cases, corpus_input};

/// Cases where the proof stays "unknown" and why: the construct is a free
/// flag of the Cedar translation, so no request the solver offers replays.
/// Each must keep exactly this outcome (a change is re-examined).
const UNKNOWN_BY_DESIGN: &[(&str, &str, &str)] = &[
    (
        "repository/123-variable-principal-account.json",
        "write",
        "${aws:PrincipalAccount} is a policy variable (a flag); the concrete analysis is knowingly conservative here (tests/policy_corpus.rs)",
    ),
    (
        "repository/124-variable-escaped-star.json",
        "read",
        "${*} is a policy variable (a flag); the concrete analysis resolves it",
    ),
    (
        "repository/126-unknown-operator-deny.json",
        "read",
        "the Deny's operator is unknown: the reference evaluator cannot confirm the Allow; the concrete analysis reports the upper bound (with ECR001)",
    ),
    (
        "repository/234-condition-empty-value-list-in-deny.json",
        "read",
        "the Deny's empty value list is undecidable: no request is allowed however it is read; the concrete analysis reports the upper bound (with ECR001)",
    ),
    (
        "repository/197-variable-unresolvable-in-deciding-deny.json",
        "read",
        "the Deny's variable has no value for callers in no organization: the reference evaluator cannot confirm the Allow; the concrete analysis reports the upper bound (with ECR001)",
    ),
    (
        "repository/159-principal-arn-like-colon-anchored-owner.json",
        "read",
        "proved only through \"IAM names hold no ':'\" (a negated str.contains), which cvc5 does not decide within the time limit",
    ),
    (
        "repository/151-principal-arn-like-substring.json",
        "write",
        "`*deploy*` on aws:PrincipalArn: the solver's model puts the text in a field the replay must replace, and the searches for a clean ARN time out",
    ),
    (
        "repository/161-principal-arn-like-owner-digits-anywhere.json",
        "read",
        "`*111122223333*` on aws:PrincipalArn: the solver's model puts the digits in a field the replay must replace, and the searches for a clean ARN time out",
    ),
    (
        "repository/189-variable-principal-arn-any-account-ci.json",
        "read",
        "${aws:PrincipalAccount} inside an ARN pattern is a flag: no request the solver offers replays",
    ),
    (
        "trust/046-anyone-principal-arn-variable-account.json",
        "assume",
        "${aws:PrincipalAccount} inside an ARN pattern is a flag: no request the solver offers replays",
    ),
    (
        "repository/190-variable-principal-arn-owner-team-tag.json",
        "write",
        "a variable inside an ARN pattern is a flag; the literal account part alone would prove it",
    ),
    (
        "repository/191-variable-resource-principal-tag-prefix.json",
        "read",
        "a variable inside a Resource pattern is a flag: no request the solver offers replays",
    ),
    (
        "repository/196-variable-principal-arn-literal-under-2008.json",
        "read",
        "under 2008-10-17 `${aws:PrincipalAccount}` is literal text in the account field; that an account id is twelve digits is not a fact the axioms state",
    ),
];

#[test]
fn corpus_proofs_agree_with_the_concrete_analysis() {
    common::require_solver();
    let cache = ProofCache::default();
    let mut prover = Prover::new(ProverOptions::default(), &cache).unwrap();
    let mut disagreements = Vec::new();
    let mut counts = std::collections::BTreeMap::new();
    let mut refuted_checked = 0;
    let only = std::env::var("PROVE_ONLY").ok();
    for (name, case) in corpus_cases(&["repository", "registry", "trust"]) {
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let input = corpus_input(&case);
        let (subject, arn, zone) = check::proof_subject(&input).unwrap();
        for property in Property::of(subject) {
            let verdict = prover.prove(&input.text, subject, &arn, &zone, *property);
            let concrete = check::concrete_outside(&input, *property);
            *counts.entry(verdict.name()).or_insert(0) += 1;
            let agree = matches!(
                (&verdict, concrete),
                (Verdict::Proved, OutsideAccess::None)
                    | (Verdict::Refuted { .. }, OutsideAccess::Certain)
                    | (Verdict::Unknown { .. }, OutsideAccess::Uncertain)
            );
            if let Some((_, _, why)) = UNKNOWN_BY_DESIGN
                .iter()
                .find(|(n, p, _)| *n == name && *p == property.name())
            {
                if !matches!(verdict, Verdict::Unknown { .. }) {
                    disagreements.push(format!(
                        "{name} {}: expected unknown ({why}), got {verdict:?}",
                        property.name()
                    ));
                }
                continue;
            }
            if let Verdict::Refuted { counterexample } = &verdict {
                refuted_checked += 1;
                assert!(
                    !counterexample.principal.is_empty() && !counterexample.action.is_empty(),
                    "{name}: empty counterexample"
                );
            }
            if !agree {
                disagreements.push(format!(
                    "{name} {}: proof {verdict:?}, concrete {concrete:?}",
                    property.name()
                ));
            }
        }
    }
    eprintln!("verdicts: {counts:?}; solver: {:?}", prover.stats);
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // The corpus has both outcomes in number: a prover that always says
    // one thing cannot pass.
    assert!(
        counts.get("proved").copied().unwrap_or(0) >= 300,
        "{counts:?}"
    );
    assert!(refuted_checked >= 100, "{counts:?}");
}
