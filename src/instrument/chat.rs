//! `Traced<T>` as a [`ChatModel`]: one `chat {model}` span per call; a
//! streamed call's span lives as long as its stream (see [`TracedStream`]).

use std::borrow::Cow;
use std::future::Future;

use futures_util::TryFutureExt;
use futures_util::future::Either;

use super::attrs::Attrs;
use super::options::Options;
use super::stream::{StreamPricing, TracedStream};
use super::traced::{InSpan, SpanName, StepScope, Traced, nobody_listens};
use super::{keys, shared};
use crate::steps::{ChatModel, ChatRequest, Completion, Message, StepInfo, StepKind, Usage};
use opentelemetry::StringValue;

impl<T: ChatModel> ChatModel for Traced<T> {
    type Error = T::Error;
    type Stream = TracedStream<T::Stream, T::Error>;

    fn chat(
        &self,
        request: &ChatRequest,
    ) -> impl Future<Output = Result<Completion, T::Error>> + Send {
        let call = self.inner.chat(request);
        if nobody_listens() {
            return Either::Left(call);
        }
        let info = self.inner.describe();
        let span = chat_span(&info);
        let Some(scope) = StepScope::start(StepKind::Chat, span, self.options()) else {
            return Either::Left(call);
        };
        // Boxed so that an unobserved call's future stays as small as the inner one.
        Either::Right(Box::pin(async move {
            let result = InSpan::new(&scope.span, call).await;
            let options = self.options();
            match &result {
                Ok(completion) => {
                    let model = completion.model.as_deref().or(info.model);
                    let usage = completion.usage.or_else(|| {
                        estimate(options, model, &request.messages, &completion.content)
                    });
                    let tier = completion
                        .service_tier
                        .as_deref()
                        .or(request.service_tier.as_deref());
                    let cost = usage
                        .as_ref()
                        .map(|u| scope.price(model, info.provider, u, tier));
                    scope.succeed(usage.as_ref(), cost.as_ref(), |a| {
                        request_attrs(a, &info, request, options, false);
                        a.opt_str(keys::LLM_MODEL_NAME, model);
                        response_attrs(
                            a,
                            completion.model.as_deref(),
                            completion.id.as_deref(),
                            &completion.finish_reasons,
                            completion.service_tier.as_deref(),
                        );
                        if let Some(usage) = &usage {
                            a.usage(usage, true);
                        }
                        if let Some(cost) = &cost {
                            a.cost(cost);
                        }
                        if options.capture.is_on() {
                            answer_attrs(
                                a,
                                options,
                                &completion.content,
                                completion.finish_reasons.first().map(String::as_str),
                            );
                        }
                    });
                }
                Err(error) => scope.fail(
                    T::error_type(error),
                    std::any::type_name::<T::Error>(),
                    error,
                    None,
                    None,
                    |a| {
                        request_attrs(a, &info, request, options, false);
                        a.opt_str(keys::LLM_MODEL_NAME, info.model);
                    },
                ),
            }
            result
        }))
    }

    fn chat_stream(
        &self,
        request: &ChatRequest,
    ) -> impl Future<Output = Result<Self::Stream, T::Error>> + Send {
        let call = self.inner.chat_stream(request);
        let observed = if nobody_listens() {
            None
        } else {
            let info = self.inner.describe();
            StepScope::start(StepKind::Chat, chat_span(&info), self.options())
                .map(|scope| (scope, info))
        };
        let Some((scope, info)) = observed else {
            return Either::Left(call.map_ok(TracedStream::bare as fn(T::Stream) -> Self::Stream));
        };
        Either::Right(Box::pin(async move {
            let opened = InSpan::new(&scope.span, call).await;
            let options = self.options();
            match opened {
                Ok(stream) => {
                    // The stream outlives this call, so it owns what it needs at the end.
                    let mut pending = scope.recording().then(|| Attrs::with_capacity(48));
                    if let Some(a) = pending.as_mut() {
                        request_attrs(a, &info, request, options, true);
                    }
                    let pricing = StreamPricing {
                        model: info.model.map(str::to_owned),
                        provider: info.provider.map(str::to_owned),
                        service_tier: request.service_tier.clone(),
                    };
                    let messages = options
                        .token_counter
                        .is_some()
                        .then(|| request.messages.clone());
                    Ok(TracedStream::new(
                        stream,
                        scope.into_owned(),
                        T::error_type,
                        pricing,
                        pending,
                        messages,
                    ))
                }
                Err(error) => {
                    scope.fail(
                        T::error_type(&error),
                        std::any::type_name::<T::Error>(),
                        &error,
                        None,
                        None,
                        |a| {
                            request_attrs(a, &info, request, options, true);
                            a.opt_str(keys::LLM_MODEL_NAME, info.model);
                        },
                    );
                    Err(error)
                }
            }
        }))
    }

