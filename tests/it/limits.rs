//! Hostile sizes and shapes: policies beyond AWS's size limits, JSON nested
//! deeper than serde's recursion limit, 10,000 statements, 100,000 condition
//! values, bytes that are not UTF-8, deep and huge files. Each must end with
//! a clear outcome — a policy analysed, or reported unanalyzable (ECR001)
//! with the reason; a file refused with exit 2 naming the file and the
//! position — in bounded time, and never with a crash. docs/robustness.md
//! ("Limits") gives the measured bounds.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ecr_audit::access::{self, identity, Target, Zone};
use ecr_audit::policy::{self, PolicyKind};
use serde_json::{json, Value};

const OWNER: &str = "111122223333";
const REPO: &str = "arn:aws:ecr:us-east-1:111122223333:repository/app";
const ROLE: &str = "arn:aws:iam::111122223333:role/pusher";

/// Generous for a debug build on a shared two-core machine: the release
/// figures in docs/robustness.md are far below.
const BOUND: Duration = Duration::from_secs(10);

fn zone() -> Zone {
    Zone {
        owner: OWNER.into(),
        accounts: [OWNER.to_string()].into(),
        org_id: Some("o-a1b2c3d4e5".into()),
        time: Some(1_767_225_600),
    }
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    eprintln!("{what}: {took:?}");
    assert!(took < BOUND, "{what} took {took:?}");
    out
}

/// A statement granting pull to one outside account.
fn grant(i: usize) -> Value {
    json!({
        "Sid": format!("Pull{i}"),
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{:012}:root", 200_000_000_000u64 + i as u64)},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    })
}

fn doc(statements: Vec<Value>) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn problems(text: &str) -> (bool, Vec<String>) {
    let a = access::analyze_resource_policy(text, Target::Repository, REPO, &zone());
    (a.policy.analyzable, a.policy.problems.into_iter().collect())
}

// ---------------------------------------------------------------- policies

/// AWS refuses a repository policy over 10,240 characters; one that is
/// larger anyway (an edited inventory, `check-policy` on a draft) is still
/// analysed: the analysis does not depend on the size, and stays sound.
#[test]
fn repository_policy_beyond_the_aws_limit_is_analysed() {
    let statements: Vec<Value> = (0..150).map(grant).collect();
    let text = doc(statements);
    assert!(text.len() > 2 * 10_240, "{}", text.len());
    let a = timed(
        "repository policy (150 statements), 2x the AWS limit",
        || access::analyze_resource_policy(&text, Target::Repository, REPO, &zone()),
    );
    assert!(a.policy.analyzable, "{:?}", a.policy.problems);
    assert_eq!(a.grants.iter().filter(|g| g.outside).count(), 150);
}

/// Identity policies (6,144 characters for a managed policy) and trust
/// policies (2,048 by default) beyond AWS's limits: analysed too.
#[test]
fn identity_and_trust_policies_beyond_the_aws_limits_are_analysed() {
    let statements: Vec<Value> = (0..400)
        .map(|i| {
            json!({"Effect": "Allow", "Action": "ecr:BatchGetImage",
                   "Resource": format!("arn:aws:ecr:us-east-1:111122223333:repository/r{i}")})
        })
        .collect();
    let text = doc(statements);
    assert!(text.len() > 2 * 6_144, "{}", text.len());
    let named = [identity::NamedPolicy {
        name: "big".into(),
        text: &text,
    }];
    let a = timed("identity policy (400 statements), 2x the AWS limit", || {
        identity::analyze_identity(&named, None, OWNER, &zone())
    });
    assert!(a.problems.is_empty(), "{:?}", a.problems);

    let statements: Vec<Value> = (0..60)
        .map(|i| {
            json!({"Effect": "Allow", "Action": "sts:AssumeRole",
                   "Principal": {"AWS": format!("arn:aws:iam::{:012}:root", 300_000_000_000u64 + i)}})
        })
        .collect();
    let text = doc(statements);
    assert!(text.len() > 2 * 2_048, "{}", text.len());
    let t = timed("trust policy (60 statements), 2x the AWS limit", || {
        identity::analyze_trust_policy(&text, ROLE, &zone())
    });
    assert!(t.policy.as_ref().is_none_or(|p| p.analyzable));
    assert_eq!(t.assumable_from_outside.len(), 60);
}

/// Deeper than serde_json's recursion limit (128): a parse error naming the
/// limit and the position, reported unanalyzable (ECR001), no stack overflow.
#[test]
fn json_nested_beyond_the_recursion_limit_is_unanalyzable() {
    for depth in [129usize, 1_000, 100_000] {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let err = timed(&format!("policy nested {depth} deep"), || {
            policy::parse(&text, PolicyKind::Resource).unwrap_err()
        });
        assert!(err.to_string().contains("recursion limit"), "{err}");
        assert!(err.to_string().contains("line 1, column"), "{err}");
        let (analyzable, problems) = problems(&text);
        assert!(!analyzable);
        assert!(
            problems.iter().any(|p| p.contains("recursion limit")),
            "{problems:?}"
        );
    }
}

/// 10,000 statements (about 480 KB, 47 times what AWS accepts): refused
/// before analysis (more than `MAX_STATEMENTS`), reported unanalyzable.
#[test]
fn ten_thousand_statements_are_unanalyzable() {
    let statements: Vec<Value> = (0..10_000)
        .map(|_| json!({"Effect": "Allow", "Principal": "*", "Action": "*"}))
        .collect();
    let text = doc(statements);
    assert!(text.len() < 1 << 20);
    let (analyzable, problems) = timed("10,000 statements", || problems(&text));
    assert!(!analyzable);
    assert!(
        problems.iter().any(|p| p.contains("10000 statements")),
        "{problems:?}"
    );
}

/// 100,000 values in one condition (about 790 KB): refused before analysis
/// (more than `MAX_CONDITION_VALUES`), reported unanalyzable.
#[test]
fn a_hundred_thousand_condition_values_are_unanalyzable() {
    let values: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let text = doc(vec![json!({
        "Effect": "Allow",
        "Principal": "*",
        "Action": "ecr:BatchGetImage",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": values}},
    })]);
    assert!(text.len() < 1 << 20);
    let (analyzable, problems) = timed("100,000 condition values", || problems(&text));
    assert!(!analyzable);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("aws:PrincipalOrgID has 100000 values")),
        "{problems:?}"
    );
}

