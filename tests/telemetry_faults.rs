//! Export never blocks or fails the request path. With the OTLP endpoint
//! refusing connections, or accepting them and never answering, a burst of
//! 10,000 requests completes without error, the queue never holds more
//! than its capacity, every span is accounted for (exported, failed,
//! dropped or queued), and the losses are reported. When the backend comes
//! back, export recovers. (How much the request path costs in each case is
//! measured in `benches/telemetry.rs`, not asserted here.)
#![cfg(all(feature = "otlp", feature = "serve"))]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ragtrace::telemetry::{LogFormat, OtlpProtocol, QueueConfig, SinkStats, Telemetry};
use support::endpoints::{Blackhole, closed_port};
use support::otlp::OtlpReceiver;
use support::rag::{Rag, Scoped};

const REQUESTS: usize = 10_000;
const SPANS_PER_REQUEST: u64 = 5;
const CAPACITY: usize = 2048;

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the burst against `endpoint` and returns the OTLP sink's final
/// stats and the log output.
fn burst(endpoint: String, protocol: OtlpProtocol, timeout: Duration) -> (SinkStats, String) {
    let logs = Logs::default();
    let for_logs = logs.clone();
    let (dispatch, telemetry) = Telemetry::builder()
        .ignore_env()
        .no_store()
        .otlp_endpoint(endpoint)
        .otlp_protocol(protocol)
        .otlp_timeout(timeout)
        .otlp_queue(QueueConfig::new().capacity(CAPACITY))
        .log_format(LogFormat::Text)
        .log_writer(move || for_logs.clone())
        .loss_report_interval(Duration::from_millis(200))
        .shutdown_timeout(Duration::from_secs(1))
        .dispatch()
        .unwrap();
    let scoped = Scoped::new(dispatch);
    let rag = Rag::priced();
    let answers = scoped.block_on(async {
        let mut ok = 0;
        for i in 0..REQUESTS {
            let answer = rag.request(&format!("u-{}", i % 50), "q").await;
            assert_eq!(answer.as_deref(), Ok("A trace is a tree of spans."));
            ok += 1;
        }
        ok
    });
    assert_eq!(answers, REQUESTS);
    drop(scoped);
    let during = telemetry.sink("otlp").unwrap();
    assert!(during.max_queued <= CAPACITY as u64, "{during:?}");
    // Shutting down against a dead endpoint may time out; it must not hang
    // and must not lose count.
    let _ = telemetry.shutdown();
    (telemetry.sink("otlp").unwrap(), logs.text())
}

fn assert_accounted(stats: &SinkStats) {
    let produced = REQUESTS as u64 * SPANS_PER_REQUEST;
    assert_eq!(
        stats.exported + stats.failed + stats.dropped + stats.queued,
        produced,
        "{stats:?}"
    );
    assert!(stats.max_queued <= CAPACITY as u64, "{stats:?}");
}

#[test]
fn refused_connections_grpc() {
    let (stats, logs) = burst(
        format!("http://{}", closed_port()),
        OtlpProtocol::Grpc,
        Duration::from_secs(2),
    );
    assert_accounted(&stats);
    assert_eq!(stats.exported, 0, "{stats:?}");
    assert!(stats.lost() > 0);
    assert!(logs.contains("sink `otlp`"), "{logs}");
    assert!(logs.contains("lost"), "{logs}");
}

#[test]
fn refused_connections_http() {
    let (stats, logs) = burst(
        format!("http://{}", closed_port()),
        OtlpProtocol::HttpProtobuf,
        Duration::from_secs(2),
    );
    assert_accounted(&stats);
    assert_eq!(stats.exported, 0, "{stats:?}");
    assert!(
        logs.contains("exporting") && logs.contains("failed"),
        "{logs}"
    );
}

#[test]
fn a_silent_endpoint_grpc() {
    let blackhole = Blackhole::start();
    let (stats, logs) = burst(
        blackhole.endpoint(),
        OtlpProtocol::Grpc,
        Duration::from_millis(300),
    );
    assert_accounted(&stats);
    assert_eq!(stats.exported, 0, "{stats:?}");
    assert!(
        stats.dropped > 0,
        "the queue must overflow while exports hang: {stats:?}"
    );
    assert!(
        logs.contains("dropped with the queue full at 2048"),
        "{logs}"
    );
}

#[test]
fn a_silent_endpoint_http() {
    let blackhole = Blackhole::start();
    let (stats, logs) = burst(
        blackhole.endpoint(),
        OtlpProtocol::HttpProtobuf,
        Duration::from_millis(300),
    );
    assert_accounted(&stats);
    assert_eq!(stats.exported, 0, "{stats:?}");
    assert!(stats.dropped > 0, "{stats:?}");
    assert!(logs.contains("sink `otlp` lost"), "{logs}");
}

#[test]
fn export_recovers_when_the_backend_comes_back() {
    let addr = closed_port();
    let infra = tokio::runtime::Runtime::new().unwrap();
    let (dispatch, telemetry) = Telemetry::builder()
        .ignore_env()
        .no_store()
        .otlp_endpoint(format!("http://{addr}"))
        .otlp_protocol(OtlpProtocol::Grpc)
        .otlp_timeout(Duration::from_secs(2))
        .otlp_queue(QueueConfig::new().flush_interval(Duration::from_millis(50)))
        .log_format(LogFormat::Off)
        .dispatch()
        .unwrap();
    let scoped = Scoped::new(dispatch);
    let rag = Rag::priced();
    scoped.block_on(async {
        for _ in 0..20 {
            rag.request("u-1", "q").await.unwrap();
        }
    });
    let _ = telemetry.flush();
    let down = telemetry.sink("otlp").unwrap();
    assert_eq!(down.exported, 0);
    assert_eq!(down.failed, 100, "{down:?}");

    // The collector starts on the address that refused connections.
    let receiver = infra.block_on(OtlpReceiver::start_at(addr));
    let mut exported = 0;
    for _ in 0..50 {
        scoped.block_on(async {
            for _ in 0..20 {
                rag.request("u-2", "q").await.unwrap();
            }
        });
        telemetry.flush().ok();
        exported = telemetry.sink("otlp").unwrap().exported;
        if exported > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(exported > 0, "export never recovered");
    drop(scoped);
    telemetry.shutdown().unwrap();
    let received = receiver.spans();
    assert_eq!(received.len() as u64, exported);
    assert!(received.iter().all(|s| {
        s.attributes
            .get("user.id")
            .is_none_or(|v| matches!(v, opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(u) if u == "u-2"))
    }));
    drop(infra);
}
