//! Credentials never show: scans of the test organization (moto) made with
//! recognisable fake credentials -- an access key id, a secret key and a
//! session token -- through every report format, `collect`, `--stats`,
//! `prove`, and the error paths (denials and server errors whose messages
//! echo the credentials, a timeout, throttling that persists, credentials
//! the server does not know), and no output, written file or message holds
//! any of the three.

use std::path::{Path, PathBuf};

use crate::support::{ecr_audit_with, scratch, Moto, Run};
use serde_json::json;

const KEY: &str = "AKIAFAKESECRETKEY042";
const SECRET: &str = "fake/Secret+Key/never-to-be-printed-0042";
const TOKEN: &str =
    "IQoJb3JpZ2luX2VjEFAKEsessionTOKENthatMUSTnotAPPEARanywhere0042abcdefGHIJKLmnopQRSTuvwxYZ";

/// Runs `ecr-audit args` with the fake credentials (and `env`).
fn run(moto: &Moto, args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let mut all = vec![("AWS_SESSION_TOKEN", Some(TOKEN))];
    all.extend_from_slice(env);
    ecr_audit_with(moto, args, Some((KEY, SECRET)), &all)
}

/// Fails when a credential is in `text`; also rejects anything shaped like
/// an access key id (AKIA/ASIA + 16), such as an assumed role's.
fn check(what: &str, text: &str) {
    for secret in [KEY, SECRET, TOKEN] {
        assert!(!text.contains(secret), "{secret} in {what}:\n{text}");
    }
    let bytes = text.as_bytes();
    for i in 0..bytes.len().saturating_sub(19) {
        let word = &bytes[i..i + 20];
        if (word.starts_with(b"AKIA") || word.starts_with(b"ASIA"))
            && word[4..]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            panic!(
                "an access key id in {what}: {}",
                String::from_utf8_lossy(word)
            );
        }
    }
}

/// Checks a run's stdout, stderr and every file in `dir`.
fn check_all(label: &str, run: &Run, dir: &Path) -> usize {
    check(&format!("{label}: stdout"), &run.stdout);
    check(&format!("{label}: stderr"), &run.stderr);
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        check(&format!("{label}: {}", path.display()), &text);
        files += 1;
    }
    files
}

fn regions() -> Vec<&'static str> {
    vec!["--region", "us-east-1", "--region", "eu-west-1"]
}

