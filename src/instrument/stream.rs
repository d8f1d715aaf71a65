//! [`TracedStream`]: a streamed answer whose span lives as long as the stream.

use std::borrow::Cow;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use futures_core::Stream;

use super::attrs::Attrs;
use super::chat::{answer_attrs, estimate, response_attrs};
use super::keys;
use super::traced::StepScope;
use crate::steps::{ChatChunk, Message, Usage};

/// Model, provider and tier a stream is priced with, owned by the stream.
pub(crate) struct StreamPricing {
    pub(crate) model: Option<String>,
    pub(crate) provider: Option<String>,
    pub(crate) service_tier: Option<String>,
}

pin_project_lite::pin_project! {
    /// The stream [`Traced`](super::Traced) returns from `chat_stream`.
    ///
    /// It yields exactly the inner stream's items. Along the way it records
    /// the time to the first chunk and the usage the provider reports (usually
    /// on the last chunk). Its span closes when the stream ends, or when it
    /// is dropped early: then the span is marked `ragtrace.cancelled` and
    /// carries what was counted so far.
    pub struct TracedStream<S, E> {
        #[pin]
        inner: S,
        // `None` when nobody observes the call: the stream is passed through.
        state: Option<StreamState<E>>,
    }
}

impl<S, E> TracedStream<S, E> {
    pub(crate) fn new(
        inner: S,
        scope: StepScope<'static>,
        classify: fn(&E) -> Cow<'static, str>,
        pricing: StreamPricing,
        pending: Option<Attrs>,
        messages: Option<Vec<Message>>,
    ) -> Self {
        let collect_text = messages.is_some() || scope.options.capture.is_on();
        TracedStream {
            inner,
            state: Some(StreamState {
                scope: Some(scope),
                classify,
                pricing,
                pending,
                messages,
                text: collect_text.then(String::new),
                first_chunk: None,
                model: None,
                id: None,
                finish_reasons: Vec::new(),
                usage: None,
                service_tier: None,
                error: None,
            }),
        }
    }

    /// The inner stream, unobserved.
    pub(crate) fn bare(inner: S) -> Self {
        TracedStream { inner, state: None }
    }
}

impl<S, E> Stream for TracedStream<S, E>
where
    S: Stream<Item = Result<ChatChunk, E>>,
    E: std::fmt::Display,
{
    type Item = Result<ChatChunk, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let Some(state) = this.state.as_mut() else {
            return this.inner.poll_next(cx);
        };
        let Some(span) = state.scope.as_ref().map(|s| s.span.clone()) else {
            // Finished already; keep forwarding whatever the inner stream does.
            return this.inner.poll_next(cx);
        };
        let _entered = span.enter();
        let polled = this.inner.poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => state.observe(chunk),
            Poll::Ready(Some(Err(error))) => {
                state.error = Some(((state.classify)(error), error.to_string()));
            }
            Poll::Ready(None) => state.finish(End::Exhausted),
            Poll::Pending => {}
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

struct StreamState<E> {
    scope: Option<StepScope<'static>>,
    classify: fn(&E) -> Cow<'static, str>,
    pricing: StreamPricing,
    pending: Option<Attrs>,
    messages: Option<Vec<Message>>,
    text: Option<String>,
    first_chunk: Option<(Duration, SystemTime)>,
    model: Option<String>,
    id: Option<String>,
    finish_reasons: Vec<String>,
    usage: Option<Usage>,
    service_tier: Option<String>,
    error: Option<(Cow<'static, str>, String)>,
}

enum End {
    Exhausted,
    Dropped,
}

impl<E> StreamState<E> {
    fn observe(&mut self, chunk: &ChatChunk) {
        if self.first_chunk.is_none() {
            let elapsed = self.scope.as_ref().map(|s| s.elapsed()).unwrap_or_default();
            self.first_chunk = Some((elapsed, SystemTime::now()));
        }
        if let Some(text) = &mut self.text {
            text.push_str(&chunk.delta);
        }
        if chunk.model.is_some() && self.model.is_none() {
            self.model.clone_from(&chunk.model);
        }
        if chunk.id.is_some() && self.id.is_none() {
            self.id.clone_from(&chunk.id);
        }
        if let Some(reason) = &chunk.finish_reason {
            self.finish_reasons.push(reason.clone());
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        if chunk.service_tier.is_some() {
            self.service_tier.clone_from(&chunk.service_tier);
        }
    }

    fn finish(&mut self, end: End) {
        let Some(scope) = self.scope.take() else {
            return;
        };
        let model = self.model.as_deref().or(self.pricing.model.as_deref());
        let text = self.text.as_deref().unwrap_or("");
        let usage = self.usage.or_else(|| {
            let messages = self.messages.as_deref()?;
            estimate(&scope.options, model, messages, text)
        });
        let tier = self
            .service_tier
            .as_deref()
            .or(self.pricing.service_tier.as_deref());
        let cost = usage
            .as_ref()
            .map(|u| scope.price(model, self.pricing.provider.as_deref(), u, tier));
        let options = std::sync::Arc::clone(&*scope.options);
        let pending = self.pending.take();
        let attrs = |a: &mut Attrs| {
            if let Some(pending) = pending {
                a.extend(pending);
            }
            a.opt_str(keys::LLM_MODEL_NAME, model);
            response_attrs(
                a,
                self.model.as_deref(),
                self.id.as_deref(),
                &self.finish_reasons,
                self.service_tier.as_deref(),
            );
            if let Some((elapsed, at)) = self.first_chunk {
                a.float(
                    keys::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
                    elapsed.as_secs_f64(),
                );
                a.str(
                    keys::LANGFUSE_OBSERVATION_COMPLETION_START_TIME,
                    humantime::format_rfc3339_micros(at).to_string(),
                );
            }
            if let Some(usage) = &usage {
                a.usage(usage, true);
            }
            if let Some(cost) = &cost {
                a.cost(cost);
            }
            if options.capture.is_on() {
                answer_attrs(
                    a,
                    &options,
                    text,
                    self.finish_reasons.first().map(String::as_str),
                );
            }
        };
        match (self.error.take(), end) {
            (Some((error_type, message)), _) => scope.fail(
                error_type,
                std::any::type_name::<E>(),
                &message,
                usage.as_ref(),
                cost.as_ref(),
                attrs,
            ),
            (None, End::Exhausted) => scope.succeed(usage.as_ref(), cost.as_ref(), attrs),
            (None, End::Dropped) => scope.cancel(usage.as_ref(), cost.as_ref(), attrs),
        }
    }
}

impl<E> Drop for StreamState<E> {
    fn drop(&mut self) {
        self.finish(End::Dropped);
    }
}