/// Larger than `MAX_POLICY_BYTES` (4 MiB): refused unread.
#[test]
fn a_policy_over_four_mebibytes_is_unanalyzable() {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[],"Id":"{}"}}"#,
        "x".repeat(5 << 20)
    );
    let (analyzable, problems) = timed("5 MiB policy", || problems(&text));
    assert!(!analyzable);
    assert!(
        problems.iter().any(|p| p.contains("bytes long")),
        "{problems:?}"
    );
}

/// A policy arrives as text (a JSON string from AWS, a file read as UTF-8):
/// invalid UTF-8 cannot reach the parser. A U+FFFD replacement character
/// (what a lossy decoding leaves) and control characters are just text.
#[test]
fn replacement_and_control_characters_are_plain_text() {
    let text = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:Batch\u{FFFD}GetImage\",\"Sid\":\"\u{1}\u{7f}\"}]}";
    let (analyzable, problems) = timed("replacement character", || problems(text));
    eprintln!("{analyzable} {problems:?}");
    assert!(String::from_utf8(vec![b'{', 0xff, 0xfe, b'}']).is_err());
}

// ------------------------------------------------------------------- files

fn temp_dir(name: &str) -> PathBuf {
    crate::common::temp_dir(&format!("limits-{name}"))
}

fn write(dir: &std::path::Path, name: &str, data: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path.display().to_string()
}

/// Exit 2, and the message names the file and the position.
fn assert_refused(r: &crate::common::Run, file: &str, position: &str) {
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(file), "{}", r.stderr);
    assert!(r.stderr.contains(position), "{}", r.stderr);
}

fn inventory_with(repositories: &str) -> String {
    format!(
        r#"{{"format":"ecr-audit/inventory/v1","accounts":[{{"id":"111122223333","regions":[{{"region":"us-east-1","repositories":{repositories}}}]}}]}}"#
    )
}

