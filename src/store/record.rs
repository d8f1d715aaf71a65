//! [`SpanRecord`]: one stored span, with the columns analysis queries.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, TraceId};

use super::value::Attributes;
use crate::pricing::{CostStatus, Usd};
use crate::steps::Usage;

/// One span as the store keeps it: identity, timing and status, the
/// columns analysis queries (model, tokens, cost, scores, user, ...), and
/// every attribute and event as typed JSON.
///
/// Records are built from OpenTelemetry SDK spans (the live store sink) and
/// from OTLP (ingest); both go through the same key extraction, so a span
/// stored live and the same span ingested from an OTLP file are equal.
///
/// Token and cost columns are the span's **own** usage, never a roll-up of
/// its children: a request's total is the sum over its trace.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SpanRecord {
    /// The trace.
    pub trace_id: TraceId,
    /// This span.
    pub span_id: SpanId,
    /// The parent span, `None` for a root.
    pub parent_span_id: Option<SpanId>,
    /// The span name.
    pub name: String,
    /// The span kind.
    pub kind: Kind,
    /// When the span started (UTC).
    pub start: SystemTime,
    /// How long it lasted.
    pub duration: Duration,
    /// The span status.
    pub status: Status,
    /// The status description, for errors.
    pub status_message: Option<String>,
    /// `service.name` of the resource that emitted the span.
    pub service: Option<String>,
    /// The instrumentation scope (tracer) name.
    pub scope: Option<String>,
    /// Which RAG step the span is: `request`, `embeddings`, `retrieval`,
    /// `prompt` or `chat` (from `ragtrace.step`, or derived from the GenAI
    /// operation or the OpenInference span kind).
    pub step: Option<String>,
    /// `gen_ai.operation.name`.
    pub operation: Option<String>,
    /// The model that answered, else the one asked for.
    pub model: Option<String>,
    /// The provider.
    pub provider: Option<String>,
    /// Tokens, when the span reports any (in ragtrace's inclusive convention).
    pub usage: Option<Usage>,
    /// The span's own cost, exact.
    pub cost: Option<Usd>,
    /// Whether the cost is known; `None` for spans that are not priced
    /// (no model call).
    pub cost_status: Option<CostStatus>,
    /// Where the cost came from.
    pub cost_source: Option<CostSource>,
    /// The cost split by usage kind, exact, when the producer said how it
    /// splits (what `cost` holds beyond the parts, e.g. per-request
    /// charges, is [`CostBreakdown::other`]).
    pub cost_breakdown: Option<CostBreakdown>,
    /// The best retrieval score.
    pub top_score: Option<f64>,
    /// Retrieval scores in rank order (non-finite scores are NaN).
    pub scores: Option<Vec<f64>>,
    /// Whether higher or lower retrieval scores are better, when the
    /// producer said (`ragtrace.retrieval.score_kind`).
    pub score_kind: Option<ScoreKind>,
    /// The collection (index, data source) a retrieval searched.
    pub collection: Option<String>,
    /// Ids of the retrieved documents in rank order, as far as recorded.
    pub document_ids: Option<Vec<String>>,
    /// The end user.
    pub user_id: Option<String>,
    /// The user's session.
    pub session_id: Option<String>,
    /// `error.type` of a failed call.
    pub error_type: Option<String>,
    /// Every attribute, typed.
    pub attributes: Attributes,
    /// Span events (log lines inside the span, evaluations, exceptions).
    pub events: Vec<SpanEvent>,
    /// Links to other spans.
    pub links: Vec<SpanLink>,
    /// Resource attributes of the emitter (shared by the spans of one batch).
    pub resource: Arc<Attributes>,
    /// Attributes the producer dropped (span limits).
    pub dropped_attributes: u32,
    /// Events the producer dropped.
    pub dropped_events: u32,
}

impl SpanRecord {
    /// When the span ended.
    pub fn end(&self) -> SystemTime {
        self.start + self.duration
    }

    /// `true` for a trace root (no parent).
    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_none()
    }
}

/// A span's cost split by usage kind, in exact picodollars.
///
/// The parts follow [`Cost`](crate::pricing::Cost): `input` is uncached
/// input only, `output` visible output only, so no token is counted twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CostBreakdown {
    /// Uncached input tokens.
    pub input: Usd,
    /// Input tokens read from cache.
    pub cache_read: Usd,
    /// Input tokens written to cache.
    pub cache_write: Usd,
    /// Visible output tokens.
    pub output: Usd,
    /// Reasoning output tokens.
    pub reasoning: Usd,
}

impl CostBreakdown {
    /// A breakdown from its parts.
    pub fn new(input: Usd, cache_read: Usd, cache_write: Usd, output: Usd, reasoning: Usd) -> Self {
        CostBreakdown {
            input,
            cache_read,
            cache_write,
            output,
            reasoning,
        }
    }

