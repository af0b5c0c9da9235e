//! The policy corpus (fixtures/policies): every case file is well formed,
//! every analysable case parses, and every case that is unanalysable says why
//! (a precise parse error, or a construct listed by `unsupported()`).

use ecr_audit::policy::{parse, PolicyErrorKind, PolicyKind};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const KINDS: [&str; 4] = ["repository", "registry", "identity", "trust"];
const VERDICTS: [&str; 5] = [
    "public",
    "external",
    "org-only",
    "owner-only",
    "unanalyzable",
];
const CLASSES: [&str; 5] = ["public", "external", "org-only", "owner-only", "none"];
const RULES: [&str; 16] = [
    "ECR001", "ECR101", "ECR102", "ECR103", "ECR104", "ECR105", "ECR106", "ECR107", "ECR108",
    "ECR109", "ECR111", "ECR112", "ECR201", "ECR202", "ECR203", "ECR204",
];
const CASE_KEYS: [&str; 12] = [
    "description",
    "kind",
    "account",
    "org_id",
    "org_accounts",
    "trusted_accounts",
    "policy",
    "policy_text",
    "expect",
    "source",
    "as_of",
    "registry_scope",
];
const EXPECT_KEYS: [&str; 5] = ["verdict", "read", "write", "rules", "parse_error"];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("policies")
}

fn is_account(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()))
}

fn policy_kind(kind: &str) -> PolicyKind {
    match kind {
        "identity" => PolicyKind::Identity,
        "trust" => PolicyKind::Trust,
        _ => PolicyKind::Resource,
    }
}

fn error_kind_name(k: &PolicyErrorKind) -> &'static str {
    match k {
        PolicyErrorKind::InvalidJson { .. } => "InvalidJson",
        PolicyErrorKind::NotAnObject => "NotAnObject",
        PolicyErrorKind::MissingElement => "MissingElement",
        PolicyErrorKind::ConflictingElements => "ConflictingElements",
        PolicyErrorKind::UnexpectedElement => "UnexpectedElement",
        PolicyErrorKind::WrongType => "WrongType",
        PolicyErrorKind::InvalidValue => "InvalidValue",
        PolicyErrorKind::DuplicateKey => "DuplicateKey",
    }
}

