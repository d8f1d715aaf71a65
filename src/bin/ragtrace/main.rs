//! The `ragtrace` command-line tool: reads traces back.

use std::process::ExitCode;

use clap::Parser;

/// Reads ragtrace traces back: cost reports, trace trees, retrieval drift.
#[derive(Debug, Parser)]
#[command(name = "ragtrace", version, about)]
struct Cli {}

fn main() -> ExitCode {
    let _cli = Cli::parse();
    ExitCode::SUCCESS
}
