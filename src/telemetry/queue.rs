//! [`QueueProcessor`]: a bounded queue in front of a span exporter, drained
//! in batches by a background thread, that counts everything it loses.
//!
//! The OpenTelemetry SDK's batch processor has the same shape but keeps its
//! drop count private; ragtrace must report drops (a log line and a metric)
//! and show them in code ([`SinkStats`]), so each sink gets this instead.
//!
//! On the request path [`on_end`](SpanProcessor::on_end) takes one
//! uncontended lock to push the span, or counts it as dropped when the queue
//! is full: it never waits for the exporter, however slow or dead that is.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use super::report::Reporter;

/// Queue and batching settings of one sink.
///
/// ```
/// use std::time::Duration;
/// use ragtrace::telemetry::QueueConfig;
///
/// let config = QueueConfig::new()
///     .capacity(4096)
///     .batch_size(256)
///     .flush_interval(Duration::from_millis(500));
/// assert_eq!(config.capacity, 4096);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueConfig {
    /// Spans held at most; more are dropped and counted.
    pub capacity: usize,
    /// Spans handed to the exporter at once, at most.
    pub batch_size: usize,
    /// A partial batch is exported after waiting this long.
    pub flush_interval: Duration,
    /// An export taking longer than this counts as failed (sinks that run
    /// on an async runtime only).
    pub export_timeout: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 2048,
            batch_size: 512,
            flush_interval: Duration::from_secs(1),
            export_timeout: Duration::from_secs(10),
        }
    }
}

impl QueueConfig {
    /// The defaults: 2048 spans, batches of 512, flushed every second,
    /// exports time out after 10 s.
    pub fn new() -> Self {
        QueueConfig::default()
    }

    /// Sets the capacity (at least 1).
    pub fn capacity(mut self, spans: usize) -> Self {
        self.capacity = spans.max(1);
        self
    }

    /// Sets the batch size (at least 1).
    pub fn batch_size(mut self, spans: usize) -> Self {
        self.batch_size = spans.max(1);
        self
    }

    /// Sets the flush interval.
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// Sets the export timeout.
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self
    }
}

/// What a sink has done with the spans it was given, since it started.
///
/// Every span handed to a sink ends up in exactly one of `exported`,
/// `failed`, `dropped` or `queued`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SinkStats {
    /// The sink: `otlp`, `store`, `console`, or a custom name.
    pub sink: &'static str,
    /// The queue's capacity.
    pub capacity: usize,
    /// Spans waiting in the queue now.
    pub queued: u64,
    /// The most spans ever waiting at once (never above `capacity`).
    pub max_queued: u64,
    /// Spans the exporter accepted.
    pub exported: u64,
    /// Spans in batches the exporter failed (or timed out) on.
    pub failed: u64,
    /// Spans dropped because the queue was full, or the sink had shut down.
    pub dropped: u64,
    /// Export calls that failed.
    pub export_errors: u64,
}

