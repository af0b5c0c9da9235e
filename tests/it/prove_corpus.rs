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
//!
//! Named parties and "anyone" (issue 9): every twelve-digit account written
//! in a document is a party of its own, and "anyone" is an account the
//! document never names. A refutation whose caller is of an unnamed account
//! (or has no account: anonymous) must be public access in the concrete
//! analysis; one whose caller is of a named account must be a grant to that
//! account. Conversely, public access in the concrete analysis must be
//! refuted by a caller of an unnamed account: when the first counterexample
//! is a named party, the property is asked again of unnamed callers only.
//!
//! Proofs run on two solver processes (`prove::run`), as a scan does.

use std::collections::BTreeSet;
use std::sync::Arc;

use ecr_audit::access::Zone;
use ecr_audit::access::{self, identity, Reach, Target};
use ecr_audit::check::{self, CheckInput};
use ecr_audit::policy::account_literals;
use ecr_audit::prove::run::{self, ProofJob};
use ecr_audit::prove::{
    Counterexample, ProofCache, Property, Prover, ProverOptions, Subject, Verdict,
};

use crate::common::{corpus_cases, corpus_input};

/// Cases where the proof stays "unknown" and why: the construct is a free
/// flag of the Cedar translation, so no request the solver offers replays.
/// Each must keep exactly this outcome (a change is re-examined).
const UNKNOWN_BY_DESIGN: &[(&str, &str, &str)] = &[
    (
        "repository/123-variable-principal-account.json",
        "write",
        "${aws:PrincipalAccount} is a policy variable (a flag); the concrete analysis is knowingly conservative here (tests/it/policy_corpus.rs)",
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

/// Properties whose refutation needs the string solver to find an ARN with
/// the pattern's text in a name or a path within the per-query time limit:
/// on a loaded machine it may run out and the verdict is unknown instead.
/// Either is honest; a proof would be wrong. When refuted, the caller is
/// checked like any other.
const SOLVER_DEPENDENT: &[(&str, &str, &str)] = &[
    (
        "repository/151-principal-arn-like-substring.json",
        "write",
        "`*deploy*`: the text must land in a role name",
    ),
    (
        "repository/151-principal-arn-like-substring.json",
        "read",
        "`*deploy*`: the text must land in a role name",
    ),
    (
        "repository/152-principal-arn-like-wildcard-account-field.json",
        "read",
        "the account field is a wildcard between literal parts",
    ),
    (
        "repository/152-principal-arn-like-wildcard-account-field.json",
        "write",
        "the account field is a wildcard between literal parts",
    ),
    (
        "repository/159-principal-arn-like-colon-anchored-owner.json",
        "read",
        "the only outside callers hold the owner's account in a path (`/x:111122223333:role/`)",
    ),
    (
        "repository/161-principal-arn-like-owner-digits-anywhere.json",
        "read",
        "`*111122223333*`: the digits must land in a name or a path",
    ),
    (
        "repository/168-principal-arn-like-any-account-user-path.json",
        "write",
        "a user path pattern",
    ),
    (
        "repository/168-principal-arn-like-any-account-user-path.json",
        "read",
        "a user path pattern",
    ),
];

/// Refutations whose caller does not match the concrete analysis's class,
/// and why (each keeps exactly this outcome).
const CLASS_EXCEPTIONS: &[(&str, &str, &str)] = &[];

/// Who a counterexample's caller is, as the concrete analysis classes it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    /// An IAM principal of this account, or a service acting for it.
    Account(String),
    /// No account: anonymous, or a service acting for whoever asks it.
    Unaccounted(String),
    /// A token of a web-identity provider.
    WebIdentity(String),
}

fn caller_of(cx: &Counterexample) -> Caller {
    let ctx = |k: &str| {
        cx.context
            .iter()
            .find(|(key, _)| key == k)
            .and_then(|(_, v)| v.first().cloned())
    };
    if cx.principal.starts_with("arn:") {
        let account = cx.principal.split(':').nth(4).unwrap_or_default();
        return Caller::Account(account.to_string());
    }
    if cx.principal.starts_with("service ") {
        let source = ctx("aws:sourceaccount")
            .or_else(|| ctx("aws:sourceowner"))
            .or_else(|| ctx("aws:sourcearn").and_then(|a| a.split(':').nth(4).map(str::to_string)))
            .filter(|a| !a.is_empty());
        return match source {
            Some(a) => Caller::Account(a),
            None => Caller::Unaccounted(cx.principal.clone()),
        };
    }
    if cx.principal.starts_with("web identity ") {
        return Caller::WebIdentity(cx.principal.clone());
    }
    Caller::Unaccounted(cx.principal.clone())
}

/// What the concrete analysis grants outside the zone for a property: the
/// classes holding one of its actions for certain ("anyone" for public
/// reach).
fn concrete_classes(input: &CheckInput, property: Property) -> BTreeSet<String> {
    let (subject, arn, zone) = proof_subject(input).unwrap();
    if subject == Subject::Role {
        let t = identity::analyze_trust_policy(&input.text, &arn, &zone);
        let mut out = t.assumable_from_outside.clone();
        for p in &t.web_identity_without_subject {
            out.insert(format!("web identity {p}"));
        }
        return out;
    }
    let target = match subject {
        Subject::Registry => Target::Registry(input.registry_scope),
        _ => Target::Repository,
    };
    let a = access::analyze_resource_policy(&input.text, target, &arn, &zone);
    let wanted = property.actions(subject);
    a.grants
        .iter()
        .filter(|g| g.outside && g.certain_actions.iter().any(|x| wanted.contains(x)))
        .map(|g| {
            if g.reach == Reach::Public {
                "anyone".to_string()
            } else {
                g.class.label()
            }
        })
        .collect()
}

/// Does the caller's class match what the concrete analysis grants? A
/// caller of an unnamed account may also be a member of a named outside
/// organization ("org o-..."), or hold a named unique id ("userid ...").
fn class_matches(
    caller: &Caller,
    cx: &Counterexample,
    named: &BTreeSet<String>,
    classes: &BTreeSet<String>,
) -> bool {
    let values = |k: &str| -> Vec<String> {
        cx.context
            .iter()
            .filter(|(key, _)| key == k)
            .flat_map(|(_, v)| v.clone())
            .collect()
    };
    let by_org = values("aws:principalorgid")
        .iter()
        .any(|o| classes.contains(&format!("org {o}")));
    let by_userid = values("aws:userid").iter().any(|u| {
        classes.iter().any(|c| {
            c.strip_prefix("userid ")
                .is_some_and(|p| ecr_audit::policy::pattern::glob_match(p, u))
        })
    });
    match caller {
        Caller::Account(a) if named.contains(a) => {
            classes.contains(a) || classes.iter().any(|c| c.ends_with(&format!(" for {a}")))
        }
        // A service acting for an account nobody named is the service
        // acting for anyone.
        Caller::Account(_) => {
            classes.contains("anyone")
                || by_org
                || by_userid
                || (cx.principal.starts_with("service ") && classes.contains(&cx.principal))
        }
        Caller::Unaccounted(p) => classes.contains("anyone") || classes.contains(p),
        Caller::WebIdentity(p) => {
            // `web identity arn:...:oidc-provider/<host>` is the provider
            // `<host>` of the concrete analysis.
            let host = p.rsplit("oidc-provider/").next().unwrap_or(p);
            classes.contains("anyone")
                || classes.iter().any(|c| {
                    c.strip_prefix("web identity ")
                        .is_some_and(|c| c.starts_with(host))
                })
        }
    }
}

#[test]
fn corpus_proofs_agree_with_the_concrete_analysis() {
    crate::common::require_solver();
    let only = std::env::var("PROVE_ONLY").ok();
    let mut cases = Vec::new();
    let mut jobs = Vec::new();
    for (name, case) in corpus_cases(&["repository", "registry", "trust"]) {
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let input = corpus_input(&case);
        let (subject, arn, zone) = proof_subject(&input).unwrap();
        jobs.push(ProofJob {
            subject,
            arn: arn.clone(),
            resource_arn: arn,
            account: input.account.to_string(),
            policy: input.text.clone(),
            zone: Arc::new(zone),
            properties: match subject {
                Subject::Registry => Property::of_registry(input.registry_scope),
                _ => Property::of(subject),
            },
        });
        cases.push((name, input));
    }
    let options = ProverOptions::default();
    let started = std::time::Instant::now();
    let proofs = run::run(&jobs, &options, 2).unwrap();
    let elapsed = started.elapsed();
    let cache = ProofCache::default();
    let mut prover = Prover::new(options, &cache).unwrap();
    let mut disagreements = Vec::new();
    let mut counts = std::collections::BTreeMap::new();
    let mut refuted_checked = 0;
    let (mut by_unnamed, mut by_named, mut asked_again) = (0, 0, 0);
    let mut timed_out = Vec::new();
    let mut results = proofs.proofs.iter();
    for ((name, input), job) in cases.iter().zip(&jobs) {
        let mut named = BTreeSet::new();
        account_literals(&input.text, &mut named);
        for property in job.properties {
            let proof = results.next().expect("a proof per property");
            assert_eq!(proof.property, *property);
            let verdict = &proof.verdict;
            let concrete = concrete_outside(input, *property);
            *counts.entry(verdict.name()).or_insert(0) += 1;
            let agree = matches!(
                (verdict, concrete),
                (Verdict::Proved, OutsideAccess::None)
                    | (Verdict::Refuted { .. }, OutsideAccess::Certain)
                    | (Verdict::Unknown { .. }, OutsideAccess::Uncertain)
            );
            let solver_dependent = SOLVER_DEPENDENT
                .iter()
                .find(|(n, p, _)| n == name && *p == property.name());
            if let Some((_, _, why)) = solver_dependent {
                match (verdict, concrete) {
                    (Verdict::Proved, OutsideAccess::None) => {}
                    (Verdict::Proved, _) => disagreements.push(format!(
                        "{name} {}: proved, but the concrete analysis finds {concrete:?} ({why})",
                        property.name()
                    )),
                    (Verdict::Unknown { .. }, _) => continue,
                    (Verdict::Refuted { .. }, OutsideAccess::Certain) => {}
                    (Verdict::Refuted { .. }, _) => disagreements.push(format!(
                        "{name} {}: refuted, but the concrete analysis finds {concrete:?}",
                        property.name()
                    )),
                }
            } else if let Some((_, _, why)) = UNKNOWN_BY_DESIGN
                .iter()
                .find(|(n, p, _)| n == name && *p == property.name())
            {
                if !matches!(verdict, Verdict::Unknown { .. }) {
                    disagreements.push(format!(
                        "{name} {}: expected unknown ({why}), got {verdict:?}",
                        property.name()
                    ));
                }
                continue;
            }
            // A query the solver gave up on under load (this test shares
            // the machine with the rest of the suite) is sound (unknown,
            // never "proved") but says nothing: counted, and bounded below.
            if let Verdict::Unknown { reason } = verdict {
                if !agree && reason.contains("the solver gave up (time limit") {
                    timed_out.push(format!("{name} {}", property.name()));
                    continue;
                }
            }
            if !agree && solver_dependent.is_none() {
                disagreements.push(format!(
                    "{name} {}: proof {verdict:?}, concrete {concrete:?}",
                    property.name()
                ));
                continue;
            }
            let Verdict::Refuted { counterexample } = verdict else {
                continue;
            };
            refuted_checked += 1;
            assert!(
                !counterexample.principal.is_empty() && !counterexample.action.is_empty(),
                "{name}: empty counterexample"
            );
            // Named parties and "anyone".
            let classes = concrete_classes(input, *property);
            let caller = caller_of(counterexample);
            let exception = CLASS_EXCEPTIONS
                .iter()
                .find(|(n, p, _)| n == name && *p == property.name());
            let mut problems = Vec::new();
            if class_matches(&caller, counterexample, &named, &classes) {
                match &caller {
                    Caller::Account(a) if named.contains(a) => by_named += 1,
                    _ => by_unnamed += 1,
                }
            } else {
                problems.push(format!(
                    "the counterexample's caller {caller:?} ({}) is not what the concrete analysis grants {classes:?}",
                    counterexample.principal
                ));
            }
            // Public access must be refuted by a caller nobody named.
            let named_caller = matches!(&caller, Caller::Account(a) if named.contains(a));
            if classes.contains("anyone") && named_caller {
                asked_again += 1;
                match prover.prove_unnamed(&input.text, job.subject, &job.arn, &job.zone, *property)
                {
                    Verdict::Refuted { counterexample } => {
                        let again = caller_of(&counterexample);
                        if matches!(&again, Caller::Account(a) if named.contains(a)) {
                            problems.push(format!(
                                "asked of unnamed callers, the caller is the named {again:?}"
                            ));
                        }
                    }
                    other => problems.push(format!(
                        "public in the concrete analysis, but asked of unnamed callers the proof gives {other:?}"
                    )),
                }
            }
            match (exception, problems.is_empty()) {
                (None, true) | (Some(_), false) => {}
                (None, false) => disagreements.push(format!(
                    "{name} {}: {}",
                    property.name(),
                    problems.join("; ")
                )),
                (Some((_, _, why)), true) => disagreements.push(format!(
                    "{name} {}: listed as an exception ({why}) but the classes agree",
                    property.name()
                )),
            }
        }
    }
    eprintln!(
        "verdicts: {counts:?}; refutations by an unnamed caller {by_unnamed}, by a named party {by_named}; asked again of unnamed callers {asked_again}; solver time limit {timed_out:?}; proofs {:.1} s on {} workers; solver: {:?}",
        elapsed.as_secs_f64(),
        proofs.workers,
        proofs.stats
    );
    let total: usize = counts.values().sum();
    assert!(
        timed_out.len() * 50 <= total,
        "more than 2% of the properties timed out: {timed_out:?}"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    if only.is_none() {
        // The corpus has both outcomes in number: a prover that always says
        // one thing cannot pass; and both kinds of caller.
        assert!(
            counts.get("proved").copied().unwrap_or(0) >= 300,
            "{counts:?}"
        );
        assert!(refuted_checked >= 100, "{counts:?}");
        assert!(
            by_unnamed >= 50 && by_named >= 10,
            "{by_unnamed} / {by_named}"
        );
    }
}

/// What the proofs of a document are about (the test proves each corpus
/// document as `check-policy --prove` would): the subject, the ARN it is
/// attached to in the synthetic inventory, and the zone.
fn proof_subject(input: &CheckInput) -> Option<(ecr_audit::prove::Subject, String, Zone)> {
    use ecr_audit::prove::Subject;
    let zone = check::zone(input);
    match input.kind {
        check::Kind::Repository => Some((
            Subject::Repository,
            check::repository_arn(&input.account),
            zone,
        )),
        check::Kind::Registry => Some((
            Subject::Registry,
            ecr_audit::model::any_repository_arn("aws", check::REGION, &input.account),
            zone,
        )),
        check::Kind::Trust => Some((Subject::Role, check::role_arn(&input.account), zone)),
        check::Kind::Identity => None,
    }
}

/// What the concrete analysis says about outside access for one property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutsideAccess {
    /// No outside class is granted any action of the property.
    None,
    /// Granted only through constructs the analysis cannot decide.
    Uncertain,
    /// Granted for certain.
    Certain,
}

/// The concrete analysis's answer to a property, for the cross-check with
/// its proof.
fn concrete_outside(input: &CheckInput, property: ecr_audit::prove::Property) -> OutsideAccess {
    use ecr_audit::prove::Subject;
    let Some((subject, arn, zone)) = proof_subject(input) else {
        return OutsideAccess::None;
    };
    if subject == Subject::Role {
        let t = identity::analyze_trust_policy(&input.text, &arn, &zone);
        let analyzable = t.policy.as_ref().is_none_or(|p| p.analyzable);
        return if !t.assumable_from_outside.is_empty() {
            OutsideAccess::Certain
        } else if !analyzable {
            OutsideAccess::Uncertain
        } else {
            OutsideAccess::None
        };
    }
    let target = match subject {
        Subject::Registry => Target::Registry(input.registry_scope),
        _ => Target::Repository,
    };
    let a = access::analyze_resource_policy(&input.text, target, &arn, &zone);
    let wanted = property.actions(subject);
    let mut out = OutsideAccess::None;
    for g in a.grants.iter().filter(|g| g.outside) {
        if g.certain_actions.iter().any(|x| wanted.contains(x)) {
            return OutsideAccess::Certain;
        }
        if g.actions.iter().any(|x| wanted.contains(x)) {
            out = OutsideAccess::Uncertain;
        }
    }
    // A document that does not parse is not understood at all.
    if a.grants.is_empty()
        && a.policy
            .problems
            .iter()
            .any(|p| p.contains("does not parse"))
    {
        return OutsideAccess::Uncertain;
    }
    out
}
