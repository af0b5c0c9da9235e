//! Proofs over a whole inventory: every repository and registry with a
//! policy, and every role that can write to ECR, on a pool of solver
//! processes sharing one answer cache.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use super::{
    Proof, ProofCache, Property, ProveError, Prover, ProverOptions, ProverStats, Subject, Verdict,
};
use crate::access::Zone;

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
    /// What to prove about it: `Property::of(subject)`, or fewer (a registry
    /// policy under scope V1 governs only the registry's own actions).
    pub properties: &'static [Property],
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

/// How many properties ended in each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub proved: usize,
    pub refuted: usize,
    pub unknown: usize,
}

impl ProofRun {
    pub fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for proof in &self.proofs {
            match proof.verdict {
                Verdict::Proved => tally.proved += 1,
                Verdict::Refuted { .. } => tally.refuted += 1,
                Verdict::Unknown { .. } => tally.unknown += 1,
            }
        }
        tally
    }
}

/// Prove every property of every job on `workers` solver processes.
pub fn run(
    jobs: &[ProofJob],
    options: &ProverOptions,
    workers: usize,
) -> Result<ProofRun, ProveError> {
    super::solver_available()?;
    let started = Instant::now();
    let cache = ProofCache::default();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<Proof>)>> = Mutex::new(Vec::new());
    let stats: Mutex<ProverStats> = Mutex::new(ProverStats::default());
    let workers = workers.clamp(1, jobs.len().max(1));
    let errors: Mutex<Vec<ProveError>> = Mutex::new(Vec::new());
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
                            errors
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push(e);
                            return;
                        }
                    };
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        let proofs = job
                            .properties
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
                        results
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push((i, proofs));
                    }
                    stats
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .add(&prover.stats);
                });
            if let Err(e) = spawned {
                errors
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(ProveError::Thread(e));
            }
        }
    });
    let errors = errors
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(i, _)| *i);
    Ok(ProofRun {
        proofs: results.into_iter().flat_map(|(_, p)| p).collect(),
        stats: stats
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        subjects: jobs.len(),
        workers,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}
