//! The shipped scheduled-scan examples: the OIDC trust policy passes the
//! analysis, and every ecr-audit command line in them uses flags the CLI has.

use serde_json::Value;

use crate::common::{repo_root, run, temp_dir};

fn findings(r: &crate::common::Run) -> Vec<String> {
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}", r.stderr));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_github_oidc_trust_pins_repository_and_branch() {
    let path = repo_root().join("examples/github/audit-role-trust.json");
    let check = |p: &str| {
        run(&[
            "check-policy",
            p,
            "--kind",
            "trust",
            "--account",
            "111122223333",
            "--format",
            "json",
        ])
    };
    let r = check(path.to_str().unwrap());
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        !findings(&r).contains(&"ECR204".to_string()),
        "{}",
        r.stdout
    );
    // Without its subject condition the same trust is ECR204: the check
    // above can fail.
    let mut loose: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    loose["Statement"][0]["Condition"]["StringEquals"]
        .as_object_mut()
        .unwrap()
        .remove("token.actions.githubusercontent.com:sub");
    let dir = temp_dir("examples-trust");
    let p = dir.join("loose.json");
    std::fs::write(&p, loose.to_string()).unwrap();
    let r = check(p.to_str().unwrap());
    assert!(findings(&r).contains(&"ECR204".to_string()), "{}", r.stdout);
}

/// Each `ecr-audit SUBCOMMAND ...` line of the workflow, the Batch script and
/// the job definitions names only flags `SUBCOMMAND --help` lists.
#[test]
fn example_command_lines_use_existing_flags() {
    let files = [
        "examples/github/ecr-audit.yml",
        "examples/aws-batch/run-shard.sh",
        "examples/aws-batch/job-definitions.json",
        "docs/scheduled-scans.md",
    ];
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
        let joined = text.replace("\\\n", " ");
        for line in joined.lines() {
            for part in line.split("ecr-audit ").skip(1) {
                let mut words = part.split_whitespace();
                let Some(sub) = words.next() else { continue };
                if !["scan", "report", "collect", "prove", "check-policy"].contains(&sub) {
                    continue;
                }
                let help = run(&[sub, "--help"]).stdout;
                for flag in part
                    .split(|c: char| c.is_whitespace() || c == '"' || c == '&' || c == ';')
                    .filter(|w| w.starts_with("--"))
                {
                    let flag = flag.split('=').next().unwrap();
                    assert!(
                        help.contains(flag),
                        "{file}: `ecr-audit {sub}` has no {flag}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 30, "flags checked: {checked}");
}

#[test]
fn example_json_documents_parse() {
    for file in [
        "examples/github/audit-role-trust.json",
        "examples/aws-batch/job-definitions.json",
        "examples/aws-batch/task-role-policy.json",
    ] {
        let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
        serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

/// The example workflow parses as YAML (PyYAML from .venv, installed by
/// scripts/setup-python-env) and has the steps docs/scheduled-scans.md
/// describes.
#[test]
fn the_github_workflow_parses_and_has_its_steps() {
    let python = repo_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "run scripts/setup-python-env (scripts/test does)"
    );
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(repo_root().join("examples/github/ecr-audit.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let w: Value = serde_json::from_slice(&out.stdout).unwrap();
    // YAML 1.1 reads the key `on` as true.
    let on = if w["on"].is_null() {
        &w["true"]
    } else {
        &w["on"]
    };
    assert!(on["schedule"][0]["cron"].is_string() && on.get("workflow_dispatch").is_some());
    let scan = &w["jobs"]["scan"];
    assert_eq!(scan["permissions"]["id-token"], "write");
    let shards = w["env"]["SHARDS"].as_u64().unwrap() as usize;
    assert_eq!(
        scan["strategy"]["matrix"]["shard"]
            .as_array()
            .unwrap()
            .len(),
        shards
    );
    let steps = |job: &Value| -> Vec<Value> { job["steps"].as_array().unwrap().clone() };
    assert!(steps(scan).iter().any(|s| s["run"]
        .as_str()
        .is_some_and(|r| r.contains("--shard \"${{ matrix.shard }}/$SHARDS\""))));
    let report = &w["jobs"]["report"];
    assert_eq!(report["if"], "always()");
    assert_eq!(report["needs"], "scan");
    assert_eq!(report["permissions"]["security-events"], "write");
    let report_steps = steps(report);
    let upload = report_steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))
        })
        .expect("a SARIF upload step");
    assert_eq!(upload["if"], "always()");
    assert!(upload["with"]["category"].is_string());
    let runs: String = report_steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "ecr-audit report part-*.json",
        "--format sarif",
        "$GITHUB_STEP_SUMMARY",
        "--baseline previous/report.json",
        "--fail-on-new high",
    ] {
        assert!(runs.contains(needle), "the report job runs {needle}");
    }
    assert!(report_steps
        .iter()
        .any(|s| s["with"]["name"] == "ecr-audit-report"));
}
