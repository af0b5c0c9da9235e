//! Partial failure against a moto server, through the real binary: a denied
//! operation (moto enforcing IAM with docs/iam-policy.json), a server error,
//! a region that is not enabled, and `--all-regions`.

use crate::support::{ecr_audit, ecr_audit_with, read_json, root, scratch, Moto};
use serde_json::{json, Value};

fn errors(inventory: &Value) -> Vec<Value> {
    inventory["errors"].as_array().unwrap().clone()
}

fn region<'a>(inventory: &'a Value, name: &str) -> Option<&'a Value> {
    inventory["accounts"][0]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == name)
}

fn repo_names(region: &Value) -> Vec<&str> {
    region["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repositoryName"].as_str().unwrap())
        .collect()
}

const ARN_APP: &str = "arn:aws:ecr:us-east-1:123456789012:repository/team/app";
const ARN_LIB: &str = "arn:aws:ecr:us-east-1:123456789012:repository/team/lib";

#[test]
fn the_shipped_policy_suffices_and_a_denied_operation_is_recorded_per_repository() {
    let moto = Moto::start();
    let policy = std::fs::read_to_string(root().join("docs/iam-policy.json")).unwrap();
    let world = moto.seed(json!({
        "cmd": "seed", "world": "auditor", "policy": policy, "deny": ["ecr:GetLifecyclePolicy"],
    }));
    moto.command(json!({"cmd": "enforce_iam"}));
    let key = world["accessKeyId"].as_str().unwrap();
    let secret = world["secretAccessKey"].as_str().unwrap();

    let dir = scratch("live-denied");
    let path = dir.join("inventory.json");
    let run = ecr_audit(
        &moto,
        &[
            "collect",
            "-o",
            path.to_str().unwrap(),
            "--region",
            "us-east-1",
            "--quiet",
        ],
        Some((key, secret)),
    );
    assert_eq!(run.status, 3, "{}", run.describe());
    let inventory = read_json(&path);
    let errors = errors(&inventory);
    // Only the denied operation failed: docs/iam-policy.json allows the rest.
    assert_eq!(errors.len(), 2, "{errors:#?}");
    for (e, arn) in errors.iter().zip([ARN_APP, ARN_LIB]) {
        assert_eq!(e["operation"], "ecr:GetLifecyclePolicy", "{e}");
        assert_eq!(e["kind"], "access-denied", "{e}");
        assert_eq!(e["region"], "us-east-1", "{e}");
        assert_eq!(e["resource"], arn, "{e}");
    }
    let us = region(&inventory, "us-east-1").expect("us-east-1 read");
    assert_eq!(repo_names(us), ["team/app", "team/lib"]);
    // What could be read was: the policy of team/app is there.
    assert!(us["repositories"][0]["policy"]
        .as_str()
        .unwrap()
        .contains("210987654321"));
    assert!(inventory["accounts"][0]["iam"]["users"].is_array());
    for text in [&run.stderr, &std::fs::read_to_string(&path).unwrap()] {
        assert!(!text.contains(secret), "secret key in output");
    }

    // Credentials the server does not know: nothing can be collected, the
    // command says why (exit 2) and shows no credential.
    let bogus_secret = "bogus-secret-that-must-not-be-printed";
    let run = ecr_audit(
        &moto,
        &[
            "collect",
            "-o",
            dir.join("none.json").to_str().unwrap(),
            "--region",
            "us-east-1",
            "--quiet",
        ],
        Some(("AKIAUNKNOWNKEY000001", bogus_secret)),
    );
    assert_eq!(run.status, 2, "{}", run.describe());
    assert!(
        run.stderr.contains("sts:GetCallerIdentity"),
        "{}",
        run.describe()
    );
    assert!(
        !run.stderr.contains(bogus_secret) && !run.stderr.contains("AKIAUNKNOWNKEY000001"),
        "{}",
        run.describe()
    );
    assert!(!dir.join("none.json").exists());
}

