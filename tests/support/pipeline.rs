//! The export path a service would run: `tracing` -> `tracing-opentelemetry`
//! -> batch span processor -> real `opentelemetry-otlp` gRPC exporter -> an
//! [`OtlpReceiver`] on 127.0.0.1.
//!
//! Each test gets its own runtime and subscriber: every worker thread of the
//! runtime (and the test thread) uses the test's dispatcher, so tests in one
//! binary run in parallel without seeing each other's spans.

use std::future::Future;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Dispatch;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt;

use super::otlp::{ExportedSpan, OtlpReceiver};
use super::rag::Scoped;

pub struct Pipeline {
    /// Runs the receiver and the exporter's connection.
    infra: tokio::runtime::Runtime,
    /// Runs the code under test, with the test's subscriber on every thread.
    scoped: Scoped,
    receiver: OtlpReceiver,
    provider: SdkTracerProvider,
}

impl Pipeline {
    pub fn new() -> Pipeline {
        let infra = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (receiver, provider) = infra.block_on(async {
            let receiver = OtlpReceiver::start().await;
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(receiver.endpoint())
                .build()
                .unwrap();
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(
                    Resource::builder()
                        .with_service_name("ragtrace-test")
                        .build(),
                )
                .build();
            (receiver, provider)
        });
        let tracer = provider.tracer("ragtrace-test");
        let subscriber = tracing_subscriber::registry().with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(ragtrace::telemetry::without_exporter_traffic()),
        );
        Pipeline {
            infra,
            scoped: Scoped::new(Dispatch::new(subscriber)),
            receiver,
            provider,
        }
    }

    /// Runs `future` on the test's runtime with the test's subscriber.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.scoped.block_on(future)
    }

    /// Flushes the exporter and returns everything the receiver got.
    pub fn finish(self) -> Vec<ExportedSpan> {
        // Finish the code under test first, so every span has closed.
        drop(self.scoped);
        self.provider.force_flush().unwrap();
        let spans = self.receiver.spans();
        let _ = self.provider.shutdown();
        drop(self.infra);
        spans
    }

    /// The dispatcher of this test, for running code outside `block_on`.
    pub fn dispatch(&self) -> &Dispatch {
        self.scoped.dispatch()
    }
}
