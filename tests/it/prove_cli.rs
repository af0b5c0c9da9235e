//! `ecr-audit prove` and `scan --prove` on the demo organization, through
//! the real binary and cvc5.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{require_solver, run, sarif_validator};

fn demo_zone() -> BTreeSet<String> {
    let inv: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::common::fixture("demo-org.json")).unwrap(),
    )
    .unwrap();
    let mut zone: BTreeSet<String> = inv["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    if let Some(org) = inv["organization"]["accounts"].as_array() {
        zone.extend(org.iter().map(|a| a["id"].as_str().unwrap().to_string()));
    }
    zone
}

fn verdict_of<'a>(results: &'a [Value], arn_suffix: &str, property: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["arn"].as_str().unwrap().ends_with(arn_suffix) && r["property"] == property)
        .unwrap_or_else(|| panic!("no proof of {property} for {arn_suffix}"))
}

#[test]
fn prove_demo_proves_refutes_and_replays() {
    require_solver();
    let r = run(&["prove", "--demo", "--format", "json"]);
    assert_eq!(r.code, 1, "refuted properties exit 1: {}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(out["schema"], "ecr-audit/proofs/v1");
    let results = out["results"].as_array().unwrap();
    let total = out["proved"].as_u64().unwrap()
        + out["refuted"].as_u64().unwrap()
        + out["unknown"].as_u64().unwrap();
    assert_eq!(total as usize, results.len());
    assert!(out["proved"].as_u64().unwrap() >= 40, "{out}");
    assert!(out["refuted"].as_u64().unwrap() >= 10, "{out}");

    // Known subjects of the demo, each way.
    assert_eq!(
        verdict_of(results, "repository/public/sdk-examples", "read")["verdict"],
        "refuted"
    );
    assert_eq!(
        verdict_of(results, "repository/public/sdk-examples", "write")["verdict"],
        "proved"
    );
    assert_eq!(
        verdict_of(results, "role/release-promoter", "assume")["verdict"],
        "refuted"
    );
    let web = verdict_of(results, "role/github-actions-legacy", "assume");
    assert_eq!(web["verdict"], "refuted");
    assert!(web["counterexample"]["principal"]
        .as_str()
        .unwrap()
        .contains("token.actions.githubusercontent.com"));

    // Every counterexample is a request from outside the zone.
    let zone = demo_zone();
    for r in results.iter().filter(|r| r["verdict"] == "refuted") {
        let cx = &r["counterexample"];
        let principal = cx["principal"].as_str().unwrap();
        assert!(!cx["action"].as_str().unwrap().is_empty());
        // An IAM caller's account is outside; a provider's account is the
        // role's own (its tokens are anyone's).
        if let Some(account) = principal
            .strip_prefix("arn:")
            .and_then(|p| p.split(':').nth(3))
        {
            assert!(!zone.contains(account), "{principal} is in the zone: {r}");
        }
        assert!(!cx["outside"].as_str().unwrap().is_empty());
    }
    for r in results.iter().filter(|r| r["verdict"] == "unknown") {
        assert!(!r["reason"].as_str().unwrap().is_empty());
    }
}

#[test]
fn prove_table_and_cache_figures() {
    require_solver();
    let r = run(&["prove", "--demo", "--all"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("refuted"), "{}", r.stdout);
    assert!(r.stdout.contains("proved"), "{}", r.stdout);
    assert!(r.stdout.contains("Proofs: "), "{}", r.stdout);
    // Without the cache every question goes to the solver; the verdicts do
    // not change.
    let cached = run(&["prove", "--demo", "--format", "json"]);
    let uncached = run(&[
        "prove",
        "--demo",
        "--format",
        "json",
        "--no-proof-cache",
        "--proof-jobs",
        "1",
    ]);
    let a: Value = serde_json::from_str(&cached.stdout).unwrap();
    let b: Value = serde_json::from_str(&uncached.stdout).unwrap();
    assert_eq!(a["results"], b["results"]);
    assert_eq!(b["solver"]["cache_hits"], 0);
    assert!(b["solver"]["queries"].as_u64().unwrap() >= a["solver"]["queries"].as_u64().unwrap());
}

#[test]
fn a_solver_that_runs_out_of_time_is_unknown_never_proved() {
    require_solver();
    let normal: Value =
        serde_json::from_str(&run(&["prove", "--demo", "--format", "json"]).stdout).unwrap();
    let rushed = run(&[
        "prove",
        "--demo",
        "--format",
        "json",
        "--proof-timeout",
        "0.001",
    ]);
    let rushed: Value = serde_json::from_str(&rushed.stdout).unwrap();
    assert!(rushed["unknown"].as_u64().unwrap() > 0, "{rushed}");
    let normal = normal["results"].as_array().unwrap();
    for r in rushed["results"].as_array().unwrap() {
        let same = normal
            .iter()
            .find(|n| n["arn"] == r["arn"] && n["property"] == r["property"])
            .unwrap();
        if r["verdict"] == "unknown" {
            assert!(r["reason"].as_str().unwrap().contains("gave up"), "{r}");
        } else {
            // What a rushed solver does decide, it decides the same way.
            assert_eq!(r["verdict"], same["verdict"], "{r} vs {same}");
        }
    }
}

#[test]
fn missing_solver_is_a_usage_error() {
    let r = crate::common::run_env(&["prove", "--demo"], &[("CVC5", "/nonexistent/cvc5")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cvc5"), "{}", r.stderr);
    let r = crate::common::run_env(
        &["scan", "--demo", "--prove"],
        &[("CVC5", "/nonexistent/cvc5")],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("scripts/setup-solver"), "{}", r.stderr);
}

#[test]
fn scan_prove_puts_counterexamples_in_findings_and_sarif() {
    require_solver();
    let r = run(&["scan", "--demo", "--prove", "--format", "json"]);
    assert_eq!(r.code, 1);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let plain: Value =
        serde_json::from_str(&run(&["scan", "--demo", "--format", "json"]).stdout).unwrap();
    // A creation template's policy is proved as the repositories it will
    // create get it: the public dockerhub template's ECR101 carries a
    // replayed counterexample on such a repository.
    // The ECR101 finding on the resource whose ARN ends so.
    let ecr101 = |arn_end: &str| -> Value {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| {
                f["rule_id"] == "ECR101" && f["resource_arn"].as_str().unwrap().ends_with(arn_end)
            })
            .unwrap_or_else(|| panic!("no ECR101 on {arn_end}"))
            .clone()
    };
    let template = ecr101(":repository-creation-template/dockerhub");
    let cx = template["details"]["read_counterexamples"][0]
        .as_str()
        .unwrap_or("");
    assert!(
        cx.contains("on arn:aws:ecr:us-east-1:401846239157:repository/dockerhub/"),
        "{template:#}"
    );
    // The same findings: the proofs agree with the concrete analysis on the
    // demo, they only add evidence.
    let ids = |v: &Value| -> Vec<(String, String)> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap().to_string(),
                    f["resource_arn"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(ids(&report), ids(&plain));
    assert!(
        report["warnings"].as_array().unwrap().is_empty(),
        "{}",
        report["warnings"]
    );
    assert!(report["proofs"]["refuted"].as_u64().unwrap() >= 10);
    let public = ecr101("repository/public/sdk-examples");
    assert!(public["message"]
        .as_str()
        .unwrap()
        .contains("Proof counterexample:"));
    assert!(!public["details"]["read_counterexamples"]
        .as_array()
        .unwrap()
        .is_empty());

    let sarif = run(&["scan", "--demo", "--prove", "--format", "sarif"]);
    let log: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let with_cx = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("Proof counterexample:")
                && r["properties"]["details"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .any(|(k, v)| {
                        k.ends_with("counterexamples")
                            && v.as_array().is_some_and(|a| !a.is_empty())
                    })
        })
        .count();
    assert!(with_cx >= 10, "{with_cx}");
}

#[test]
fn check_policy_proves_a_long_policy_without_crashing() {
    require_solver();
    // 60 statements mixing undecidable constructs (IgnoreCase, multi-valued
    // keys) with public grants: the symbolic compiler recurses deeply, and
    // the solver's first requests lean on free flags.
    let r = run(&[
        "check-policy",
        "fixtures/examples/long-policy-60-statements.json",
        "--kind",
        "repository",
        "--account",
        "111122223333",
        "--org-id",
        "o-a1b2c3d4e5",
        "--prove",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    let results = out["proofs"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for p in results {
        assert_eq!(p["verdict"], "refuted", "{p}");
    }
}

/// A small inventory to build others from: a rule fixture's one account
/// and region (two repositories).
fn fixture_inventory() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(crate::common::fixture(
            "inventories/ecr302-fires-mutable.json",
        ))
        .unwrap(),
    )
    .unwrap()
}

/// `inventory` written to a scratch directory of its own.
fn written(name: &str, inventory: &Value) -> std::path::PathBuf {
    let path = crate::common::temp_dir(name).join("inv.json");
    std::fs::write(&path, serde_json::to_string(inventory).unwrap()).unwrap();
    path
}

#[test]
fn escaped_resource_elements_are_not_shared_between_repositories() {
    require_solver();
    // One policy text on two repositories: its `Resource` element, spelled
    // with a JSON escape, names only `team/a`. Caches keyed by policy text
    // must still tell the two apart.
    let mut inv = fixture_inventory();
    let region = &mut inv["accounts"][0]["regions"][0];
    let template = region["repositories"][0].clone();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Re\u0073ource":"arn:aws:ecr:us-east-1:111122223333:repository/team/a"}]}"#;
    let mut repos = Vec::new();
    // Enough repositories that the parallel model build hits its cache.
    let names: Vec<String> = (0..30)
        .map(|i| {
            if i == 15 {
                "team/a".to_string()
            } else {
                format!("team/b{i}")
            }
        })
        .collect();
    for name in &names {
        let mut r = template.clone();
        r["repositoryName"] = Value::from(name.as_str());
        r["repositoryArn"] = Value::from(format!(
            "arn:aws:ecr:us-east-1:111122223333:repository/{name}"
        ));
        r["policy"] = Value::from(policy);
        repos.push(r);
    }
    region["repositories"] = Value::Array(repos);
    let path = written("escaped-resource", &inv);
    let r = run(&[
        "scan",
        "--inventory",
        path.to_str().unwrap(),
        "--prove",
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let public: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "ECR101")
        .map(|f| f["resource_arn"].as_str().unwrap())
        .collect();
    assert_eq!(
        public,
        ["arn:aws:ecr:us-east-1:111122223333:repository/team/a"]
    );
    let read = |suffix: &str| {
        report["proofs"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["property"] == "read" && p["arn"].as_str().unwrap().ends_with(suffix))
            .unwrap()["verdict"]
            .clone()
    };
    assert_eq!(read("team/a"), "refuted");
    assert_eq!(read("team/b0"), "proved");
    assert_eq!(read("team/b29"), "proved");
}

/// Documents that differ only in the accounts they name are one question
/// to the solver, and each verdict names its own document's accounts: two
/// accounts of the zone, each letting its own partner pull, and each also
/// letting the other account of the zone pull (an account of the zone is
/// not an outsider, whichever it is).
#[test]
fn documents_differing_only_in_account_ids_share_one_proof() {
    require_solver();
    let mut inv = fixture_inventory();
    let first = inv["accounts"][0].clone();
    let template = first["regions"][0]["repositories"][0].clone();
    let policy = |partner: &str, other: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{partner}:root","arn:aws:iam::{other}:root"]}},"Action":"ecr:BatchGetImage"}}]}}"#
        )
    };
    let (a, b) = ("111122223333", "222233334444");
    let mut accounts = Vec::new();
    for (owner, other, partner) in [(a, b, "999988887777"), (b, a, "444455556666")] {
        let mut account = first.clone();
        account["id"] = Value::from(owner);
        let mut repo = template.clone();
        repo["repositoryArn"] =
            Value::from(format!("arn:aws:ecr:us-east-1:{owner}:repository/app"));
        repo["repositoryName"] = Value::from("app");
        repo["policy"] = Value::from(policy(partner, other));
        account["regions"][0]["repositories"] = Value::Array(vec![repo]);
        accounts.push(account);
    }
    inv["accounts"] = Value::Array(accounts);
    let path = written("canonical-proofs", &inv);
    let r = run(&[
        "prove",
        "--inventory",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--proof-jobs",
        "1",
    ]);
    let out: Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
    let results = out["results"].as_array().unwrap();
    for (owner, partner) in [(a, "999988887777"), (b, "444455556666")] {
        let read = results
            .iter()
            .find(|p| {
                p["property"] == "read" && p["account"] == owner && p["subject"] == "repository"
            })
            .unwrap();
        assert_eq!(read["verdict"], "refuted", "{read}");
        let cx = &read["counterexample"];
        assert!(
            cx["principal"]
                .as_str()
                .unwrap()
                .starts_with(&format!("arn:aws:iam::{partner}:")),
            "{read}"
        );
        assert_eq!(
            cx["resource"].as_str().unwrap(),
            format!("arn:aws:ecr:us-east-1:{owner}:repository/app")
        );
    }
    // The second account's three properties came from the cache.
    assert!(
        out["solver"]["cache_hits"].as_u64().unwrap() >= 3,
        "{}",
        out["solver"]
    );
}

/// A counterexample says why it works: the condition keys that matter,
/// the absent ones among them.
#[test]
fn counterexamples_name_the_keys_they_leave_absent() {
    require_solver();
    let dir = crate::common::temp_dir("absent-keys");
    let policy = dir.join("policy.json");
    std::fs::write(
        &policy,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"Null":{"aws:PrincipalOrgID":"true"}}}]}"#,
    )
    .unwrap();
    let r = run(&[
        "check-policy",
        policy.to_str().unwrap(),
        "--kind",
        "repository",
        "--account",
        "111122223333",
        "--org-id",
        "o-a1b2c3d4e5",
        "--prove",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    let refuted: Vec<&Value> = out["proofs"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["verdict"] == "refuted")
        .collect();
    assert!(!refuted.is_empty());
    for p in refuted {
        let absent = p["counterexample"]["absent"].as_array().unwrap();
        assert!(absent.iter().any(|k| k == "aws:principalorgid"), "{p}");
    }
    let message = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "ECR101")
        .and_then(|f| f["message"].as_str())
        .unwrap()
        .to_string();
    assert!(message.contains("aws:principalorgid absent"), "{message}");
}
