//! `Traced<T>` as a [`PromptBuilder`]: one `prompt {template}` span per build.

use std::future::Future;

use futures_util::future::Either;

use super::attrs::Attrs;
use super::traced::{InSpan, SpanName, StepScope, Traced, nobody_listens};
use super::{keys, shared};
use crate::steps::{Hit, Prompt, PromptBuilder, StepKind};

impl<T: PromptBuilder> PromptBuilder for Traced<T> {
    type Error = T::Error;

    fn build(
        &self,
        question: &str,
        hits: &[Hit],
    ) -> impl Future<Output = Result<Prompt, T::Error>> + Send {
        let call = self.inner.build(question, hits);
        if nobody_listens() {
            return Either::Left(call);
        }
        let info = self.inner.describe();
        let span = tracing::info_span!(
            target: "ragtrace",
            "prompt",
            { keys::OTEL_NAME } = %SpanName("prompt", info.template),
            { keys::OTEL_KIND } = "internal",
            { keys::GEN_AI_PROMPT_NAME } = info.template,
        );
        let Some(scope) = StepScope::start(StepKind::Prompt, span, self.options()) else {
            return Either::Left(call);
        };
        // Boxed so that an unobserved call's future stays as small as the inner one.
        Either::Right(Box::pin(async move {
            let result = InSpan::new(&scope.span, call).await;
            let options = self.options();
            let common = |a: &mut Attrs| {
                a.str(
                    keys::OPENINFERENCE_SPAN_KIND,
                    keys::openinference_kind::CHAIN,
                );
                a.str(keys::LANGFUSE_OBSERVATION_TYPE, "span");
                a.opt_str(keys::GEN_AI_PROMPT_VERSION, info.template_version);
                a.opt_str(keys::LLM_PROMPT_TEMPLATE_VERSION, info.template_version);
                a.opt_str(keys::GEN_AI_REQUEST_MODEL, info.model);
                if options.capture.is_on() {
                    a.str(keys::INPUT_VALUE, options.capture.apply(question));
                    if let Some(template) = info.template_text {
                        a.str(
                            keys::LLM_PROMPT_TEMPLATE_TEMPLATE,
                            options.capture.apply(template),
                        );
                    }
                }
            };
            match &result {
                Ok(prompt) => scope.succeed(None, None, |a| {
                    common(a);
                    let stats = &prompt.stats;
                    a.int(keys::RAGTRACE_PROMPT_TOKENS, stats.prompt_tokens);
                    a.int(keys::RAGTRACE_PROMPT_CONTEXT_TOKENS, stats.context_tokens);
                    if let Some(budget) = stats.budget_tokens {
                        a.int(keys::RAGTRACE_PROMPT_BUDGET_TOKENS, budget);
                    }
                    a.int(keys::RAGTRACE_PROMPT_CHUNKS_OFFERED, stats.chunks_offered);
                    a.int(keys::RAGTRACE_PROMPT_CHUNKS_INCLUDED, stats.chunks_included);
                    a.int(
                        keys::RAGTRACE_PROMPT_CHUNKS_TRUNCATED,
                        stats.chunks_truncated,
                    );
                    a.int(keys::RAGTRACE_PROMPT_CHUNKS_DROPPED, stats.chunks_dropped);
                    if let Some(used) = stats.context_window_used() {
                        a.float(keys::RAGTRACE_PROMPT_CONTEXT_WINDOW_USED, used);
                    }
                    a.bool(keys::RAGTRACE_USAGE_ESTIMATED, stats.estimated);
                    if options.capture.is_on() {
                        a.str(
                            keys::OUTPUT_VALUE,
                            shared::capture_messages(&options.capture, &prompt.messages),
                        );
                    }
                }),
                Err(error) => scope.fail(
                    T::error_type(error),
                    std::any::type_name::<T::Error>(),
                    error,
                    None,
                    None,
                    common,
                ),
            }
            result
        }))
    }

    fn describe(&self) -> crate::steps::StepInfo<'_> {
        self.inner.describe()
    }

    fn error_type(error: &T::Error) -> std::borrow::Cow<'static, str> {
        T::error_type(error)
    }
}
