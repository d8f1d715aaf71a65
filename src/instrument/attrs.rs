//! Building a span's attributes in one buffer and handing them to the
//! OpenTelemetry span in one call.
//!
//! `tracing` fields are capped at 32 per span and cannot hold arrays, and
//! `tracing-opentelemetry` exports unsigned integers as strings. So the
//! wrappers declare only the span's name, kind and identity as `tracing`
//! fields and set everything else directly on the OpenTelemetry span: one
//! lock, typed values (counts as `i64`, scores and costs as `f64`, lists as
//! arrays), and no work at all when no OpenTelemetry layer records the span.

use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};
use tracing::Span;
use tracing::subscriber::NoSubscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::keys;
use crate::pricing::Cost;
use crate::steps::Usage;

/// `true` when a subscriber holds `span`.
///
/// `Span::is_disabled` alone is not enough: while any `Dispatch` that
/// always wants spans merely exists (built but not installed, or installed
/// on another thread), callsites report interest and spans are created even
/// on a thread whose current subscriber is `NoSubscriber`, which discards
/// them. Such a span records nothing, so it must not make a call observed.
pub(crate) fn is_recorded(span: &Span) -> bool {
    span.with_subscriber(|(_, dispatch)| !dispatch.is::<NoSubscriber>())
        .unwrap_or(false)
}

/// The OpenTelemetry context of `span` if an OpenTelemetry layer records it.
pub(crate) fn recording_context(span: &Span) -> Option<opentelemetry::Context> {
    if !is_recorded(span) {
        return None;
    }
    let cx = span.context();
    cx.span().is_recording().then_some(cx)
}

/// Attributes collected for one span.
pub(crate) struct Attrs {
    kvs: Vec<KeyValue>,
}