#[test]
fn server_errors_and_disabled_regions_are_classified_and_reported() {
    let moto = Moto::start();
    moto.seed(json!({"cmd": "seed", "world": "small"}));
    // moto's answer to an operation it does not implement: 500, HTML.
    moto.fault(json!({"operation": "ecr:DescribeImages", "match": "team/lib", "status": 500, "body": "html"}));
    // moto's answer to an IAM-enforced denial, even on ECR: 403, XML.
    moto.fault(json!({"operation": "ecr:GetRepositoryPolicy", "match": "team/app", "status": 403, "body": "xml", "code": "AccessDenied"}));
    // AWS's answer in a region the account has not enabled.
    moto.fault(json!({"operation": "ecr:DescribeRegistry", "region": "eu-west-1", "status": 400, "body": "json",
                      "code": "UnrecognizedClientException", "message": "The security token included in the request is invalid."}));

    let dir = scratch("live-faults");
    let path = dir.join("inventory.json");
    let run = ecr_audit(
        &moto,
        &[
            "collect",
            "-o",
            path.to_str().unwrap(),
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--quiet",
        ],
        None,
    );
    assert_eq!(run.status, 3, "{}", run.describe());
    let inventory = read_json(&path);
    let errors = errors(&inventory);
    let find = |op: &str| {
        errors
            .iter()
            .find(|e| e["operation"] == op)
            .unwrap_or_else(|| panic!("no {op} error in {errors:#?}"))
    };
    assert_eq!(errors.len(), 3, "{errors:#?}");
    let e = find("ecr:DescribeImages");
    assert_eq!(
        (e["kind"].as_str(), e["resource"].as_str()),
        (Some("server-error"), Some(ARN_LIB))
    );
    assert!(e["message"].as_str().unwrap().contains("HTTP 500"), "{e}");
    let e = find("ecr:GetRepositoryPolicy");
    assert_eq!(
        (e["kind"].as_str(), e["resource"].as_str()),
        (Some("access-denied"), Some(ARN_APP))
    );
    let e = find("ecr:DescribeRegistry");
    assert_eq!(
        (e["kind"].as_str(), e["region"].as_str()),
        (Some("region-disabled"), Some("eu-west-1"))
    );
    assert!(
        e["message"].as_str().unwrap().contains("not enabled"),
        "{e}"
    );

    // The region that could be read is complete; the disabled one is absent.
    let us = region(&inventory, "us-east-1").expect("us-east-1 read");
    assert_eq!(repo_names(us), ["team/app", "team/lib"]);
    assert!(region(&inventory, "eu-west-1").is_none());

    // Every report format carries them; the exit code says incomplete.
    let report = dir.join("report.json");
    let scan = ecr_audit(
        &moto,
        &[
            "scan",
            "--inventory",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            "never",
            "-o",
            report.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(scan.status, 3, "{}", scan.describe());
    assert_eq!(read_json(&report)["errors"].as_array().unwrap().len(), 3);
}

#[test]
fn all_regions_reads_every_ecr_region_and_skips_opt_in_regions_not_enabled() {
    let moto = Moto::start();
    moto.seed(json!({"cmd": "seed", "world": "small"}));
    moto.fault(json!({"operation": "ecr:DescribeRegistry", "region": "af-south-1", "status": 400, "body": "json",
                      "code": "UnrecognizedClientException", "message": "The security token included in the request is invalid."}));
    let dir = scratch("live-all-regions");
    let path = dir.join("inventory.json");
    let run = ecr_audit(
        &moto,
        &[
            "collect",
            "-o",
            path.to_str().unwrap(),
            "--all-regions",
            "--quiet",
        ],
        None,
    );
    assert_eq!(run.status, 0, "{}", run.describe());
    let inventory = read_json(&path);
    assert_eq!(errors(&inventory), Vec::<Value>::new());
    let read: Vec<&str> = inventory["accounts"][0]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = ecr_audit::collect::regions::AWS
        .iter()
        .map(|r| r.name)
        .filter(|r| *r != "af-south-1")
        .collect();
    let mut sorted = read.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected);
    for name in ["us-east-1", "eu-west-1"] {
        assert_eq!(
            repo_names(region(&inventory, name).unwrap()),
            ["team/app", "team/lib"]
        );
    }
}

#[test]
fn max_concurrency_bounds_requests_in_flight_and_throttling_is_retried() {
    let moto = Moto::start();
    moto.seed(json!({"cmd": "seed", "world": "small"}));
    let dir = scratch("live-concurrency");
    let path = dir.join("inventory.json");
    let out = path.to_str().unwrap();
    let regions = ["--region", "us-east-1", "--region", "eu-west-1"];

    for limit in ["1", "3"] {
        let mut args = vec!["collect", "-o", out, "--quiet", "--max-concurrency", limit];
        args.extend(regions);
        moto.requests(true);
        let run = ecr_audit(&moto, &args, None);
        assert_eq!(run.status, 0, "{}", run.describe());
        let (served, peak) = moto.requests(true);
        let limit: u64 = limit.parse().unwrap();
        assert!(
            peak <= limit,
            "{peak} requests in flight with --max-concurrency {limit}"
        );
        let counts: std::collections::BTreeMap<String, u64> =
            serde_json::from_value(read_json(&path)["requestCounts"].clone()).unwrap();
        assert_eq!(served, counts);
    }

    // With the SDK's retries on (no AWS_MAX_ATTEMPTS), throttling is
    // retried and the scan completes; the inventory counts the requests the
    // collector made, the server saw the retries too.
    moto.fault(
        json!({"operation": "ecr:DescribeRepositories", "status": 400, "body": "json",
                      "code": "ThrottlingException", "message": "Rate exceeded", "times": 2}),
    );
    let mut args = vec!["collect", "-o", out, "--quiet"];
    args.extend(regions);
    moto.requests(true);
    let run = ecr_audit_with(&moto, &args, None, &[("AWS_MAX_ATTEMPTS", None)]);
    assert_eq!(run.status, 0, "{}", run.describe());
    let (served, _) = moto.requests(true);
    let inventory = read_json(&path);
    assert_eq!(inventory["requestCounts"]["ecr:DescribeRepositories"], 2);
    assert_eq!(served["ecr:DescribeRepositories"], 4);
    for name in ["us-east-1", "eu-west-1"] {
        assert_eq!(
            repo_names(region(&inventory, name).unwrap()),
            ["team/app", "team/lib"]
        );
    }

    // With retries off, throttling that persists is an error of its kind.
    moto.fault(json!({"operation": "ecr:ListTagsForResource", "match": "team/lib", "status": 400, "body": "json",
                      "code": "ThrottlingException", "message": "Rate exceeded"}));
    let run = ecr_audit(
        &moto,
        &["collect", "-o", out, "--quiet", "--region", "us-east-1"],
        None,
    );
    assert_eq!(run.status, 3, "{}", run.describe());
    let errors = errors(&read_json(&path));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["kind"], "throttled");
    assert_eq!(errors[0]["resource"], ARN_LIB);
}