#[test]
fn no_output_of_any_scan_holds_a_credential() {
    let moto = Moto::start();
    moto.seed(json!({"cmd": "seed", "world": "org"}));
    let dir = scratch("secrets");
    let out = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let mut checked = Vec::new();

    // Every format, live and from a saved inventory, with --stats.
    let inventory = out("inventory.json");
    let mut runs: Vec<(String, Vec<String>)> = vec![(
        "collect".into(),
        ["collect", "--org", "--stats", "-o", &inventory]
            .map(String::from)
            .to_vec(),
    )];
    for format in ["table", "json", "sarif"] {
        let file = out(&format!("live.{format}"));
        runs.push((
            format!("scan --format {format} -o"),
            [
                "scan",
                "--org",
                "--stats",
                "--format",
                format,
                "--fail-on",
                "never",
                "-o",
                &file,
            ]
            .map(String::from)
            .to_vec(),
        ));
        runs.push((
            format!("scan --format {format} (stdout)"),
            ["scan", "--org", "--format", format, "--color", "always"]
                .map(String::from)
                .to_vec(),
        ));
        runs.push((
            format!("scan --inventory --format {format}"),
            ["scan", "--inventory", &inventory, "--format", format]
                .map(String::from)
                .to_vec(),
        ));
    }
    runs.push((
        "prove --format json".into(),
        [
            "prove",
            "--org",
            "--format",
            "json",
            "--proof-timeout",
            "5",
            "--no-proof-cache",
        ]
        .map(String::from)
        .to_vec(),
    ));
    for (label, args) in &runs {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        if !args.contains(&"--inventory") {
            args.extend(regions());
        }
        let r = run(&moto, &args, &[]);
        assert!([0, 1, 3].contains(&r.status), "{label}: {}", r.describe());
        assert!(!r.stdout.is_empty() || args.contains(&"-o"), "{label}");
        check_all(label, &r, &dir);
        checked.push(label.clone());
    }

    // Error paths: denials and server errors whose messages echo the
    // credentials (an endpoint or proxy may), a timeout, throttling that
    // persists past the retries, on every kind of operation.
    let echo = format!("request signed with {KEY} and token {TOKEN} was refused");
    moto.fault(
        json!({"operation": "ecr:GetRepositoryPolicy", "status": 400, "body": "json",
                      "code": "AccessDeniedException", "message": echo}),
    );
    moto.fault(
        json!({"operation": "ecr:DescribeImages", "status": 500, "body": "json",
                      "code": "InternalFailure", "message": echo}),
    );
    moto.fault(
        json!({"operation": "iam:GetAccountAuthorizationDetails", "status": 403,
                      "body": "xml", "code": "AccessDenied", "message": echo}),
    );
    moto.fault(
        json!({"operation": "sts:AssumeRole", "status": 403, "body": "xml",
                      "code": "AccessDenied", "message": echo, "times": 1}),
    );
    moto.fault(
        json!({"operation": "ecr:GetLifecyclePolicy", "status": 400, "body": "json",
                      "code": "ThrottlingException", "message": echo}),
    );
    moto.fault(json!({"operation": "ecr:ListTagsForResource", "delay": 3}));
    moto.fault(json!({"operation": "ecr:DescribeRegistry", "body": "malformed"}));
    for format in ["table", "json", "sarif"] {
        let file = out(&format!("errors.{format}"));
        let mut args = vec![
            "scan",
            "--org",
            "--stats",
            "--format",
            format,
            "-o",
            &file,
            "--request-timeout",
            "1",
        ];
        args.extend(regions());
        let r = run(&moto, &args, &[]);
        assert_eq!(r.status, 1, "findings and errors: {}", r.describe());
        let label = format!("scan with errors --format {format}");
        check_all(&label, &r, &dir);
        let report = std::fs::read_to_string(&file).unwrap();
        assert!(
            report.contains("ecr:GetRepositoryPolicy") && report.contains("<redacted>"),
            "{label}: the errors are reported, the echoed credentials redacted"
        );
        checked.push(label);
    }
    let mut args = vec![
        "collect",
        "--org",
        "-o",
        &inventory,
        "--request-timeout",
        "1",
    ];
    args.extend(regions());
    let r = run(&moto, &args, &[("AWS_MAX_ATTEMPTS", Some("2"))]);
    assert_eq!(r.status, 3, "{}", r.describe());
    check_all("collect with errors", &r, &dir);
    checked.push("collect with errors".into());

    // Nothing can be read at all: the caller's identity fails with a
    // message that echoes the credentials.
    moto.clear_faults();
    moto.fault(
        json!({"operation": "sts:GetCallerIdentity", "status": 403, "body": "xml",
                      "code": "InvalidClientTokenId", "message": echo}),
    );
    let mut args = vec!["scan", "--org"];
    args.extend(regions());
    let r = run(&moto, &args, &[]);
    assert_eq!(r.status, 2, "{}", r.describe());
    assert!(
        r.stderr.contains("sts:GetCallerIdentity"),
        "{}",
        r.describe()
    );
    check_all("identity refused", &r, &dir);
    checked.push("identity refused".into());
    moto.clear_faults();

    // Credentials the server does not know (moto enforcing IAM).
    moto.command(json!({"cmd": "enforce_iam"}));
    for command in ["scan", "collect"] {
        let mut args = vec![command, "--org"];
        if command == "collect" {
            args.extend(["-o", &inventory]);
        }
        args.extend(regions());
        let r = run(&moto, &args, &[]);
        assert_eq!(r.status, 2, "{}", r.describe());
        let label = format!("{command} with unknown credentials");
        check_all(&label, &r, &dir);
        checked.push(label);
    }
    eprintln!("checked for credentials: {}", checked.join("; "));
}
