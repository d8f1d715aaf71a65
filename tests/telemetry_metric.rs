//! Losses are a metric too: `ragtrace.telemetry.spans.lost`, by sink and
//! reason, through whatever OpenTelemetry meter provider is installed.
//!
//! One test per binary: it installs the global meter provider.
#![cfg(all(feature = "otlp", feature = "serve"))]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use ragtrace::telemetry::{LogFormat, OtlpProtocol, QueueConfig, Telemetry};
use support::endpoints::closed_port;
use support::rag::{Rag, Scoped};

/// (sink, reason) -> the counter's latest cumulative value.
type Seen = Arc<Mutex<HashMap<(String, String), u64>>>;

#[derive(Clone, Default)]
struct Capture(Seen);

impl PushMetricExporter for Capture {
    fn export(&self, metrics: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        let mut seen = self.0.lock().unwrap();
        for scope in metrics.scope_metrics() {
            for metric in scope.metrics() {
                if metric.name() != "ragtrace.telemetry.spans.lost" {
                    continue;
                }
                if let AggregatedMetrics::U64(MetricData::Sum(sum)) = metric.data() {
                    for point in sum.data_points() {
                        let attr = |key: &str| {
                            point
                                .attributes()
                                .find(|kv| kv.key.as_str() == key)
                                .map(|kv| kv.value.to_string())
                                .unwrap_or_default()
                        };
                        seen.insert((attr("ragtrace.sink"), attr("reason")), point.value());
                    }
                }
            }
        }
        std::future::ready(Ok(()))
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

#[test]
fn losses_are_counted_in_a_metric() {
    let capture = Capture::default();
    let meters = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(capture.clone()).build())
        .build();
    opentelemetry::global::set_meter_provider(meters.clone());

    let (dispatch, telemetry) = Telemetry::builder()
        .ignore_env()
        .no_store()
        .otlp_endpoint(format!("http://{}", closed_port()))
        .otlp_protocol(OtlpProtocol::HttpProtobuf)
        .otlp_queue(QueueConfig::new().capacity(64).batch_size(32))
        .log_format(LogFormat::Off)
        .dispatch()
        .unwrap();
    let scoped = Scoped::new(dispatch);
    let rag = Rag::priced();
    scoped.block_on(async {
        for _ in 0..500 {
            rag.request("u-1", "q").await.unwrap();
        }
    });
    drop(scoped);
    // The last batches fail too, and shutdown says so.
    assert!(telemetry.shutdown().is_err());
    let stats = telemetry.sink("otlp").unwrap();
    assert!(stats.failed > 0 && stats.dropped > 0, "{stats:?}");

    meters.force_flush().unwrap();
    let seen = capture.0.lock().unwrap().clone();
    let value = |reason: &str| seen.get(&("otlp".to_owned(), reason.to_owned())).copied();
    assert_eq!(value("export_failed"), Some(stats.failed), "{seen:?}");
    assert_eq!(value("queue_full"), Some(stats.dropped), "{seen:?}");
}
