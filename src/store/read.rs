//! Reading spans back: by trace, by time range and filters, and per-trace
//! summaries.

use std::ops::ControlFlow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::TraceId;
use rusqlite::types::Value as SqlValue;

use super::codec::{DecodeError, Decoder, SELECT_COLUMNS, from_nanos, to_nanos};
use super::db::Store;
use super::error::StoreError;
use super::record::SpanRecord;
use crate::pricing::{CostStatus, Usd};

/// Which spans to read. Every filter is optional; results are ordered by
/// start time.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use ragtrace::store::SpanQuery;
///
/// let last_day = SpanQuery::new()
///     .since(SystemTime::now() - Duration::from_secs(86_400))
///     .step("retrieval")
///     .limit(10_000);
/// # let _ = last_day;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SpanQuery {
    /// Spans that started at or after this time.
    pub since: Option<SystemTime>,
    /// Spans that started before this time.
    pub until: Option<SystemTime>,
    /// Spans of this trace.
    pub trace_id: Option<TraceId>,
    /// Spans of this step (`request`, `embeddings`, `retrieval`, `prompt`, `chat`).
    pub step: Option<String>,
    /// Spans of this model.
    pub model: Option<String>,
    /// Spans of this service.
    pub service: Option<String>,
    /// Spans of this user.
    pub user_id: Option<String>,
    /// Spans of this session.
    pub session_id: Option<String>,
    /// Trace roots only.
    pub roots_only: bool,
    /// At most this many spans.
    pub limit: Option<usize>,
    /// Also read attributes, events, links and resource (on by default;
    /// off makes large scans of the columns much cheaper).
    pub payload: bool,
}

impl Default for SpanQuery {
    fn default() -> Self {
        SpanQuery {
            since: None,
            until: None,
            trace_id: None,
            step: None,
            model: None,
            service: None,
            user_id: None,
            session_id: None,
            roots_only: false,
            limit: None,
            payload: true,
        }
    }
}

impl SpanQuery {
    /// Every span.
    pub fn new() -> Self {
        SpanQuery::default()
    }

    /// Spans that started at or after `time`.
    pub fn since(mut self, time: SystemTime) -> Self {
        self.since = Some(time);
        self
    }

    /// Spans that started before `time`.
    pub fn until(mut self, time: SystemTime) -> Self {
        self.until = Some(time);
        self
    }

    /// Spans of one trace.
    pub fn trace(mut self, trace_id: TraceId) -> Self {
        self.trace_id = Some(trace_id);
        self
    }

    /// Spans of one step kind.
    pub fn step(mut self, step: impl Into<String>) -> Self {
        self.step = Some(step.into());
        self
    }

    /// Spans of one model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Spans of one service.
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// Spans of one user.
    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Spans of one session.
    pub fn session(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// Trace roots only.
    pub fn roots_only(mut self) -> Self {
        self.roots_only = true;
        self
    }

    /// At most `limit` spans.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Whether to read attributes, events, links and resource.
    pub fn payload(mut self, on: bool) -> Self {
        self.payload = on;
        self
    }

    fn where_clause(&self) -> (String, Vec<SqlValue>) {
        let mut clauses: Vec<&str> = Vec::new();
        let mut params: Vec<SqlValue> = Vec::new();
        if let Some(since) = self.since {
            clauses.push("start_ns >= ?");
            params.push(SqlValue::Integer(to_nanos(since)));
        }
        if let Some(until) = self.until {
            clauses.push("start_ns < ?");
            params.push(SqlValue::Integer(to_nanos(until)));
        }
        if let Some(trace_id) = self.trace_id {
            clauses.push("trace_id = ?");
            params.push(SqlValue::Text(trace_id.to_string()));
        }
        for (clause, value) in [
            ("step = ?", &self.step),
            ("model = ?", &self.model),
            ("service = ?", &self.service),
            ("user_id = ?", &self.user_id),
            ("session_id = ?", &self.session_id),
        ] {
            if let Some(value) = value {
                clauses.push(clause);
                params.push(SqlValue::Text(value.clone()));
            }
        }
        if self.roots_only {
            clauses.push("parent_span_id IS NULL");
        }
        let sql = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        (sql, params)
    }
}

/// One trace, summed over its spans.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TraceSummary {
    /// The trace.
    pub trace_id: TraceId,
    /// The root span's name.
    pub name: String,
    /// When the first span started.
    pub start: SystemTime,
    /// From the first start to the last end.
    pub duration: Duration,
    /// Spans stored.
    pub spans: u64,
    /// Spans with error status.
    pub errors: u64,
    /// Sum of the spans' known costs.
    pub cost: Usd,
    /// `priced` if every priced span's cost is known, `unpriced` if none is,
    /// `partial` otherwise; `None` if no span is a model call.
    pub cost_status: Option<CostStatus>,
    /// Sum of input tokens (cached included).
    pub input_tokens: u64,
    /// Sum of output tokens (reasoning included).
    pub output_tokens: u64,
    /// The root's service.
    pub service: Option<String>,
    /// The root's user.
    pub user_id: Option<String>,
    /// The root's session.
    pub session_id: Option<String>,
}