impl SinkStats {
    /// Spans lost so far: dropped or failed.
    pub fn lost(&self) -> u64 {
        self.dropped + self.failed
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    enqueued: AtomicU64,
    max_queued: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    export_errors: AtomicU64,
}

/// A shared view of a sink's counters.
#[derive(Debug, Clone)]
pub(crate) struct StatsHandle {
    sink: &'static str,
    capacity: usize,
    counters: Arc<Counters>,
}

impl StatsHandle {
    pub(crate) fn snapshot(&self) -> SinkStats {
        let c = &self.counters;
        let exported = c.exported.load(Ordering::Relaxed);
        let failed = c.failed.load(Ordering::Relaxed);
        let enqueued = c.enqueued.load(Ordering::Relaxed);
        SinkStats {
            sink: self.sink,
            capacity: self.capacity,
            queued: enqueued.saturating_sub(exported + failed),
            max_queued: c.max_queued.load(Ordering::Relaxed),
            exported,
            failed,
            dropped: c.dropped.load(Ordering::Relaxed),
            export_errors: c.export_errors.load(Ordering::Relaxed),
        }
    }
}

/// How the worker drives an exporter's future.
#[derive(Debug, Clone)]
pub(crate) enum Driver {
    /// Polls it on the worker thread (exporters that do their work inline).
    Inline,
    /// Runs it on a Tokio runtime, with the configured timeout.
    #[cfg(feature = "otlp")]
    Tokio(Arc<tokio::runtime::Runtime>),
}

enum Control {
    Flush(std::sync::mpsc::SyncSender<OTelSdkResult>),
    Shutdown(std::sync::mpsc::SyncSender<OTelSdkResult>),
    SetResource(Resource),
}

struct State {
    queue: VecDeque<SpanData>,
    controls: Vec<Control>,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    counters: Arc<Counters>,
    config: QueueConfig,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A span processor with a bounded queue and a background batch exporter.
///
/// Use it to put any [`SpanExporter`] into an `SdkTracerProvider`; the
/// ragtrace sinks ([`StoreExporter`](super::StoreExporter),
/// [`ConsoleExporter`](super::ConsoleExporter), OTLP) all run behind one.
/// Drops and failed exports are counted ([`stats`](Self::stats)), logged at
/// most every few seconds as a `WARN` event with target
/// `ragtrace::telemetry`, and added to the OpenTelemetry counter
/// `ragtrace.telemetry.spans.lost` (attributes `ragtrace.sink` and
/// `reason`).
pub struct QueueProcessor {
    name: &'static str,
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
    reporter: Arc<Reporter>,
}

impl std::fmt::Debug for QueueProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueProcessor")
            .field("name", &self.name)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl QueueProcessor {
    /// Starts a processor named `name` (used in reports) that exports to
    /// `exporter`, polling its futures on the worker thread.
    pub fn new<E>(name: &'static str, exporter: E, config: QueueConfig) -> QueueProcessor
    where
        E: SpanExporter + 'static,
    {
        QueueProcessor::start(name, exporter, config, Driver::Inline, Arc::default())
    }

    pub(crate) fn start<E>(
        name: &'static str,
        exporter: E,
        config: QueueConfig,
        driver: Driver,
        reporter: Arc<Reporter>,
    ) -> QueueProcessor
    where
        E: SpanExporter + 'static,
    {
        let counters = Arc::new(Counters::default());
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::with_capacity(config.capacity.min(4096)),
                controls: Vec::new(),
                closed: false,
            }),
            wake: Condvar::new(),
            counters,
            config,
        });
        let worker = Worker {
            name,
            shared: Arc::clone(&shared),
            exporter,
            driver,
            reporter: Arc::clone(&reporter),
            reported: Reported::default(),
            failing_since: None,
        };
        let handle = std::thread::Builder::new()
            .name(format!("ragtrace-{name}"))
            .spawn(move || worker.run());
        let worker = match handle {
            Ok(handle) => Some(handle),
            Err(error) => {
                // Without a worker nothing drains the queue: close it so
                // every span is counted as dropped instead of piling up.
                shared.lock().closed = true;
                reporter.warn(name, &format!("could not start its worker thread: {error}"));
                None
            }
        };
        QueueProcessor {
            name,
            shared,
            worker: Mutex::new(worker),
            reporter,
        }
    }

    /// What this sink has done so far.
    pub fn stats(&self) -> SinkStats {
        self.stats_handle().snapshot()
    }

    pub(crate) fn stats_handle(&self) -> StatsHandle {
        StatsHandle {
            sink: self.name,
            capacity: self.shared.config.capacity,
            counters: Arc::clone(&self.shared.counters),
        }
    }

    fn request(
        &self,
        make: impl FnOnce(std::sync::mpsc::SyncSender<OTelSdkResult>) -> Control,
        timeout: Duration,
    ) -> OTelSdkResult {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        {
            let mut state = self.shared.lock();
            if state.closed {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            state.controls.push(make(tx));
        }
        self.shared.wake.notify_all();
        match rx.recv_timeout(timeout) {
            Ok(result) => result,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(OTelSdkError::Timeout(timeout)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(
                OTelSdkError::InternalFailure(format!("the {} worker is gone", self.name)),
            ),
        }
    }
}

impl SpanProcessor for QueueProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        let counters = &self.shared.counters;
        let mut state = self.shared.lock();
        if state.closed || state.queue.len() >= self.shared.config.capacity {
            drop(state);
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        state.queue.push_back(span);
        let len = state.queue.len();
        drop(state);
        counters.enqueued.fetch_add(1, Ordering::Relaxed);
        counters.max_queued.fetch_max(len as u64, Ordering::Relaxed);
        if len == self.shared.config.batch_size {
            self.shared.wake.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        let timeout = self.shared.config.export_timeout + Duration::from_secs(1);
        self.request(Control::Flush, timeout)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        if self.shared.lock().closed {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let result = self.request(Control::Shutdown, timeout);
        let mut state = self.shared.lock();
        state.closed = true;
        if result.is_err() {
            // The worker is stuck (a dead endpoint); what is still queued
            // will not be exported. Count it now, so the totals add up.
            let abandoned = state.queue.len() as u64;
            state.queue.clear();
            drop(state);
            let counters = &self.shared.counters;
            counters.dropped.fetch_add(abandoned, Ordering::Relaxed);
            counters.enqueued.fetch_sub(abandoned, Ordering::Relaxed);
        } else {
            drop(state);
            if let Some(handle) = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = handle.join();
            }
        }
        self.reporter.final_report(&self.stats());
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.shared
            .lock()
            .controls
            .push(Control::SetResource(resource.clone()));
        self.shared.wake.notify_all();
    }
}

impl Drop for QueueProcessor {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.closed = true;
        drop(state);
        self.shared.wake.notify_all();
    }
}

