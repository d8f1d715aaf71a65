//! `Traced<T>` as an [`Embedder`]: one `embeddings {model}` span per call.

use std::future::Future;

use futures_util::future::Either;

use super::traced::{InSpan, SpanName, StepScope, Traced, nobody_listens};
use super::{attrs::Attrs, keys, options::Options, shared};
use crate::steps::{Embedder, Embeddings, StepKind, Usage};

impl<T: Embedder> Embedder for Traced<T> {
    type Error = T::Error;

    fn embed(&self, inputs: &[&str]) -> impl Future<Output = Result<Embeddings, T::Error>> + Send {
        let call = self.inner.embed(inputs);
        if nobody_listens() {
            return Either::Left(call);
        }
        let info = self.inner.describe();
        let span = tracing::info_span!(
            target: "ragtrace",
            "embeddings",
            { keys::OTEL_NAME } = %SpanName("embeddings", info.model),
            { keys::OTEL_KIND } = "client",
            { keys::GEN_AI_OPERATION_NAME } = "embeddings",
            { keys::GEN_AI_REQUEST_MODEL } = info.model,
        );
        let Some(scope) = StepScope::start(StepKind::Embeddings, span, self.options()) else {
            return Either::Left(call);
        };
        // Boxed so that an unobserved call's future stays as small as the inner one.
        Either::Right(Box::pin(async move {
            let result = InSpan::new(&scope.span, call).await;
            let options = self.options();
            let common = |a: &mut Attrs| {
                shared::describe(a, &info);
                a.str(
                    keys::OPENINFERENCE_SPAN_KIND,
                    keys::openinference_kind::EMBEDDING,
                );
                a.str(keys::LANGFUSE_OBSERVATION_TYPE, "embedding");
                a.opt_str(keys::EMBEDDING_MODEL_NAME, info.model);
                if options.capture.is_on() {
                    a.str(
                        keys::INPUT_VALUE,
                        shared::capture_texts(&options.capture, inputs),
                    );
                }
            };
            match &result {
                Ok(out) => {
                    let model = out.model.as_deref().or(info.model);
                    let usage = out.usage.or_else(|| estimate(options, model, inputs));
                    let cost = usage
                        .as_ref()
                        .map(|u| scope.price(model, info.provider, u, None));
                    scope.succeed(usage.as_ref(), cost.as_ref(), |a| {
                        common(a);
                        a.opt_str(keys::GEN_AI_RESPONSE_MODEL, out.model.as_deref());
                        if let Some(dimension) = out.dimension() {
                            a.int(keys::GEN_AI_EMBEDDINGS_DIMENSION_COUNT, dimension as u64);
                        }
                        if let Some(usage) = &usage {
                            a.usage(usage, false);
                        }
                        if let Some(cost) = &cost {
                            a.cost(cost);
                        }
                    });
                }
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

/// Counted input tokens when the provider reported none.
fn estimate(options: &Options, model: Option<&str>, inputs: &[&str]) -> Option<Usage> {
    let counter = options.token_counter.as_ref()?;
    let model = model?;
    let tokens = inputs
        .iter()
        .map(|text| counter.count_text(model, text).tokens)
        .fold(0_u64, u64::saturating_add);
    Some(Usage::new(tokens, 0).with_estimated(true))
}
