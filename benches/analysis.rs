//! Reading traces back: `report` (by model, by request, by day) over a
//! generated store of 100,000 spans (20,000 requests over 30 days, five
//! spans each, written through the real write path: see
//! `examples/gen_store/synth.rs`).
//!
//! Each case is measured in wall-clock time as `report` runs it, on two
//! threads (`analysis/*`), and in the CPU time of the benchmark thread with
//! the store read on that one thread (`analysis_cpu/*_one_thread`: what one
//! core does, whatever else the shared machine runs; the CPU time of a
//! second thread would not be counted), in spans per second.
//!
//! The store is written once per run into a temporary directory. The
//! larger stores (1M and 5M spans), peak memory and the DuckDB peer are
//! in `scripts/bench_analysis.sh`.
//!
//! Run: `cargo bench --bench analysis --all-features`

#![recursion_limit = "256"]

mod cpu_time;

#[path = "../examples/gen_store/synth.rs"]
mod synth;

use std::time::Duration;

use cpu_time::ThreadCpu;
use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ragtrace::analysis::{GroupBy, ReportOptions, report};
use ragtrace::store::Store;

const SPANS: u64 = 100_000;

fn reports<M: Measurement>(c: &mut Criterion<M>, name: &str, one_thread: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    {
        let mut store = Store::open(&path).unwrap();
        let written = synth::write(&mut store, &synth::Plan::spans(SPANS), 1_000).unwrap();
        assert_eq!(written, SPANS);
    }
    let store = Store::open_read_only(&path).unwrap();
    let mut group = c.benchmark_group(name);
    group
        .throughput(Throughput::Elements(SPANS))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    for (case, group_by) in [
        ("report_by_model", GroupBy::Model),
        ("report_by_request", GroupBy::Request),
        ("report_by_day", GroupBy::Day),
    ] {
        let (case, threads) = if one_thread {
            (format!("{case}_one_thread"), 1)
        } else {
            (case.to_owned(), 2)
        };
        let options = ReportOptions::new().group_by(group_by).threads(threads);
        group.bench_function(case, |b| {
            b.iter(|| {
                let report = report(&store, &options).unwrap();
                assert_eq!(report.total.totals.spans, SPANS);
                report
            })
        });
    }
    group.finish();
}

fn analysis_wall(c: &mut Criterion) {
    reports(c, "analysis", false);
}

fn analysis_cpu(c: &mut Criterion<ThreadCpu>) {
    reports(c, "analysis_cpu", true);
}

criterion_group!(wall, analysis_wall);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = analysis_cpu
}
criterion_main!(wall, cpu);
