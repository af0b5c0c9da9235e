//! Translation throughput on the policy corpus: policies translated per
//! second, plus strict-validation and concrete-authorization costs.
//! Run: `cargo run --release --example cedar_bench`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecr_audit::cedar;
use ecr_audit::policy::eval::Request;
use ecr_audit::policy::{self, PolicyKind, RequestContext, RequestPrincipal};
use std::path::Path;
use std::time::Instant;

fn corpus() -> Vec<(PolicyKind, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policies");
    let mut out = Vec::new();
    for kind_dir in ["repository", "registry", "identity", "trust"] {
        let Ok(dir) = std::fs::read_dir(root.join(kind_dir)) else {
            continue;
        };
        for e in dir.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            let Ok(case) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let kind = match kind_dir {
                "identity" => PolicyKind::Identity,
                "trust" => PolicyKind::Trust,
                _ => PolicyKind::Resource,
            };
            let text = match case.get("policy_text").and_then(|t| t.as_str()) {
                Some(t) => t.to_owned(),
                None => case["policy"].to_string(),
            };
            out.push((kind, text));
        }
    }
    out
}

fn main() {
    let docs: Vec<_> = corpus()
        .into_iter()
        .filter_map(|(k, t)| policy::parse(&t, k).ok())
        .collect();
    let statements: usize = docs.iter().map(|d| d.statements.len()).sum();
    let _ = cedar::schema::schema(); // one-off parse, not part of the rate
    let rounds = 20;
    let start = Instant::now();
    let mut translations = Vec::new();
    for _ in 0..rounds {
        translations = docs.iter().map(cedar::translate).collect();
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "translate: {} documents ({} statements) × {rounds} in {:.3} s: {:.0} documents/s, {:.0} policies/s",
        docs.len(),
        statements,
        t,
        (docs.len() * rounds) as f64 / t,
        (statements * rounds) as f64 / t
    );
    let start = Instant::now();
    for tr in &translations {
        let _ = cedar::validate(tr);
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "validate (strict): {:.0} documents/s",
        translations.len() as f64 / t
    );
    let req = Request {
        principal: RequestPrincipal::from_arn("arn:aws:sts::444455556666:assumed-role/app/s1")
            .expect("principal"),
        action: "ecr:BatchGetImage".into(),
        resource: "arn:aws:ecr:us-east-1:111122223333:repository/app".into(),
        context: RequestContext::new()
            .with("aws:PrincipalOrgID", ["o-a1b2c3d4e5"])
            .with("aws:SourceIp", ["203.0.113.7"]),
    };
    let start = Instant::now();
    let mut n = 0;
    for tr in &translations {
        for _ in 0..10 {
            let _ = tr.request(&req);
            n += 1;
        }
    }
    let build = start.elapsed().as_secs_f64();
    let start = Instant::now();
    for tr in &translations {
        for _ in 0..10 {
            let _ = tr.authorize(&req);
        }
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "concrete request: build {:.1} µs, build + authorize {:.1} µs",
        build * 1e6 / n as f64,
        t * 1e6 / n as f64
    );
}
