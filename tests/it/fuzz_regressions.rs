//! Replays, without a fuzzer, every input kept in `fuzz/regressions/<target>/`
//! (inputs that once crashed, hung or exhausted memory) and the seed corpus
//! the fuzz targets start from, through the very code the fuzz targets run
//! (`fuzz/harness.rs`). Each must finish without a panic, in bounded time,
//! with a well-formed outcome.

#[path = "../../fuzz/harness.rs"]
mod harness;

use harness::Outcome;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One input of a debug build; far above what any input takes.
const PER_INPUT: Duration = Duration::from_secs(10);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = root().join("fuzz/regressions").join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"));
    paths.sort();
    paths
        .into_iter()
        .map(|p| (display(&p), std::fs::read(&p).unwrap()))
        .collect()
}

fn display(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

fn replay(target: &str, inputs: &[(String, Vec<u8>)]) -> Vec<Outcome> {
    inputs
        .iter()
        .map(|(name, data)| {
            let start = Instant::now();
            let outcome = harness::run(target, data);
            let took = start.elapsed();
            assert!(
                took < PER_INPUT,
                "{target} {name}: took {took:?} (bound {PER_INPUT:?})"
            );
            assert!(outcome.is_well_formed(), "{target} {name}: {outcome:?}");
            outcome
        })
        .collect()
}

/// Replays a target's regression inputs (and seeds); `min_accepted`: how
/// many of them must be read, so that a fixture path that moved cannot
/// silently empty the seed corpus.
fn replay_target(target: &str, with_seeds: bool, min_accepted: usize) {
    let mut inputs = regressions(target);
    let kept = inputs.len();
    if with_seeds {
        let seeds = harness::seeds(target, &root());
        assert!(!seeds.is_empty(), "{target}: no seed input found");
        inputs.extend(seeds);
    }
    let outcomes = replay(target, &inputs);
    let accepted = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Accepted { .. }))
        .count();
    eprintln!(
        "{target}: {} inputs ({kept} regression inputs), {accepted} accepted",
        inputs.len()
    );
    assert!(
        accepted >= min_accepted,
        "{target}: {accepted} inputs accepted, expected at least {min_accepted}"
    );
}

#[test]
fn policy_bytes() {
    replay_target("policy_bytes", true, 100);
}

/// The structured target's inputs are kept rendered (selector line, then the
/// policy JSON); its seeds are the same policies as `policy_bytes`'.
#[test]
fn policy_structured() {
    replay_target("policy_structured", false, 0);
}

#[test]
fn inventory() {
    replay_target("inventory", true, 20);
}

#[test]
fn config() {
    replay_target("config", true, 1);
}

#[test]
fn lifecycle() {
    replay_target("lifecycle", true, 5);
}

#[test]
fn rules() {
    replay_target("rules", true, 20);
}

/// Not a check: writes every target's seed corpus into
/// `$ECR_AUDIT_FUZZ_SEED_DIR/<target>/` for `scripts/fuzz`.
#[test]
#[ignore]
fn write_seed_corpus() {
    let Some(dir) = std::env::var_os("ECR_AUDIT_FUZZ_SEED_DIR") else {
        return;
    };
    for target in harness::TARGETS {
        let dir = PathBuf::from(&dir).join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, data) in harness::seeds(target, &root()) {
            std::fs::write(dir.join(format!("seed-{name}")), data).unwrap();
        }
    }
}