/// Check one case; returns (kind, verdict).
fn check_case(path: &Path, dir_kind: &str) -> (String, String) {
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    let ctx = format!("{dir_kind}/{name}");
    let stem = name
        .strip_suffix(".json")
        .unwrap_or_else(|| panic!("{ctx}: not a .json file"));
    let (num, slug) = stem
        .split_once('-')
        .unwrap_or_else(|| panic!("{ctx}: name is not NNN-slug.json"));
    assert!(
        num.len() == 3 && num.bytes().all(|b| b.is_ascii_digit()),
        "{ctx}: NNN"
    );
    assert!(
        !slug.is_empty()
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "{ctx}: slug"
    );

    let text = std::fs::read_to_string(path).unwrap();
    let case: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{ctx}: case file is not JSON: {e}"));
    let obj = case
        .as_object()
        .unwrap_or_else(|| panic!("{ctx}: not an object"));
    for k in obj.keys() {
        assert!(CASE_KEYS.contains(&k.as_str()), "{ctx}: unknown key {k}");
    }
    let desc = obj["description"]
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: description"));
    assert!(
        !desc.trim().is_empty() && !desc.contains('\n'),
        "{ctx}: one-line description"
    );
    let kind = obj["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: kind"));
    assert_eq!(kind, dir_kind, "{ctx}: kind matches its directory");
    assert!(is_account(&obj["account"]), "{ctx}: account");
    if let Some(source) = obj.get("source") {
        assert!(
            source
                .as_str()
                .is_some_and(|s| !s.trim().is_empty() && !s.contains('\n')),
            "{ctx}: source is a one-line string naming the AWS page(s)"
        );
    }
    if let Some(as_of) = obj.get("as_of") {
        let text = as_of
            .as_str()
            .unwrap_or_else(|| panic!("{ctx}: as_of is a string"));
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{ctx}: as_of is not RFC 3339: {e}"));
    }
    if let Some(scope) = obj.get("registry_scope") {
        assert!(
            obj["kind"] == "registry" && (scope == "V1" || scope == "V2"),
            "{ctx}: registry_scope is V1 or V2, on a registry case"
        );
    }
    if let Some(org) = obj.get("org_id") {
        assert!(
            org.as_str().is_some_and(|o| o.starts_with("o-")),
            "{ctx}: org_id"
        );
    }
    for list in ["org_accounts", "trusted_accounts"] {
        if let Some(v) = obj.get(list) {
            let arr = v
                .as_array()
                .unwrap_or_else(|| panic!("{ctx}: {list} is an array"));
            assert!(
                arr.iter().all(is_account),
                "{ctx}: {list} holds account ids"
            );
        }
    }

    let expect = obj["expect"]
        .as_object()
        .unwrap_or_else(|| panic!("{ctx}: expect"));
    for k in expect.keys() {
        assert!(
            EXPECT_KEYS.contains(&k.as_str()),
            "{ctx}: unknown expect key {k}"
        );
    }
    let verdict = expect["verdict"]
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: verdict"));
    assert!(VERDICTS.contains(&verdict), "{ctx}: verdict {verdict}");
    let rules: Vec<&str> = expect["rules"]
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}: rules"))
        .iter()
        .map(|r| {
            r.as_str()
                .unwrap_or_else(|| panic!("{ctx}: rule ids are strings"))
        })
        .collect();
    for r in &rules {
        assert!(
            RULES.contains(r),
            "{ctx}: unknown or off-by-default rule {r}"
        );
    }
    let mut sorted = rules.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, rules, "{ctx}: rules sorted, no duplicates");
    assert_eq!(
        rules.contains(&"ECR001"),
        verdict == "unanalyzable",
        "{ctx}: ECR001 exactly when the verdict is unanalyzable"
    );
    let allowed: &[&str] = match kind {
        "repository" => &[
            "ECR001", "ECR101", "ECR102", "ECR103", "ECR104", "ECR105", "ECR106", "ECR107",
            "ECR108", "ECR109",
        ],
        "registry" => &[
            "ECR001", "ECR101", "ECR102", "ECR103", "ECR104", "ECR105", "ECR106", "ECR107",
            "ECR109", "ECR111",
        ],
        "identity" => &["ECR001", "ECR201", "ECR202"],
        _ => &["ECR001", "ECR203", "ECR204"],
    };
    for r in &rules {
        assert!(
            allowed.contains(r),
            "{ctx}: rule {r} does not apply to {kind} policies"
        );
    }
    if rules.contains(&"ECR101") {
        assert!(!rules.contains(&"ECR103"), "{ctx}: ECR101 replaces ECR103");
    }
    if rules.contains(&"ECR102") {
        assert!(!rules.contains(&"ECR104"), "{ctx}: ECR102 replaces ECR104");
    }

    let policy_text = match (obj.get("policy"), obj.get("policy_text")) {
        (Some(p), None) => serde_json::to_string(p).unwrap(),
        (None, Some(Value::String(t))) => t.clone(),
        _ => panic!("{ctx}: exactly one of policy / policy_text (a string)"),
    };
    let parsed = parse(&policy_text, policy_kind(kind));

    let repo_like = kind == "repository" || kind == "registry";
    for class in ["read", "write"] {
        match expect.get(class) {
            Some(v) => {
                assert!(
                    repo_like,
                    "{ctx}: {class} is only for repository and registry cases"
                );
                let v = v.as_str().unwrap_or_else(|| panic!("{ctx}: {class}"));
                assert!(CLASSES.contains(&v), "{ctx}: {class} {v}");
            }
            None => assert!(
                !repo_like || parsed.is_err(),
                "{ctx}: {class} is required for a repository/registry case that parses"
            ),
        }
    }
    if !repo_like {
        assert!(
            verdict == "owner-only" || verdict == "unanalyzable" || kind == "trust",
            "{ctx}: identity verdicts are owner-only or unanalyzable"
        );
    }

    match expect.get("parse_error") {
        Some(pe) => {
            assert_eq!(
                verdict, "unanalyzable",
                "{ctx}: a parse error is unanalyzable"
            );
            let want_kind = pe["kind"].as_str().unwrap();
            let contains = pe["contains"].as_str().unwrap();
            let err = parsed.expect_err(&format!("{ctx}: must not parse"));
            assert_eq!(error_kind_name(&err.kind), want_kind, "{ctx}: {err}");
            assert!(
                err.to_string().contains(contains),
                "{ctx}: '{err}' should contain '{contains}'"
            );
        }
        None => {
            let doc = parsed.unwrap_or_else(|e| panic!("{ctx}: must parse: {e}"));
            let unsupported = doc.unsupported();
            if verdict == "unanalyzable" {
                // Besides the constructs listed statically, only a policy
                // variable without a value for some caller is undecided, and
                // that depends on the caller.
                let has_variable = doc.variables_enabled()
                    && doc.statements.iter().any(|st| {
                        st.conditions.iter().any(|c| {
                            c.values
                                .iter()
                                .any(|v| ecr_audit::policy::pattern::has_variables(&v.value))
                        })
                    });
                assert!(
                    !unsupported.is_empty() || has_variable,
                    "{ctx}: unanalyzable but nothing is unsupported"
                );
            } else {
                assert!(unsupported.is_empty(), "{ctx}: {unsupported:?}");
            }
        }
    }
    (kind.to_owned(), verdict.to_owned())
}

#[test]
fn corpus_cases_are_well_formed_and_parse() {
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut total = 0;
    for kind in KINDS {
        let dir = corpus_dir().join(kind);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut numbers = Vec::new();
        for f in &files {
            let n = f.file_name().unwrap().to_str().unwrap()[..3].to_owned();
            assert!(!numbers.contains(&n), "{kind}: number {n} used twice");
            numbers.push(n);
            *counts.entry(check_case(f, kind)).or_default() += 1;
            total += 1;
        }
    }
    assert!(
        total >= 150,
        "the corpus has {total} cases, expected at least 150"
    );
    for v in VERDICTS {
        assert!(
            counts.keys().any(|(_, verdict)| verdict == v),
            "no case with verdict {v}"
        );
    }
    // The README lists the counts; keep them in step.
    let readme = std::fs::read_to_string(corpus_dir().join("README.md")).unwrap();
    for ((kind, verdict), n) in &counts {
        let row = format!("| {kind} | {verdict} | {n} |");
        assert!(
            readme.contains(&row),
            "README.md should contain the row `{row}`"
        );
    }
    assert!(
        readme.contains(&format!("| total | | {total} |")),
        "README.md total {total}"
    );
}
