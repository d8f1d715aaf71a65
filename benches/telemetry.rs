//! What telemetry costs the request path: one RAG request (root + four
//! traced steps over scripted, instant step implementations, so the figure
//! is the instrumentation alone) under each sink set-up, including OTLP
//! endpoints that refuse connections or never answer.
//!
//! Run: `cargo bench --bench telemetry --all-features`

#[path = "../tests/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ragtrace::telemetry::{LogFormat, OtlpProtocol, Telemetry, TelemetryBuilder};
use support::endpoints::{Blackhole, CaptureReceiver, closed_port};
use support::otlp::OtlpReceiver;
use support::rag::Rag;
use tracing::Dispatch;

fn quiet() -> TelemetryBuilder {
    Telemetry::builder()
        .ignore_env()
        .log_format(LogFormat::Off)
        .shutdown_timeout(Duration::from_millis(500))
}

fn request_path(c: &mut Criterion) {
    let infra = tokio::runtime::Runtime::new().unwrap();
    let grpc = infra.block_on(OtlpReceiver::start_discarding());
    let http = infra.block_on(CaptureReceiver::start_discarding());
    let silent = Blackhole::start();
    let refused = format!("http://{}", closed_port());
    let dir = tempfile::tempdir().unwrap();
    let timeout = Duration::from_millis(500);

    type Setup = Box<dyn Fn() -> (Dispatch, Option<Telemetry>)>;
    let otlp = |endpoint: String, protocol: OtlpProtocol| -> Setup {
        Box::new(move || {
            let (d, t) = quiet()
                .no_store()
                .otlp_endpoint(endpoint.clone())
                .otlp_protocol(protocol)
                .otlp_timeout(timeout)
                .dispatch()
                .unwrap();
            (d, Some(t))
        })
    };
    let store_path = dir.path().join("bench.db");
    let cases: Vec<(&str, Setup)> = vec![
        ("no_subscriber", Box::new(|| (Dispatch::none(), None))),
        (
            "otel_layer_no_sink",
            Box::new(|| {
                let (d, t) = quiet().no_store().dispatch().unwrap();
                (d, Some(t))
            }),
        ),
        (
            "store",
            Box::new(move || {
                let (d, t) = quiet().store(&store_path).dispatch().unwrap();
                (d, Some(t))
            }),
        ),
        (
            "otlp_grpc_healthy",
            otlp(grpc.endpoint(), OtlpProtocol::Grpc),
        ),
        (
            "otlp_grpc_refused",
            otlp(refused.clone(), OtlpProtocol::Grpc),
        ),
        (
            "otlp_grpc_silent",
            otlp(silent.endpoint(), OtlpProtocol::Grpc),
        ),
        (
            "otlp_http_healthy",
            otlp(http.endpoint(), OtlpProtocol::HttpProtobuf),
        ),
        (
            "otlp_http_refused",
            otlp(refused.clone(), OtlpProtocol::HttpProtobuf),
        ),
        (
            "otlp_http_silent",
            otlp(silent.endpoint(), OtlpProtocol::HttpProtobuf),
        ),
    ];

    let rag = Rag::priced();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Saturated: requests back to back, far faster than any sink drains on
    // this machine, so the queues fill and the drop path is measured too.
    // Paced: one request every 500 µs (2,000 requests, 10,000 spans a
    // second), which the healthy sinks keep up with; the time of the
    // request alone is measured.
    for (group_name, pace) in [
        ("request_path_saturated", None),
        ("request_path_paced", Some(Duration::from_micros(500))),
    ] {
        let mut group = c.benchmark_group(group_name);
        match pace {
            None => group
                .sample_size(30)
                .warm_up_time(Duration::from_secs(2))
                .measurement_time(Duration::from_secs(5)),
            Some(_) => group
                .sample_size(10)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(2)),
        };
        for (name, setup) in &cases {
            let (dispatch, telemetry) = setup();
            tracing::dispatcher::with_default(&dispatch, || {
                group.bench_function(*name, |b| {
                    b.iter_custom(|iters| {
                        runtime.block_on(async {
                            let mut total = Duration::ZERO;
                            for _ in 0..iters {
                                let start = Instant::now();
                                rag.request("u-1", "what is a span?").await.unwrap();
                                total += start.elapsed();
                                if let Some(pace) = pace {
                                    std::thread::sleep(pace);
                                }
                            }
                            total
                        })
                    })
                });
            });
            if let Some(telemetry) = telemetry {
                let _ = telemetry.shutdown();
                for sink in telemetry.stats() {
                    eprintln!(
                        "  {group_name}/{name}: sink {} exported {}, failed {}, dropped {}, max queued {} of {}",
                        sink.sink,
                        sink.exported,
                        sink.failed,
                        sink.dropped,
                        sink.max_queued,
                        sink.capacity
                    );
                }
            }
        }
        group.finish();
    }
}

criterion_group!(benches, request_path);
criterion_main!(benches);
