//! The `ragtrace` command-line tool: reads traces back.
//!
//! Each subcommand lives in its own module with an `Args` struct and a
//! `run(args)` function returning `anyhow::Result<()>`, or
//! `anyhow::Result<ExitCode>` when a command has its own non-error exit
//! codes (`drift` exits 3 when its verdict reaches `--fail-on`); this file
//! only dispatches. Errors print one line and exit 1.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod common;
mod drift;
mod ingest;
mod prices;
mod pricing_args;
mod progress;
mod report;
mod reprice;
mod requests;
mod serve;
mod show;
mod text;
mod tokens;

/// ragtrace: read RAG traces back (requests, show, report, drift), model prices,
/// token counts, and OTLP traces into the trace store.
#[derive(Debug, Parser)]
#[command(name = "ragtrace", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the latest requests (to find a trace id).
    Requests(requests::Args),
    /// Show one request as a tree with a waterfall.
    Show(show::Args),
    /// Report cost, tokens and latency, grouped.
    Report(report::Args),
    /// Compare retrieval scores and document mixes with a baseline, window
    /// by window (exit code 3 when --fail-on is reached).
    Drift(drift::Args),
    /// Look up, list, check and import model prices.
    Prices(prices::Args),
    /// Count the tokens of a text or chat prompt for a model.
    Tokens(tokens::Args),
    /// Read OTLP JSON files (Collector file exporter format) into the store.
    Ingest(ingest::Args),
    /// Receive OTLP/HTTP traces on 127.0.0.1:4318 and write them to the store.
    Serve(serve::Args),
    /// Recompute stored costs with the current price tables.
    Reprice(reprice::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Requests(args) => requests::run(args).map(|()| ExitCode::SUCCESS),
        Command::Show(args) => show::run(args).map(|()| ExitCode::SUCCESS),
        Command::Report(args) => report::run(args).map(|()| ExitCode::SUCCESS),
        Command::Prices(args) => prices::run(args).map(|()| ExitCode::SUCCESS),
        Command::Tokens(args) => tokens::run(args).map(|()| ExitCode::SUCCESS),
        Command::Ingest(args) => ingest::run(args).map(|()| ExitCode::SUCCESS),
        Command::Serve(args) => serve::run(args).map(|()| ExitCode::SUCCESS),
        Command::Reprice(args) => reprice::run(args).map(|()| ExitCode::SUCCESS),
        Command::Drift(args) => drift::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) if common::broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", common::describe(&error));
            ExitCode::FAILURE
        }
    }
}
