//! Telemetry set-up: one call at start-up, and the pieces it is made of.
//!
//! ```no_run
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // OTLP if OTEL_EXPORTER_OTLP_ENDPOINT is set, else the local store
//!     // (`ragtrace.db`); log lines filtered by RUST_LOG.
//!     let _telemetry = ragtrace::telemetry::init()?;
//!     // ... run the service; dropping the guard flushes every sink ...
//!     Ok(())
//! }
//! ```
//!
//! [`init`] installs a `tracing-subscriber` registry with
//! - the OpenTelemetry layer, recording ragtrace's spans and other crates'
//!   spans at `INFO` and above, but never the exporter's own traffic
//!   ([`EXPORTER_TARGETS`]) or raw provider bodies ([`CONTENT_TARGETS`]);
//! - a log output layer filtered by `RUST_LOG` (text, or JSON lines with
//!   `trace_id` and `span_id`: [`LogFormat`]);
//! - the bridge that turns `log` crate records into `tracing` events, so
//!   that they too land in the span they were logged in.
//!
//! The layer's tracer provider carries the sinks, each behind its own
//! bounded [`QueueProcessor`] (export never blocks or fails a request; what
//! is dropped is counted, logged and measured):
//!
//! | sink | when | what |
//! |---|---|---|
//! | `otlp` | `OTEL_EXPORTER_OTLP_ENDPOINT` (or `_TRACES_ENDPOINT`) is set, `OTEL_TRACES_EXPORTER` names `otlp`, or [`TelemetryBuilder::otlp_endpoint`] | `opentelemetry-otlp` over gRPC, HTTP/protobuf (the default) or HTTP/JSON (`OTEL_EXPORTER_OTLP_PROTOCOL`) |
//! | `store` | nothing else is configured, `RAGTRACE_DB` is set, or [`TelemetryBuilder::store`] | the embedded SQLite trace store, `ragtrace.db` unless told otherwise |
//! | `console` | `RAGTRACE_CONSOLE=1`, `console` in `OTEL_TRACES_EXPORTER`, or [`TelemetryBuilder::console`] | each finished request as a tree on standard error |
//!
//! `init` also installs the traced wrappers' process-wide
//! [`Options`](crate::instrument::Options), unless the application installed
//! its own first: spans are priced from the built-in tables (with
//! `RAGTRACE_PRICING_DIR` layered over them), and calls whose provider
//! reports no usage get counted tokens, marked estimated
//! ([`TelemetryBuilder::instrument_options`] changes this).
//!
//! Also read: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`,
//! `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_SDK_DISABLED`, and `RAGTRACE_LOG_FORMAT` (`text`, `json`, `off`).
//! A value that cannot be used is an error from `init`, naming the variable.
//!
//! Applications that already build their own subscriber add ragtrace with
//! [`TelemetryBuilder::layer`]; applications with their own OpenTelemetry
//! tracer provider add [`QueueProcessor`]s over [`StoreExporter`] or
//! [`ConsoleExporter`] to it.

mod builder;
mod console;
mod env;
mod error;
mod filter;
mod guard;
mod logs;
#[cfg(feature = "otlp")]
mod otlp;
mod queue;
mod report;
mod span_data;
#[cfg(feature = "store")]
mod store_sink;

pub use builder::{DEFAULT_STORE_PATH, TelemetryBuilder};
pub use console::ConsoleExporter;
pub use env::{LogFormat, OtlpProtocol};
pub use error::TelemetryError;
pub use filter::{CONTENT_TARGETS, EXPORTER_TARGETS, without_exporter_traffic};
pub use guard::Telemetry;
pub use logs::JsonLogFormat;
pub use queue::{QueueConfig, QueueProcessor, SinkStats};
#[cfg(feature = "store")]
pub use store_sink::StoreExporter;

/// Sets telemetry up from the environment and installs it globally; see the
/// [module documentation](self) for what runs when. Keep the returned guard
/// alive: dropping it flushes and stops every sink.
pub fn init() -> Result<Telemetry, TelemetryError> {
    TelemetryBuilder::new().init()
}

/// A builder to configure telemetry in code before installing it.
pub fn builder() -> TelemetryBuilder {
    TelemetryBuilder::new()
}

impl Telemetry {
    /// A builder to configure telemetry in code before installing it.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::new()
    }
}