    fn describe(&self) -> StepInfo<'_> {
        self.inner.describe()
    }

    fn error_type(error: &T::Error) -> Cow<'static, str> {
        T::error_type(error)
    }
}

fn chat_span(info: &StepInfo<'_>) -> tracing::Span {
    tracing::info_span!(
        target: "ragtrace",
        "chat",
        { keys::OTEL_NAME } = %SpanName("chat", info.model),
        { keys::OTEL_KIND } = "client",
        { keys::GEN_AI_OPERATION_NAME } = "chat",
        { keys::GEN_AI_REQUEST_MODEL } = info.model,
    )
}

/// What the caller asked for: provider, server, sampling parameters, aliases,
/// and the input messages when content capture is on.
pub(crate) fn request_attrs(
    a: &mut Attrs,
    info: &StepInfo<'_>,
    request: &ChatRequest,
    options: &Options,
    stream: bool,
) {
    shared::describe(a, info);
    a.str(keys::OPENINFERENCE_SPAN_KIND, keys::openinference_kind::LLM);
    a.str(keys::LANGFUSE_OBSERVATION_TYPE, "generation");
    a.opt_str(keys::LLM_PROVIDER, info.provider);
    a.bool(keys::GEN_AI_REQUEST_STREAM, stream);
    // What the request sets, else the model's own default: what was sent.
    if let Some(t) = request.temperature.or(info.temperature) {
        a.float(keys::GEN_AI_REQUEST_TEMPERATURE, t);
    }
    if let Some(m) = request.max_tokens.or(info.max_tokens) {
        a.int(keys::GEN_AI_REQUEST_MAX_TOKENS, u64::from(m));
    }
    if let Some(p) = request.top_p.or(info.top_p) {
        a.float(keys::GEN_AI_REQUEST_TOP_P, p);
    }
    if let Some(seed) = request.seed.or(info.seed) {
        a.signed(keys::GEN_AI_REQUEST_SEED, seed);
    }
    if !request.stop.is_empty() {
        a.strings(
            keys::GEN_AI_REQUEST_STOP_SEQUENCES,
            request
                .stop
                .iter()
                .cloned()
                .map(StringValue::from)
                .collect(),
        );
    }
    if options.capture.is_on() {
        let messages = shared::capture_messages(&options.capture, &request.messages);
        a.str(keys::GEN_AI_INPUT_MESSAGES, messages.clone());
        a.str(keys::INPUT_VALUE, messages);
    }
}

/// What the provider answered with, besides usage.
pub(crate) fn response_attrs(
    a: &mut Attrs,
    model: Option<&str>,
    id: Option<&str>,
    finish_reasons: &[String],
    service_tier: Option<&str>,
) {
    a.opt_str(keys::GEN_AI_RESPONSE_MODEL, model);
    a.opt_str(keys::GEN_AI_RESPONSE_ID, id);
    if !finish_reasons.is_empty() {
        a.strings(
            keys::GEN_AI_RESPONSE_FINISH_REASONS,
            finish_reasons
                .iter()
                .cloned()
                .map(StringValue::from)
                .collect(),
        );
    }
    a.opt_str(keys::GEN_AI_OPENAI_RESPONSE_SERVICE_TIER, service_tier);
}

/// The answer text, when content capture is on.
pub(crate) fn answer_attrs(a: &mut Attrs, options: &Options, text: &str, finish: Option<&str>) {
    a.str(
        keys::GEN_AI_OUTPUT_MESSAGES,
        shared::capture_answer(&options.capture, text, finish),
    );
    a.str(keys::OUTPUT_VALUE, options.capture.apply(text));
}

/// Counted usage when the provider reported none.
pub(crate) fn estimate(
    options: &Options,
    model: Option<&str>,
    messages: &[Message],
    answer: &str,
) -> Option<Usage> {
    let counter = options.token_counter.as_ref()?;
    let model = model?;
    let input = counter.count_messages(model, messages).tokens;
    let output = counter.count_text(model, answer).tokens;
    Some(Usage::new(input, output).with_estimated(true))
}
