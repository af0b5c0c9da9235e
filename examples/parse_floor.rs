//! The floor a scan is measured against: reading an inventory file and
//! parsing it as JSON while keeping nothing (serde's `IgnoredAny`), on one
//! core, as the whole process.
//!
//!     /usr/bin/time -v cargo run --release --example parse_floor -- large.json

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: parse_floor FILE");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let read = started.elapsed();
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
        eprintln!("{path}: {e}");
        return ExitCode::from(2);
    }
    println!(
        "{} bytes: read {:.3} s, parsed (nothing kept) {:.3} s, total {:.3} s",
        text.len(),
        read.as_secs_f64(),
        (started.elapsed() - read).as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
