//! The `ecr-audit` command: parse the command line and run it.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ecr_audit::cli::commands::run(ecr_audit::cli::Cli::parse())
}

// Many small allocations (policy facts, findings, inventory strings): the
// system allocator cost a large scan about a fifth of its time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
