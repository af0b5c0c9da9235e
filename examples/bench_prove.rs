//! Proofs per second, with and without the answer cache, on the demo
//! organization and on a generated organization of 1,000 repositories that
//! share 50 distinct policies (taken from the policy corpus).
//! Run: `cargo run --release --example bench_prove` (needs cvc5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use ecr_audit::access::Zone;
use ecr_audit::inventory::Inventory;
use ecr_audit::model::{self, ModelOptions, TrustZone};
use ecr_audit::prove::run::{self, ProofJob};
use ecr_audit::prove::{Property, ProverOptions, Subject};

fn workers() -> usize {
    std::env::var("WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

fn demo_jobs() -> Vec<ProofJob> {
    let inv =
        Inventory::from_json(include_str!("../fixtures/demo-org.json"), "embedded demo").unwrap();
    let options = ModelOptions {
        as_of: inv.collected_at.unwrap(),
        stale_days: 30,
        unpulled_days: 90,
        trusted_accounts: Default::default(),
    };
    let m = model::build(&inv, &options);
    let zone = TrustZone::from_inventory(&inv, &options.trusted_accounts);
    ecr_audit::scan::proofs::jobs(&inv, &m, &zone)
}

/// 1,000 repositories in 5 accounts × 2 regions, policy `i % 50` of the
/// first 50 corpus repository policies that parse.
fn generated_jobs() -> Vec<ProofJob> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/policies/repository");
    let mut files: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut policies = Vec::new();
    for f in files {
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        if case.get("policy_text").is_some() {
            continue;
        }
        let text = serde_json::to_string(&case["policy"]).unwrap();
        if ecr_audit::policy::parse(&text, ecr_audit::policy::PolicyKind::Resource).is_ok() {
            policies.push(text);
        }
        if policies.len() == 50 {
            break;
        }
    }
    assert_eq!(policies.len(), 50);
    let accounts: Vec<String> = (0..5).map(|i| format!("11112222{i:04}")).collect();
    let mut jobs = Vec::new();
    for i in 0..1000 {
        let owner = &accounts[i % 5];
        let region = if i % 2 == 0 { "us-east-1" } else { "eu-west-1" };
        let arn = format!(
            "arn:aws:ecr:{region}:{owner}:repository/team-{}/app-{i}",
            i % 7
        );
        jobs.push(ProofJob {
            subject: Subject::Repository,
            arn: arn.clone(),
            resource_arn: arn,
            account: owner.clone(),
            policy: policies[i % 50].clone(),
            zone: std::sync::Arc::new(Zone {
                owner: owner.clone(),
                accounts: accounts.iter().cloned().collect(),
                org_id: Some("o-a1b2c3d4e5".into()),
                time: None,
            }),
            properties: Property::of(Subject::Repository),
        });
    }
    jobs
}

fn measure(name: &str, jobs: &[ProofJob], cache: bool, workers: usize) {
    let options = ProverOptions {
        cache,
        ..ProverOptions::default()
    };
    let start = Instant::now();
    let r = run::run(jobs, &options, workers).expect("cvc5 runs");
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<34} cache {:<3} · {:>5} subjects, {:>5} properties ({} proved, {} refuted, {} unknown) in {:>6.2} s = {:>7.1} properties/s · {} solver queries, {} cache hits, {} workers",
        if cache { "on" } else { "off" },
        r.subjects,
        r.proofs.len(),
        r.tally().proved,
        r.tally().refuted,
        r.tally().unknown,
        secs,
        r.proofs.len() as f64 / secs,
        r.stats.queries,
        r.stats.cache_hits,
        r.workers,
    );
}

fn main() {
    let w = workers();
    let demo = demo_jobs();
    let generated = generated_jobs();
    for cache in [true, false] {
        measure("demo organization", &demo, cache, w);
        measure("generated: 1,000 repos, 50 policies", &generated, cache, w);
    }
}