    /// The parts of a priced [`Cost`](crate::pricing::Cost).
    pub fn of(cost: &crate::pricing::Cost) -> Self {
        CostBreakdown::new(
            cost.input,
            cost.cached_input,
            cost.cache_write,
            cost.output,
            cost.reasoning,
        )
    }

    /// The sum of the parts.
    pub fn sum(&self) -> Usd {
        self.input + self.cache_read + self.cache_write + self.output + self.reasoning
    }

    /// What `total` holds beyond the parts (per-request charges, rounding
    /// of a producer's figures); zero when the parts add up.
    pub fn other(&self, total: Usd) -> Usd {
        total - self.sum()
    }
}

/// A span event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SpanEvent {
    /// The event name (for a log line, its message).
    pub name: String,
    /// When it happened.
    pub time: SystemTime,
    /// Its attributes.
    pub attributes: Attributes,
}

impl SpanEvent {
    /// An event.
    pub fn new(name: impl Into<String>, time: SystemTime, attributes: Attributes) -> Self {
        SpanEvent {
            name: name.into(),
            time,
            attributes,
        }
    }
}

/// A link to another span.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SpanLink {
    /// The linked trace.
    pub trace_id: TraceId,
    /// The linked span.
    pub span_id: SpanId,
    /// The link's attributes.
    pub attributes: Attributes,
}

impl SpanLink {
    /// A link.
    pub fn new(trace_id: TraceId, span_id: SpanId, attributes: Attributes) -> Self {
        SpanLink {
            trace_id,
            span_id,
            attributes,
        }
    }
}

/// Span kind, as OpenTelemetry defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Kind {
    /// Internal operation (also OTLP's "unspecified").
    #[default]
    Internal,
    /// Server side of a request.
    Server,
    /// Client side of a call.
    Client,
    /// Sends a message.
    Producer,
    /// Receives a message.
    Consumer,
}

impl Kind {
    /// `internal`, `server`, `client`, `producer` or `consumer`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::Server => "server",
            Kind::Client => "client",
            Kind::Producer => "producer",
            Kind::Consumer => "consumer",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    pub fn parse(text: &str) -> Option<Kind> {
        Some(match text {
            "internal" => Kind::Internal,
            "server" => Kind::Server,
            "client" => Kind::Client,
            "producer" => Kind::Producer,
            "consumer" => Kind::Consumer,
            _ => return None,
        })
    }
}

impl From<&opentelemetry::trace::SpanKind> for Kind {
    fn from(kind: &opentelemetry::trace::SpanKind) -> Kind {
        use opentelemetry::trace::SpanKind;
        match kind {
            SpanKind::Internal => Kind::Internal,
            SpanKind::Server => Kind::Server,
            SpanKind::Client => Kind::Client,
            SpanKind::Producer => Kind::Producer,
            SpanKind::Consumer => Kind::Consumer,
        }
    }
}

/// Span status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Status {
    /// Not set (the default: the operation is assumed fine).
    #[default]
    Unset,
    /// Explicitly successful.
    Ok,
    /// Failed.
    Error,
}

impl Status {
    /// `unset`, `ok` or `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Unset => "unset",
            Status::Ok => "ok",
            Status::Error => "error",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    pub fn parse(text: &str) -> Option<Status> {
        Some(match text {
            "unset" => Status::Unset,
            "ok" => Status::Ok,
            "error" => Status::Error,
            _ => return None,
        })
    }
}

/// Which way retrieval scores point (the step's own type, re-exported).
pub use crate::steps::ScoreKind;

/// Where a stored cost came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CostSource {
    /// The span carried it (priced by the producer).
    Span,
    /// The span had usage but no cost, and ragtrace priced it at the span's
    /// start time when it was stored.
    Pricer,
    /// `ragtrace reprice` (`Store::reprice`)
    /// recomputed it from the stored usage, at the span's start time, with
    /// the price tables of that run; whatever the span carried before is
    /// replaced.
    Repriced,
}

impl CostSource {
    /// `span`, `pricer` or `repriced`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CostSource::Span => "span",
            CostSource::Pricer => "pricer",
            CostSource::Repriced => "repriced",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    pub fn parse(text: &str) -> Option<CostSource> {
        match text {
            "span" => Some(CostSource::Span),
            "pricer" => Some(CostSource::Pricer),
            "repriced" => Some(CostSource::Repriced),
            _ => None,
        }
    }
}

/// Parses a [`CostStatus`] as recorded in `ragtrace.cost.status`.
pub(crate) fn parse_cost_status(text: &str) -> Option<CostStatus> {
    match text {
        "priced" => Some(CostStatus::Priced),
        "partial" => Some(CostStatus::Partial),
        "unpriced" => Some(CostStatus::Unpriced),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_sources_read_back_as_written() {
        for source in [CostSource::Span, CostSource::Pricer, CostSource::Repriced] {
            assert_eq!(CostSource::parse(source.as_str()), Some(source));
        }
        assert_eq!(CostSource::Repriced.as_str(), "repriced");
        assert_eq!(CostSource::parse("Repriced"), None);
    }
}