/// What was last reported, to report only changes.
#[derive(Default)]
struct Reported {
    dropped: u64,
    failed: u64,
    at: Option<Instant>,
}

struct Worker<E> {
    name: &'static str,
    shared: Arc<Shared>,
    exporter: E,
    driver: Driver,
    reporter: Arc<Reporter>,
    reported: Reported,
    /// Export errors since the last success.
    failing_since: Option<u64>,
}

impl<E: SpanExporter> Worker<E> {
    fn run(mut self) {
        // Work done here (an exporter's own HTTP client, say) must not be
        // traced back into the pipeline.
        let _suppressed = Context::enter_telemetry_suppressed_scope();
        let config = self.shared.config;
        let mut deadline = Instant::now() + config.flush_interval;
        loop {
            let (batch, controls, closed) = {
                let mut state = self.shared.lock();
                loop {
                    if !state.controls.is_empty()
                        || state.closed
                        || state.queue.len() >= config.batch_size
                    {
                        break;
                    }
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    state = self
                        .shared
                        .wake
                        .wait_timeout(state, deadline - now)
                        .map(|(guard, _)| guard)
                        .unwrap_or_else(|poisoned| poisoned.into_inner().0);
                }
                let n = state.queue.len().min(config.batch_size);
                let batch: Vec<SpanData> = state.queue.drain(..n).collect();
                (batch, std::mem::take(&mut state.controls), state.closed)
            };
            // The resource first: spans queued with it are exported with it.
            let mut stop = closed && controls.is_empty();
            let mut rest = Vec::with_capacity(controls.len());
            for control in controls {
                match control {
                    Control::SetResource(resource) => self.exporter.set_resource(&resource),
                    other => rest.push(other),
                }
            }
            if !batch.is_empty() {
                let _ = self.export(batch);
            }
            if Instant::now() >= deadline {
                deadline = Instant::now() + config.flush_interval;
            }
            for control in rest {
                match control {
                    Control::SetResource(_) => {}
                    Control::Flush(ack) => {
                        let result = self.drain();
                        let _ = ack.send(result.and_then(|()| self.exporter.force_flush()));
                    }
                    Control::Shutdown(ack) => {
                        let result = self.drain();
                        let _ = self.exporter.shutdown();
                        let _ = ack.send(result);
                        stop = true;
                    }
                }
            }
            self.report(stop);
            if stop {
                if closed && !self.shared.lock().queue.is_empty() {
                    // Dropped without a shutdown: export what is left.
                    let _ = self.drain();
                }
                return;
            }
        }
    }

    /// Exports everything queued; fails if any batch failed.
    fn drain(&mut self) -> OTelSdkResult {
        let mut result = Ok(());
        loop {
            let batch: Vec<SpanData> = {
                let mut state = self.shared.lock();
                let n = state.queue.len().min(self.shared.config.batch_size);
                state.queue.drain(..n).collect()
            };
            if batch.is_empty() {
                return result;
            }
            if let Err(error) = self.export(batch) {
                result = Err(error);
            }
        }
    }

    fn export(&mut self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len() as u64;
        let result = match &self.driver {
            Driver::Inline => futures_executor::block_on(self.exporter.export(batch)),
            #[cfg(feature = "otlp")]
            Driver::Tokio(runtime) => {
                let timeout = self.shared.config.export_timeout;
                let export = self.exporter.export(batch);
                runtime.block_on(async move {
                    match tokio::time::timeout(timeout, export).await {
                        Ok(result) => result,
                        Err(_) => Err(OTelSdkError::Timeout(timeout)),
                    }
                })
            }
        };
        let counters = &self.shared.counters;
        match &result {
            Ok(()) => {
                counters.exported.fetch_add(n, Ordering::Relaxed);
                if let Some(errors) = self.failing_since.take() {
                    self.reporter.recovered(self.name, errors);
                }
            }
            Err(error) => {
                counters.failed.fetch_add(n, Ordering::Relaxed);
                counters.export_errors.fetch_add(1, Ordering::Relaxed);
                let errors = self.failing_since.get_or_insert(0);
                *errors += 1;
                if *errors == 1 {
                    self.reporter.export_failed(self.name, n, error);
                }
            }
        }
        result
    }

