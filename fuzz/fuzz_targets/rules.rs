//! (f) Custom rule files (`--rules-dir`), parsed and validated.
#![no_main]
use ecr_audit_fuzz::harness;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = harness::rule_file(data);
});
