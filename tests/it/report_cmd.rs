//! `ecr-audit report`: saved JSON reports rendered in every format and
//! merged, so a nightly job scans once.

use std::path::Path;

use serde_json::Value;

use crate::common::{fixture, run, temp_dir};

const FORMATS: [&str; 4] = ["json", "table", "sarif", "markdown"];

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every format rendered from the saved JSON is byte for byte what the scan
/// printed itself, for the demo and every fixture inventory (complete and
/// incomplete scans, every rule).
#[test]
fn a_saved_report_renders_every_format_as_the_scan_did() {
    let dir = temp_dir("report-formats");
    let mut inputs: Vec<Vec<String>> = vec![vec!["--demo".into()]];
    for entry in std::fs::read_dir(fixture("inventories")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            inputs.push(vec!["--inventory".into(), p.display().to_string()]);
        }
    }
    assert!(
        inputs.len() > 30,
        "fixture inventories found: {}",
        inputs.len()
    );
    for (i, input) in inputs.iter().enumerate() {
        let saved = dir.join(format!("{i}.json"));
        let mut args: Vec<&str> = vec!["scan"];
        args.extend(input.iter().map(String::as_str));
        let mut scan_json = args.clone();
        scan_json.extend(["--format", "json", "-o", path_str(&saved)]);
        let scanned = run(&scan_json);
        assert!(scanned.code != 2, "{input:?}: {}", scanned.stderr);
        for format in FORMATS {
            let mut scan_args = args.clone();
            scan_args.extend(["--format", format]);
            let direct = run(&scan_args);
            let rendered = run(&["report", path_str(&saved), "--format", format]);
            assert_eq!(
                rendered.stdout, direct.stdout,
                "{input:?} --format {format}: report differs from scan"
            );
            assert_eq!(
                rendered.code, direct.code,
                "{input:?} --format {format}: exit code"
            );
        }
    }
}

