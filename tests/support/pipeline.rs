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
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;

use super::otlp::{ExportedSpan, OtlpReceiver};

pub struct Pipeline {
    /// Runs the receiver and the exporter's connection.
    infra: tokio::runtime::Runtime,
    /// Runs the code under test, with the test's subscriber on every thread.
    runtime: tokio::runtime::Runtime,
    receiver: OtlpReceiver,
    provider: SdkTracerProvider,
    dispatch: Dispatch,
}

/// Targets of the exporter's own traffic: tracing them would feed the
/// exporter its own spans.
pub fn export_filter() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("h2", LevelFilter::OFF)
        .with_target("hyper", LevelFilter::OFF)
        .with_target("hyper_util", LevelFilter::OFF)
        .with_target("tonic", LevelFilter::OFF)
        .with_target("tower", LevelFilter::OFF)
        .with_target("reqwest", LevelFilter::OFF)
        .with_target("opentelemetry", LevelFilter::OFF)
        .with_target("opentelemetry_sdk", LevelFilter::OFF)
        .with_target("opentelemetry_otlp", LevelFilter::OFF)
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
                .with_filter(export_filter()),
        );
        let dispatch = Dispatch::new(subscriber);
        let for_workers = dispatch.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .on_thread_start(move || {
                // The guard would restore the previous default when dropped;
                // the thread ends with the runtime, so keep it set.
                std::mem::forget(tracing::dispatcher::set_default(&for_workers));
            })
            .build()
            .unwrap();
        Pipeline {
            infra,
            runtime,
            receiver,
            provider,
            dispatch,
        }
    }

    /// Runs `future` on the test's runtime with the test's subscriber.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        tracing::dispatcher::with_default(&self.dispatch, || self.runtime.block_on(future))
    }

    /// Flushes the exporter and returns everything the receiver got.
    pub fn finish(self) -> Vec<ExportedSpan> {
        // Finish the code under test first, so every span has closed.
        drop(self.runtime);
        self.provider.force_flush().unwrap();
        let spans = self.receiver.spans();
        let _ = self.provider.shutdown();
        drop(self.infra);
        spans
    }

    /// The dispatcher of this test, for running code outside `block_on`.
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }
}

use tracing_subscriber::Layer as _;