#[test]
fn inventory_nested_too_deep_is_refused_with_its_position() {
    let dir = temp_dir("inventory-deep");
    // Deep where any JSON value is read: the format tag.
    let text = format!(
        r#"{{"format":{}{},"accounts":[]}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let file = write(&dir, "deep.json", text.as_bytes());
    let r = timed("inventory nested 5,000 deep", || {
        crate::common::run(&["scan", "--inventory", &file, "--format", "json"])
    });
    assert_refused(&r, &file, "line 1, column");
    assert!(r.stderr.contains("recursion limit"), "{}", r.stderr);
}

#[test]
fn inventory_not_utf8_is_refused() {
    let dir = temp_dir("inventory-utf8");
    let mut data = inventory_with("[]").into_bytes();
    data.splice(20..20, [b'\n', 0xff, 0xfe]);
    let file = write(&dir, "latin1.json", &data);
    let r = timed("inventory with invalid UTF-8", || {
        crate::common::run(&["scan", "--inventory", &file, "--format", "json"])
    });
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&file), "{}", r.stderr);
    assert!(r.stderr.contains("UTF-8"), "{}", r.stderr);
    // The byte after the inserted newline: line 2, column 1.
    assert!(r.stderr.contains("line 2, column 1"), "{}", r.stderr);
}

#[test]
fn config_not_utf8_is_refused_with_its_position() {
    let dir = temp_dir("config-utf8");
    let file = write(
        &dir,
        "ecr-audit.toml",
        b"[thresholds]\nstale_days = 3 # caf\xe9\n",
    );
    let r = timed("config with invalid UTF-8", || {
        crate::common::run(&["scan", "--demo", "--config", &file])
    });
    assert_refused(&r, &file, "line 2, column 21");
    assert!(r.stderr.contains("not UTF-8"), "{}", r.stderr);
}

#[test]
fn config_nested_too_deep_is_refused_with_its_position() {
    let dir = temp_dir("config-deep");
    let text = format!(
        "[scan]\naccounts = {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let file = write(&dir, "ecr-audit.toml", text.as_bytes());
    let r = timed("config nested 100,000 deep", || {
        crate::common::run(&["scan", "--demo", "--config", &file])
    });
    assert_refused(&r, &file, "line 2, column");
}

#[test]
fn huge_config_and_rule_files_are_refused_unread() {
    let dir = temp_dir("config-huge");
    let mut text = b"[thresholds]\nstale_days = 3\n".to_vec();
    text.resize(3 << 20, b'#');
    let file = write(&dir, "ecr-audit.toml", &text);
    let r = timed("3 MiB config", || {
        crate::common::run(&["scan", "--demo", "--config", &file])
    });
    assert_refused(&r, &file, "byte offset 1048576");

    let rules = temp_dir("rules-huge");
    let mut text = b"// nothing but a comment\n".to_vec();
    text.resize(3 << 20, b'/');
    let file = write(&rules, "big.cedar", &text);
    let r = timed("3 MiB rule file", || {
        crate::common::run(&["scan", "--demo", "--rules-dir", rules.to_str().unwrap()])
    });
    assert_refused(&r, &file, "byte offset 1048576");
}

#[test]
fn rule_file_not_utf8_is_refused_with_its_position() {
    let dir = temp_dir("rules-utf8");
    let file = write(
        &dir,
        "latin1.cedar",
        b"// r\xe8gle\npermit(principal, action, resource);\n",
    );
    let r = timed("rule file with invalid UTF-8", || {
        crate::common::run(&["scan", "--demo", "--rules-dir", dir.to_str().unwrap()])
    });
    assert_refused(&r, &format!("{file}:1:5"), "not UTF-8");
}

#[test]
fn rule_file_nested_too_deep_is_refused_with_its_position() {
    let dir = temp_dir("rules-deep");
    let text = format!(
        "@id(\"X001\")\npermit(principal, action, resource is Repository) when {{ {}true{} }};\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let file = write(&dir, "deep.cedar", text.as_bytes());
    let r = timed("rule file nested 100,000 deep", || {
        crate::common::run(&["scan", "--demo", "--rules-dir", dir.to_str().unwrap()])
    });
    assert_refused(&r, &format!("{file}:2:"), "nest");
}