impl Attrs {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Attrs {
            kvs: Vec::with_capacity(capacity),
        }
    }

    /// Appends attributes collected earlier.
    pub(crate) fn extend(&mut self, other: Attrs) {
        self.kvs.extend(other.kvs);
    }

    fn push(&mut self, key: &'static str, value: Value) {
        self.kvs
            .push(KeyValue::new(Key::from_static_str(key), value));
    }

    pub(crate) fn str(&mut self, key: &'static str, value: impl Into<StringValue>) {
        self.push(key, Value::String(value.into()));
    }

    pub(crate) fn opt_str(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(value) = value {
            self.str(key, value.to_owned());
        }
    }

    /// Counts are exported as OTLP ints (`i64`), saturating.
    pub(crate) fn int(&mut self, key: &'static str, value: u64) {
        self.push(key, Value::I64(i64::try_from(value).unwrap_or(i64::MAX)));
    }

    pub(crate) fn signed(&mut self, key: &'static str, value: i64) {
        self.push(key, Value::I64(value));
    }

    pub(crate) fn float(&mut self, key: &'static str, value: f64) {
        self.push(key, Value::F64(value));
    }

    pub(crate) fn bool(&mut self, key: &'static str, value: bool) {
        self.push(key, Value::Bool(value));
    }

    pub(crate) fn strings(&mut self, key: &'static str, values: Vec<StringValue>) {
        self.push(key, Value::Array(Array::String(values)));
    }

    pub(crate) fn ints(&mut self, key: &'static str, values: Vec<i64>) {
        self.push(key, Value::Array(Array::I64(values)));
    }

    pub(crate) fn floats(&mut self, key: &'static str, values: Vec<f64>) {
        self.push(key, Value::Array(Array::F64(values)));
    }

    /// Token counts under the OTel keys and their OpenInference aliases.
    /// `full` adds the cache and reasoning detail (LLM calls).
    pub(crate) fn usage(&mut self, usage: &Usage, full: bool) {
        self.int(keys::GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens);
        self.int(keys::LLM_TOKEN_COUNT_PROMPT, usage.input_tokens);
        self.int(keys::LLM_TOKEN_COUNT_TOTAL, usage.total_tokens());
        if full {
            self.int(keys::GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens);
            self.int(keys::LLM_TOKEN_COUNT_COMPLETION, usage.output_tokens);
            self.int(
                keys::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
                usage.cache_read_input_tokens,
            );
            self.int(
                keys::LLM_TOKEN_COUNT_PROMPT_CACHE_READ,
                usage.cache_read_input_tokens,
            );
            self.int(
                keys::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
                usage.cache_write_input_tokens,
            );
            self.int(
                keys::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
                usage.cache_write_input_tokens,
            );
            self.int(
                keys::LLM_TOKEN_COUNT_PROMPT_CACHE_WRITE,
                usage.cache_write_input_tokens,
            );
            self.int(
                keys::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
                usage.reasoning_output_tokens,
            );
            self.int(
                keys::LLM_TOKEN_COUNT_COMPLETION_REASONING,
                usage.reasoning_output_tokens,
            );
        }
        self.bool(keys::RAGTRACE_USAGE_ESTIMATED, usage.estimated);
    }

    /// Cost, its parts where non-zero, its provenance, and the aliases.
    pub(crate) fn cost(&mut self, cost: &Cost) {
        self.str(keys::RAGTRACE_COST_STATUS, cost.status.as_str());
        if cost.status == crate::pricing::CostStatus::Unpriced {
            return;
        }
        let total = cost.total.to_f64();
        self.float(keys::RAGTRACE_COST_USD, total);
        self.signed(keys::RAGTRACE_COST_PICOUSD, cost.total.picos_i64());
        self.float(keys::GEN_AI_USAGE_COST, total);
        self.float(keys::LLM_COST_TOTAL, total);
        self.float(
            keys::LLM_COST_PROMPT,
            (cost.input + cost.cached_input + cost.cache_write).to_f64(),
        );
        self.float(
            keys::LLM_COST_COMPLETION,
            (cost.output + cost.reasoning).to_f64(),
        );
        let parts = [
            (keys::RAGTRACE_COST_INPUT_USD, "input", cost.input),
            (
                keys::RAGTRACE_COST_CACHED_INPUT_USD,
                "cache_read_input",
                cost.cached_input,
            ),
            (
                keys::RAGTRACE_COST_CACHE_WRITE_USD,
                "cache_write_input",
                cost.cache_write,
            ),
            (keys::RAGTRACE_COST_OUTPUT_USD, "output", cost.output),
            (
                keys::RAGTRACE_COST_REASONING_USD,
                "reasoning",
                cost.reasoning,
            ),
            (
                keys::RAGTRACE_COST_PER_REQUEST_USD,
                "request",
                cost.per_request,
            ),
        ];
        let mut details = serde_json::Map::new();
        for (key, name, amount) in parts {
            if !amount.is_zero() {
                self.float(key, amount.to_f64());
                details.insert(name.to_owned(), serde_json::Value::from(amount.to_f64()));
            }
        }
        details.insert("total".to_owned(), serde_json::Value::from(total));
        self.str(
            keys::LANGFUSE_OBSERVATION_COST_DETAILS,
            serde_json::Value::Object(details).to_string(),
        );
        if let Some(key) = &cost.model_key {
            self.str(keys::RAGTRACE_COST_MODEL_KEY, key.to_otel());
        }
        if let Some(version) = &cost.price_version {
            self.str(keys::RAGTRACE_COST_PRICE_VERSION, version.to_otel());
        }
        if let Some(tier) = &cost.tier {
            self.str(keys::RAGTRACE_COST_TIER, tier.to_otel());
        }
    }

    /// Adds the OpenTelemetry `exception` event to the span.
    pub(crate) fn exception(
        cx: &opentelemetry::Context,
        exception_type: &'static str,
        message: String,
    ) {
        cx.span().add_event(
            keys::EXCEPTION_EVENT,
            vec![
                KeyValue::new(Key::from_static_str(keys::EXCEPTION_TYPE), exception_type),
                KeyValue::new(Key::from_static_str(keys::EXCEPTION_MESSAGE), message),
            ],
        );
    }

    /// Sets everything on the span in one call, with `status` if given.
    pub(crate) fn emit(self, cx: &opentelemetry::Context, status: Option<Status>) {
        let span = cx.span();
        span.set_attributes(self.kvs);
        if let Some(status) = status {
            span.set_status(status);
        }
    }
}
