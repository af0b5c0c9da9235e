//! Cross-check between the corpus expectations and the concrete evaluator,
//! on the repository and registry cases simple enough to decide by trying
//! representative principals: no Condition, no policy variable in Resource,
//! no service principal.
//!
//! For each such case, the widest class of principal the evaluator allows
//! some repository-level read (resp. write/permissions) action must equal
//! the expected `read` (resp. `write`).

use ecr_audit::policy::actions::{self, ActionClass, ResourceScope};
use ecr_audit::policy::eval::{evaluate, Decision, Request};
use ecr_audit::policy::{parse, PolicyKind, Principal, RequestContext, RequestPrincipal};
use serde_json::Value;
use std::path::Path;

const REPO: &str = "arn:aws:ecr:us-east-1:111122223333:repository/app";

/// Anonymous, principals of outside, zone and owner accounts, and every IAM
/// principal the policy names (classified by its account).
fn principals(
    doc: &ecr_audit::policy::PolicyDocument,
    case: &Value,
) -> Vec<(&'static str, RequestPrincipal)> {
    let mut out = vec![("public", RequestPrincipal::Anonymous)];
    for acct in ["999988887777", "123456789012"] {
        out.push(("external", RequestPrincipal::from_arn(acct).unwrap()));
        out.push((
            "external",
            RequestPrincipal::from_arn(&format!("arn:aws:iam::{acct}:user/x")).unwrap(),
        ));
    }
    let mut zone: Vec<String> = Vec::new();
    for list in ["org_accounts", "trusted_accounts"] {
        if let Some(a) = case.get(list).and_then(Value::as_array) {
            zone.extend(a.iter().filter_map(|v| v.as_str().map(str::to_owned)));
        }
    }
    let owner = case["account"].as_str().unwrap();
    for acct in zone.iter().filter(|a| a.as_str() != owner) {
        out.push(("org-only", RequestPrincipal::from_arn(acct).unwrap()));
        out.push((
            "org-only",
            RequestPrincipal::from_arn(&format!("arn:aws:iam::{acct}:role/x")).unwrap(),
        ));
    }
    let class_of = |account: &str| {
        if account == owner {
            "owner-only"
        } else if zone.iter().any(|a| a == account) {
            "org-only"
        } else {
            "external"
        }
    };
    for st in &doc.statements {
        for e in st.principal.iter().flat_map(|p| p.entries.iter()) {
            match &e.principal {
                Principal::Iam(arn) => {
                    out.push((class_of(&arn.account), RequestPrincipal::Iam(arn.clone())));
                }
                Principal::Account(a) => {
                    out.push((class_of(a), RequestPrincipal::from_arn(a).unwrap()));
                }
                _ => {}
            }
        }
    }
    // Widest class first.
    let rank = |c: &str| {
        ["public", "external", "org-only", "owner-only"]
            .iter()
            .position(|x| *x == c)
    };
    out.sort_by_key(|(c, _)| rank(c));
    out.push(("owner-only", RequestPrincipal::from_arn(owner).unwrap()));
    out.push((
        "owner-only",
        RequestPrincipal::from_arn(&format!("arn:aws:iam::{owner}:role/ci/Builder")).unwrap(),
    ));
    out
}

fn widest(
    doc: &ecr_audit::policy::PolicyDocument,
    case: &Value,
    want: ActionClass,
) -> &'static str {
    for (class, p) in principals(doc, case) {
        for a in actions::all() {
            let class_ok = match want {
                ActionClass::Read => a.class() == ActionClass::Read,
                _ => a.class() != ActionClass::Read,
            };
            // Under registry policy scope V1 only the registry's own
            // actions are governed: a grant of any other has no effect.
            let governed = case["registry_scope"] != "V1"
                || actions::REGISTRY_POLICY_ACTIONS.contains(&a.name);
            if !class_ok || a.scope != ResourceScope::Repository || !governed {
                continue;
            }
            let req = Request {
                principal: p.clone(),
                action: a.name.to_owned(),
                resource: REPO.to_owned(),
                context: RequestContext::new(),
            };
            match evaluate(&[doc], &req) {
                Decision::Allow => return class,
                Decision::Unknown => panic!("unexpected Unknown"),
                _ => {}
            }
        }
    }
    "none"
}

#[test]
fn simple_cases_agree_with_the_evaluator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policies");
    let mut checked = 0;
    for kind in ["repository", "registry"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(kind))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let case: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let Some(policy) = case.get("policy") else {
                continue;
            };
            if case["expect"]["verdict"] == "unanalyzable" {
                continue;
            }
            let doc = parse(&policy.to_string(), PolicyKind::Resource).unwrap();
            let simple = doc.statements.iter().all(|s| {
                s.conditions.is_empty()
                    && s.resource
                        .as_ref()
                        .is_none_or(|r| r.patterns.iter().all(|p| !p.contains("${")))
                    && s.principal.as_ref().is_some_and(|p| {
                        p.entries
                            .iter()
                            .all(|e| !matches!(e.principal, Principal::Service(_)))
                    })
            });
            if !simple {
                continue;
            }
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            assert_eq!(
                widest(&doc, &case, ActionClass::Read),
                case["expect"]["read"],
                "{kind}/{name}: read"
            );
            assert_eq!(
                widest(&doc, &case, ActionClass::Write),
                case["expect"]["write"],
                "{kind}/{name}: write"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} simple cases");
}
