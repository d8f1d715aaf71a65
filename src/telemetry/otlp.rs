//! The OTLP sink: the real `opentelemetry-otlp` exporter on a small runtime
//! of its own, behind a [`QueueProcessor`].
//!
//! The exporter gets its own single-threaded-worker Tokio runtime so that it
//! works whether or not the application runs Tokio, and so that a slow
//! collector never takes threads from the application's runtime.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig as _};

use super::env::OtlpProtocol;
use super::error::TelemetryError;
use super::queue::{Driver, QueueConfig, QueueProcessor};
use super::report::Reporter;

/// Where and how to send OTLP.
#[derive(Debug, Clone)]
pub(crate) struct OtlpPlan {
    /// The full traces URL (HTTP) or the server address (gRPC).
    pub(crate) endpoint: String,
    pub(crate) protocol: OtlpProtocol,
    pub(crate) timeout: Duration,
}

/// The traces URL for a base endpoint (as `OTEL_EXPORTER_OTLP_ENDPOINT`
/// is given): HTTP appends `/v1/traces`, gRPC uses it as is.
pub(crate) fn traces_url(base: &str, protocol: OtlpProtocol) -> String {
    match protocol {
        OtlpProtocol::Grpc => base.to_owned(),
        OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
            let base = base.trim_end_matches('/');
            if base.ends_with("/v1/traces") {
                base.to_owned()
            } else {
                format!("{base}/v1/traces")
            }
        }
    }
}

/// The default endpoint of `protocol` on this machine.
pub(crate) fn default_endpoint(protocol: OtlpProtocol) -> String {
    match protocol {
        OtlpProtocol::Grpc => "http://localhost:4317".to_owned(),
        _ => "http://localhost:4318/v1/traces".to_owned(),
    }
}

pub(crate) fn processor(
    plan: &OtlpPlan,
    queue: QueueConfig,
    reporter: Arc<Reporter>,
) -> Result<QueueProcessor, TelemetryError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("ragtrace-otlp-io")
        .enable_all()
        .build()
        .map_err(TelemetryError::Runtime)?;
    let exporter = {
        // tonic binds its connection to the runtime current when it is built.
        let _entered = runtime.enter();
        let builder = opentelemetry_otlp::SpanExporter::builder();
        let built = match plan.protocol {
            OtlpProtocol::Grpc => builder
                .with_tonic()
                .with_endpoint(plan.endpoint.clone())
                .with_timeout(plan.timeout)
                .build(),
            OtlpProtocol::HttpProtobuf => builder
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(plan.endpoint.clone())
                .with_timeout(plan.timeout)
                .build(),
            OtlpProtocol::HttpJson => builder
                .with_http()
                .with_protocol(Protocol::HttpJson)
                .with_endpoint(plan.endpoint.clone())
                .with_timeout(plan.timeout)
                .build(),
        };
        built.map_err(|e| TelemetryError::Exporter(e.to_string()))?
    };
    // Our own deadline is a little later than the exporter's, which then
    // reports its own (clearer) timeout first.
    let queue = queue.export_timeout(plan.timeout + Duration::from_millis(500));
    Ok(QueueProcessor::start(
        "otlp",
        exporter,
        queue,
        Driver::Tokio(Arc::new(runtime)),
        reporter,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_appends_the_traces_path_once() {
        let http = OtlpProtocol::HttpProtobuf;
        assert_eq!(traces_url("http://c:4318", http), "http://c:4318/v1/traces");
        assert_eq!(
            traces_url("http://c:4318/", http),
            "http://c:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://c:4318/v1/traces", http),
            "http://c:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://c:4317", OtlpProtocol::Grpc),
            "http://c:4317"
        );
    }
}
