//! [`Traced`]: the wrapper, and the scope every wrapped call runs in.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::trace::Status;
use tracing::Span;

use super::attrs::{Attrs, recording_context};
use super::capture::error_description;
use super::context::current_ledger;
use super::keys;
use super::ledger::{Ledger, Outcome};
use super::options::Options;
use crate::pricing::{Cost, PriceRequest};
use crate::steps::{StepKind, Usage};

/// Wraps a step implementation and emits one span per call.
///
/// `Traced<T>` implements every step trait `T` implements
/// ([`Embedder`](crate::steps::Embedder), [`Retriever`](crate::steps::Retriever),
/// [`PromptBuilder`](crate::steps::PromptBuilder),
/// [`ChatModel`](crate::steps::ChatModel)), so it drops in where `T` was. Each
/// call returns exactly what the inner call returned; measuring, pricing and
/// exporting never turn into an error or a panic for the caller.
///
/// ```
/// use ragtrace::instrument::{Traced, TracedExt};
/// use ragtrace::steps::{Embedder, Embeddings};
///
/// struct Zeros;
/// impl Embedder for Zeros {
///     type Error = std::io::Error;
///     async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, Self::Error> {
///         Ok(Embeddings::new(vec![vec![0.0; 8]; inputs.len()]))
///     }
/// }
///
/// let embedder: Traced<Zeros> = Zeros.traced();
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let out = embedder.embed(&["hello"]).await.unwrap();
/// assert_eq!(out.dimension(), Some(8));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Traced<T> {
    pub(crate) inner: T,
    options: Option<Arc<Options>>,
}

impl<T> Traced<T> {
    /// Wraps `inner`, using the process-wide [`Options`].
    pub fn new(inner: T) -> Self {
        Traced {
            inner,
            options: None,
        }
    }

    /// Uses these options instead of the process-wide ones.
    pub fn with_options(mut self, options: impl Into<Arc<Options>>) -> Self {
        self.options = Some(options.into());
        self
    }

    /// The wrapped implementation.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// Unwraps.
    pub fn into_inner(self) -> T {
        self.inner
    }

    pub(crate) fn options(&self) -> &Arc<Options> {
        self.options.as_ref().unwrap_or_else(|| Options::current())
    }
}

/// `.traced()` on anything: wraps it in [`Traced`].
pub trait TracedExt: Sized {
    /// Wraps `self` in [`Traced`] with the process-wide options.
    fn traced(self) -> Traced<Self> {
        Traced::new(self)
    }
}

impl<T> TracedExt for T {}

/// Formats an exported span name like `chat gpt-4o` only if a subscriber asks.
pub(crate) struct SpanName<'a>(pub(crate) &'static str, pub(crate) Option<&'a str>);

impl std::fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(detail) => write!(f, "{} {}", self.0, detail),
            None => f.write_str(self.0),
        }
    }
}

pin_project_lite::pin_project! {
    /// Polls `inner` inside `span`, borrowing the span the scope owns (one
    /// handle per call instead of two).
    pub(crate) struct InSpan<'s, F> {
        span: &'s Span,
        #[pin]
        inner: F,
    }
}

impl<'s, F> InSpan<'s, F> {
    pub(crate) fn new(span: &'s Span, inner: F) -> Self {
        InSpan { span, inner }
    }
}

impl<F: std::future::Future> std::future::Future for InSpan<'_, F> {
    type Output = F::Output;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        this.inner.poll(cx)
    }
}

/// `true` when no call made now can be observed: no subscriber anywhere
/// wants spans at `INFO` (one atomic load) and no request runs on this
/// thread. The wrappers then call the inner step at once, without asking
/// it to describe itself or building a span to find out.
#[inline]
pub(crate) fn nobody_listens() -> bool {
    !tracing::level_enabled!(tracing::Level::INFO) && !super::context::in_local_request()
}

/// One wrapped call: its span, its clock, and the request it adds to.
///
/// Finishing records the outcome once; dropping an unfinished scope records
/// a cancelled call (the caller dropped the future or stream).
///
/// Kept small: it lives inside every traced future, which is moved on each
/// `.await`.
pub(crate) struct StepScope<'o> {
    kind: StepKind,
    finished: bool,
    pub(crate) span: Span,
    /// Borrowed from the wrapper for a plain call (an atomic clone and drop
    /// per call is measurable here); owned by a stream, which outlives it.
    pub(crate) options: Cow<'o, Arc<Options>>,
    ledger: Option<Arc<Ledger>>,
    started: Option<Instant>,
}

