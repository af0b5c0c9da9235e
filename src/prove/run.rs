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

/// Proves the jobs at `indices` (in order, shared with the other workers
/// through `next`).
fn prove_jobs(
    prover: &mut Prover<'_>,
    jobs: &[ProofJob],
    indices: &[usize],
    next: &AtomicUsize,
    results: &Mutex<Vec<(usize, Vec<Proof>)>>,
) {
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let Some(&i) = indices.get(n) else { break };
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
}

/// The jobs' indices: the first of each group of jobs whose verdicts are
/// shared (`Prover::verdict_group`), then the others, each in the
/// inventory's order.
fn order_by_group(jobs: &[ProofJob]) -> (Vec<usize>, Vec<usize>) {
    let mut seen = std::collections::HashSet::new();
    let (mut firsts, mut rest) = (Vec::new(), Vec::new());
    for (i, job) in jobs.iter().enumerate() {
        let group = super::verdict_group(
            &job.policy,
            job.subject,
            &job.resource_arn,
            &job.zone,
            job.properties,
        );
        if seen.insert(group) {
            firsts.push(i);
        } else {
            rest.push(i);
        }
    }
    (firsts, rest)
}

/// What every worker of a run shares.
struct Shared<'a> {
    jobs: &'a [ProofJob],
    options: &'a ProverOptions,
    cache: &'a ProofCache,
    results: &'a Mutex<Vec<(usize, Vec<Proof>)>>,
    stats: &'a Mutex<ProverStats>,
    errors: &'a Mutex<Vec<ProveError>>,
}

/// Proves the jobs at `indices` on `workers` solver processes (each its own
/// thread), until every one is done.
fn run_phase(shared: &Shared<'_>, indices: &[usize], workers: usize) {
    if indices.is_empty() {
        return;
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..workers.min(indices.len()) {
            // Symbolic compilation recurses over the policy's terms: a long
            // policy needs more than a default thread stack.
            let spawned = std::thread::Builder::new()
                .name("ecr-audit-prover".into())
                .stack_size(PROVER_STACK)
                .spawn_scoped(s, || {
                    let mut prover = match Prover::new(shared.options.clone(), shared.cache) {
                        Ok(p) => p,
                        Err(e) => {
                            shared
                                .errors
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push(e);
                            return;
                        }
                    };
                    prove_jobs(&mut prover, shared.jobs, indices, &next, shared.results);
                    shared
                        .stats
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .add(&prover.stats);
                });
            if let Err(e) = spawned {
                shared
                    .errors
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(ProveError::Thread(e));
            }
        }
    });
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
    // The first job of each group of documents that share verdicts runs
    // first, the others after every first one has: each cached verdict
    // then comes from the same document (the first in the inventory's
    // order) whatever the threads' timing, and so do the counterexamples
    // given to the others.
    let (firsts, rest) = order_by_group(jobs);
    let results: Mutex<Vec<(usize, Vec<Proof>)>> = Mutex::new(Vec::new());
    let stats: Mutex<ProverStats> = Mutex::new(ProverStats::default());
    let workers = workers.clamp(1, jobs.len().max(1));
    let errors: Mutex<Vec<ProveError>> = Mutex::new(Vec::new());
    let shared = Shared {
        jobs,
        options,
        cache: &cache,
        results: &results,
        stats: &stats,
        errors: &errors,
    };
    for phase in [firsts, rest] {
        run_phase(&shared, &phase, workers);
    }
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
