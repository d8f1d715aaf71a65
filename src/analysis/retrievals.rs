//! [`RetrievalFact`]: one retrieval, as drift reads it.

use std::time::SystemTime;

use opentelemetry::trace::TraceId;

use crate::store::{ScoreKind, SpanRecord, Status};

/// One retrieval span, narrowed to what drift compares over time.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetrievalFact {
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// When it started.
    pub start: SystemTime,
    /// The span name (`retrieval {collection}` for ragtrace's spans).
    pub name: String,
    /// The collection searched, when recorded.
    pub collection: Option<String>,
    /// Scores in rank order (NaN where a score was not a number).
    pub scores: Vec<f64>,
    /// The best score as recorded by the producer.
    pub top_score: Option<f64>,
    /// Document ids in rank order, as far as recorded.
    pub document_ids: Vec<String>,
    /// Which way scores point; `None` when the producer did not say.
    pub score_kind: Option<ScoreKind>,
    /// The retrieval failed.
    pub error: bool,
}

impl RetrievalFact {
    /// The fact of a stored retrieval span.
    pub fn of(span: SpanRecord) -> RetrievalFact {
        RetrievalFact {
            trace_id: span.trace_id,
            start: span.start,
            error: span.status == Status::Error,
            name: span.name,
            collection: span.collection,
            scores: span.scores.unwrap_or_default(),
            top_score: span.top_score,
            document_ids: span.document_ids.unwrap_or_default(),
            score_kind: span.score_kind,
        }
    }
}
