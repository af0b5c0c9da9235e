//! Proofs in a scan: which subjects of an inventory are proved ([`jobs`]),
//! and the outcomes folded into the audit model, so that they reach the same
//! rules and reports as the concrete analysis:
//!
//! - every verdict is listed in `proofs` ("read proved");
//! - a refuted property adds its replayed counterexample to
//!   `counterexamples`, and, if the concrete analysis had not reported that
//!   outside access, the access itself (the counterexample is a real
//!   request), with a warning: the two analyses disagree;
//! - an unknown verdict is a problem of the policy (ECR001): unsure is
//!   reported as unsure;
//! - a proved property the concrete analysis reports as reachable keeps the
//!   finding and warns.

use std::sync::Arc;

use serde_json::Value;

use crate::inventory::Inventory;
use crate::model::{self, AuditModel, ResourceKind, TrustZone};
use crate::prove::run::{run, ProofJob, ProofRun};
use crate::prove::{Proof, Property, ProveError, ProverOptions, Subject, Verdict};

/// The subjects of an inventory: repositories and registries with a policy,
/// and roles the model says can write to ECR (their trust policies).
pub fn jobs(inventory: &Inventory, model: &AuditModel, zone: &TrustZone) -> Vec<ProofJob> {
    let mut out = Vec::new();
    let ecr_writers: std::collections::HashSet<&str> = model
        .entities
        .iter()
        .filter(|e| e.kind == ResourceKind::IamPrincipal)
        .filter(|e| e.attrs["kind"] == "role")
        .filter(|e| e.attrs["ecr_write"] == true || e.attrs["ecr_permissions"] == true)
        .map(|e| e.arn.as_str())
        .collect();
    for account in &inventory.accounts {
        let owner_zone = Arc::new(zone.for_owner(&account.id));
        for region in &account.regions {
            let partition = region
                .repositories
                .first()
                .map(|r| model::partition_of(&r.repository_arn))
                .unwrap_or("aws");
            if let Some(text) = region.registry.as_ref().and_then(|r| r.policy.as_deref()) {
                out.push(ProofJob {
                    subject: Subject::Registry,
                    arn: model::registry_arn(partition, &region.region, &account.id),
                    resource_arn: model::any_repository_arn(partition, &region.region, &account.id),
                    account: account.id.clone(),
                    policy: text.to_string(),
                    zone: Arc::clone(&owner_zone),
                });
            }
            for repo in &region.repositories {
                if let Some(text) = repo.policy.as_deref() {
                    out.push(ProofJob {
                        subject: Subject::Repository,
                        arn: repo.repository_arn.clone(),
                        resource_arn: repo.repository_arn.clone(),
                        account: account.id.clone(),
                        policy: text.to_string(),
                        zone: Arc::clone(&owner_zone),
                    });
                }
            }
        }
        if let Some(iam) = &account.iam {
            for role in &iam.roles {
                if ecr_writers.contains(role.arn.as_str()) {
                    out.push(ProofJob {
                        subject: Subject::Role,
                        arn: role.arn.clone(),
                        resource_arn: role.arn.clone(),
                        account: account.id.clone(),
                        policy: role.assume_role_policy_document.clone(),
                        zone: Arc::clone(&owner_zone),
                    });
                }
            }
        }
    }
    out
}

/// Prove the subjects of an inventory ([`jobs`]) with its audit model.
pub fn prove_model(
    inventory: &Inventory,
    model: &AuditModel,
    trusted_accounts: &std::collections::BTreeSet<String>,
    options: &ProverOptions,
    workers: usize,
) -> Result<ProofRun, ProveError> {
    let zone = TrustZone::from_inventory(inventory, trusted_accounts);
    run(&jobs(inventory, model, &zone), options, workers)
}

fn set_insert(v: &mut Value, path: &[&str], item: String) {
    let mut cur = v;
    for p in path {
        cur = &mut cur[*p];
    }
    if let Value::Array(a) = cur {
        if !a.iter().any(|x| x.as_str() == Some(item.as_str())) {
            a.push(Value::String(item));
            a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
        }
    } else {
        *cur = Value::Array(vec![Value::String(item)]);
    }
}

