//! [`TraceSource`]: every query the analysis runs, behind one narrow
//! interface, so that the SQLite store and, later, a column store answer
//! the same questions.

use std::ops::ControlFlow;

use opentelemetry::trace::TraceId;

use super::range::TimeRange;
use super::requests::{RequestFilter, RequestRow};
use super::retrievals::RetrievalFact;
use crate::store::{SpanRecord, StoreError};

/// Where analysis reads spans from.
///
/// Each method is one query; results stream through `visit` where they can
/// be large, so memory does not grow with the number of spans. Records
/// passed to `visit` without payload have empty attributes, events and
/// links (the extracted columns are all there).
pub trait TraceSource {
    /// The requests `filter` selects, newest first, at most `filter.limit`.
    fn requests(&self, filter: &RequestFilter) -> Result<Vec<RequestRow>, AnalysisError>;

    /// The traces whose id starts with `prefix` (lower-case hex), at most
    /// `limit` of them.
    fn find_traces(&self, prefix: &str, limit: usize) -> Result<Vec<TraceId>, AnalysisError>;

    /// Every span of one trace, with payload, by start time.
    fn trace(&self, trace_id: TraceId) -> Result<Vec<SpanRecord>, AnalysisError>;

    /// The spans of every trace that has a span starting in `range`, one
    /// trace at a time (all of a trace's spans in one call, by start
    /// time), without payload.
    fn traces(
        &self,
        range: &TimeRange,
        visit: &mut dyn FnMut(&[SpanRecord]) -> ControlFlow<()>,
    ) -> Result<(), AnalysisError>;

    /// The same traces as [`traces`](Self::traces), in the same order,
    /// with only the columns a cost report reads: identity and parent,
    /// name, start, duration, status, service, step, model, provider,
    /// usage, cost, cost status and split, user and session. The rest is
    /// empty (`None`, no attributes), which lets a store answer from a
    /// narrow index. The slice is only valid during the call.
    fn report_traces(
        &self,
        range: &TimeRange,
        visit: &mut dyn FnMut(&[SpanRecord]) -> ControlFlow<()>,
    ) -> Result<(), AnalysisError> {
        self.traces(range, visit)
    }

    /// For reading on several threads: up to `parts` sources whose
    /// [`report_traces`](Self::report_traces) together yield each of this
    /// source's traces once, split by trace id into ranges in order (the
    /// first part holds the lowest ids). `None` where the source cannot be
    /// split; a report then reads on one thread.
    fn report_parts(
        &self,
        parts: usize,
    ) -> Result<Option<Vec<Box<dyn TraceSource + Send>>>, AnalysisError> {
        let _ = parts;
        Ok(None)
    }

    /// Every retrieval span that started in `range`, by start time.
    fn retrievals(
        &self,
        range: &TimeRange,
        visit: &mut dyn FnMut(RetrievalFact) -> ControlFlow<()>,
    ) -> Result<(), AnalysisError>;
}

/// Why an analysis could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// The store failed (or is not a store).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The source holds no spans at all.
    #[error("{source_name} holds no spans yet")]
    Empty {
        /// The store file or other source.
        source_name: String,
    },
    /// No trace id starts with the prefix given.
    #[error("no trace id starts with `{prefix}`")]
    NoSuchTrace {
        /// The prefix given.
        prefix: String,
    },
    /// Several trace ids start with the prefix given.
    #[error("`{prefix}` matches {} traces ({}); give more of the id", .matches.len(), list(.matches))]
    AmbiguousTrace {
        /// The prefix given.
        prefix: String,
        /// Some of the traces it matches.
        matches: Vec<TraceId>,
    },
    /// A trace id prefix that is not hex.
    #[error("`{0}` is not a trace id (expected up to 32 hex digits)")]
    BadTraceId(String),
    /// An option out of its range.
    #[error("{0}")]
    BadOption(String),
}

fn list(ids: &[TraceId]) -> String {
    ids.iter()
        .take(5)
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Resolves a trace id or a unique prefix of one.
pub fn resolve_trace(source: &dyn TraceSource, given: &str) -> Result<TraceId, AnalysisError> {
    let prefix = given.trim().to_ascii_lowercase();
    if prefix.is_empty() || prefix.len() > 32 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AnalysisError::BadTraceId(truncate(given)));
    }
    let mut found = source.find_traces(&prefix, 6)?;
    match found.len() {
        0 => Err(AnalysisError::NoSuchTrace { prefix }),
        1 => Ok(found.remove(0)),
        _ => Err(AnalysisError::AmbiguousTrace {
            prefix,
            matches: found,
        }),
    }
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}
