//! (b) Well-typed policies (arbitrary structure rendered to JSON) through the
//! same pipeline as `policy_bytes`.
//!
//! With `ECR_AUDIT_FUZZ_PRINT=1`, each input is printed in the form kept in
//! `fuzz/regressions/policy_structured/` (selector byte, newline, policy):
//! run the target binary on a crash input to turn it into a regression file.
#![no_main]
use ecr_audit_fuzz::{harness, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|policy: Policy| {
    let text = policy.render();
    if std::env::var_os("ECR_AUDIT_FUZZ_PRINT").is_some() {
        println!("{}\n{}", policy.selector, text);
    }
    let _ = harness::policy_text(policy.selector, &text);
});
