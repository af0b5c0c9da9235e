//! (d) `ecr-audit.toml` configuration files.
#![no_main]
use ecr_audit_fuzz::harness;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = harness::config(data);
});
