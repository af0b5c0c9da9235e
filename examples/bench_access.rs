//! Policies analysed per second (parse + normalize + decide with Cedar) on
//! the policy corpus, a realistic mix of repository, registry, identity and
//! trust documents. Run: `cargo run --release --example bench_access`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use ecr_audit::access::{self, identity, RegistryScope, Target, Zone};

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/policies");
    let mut docs: Vec<(String, String)> = Vec::new();
    for kind in ["repository", "registry", "identity", "trust"] {
        for entry in std::fs::read_dir(format!("{root}/{kind}")).unwrap() {
            let path = entry.unwrap().path();
            let case: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let text = match case.get("policy_text") {
                Some(serde_json::Value::String(t)) => t.clone(),
                _ => serde_json::to_string(&case["policy"]).unwrap(),
            };
            docs.push((kind.to_string(), text));
        }
    }
    let zone = Zone {
        owner: "111122223333".into(),
        accounts: ["111122223333".to_string(), "444455556666".to_string()].into(),
        org_id: Some("o-a1b2c3d4e5".into()),
        time: None,
    };
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let start = Instant::now();
    let mut n = 0usize;
    for _ in 0..rounds {
        for (kind, text) in &docs {
            match kind.as_str() {
                "repository" => {
                    let arn = "arn:aws:ecr:us-east-1:111122223333:repository/app";
                    std::hint::black_box(access::analyze_resource_policy(
                        text,
                        Target::Repository,
                        arn,
                        &zone,
                    ));
                }
                "registry" => {
                    let arn = "arn:aws:ecr:us-east-1:111122223333:repository/zz-any-repository-9";
                    std::hint::black_box(access::analyze_resource_policy(
                        text,
                        Target::Registry(RegistryScope::V2),
                        arn,
                        &zone,
                    ));
                }
                "identity" => {
                    let p = identity::NamedPolicy {
                        name: "p".into(),
                        text,
                    };
                    std::hint::black_box(identity::analyze_identity(
                        &[p],
                        None,
                        "111122223333",
                        &zone,
                    ));
                }
                _ => {
                    let arn = "arn:aws:iam::111122223333:role/r";
                    std::hint::black_box(identity::analyze_trust_policy(text, arn, &zone));
                }
            }
            n += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} policies ({} distinct documents x {rounds} rounds) in {secs:.2} s: {:.0} policies/s on one core",
        docs.len(),
        n as f64 / secs
    );
}