impl<'o> StepScope<'o> {
    /// Starts observing a call, or returns `None` when nobody would read
    /// what it measured (no subscriber records the span and no request is
    /// running): then the call runs bare.
    pub(crate) fn start(
        kind: StepKind,
        span: Span,
        options: &'o Arc<Options>,
    ) -> Option<StepScope<'o>> {
        let enabled = super::attrs::is_recorded(&span);
        let ledger = current_ledger(enabled);
        if !enabled && ledger.is_none() {
            return None;
        }
        Some(StepScope {
            kind,
            finished: false,
            span,
            options: Cow::Borrowed(options),
            ledger,
            started: Some(Instant::now()),
        })
    }

    /// The same scope, owning its options, for a stream that outlives the call.
    pub(crate) fn into_owned(mut self) -> StepScope<'static> {
        let owned = StepScope {
            kind: self.kind,
            finished: false,
            span: std::mem::replace(&mut self.span, Span::none()),
            options: Cow::Owned(Arc::clone(&self.options)),
            ledger: self.ledger.take(),
            started: self.started,
        };
        // This husk has handed everything over; its drop must not record.
        self.finished = true;
        owned
    }

    /// `true` when an OpenTelemetry layer records the span, so attributes
    /// are worth building.
    pub(crate) fn recording(&self) -> bool {
        recording_context(&self.span).is_some()
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.map(|s| s.elapsed()).unwrap_or_default()
    }

    /// When the call started, on the wall clock (for pricing): derived from
    /// the request's anchor when there is one, so no second clock is read.
    fn started_at(&self) -> SystemTime {
        match (&self.ledger, self.started) {
            (Some(ledger), Some(started)) => ledger.wall_clock_at(started),
            (None, Some(started)) => SystemTime::now()
                .checked_sub(started.elapsed())
                .unwrap_or(SystemTime::UNIX_EPOCH),
            _ => SystemTime::now(),
        }
    }

    /// Prices `usage` of `model` with the configured pricer.
    pub(crate) fn price(
        &self,
        model: Option<&str>,
        provider: Option<&str>,
        usage: &Usage,
        service_tier: Option<&str>,
    ) -> Cost {
        let (Some(pricer), Some(model)) = (&self.options.pricer, model) else {
            return Cost::unpriced();
        };
        let mut request = PriceRequest::new(model, self.kind, usage, self.started_at());
        request.provider = provider;
        request.service_tier = service_tier;
        pricer.price(&request)
    }

    /// Records a successful call. `attrs` is called only when the span records.
    pub(crate) fn succeed(
        mut self,
        usage: Option<&Usage>,
        cost: Option<&Cost>,
        attrs: impl FnOnce(&mut Attrs),
    ) {
        self.finish(Outcome::Ok, usage, cost, attrs, None);
    }

    /// Records a failed call: `error.type`, an error status with `message`,
    /// and an OpenTelemetry `exception` event (`exception.type` is the Rust
    /// type of the error, `exception.message` the same text as the status).
    pub(crate) fn fail(
        mut self,
        error_type: Cow<'static, str>,
        exception_type: &'static str,
        message: &dyn std::fmt::Display,
        usage: Option<&Usage>,
        cost: Option<&Cost>,
        attrs: impl FnOnce(&mut Attrs),
    ) {
        self.finish(
            Outcome::Failed,
            usage,
            cost,
            |a| {
                a.str(keys::ERROR_TYPE, error_type.into_owned());
                attrs(a);
            },
            Some((exception_type, message)),
        );
    }

    /// Records a call the caller abandoned.
    pub(crate) fn cancel(
        mut self,
        usage: Option<&Usage>,
        cost: Option<&Cost>,
        attrs: impl FnOnce(&mut Attrs),
    ) {
        self.finish(
            Outcome::Cancelled,
            usage,
            cost,
            |a| {
                a.bool(keys::RAGTRACE_CANCELLED, true);
                attrs(a);
            },
            None,
        );
    }

    fn finish(
        &mut self,
        outcome: Outcome,
        usage: Option<&Usage>,
        cost: Option<&Cost>,
        attrs: impl FnOnce(&mut Attrs),
        error: Option<(&'static str, &dyn std::fmt::Display)>,
    ) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let duration = self.elapsed();
        if let Some(ledger) = &self.ledger {
            ledger.record(self.kind, outcome, duration, usage, cost);
        }
        if let Some(cx) = recording_context(&self.span) {
            let mut a = Attrs::with_capacity(48);
            a.str(keys::RAGTRACE_STEP, self.kind.as_str());
            attrs(&mut a);
            match error {
                Some((exception_type, message)) => {
                    let message = error_description(&message.to_string());
                    a.emit(&cx, Some(Status::error(message.clone())));
                    Attrs::exception(&cx, exception_type, message);
                }
                None => a.emit(&cx, None),
            }
        }
    }
}

impl Drop for StepScope<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(
                Outcome::Cancelled,
                None,
                None,
                |a| a.bool(keys::RAGTRACE_CANCELLED, true),
                None,
            );
        }
    }
}
