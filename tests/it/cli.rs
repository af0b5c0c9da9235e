//! The CLI's contracts: exit codes, input errors, report formats.

use serde_json::Value;

use crate::common::{fixture, run, run_env, run_in, sarif_validator, temp_dir};

fn path(rel: &str) -> String {
    fixture(rel).to_str().unwrap().to_string()
}

#[test]
fn demo_fails_on_high_findings_and_passes_with_never() {
    let r = run(&["scan", "--demo"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("ECR301"), "{}", r.stdout);
    assert!(
        r.stdout.contains("scanned 3 accounts, 2 regions"),
        "{}",
        r.stdout
    );
    let r = run(&["scan", "--demo", "--fail-on", "never"]);
    assert_eq!(r.code, 0);
}

/// A saved inventory is read with each repository's images summarized; the
/// embedded demo keeps its images. The findings (image facts among them)
/// must be the same either way, and `--timings` names every phase.
#[test]
fn a_saved_inventory_gives_the_findings_of_the_same_inventory_in_memory() {
    let findings = |args: &[&str]| -> (Value, String) {
        let r = run(args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let report: Value = serde_json::from_str(&r.stdout).unwrap();
        (report["findings"].clone(), r.stderr)
    };
    let common = ["--format", "json", "--as-of", "2026-11-20T06:00:00Z"];
    let (in_memory, _) = findings(&[&["scan", "--demo"][..], &common].concat());
    let demo = path("demo-org.json");
    let (saved, stderr) = findings(
        &[
            &["scan", "--inventory", demo.as_str(), "--timings"][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(saved, in_memory);
    let images = in_memory
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "ECR401" || f["rule_id"] == "ECR402")
        .count();
    assert!(images > 0, "the demo has image findings");
    for phase in [
        "input",
        "model",
        "rules",
        "ignores and order",
        "report",
        "total",
    ] {
        assert!(stderr.contains(phase), "{phase}: {stderr}");
    }
    if cfg!(target_os = "linux") {
        assert!(stderr.contains("MiB resident"), "{stderr}");
    }
}

#[test]
fn exit_zero_when_nothing_reaches_fail_on() {
    // ecr302-fires-mutable has only medium (and lower) findings.
    let inv = path("inventories/ecr302-fires-mutable.json");
    let r = run(&[
        "scan",
        "--inventory",
        &inv,
        "--fail-on",
        "high",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = run(&[
        "scan",
        "--inventory",
        &inv,
        "--fail-on",
        "medium",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1);
}

#[test]
fn bad_inventories_exit_2_with_position() {
    let cases = [
        ("inventories/bad/not-json.json", "not valid JSON"),
        (
            "inventories/bad/wrong-format-version.json",
            "unsupported inventory format \"ecr-audit/inventory/v2\"",
        ),
        (
            "inventories/bad/missing-format.json",
            "not an ecr-audit inventory",
        ),
        (
            "inventories/bad/missing-repository-arn.json",
            "missing field `repositoryArn`",
        ),
        ("inventories/bad/misspelt-key.json", "unknown field `polcy`"),
    ];
    for (file, expected) in cases {
        let r = run(&["scan", "--inventory", &path(file)]);
        assert_eq!(r.code, 2, "{file}: {}", r.stderr);
        assert!(r.stderr.contains(expected), "{file}: {}", r.stderr);
        // The diagnostic's code and what to do about it.
        assert!(
            r.stderr.starts_with("error[ecr_audit::inventory]: "),
            "{file}: {}",
            r.stderr
        );
        assert!(
            r.stderr
                .contains("\n  help: inventories are written by `ecr-audit collect`"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains(file.rsplit('/').next().unwrap()),
            "names the file: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "nothing scanned, nothing printed");
    }
    let r = run(&[
        "scan",
        "--inventory",
        &path("inventories/bad/missing-repository-arn.json"),
    ]);
    assert!(r.stderr.contains("line 133"), "{}", r.stderr);
    let r = run(&["scan", "--inventory", "/nonexistent/inventory.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["scan", "--format", "xml", "--demo"]).code, 2);
    assert_eq!(run(&["scan", "--demo", "--as-of", "yesterday"]).code, 2);
    assert_eq!(run(&["scan", "--demo", "--trusted-account", "12"]).code, 2);
    assert_eq!(run(&["frobnicate"]).code, 2);
}

#[test]
fn incomplete_scan_exits_3_and_lists_errors_everywhere() {
    let dir = temp_dir("incomplete");
    let text = std::fs::read_to_string(fixture("inventories/ecr302-clean-immutable.json")).unwrap();
    let mut inv: Value = serde_json::from_str(&text).unwrap();
    inv["errors"] = serde_json::json!([{
        "account": "222233334444", "operation": "sts:AssumeRole", "kind": "assume-role-failed",
        "message": "AccessDenied: not authorized to assume ecr-audit"
    }]);
    let file = dir.join("inv.json");
    std::fs::write(&file, serde_json::to_string(&inv).unwrap()).unwrap();
    let f = file.to_str().unwrap();
    let table = run(&["scan", "--inventory", f, "--fail-on", "critical"]);
    assert_eq!(table.code, 3, "{}", table.stdout);
    assert!(
        table.stdout.contains("incomplete") && table.stdout.contains("222233334444"),
        "{}",
        table.stdout
    );
    let json = run(&[
        "scan",
        "--inventory",
        f,
        "--fail-on",
        "critical",
        "--format",
        "json",
    ]);
    assert_eq!(json.code, 3);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["errors"][0]["account"], "222233334444");
    assert_eq!(report["scanned"]["complete"], false);
    let sarif = run(&[
        "scan",
        "--inventory",
        f,
        "--fail-on",
        "critical",
        "--format",
        "sarif",
    ]);
    assert_eq!(sarif.code, 3);
    let log: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert!(inv["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("222233334444"));
}

#[test]
fn json_report_has_the_contracted_shape() {
    let r = run(&["scan", "--demo", "--format", "json"]);
    let report: Value = serde_json::from_str(&r.stdout).expect("JSON parses");
    assert_eq!(report["schema"], "ecr-audit/report/v1");
    assert_eq!(report["scanned"]["accounts"], 3);
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        for key in [
            "rule_id",
            "severity",
            "title",
            "message",
            "resource_arn",
            "account",
            "region",
            "fingerprint",
            "details",
        ] {
            assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
        }
    }
    // Sorted by severity, most severe first.
    let order = ["critical", "high", "medium", "low", "info"];
    let ranks: Vec<usize> = findings
        .iter()
        .map(|f| order.iter().position(|s| *s == f["severity"]).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
    assert!(report["errors"].as_array().unwrap().is_empty());
}

#[test]
fn sarif_category_names_the_run() {
    let category = |args: &[&str]| {
        let mut all = vec!["scan", "--demo", "--format", "sarif"];
        all.extend_from_slice(args);
        let r = run(&all);
        let log: Value = serde_json::from_str(&r.stdout).expect("SARIF parses");
        log["runs"][0]["automationDetails"]["id"].clone()
    };
    assert_eq!(category(&[]), "ecr-audit/");
    assert_eq!(category(&["--sarif-category", "org-a/prod"]), "org-a/prod/");
    let r = run(&[
        "scan",
        "--demo",
        "--format",
        "sarif",
        "--sarif-category",
        "x/",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn sarif_is_valid_and_meets_github_rules() {
    let r = run(&["scan", "--demo", "--format", "sarif"]);
    let log: Value = serde_json::from_str(&r.stdout).expect("SARIF parses");
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid: {errors:?}");
    // The schema check must be able to fail: a broken log is rejected.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(validator.iter_errors(&broken).next().is_some());
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(validator.iter_errors(&broken).next().is_some());

    let run0 = &log["runs"][0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://")));
    for rule in run0["tool"]["driver"]["rules"].as_array().unwrap() {
        assert!(rule["help"]["text"].is_string() && rule["help"]["markdown"].is_string());
        assert!(rule["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("security")));
        let sev = rule["properties"]["security-severity"].as_str().unwrap();
        assert!(["9.5", "8.0", "5.5", "2.0", "0.0"].contains(&sev));
        assert!(
            rule["shortDescription"]["text"].is_string()
                && rule["fullDescription"]["text"].is_string()
        );
    }
    let results = run0["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for res in results {
        let loc = &res["locations"][0];
        let uri = loc["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            uri.starts_with("aws/ecr/") || uri.starts_with("aws/iam/"),
            "{uri}"
        );
        assert!(!uri.contains(':') && !uri.starts_with('/'), "{uri}");
        assert_eq!(loc["physicalLocation"]["region"]["startLine"], 1);
        assert!(loc["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap()
            .starts_with("arn:"));
        assert_eq!(
            res["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap()
                .len(),
            32
        );
        assert!(res["message"]["text"].as_str().unwrap().len() > 10);
    }
}

#[test]
fn output_file_min_severity_and_as_of() {
    let dir = temp_dir("output");
    let out = dir.join("report.json");
    let r = run(&[
        "scan",
        "--demo",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
        "--min-severity",
        "high",
    ]);
    assert!(r.stdout.is_empty());
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let sevs: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert!(
        !sevs.is_empty() && sevs.iter().all(|s| *s == "high" || *s == "critical"),
        "{sevs:?}"
    );

    // Moving the reference time back before the pushes makes nothing stale.
    let stale = |as_of: &str| {
        let r = run(&[
            "scan",
            "--inventory",
            &path("inventories/ecr401-fires-untagged-15-days.json"),
            "--format",
            "json",
            "--as-of",
            as_of,
        ]);
        let report: Value = serde_json::from_str(&r.stdout).unwrap();
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == "ECR401")
            .count()
    };
    assert_eq!(stale("2026-11-20T06:00:00Z"), 1);
    assert_eq!(stale("2026-11-01"), 0);
}

#[test]
fn shards_merge_and_overlaps_are_refused() {
    let a = path("inventories/ecr302-fires-mutable.json");
    let r = run(&["scan", "--inventory", &a, "--inventory", &a]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("accounts collected more than once"),
        "{}",
        r.stderr
    );
}

#[test]
fn rules_catalogue_lists_every_rule() {
    let r = run(&["rules", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rules: Value = serde_json::from_str(&r.stdout).unwrap();
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "ECR301", "ECR302", "ECR303", "ECR304", "ECR305", "ECR401", "ECR402", "ECR403",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let one = run(&["rules", "ecr402"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(
        one.stdout.starts_with("ECR402 unpulled-images (low, on)")
            && one.stdout.contains("How to fix it: ")
            && one.stdout.contains("rules/ECR402-unpulled-images.cedar"),
        "{}",
        one.stdout
    );
    assert_eq!(run(&["rules", "ECR999"]).code, 2);
    let table = run(&["rules"]);
    assert!(
        table
            .stdout
            .contains("ECR302  medium    yes  mutable-image-tags"),
        "{}",
        table.stdout
    );
}

#[test]
fn custom_rules_load_and_bad_ones_name_file_and_line() {
    let dir = temp_dir("rules");
    std::fs::write(
        dir.join("team.cedar"),
        r#"@id("TEAM001")
@name("repository-without-team-tag")
@severity("low")
@title("Repository has no team tag")
@description("Every repository must say which team owns it.")
@remediation("Tag the repository with team=<name>.")
@message("Repository {name} has no team tag.")
permit (principal, action == EcrAudit::Action::"audit", resource is EcrAudit::Repository)
when { !(resource.tags.containsAny(["team=payments", "team=web", "team=platform"])) };
"#,
    )
    .unwrap();
    let r = run(&[
        "scan",
        "--demo",
        "--rules-dir",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule_id"] == "TEAM001"));

    // An attribute that does not exist in the schema: a validation error at its line.
    std::fs::write(
        dir.join("team.cedar"),
        "@id(\"TEAM001\")\n@name(\"x\")\n@severity(\"low\")\n@title(\"t\")\n@description(\"d\")\n@remediation(\"r\")\n@message(\"m\")\npermit (principal, action == EcrAudit::Action::\"audit\", resource is EcrAudit::Repository)\nwhen { resource.owner == \"me\" };\n",
    )
    .unwrap();
    let r = run(&["scan", "--demo", "--rules-dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("team.cedar:9:"), "{}", r.stderr);
    // A syntax error.
    std::fs::write(
        dir.join("team.cedar"),
        "@id(\"X\")\npermit (principal, action, resource\n",
    )
    .unwrap();
    let r = run(&["scan", "--demo", "--rules-dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("team.cedar:"), "{}", r.stderr);
    // Missing metadata.
    std::fs::write(
        dir.join("team.cedar"),
        "@id(\"TEAM002\")\npermit (principal, action == EcrAudit::Action::\"audit\", resource is EcrAudit::Repository);\n",
    )
    .unwrap();
    let r = run(&["scan", "--demo", "--rules-dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("team.cedar:1:1: missing annotation @name"),
        "{}",
        r.stderr
    );
}

#[test]
fn config_applies_and_its_errors_name_the_line() {
    let dir = temp_dir("config");
    std::fs::write(
        dir.join("ecr-audit.toml"),
        r#"
[rules.ECR302]
enabled = false
[rules.ECR305]
severity = "critical"
[[ignore]]
rule = "ECR303"
resource = "arn:aws:ecr:*:*:repository/*"
reason = "lifecycle handled by a cleanup job"
expires = "2099-01-01"
[[ignore]]
rule = "ECR401"
resource = "arn:aws:ecr:*:*:repository/nothing-here"
reason = "stale ignore"
"#,
    )
    .unwrap();
    let r = run_in(
        &dir,
        &["scan", "--demo", "--format", "json", "--fail-on", "never"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.iter().any(|f| f["rule_id"] == "ECR302"));
    // The ignore names repositories: a creation template's ECR303 stays.
    assert!(!findings
        .iter()
        .any(|f| f["rule_id"] == "ECR303" && f["resource_kind"] == "repository"));
    assert!(findings
        .iter()
        .any(|f| f["rule_id"] == "ECR303" && f["resource_kind"] == "creation-template"));
    assert!(findings
        .iter()
        .filter(|f| f["rule_id"] == "ECR305")
        .all(|f| f["severity"] == "critical"));
    assert!(report["summary"]["suppressed"].as_u64().unwrap() > 0);
    assert!(r.stderr.contains("matched no finding"), "{}", r.stderr);

    std::fs::write(
        dir.join("ecr-audit.toml"),
        "[thresholds]\nstale_days = 7\nstale_dys = 3\n",
    )
    .unwrap();
    let r = run_in(&dir, &["scan", "--demo"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("line 3") && r.stderr.contains("stale_dys"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.starts_with("error[ecr_audit::config]: "),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("\n  help: "), "{}", r.stderr);
    std::fs::write(
        dir.join("ecr-audit.toml"),
        "[rules.ECR999]\nenabled = false\n",
    )
    .unwrap();
    let r = run_in(&dir, &["scan", "--demo"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("ECR999"), "{}", r.stderr);
}

#[test]
fn check_policy_reports_like_a_scan() {
    let public = path("examples/public-pull.json");
    let r = run(&[
        "check-policy",
        &public,
        "--kind",
        "repository",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("123456789012 (default"), "{}", r.stderr);
    assert!(r.stderr.contains("verdict public"), "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ECR101"]);

    // The same grant limited to the organization is not public.
    let org = path("examples/org-pull.json");
    let r = run(&[
        "check-policy",
        &org,
        "--kind",
        "repository",
        "--account",
        "111122223333",
        "--org-id",
        "o-a1b2c3d4e5",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("verdict org-only"), "{}", r.stderr);
    // ... but without knowing the organization, o-a1b2c3d4e5 is someone else's.
    let r = run(&[
        "check-policy",
        &org,
        "--kind",
        "repository",
        "--account",
        "111122223333",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert!(r.stderr.contains("verdict external"), "{}", r.stderr);

    // As a registry policy, the grant counts under registry policy scope V2
    // (the default) and has no effect under V1.
    for (scope, code, verdict) in [("v2", 1, "verdict public"), ("v1", 0, "verdict owner-only")] {
        let r = run(&[
            "check-policy",
            &public,
            "--kind",
            "registry",
            "--registry-scope",
            scope,
        ]);
        assert_eq!(r.code, code, "{scope}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(verdict), "{scope}: {}", r.stderr);
    }

    let trust = path("examples/github-trust-without-sub.json");
    let r = run(&[
        "check-policy",
        &trust,
        "--kind",
        "trust",
        "--format",
        "sarif",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("ECR204"));

    let bad = path("inventories/bad/not-json.json");
    let r = run(&[
        "check-policy",
        &bad,
        "--kind",
        "repository",
        "--fail-on",
        "medium",
    ]);
    assert_eq!(
        r.code, 2,
        "a file that is not JSON is an input error, never passed: {}",
        r.stderr
    );
}

/// check-policy in CI: what is not a JSON document is an input error (exit
/// 2, with line and column); a document the analysis cannot fully decide,
/// or one checked as the wrong kind, fails the default gate; nothing that
/// was not decided is printed as "none".
#[test]
fn check_policy_never_passes_what_it_did_not_decide() {
    let dir = crate::common::temp_dir("check-gate");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    let comma = write(
        "comma.json",
        br#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"},]}"#,
    );
    let r = run(&["check-policy", &comma, "--kind", "repository"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("comma.json:1:") && r.stderr.contains("not valid JSON"),
        "{}",
        r.stderr
    );
    for (name, bytes) in [
        ("empty.json", &b""[..]),
        (
            "blank.json",
            &b"  
"[..],
        ),
    ] {
        let f = write(name, bytes);
        let r = run(&["check-policy", &f, "--kind", "repository"]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stderr.contains("empty"), "{}", r.stderr);
    }
    let non_utf8 = write("latin1.json", b"{\"Version\": \"2012-10-17\xe9\"}");
    let r = run(&["check-policy", &non_utf8, "--kind", "repository"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not UTF-8"), "{}", r.stderr);

    // A byte-order mark is skipped with a warning; the document is analysed.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(
        br#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#,
    );
    let bom = write("bom.json", &bom);
    let r = run(&["check-policy", &bom, "--kind", "repository"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("byte-order mark"), "{}", r.stderr);
    assert!(r.stdout.contains("ECR101"), "{}", r.stdout);

    // Undecided: an unknown operator. ECR001 is medium, below the default
    // --fail-on high, yet the check fails unless the user accepts it.
    let unknown = write(
        "unknown-op.json",
        br#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringFooBar":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}"#,
    );
    let r = run(&["check-policy", &unknown, "--kind", "repository"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("could not be fully analysed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("not fully decided (at most: read public"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("read none"), "{}", r.stderr);
    let r = run(&[
        "check-policy",
        &unknown,
        "--kind",
        "repository",
        "--allow-undecided",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // The wrong kind: a trust policy checked as a repository policy, and a
    // repository policy checked as a trust policy.
    let trust = write(
        "trust.json",
        br#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}"#,
    );
    let r = run(&["check-policy", &trust, "--kind", "repository"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("--kind trust"), "{}", r.stderr);
    let r = run(&[
        "check-policy",
        &comma.replace("comma", "bom"),
        "--kind",
        "trust",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("--kind repository"), "{}", r.stderr);
    let r = run(&["check-policy", &trust, "--kind", "trust"]);
    assert!(
        r.stderr.contains("who can assume the role: external"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("read none"), "{}", r.stderr);

    // Identity policies say what they grant, and the summary counts no
    // synthetic inventory.
    let admin = write(
        "admin.json",
        br#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#,
    );
    let r = run(&["check-policy", &admin, "--kind", "identity"]);
    assert!(
        r.stderr.contains("an identity policy")
            && r.stderr
                .contains("grants: ECR read, write on every repository"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("checked 1 policy document"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("1 accounts"), "{}", r.stdout);
}

/// --min-severity says how many findings it leaves out, in the table and
/// the JSON; counts read as English.
#[test]
fn min_severity_says_what_it_leaves_out() {
    // Wide enough for the summary to stay on one line.
    let r = run_env(
        &[
            "scan",
            "--demo",
            "--min-severity",
            "high",
            "--fail-on",
            "never",
        ],
        &[("COLUMNS", "300")],
    );
    assert_eq!(r.code, 0);
    let summary = r.stdout.lines().last().unwrap_or_default().to_string();
    let all = run(&["scan", "--demo", "--format", "json", "--fail-on", "never"]);
    let all: Value = serde_json::from_str(&all.stdout).unwrap();
    let total = all["summary"]["findings"].as_u64().unwrap();
    let high = run(&[
        "scan",
        "--demo",
        "--format",
        "json",
        "--min-severity",
        "high",
        "--fail-on",
        "never",
    ]);
    let high: Value = serde_json::from_str(&high.stdout).unwrap();
    let shown = high["summary"]["findings"].as_u64().unwrap();
    let hidden = high["summary"]["below_min_severity"].as_u64().unwrap();
    assert!(hidden > 0);
    assert_eq!(shown + hidden, total);
    assert!(
        summary.contains(&format!("{hidden} below --min-severity not shown")),
        "{summary}"
    );
}

#[test]
fn explain_policy_prints_cedar() {
    let r = run(&["explain-policy", &path("examples/org-pull.json")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("permit ("), "{}", r.stdout);
    assert!(r.stdout.contains("@statement(\"1\")"), "{}", r.stdout);
    assert!(r.stdout.contains("aws:principalorgid"), "{}", r.stdout);
    let r = run(&["explain-policy", &path("inventories/bad/not-json.json")]);
    assert_eq!(r.code, 2);
}

/// `check-policy --as-of` decides time conditions: before a window opens the
/// grant is reported as future access (ECR109, with the date), inside it as
/// current access, after it as nothing.
#[test]
fn check_policy_as_of_decides_time_windows() {
    let file = path("policies/repository/200-time-future-public.json");
    let case: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let dir = crate::common::temp_dir("as-of");
    let policy = dir.join("policy.json");
    std::fs::write(&policy, case["policy"].to_string()).unwrap();
    let policy = policy.display().to_string();
    let ids = |as_of: &str| -> (Vec<String>, String) {
        let r = run(&[
            "check-policy",
            &policy,
            "--kind",
            "repository",
            "--account",
            "111122223333",
            "--as-of",
            as_of,
            "--format",
            "json",
            "--fail-on",
            "never",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let report: Value = serde_json::from_str(&r.stdout).unwrap();
        let findings = report["findings"].as_array().unwrap();
        (
            findings
                .iter()
                .map(|f| f["rule_id"].as_str().unwrap().to_string())
                .collect(),
            findings
                .iter()
                .map(|f| f["message"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    let (before, message) = ids("2026-11-20");
    assert_eq!(before, ["ECR109"], "{message}");
    assert!(message.contains("anyone from 2027-"), "{message}");
    let (inside, _) = ids("2030-01-01");
    assert!(inside.contains(&"ECR101".to_string()), "{inside:?}");
    assert!(!inside.contains(&"ECR109".to_string()), "{inside:?}");
    let r = run(&[
        "check-policy",
        &policy,
        "--kind",
        "repository",
        "--as-of",
        "2026-11-20T06:00:00",
    ]);
    assert_eq!(r.code, 2, "a time without offset is a usage error");
}

/// Usage errors say what is wrong in one sentence: live flags with the
/// demo, an organization id of the wrong shape, a time without an offset,
/// a date that is not one. `rules` shows which rules are off.
#[test]
fn usage_errors_say_what_is_wrong() {
    let r = run(&["scan", "--demo", "--region", "us-east-1"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--region applies only to a live scan"),
        "{}",
        r.stderr
    );
    let r = run(&["scan", "--demo", "--as-of", "2026-11-20T06:00:00"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("has no time zone offset"), "{}", r.stderr);
    let r = run(&["scan", "--demo", "--as-of", "2026-13-45"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("is neither a date"), "{}", r.stderr);
    let policy = path("examples/public-pull.json");
    for bad in ["o-ABCDEFGHIJ", "o-short", "x-a1b2c3d4e5", "o-"] {
        let r = run(&[
            "check-policy",
            &policy,
            "--kind",
            "repository",
            "--org-id",
            bad,
        ]);
        assert_eq!(r.code, 2, "{bad}");
        assert!(
            r.stderr.contains("is not an organization id"),
            "{}",
            r.stderr
        );
    }
    let r = run(&["rules"]);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("ECR205"))
        .unwrap()
        .to_string();
    assert!(line.contains(" off "), "{line}");
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("ECR101"))
        .unwrap()
        .to_string();
    assert!(line.contains(" yes "), "{line}");
}

/// The table fits the width it is given (COLUMNS, else the terminal, else
/// 150 for files and pipes), with colour on or off: no line is wider, and
/// no word of a finding is broken across lines. Narrow widths get one block
/// per finding; rules with many medium or low findings are rolled up unless
/// --all.
#[test]
fn the_table_fits_its_width_without_breaking_words() {
    let json = run(&["scan", "--demo", "--format", "json", "--fail-on", "never"]);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let words: std::collections::BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "critical" || f["severity"] == "high")
        .flat_map(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .split_whitespace()
                .map(|w| {
                    w.trim_end_matches(['.', ',', ')'])
                        .trim_start_matches('(')
                        .to_string()
                })
                .collect::<Vec<_>>()
        })
        .filter(|w| w.len() > 3 && w.len() <= 30)
        .collect();
    let strip = |s: &str| {
        let mut out = String::new();
        let mut in_escape = false;
        for c in s.chars() {
            match (in_escape, c) {
                (false, '\x1b') => in_escape = true,
                (true, 'm') => in_escape = false,
                (true, _) => {}
                (false, c) => out.push(c),
            }
        }
        out
    };
    for width in ["80", "150", "200"] {
        for color in ["never", "always"] {
            for all in [false, true] {
                let mut args = vec!["scan", "--demo", "--fail-on", "never", "--color", color];
                if all {
                    args.push("--all");
                }
                let r = run_env(&args, &[("COLUMNS", width)]);
                assert_eq!(r.code, 0, "{}", r.stderr);
                let text = strip(&r.stdout);
                let limit: usize = width.parse().unwrap();
                for line in text.lines() {
                    assert!(
                        line.chars().count() <= limit,
                        "{width} {color}: {} columns: {line}",
                        line.chars().count()
                    );
                }
                for w in &words {
                    assert!(
                        text.contains(w.as_str()),
                        "{width} {color}: the word {w:?} is broken or missing"
                    );
                }
                if color == "always" {
                    assert!(r.stdout.contains('\x1b'), "colour asked for");
                } else {
                    assert!(!r.stdout.contains('\x1b'));
                }
                // 28 ECR402 findings: one rolled-up row, or one row each.
                let rows = text.matches("ECR402").count();
                assert_eq!(rows < 5, !all, "{width} {color} --all={all}: {rows}");
            }
        }
    }
    // A pipe without COLUMNS: 150.
    let r = run(&["scan", "--demo", "--fail-on", "never"]);
    assert!(r.stdout.lines().all(|l| l.chars().count() <= 150));
    assert!(r.stdout.lines().any(|l| l.chars().count() > 120));
}

#[test]
fn version_names_the_commit() {
    let r = run(&["--version"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let expected = format!("ecr-audit {} (", env!("CARGO_PKG_VERSION"));
    assert!(r.stdout.starts_with(&expected), "{}", r.stdout);
    // Built from a checkout (the tests always are): the commit's short id.
    let inner = r
        .stdout
        .trim()
        .trim_start_matches(&expected)
        .trim_end_matches(')');
    let id = inner
        .strip_prefix("commit ")
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(
        id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{}",
        r.stdout
    );
}
