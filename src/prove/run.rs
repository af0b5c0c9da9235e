//! Proofs over a whole inventory: every repository and registry with a
//! policy, and every role that can write to ECR, on a pool of solver
//! processes sharing one answer cache.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use super::{Proof, ProofCache, Property, Prover, ProverOptions, ProverStats, Subject};
use crate::access::Zone;
use crate::finding::ResourceKind;
use crate::inventory::Inventory;
use crate::model::{self, AuditModel, TrustZone};

/// Stack of a prover thread.
const PROVER_STACK: usize = 256 * 1024 * 1024;

/// One subject to prove.
#[derive(Debug, Clone)]
pub struct ProofJob {
    pub subject: Subject,
    /// The ARN reports name (the registry's synthetic ARN for a registry).
    pub arn: String,
    /// The ARN the policy is asked about (a repository of the registry for a
    /// registry policy).
    pub resource_arn: String,
    pub account: String,
    pub policy: String,
    /// Shared by every job of an account.
    pub zone: Arc<Zone>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProofRun {
    pub proofs: Vec<Proof>,
    pub stats: ProverStats,
    pub subjects: usize,
    pub workers: usize,
    pub elapsed_ms: u64,
}

impl ProofRun {
    pub fn count(&self, verdict: &str) -> usize {
        self.proofs
            .iter()
            .filter(|p| p.verdict.name() == verdict)
            .count()
    }
}

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
) -> Result<ProofRun, String> {
    let zone = TrustZone::from_inventory(inventory, trusted_accounts);
    run(&jobs(inventory, model, &zone), options, workers)
}

/// Prove every property of every job on `workers` solver processes.
pub fn run(jobs: &[ProofJob], options: &ProverOptions, workers: usize) -> Result<ProofRun, String> {
    super::solver_available()?;
    let started = Instant::now();
    let cache = ProofCache::default();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<Proof>)>> = Mutex::new(Vec::new());
    let stats: Mutex<ProverStats> = Mutex::new(ProverStats::default());
    let workers = workers.clamp(1, jobs.len().max(1));
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            // Symbolic compilation recurses over the policy's terms: a long
            // policy needs more than a default thread stack.
            let spawned = std::thread::Builder::new()
                .name("ecr-audit-prover".into())
                .stack_size(PROVER_STACK)
                .spawn_scoped(s, || {
                    let mut prover = match Prover::new(options.clone(), &cache) {
                        Ok(p) => p,
                        Err(e) => {
                            errors.lock().expect("lock").push(e);
                            return;
                        }
                    };
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        let proofs = Property::of(job.subject)
                            .iter()
                            .map(|property| Proof {
                                subject: job.subject,
                                arn: job.arn.clone(),
                                account: job.account.clone(),
                                property: *property,
                                verdict: prover.prove(
                                    &job.policy,
                                    job.subject,
                                    &job.resource_arn,
                                    &job.zone,
                                    *property,
                                ),
                            })
                            .collect();
                        results.lock().expect("lock").push((i, proofs));
                    }
                    stats.lock().expect("lock").add(&prover.stats);
                });
            if let Err(e) = spawned {
                errors
                    .lock()
                    .expect("lock")
                    .push(format!("cannot start a prover thread: {e}"));
            }
        }
    });
    let errors = errors.into_inner().expect("lock");
    if let Some(e) = errors.first() {
        return Err(e.clone());
    }
    let mut results = results.into_inner().expect("lock");
    results.sort_by_key(|(i, _)| *i);
    Ok(ProofRun {
        proofs: results.into_iter().flat_map(|(_, p)| p).collect(),
        stats: stats.into_inner().expect("lock"),
        subjects: jobs.len(),
        workers,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}
