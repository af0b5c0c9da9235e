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
