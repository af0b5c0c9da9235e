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

use crate::access::{AccessFacts, PolicyFacts};
use crate::inventory::{AccountId, Inventory};
use crate::model::{
    self, AuditModel, EntityFacts, PrincipalFacts, PrincipalKind, ResourceKind, TrustZone,
};
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
        .filter(|e| {
            matches!(&e.facts, EntityFacts::Principal(p)
                if p.kind == PrincipalKind::Role && (p.facts.grants.ecr_write || p.facts.grants.ecr_permissions))
        })
        .map(|e| e.arn.as_str())
        .collect();
    for account in &inventory.accounts {
        let owner_zone = Arc::new(zone.for_owner(&account.id));
        for region in &account.regions {
            let partition = model::region_partition(region);
            if let Some(registry) = &region.registry {
                if let Some(text) = registry.policy.as_deref() {
                    out.push(ProofJob {
                        subject: Subject::Registry,
                        arn: model::registry_arn(partition, &region.region, &account.id),
                        resource_arn: model::any_repository_arn(
                            partition,
                            &region.region,
                            &account.id,
                        ),
                        account: account.id.to_string(),
                        policy: text.to_string(),
                        zone: Arc::clone(&owner_zone),
                        properties: Property::of_registry(model::registry_policy_scope(registry)),
                    });
                }
            }
            // A creation template's repository policy, as the repositories
            // it will create get it.
            let templates = region
                .registry
                .iter()
                .flat_map(|r| &r.repository_creation_templates);
            for template in templates {
                if let Some(text) = template.repository_policy.as_deref() {
                    out.push(ProofJob {
                        subject: Subject::Repository,
                        arn: model::templates::template_arn(
                            partition,
                            &region.region,
                            &account.id,
                            &template.prefix,
                        ),
                        resource_arn: model::templates::future_repository_arn(
                            partition,
                            &region.region,
                            &account.id,
                            &template.prefix,
                        ),
                        account: account.id.to_string(),
                        policy: text.to_string(),
                        zone: Arc::clone(&owner_zone),
                        properties: Property::of(Subject::Repository),
                    });
                }
            }
            for repo in &region.repositories {
                if let Some(text) = repo.policy.as_deref() {
                    out.push(ProofJob {
                        subject: Subject::Repository,
                        arn: repo.repository_arn.clone(),
                        resource_arn: repo.repository_arn.clone(),
                        account: account.id.to_string(),
                        policy: text.to_string(),
                        zone: Arc::clone(&owner_zone),
                        properties: Property::of(Subject::Repository),
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
                        account: account.id.to_string(),
                        policy: role.assume_role_policy_document.clone(),
                        zone: Arc::clone(&owner_zone),
                        properties: Property::of(Subject::Role),
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
    trusted_accounts: &std::collections::BTreeSet<AccountId>,
    options: &ProverOptions,
    workers: usize,
) -> Result<ProofRun, ProveError> {
    let zone = TrustZone::from_inventory(inventory, trusted_accounts);
    run(&jobs(inventory, model, &zone), options, workers)
}

/// The facts a proof's outcome goes into: a role's, or a registry's or
/// repository's policy and access facts.
enum ProvedFacts<'a> {
    Role(&'a mut PrincipalFacts),
    Resource {
        policy: &'a mut PolicyFacts,
        access: &'a mut AccessFacts,
    },
}

impl ProvedFacts<'_> {
    fn of(facts: &mut EntityFacts) -> ProvedFacts<'_> {
        match facts {
            EntityFacts::Principal(p) => ProvedFacts::Role(&mut p.facts),
            EntityFacts::Registry(r) => ProvedFacts::Resource {
                policy: &mut r.policy,
                access: &mut r.access,
            },
            EntityFacts::Repository(r) => ProvedFacts::Resource {
                policy: &mut r.policy,
                access: &mut r.access,
            },
            EntityFacts::CreationTemplate(t) => ProvedFacts::Resource {
                policy: &mut t.policy,
                access: &mut t.access,
            },
        }
    }

    fn policy(&mut self) -> &mut PolicyFacts {
        match self {
            ProvedFacts::Role(f) => &mut f.policy,
            ProvedFacts::Resource { policy, .. } => policy,
        }
    }

    /// Does the concrete analysis report outside access for this property?
    /// `services`: count services granted access with no source condition,
    /// whose facts do not say which actions (right for "is it reported at
    /// all", too coarse for "is it reported for this property").
    fn concrete_reports(&self, property: Property, services: bool) -> bool {
        let a = match self {
            ProvedFacts::Role(f) => return !f.assumable_from_outside.is_empty(),
            ProvedFacts::Resource { access, .. } => access,
        };
        let services = services && !a.unscoped_services.is_empty();
        match property {
            Property::Read => a.public_read || !a.external_read.is_empty() || services,
            Property::Write | Property::Permissions => {
                a.public_write || !a.external_write.is_empty() || services
            }
            Property::RegistryActions => !a.outside_registry_actions.is_empty(),
            Property::Assume => false,
        }
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
        // A repository policy's proof is of a repository or of the
        // creation template that will give repositories that policy.
        let kinds: &[ResourceKind] = match p.subject {
            Subject::Repository => &[ResourceKind::Repository, ResourceKind::CreationTemplate],
            Subject::Registry => &[ResourceKind::Registry],
            Subject::Role => &[ResourceKind::IamPrincipal],
        };
        let found = kinds
            .iter()
            .find_map(|kind| index.get(&(*kind, p.arn.clone())));
        let Some(&i) = found else {
            warnings.push(format!(
                "proof of {} for {} has no entity in the model",
                p.property.name(),
                p.arn
            ));
            continue;
        };
        let mut facts = ProvedFacts::of(&mut model.entities[i].facts);
        let line = format!("{} {}", p.property.name(), p.verdict.name());
        match &mut facts {
            ProvedFacts::Role(f) => f.proofs.insert(line),
            ProvedFacts::Resource { access, .. } => access.proofs.insert(line),
        };
        match &p.verdict {
            Verdict::Refuted { counterexample } => {
                let reported = facts.concrete_reports(p.property, true);
                let summary = counterexample.summary();
                match &mut facts {
                    ProvedFacts::Role(f) => f.counterexamples.insert(summary),
                    ProvedFacts::Resource { access, .. } => match p.property {
                        Property::Read => access.read_counterexamples.insert(summary),
                        Property::RegistryActions => {
                            access.registry_counterexamples.insert(summary)
                        }
                        _ => access.write_counterexamples.insert(summary),
                    },
                };
                if !reported {
                    warnings.push(format!(
                        "{}: the proof of \"{}\" found outside access the concrete analysis did not report ({}); it is reported from the proof",
                        p.arn,
                        p.property.sentence(),
                        counterexample.summary()
                    ));
                    let who = format!("{} (found by proof)", counterexample.principal);
                    match &mut facts {
                        ProvedFacts::Role(f) => {
                            f.assumable_from_outside.insert(who);
                        }
                        ProvedFacts::Resource { access, .. } => match p.property {
                            Property::Read => {
                                access.external_read.insert(who);
                            }
                            Property::RegistryActions => {
                                access
                                    .outside_registry_actions
                                    .insert(counterexample.action.clone());
                                access.outside_registry_principals.insert(who);
                            }
                            _ => {
                                access.external_write.insert(who);
                            }
                        },
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
                let reported = facts.concrete_reports(p.property, false);
                if reported && comparable && facts.policy().analyzable {
                    warnings.push(format!(
                        "{}: the concrete analysis reports outside access that the proof of \"{}\" rules out; the finding is kept (please report this disagreement)",
                        p.arn,
                        p.property.sentence()
                    ));
                }
            }
            Verdict::Unknown { reason } => {
                let policy = facts.policy();
                policy.problems.insert(format!(
                    "proof of \"{}\" is unknown: {reason}",
                    p.property.sentence()
                ));
                policy.analyzable = false;
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
    use std::collections::BTreeSet;

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
        assert!(entity(&m, &arn)
            .facts
            .access()
            .unwrap()
            .external_read
            .is_empty());
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
        let a = entity(&m, &arn).facts.access().unwrap();
        assert_eq!(
            a.external_read,
            BTreeSet::from(["arn:aws:iam::999999999999:root (found by proof)".to_string()])
        );
        assert_eq!(a.read_counterexamples.len(), 1);
        assert_eq!(a.proofs, BTreeSet::from(["read refuted".to_string()]));
    }

    #[test]
    fn unknown_is_a_problem_and_a_contradicting_proof_warns() {
        let mut m = demo_model();
        let public = entity(&m, "repository/public/sdk-examples").arn.clone();
        assert!(entity(&m, &public).facts.access().unwrap().public_read);
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
        let p = entity(&m, &closed).facts.policy();
        assert!(!p.analyzable);
        assert!(p.problems.iter().any(|x| x.contains("the solver gave up")));
    }
}
