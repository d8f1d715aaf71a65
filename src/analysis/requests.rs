//! `ragtrace requests`: the latest requests, one row each, so a user can
//! find a trace id.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, TraceId};
use serde::Serialize;

use super::range::TimeRange;
use super::source::{AnalysisError, TraceSource};
use super::totals::{Totals, usd};
use crate::pricing::Usd;
use crate::store::SpanRecord;

/// Which requests to list.
///
/// ```
/// use ragtrace::analysis::RequestFilter;
///
/// let filter = RequestFilter::new().user("u-42").errors_only().limit(20);
/// # let _ = filter;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestFilter {
    /// Requests whose root started in this range.
    pub range: TimeRange,
    /// The root's user.
    pub user: Option<String>,
    /// The root's session.
    pub session: Option<String>,
    /// The root's name (route, workflow).
    pub name: Option<String>,
    /// Requests with a span of this model or one of its dated snapshots
    /// (`gpt-4o-mini` matches `gpt-4o-mini-2024-07-18`).
    pub model: Option<String>,
    /// Requests whose known cost is at least this.
    pub min_cost: Option<Usd>,
    /// Requests with at least one failed span.
    pub errors_only: bool,
    /// At most this many (the newest).
    pub limit: usize,
}

impl Default for RequestFilter {
    fn default() -> Self {
        RequestFilter {
            range: TimeRange::all(),
            user: None,
            session: None,
            name: None,
            model: None,
            min_cost: None,
            errors_only: false,
            limit: 50,
        }
    }
}

impl RequestFilter {
    /// The latest 50 requests.
    pub fn new() -> Self {
        RequestFilter::default()
    }

    /// Requests whose root started in `range`.
    pub fn range(mut self, range: TimeRange) -> Self {
        self.range = range;
        self
    }

    /// Requests of one user.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Requests of one session.
    pub fn session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }

    /// Requests with this root name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Requests that called this model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Requests that cost at least `cost`.
    pub fn min_cost(mut self, cost: Usd) -> Self {
        self.min_cost = Some(cost);
        self
    }

    /// Requests with a failed span.
    pub fn errors_only(mut self) -> Self {
        self.errors_only = true;
        self
    }

    /// At most `limit` requests.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// `true` if a request (its root and all its spans) passes the filters
    /// that need the whole trace.
    pub(crate) fn accepts(&self, row: &RequestRow, spans: &[SpanRecord]) -> bool {
        if self.errors_only && row.totals.errors == 0 {
            return false;
        }
        if let Some(min) = self.min_cost
            && row.totals.cost < min
        {
            return false;
        }
        if let Some(model) = &self.model
            && !spans
                .iter()
                .any(|s| s.model.as_deref().is_some_and(|m| same_model(m, model)))
        {
            return false;
        }
        true
    }
}

/// `true` if `stored` is `wanted` or a snapshot of it (`wanted-...`).
fn same_model(stored: &str, wanted: &str) -> bool {
    stored == wanted
        || stored
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('-'))
}

/// One request: its root, and the sums over all its spans.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RequestRow {
    /// The trace.
    #[serde(serialize_with = "hex")]
    pub trace_id: TraceId,
    /// The root span.
    #[serde(serialize_with = "hex")]
    pub span_id: SpanId,
    /// When the root started.
    #[serde(serialize_with = "rfc3339")]
    pub start: SystemTime,
    /// From the root's start to the last span's end.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
    /// The root's name.
    pub name: String,
    /// The root's service.
    pub service: Option<String>,
    /// The root's user.
    pub user_id: Option<String>,
    /// The root's session.
    pub session_id: Option<String>,
    /// Spans other than the root.
    pub steps: u64,
    /// `error` if any span failed, else the root's status.
    pub status: &'static str,
    /// Sums over every span of the trace.
    pub totals: Totals,
    /// The root's cost status over the trace (`priced`, `partial`, `unpriced`).
    pub cost_status: Option<&'static str>,
    /// The request's exact cost as a decimal string (also in `totals`).
    #[serde(serialize_with = "usd")]
    pub cost: Usd,
}

impl RequestRow {
    /// Builds the row of a trace (its spans by start time) around `root`.
    pub fn of(root: &SpanRecord, spans: &[SpanRecord]) -> RequestRow {
        let mut totals = Totals::default();
        let mut end = root.end();
        for span in spans {
            totals.add_span(span);
            end = end.max(span.end());
        }
        let status = if totals.errors > 0 {
            "error"
        } else {
            root.status.as_str()
        };
        RequestRow {
            trace_id: root.trace_id,
            span_id: root.span_id,
            start: root.start,
            duration: end.duration_since(root.start).unwrap_or(Duration::ZERO),
            name: root.name.clone(),
            service: root.service.clone(),
            user_id: root.user_id.clone(),
            session_id: root.session_id.clone(),
            steps: totals.spans.saturating_sub(1),
            status,
            cost_status: totals.cost_status().map(|s| s.as_str()),
            cost: totals.cost,
            totals,
        }
    }
}

/// A trace's request span: its root; else (the root is in another
/// service, or was not exported) the earliest ragtrace request root; else
/// its earliest span. `spans` are by start time.
pub fn request_span(spans: &[SpanRecord]) -> Option<&SpanRecord> {
    spans
        .iter()
        .find(|s| s.parent_span_id.is_none())
        .or_else(|| spans.iter().find(|s| s.step.as_deref() == Some("request")))
        .or_else(|| spans.first())
}

/// The latest requests `filter` selects, newest first.
pub fn list_requests(
    source: &dyn TraceSource,
    filter: &RequestFilter,
) -> Result<Vec<RequestRow>, AnalysisError> {
    source.requests(filter)
}

pub(crate) fn hex<T: std::fmt::Display, S: serde::Serializer>(
    id: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

pub(crate) fn rfc3339<S: serde::Serializer>(
    time: &SystemTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use super::range::Rfc3339;
    serializer.serialize_str(&time.fmt_rfc3339())
}

pub(crate) fn seconds<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}
