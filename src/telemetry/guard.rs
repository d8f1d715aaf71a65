//! [`Telemetry`]: the handle `init` returns; flushes and shuts the sinks
//! down when dropped.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry_sdk::trace::SdkTracerProvider;

use super::error::TelemetryError;
use super::queue::{SinkStats, StatsHandle};
use super::report::Reporter;

/// Keeps telemetry running. Dropping it flushes every sink (waiting at most
/// the shutdown timeout per sink, 5 s by default) and shuts them down; keep
/// it alive in `main` for as long as the service runs.
///
/// ```no_run
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let telemetry = ragtrace::telemetry::init()?;
///     // ... serve requests ...
///     for sink in telemetry.stats() {
///         println!("{}: {} exported, {} lost", sink.sink, sink.exported, sink.lost());
///     }
///     Ok(()) // `telemetry` drops here: everything queued is written.
/// }
/// ```
#[must_use = "telemetry stops (and flushes) when this guard is dropped"]
pub struct Telemetry {
    pub(crate) provider: Option<SdkTracerProvider>,
    pub(crate) sinks: Vec<StatsHandle>,
    pub(crate) store_path: Option<PathBuf>,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) reporter: Arc<Reporter>,
    pub(crate) done: AtomicBool,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("sinks", &self.stats())
            .field("store_path", &self.store_path)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// What each sink has exported, queued and lost so far.
    pub fn stats(&self) -> Vec<SinkStats> {
        self.sinks.iter().map(StatsHandle::snapshot).collect()
    }

    /// The stats of one sink (`otlp`, `store` or `console`), if it runs.
    pub fn sink(&self, name: &str) -> Option<SinkStats> {
        self.stats().into_iter().find(|s| s.sink == name)
    }

    /// The store file spans are written to, if the store sink runs.
    pub fn store_path(&self) -> Option<&Path> {
        self.store_path.as_deref()
    }

    /// The tracer provider carrying ragtrace's sinks (`None` when
    /// `OTEL_SDK_DISABLED=true`), e.g. to make tracers for other
    /// OpenTelemetry instrumentation.
    pub fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.provider.as_ref()
    }

    /// Exports everything queued so far, waiting for it.
    pub fn flush(&self) -> Result<(), TelemetryError> {
        match &self.provider {
            Some(provider) => provider.force_flush().map_err(|e| TelemetryError::Sink {
                sink: "flush",
                reason: e.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Flushes and stops every sink, reporting an export that failed or
    /// did not finish in time; [`stats`](Self::stats) stay readable.
    /// Dropping the guard does the same, silently. Spans that end after
    /// this are dropped (and counted).
    pub fn shutdown(&self) -> Result<(), TelemetryError> {
        if self.done.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let Some(provider) = &self.provider else {
            return Ok(());
        };
        provider
            .shutdown_with_timeout(self.shutdown_timeout)
            .map_err(|e| TelemetryError::Sink {
                sink: "shutdown",
                reason: e.to_string(),
            })
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        // Losses were reported by the sinks themselves.
        let _ = self.shutdown();
    }
}
