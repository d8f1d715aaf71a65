//! Which request a step belongs to.
//!
//! A request's ledger travels two ways, so that steps find it with or without
//! a tracing subscriber:
//! 1. a thread-local set while a request's future (or a future bound to it
//!    with [`InRequest`]) is being polled: covers `.await`, `join!` and
//!    `select!` inside [`Request::run`](super::Request::run);
//! 2. an extension on the root span in the `tracing-subscriber` registry:
//!    covers work spawned with the span passed on
//!    (`tokio::spawn(fut.instrument(Span::current()))`).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tracing::Span;
use tracing::instrument::{Instrument, Instrumented};
use tracing_subscriber::registry::{LookupSpan, Registry};

use super::ledger::Ledger;

thread_local! {
    static CURRENT: RefCell<Option<Arc<Ledger>>> = const { RefCell::new(None) };
}

/// Marks a root span in the registry as the root of a request.
pub(crate) struct RequestMarker(pub(crate) Arc<Ledger>);

/// `true` when a request runs on this thread (its future is being polled).
pub(crate) fn in_local_request() -> bool {
    CURRENT
        .try_with(|current| current.borrow().is_some())
        .unwrap_or(false)
}

/// The ledger of the request the caller is in, if any. The span tree is
/// searched only when `walk_spans` (the caller's own span is recorded: a
/// disabled step span means no subscriber records ragtrace spans, so no root
/// span carries a marker either).
pub(crate) fn current_ledger(walk_spans: bool) -> Option<Arc<Ledger>> {
    let local = CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten();
    match local {
        Some(ledger) => Some(ledger),
        None if walk_spans => ledger_from_span_tree(),
        None => None,
    }
}

/// Walks from the current span to the root looking for a request marker.
fn ledger_from_span_tree() -> Option<Arc<Ledger>> {
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let current = dispatch.current_span();
        let id = current.id()?;
        let span = registry.span(id)?;
        span.scope()
            .find_map(|s| s.extensions().get::<RequestMarker>().map(|m| m.0.clone()))
    })
}

/// Puts a request marker on `span` when a registry-based subscriber records it.
pub(crate) fn mark_root(span: &Span, ledger: &Arc<Ledger>) {
    let Some(id) = span.id() else { return };
    tracing::dispatcher::get_default(|dispatch| {
        if let Some(registry) = dispatch.downcast_ref::<Registry>()
            && let Some(root) = registry.span(&id)
        {
            root.extensions_mut()
                .insert(RequestMarker(Arc::clone(ledger)));
        }
    });
}

/// Sets the current ledger for the duration of one poll, restoring the
/// previous one afterwards (also on panic).
struct Scoped {
    previous: Option<Arc<Ledger>>,
}

impl Scoped {
    fn enter(ledger: &Arc<Ledger>) -> Scoped {
        let previous = CURRENT
            .try_with(|current| current.replace(Some(Arc::clone(ledger))))
            .ok()
            .flatten();
        Scoped { previous }
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}

pin_project_lite::pin_project! {
    /// A future bound to a request: steps it runs add to that request's
    /// totals, wherever it is polled. Made by
    /// [`RequestFutureExt::in_current_request`].
    pub struct InRequest<F> {
        #[pin]
        inner: Instrumented<F>,
        ledger: Option<Arc<Ledger>>,
    }
}

impl<F> InRequest<F> {
    pub(crate) fn new(inner: F, span: Span, ledger: Option<Arc<Ledger>>) -> Self {
        InRequest {
            inner: inner.instrument(span),
            ledger,
        }
    }
}

impl<F: Future> Future for InRequest<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _scope = this.ledger.as_ref().map(Scoped::enter);
        this.inner.poll(cx)
    }
}

/// Binds futures to the current request, for work handed to `tokio::spawn`
/// or another executor.
///
/// ```
/// use ragtrace::instrument::RequestFutureExt;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let request = ragtrace::request("answer");
/// request
///     .run(async {
///         // Steps inside the spawned task count towards this request and
///         // their spans are children of its root span.
///         let task = tokio::spawn(async { /* traced steps */ }.in_current_request());
///         task.await.unwrap();
///     })
///     .await;
/// # }
/// ```
pub trait RequestFutureExt: Future + Sized {
    /// Binds this future to the current request and the current span.
    fn in_current_request(self) -> InRequest<Self> {
        InRequest::new(self, Span::current(), current_ledger(true))
    }
}

impl<F: Future> RequestFutureExt for F {}