    /// Reports new losses, at most once per report interval (or now, when
    /// `force`d at the end).
    fn report(&mut self, force: bool) {
        let stats = StatsHandle {
            sink: self.name,
            capacity: self.shared.config.capacity,
            counters: Arc::clone(&self.shared.counters),
        }
        .snapshot();
        if stats.dropped == self.reported.dropped && stats.failed == self.reported.failed {
            return;
        }
        if let Some(at) = self.reported.at
            && at.elapsed() < self.reporter.interval()
            && !force
        {
            return;
        }
        let new_dropped = stats.dropped - self.reported.dropped;
        let new_failed = stats.failed - self.reported.failed;
        self.reporter.lost(&stats, new_dropped, new_failed);
        self.reported = Reported {
            dropped: stats.dropped,
            failed: stats.failed,
            at: Some(Instant::now()),
        };
    }
}

/// Attributes of the loss counter.
pub(crate) fn loss_attributes(sink: &'static str, reason: &'static str) -> [KeyValue; 2] {
    [
        KeyValue::new("ragtrace.sink", sink),
        KeyValue::new("reason", reason),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use std::sync::atomic::AtomicBool;
    use std::time::SystemTime;

    fn span() -> SpanData {
        SpanData {
            span_context: SpanContext::empty_context(),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "s".into(),
            start_time: SystemTime::now(),
            end_time: SystemTime::now(),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::default(),
        }
    }

    /// An exporter that blocks while `gate` is closed and fails while `fail` is set.
    #[derive(Debug, Clone, Default)]
    struct Gated {
        open: Arc<(Mutex<bool>, Condvar)>,
        fail: Arc<AtomicBool>,
        seen: Arc<AtomicU64>,
    }

    impl Gated {
        fn open(&self) {
            *self.open.0.lock().unwrap() = true;
            self.open.1.notify_all();
        }
    }

    impl SpanExporter for Gated {
        fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
            let (lock, cv) = &*self.open;
            let mut open = lock.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
            self.seen.fetch_add(batch.len() as u64, Ordering::Relaxed);
            let result = if self.fail.load(Ordering::Relaxed) {
                Err(OTelSdkError::InternalFailure("backend down".into()))
            } else {
                Ok(())
            };
            std::future::ready(result)
        }
    }

    fn config() -> QueueConfig {
        QueueConfig::new()
            .capacity(100)
            .batch_size(10)
            .flush_interval(Duration::from_millis(10))
    }

    #[test]
    fn a_stuck_exporter_fills_the_queue_and_the_rest_is_dropped_and_counted() {
        let exporter = Gated::default();
        let processor = QueueProcessor::new("test", exporter.clone(), config());
        for _ in 0..1000 {
            processor.on_end(span());
        }
        let stats = processor.stats();
        assert!(stats.max_queued <= 100, "{stats:?}");
        // At most one batch left the queue (and is stuck in the exporter).
        assert!(stats.dropped >= 890 && stats.dropped <= 900, "{stats:?}");
        assert_eq!(stats.exported, 0);
        exporter.open();
        processor.force_flush().unwrap();
        let stats = processor.stats();
        assert_eq!(stats.exported + stats.dropped, 1000, "{stats:?}");
        assert_eq!(stats.queued, 0);
        processor.shutdown().unwrap();
        processor.on_end(span());
        assert_eq!(
            processor.stats().dropped,
            stats.dropped + 1,
            "after shutdown: dropped"
        );
    }

    #[test]
    fn failed_exports_are_counted_and_later_batches_recover() {
        let exporter = Gated::default();
        exporter.open();
        exporter.fail.store(true, Ordering::Relaxed);
        let processor = QueueProcessor::new("test", exporter.clone(), config());
        for _ in 0..25 {
            processor.on_end(span());
        }
        assert!(processor.force_flush().is_err());
        let stats = processor.stats();
        assert_eq!((stats.failed, stats.exported), (25, 0), "{stats:?}");
        assert_eq!(stats.export_errors, 3);
        exporter.fail.store(false, Ordering::Relaxed);
        for _ in 0..25 {
            processor.on_end(span());
        }
        processor.force_flush().unwrap();
        let stats = processor.stats();
        assert_eq!((stats.failed, stats.exported, stats.lost()), (25, 25, 25));
    }

    #[test]
    fn shutting_down_with_a_stuck_exporter_times_out_and_counts_what_is_left() {
        let exporter = Gated::default();
        let processor = QueueProcessor::new("test", exporter.clone(), config());
        for _ in 0..50 {
            processor.on_end(span());
        }
        let result = processor.shutdown_with_timeout(Duration::from_millis(100));
        assert!(
            matches!(result, Err(OTelSdkError::Timeout(_))),
            "{result:?}"
        );
        let stats = processor.stats();
        // One batch is in the exporter's hands; the rest were abandoned.
        assert_eq!(stats.dropped + stats.queued, 50, "{stats:?}");
        assert!(stats.dropped >= 40, "{stats:?}");
        exporter.open();
        assert!(matches!(
            processor.shutdown(),
            Err(OTelSdkError::AlreadyShutdown)
        ));
    }
}