/// A report split by account into two parts merges back into the whole:
/// the same findings in the same order, the same errors, the counts added.
#[test]
fn parts_merge_into_the_whole() {
    let dir = temp_dir("report-merge");
    let whole_path = dir.join("whole.json");
    run(&[
        "scan",
        "--demo",
        "--format",
        "json",
        "-o",
        path_str(&whole_path),
    ]);
    let whole: Value =
        serde_json::from_str(&std::fs::read_to_string(&whole_path).unwrap()).unwrap();
    let findings = whole["findings"].as_array().unwrap();
    let accounts: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["account"].as_str().unwrap())
        .collect();
    assert!(accounts.len() >= 2, "the demo spans accounts");
    let first = *accounts.iter().next().unwrap();
    let mut parts = Vec::new();
    for (name, mine) in [("a", true), ("b", false)] {
        let mut part = whole.clone();
        let keep = |v: &Value| (v["account"].as_str() == Some(first)) == mine;
        let f: Vec<Value> = findings.iter().filter(|f| keep(f)).cloned().collect();
        part["summary"]["findings"] = f.len().into();
        part["findings"] = Value::Array(f);
        let e: Vec<Value> = whole["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| keep(e))
            .cloned()
            .collect();
        part["errors"] = Value::Array(e);
        part["scanned"]["repositories"] = 0.into();
        if !mine {
            part["scanned"]["repositories"] = whole["scanned"]["repositories"].clone();
        }
        let path = dir.join(format!("part-{name}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&part).unwrap()).unwrap();
        parts.push(path);
    }
    let merged = run(&[
        "report",
        path_str(&parts[0]),
        path_str(&parts[1]),
        "--format",
        "json",
    ]);
    let merged: Value = serde_json::from_str(&merged.stdout).unwrap();
    assert_eq!(merged["findings"], whole["findings"]);
    let mut errors = merged["errors"].as_array().unwrap().clone();
    let mut expected = whole["errors"].as_array().unwrap().clone();
    let key = |v: &Value| v.to_string();
    errors.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(errors, expected);
    assert_eq!(merged["summary"]["findings"], whole["summary"]["findings"]);
    assert_eq!(
        merged["scanned"]["repositories"],
        whole["scanned"]["repositories"]
    );
    // Accounts are counted per part: both parts say the whole's count here.
    assert_eq!(
        merged["scanned"]["accounts"].as_u64().unwrap(),
        2 * whole["scanned"]["accounts"].as_u64().unwrap()
    );
    // The same report twice is the same findings once.
    let twice = run(&[
        "report",
        path_str(&whole_path),
        path_str(&whole_path),
        "--format",
        "json",
    ]);
    let twice: Value = serde_json::from_str(&twice.stdout).unwrap();
    assert_eq!(twice["findings"], whole["findings"]);
}

#[test]
fn severity_gates_apply_to_saved_reports() {
    let dir = temp_dir("report-gates");
    let saved = dir.join("demo.json");
    run(&["scan", "--demo", "--format", "json", "-o", path_str(&saved)]);
    let whole: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let total = whole["findings"].as_array().unwrap().len();
    let r = run(&[
        "report",
        path_str(&saved),
        "--format",
        "json",
        "--min-severity",
        "critical",
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let kept = v["findings"].as_array().unwrap();
    assert!(!kept.is_empty() && kept.len() < total);
    assert!(kept.iter().all(|f| f["severity"] == "critical"));
    assert_eq!(
        v["summary"]["below_min_severity"].as_u64().unwrap() as usize,
        total - kept.len()
    );
    // The demo is incomplete by design? Then exit 3 wins over findings.
    let complete = whole["scanned"]["complete"].as_bool().unwrap();
    let lenient = run(&["report", path_str(&saved), "--fail-on", "never"]);
    assert_eq!(
        lenient.code,
        if complete { 0 } else { 3 },
        "{}",
        lenient.stderr
    );
    let strict = run(&["report", path_str(&saved), "--fail-on", "low"]);
    assert_eq!(
        strict.code,
        if complete { 1 } else { 3 },
        "{}",
        strict.stderr
    );
}

#[test]
fn unreadable_reports_are_input_errors_naming_the_file() {
    let dir = temp_dir("report-bad");
    let not_json = dir.join("not.json");
    std::fs::write(&not_json, "{\n  \"schema\": oops\n}\n").unwrap();
    let r = run(&["report", path_str(&not_json)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not.json") && r.stderr.contains("line 2"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("ecr_audit::report"), "{}", r.stderr);

    let inventory = fixture("demo-org.json");
    let r = run(&["report", path_str(&inventory)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("demo-org.json"), "{}", r.stderr);

    let other = dir.join("other.json");
    let saved = dir.join("demo.json");
    run(&["scan", "--demo", "--format", "json", "-o", path_str(&saved)]);
    let text = std::fs::read_to_string(&saved).unwrap();
    std::fs::write(
        &other,
        text.replace("ecr-audit/report/v1", "ecr-audit/report/v9"),
    )
    .unwrap();
    let r = run(&["report", path_str(&other)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("unsupported report schema \"ecr-audit/report/v9\""),
        "{}",
        r.stderr
    );

    let r = run(&["report", path_str(&dir.join("missing.json"))]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("missing.json"), "{}", r.stderr);
}

fn scan_json(args: &[&str]) -> (Value, i32) {
    let mut all = vec!["scan"];
    all.extend(args);
    all.extend(["--format", "json"]);
    let r = run(&all);
    assert!(r.code != 2, "{}", r.stderr);
    (serde_json::from_str(&r.stdout).unwrap(), r.code)
}

fn states(report: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for f in report["findings"].as_array().unwrap() {
        out.entry(f["baseline_state"].as_str().unwrap().to_string())
            .or_default()
            .push(f["resource_arn"].as_str().unwrap().to_string());
    }
    out
}

/// Two scans of a changing world: one repository loses its policy, one
/// public repository appears, another repository's tags change. Only the
/// findings of the two changed repositories move; every other finding keeps
/// its fingerprint and is `unchanged`.
#[test]
fn baselines_mark_new_unchanged_and_absent_findings() {
    let dir = temp_dir("report-baseline");
    let base = dir.join("base.json");
    run(&["scan", "--demo", "--format", "json", "-o", path_str(&base)]);
    let before: Value = serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    let total = before["findings"].as_array().unwrap().len();

    // Nothing changed: everything unchanged, nothing absent, no new.
    let (same, _) = scan_json(&["--demo", "--baseline", path_str(&base)]);
    assert_eq!(same["baseline"]["new"], 0);
    assert_eq!(
        same["baseline"]["unchanged"].as_u64().unwrap() as usize,
        total
    );
    assert_eq!(same["baseline"]["absent"].as_array().unwrap().len(), 0);
    assert_eq!(states(&same).get("unchanged").map(Vec::len), Some(total));

    // The changing world.
    let mut world: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("demo-org.json")).unwrap()).unwrap();
    let access_finding = before["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule_id"].as_str().unwrap().starts_with("ECR10")
                && f["resource_kind"] == "repository"
        })
        .expect("the demo has a repository access finding");
    let changed_arn = access_finding["resource_arn"].as_str().unwrap().to_string();
    let mut new_arn = String::new();
    let mut retagged = String::new();
    for account in world["accounts"].as_array_mut().unwrap() {
        for region in account["regions"].as_array_mut().unwrap() {
            let repos = region["repositories"].as_array_mut().unwrap();
            let mut template = None;
            for repo in repos.iter_mut() {
                let arn = repo["repositoryArn"].as_str().unwrap().to_string();
                if arn == changed_arn {
                    repo.as_object_mut().unwrap().remove("policy");
                    template = Some(repo.clone());
                } else if retagged.is_empty() {
                    repo["tags"] = serde_json::json!([{"Key": "cost-center", "Value": "changed"}]);
                    retagged = arn;
                }
            }
            if let Some(mut repo) = template {
                let name = "zz-new/public-image";
                new_arn = changed_arn
                    .rsplit_once(":repository/")
                    .unwrap()
                    .0
                    .to_string()
                    + ":repository/"
                    + name;
                repo["repositoryName"] = name.into();
                repo["repositoryArn"] = new_arn.clone().into();
                repo["policy"] = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#.into();
                repos.push(repo);
            }
        }
    }
    assert!(!new_arn.is_empty() && !retagged.is_empty());
    let inventory = dir.join("changed.json");
    std::fs::write(&inventory, serde_json::to_string(&world).unwrap()).unwrap();
    let (after, _) = scan_json(&[
        "--inventory",
        path_str(&inventory),
        "--baseline",
        path_str(&base),
    ]);
    let by_state = states(&after);
    let new = by_state.get("new").cloned().unwrap_or_default();
    assert!(
        new.contains(&new_arn),
        "the public repository is new: {new:?}"
    );
    assert!(
        new.iter().all(|a| *a == new_arn || *a == changed_arn),
        "only the changed repositories have new findings: {new:?}"
    );
    let absent: Vec<&str> = after["baseline"]["absent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource_arn"].as_str().unwrap())
        .collect();
    assert!(absent.contains(&changed_arn.as_str()), "{absent:?}");
    assert!(absent.iter().all(|a| *a == changed_arn), "{absent:?}");
    let unchanged = by_state.get("unchanged").map(Vec::len).unwrap_or(0);
    assert_eq!(
        unchanged + absent.len(),
        total,
        "every other finding is unchanged"
    );
    assert_eq!(
        after["baseline"]["new"].as_u64().unwrap() as usize,
        new.len()
    );

    // SARIF carries the state; the summaries say the counts.
    let sarif = run(&[
        "scan",
        "--inventory",
        path_str(&inventory),
        "--baseline",
        path_str(&base),
        "--format",
        "sarif",
    ]);
    let sarif: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["baselineState"] == "new"));
    assert!(results
        .iter()
        .all(|r| r["baselineState"] == "new" || r["baselineState"] == "unchanged"));
    let md = run(&[
        "scan",
        "--inventory",
        path_str(&inventory),
        "--baseline",
        path_str(&base),
        "--format",
        "markdown",
    ]);
    assert!(
        md.stdout.contains(&format!("{} new", new.len())),
        "{}",
        md.stdout
    );

    // --fail-on-new gates only on new findings.
    let complete = before["scanned"]["complete"].as_bool().unwrap();
    let quiet = run(&[
        "scan",
        "--demo",
        "--baseline",
        path_str(&base),
        "--fail-on-new",
        "info",
    ]);
    assert_eq!(quiet.code, if complete { 0 } else { 3 }, "{}", quiet.stderr);
    let loud = run(&[
        "scan",
        "--inventory",
        path_str(&inventory),
        "--baseline",
        path_str(&base),
        "--fail-on-new",
        "high",
    ]);
    assert_eq!(loud.code, 1, "{}", loud.stderr);
    let saved = dir.join("after.json");
    std::fs::write(&saved, serde_json::to_string(&after).unwrap()).unwrap();
    let from_report = run(&[
        "report",
        path_str(&saved),
        "--baseline",
        path_str(&base),
        "--fail-on-new",
        "high",
    ]);
    assert_eq!(from_report.code, 1, "{}", from_report.stderr);
    let without = run(&["scan", "--demo", "--fail-on-new", "high"]);
    assert_eq!(without.code, 2, "{}", without.stderr);
}

/// `--shard K/N`: the shards' reports merged equal one whole scan, finding
/// for finding, for a generated organization of 9 accounts, with and
/// without its organization record (then only the shards' `zone_accounts`
/// keep the other accounts in the zone of trust), and collection errors of
/// one account and of none.
#[test]
fn shard_reports_merge_into_the_whole_scan() {
    let dir = temp_dir("report-shards");
    let generated = std::process::Command::new("python3")
        .arg(crate::common::repo_root().join("benches/gen_org.py"))
        .args([
            "small",
            "--accounts",
            "9",
            "--regions",
            "1",
            "--repos",
            "6",
            "--images",
            "3",
        ])
        .args(["--roles", "4"])
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let mut world: Value = serde_json::from_slice(&generated.stdout).unwrap();
    let first_account = world["accounts"][0]["id"].as_str().unwrap().to_string();
    // Every account's first repository grants pulls to the next account: a
    // member of the zone, wherever the shards put the two.
    let ids: Vec<String> = world["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    for (i, account) in world["accounts"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        let next = &ids[(i + 1) % ids.len()];
        let repo = &mut account["regions"][0]["repositories"][0];
        repo["policy"] = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{next}:root"}},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}}]}}"#
        )
        .into();
    }
    world["errors"] = serde_json::json!([
        {"account": first_account, "region": "us-east-1", "operation": "ecr:DescribeImages",
         "resource": "arn:aws:ecr:us-east-1:0:repository/x", "kind": "access-denied", "message": "denied"},
        {"account": "", "operation": "organizations:ListAccounts", "kind": "throttled", "message": "slow down"},
    ]);
    let mut without_org = world.clone();
    without_org.as_object_mut().unwrap().remove("organization");
    for (name, inventory) in [("org", world), ("accounts-only", without_org)] {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string(&inventory).unwrap()).unwrap();
        let (whole, whole_code) = scan_json(&["--inventory", path_str(&path)]);
        assert!(
            whole["findings"].as_array().unwrap().len() > 50,
            "{name}: a world with findings"
        );
        for n in [2u32, 3, 5] {
            let mut parts = Vec::new();
            let mut accounts_seen = 0;
            for k in 1..=n {
                let part = dir.join(format!("{name}-{k}-of-{n}.json"));
                let shard = format!("{k}/{n}");
                let r = run(&[
                    "scan",
                    "--inventory",
                    path_str(&path),
                    "--shard",
                    &shard,
                    "--format",
                    "json",
                    "-o",
                    path_str(&part),
                ]);
                assert!(r.code != 2, "{}", r.stderr);
                let v: Value =
                    serde_json::from_str(&std::fs::read_to_string(&part).unwrap()).unwrap();
                accounts_seen += v["scanned"]["accounts"].as_u64().unwrap();
                parts.push(part.display().to_string());
            }
            assert_eq!(
                accounts_seen, 9,
                "{name} {n}: every account in exactly one shard"
            );
            let mut args = vec!["report"];
            args.extend(parts.iter().map(String::as_str));
            args.extend(["--format", "json"]);
            let merged = run(&args);
            assert_eq!(merged.code, whole_code, "{name} {n}: {}", merged.stderr);
            let merged: Value = serde_json::from_str(&merged.stdout).unwrap();
            let ids = |v: &Value| -> Vec<String> {
                v["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| format!("{} {}", f["rule_id"], f["resource_arn"]))
                    .collect()
            };
            assert_eq!(ids(&merged), ids(&whole), "{name} {n}: the same findings");
            assert!(
                merged["findings"] == whole["findings"],
                "{name} {n}: finding contents"
            );
            assert_eq!(merged["scanned"], whole["scanned"], "{name} {n}: scanned");
            assert_eq!(merged["summary"], whole["summary"], "{name} {n}: summary");
            let sorted = |v: &Value| {
                let mut e: Vec<String> = v["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(Value::to_string)
                    .collect();
                e.sort();
                e
            };
            assert_eq!(sorted(&merged), sorted(&whole), "{name} {n}: errors");
        }
    }
}
