//! The reports, byte for byte: the demo organization and every per-rule
//! fixture inventory in each output format (table, JSON, SARIF, Markdown), held as
//! insta snapshots in `tests/it/snapshots/`. A change to any output shows
//! up as a snapshot diff to review: `INSTA_UPDATE=always cargo test --test
//! it snapshots` rewrites them, and `git diff` shows what changed.
//!
//! The table is the one written to a file or pipe (150 columns, no color),
//! as a CI log shows it.

use std::path::PathBuf;

use crate::common::{fixture, run};

const FORMATS: [&str; 4] = ["table", "json", "sarif", "markdown"];

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// One scan in one format: its exit code, then what it wrote to stdout.
fn scan(input: &[&str], format: &str) -> String {
    let mut args = vec!["scan"];
    args.extend_from_slice(input);
    args.extend(["--format", format]);
    let r = run(&args);
    assert!(
        matches!(r.code, 0 | 1 | 3),
        "{args:?} exited {}: {}",
        r.code,
        r.stderr
    );
    format!("exit {}\n{}", r.code, r.stdout)
}

#[test]
fn demo_reports_in_every_format() {
    settings().bind(|| {
        for format in FORMATS {
            insta::assert_snapshot!(format!("demo-{format}"), scan(&["--demo"], format));
        }
    });
}

#[test]
fn rule_fixture_reports_in_every_format() {
    let mut inventories: Vec<PathBuf> = std::fs::read_dir(fixture("inventories"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    inventories.sort();
    assert!(inventories.len() >= 20, "{inventories:?}");
    settings().bind(|| {
        for path in &inventories {
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            // Relative to the repository (the tests run there), so the
            // reports name the same file on every machine.
            let file = format!("fixtures/inventories/{name}.json");
            let reports: Vec<String> = FORMATS
                .iter()
                .map(|format| format!("== {format}\n{}", scan(&["--inventory", &file], format)))
                .collect();
            insta::assert_snapshot!(format!("fixture-{name}"), reports.join("\n"));
        }
    });
}
