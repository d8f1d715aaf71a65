//! `ragtrace ingest FILE...`: OTLP JSON files (the Collector's file exporter
//! output) into the store.

use std::path::PathBuf;

use anyhow::Context as _;
use ragtrace::store::Store;
use ragtrace::store::ingest::{IngestOptions, ingest_file};

use crate::progress::Unit;

/// Reads OTLP JSON files (one ExportTraceServiceRequest per line, as the
/// OpenTelemetry Collector's file exporter writes them) into the store.
/// Malformed lines are reported with their line number and skipped.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The files to read.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The store file (created if missing).
    #[arg(long, env = "RAGTRACE_DB", default_value = "ragtrace.db")]
    db: PathBuf,
    #[command(flatten)]
    pricing: crate::pricing_args::PricingArgs,
    /// Spans written per transaction.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    #[command(flatten)]
    quiet: crate::progress::QuietArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut options = IngestOptions::new().batch_spans(args.batch);
    if let Some(pricer) = args.pricing.pricer()? {
        options = options.pricer(pricer);
    }
    let mut store = Store::open(&args.db)?;
    let mut malformed = 0;
    let mut spans = 0;
    for path in &args.files {
        // A bar by bytes read; a file whose size is unknown gets none.
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let bar = args
            .quiet
            .bar(size, Unit::Bytes, path.display().to_string());
        let shown = bar.clone();
        let file_options = options
            .clone()
            .progress(move |read| shown.set_position(read));
        let result = ingest_file(path, &mut store, &file_options);
        bar.finish_and_clear();
        let report = result.with_context(|| format!("ingesting {}", path.display()))?;
        spans += report.spans;
        malformed += report.error_count;
        println!(
            "{}: {} spans from {} lines",
            path.display(),
            report.spans,
            report.lines
        );
        for error in &report.errors {
            eprintln!("{}: {error}", path.display());
        }
        let unlisted = report.error_count - report.errors.len() as u64;
        if unlisted > 0 {
            eprintln!("{}: ... and {unlisted} more", path.display());
        }
    }
    if malformed > 0 {
        anyhow::bail!(
            "stored {spans} spans in {}; skipped {malformed} malformed lines or spans (listed above)",
            args.db.display()
        );
    }
    Ok(())
}
