//! OTLP trace export requests (protobuf or JSON) into store records.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::Value;

use super::redact;
use crate::pricing::Pricer;
use crate::store::value::{Attributes, bytes, double};
use crate::store::{Kind, SpanEvent, SpanLink, SpanParts, SpanRecord, Status};

/// An OTLP body that could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not a valid protobuf `ExportTraceServiceRequest`.
    #[error("invalid OTLP/protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// Not a valid OTLP/JSON `ExportTraceServiceRequest`.
    #[error("invalid OTLP/JSON at column {column}: {message}")]
    Json {
        /// 1-based column in the (single-line) document, as serde reports it.
        column: usize,
        /// What was wrong.
        message: String,
    },
}

/// Decodes an OTLP/protobuf `ExportTraceServiceRequest`.
pub fn decode_protobuf(body: &[u8]) -> Result<ExportTraceServiceRequest, DecodeError> {
    Ok(prost::Message::decode(body)?)
}

/// Decodes an OTLP/JSON `ExportTraceServiceRequest` (ids in hex, 64-bit
/// integers as strings or numbers, as the OTLP specification allows).
pub fn decode_json(body: &[u8]) -> Result<ExportTraceServiceRequest, DecodeError> {
    serde_json::from_slice(body).map_err(|error| {
        // serde appends " at line L column C"; keep the reason alone.
        let text = error.to_string();
        let message = match text.rfind(" at line ") {
            Some(at) => text[..at].to_owned(),
            None => text,
        };
        DecodeError::Json {
            column: error.column(),
            message,
        }
    })
}

/// A span that was decoded but cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RejectedSpan {
    /// The span's name, as sent.
    pub name: String,
    /// Why it was rejected.
    pub reason: String,
}

/// What an export request turned into.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Converted {
    /// Spans ready to store.
    pub records: Vec<SpanRecord>,
    /// Spans that cannot be stored (invalid ids).
    pub rejected: Vec<RejectedSpan>,
}

/// What happens to prompt and completion content in received spans.
/// Credentials are redacted either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Content {
    /// Values under known content keys (`gen_ai.prompt`,
    /// `gen_ai.input.messages`, `input.value`, `output.value`, ...) become
    /// `[REDACTED]` (the default).
    #[default]
    Redact,
    /// Content is stored as received.
    Keep,
}

/// Turns an export request into records: the columns are read from OTel
/// GenAI, OpenInference, Langfuse and ragtrace keys alike, and spans with
/// usage but no cost are priced with `pricer` at their own start time.
/// Credentials and known content keys are redacted ([`Content::Redact`]);
/// see [`convert_with`] to keep content.
pub fn convert(request: ExportTraceServiceRequest, pricer: Option<&dyn Pricer>) -> Converted {
    convert_with(request, pricer, Content::Redact)
}

/// [`convert`], saying what happens to content.
pub fn convert_with(
    request: ExportTraceServiceRequest,
    pricer: Option<&dyn Pricer>,
    content: Content,
) -> Converted {
    let redact_content = content == Content::Redact;
    let mut out = Converted::default();
    for resource_spans in request.resource_spans {
        let resource: Arc<Attributes> = Arc::new(
            resource_spans
                .resource
                .map(|r| {
                    let mut a = attributes(&r.attributes);
                    redact::attributes(&mut a, redact_content);
                    a
                })
                .unwrap_or_default(),
        );
        for scope_spans in resource_spans.scope_spans {
            let scope = scope_spans
                .scope
                .map(|s| s.name)
                .filter(|name| !name.is_empty());
            for span in scope_spans.spans {
                match parts(span, &resource, scope.clone()) {
                    Ok(mut parts) => {
                        redact::attributes(&mut parts.attributes, redact_content);
                        if let Some(message) = &mut parts.status_message {
                            redact::text(message);
                        }
                        for event in &mut parts.events {
                            redact::attributes(&mut event.attributes, redact_content);
                        }
                        for link in &mut parts.links {
                            redact::attributes(&mut link.attributes, redact_content);
                        }
                        out.records.push(parts.into_record(pricer));
                    }
                    Err(rejected) => out.rejected.push(rejected),
                }
            }
        }
    }
    out
}

