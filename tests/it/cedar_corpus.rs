//! Every document of the policy corpus translates into Cedar that validates
//! in strict mode against the schema, and `explain` shows it.

use ecr_audit::cedar;
use ecr_audit::policy::{self, PolicyKind};
use std::path::{Path, PathBuf};

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            case_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// (file, kind, policy text) of every case.
pub fn corpus() -> Vec<(PathBuf, PolicyKind, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policies");
    let mut files = Vec::new();
    case_files(&root, &mut files);
    files
        .into_iter()
        .map(|f| {
            let case: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&f).expect("read case"))
                    .expect("case is JSON");
            let kind = match case["kind"].as_str() {
                Some("identity") => PolicyKind::Identity,
                Some("trust") => PolicyKind::Trust,
                _ => PolicyKind::Resource,
            };
            let text = match case.get("policy_text").and_then(|t| t.as_str()) {
                Some(t) => t.to_owned(),
                None => serde_json::to_string(&case["policy"]).expect("policy"),
            };
            (f, kind, text)
        })
        .collect()
}

#[test]
fn schema_parses_and_names_every_action() {
    let text = cedar::schema::schema_text();
    let _ = cedar::schema::schema();
    for a in ecr_audit::policy::actions::all() {
        assert!(
            text.contains(&format!("action \"{}\"", a.name)),
            "{}",
            a.name
        );
    }
    for a in cedar::schema::STS_ACTIONS {
        assert!(text.contains(&format!("action \"{a}\"")), "{a}");
    }
}

#[test]
fn corpus_translations_validate_strictly() {
    let mut translated = 0;
    let mut approximated = 0;
    let mut failures = Vec::new();
    for (file, kind, text) in corpus() {
        let Ok(doc) = policy::parse(&text, kind) else {
            continue;
        };
        let t = cedar::translate(&doc);
        translated += 1;
        if !t.approximations.is_empty() {
            approximated += 1;
        }
        if let Err(errs) = cedar::validate(&t) {
            failures.push(format!(
                "{}:\n  {}\n{}",
                file.display(),
                errs.join("\n  "),
                cedar::explain(&doc)
            ));
        }
        // Every statement either produced a policy or says why not.
        assert_eq!(
            t.statements.len() + t.skipped.len(),
            doc.statements.len(),
            "{}",
            file.display()
        );
        let shown = cedar::explain(&doc);
        for s in &t.statements {
            assert!(shown.contains(&s.text), "{}", file.display());
        }
    }
    assert!(
        translated > 150,
        "only {translated} corpus documents parsed"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    eprintln!("{translated} corpus documents validate ({approximated} with approximations)");
}

/// `ECR_AUDIT_EXPLAIN=<substring of a case path> cargo test --test
/// cedar_corpus show_explain -- --ignored --nocapture` prints the Cedar of
/// matching corpus cases (until `ecr-audit explain-policy` is wired).
#[test]
#[ignore]
fn show_explain() {
    let filter = std::env::var("ECR_AUDIT_EXPLAIN").unwrap_or_default();
    for (file, kind, text) in corpus() {
        if !file.to_string_lossy().contains(&filter) {
            continue;
        }
        match policy::parse(&text, kind) {
            Ok(doc) => println!("=== {}\n{}", file.display(), cedar::explain(&doc)),
            Err(e) => println!("=== {}\n(does not parse: {e})", file.display()),
        }
    }
}
