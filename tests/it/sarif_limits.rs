//! SARIF fit for upload: GitHub's limits (25,000 results per run, 10 MB
//! gzipped per file) enforced by folding for any scan size, and every log
//! checked with the Microsoft SARIF multitool's GitHub ingestion rules
//! (`validate --rule-kind Gh`; installed by scripts/setup-sarif-multitool).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::{repo_root, run, temp_dir};

fn multitool() -> PathBuf {
    let bin = repo_root().join(".tools/sarif-multitool/node_modules/.bin/sarif-multitool");
    assert!(
        bin.exists(),
        "the SARIF multitool is not installed: run scripts/setup-sarif-multitool (scripts/test does)"
    );
    bin
}

/// The GitHub-rule problems the multitool reports for a SARIF file (errors
/// and warnings: (rule id, message arguments)).
fn github_problems(sarif: &Path, dir: &Path) -> Vec<String> {
    let out = dir.join(format!(
        "{}.validation.sarif",
        sarif.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&out);
    let status = std::process::Command::new(multitool())
        .args(["validate", "--rule-kind", "Gh", "-o"])
        .arg(&out)
        .arg(sarif)
        .output()
        .unwrap();
    assert!(
        out.exists(),
        "the multitool wrote no result: {}",
        String::from_utf8_lossy(&status.stdout)
    );
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    log["runs"][0]["results"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["level"] == "error" || r["level"] == "warning")
                .map(|r| format!("{} {}", r["ruleId"], r["message"]["arguments"]))
                .collect()
        })
        .unwrap_or_default()
}

fn gzipped_len(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap().len()
}

/// Text a compressor cannot shrink much: hex of a simple generator.
fn noise(seed: &mut u64, len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push_str(&format!("{:016x}", *seed));
    }
    out.truncate(len);
    out
}

/// A saved JSON report of 40,000 findings over 8 accounts and 2 regions,
/// each with 1.5 KB of incompressible evidence: over both GitHub limits.
fn huge_report() -> Value {
    let mut seed = 7u64;
    let rules = [
        ("ECR101", "high"),
        ("ECR303", "medium"),
        ("ECR402", "low"),
        ("ECR102", "critical"),
    ];
    let findings: Vec<Value> = (0..40_000)
        .map(|i| {
            let (rule, severity) = rules[i % rules.len()];
            let account = format!("{:012}", 100_000_000_000u64 + (i % 8) as u64);
            let region = if i % 2 == 0 { "us-east-1" } else { "eu-west-1" };
            let name = format!("team-{}/{}", i % 50, noise(&mut seed, 40));
            let arn = format!("arn:aws:ecr:{region}:{account}:repository/{name}");
            json!({
                "rule_id": rule, "rule_name": "x", "severity": severity, "title": "t",
                "message": format!("Repository {name} finding {i}."),
                "resource_kind": "repository", "resource_arn": arn, "account": account,
                "region": region, "location": format!("aws/ecr/{account}/{region}/{name}"),
                "fingerprint": noise(&mut seed, 32),
                "details": {"evidence": noise(&mut seed, 1500)},
            })
        })
        .collect();
    json!({
        "schema": "ecr-audit/report/v1",
        "tool": {"name": "ecr-audit", "version": "0"},
        "scanned": {"as_of": "2026-11-20T06:00:00Z", "collected_at": null, "sources": ["generated"],
            "accounts": 8, "regions": ["eu-west-1", "us-east-1"], "repositories": 40000, "images": 0,
            "iam_principals": 0, "complete": true, "request_counts": {}},
        "summary": {"findings": 40000, "suppressed": 0, "below_min_severity": 0},
        "findings": findings, "errors": [], "warnings": [],
    })
}

#[test]
fn a_huge_scan_fits_github_limits_and_validates() {
    let dir = temp_dir("sarif-limits");
    let saved = dir.join("huge.json");
    std::fs::write(&saved, serde_json::to_vec(&huge_report()).unwrap()).unwrap();
    let sarif = dir.join("huge.sarif");
    let r = run(&[
        "report",
        saved.to_str().unwrap(),
        "--format",
        "sarif",
        "-o",
        sarif.to_str().unwrap(),
        "--fail-on",
        "never",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bytes = std::fs::read(&sarif).unwrap();
    let log: Value = serde_json::from_slice(&bytes).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let gz = gzipped_len(&bytes);
    eprintln!(
        "{} results, {} bytes, {gz} gzipped",
        results.len(),
        bytes.len()
    );
    assert!(results.len() <= 25_000, "{} results", results.len());
    assert!(gz <= 10_000_000, "{gz} bytes gzipped");
    assert!(r.stderr.contains("25,000 results per run"), "{}", r.stderr);
    assert!(r.stderr.contains("MB gzipped"), "{}", r.stderr);
    // The most severe findings are kept as they are: every critical one.
    let critical = results
        .iter()
        .filter(|x| x["properties"]["severity"] == "critical" && x["properties"]["folded"] == 1)
        .count();
    assert_eq!(critical, 10_000);
    let problems = github_problems(&sarif, &dir);
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn scan_sarif_passes_github_ingestion_rules() {
    let dir = temp_dir("sarif-github");
    let demo = dir.join("demo.sarif");
    let r = run(&[
        "scan",
        "--demo",
        "--format",
        "sarif",
        "-o",
        demo.to_str().unwrap(),
    ]);
    assert!(r.code != 2, "{}", r.stderr);
    assert_eq!(github_problems(&demo, &dir), Vec::<String>::new());
    // A baseline adds baselineState: still valid.
    let base = dir.join("base.json");
    run(&[
        "scan",
        "--demo",
        "--format",
        "json",
        "-o",
        base.to_str().unwrap(),
    ]);
    let with_baseline = dir.join("baseline.sarif");
    run(&[
        "scan",
        "--demo",
        "--format",
        "sarif",
        "--baseline",
        base.to_str().unwrap(),
        "-o",
        with_baseline.to_str().unwrap(),
    ]);
    assert_eq!(github_problems(&with_baseline, &dir), Vec::<String>::new());
    // The validator does catch what GitHub refuses: a result without a
    // location.
    let mut broken: Value = serde_json::from_str(&std::fs::read_to_string(&demo).unwrap()).unwrap();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("locations");
    let bad = dir.join("broken.sarif");
    std::fs::write(&bad, broken.to_string()).unwrap();
    assert!(!github_problems(&bad, &dir).is_empty());
}
