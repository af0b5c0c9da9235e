//! The README's rule table says what the rules say.

use std::collections::BTreeMap;

use ecr_audit::engine::load_rules;

#[test]
fn readme_rule_table_matches_the_catalogue() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut table: BTreeMap<String, (String, String)> = BTreeMap::new();
    for line in readme.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() >= 5 && cells[1].starts_with("ECR") && cells[1].len() == 6 {
            table.insert(
                cells[1].to_string(),
                (cells[2].to_string(), cells[3].to_string()),
            );
        }
    }
    let rules = load_rules(None).unwrap();
    assert_eq!(
        table.len(),
        rules.len(),
        "README lists {} rules, the catalogue has {}",
        table.len(),
        rules.len()
    );
    for rule in rules {
        let (name, severity) = table
            .get(&rule.id)
            .unwrap_or_else(|| panic!("{} missing from the README", rule.id));
        assert_eq!(name, &rule.name, "{}", rule.id);
        assert_eq!(severity, rule.severity.as_str(), "{}", rule.id);
    }
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The first fenced block of `lang` after the heading `heading`.
fn block_after(text: &str, heading: &str, lang: &str) -> String {
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("README has no {heading}"));
    let rest = &text[at..];
    let open = format!("```{lang}\n");
    let start = rest.find(&open).expect("a code block") + open.len();
    let len = rest[start..].find("```").expect("a closed block");
    rest[start..start + len].to_string()
}

/// A scratch folder where `fixtures/` is the clone's, and `ecr-audit` the
/// binary under test on PATH.
fn scratch(name: &str) -> (std::path::PathBuf, String) {
    let dir = crate::common::temp_dir(&format!("readme-{name}"));
    std::os::unix::fs::symlink(
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"),
        dir.join("fixtures"),
    )
    .unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ecr-audit"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (dir, path)
}

/// Every command of "The first five minutes" runs as written and exits as
/// its comment says.
#[test]
fn the_first_five_minutes_run_as_written() {
    if let Err(e) = ecr_audit::prove::solver_available() {
        panic!("{e}");
    }
    let block = block_after(&readme(), "## The first five minutes", "sh");
    let (dir, path) = scratch("first-five");
    let mut ran = 0;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let (command, comment) = line.split_once('#').expect("each command has a comment");
        let expected: i32 = comment
            .trim()
            .strip_prefix("exit ")
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `# exit N` on: {line}"));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(command.trim())
            .current_dir(&dir)
            .env("PATH", &path)
            .env_remove("ECR_AUDIT_CONFIG")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(expected),
            "{command}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("error:"),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} commands");
    // The redirections wrote reports.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo.json")).unwrap()).unwrap();
    assert!(json["findings"].as_array().is_some_and(|f| !f.is_empty()));
    assert!(std::fs::read_to_string(dir.join("demo.sarif"))
        .unwrap()
        .contains("\"version\": \"2.1.0\""));
}

/// The configuration example runs as written (with the demo).
#[test]
fn the_config_example_runs_as_written() {
    let toml = block_after(&readme(), "## Configuration", "toml");
    let (dir, path) = scratch("config");
    std::fs::write(dir.join("ecr-audit.toml"), toml).unwrap();
    let out = std::process::Command::new("ecr-audit")
        .args(["scan", "--demo", "--fail-on", "never"])
        .current_dir(&dir)
        .env("PATH", &path)
        .env_remove("ECR_AUDIT_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");
    // The example's ignore names an account the demo does not have: said.
    assert!(stderr.contains("matched no finding"), "{stderr}");
}