impl Store {
    /// Every span of one trace, by start time.
    pub fn trace(&self, trace_id: TraceId) -> Result<Vec<SpanRecord>, StoreError> {
        self.spans(&SpanQuery::new().trace(trace_id))
    }

    /// The spans `query` selects, by start time.
    pub fn spans(&self, query: &SpanQuery) -> Result<Vec<SpanRecord>, StoreError> {
        let mut out = Vec::new();
        self.scan(query, |record| {
            out.push(record);
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    /// Calls `visit` with each span `query` selects, by start time, without
    /// holding them all in memory; `visit` stops the scan by returning
    /// `ControlFlow::Break`.
    pub fn scan(
        &self,
        query: &SpanQuery,
        mut visit: impl FnMut(SpanRecord) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let (where_sql, mut params) = query.where_clause();
        let mut tail = format!("{where_sql} ORDER BY start_ns, trace_id, span_id");
        if let Some(limit) = query.limit {
            tail.push_str(" LIMIT ?");
            params.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        }
        self.scan_where(&tail, &params, query.payload, &mut visit)
    }

    /// Runs `SELECT <every column> FROM spans <tail>` and calls `visit` with
    /// each row decoded, for the analysis queries (`crate::analysis`).
    pub(crate) fn scan_where(
        &self,
        tail: &str,
        params: &[SqlValue],
        payload: bool,
        visit: &mut dyn FnMut(SpanRecord) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let sql = format!("SELECT {SELECT_COLUMNS} FROM spans {tail}");
        let mut statement = self.conn.prepare_cached(&sql).map_err(|e| self.sqlite(e))?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(params))
            .map_err(|e| self.sqlite(e))?;
        let mut decoder = Decoder::new(&self.conn, payload);
        while let Some(row) = rows.next().map_err(|e| self.sqlite(e))? {
            let record = decoder.decode(row).map_err(|e| self.decode_error(e))?;
            if visit(record).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Number of spans stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM spans", [], |row| row.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.sqlite(e))
    }

    /// `true` if no span is stored (without counting them all).
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        self.conn
            .query_row("SELECT NOT EXISTS (SELECT 1 FROM spans)", [], |row| {
                row.get::<_, bool>(0)
            })
            .map_err(|e| self.sqlite(e))
    }

    /// Start of the earliest and latest stored spans, if any.
    pub fn time_range(&self) -> Result<Option<(SystemTime, SystemTime)>, StoreError> {
        let (first, last): (Option<i64>, Option<i64>) = self
            .conn
            .query_row(
                "SELECT min(start_ns), max(start_ns) FROM spans",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(|e| self.sqlite(e))?;
        Ok(first.zip(last).map(|(a, b)| (from_nanos(a), from_nanos(b))))
    }

    /// Summaries of the traces whose root started in `[since, until)`,
    /// latest `limit` of them, oldest first.
    pub fn traces(
        &self,
        since: Option<SystemTime>,
        until: Option<SystemTime>,
        limit: usize,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        let since = since.map(to_nanos).unwrap_or(i64::MIN);
        let until = until.map(to_nanos).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = "
            SELECT s.trace_id,
                   min(s.start_ns),
                   max(s.start_ns + s.duration_ns),
                   count(*),
                   sum(s.status = 'error'),
                   sum(s.cost_picousd),
                   sum(s.cost_status IN ('priced', 'partial')),
                   sum(s.cost_status = 'partial'),
                   sum(s.cost_status = 'unpriced'),
                   sum(s.input_tokens),
                   sum(s.output_tokens),
                   r.name, r.service, r.user_id, r.session_id
            FROM (SELECT trace_id, name, service, user_id, session_id, start_ns FROM spans
                  WHERE parent_span_id IS NULL AND start_ns >= ?1 AND start_ns < ?2
                  ORDER BY start_ns DESC LIMIT ?3) r
            JOIN spans s ON s.trace_id = r.trace_id
            GROUP BY s.trace_id
            ORDER BY r.start_ns, s.trace_id";
        let mut statement = self.conn.prepare_cached(sql).map_err(|e| self.sqlite(e))?;
        let rows = statement
            .query_map(rusqlite::params![since, until, limit], |row| {
                let hex: String = row.get(0)?;
                let first: i64 = row.get(1)?;
                let last: i64 = row.get(2)?;
                let priced: i64 = row.get::<_, Option<i64>>(6)?.unwrap_or(0);
                let partial: i64 = row.get::<_, Option<i64>>(7)?.unwrap_or(0);
                let unpriced: i64 = row.get::<_, Option<i64>>(8)?.unwrap_or(0);
                let cost_status = match (priced > 0, unpriced > 0) {
                    (false, false) => None,
                    (true, false) if partial == 0 => Some(CostStatus::Priced),
                    (false, true) => Some(CostStatus::Unpriced),
                    _ => Some(CostStatus::Partial),
                };
                Ok((
                    hex,
                    TraceSummary {
                        trace_id: TraceId::INVALID,
                        name: row.get(11)?,
                        start: from_nanos(first),
                        duration: Duration::from_nanos(last.saturating_sub(first).max(0) as u64),
                        spans: row.get::<_, i64>(3)?.max(0) as u64,
                        errors: row.get::<_, Option<i64>>(4)?.unwrap_or(0).max(0) as u64,
                        cost: Usd::from_picos(i128::from(
                            row.get::<_, Option<i64>>(5)?.unwrap_or(0),
                        )),
                        cost_status,
                        input_tokens: row.get::<_, Option<i64>>(9)?.unwrap_or(0).max(0) as u64,
                        output_tokens: row.get::<_, Option<i64>>(10)?.unwrap_or(0).max(0) as u64,
                        service: row.get(12)?,
                        user_id: row.get(13)?,
                        session_id: row.get(14)?,
                    },
                ))
            })
            .map_err(|e| self.sqlite(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (hex, mut summary) = row.map_err(|e| self.sqlite(e))?;
            summary.trace_id = TraceId::from_hex(&hex).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                trace_id: hex.clone(),
                span_id: String::new(),
                column: "trace_id",
                message: e.to_string(),
            })?;
            out.push(summary);
        }
        Ok(out)
    }

    fn decode_error(&self, error: DecodeError) -> StoreError {
        match error {
            DecodeError::Sqlite(source) => self.sqlite(source),
            DecodeError::Bad(bad) => StoreError::Corrupt {
                path: self.path.clone(),
                trace_id: bad.trace_id,
                span_id: bad.span_id,
                column: bad.column,
                message: bad.message,
            },
        }
    }
}
