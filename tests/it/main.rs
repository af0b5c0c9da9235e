//! The integration tests: one binary (one link of the AWS SDK instead of one
//! per file), a module per area. `common` runs the built CLI; `support`
//! adds a moto server on loopback for the live tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod support;

mod cedar_corpus;
mod cedar_differential;
mod cedar_translate;
mod cli;
mod examples;
mod fuzz_regressions;
mod layers;
mod limits;
mod live_faults;
mod live_org;
mod live_partial;
mod markdown;
mod policy_conditions;
mod policy_corpus;
mod policy_corpus_eval;
mod policy_corpus_parse;
mod policy_eval;
mod policy_fuzz;
mod policy_parse;
mod policy_properties;
mod prove_axioms;
mod prove_cli;
mod prove_corpus;
mod readme;
mod report_cmd;
mod rule_fixtures;
mod sarif_limits;
mod secrets;
mod snapshots;
