//! `--format markdown`: a summary that fits GitHub's job-summary limit
//! (1 MiB) whatever the scan's size, with hostile text kept inert.

use serde_json::json;

use crate::common::{run, temp_dir};

/// The size `report::markdown::MAX_BYTES` promises to stay under.
const JOB_SUMMARY_LIMIT: usize = 1024 * 1024;

/// An organization far beyond what any list in the summary shows: 4,000
/// public repositories with the longest names ECR allows, and 2,000
/// collection errors with long messages holding Markdown and HTML.
fn large_inventory() -> serde_json::Value {
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#;
    let repositories: Vec<_> = (0..4000)
        .map(|i| {
            let name = format!("team-{i:04}/{}", "a".repeat(240));
            json!({
                "repositoryName": name,
                "repositoryArn": format!("arn:aws:ecr:us-east-1:111122223333:repository/{name}"),
                "registryId": "111122223333",
                "imageTagMutability": "MUTABLE",
                "policy": public,
            })
        })
        .collect();
    let errors: Vec<_> = (0..2000)
        .map(|i| {
            json!({
                "account": "111122223333",
                "region": "us-east-1",
                "operation": "ecr:DescribeImages",
                "resource": format!("arn:aws:ecr:us-east-1:111122223333:repository/r{i}"),
                "kind": "access-denied",
                "message": format!("| <script>alert({i})</script> | [x](javascript:y) {}", "z".repeat(5000)),
            })
        })
        .collect();
    json!({
        "format": "ecr-audit/inventory/v1",
        "collectedAt": "2026-11-20T06:00:00Z",
        "accounts": [{"id": "111122223333", "regions": [{"region": "us-east-1", "repositories": repositories}]}],
        "errors": errors,
    })
}

#[test]
fn the_summary_of_a_large_scan_fits_a_job_summary() {
    let dir = temp_dir("markdown-large");
    let path = dir.join("inventory.json");
    std::fs::write(&path, serde_json::to_vec(&large_inventory()).unwrap()).unwrap();
    let r = run(&[
        "scan",
        "--inventory",
        path.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    // Findings at or above the default --fail-on outrank incompleteness.
    assert_eq!(r.code, 1, "{}", r.stderr);
    let md = &r.stdout;
    assert!(md.len() < JOB_SUMMARY_LIMIT / 4, "{} bytes", md.len());

    // Every public repository is counted, only the first 50 are listed.
    let high: usize = md
        .lines()
        .find(|l| l.starts_with("| high |"))
        .and_then(|row| row.split('|').nth(2))
        .map(|n| n.trim().parse().unwrap())
        .expect("severity table");
    assert!(high >= 4000, "{high}");
    let listed = md
        .split("### The 50 most severe of ")
        .nth(1)
        .expect("findings heading")
        .split("\n\n")
        .nth(1)
        .expect("findings table")
        .lines()
        .count();
    assert_eq!(listed, 2 + 50, "header, separator and 50 rows");
    assert!(md.contains("more (see the JSON report)"), "{md}");

    // The errors: all counted, 20 listed, their text inert.
    assert!(md.contains("The scan is incomplete: 2000 errors"), "{md}");
    assert!(md.contains("- … and 1980 more"), "{md}");
    assert!(!md.contains("<script>"), "HTML must be escaped");
    assert!(!md.contains("[x]("), "links must be escaped");
    assert!(md.contains("\\[x\\](javascript:y)"), "{md}");
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        // One cell per column: an escaped `|` does not open a new one.
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells == 3 || cells == 5 || cells == 6, "{line}");
    }
}
