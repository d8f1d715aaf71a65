//! Writes a synthetic trace store for the reading benchmarks:
//!
//! ```text
//! cargo run --release --example gen_store --features store -- --spans 1000000 --out target/bench-stores/1m.db
//! ```
//!
//! Five spans per request (see `synth.rs`), spread over 30 days (`--days`),
//! written through `Store::insert` in batches of 1,000 spans (`--batch`),
//! as the live sink writes them. Prints the spans written, the time taken
//! and the file size. Refuses to overwrite an existing file.
//!
//! `--retrievals-only` writes only the retrieval span of each request, for
//! drift at scale (`--spans 3000000` is 30 days × 100,000 retrievals).

#![recursion_limit = "256"]

mod synth;

use std::time::Instant;

use ragtrace::store::Store;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut spans = 100_000_u64;
    let mut days = 30_u64;
    let mut seed = 42_u64;
    let mut batch = 1_000_usize;
    let mut out = None;
    let mut retrievals_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--spans" => spans = value()?.replace('_', "").parse()?,
            "--days" => days = value()?.parse()?,
            "--seed" => seed = value()?.parse()?,
            "--batch" => batch = value()?.parse()?,
            "--out" => out = Some(value()?),
            "--retrievals-only" => retrievals_only = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let out = out.ok_or("--out PATH is required")?;
    if std::path::Path::new(&out).exists() {
        return Err(format!("{out} exists; remove it first").into());
    }
    let mut plan = synth::Plan::spans(spans);
    plan.days = days;
    plan.seed = seed;
    plan.retrievals_only = retrievals_only;
    if retrievals_only {
        // Every span is a retrieval: one "request" per span.
        plan.requests = spans;
    }
    let mut store = Store::open(&out)?;
    let started = Instant::now();
    let written = synth::write(&mut store, &plan, batch)?;
    let elapsed = started.elapsed();
    drop(store);
    // Readers that were open at the end (none should be) can leave frames
    // in the write-ahead log; fold them into the file so that every reader
    // of the benchmark store starts from the same state.
    rusqlite::Connection::open(&out)?
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let bytes = std::fs::metadata(&out)?.len();
    println!(
        "wrote {written} spans ({} requests over {days} days) to {out} in {:.1} s ({:.0} spans/s), {:.1} MiB",
        plan.requests,
        elapsed.as_secs_f64(),
        written as f64 / elapsed.as_secs_f64(),
        bytes as f64 / (1 << 20) as f64
    );
    Ok(())
}
