//! Shared helpers for the CLI tests: run the real binary.

use std::path::{Path, PathBuf};

use ecr_audit::access::RegistryScope;
use ecr_audit::check::{CheckInput, Kind};
use ecr_audit::inventory::AccountId;
use serde_json::Value;
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("fixtures").join(rel)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Run {
    run_in(&repo_root(), args)
}

pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    run_with(dir, args, &[])
}

/// Run with extra environment variables.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    run_with(&repo_root(), args, env)
}

fn run_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_ecr-audit"))
        .args(args)
        .current_dir(dir)
        .env_remove("ECR_AUDIT_CONFIG")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// An empty directory under the test build's own temporary directory:
/// nothing is left behind in the system's.
pub fn temp_dir(name: &str) -> PathBuf {
    crate::support::scratch(&format!("test-{name}"))
}

/// The proofs need cvc5 (installed by scripts/setup-solver, which the test
/// command runs). A missing solver fails the test: it is never skipped.
pub fn require_solver() {
    if let Err(e) = ecr_audit::prove::solver_available() {
        panic!("{e}");
    }
}

/// A validator for the SARIF 2.1.0 schema of `fixtures/`.
pub fn sarif_validator() -> jsonschema::Validator {
    // The published schema's `run.language` pattern has a stray `]` that
    // Rust regex engines reject; ecr-audit never emits `language`, so the
    // test uses the pattern's evident intent.
    let schema_text = std::fs::read_to_string(fixture("sarif-schema-2.1.0.json"))
        .unwrap()
        .replace(
            r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
            r"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
        );
    let mut schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    // This copy of the schema keeps the log's own shape under
    // `definitions/Root` with nothing at the top level, so as given it
    // accepts anything; point the top level at it.
    assert!(schema["definitions"]["Root"].is_object());
    schema["$ref"] = serde_json::Value::from("#/definitions/Root");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// The policy corpus (`fixtures/policies/<kind>/*.json`) of the given
/// kinds, named `kind/file`, in file order.
pub fn corpus_cases(kinds: &[&str]) -> Vec<(String, Value)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/policies");
    let mut out = Vec::new();
    for kind in kinds {
        let mut files: Vec<_> = std::fs::read_dir(root.join(kind))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let case: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            out.push((
                format!("{kind}/{}", f.file_name().unwrap().to_string_lossy()),
                case,
            ));
        }
    }
    out
}

/// The corpus's reference time (a case may set its own `as_of`).
pub fn corpus_as_of(case: &Value) -> time::OffsetDateTime {
    let text = case["as_of"].as_str().unwrap_or("2026-11-20T00:00:00Z");
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("as_of is RFC 3339")
}

/// A corpus case as check-policy's input.
pub fn corpus_input(case: &Value) -> CheckInput {
    let accounts = |k: &str| -> Vec<AccountId> {
        case[k]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| AccountId::parse(v.as_str().unwrap()).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    };
    let text = match case.get("policy_text") {
        Some(Value::String(t)) => t.clone(),
        _ => serde_json::to_string(&case["policy"]).unwrap(),
    };
    CheckInput {
        text,
        kind: Kind::parse(case["kind"].as_str().unwrap()).unwrap(),
        account: AccountId::parse(case["account"].as_str().unwrap()).unwrap(),
        org_id: case["org_id"].as_str().map(str::to_string),
        org_accounts: accounts("org_accounts"),
        trusted_accounts: accounts("trusted_accounts"),
        as_of: corpus_as_of(case),
        registry_scope: match case["registry_scope"].as_str() {
            Some(v) => RegistryScope::parse(v).expect("registry_scope is V1 or V2"),
            None => RegistryScope::V2,
        },
    }
}
