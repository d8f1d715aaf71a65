//! [`JsonLogFormat`]: log lines as JSON objects that carry the OpenTelemetry
//! `trace_id` and `span_id` of the span they were logged in, so a log search
//! leads straight to the trace.

use std::fmt;
use std::time::SystemTime;

use opentelemetry::trace::TraceContextExt as _;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// A `tracing-subscriber` event format: one JSON object per line with
/// `timestamp` (RFC 3339, UTC), `level`, `target`, `message`, the event's
/// other `fields`, the current `span` name, and `trace_id` / `span_id`
/// (hex, as in OTLP) when an OpenTelemetry layer records the span.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer().event_format(ragtrace::telemetry::JsonLogFormat));
/// # let _ = subscriber;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLogFormat;

impl<S, N> FormatEvent<S, N> for JsonLogFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Records bridged from the `log` crate carry their real metadata in fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let mut fields = Fields::default();
        event.record(&mut fields);

        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::String(humantime::format_rfc3339_micros(SystemTime::now()).to_string()),
        );
        line.insert("level".into(), Value::String(meta.level().to_string()));
        line.insert("target".into(), Value::String(meta.target().to_owned()));
        line.insert(
            "message".into(),
            Value::String(fields.message.unwrap_or_default()),
        );
        if !fields.others.is_empty() {
            line.insert("fields".into(), Value::Object(fields.others));
        }
        if let Some(span) = ctx.parent_span() {
            line.insert("span".into(), Value::String(span.name().to_owned()));
            let cx = tracing::dispatcher::get_default(|dispatch| {
                tracing_opentelemetry::get_otel_context(&span.id(), dispatch)
            });
            if let Some(cx) = cx {
                let span_ref = cx.span();
                let context = span_ref.span_context();
                if context.is_valid() {
                    line.insert(
                        "trace_id".into(),
                        Value::String(context.trace_id().to_string()),
                    );
                    line.insert(
                        "span_id".into(),
                        Value::String(context.span_id().to_string()),
                    );
                }
            }
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// An event's fields as JSON, with `message` apart; the `log.*` fields the
/// `log` bridge adds are dropped (they are in the normalized metadata).
#[derive(Default)]
struct Fields {
    message: Option<String>,
    others: Map<String, Value>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if name == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else if !name.starts_with("log.") {
            self.others.insert(name.to_owned(), value);
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, crate::store::value::double(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
}
