//! Records the commit the binary is built from, for `ecr-audit --version`.
//! Outside a git checkout (a source tarball) it says "unknown commit".

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let text = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(c) => format!("commit {c}"),
        None => "unknown commit".to_string(),
    };
    println!("cargo:rustc-env=ECR_AUDIT_COMMIT={text}");
    // Rerun when HEAD moves: the checkout's HEAD and the branch refs (in
    // the common directory of a worktree). A path that does not exist
    // would make cargo rerun this script, and rebuild the crate, on every
    // build; without git, the script's own source is the only input.
    println!("cargo:rerun-if-changed=build.rs");
    let dirs = [
        git(&["rev-parse", "--git-dir"]).map(|d| PathBuf::from(d).join("HEAD")),
        git(&["rev-parse", "--git-common-dir"]).map(|d| PathBuf::from(d).join("refs/heads")),
        git(&["rev-parse", "--git-common-dir"]).map(|d| PathBuf::from(d).join("packed-refs")),
    ];
    for path in dirs.into_iter().flatten().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
