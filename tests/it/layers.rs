//! The library's layers import one way: each top-level module of `src/` may
//! use only modules of a lower layer (or its own), and inside a module no
//! two files import each other, directly or through others. The table below
//! is the layering `docs/architecture.md` draws; a new module must be given
//! a layer here.
//!
//! Read from the source text: every `crate::NAME` (a `use` line or an inline
//! path) and `super::NAME` outside `#[cfg(test)]` code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// (module, layer): lower layers never import higher ones. Modules of one
/// layer stand beside each other and do not import each other.
const LAYERS: &[(&str, u8)] = &[
    // Foundations: the IAM policy language, reading user files.
    ("policy", 0),
    ("files", 0),
    // What collection produces and a scan reads; IAM → Cedar.
    ("inventory", 1),
    ("cedar", 1),
    // Who can reach what.
    ("access", 2),
    // Beside the model: collection from AWS, proofs with a solver.
    ("collect", 3),
    ("prove", 3),
    // Facts per resource.
    ("model", 4),
    // Findings, and the rules that make them.
    ("finding", 5),
    ("engine", 6),
    // Settings.
    ("config", 7),
    // Composition: a scan; its outputs; a one-policy check.
    ("scan", 8),
    ("report", 9),
    ("check", 10),
    ("cli", 11),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's text without its `#[cfg(test)]` items (a test module may use
/// whatever it tests with) and without comments.
fn library_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            // Skip the item that follows: up to its closing brace at the
            // same indentation (or its `;`).
            let indent = line.len() - line.trim_start().len();
            for item_line in lines.by_ref() {
                let trimmed = item_line.trim_end();
                let item_indent = item_line.len() - item_line.trim_start().len();
                if item_indent == indent
                    && (trimmed.trim_start().starts_with('}') || trimmed.ends_with(';'))
                {
                    break;
                }
            }
            continue;
        }
        let code = line.split("//").next().unwrap_or("");
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Names following `prefix` in `code` (`crate::` → `policy`, ...), with the
/// following path segment when there is one.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<(&'a str, Option<&'a str>)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        let next = rest[name_len..].strip_prefix("::").map(|tail| {
            let len = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            &tail[..len]
        });
        if !name.is_empty() {
            out.push((name, next.filter(|n| !n.is_empty())));
        }
    }
    out
}

/// Top-level module and file (sub)module of a source file:
/// `src/policy/ast.rs` → ("policy", Some("ast")), `src/policy/mod.rs` →
/// ("policy", None), `src/scan.rs` → ("scan", None).
fn module_of(path: &Path) -> (String, Option<String>) {
    let relative = path.strip_prefix(src()).unwrap();
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    match parts.as_slice() {
        [file] => (file.clone(), None),
        [dir, file] if file == "mod" => (dir.clone(), None),
        [dir, file, ..] => (dir.clone(), Some(file.clone())),
        _ => unreachable!(),
    }
}

#[test]
fn no_module_imports_a_higher_layer_and_no_files_import_each_other() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut upward = Vec::new();
    let mut unlayered = BTreeSet::new();
    // (top module) → file → siblings it imports.
    let mut siblings = Graph::new();
    for path in &files {
        let (top, sub) = module_of(path);
        if top == "main" || top == "lib" {
            continue;
        }
        let Some(own) = layer(&top) else {
            unlayered.insert(top.clone());
            continue;
        };
        let code = library_code(&std::fs::read_to_string(path).unwrap());
        for (name, next) in paths_after(&code, "crate::") {
            if name == top {
                if let (Some(sub), Some(next)) = (&sub, next) {
                    if next != sub {
                        siblings
                            .entry(top.clone())
                            .or_default()
                            .entry(sub.clone())
                            .or_default()
                            .insert(next.to_string());
                    }
                }
                continue;
            }
            match layer(name) {
                Some(theirs) if theirs < own => {}
                Some(_) => upward.push(format!(
                    "{} uses crate::{name} (layer {own} may use only lower layers)",
                    path.strip_prefix(src()).unwrap().display()
                )),
                None => {
                    unlayered.insert(name.to_string());
                }
            }
        }
        if let Some(sub) = &sub {
            for (name, _) in paths_after(&code, "super::") {
                if name != *sub && path.parent().unwrap().join(format!("{name}.rs")).exists() {
                    siblings
                        .entry(top.clone())
                        .or_default()
                        .entry(sub.clone())
                        .or_default()
                        .insert(name.to_string());
                }
            }
        }
    }
    assert!(
        unlayered.is_empty(),
        "modules without a layer in LAYERS: {unlayered:?}"
    );
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));

    let cycles = cycles(&siblings);
    assert!(
        cycles.is_empty(),
        "files that import each other:\n{}",
        cycles.join("\n")
    );
}

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// Cycles among the files of one module (`module: a → b → a`), by
/// depth-first search from each file.
fn cycles(siblings: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    for (top, graph) in siblings {
        for start in graph.keys() {
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((at, trail)) = stack.pop() {
                for next in graph.get(&at).into_iter().flatten() {
                    if next == start {
                        out.push(format!("{top}: {} → {start}", trail.join(" → ")));
                    } else if seen.insert(next.clone()) {
                        let mut longer = trail.clone();
                        longer.push(next.clone());
                        stack.push((next.clone(), longer));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_cycle_finder_finds_a_cycle_through_three_files_and_not_a_chain() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g = Graph::new();
        for (from, to) in edges {
            g.entry("policy".to_string())
                .or_default()
                .entry(from.to_string())
                .or_default()
                .insert(to.to_string());
        }
        g
    };
    let found = cycles(&graph(&[
        ("ast", "condition"),
        ("condition", "pattern"),
        ("pattern", "ast"),
    ]));
    assert!(
        found.contains(&"policy: ast → condition → pattern → ast".to_string()),
        "{found:?}"
    );
    assert!(cycles(&graph(&[
        ("ast", "condition"),
        ("condition", "pattern"),
        ("ast", "pattern")
    ]))
    .is_empty());
}

/// The reader finds what it must: an upward `use` and an inline path, not a
/// comment or a test module.
#[test]
fn the_layer_reader_sees_uses_and_inline_paths_but_not_tests_or_comments() {
    let code = library_code(
        "use crate::policy::ast;\nfn f() { crate::model::build(); } // crate::report\n#[cfg(test)]\nmod tests {\n    use crate::scan;\n}\nfn g() { super::pattern::x(); }\n",
    );
    let names: Vec<_> = paths_after(&code, "crate::")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["policy", "model"]);
    assert_eq!(paths_after(&code, "super::"), [("pattern", Some("x"))]);
}
