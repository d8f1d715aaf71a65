//! `ragtrace ingest FILE...`: OTLP JSON files (the Collector's file exporter
//! output) into the store.

use std::path::PathBuf;

use anyhow::Context as _;
use ragtrace::store::Store;
use ragtrace::store::ingest::{Content, IngestError, IngestOptions, ingest_file};

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
    /// Keep prompt and completion content (gen_ai.prompt, input.value, ...)
    /// as found. By default it is replaced with [REDACTED]; credentials are
    /// redacted either way.
    #[arg(long)]
    keep_content: bool,
    #[command(flatten)]
    quiet: crate::progress::QuietArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let content = if args.keep_content {
        Content::Keep
    } else {
        Content::Redact
    };
    let mut options = IngestOptions::new()
        .batch_spans(args.batch)
        .content(content);
    if let Some(pricer) = args.pricing.pricer()? {
        options = options.pricer(pricer);
    }
    let mut store = Store::open(&args.db)?;
    let mut malformed = 0;
    let mut unreadable = 0;
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
        let report = match result {
            Ok(report) => report,
            // A file that cannot be read does not stop the others.
            Err(error @ IngestError::Read { .. }) => {
                eprintln!("error: {}", crate::common::describe(&error.into()));
                unreadable += 1;
                continue;
            }
            Err(error) => {
                return Err(error).with_context(|| format!("ingesting {}", path.display()));
            }
        };
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
    if unreadable > 0 || malformed > 0 {
        let mut skipped = Vec::new();
        if unreadable > 0 {
            skipped.push(format!(
                "{unreadable} of {} files could not be read",
                args.files.len()
            ));
        }
        if malformed > 0 {
            skipped.push(format!("skipped {malformed} malformed lines or spans"));
        }
        anyhow::bail!(
            "stored {spans} spans in {}; {} (listed above)",
            args.db.display(),
            skipped.join("; ")
        );
    }
    Ok(())
}
