//! How fast spans go into the store, on one thread, in batches of 1,000:
//! - `insert`: prepared records (the SQLite writer alone);
//! - `sink`: OpenTelemetry SDK spans through the store exporter (key
//!   extraction, JSON encoding and the write: the live path);
//! - `ingest_json`: OTLP/JSON lines through `ingest_reader` (decode,
//!   extraction, write: the `ragtrace ingest` path).
//!
//! The spans are the five of a real traced RAG request (root, embeddings,
//! retrieval, prompt, chat), copied under fresh trace ids that look random,
//! as real ones are (`insert_sequential_ids` shows the best case).
//! `sqlite_floor_cpu` is SQLite alone with the store's schema, by payload size.
//!
//! Each is measured twice: in wall-clock time (`store/*`) and in the CPU
//! time of the benchmark thread (`store_cpu/*`, in elements per CPU-second:
//! what one core does, whatever else the shared machine runs).
//!
//! Run: `cargo bench --bench store --all-features`

mod cpu_time;

#[path = "../tests/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpu_time::ThreadCpu;
use criterion::measurement::Measurement;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry::trace::{SpanContext, TraceFlags, TraceId, TraceState, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::SimpleSpanProcessor;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use ragtrace::store::ingest::{IngestOptions, ingest_reader};
use ragtrace::store::{SpanParts, SpanRecord, Store};
use ragtrace::telemetry::StoreExporter;
use support::rag::Rag;
use tracing_subscriber::layer::SubscriberExt as _;

const BATCH: usize = 1_000;

/// Keeps what it is given.
#[derive(Debug, Clone, Default)]
struct Keep(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Keep {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.lock().unwrap().extend(batch);
        std::future::ready(Ok(()))
    }
}

/// The spans of one real request, and the resource they were made under.
fn sample() -> (Vec<SpanData>, Resource) {
    let keep = Keep::default();
    let resource = Resource::builder_empty().with_service_name("bench").build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(keep.clone()))
        .with_resource(resource.clone())
        .build();
    let subscriber = tracing_subscriber::registry().with(
        // As ragtrace's own layer is set up.
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("ragtrace"))
            .with_location(false)
            .with_threads(false)
            .with_target(false),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        runtime
            .block_on(Rag::priced().request("u-1", "what is a span?"))
            .unwrap();
    });
    let spans = keep.0.lock().unwrap().clone();
    assert_eq!(spans.len(), 5);
    (spans, resource)
}

/// A trace id that looks random, as real ones are (the identity index then
/// takes inserts all over, not only at its end), but is unique per `n`.
fn scrambled(n: u128) -> TraceId {
    TraceId::from(n.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835))
}

/// `n` spans: copies of the sample, each request copy under a fresh trace id.
fn copies(sample: &[SpanData], n: usize, next_trace: &mut u128) -> Vec<SpanData> {
    copies_with(sample, n, next_trace, scrambled)
}

fn copies_with(
    sample: &[SpanData],
    n: usize,
    next_trace: &mut u128,
    id: fn(u128) -> TraceId,
) -> Vec<SpanData> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        *next_trace += 1;
        for span in sample {
            let mut span = span.clone();
            span.span_context = SpanContext::new(
                id(*next_trace),
                span.span_context.span_id(),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            );
            out.push(span);
        }
    }
    out.truncate(n);
    out
}

fn records(spans: Vec<SpanData>) -> Vec<SpanRecord> {
    spans
        .into_iter()
        .map(|s| {
            let c = &s.span_context;
            let mut parts = SpanParts::new(
                c.trace_id(),
                c.span_id(),
                s.name.to_string(),
                s.start_time,
                s.end_time,
            );
            parts.attributes = ragtrace::store::value::attributes_from_otel(&s.attributes);
            parts.into_record(None)
        })
        .collect()
}

/// OTLP/JSON lines of 100 spans each, as the SDK serializes them.
fn json_lines(spans: Vec<SpanData>, resource: &Resource) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    let resource = ResourceAttributesWithSchema::from(resource);
    let mut out = Vec::new();
    let mut spans = spans.into_iter().peekable();
    while spans.peek().is_some() {
        let chunk: Vec<SpanData> = spans.by_ref().take(100).collect();
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(chunk, &resource),
        };
        serde_json::to_writer(&mut out, &request).unwrap();
        out.push(b'\n');
    }
    out
}

