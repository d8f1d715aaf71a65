//! From the OpenTelemetry SDK's finished span to the store's record parts.

use std::sync::Arc;

use opentelemetry::trace::{SpanId, Status as OtelStatus};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;

use crate::store::value::{Attributes, attributes_from_otel, from_otel};
use crate::store::{Kind, SpanEvent, SpanLink, SpanParts, Status};

/// Resource attributes as the store keeps them.
pub(crate) fn resource_attributes(resource: &Resource) -> Arc<Attributes> {
    Arc::new(
        resource
            .iter()
            .map(|(key, value)| (key.as_str().to_owned(), from_otel(value)))
            .collect(),
    )
}

/// The parts of a finished span, with the resource of its provider.
pub(crate) fn span_parts(span: SpanData, resource: &Arc<Attributes>) -> SpanParts {
    let context = &span.span_context;
    let mut parts = SpanParts::new(
        context.trace_id(),
        context.span_id(),
        span.name.into_owned(),
        span.start_time,
        span.end_time,
    );
    parts.parent_span_id = (span.parent_span_id != SpanId::INVALID).then_some(span.parent_span_id);
    parts.kind = Kind::from(&span.span_kind);
    (parts.status, parts.status_message) = match span.status {
        OtelStatus::Unset => (Status::Unset, None),
        OtelStatus::Ok => (Status::Ok, None),
        OtelStatus::Error { description } => (
            Status::Error,
            (!description.is_empty()).then(|| description.into_owned()),
        ),
    };
    let scope = span.instrumentation_scope.name();
    parts.scope = (!scope.is_empty()).then(|| scope.to_owned());
    parts.attributes = attributes_from_otel(&span.attributes);
    parts.dropped_attributes = span.dropped_attributes_count;
    parts.dropped_events = span.events.dropped_count;
    parts.events = span
        .events
        .events
        .iter()
        .map(|e| {
            SpanEvent::new(
                e.name.to_string(),
                e.timestamp,
                attributes_from_otel(&e.attributes),
            )
        })
        .collect();
    parts.links = span
        .links
        .links
        .iter()
        .map(|l| {
            SpanLink::new(
                l.span_context.trace_id(),
                l.span_context.span_id(),
                attributes_from_otel(&l.attributes),
            )
        })
        .collect();
    parts.resource = Arc::clone(resource);
    parts
}