fn trace_id(bytes: &[u8]) -> Option<TraceId> {
    let array: [u8; 16] = bytes.try_into().ok()?;
    let id = TraceId::from_bytes(array);
    (id != TraceId::INVALID).then_some(id)
}

fn span_id(bytes: &[u8]) -> Option<SpanId> {
    let array: [u8; 8] = bytes.try_into().ok()?;
    let id = SpanId::from_bytes(array);
    (id != SpanId::INVALID).then_some(id)
}

fn time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

fn parts(
    span: Span,
    resource: &Arc<Attributes>,
    scope: Option<String>,
) -> Result<SpanParts, RejectedSpan> {
    let reject = |reason: String| RejectedSpan {
        name: span.name.clone(),
        reason,
    };
    let trace = trace_id(&span.trace_id).ok_or_else(|| {
        reject(format!(
            "trace id must be 16 bytes, not all zero (got {} bytes)",
            span.trace_id.len()
        ))
    })?;
    let id = span_id(&span.span_id).ok_or_else(|| {
        reject(format!(
            "span id must be 8 bytes, not all zero (got {} bytes)",
            span.span_id.len()
        ))
    })?;
    let parent = match span.parent_span_id.len() {
        0 => None,
        8 => span_id(&span.parent_span_id),
        n => return Err(reject(format!("parent span id must be 8 bytes (got {n})"))),
    };
    let mut parts = SpanParts::new(
        trace,
        id,
        span.name,
        time(span.start_time_unix_nano),
        time(span.end_time_unix_nano),
    );
    parts.parent_span_id = parent;
    parts.kind = match span.kind {
        2 => Kind::Server,
        3 => Kind::Client,
        4 => Kind::Producer,
        5 => Kind::Consumer,
        // 0 (unspecified) may be read as internal, says the specification.
        _ => Kind::Internal,
    };
    if let Some(status) = span.status {
        parts.status = match status.code {
            1 => Status::Ok,
            2 => Status::Error,
            _ => Status::Unset,
        };
        parts.status_message = (!status.message.is_empty()).then_some(status.message);
    }
    parts.scope = scope;
    parts.attributes = attributes(&span.attributes);
    parts.dropped_attributes = span.dropped_attributes_count;
    parts.dropped_events = span.dropped_events_count;
    parts.events = span
        .events
        .iter()
        .map(|e| {
            SpanEvent::new(
                e.name.clone(),
                time(e.time_unix_nano),
                attributes(&e.attributes),
            )
        })
        .collect();
    parts.links = span
        .links
        .iter()
        .filter_map(|l| {
            Some(SpanLink::new(
                trace_id(&l.trace_id)?,
                span_id(&l.span_id)?,
                attributes(&l.attributes),
            ))
        })
        .collect();
    parts.resource = Arc::clone(resource);
    Ok(parts)
}

fn attributes(kvs: &[KeyValue]) -> Attributes {
    kvs.iter()
        .map(|kv| (kv.key.clone(), any(kv.value.as_ref())))
        .collect()
}

fn any(value: Option<&AnyValue>) -> Value {
    match value.and_then(|v| v.value.as_ref()) {
        None => Value::Null,
        Some(Any::StringValue(s)) => Value::String(s.clone()),
        Some(Any::BoolValue(b)) => Value::Bool(*b),
        Some(Any::IntValue(i)) => Value::from(*i),
        Some(Any::DoubleValue(d)) => double(*d),
        Some(Any::ArrayValue(array)) => {
            Value::Array(array.values.iter().map(|v| any(Some(v))).collect())
        }
        Some(Any::KvlistValue(list)) => Value::Object(attributes(&list.values)),
        Some(Any::BytesValue(b)) => bytes(b),
        // String tables are a profiles-signal encoding; traces never use them.
        Some(Any::StringValueStrindex(index)) => Value::String(format!("strindex:{index}")),
    }
}