fn store_throughput<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    let (sample, resource) = sample();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group(name);
    group
        .throughput(Throughput::Elements(BATCH as u64))
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));

    let mut next = 0_u128;
    let mut store = Store::open(dir.path().join("insert.db")).unwrap();
    group.bench_function("insert", |b| {
        b.iter_batched(
            || records(copies(&sample, BATCH, &mut next)),
            |batch| store.insert(&batch).unwrap(),
            BatchSize::LargeInput,
        )
    });

    // The same with trace ids in increasing order: the identity index then
    // grows at its end only (the best case; real trace ids are random).
    let mut store = Store::open(dir.path().join("sequential.db")).unwrap();
    group.bench_function("insert_sequential_ids", |b| {
        b.iter_batched(
            || records(copies_with(&sample, BATCH, &mut next, TraceId::from)),
            |batch| store.insert(&batch).unwrap(),
            BatchSize::LargeInput,
        )
    });

    let mut exporter = StoreExporter::open(dir.path().join("sink.db")).unwrap();
    exporter.set_resource(&resource);
    group.bench_function("sink", |b| {
        b.iter_batched(
            || copies(&sample, BATCH, &mut next),
            |batch| futures_executor_block_on(exporter.export(batch)).unwrap(),
            BatchSize::LargeInput,
        )
    });

    let mut store = Store::open(dir.path().join("ingest.db")).unwrap();
    let options = IngestOptions::new();
    let name = std::path::Path::new("bench.jsonl");
    group.bench_function("ingest_json", |b| {
        b.iter_batched(
            || json_lines(copies(&sample, BATCH, &mut next), &resource),
            |lines| {
                let report = ingest_reader(&lines[..], name, &mut store, &options).unwrap();
                assert_eq!(report.spans, BATCH as u64);
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// The store exporter finishes its work before returning its future.
fn futures_executor_block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// The floor under `insert`: SQLite alone, the store's schema and a
/// statement binding the main columns, with attribute JSON of a given size
/// (ids, times and payload prepared outside the timing).
fn sqlite_floor(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("sqlite_floor_cpu");
    group
        .throughput(Throughput::Elements(BATCH as u64))
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for (bytes, sequential) in [(0_usize, false), (300, false), (1300, false), (1300, true)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("floor.db");
        drop(Store::open(&path).unwrap());
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        let payload = format!("{{\"k\":\"{}\"}}", "x".repeat(bytes));
        let mut n = 0_u64;
        let name = if sequential {
            format!("{bytes}_bytes_sequential_ids")
        } else {
            format!("{bytes}_bytes")
        };
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    (0..BATCH)
                        .map(|_| {
                            n += 1;
                            let start = 1_700_000_000_000_000_000 + n as i64 * 1000;
                            let trace = if sequential {
                                TraceId::from(u128::from(n))
                            } else {
                                scrambled(u128::from(n))
                            };
                            (trace.to_string(), format!("{n:016x}"), start)
                        })
                        .collect::<Vec<_>>()
                },
                |ids| {
                    let tx = conn.transaction().unwrap();
                    {
                        let mut insert = tx
                            .prepare_cached(
                                "INSERT OR REPLACE INTO spans (trace_id, span_id, parent_span_id, \
                                 name, kind, start_ns, duration_ns, status, step, model, \
                                 input_tokens, output_tokens, cost_picousd, cost_status, attributes) \
                                 VALUES (?1, ?2, '00000000000000aa', 'chat gpt-4o-mini', 'client', \
                                 ?3, 1000, 'unset', 'chat', 'gpt-4o-mini', 1200, 80, 151200000, \
                                 'priced', ?4)",
                            )
                            .unwrap();
                        for (trace, span, start) in &ids {
                            insert
                                .execute(rusqlite::params![trace, span, start, payload])
                                .unwrap();
                        }
                    }
                    tx.commit().unwrap();
                    ids
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn store_wall(c: &mut Criterion) {
    store_throughput(c, "store");
}

fn store_cpu(c: &mut Criterion<ThreadCpu>) {
    store_throughput(c, "store_cpu");
}

criterion_group!(wall, store_wall);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = store_cpu, sqlite_floor
}
criterion_main!(wall, cpu);
