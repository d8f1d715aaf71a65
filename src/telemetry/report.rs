//! How sinks report what they lose: a `WARN` event (target
//! `ragtrace::telemetry`) at most every few seconds, and the OpenTelemetry
//! counter `ragtrace.telemetry.spans.lost`.

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::metrics::Counter;
use tracing::dispatcher::WeakDispatch;

use super::queue::{SinkStats, loss_attributes};

/// The target of ragtrace's own telemetry reports; the OTel layer never
/// records it, so a report cannot feed the pipeline it reports on.
pub(crate) const TARGET: &str = "ragtrace::telemetry";

pub(crate) struct Reporter {
    interval: Duration,
    /// The subscriber to report through when it is not the global default.
    dispatch: OnceLock<WeakDispatch>,
    lost: OnceLock<Counter<u64>>,
}

impl Default for Reporter {
    fn default() -> Self {
        Reporter::new(Duration::from_secs(10))
    }
}

impl Reporter {
    pub(crate) fn new(interval: Duration) -> Self {
        Reporter {
            interval,
            dispatch: OnceLock::new(),
            lost: OnceLock::new(),
        }
    }

    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// Reports through `dispatch` from now on (weakly: the subscriber owns
    /// the sinks, not the other way round).
    pub(crate) fn route_to(&self, dispatch: &tracing::Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    fn counter(&self) -> &Counter<u64> {
        self.lost.get_or_init(|| {
            opentelemetry::global::meter("ragtrace")
                .u64_counter("ragtrace.telemetry.spans.lost")
                .with_unit("{span}")
                .with_description("Spans a ragtrace sink dropped (queue full) or failed to export")
                .build()
        })
    }

    fn emit(&self, warn: bool, message: &str) {
        let log = || {
            let enabled = if warn {
                tracing::enabled!(target: TARGET, tracing::Level::WARN)
            } else {
                tracing::enabled!(target: TARGET, tracing::Level::INFO)
            };
            if !enabled {
                // Nobody listens: losses must still be visible somewhere.
                if warn {
                    eprintln!("ragtrace: {message}");
                }
                return;
            }
            if warn {
                tracing::warn!(target: TARGET, "{message}");
            } else {
                tracing::info!(target: TARGET, "{message}");
            }
        };
        match self.dispatch.get().and_then(WeakDispatch::upgrade) {
            Some(dispatch) => tracing::dispatcher::with_default(&dispatch, log),
            None => log(),
        }
    }

    pub(crate) fn warn(&self, sink: &str, message: &str) {
        self.emit(true, &format!("sink `{sink}` {message}"));
    }

    pub(crate) fn export_failed(&self, sink: &str, spans: u64, error: &dyn std::fmt::Display) {
        self.emit(
            true,
            &format!(
                "sink `{sink}`: exporting {spans} spans failed ({error}); later batches keep trying"
            ),
        );
    }

    pub(crate) fn recovered(&self, sink: &str, failed_batches: u64) {
        self.emit(
            false,
            &format!("sink `{sink}`: export recovered after {failed_batches} failed batches"),
        );
    }

    pub(crate) fn lost(&self, stats: &SinkStats, new_dropped: u64, new_failed: u64) {
        if new_dropped > 0 {
            self.counter()
                .add(new_dropped, &loss_attributes(stats.sink, "queue_full"));
        }
        if new_failed > 0 {
            self.counter()
                .add(new_failed, &loss_attributes(stats.sink, "export_failed"));
        }
        self.emit(
            true,
            &format!(
                "sink `{}` lost {} spans ({new_dropped} dropped with the queue full at {}, {new_failed} in failed exports); {} dropped and {} failed in total",
                stats.sink,
                new_dropped + new_failed,
                stats.capacity,
                stats.dropped,
                stats.failed,
            ),
        );
    }

    pub(crate) fn final_report(&self, stats: &SinkStats) {
        if stats.lost() == 0 {
            return;
        }
        self.emit(
            true,
            &format!(
                "sink `{}` shut down having exported {} spans and lost {} ({} dropped, {} failed)",
                stats.sink,
                stats.exported,
                stats.lost(),
                stats.dropped,
                stats.failed
            ),
        );
    }
}