fn non_empty(v: &Value) -> bool {
    v.as_array().is_some_and(|a| !a.is_empty())
}

/// Does the concrete analysis report outside access for this property?
/// `services`: count services granted access with no source condition,
/// whose facts do not say which actions (right for "is it reported at
/// all", too coarse for "is it reported for this property").
fn concrete_reports(attrs: &Value, subject: Subject, property: Property, services: bool) -> bool {
    if subject == Subject::Role {
        return non_empty(&attrs["assumable_from_outside"]);
    }
    let a = &attrs["access"];
    match property {
        Property::Read => {
            a["public_read"] == true
                || non_empty(&a["external_read"])
                || (services && non_empty(&a["unscoped_services"]))
        }
        Property::Write | Property::Permissions => {
            a["public_write"] == true
                || non_empty(&a["external_write"])
                || (services && non_empty(&a["unscoped_services"]))
        }
        Property::RegistryActions => non_empty(&a["outside_registry_actions"]),
        Property::Assume => false,
    }
}

/// Apply proofs to the model's entities; the warnings say where the proofs
/// and the concrete analysis disagree.
pub fn apply_proofs(model: &mut AuditModel, proofs: &[Proof]) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (i, e) in model.entities.iter().enumerate() {
        index.insert((e.kind, e.arn.clone()), i);
    }
    for p in proofs {
        let kind = match p.subject {
            Subject::Repository => ResourceKind::Repository,
            Subject::Registry => ResourceKind::Registry,
            Subject::Role => ResourceKind::IamPrincipal,
        };
        let Some(&i) = index.get(&(kind, p.arn.clone())) else {
            warnings.push(format!(
                "proof of {} for {} has no entity in the model",
                p.property.name(),
                p.arn
            ));
            continue;
        };
        let attrs = &mut model.entities[i].attrs;
        let base: &[&str] = if p.subject == Subject::Role {
            &[]
        } else {
            &["access"]
        };
        let path = |leaf: &'static str| -> Vec<&'static str> {
            let mut v = base.to_vec();
            v.push(leaf);
            v
        };
        set_insert(
            attrs,
            &path("proofs"),
            format!("{} {}", p.property.name(), p.verdict.name()),
        );
        match &p.verdict {
            Verdict::Refuted { counterexample } => {
                let reported = concrete_reports(attrs, p.subject, p.property, true);
                let leaf = match (p.subject, p.property) {
                    (Subject::Role, _) => "counterexamples",
                    (_, Property::Read) => "read_counterexamples",
                    (_, Property::RegistryActions) => "registry_counterexamples",
                    _ => "write_counterexamples",
                };
                set_insert(attrs, &path(leaf), counterexample.summary());
                if !reported {
                    warnings.push(format!(
                        "{}: the proof of \"{}\" found outside access the concrete analysis did not report ({}); it is reported from the proof",
                        p.arn,
                        p.property.sentence(),
                        counterexample.summary()
                    ));
                    let who = format!("{} (found by proof)", counterexample.principal);
                    match (p.subject, p.property) {
                        (Subject::Role, _) => set_insert(attrs, &["assumable_from_outside"], who),
                        (_, Property::Read) => set_insert(attrs, &["access", "external_read"], who),
                        (_, Property::RegistryActions) => {
                            set_insert(
                                attrs,
                                &["access", "outside_registry_actions"],
                                counterexample.action.clone(),
                            );
                            set_insert(attrs, &["access", "outside_registry_principals"], who);
                        }
                        _ => set_insert(attrs, &["access", "external_write"], who),
                    }
                }
            }
            Verdict::Proved => {
                // Write and permissions share the concrete facts: compare
                // only when both are proved.
                let comparable = match p.property {
                    Property::Write | Property::Permissions => proofs.iter().all(|q| {
                        q.arn != p.arn
                            || !matches!(q.property, Property::Write | Property::Permissions)
                            || q.verdict == Verdict::Proved
                    }),
                    _ => true,
                };
                let reported = concrete_reports(attrs, p.subject, p.property, false);
                if reported && comparable && attrs["policy"]["analyzable"] == true {
                    warnings.push(format!(
                        "{}: the concrete analysis reports outside access that the proof of \"{}\" rules out; the finding is kept (please report this disagreement)",
                        p.arn,
                        p.property.sentence()
                    ));
                }
            }
            Verdict::Unknown { reason } => {
                set_insert(
                    attrs,
                    &["policy", "problems"],
                    format!(
                        "proof of \"{}\" is unknown: {reason}",
                        p.property.sentence()
                    ),
                );
                attrs["policy"]["analyzable"] = Value::Bool(false);
            }
        }
    }
    warnings.sort();
    warnings.dedup();
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;
    use crate::model::{build, ModelOptions};
    use crate::prove::Counterexample;

    fn demo_model() -> AuditModel {
        let inv =
            Inventory::from_json(include_str!("../../fixtures/demo-org.json"), "demo").unwrap();
        build(
            &inv,
            &ModelOptions {
                as_of: inv.collected_at.unwrap(),
                stale_days: 30,
                unpulled_days: 90,
                trusted_accounts: Default::default(),
            },
        )
    }

    fn entity<'a>(m: &'a AuditModel, suffix: &str) -> &'a crate::model::AuditEntity {
        m.entities.iter().find(|e| e.arn.ends_with(suffix)).unwrap()
    }

    fn proof(arn: &str, property: Property, verdict: Verdict) -> Proof {
        Proof {
            subject: Subject::Repository,
            arn: arn.to_string(),
            account: String::new(),
            property,
            verdict,
        }
    }

    #[test]
    fn a_refutation_the_concrete_analysis_missed_is_reported_and_warned() {
        let mut m = demo_model();
        // A repository the concrete analysis finds closed to outsiders.
        let arn = entity(&m, "repository/platform/base-images/python")
            .arn
            .clone();
        assert_eq!(
            entity(&m, &arn).attrs["access"]["external_read"],
            serde_json::json!([])
        );
        let cx = Counterexample {
            principal: "arn:aws:iam::999999999999:root".into(),
            outside: "account 999999999999 is outside the zone".into(),
            action: "ecr:BatchGetImage".into(),
            resource: arn.clone(),
            context: vec![],
            absent: vec!["aws:principalorgid".into()],
        };
        let warnings = apply_proofs(
            &mut m,
            &[proof(
                &arn,
                Property::Read,
                Verdict::Refuted {
                    counterexample: Box::new(cx),
                },
            )],
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let a = &entity(&m, &arn).attrs["access"];
        assert_eq!(
            a["external_read"],
            serde_json::json!(["arn:aws:iam::999999999999:root (found by proof)"])
        );
        assert_eq!(a["read_counterexamples"].as_array().unwrap().len(), 1);
        assert_eq!(a["proofs"], serde_json::json!(["read refuted"]));
    }

    #[test]
    fn unknown_is_a_problem_and_a_contradicting_proof_warns() {
        let mut m = demo_model();
        let public = entity(&m, "repository/public/sdk-examples").arn.clone();
        assert_eq!(entity(&m, &public).attrs["access"]["public_read"], true);
        let closed = entity(&m, "repository/platform/base-images/python")
            .arn
            .clone();
        let warnings = apply_proofs(
            &mut m,
            &[
                proof(&public, Property::Read, Verdict::Proved),
                proof(
                    &closed,
                    Property::Write,
                    Verdict::Unknown {
                        reason: "the solver gave up".into(),
                    },
                ),
            ],
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("rules out"));
        let p = &entity(&m, &closed).attrs["policy"];
        assert_eq!(p["analyzable"], false);
        assert!(p["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().contains("the solver gave up")));
    }
}
