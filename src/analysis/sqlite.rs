//! The analysis queries against the SQLite [`Store`]: the one place that
//! knows its SQL.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, TraceId};
use rusqlite::types::{Value as SqlValue, ValueRef};

use super::range::{TimeRange, from_nanos};
use super::requests::{RequestFilter, RequestRow, request_span};
use super::retrievals::RetrievalFact;
use super::source::{AnalysisError, TraceSource};
use crate::pricing::Usd;
use crate::steps::Usage;
use crate::store::{
    CostBreakdown, Kind, ScoreKind, SpanRecord, Status, Store, StoreError, parse_cost_status,
    parse_ids, parse_scores,
};

impl TraceSource for Store {
    fn requests(&self, filter: &RequestFilter) -> Result<Vec<RequestRow>, AnalysisError> {
        let (since, until) = filter.range.nanos();
        // The partial index `spans_requests` holds exactly these rows.
        let mut tail = String::from(
            "WHERE (parent_span_id IS NULL OR step = 'request') AND start_ns >= ?1 AND start_ns < ?2",
        );
        let mut params = vec![SqlValue::Integer(since), SqlValue::Integer(until)];
        for (column, value) in [
            ("user_id", &filter.user),
            ("session_id", &filter.session),
            ("name", &filter.name),
        ] {
            if let Some(value) = value {
                params.push(SqlValue::Text(value.clone()));
                tail.push_str(&format!(" AND {column} = ?{}", params.len()));
            }
        }
        tail.push_str(" ORDER BY start_ns DESC, trace_id, span_id");

        let mut rows = Vec::new();
        let mut failure = None;
        if filter.limit == 0 {
            return Ok(rows);
        }
        // Each trace is read once, at its first candidate (a trace may have
        // many parentless spans); its row waits for its request span's
        // turn in the newest-first order.
        let mut seen: HashMap<TraceId, (SpanId, Option<RequestRow>)> = HashMap::new();
        self.scan_where(&tail, &params, false, &mut |candidate| {
            if let Some((root, row)) = seen.get_mut(&candidate.trace_id) {
                if *root == candidate.span_id
                    && let Some(row) = row.take()
                {
                    rows.push(row);
                }
            } else {
                let spans = match trace_spans(self, candidate.trace_id, false) {
                    Ok(spans) => spans,
                    Err(error) => {
                        failure = Some(error);
                        return ControlFlow::Break(());
                    }
                };
                let Some(root) = request_span(&spans) else {
                    return ControlFlow::Continue(());
                };
                let row = RequestRow::of(root, &spans);
                let row = filter.accepts(&row, &spans).then_some(row);
                if root.span_id == candidate.span_id {
                    rows.extend(row);
                    seen.insert(candidate.trace_id, (root.span_id, None));
                } else {
                    seen.insert(candidate.trace_id, (root.span_id, row));
                }
            }
            if rows.len() >= filter.limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        match failure {
            Some(error) => Err(error.into()),
            None => Ok(rows),
        }
    }

    fn find_traces(&self, prefix: &str, limit: usize) -> Result<Vec<TraceId>, AnalysisError> {
        let prefix = prefix.to_ascii_lowercase();
        let upper = next_prefix(&prefix);
        let (sql, params): (&str, Vec<SqlValue>) = match upper {
            Some(upper) => (
                "SELECT DISTINCT trace_id FROM spans WHERE trace_id >= ?1 AND trace_id < ?2 \
                 ORDER BY trace_id LIMIT ?3",
                vec![
                    SqlValue::Text(prefix.clone()),
                    SqlValue::Text(upper),
                    SqlValue::Integer(limit as i64),
                ],
            ),
            None => (
                "SELECT DISTINCT trace_id FROM spans WHERE trace_id >= ?1 \
                 ORDER BY trace_id LIMIT ?2",
                vec![
                    SqlValue::Text(prefix.clone()),
                    SqlValue::Integer(limit as i64),
                ],
            ),
        };
        let mut statement = self.conn.prepare_cached(sql).map_err(|e| self.sqlite(e))?;
        let hexes = statement
            .query_map(rusqlite::params_from_iter(params), |row| {
                row.get::<_, String>(0)
            })
            .map_err(|e| self.sqlite(e))?;
        let mut found = Vec::new();
        for hex in hexes {
            let hex = hex.map_err(|e| self.sqlite(e))?;
            let id = TraceId::from_hex(&hex).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                trace_id: hex.clone(),
                span_id: String::new(),
                column: "trace_id",
                message: e.to_string(),
            })?;
            found.push(id);
        }
        Ok(found)
    }

    fn trace(&self, trace_id: TraceId) -> Result<Vec<SpanRecord>, AnalysisError> {
        Ok(trace_spans(self, trace_id, true)?)
    }

    fn traces(
        &self,
        range: &TimeRange,
        visit: &mut dyn FnMut(&[SpanRecord]) -> ControlFlow<()>,
    ) -> Result<(), AnalysisError> {
        let (since, until) = range.nanos();
        let (tail, params) = if range.since.is_none() && range.until.is_none() {
            ("ORDER BY trace_id, start_ns, span_id", Vec::new())
        } else {
            (
                "WHERE trace_id IN (SELECT trace_id FROM spans WHERE start_ns >= ?1 AND start_ns < ?2) \
                 ORDER BY trace_id, start_ns, span_id",
                vec![SqlValue::Integer(since), SqlValue::Integer(until)],
            )
        };
        let mut current: Vec<SpanRecord> = Vec::new();
        let mut stopped = false;
        self.scan_where(tail, &params, false, &mut |span| {
            if current
                .first()
                .is_some_and(|first| first.trace_id != span.trace_id)
            {
                let flow = visit(&current);
                current.clear();
                if flow.is_break() {
                    stopped = true;
                    return flow;
                }
            }
            current.push(span);
            ControlFlow::Continue(())
        })?;
        if !stopped && !current.is_empty() {
            let _ = visit(&current);
        }
        Ok(())
    }

    fn report_traces(
        &self,
        range: &TimeRange,
        visit: &mut dyn FnMut(&[SpanRecord]) -> ControlFlow<()>,
    ) -> Result<(), AnalysisError> {
        report_traces_in(self, range, None, visit)
    }

    fn report_parts(
        &self,
        parts: usize,
    ) -> Result<Option<Vec<Box<dyn TraceSource + Send>>>, AnalysisError> {
        // One connection per part, on the same file; a store in memory
        // (or a temporary one, with no name) cannot be opened twice.
        let name = self.path.as_os_str();
        if parts < 2 || name.is_empty() || name == ":memory:" {
            return Ok(None);
        }
        let parts = parts.min(16);
        let mut out: Vec<Box<dyn TraceSource + Send>> = Vec::with_capacity(parts);
        for i in 0..parts {
            // Trace ids are random hex: split on their first digit.
            let bound = |i: usize| (i < parts).then(|| format!("{:x}", i * 16 / parts));
            let from = if i == 0 { None } else { bound(i) };
            out.push(Box::new(TraceIdRange {
                store: Store::open_read_only(&self.path)?,
                ids: (from, bound(i + 1)),
            }));
        }
        Ok(Some(out))
    }

    fn retrievals(
        &self,
        range: &TimeRange,
        visit: &mut dyn FnMut(RetrievalFact) -> ControlFlow<()>,
    ) -> Result<(), AnalysisError> {
        let (since, until) = range.nanos();
        // The partial index `spans_retrievals` holds these columns of
        // exactly these rows, in this order: the table is never read.
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT trace_id, start_ns, span_id, name, status, collection, top_score, \
                 score_kind, scores, document_ids FROM spans INDEXED BY spans_retrievals \
                 WHERE step = 'retrieval' AND start_ns >= ?1 AND start_ns < ?2 \
                 ORDER BY start_ns, trace_id, span_id",
            )
            .map_err(|e| self.sqlite(e))?;
        let mut rows = statement
            .query(rusqlite::params![since, until])
            .map_err(|e| self.sqlite(e))?;
        while let Some(row) = rows.next().map_err(|e| self.sqlite(e))? {
            let fact = decode_retrieval_row(row).map_err(|e| self.bad_row(row, e))?;
            if visit(fact).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// `report_traces` over the traces whose id is in `[ids.0, ids.1)` (either
/// end open), or over all of them.
fn report_traces_in(
    store: &Store,
    range: &TimeRange,
    ids: Option<&(Option<String>, Option<String>)>,
    visit: &mut dyn FnMut(&[SpanRecord]) -> ControlFlow<()>,
) -> Result<(), AnalysisError> {
    let (since, until) = range.nanos();
    // Unbounded: the `spans_trace` index in order, alone. Bounded: the
    // traces with a span in range (from `spans_start`), each looked up in
    // `spans_trace`, in trace order. A part of the trace ids: the same,
    // over that stretch of the index.
    let mut conditions: Vec<&str> = Vec::new();
    let mut params: Vec<SqlValue> = Vec::new();
    // A range that covers much of the store is cheaper as a walk of the
    // whole index, keeping the traces with a span in range, than as a
    // lookup of each trace found in range (`spans_start` holds no trace
    // id, so that reads the table).
    let bounded = range.since.is_some() || range.until.is_some();
    let walk = bounded && {
        let (first, last): (Option<i64>, Option<i64>) = store
            .conn
            .query_row(
                "SELECT min(start_ns), max(start_ns) FROM spans",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(|e| store.sqlite(e))?;
        match (first, last) {
            (Some(first), Some(last)) if last > first => {
                let covered = until.min(last).saturating_sub(since.max(first));
                covered as f64 / (last - first) as f64 > 0.1
            }
            _ => true,
        }
    };
    let in_range = |spans: &[SpanRecord]| {
        !walk
            || spans.iter().any(|span| {
                let start = super::range::to_nanos(span.start);
                start >= since && start < until
            })
    };
    if bounded && !walk {
        conditions.push(
            "trace_id IN (SELECT trace_id FROM spans INDEXED BY spans_start \
             WHERE start_ns >= ? AND start_ns < ?)",
        );
        params.extend([SqlValue::Integer(since), SqlValue::Integer(until)]);
    }
    if let Some((from, to)) = ids {
        if let Some(from) = from {
            conditions.push("trace_id >= ?");
            params.push(SqlValue::Text(from.clone()));
        }
        if let Some(to) = to {
            conditions.push("trace_id < ?");
            params.push(SqlValue::Text(to.clone()));
        }
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {} ", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {REPORT_COLUMNS} FROM spans INDEXED BY spans_trace {filter}\
         ORDER BY trace_id, start_ns, span_id"
    );
    let mut statement = store
        .conn
        .prepare_cached(&sql)
        .map_err(|e| store.sqlite(e))?;
    let mut rows = statement
        .query(rusqlite::params_from_iter(params))
        .map_err(|e| store.sqlite(e))?;
    // The records of the current trace, reused from trace to trace so
    // that reading allocates nothing once warm.
    let mut spans: Vec<SpanRecord> = Vec::new();
    let mut len = 0;
    while let Some(row) = rows.next().map_err(|e| store.sqlite(e))? {
        let trace_id = match row.get_ref(0).map_err(|e| store.sqlite(e))? {
            ValueRef::Text(hex) => parse_hex(hex).map(TraceId::from),
            _ => None,
        };
        let Some(trace_id) = trace_id else {
            let value = row.get_ref(0).map_err(|e| store.sqlite(e))?;
            return Err(store
                .corrupt(value, "", "trace_id", "not a trace id")
                .into());
        };
        if len > 0 && spans[0].trace_id != trace_id {
            let flow = if in_range(&spans[..len]) {
                visit(&spans[..len])
            } else {
                ControlFlow::Continue(())
            };
            len = 0;
            if flow.is_break() {
                return Ok(());
            }
        }
        if len == spans.len() {
            spans.push(blank_record());
        }
        spans[len].trace_id = trace_id;
        decode_report_row(row, &mut spans[len]).map_err(|e| store.bad_row(row, e))?;
        len += 1;
    }
    if len > 0 && in_range(&spans[..len]) {
        let _ = visit(&spans[..len]);
    }
    Ok(())
}

/// A store read over one stretch of trace ids (for `report_parts`): its
/// `report_traces` yields only those traces; every other query reads the
/// whole store.
struct TraceIdRange {
    store: Store,
    ids: (Option<String>, Option<String>),
}

impl TraceSource for TraceIdRange {
    fn requests(&self, filter: &RequestFilter) -> Result<Vec<RequestRow>, AnalysisError> {
        TraceSource::requests(&self.store, filter)
    }

    fn find_traces(&self, prefix: &str, limit: usize) -> Result<Vec<TraceId>, AnalysisError> {
        TraceSource::find_traces(&self.store, prefix, limit)
    }

    fn trace(&self, trace_id: TraceId) -> Result<Vec<SpanRecord>, AnalysisError> {
        TraceSource::trace(&self.store, trace_id)
    }

    fn traces(
        &self,
        range: &TimeRange,
        visit: &mut dyn FnMut(&[SpanRecord]) -> ControlFlow<()>,
    ) -> Result<(), AnalysisError> {
        TraceSource::traces(&self.store, range, visit)
    }

    fn report_traces(
        &self,
        range: &TimeRange,
        visit: &mut dyn FnMut(&[SpanRecord]) -> ControlFlow<()>,
    ) -> Result<(), AnalysisError> {
        report_traces_in(&self.store, range, Some(&self.ids), visit)
    }

    fn retrievals(
        &self,
        range: &TimeRange,
        visit: &mut dyn FnMut(RetrievalFact) -> ControlFlow<()>,
    ) -> Result<(), AnalysisError> {
        TraceSource::retrievals(&self.store, range, visit)
    }
}

/// The columns a cost report reads, in the order of the `spans_trace`
/// index (schema v2), which holds all of them: reading traces in trace
/// order then walks that index alone, never the table and its payload.
const REPORT_COLUMNS: &str = "trace_id, start_ns, span_id, parent_span_id, name, duration_ns, \
    status, service, step, model, provider, input_tokens, output_tokens, cache_read_tokens, \
    cache_write_tokens, reasoning_tokens, usage_estimated, cost_picousd, cost_status, \
    cost_input_picousd, cost_cache_read_picousd, cost_cache_write_picousd, cost_output_picousd, \
    cost_reasoning_picousd, user_id, session_id";

/// A value of a row that does not read back.
enum RowError {
    Sqlite(rusqlite::Error),
    Bad(&'static str, String),
}

impl From<rusqlite::Error> for RowError {
    fn from(error: rusqlite::Error) -> Self {
        RowError::Sqlite(error)
    }
}

impl Store {
    fn bad_row(&self, row: &rusqlite::Row<'_>, error: RowError) -> StoreError {
        match error {
            RowError::Sqlite(source) => self.sqlite(source),
            RowError::Bad(column, message) => {
                let text = |i| match row.get_ref(i) {
                    Ok(ValueRef::Text(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
                    _ => String::new(),
                };
                StoreError::Corrupt {
                    path: self.path.clone(),
                    trace_id: text(0),
                    span_id: text(2),
                    column,
                    message,
                }
            }
        }
    }

    fn corrupt(
        &self,
        value: ValueRef<'_>,
        span_id: &str,
        column: &'static str,
        message: &str,
    ) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            trace_id: match value {
                ValueRef::Text(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                other => format!("{other:?}"),
            },
            span_id: span_id.to_owned(),
            column,
            message: message.to_owned(),
        }
    }
}

/// A record with nothing in it, to be filled by [`decode_report_row`].
fn blank_record() -> SpanRecord {
    SpanRecord {
        trace_id: TraceId::INVALID,
        span_id: SpanId::INVALID,
        parent_span_id: None,
        name: String::new(),
        kind: Kind::Internal,
        start: SystemTime::UNIX_EPOCH,
        duration: Duration::ZERO,
        status: Status::Unset,
        status_message: None,
        service: None,
        scope: None,
        step: None,
        operation: None,
        model: None,
        provider: None,
        usage: None,
        cost: None,
        cost_status: None,
        cost_source: None,
        cost_breakdown: None,
        top_score: None,
        scores: None,
        score_kind: None,
        collection: None,
        document_ids: None,
        user_id: None,
        session_id: None,
        error_type: None,
        attributes: Default::default(),
        events: Vec::new(),
        links: Vec::new(),
        resource: Default::default(),
        dropped_attributes: 0,
        dropped_events: 0,
    }
}

/// Lower-case (or upper-case) hex to an integer; `None` if it is not
/// exactly hex digits.
fn parse_hex(bytes: &[u8]) -> Option<u128> {
    if bytes.is_empty() || bytes.len() > 32 {
        return None;
    }
    let mut value = 0_u128;
    for &b in bytes {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        value = value << 4 | u128::from(digit);
    }
    Some(value)
}

fn text<'r>(
    row: &'r rusqlite::Row<'_>,
    i: usize,
    column: &'static str,
) -> Result<Option<&'r str>, RowError> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|e| RowError::Bad(column, format!("not UTF-8: {e}"))),
        other => Err(RowError::Bad(column, format!("not text: {other:?}"))),
    }
}

fn int(row: &rusqlite::Row<'_>, i: usize, column: &'static str) -> Result<Option<i64>, RowError> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(n) => Ok(Some(n)),
        other => Err(RowError::Bad(column, format!("not an integer: {other:?}"))),
    }
}

/// Sets `slot` to `value`, reusing the string already there.
fn set(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(old), Some(new)) => {
            old.clear();
            old.push_str(new);
        }
        (None, Some(new)) => *slot = Some(new.to_owned()),
        (_, None) => *slot = None,
    }
}

/// Fills `record` (its trace id already set) from a row of
/// [`REPORT_COLUMNS`]; what those columns do not hold is left empty.
fn decode_report_row(row: &rusqlite::Row<'_>, record: &mut SpanRecord) -> Result<(), RowError> {
    // Ids are parsed from the bytes (hex digits are ASCII: no UTF-8 check).
    let id = |i: usize, column: &'static str| -> Result<Option<u128>, RowError> {
        match row.get_ref(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(hex) => parse_hex(hex).map(Some).ok_or_else(|| {
                RowError::Bad(
                    column,
                    format!("not a hex id: {}", String::from_utf8_lossy(hex)),
                )
            }),
            other => Err(RowError::Bad(column, format!("not text: {other:?}"))),
        }
    };
    record.start = from_nanos(int(row, 1, "start_ns")?.unwrap_or(0));
    let span_id = id(2, "span_id")?.ok_or_else(|| RowError::Bad("span_id", "missing".into()))?;
    record.span_id = SpanId::from(span_id as u64);
    record.parent_span_id = id(3, "parent_span_id")?.map(|p| SpanId::from(p as u64));
    record.name.clear();
    record
        .name
        .push_str(text(row, 4, "name")?.unwrap_or_default());
    record.duration = Duration::from_nanos(int(row, 5, "duration_ns")?.unwrap_or(0).max(0) as u64);
    let status = text(row, 6, "status")?.unwrap_or_default();
    record.status =
        Status::parse(status).ok_or_else(|| RowError::Bad("status", status.to_owned()))?;
    set(&mut record.service, text(row, 7, "service")?);
    set(&mut record.step, text(row, 8, "step")?);
    set(&mut record.model, text(row, 9, "model")?);
    set(&mut record.provider, text(row, 10, "provider")?);
    // The writer stores the five token columns together (all or none),
    // and the cost split only beside a cost: a span with neither (most
    // spans that are not model calls) costs two values rather than twelve.
    let input = int(row, 11, "input_tokens")?;
    let tokens = if input.is_none() {
        [None; 5]
    } else {
        [
            input,
            int(row, 12, "output_tokens")?,
            int(row, 13, "cache_read_tokens")?,
            int(row, 14, "cache_write_tokens")?,
            int(row, 15, "reasoning_tokens")?,
        ]
    };
    record.usage = match tokens {
        [None, None, None, None, None] => None,
        [input, output, cache_read, cache_write, reasoning] => {
            let n = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
            let mut usage = Usage::new(n(input), n(output))
                .with_cache_read(n(cache_read))
                .with_cache_write(n(cache_write))
                .with_reasoning(n(reasoning));
            usage.estimated = int(row, 16, "usage_estimated")?.is_some_and(|v| v != 0);
            Some(usage)
        }
    };
    record.cost = int(row, 17, "cost_picousd")?.map(|p| Usd::from_picos(i128::from(p)));
    record.cost_status = match text(row, 18, "cost_status")? {
        Some(status) => Some(
            parse_cost_status(status)
                .ok_or_else(|| RowError::Bad("cost_status", status.to_owned()))?,
        ),
        None => None,
    };
    let parts = if record.cost.is_none() {
        [None; 5]
    } else {
        [
            int(row, 19, "cost_input_picousd")?,
            int(row, 20, "cost_cache_read_picousd")?,
            int(row, 21, "cost_cache_write_picousd")?,
            int(row, 22, "cost_output_picousd")?,
            int(row, 23, "cost_reasoning_picousd")?,
        ]
    };
    record.cost_breakdown = if parts.iter().all(Option::is_none) {
        None
    } else {
        let usd = |p: Option<i64>| Usd::from_picos(i128::from(p.unwrap_or(0)));
        Some(CostBreakdown::new(
            usd(parts[0]),
            usd(parts[1]),
            usd(parts[2]),
            usd(parts[3]),
            usd(parts[4]),
        ))
    };
    set(&mut record.user_id, text(row, 24, "user_id")?);
    set(&mut record.session_id, text(row, 25, "session_id")?);
    Ok(())
}

/// A retrieval from a row of the `retrievals` query.
fn decode_retrieval_row(row: &rusqlite::Row<'_>) -> Result<RetrievalFact, RowError> {
    let hex = |i: usize, column: &'static str| match row.get_ref(i)? {
        ValueRef::Text(hex) => parse_hex(hex).ok_or_else(|| {
            RowError::Bad(
                column,
                format!("not a hex id: {}", String::from_utf8_lossy(hex)),
            )
        }),
        other => Err(RowError::Bad(column, format!("not text: {other:?}"))),
    };
    let status = text(row, 4, "status")?.unwrap_or_default();
    let status = Status::parse(status).ok_or_else(|| RowError::Bad("status", status.to_owned()))?;
    let score_kind = match text(row, 7, "score_kind")? {
        Some(kind) => Some(
            ScoreKind::parse(kind).ok_or_else(|| RowError::Bad("score_kind", kind.to_owned()))?,
        ),
        None => None,
    };
    let top_score = match row.get_ref(6)? {
        ValueRef::Null => None,
        ValueRef::Real(x) => Some(x),
        ValueRef::Integer(n) => Some(n as f64),
        other => {
            return Err(RowError::Bad(
                "top_score",
                format!("not a number: {other:?}"),
            ));
        }
    };
    Ok(RetrievalFact {
        trace_id: TraceId::from(hex(0, "trace_id")?),
        start: from_nanos(int(row, 1, "start_ns")?.unwrap_or(0)),
        name: text(row, 3, "name")?.unwrap_or_default().to_owned(),
        collection: text(row, 5, "collection")?.map(str::to_owned),
        scores: match text(row, 8, "scores")? {
            Some(scores) => parse_scores(scores).map_err(|m| RowError::Bad("scores", m))?,
            None => Vec::new(),
        },
        top_score,
        document_ids: match text(row, 9, "document_ids")? {
            Some(ids) => parse_ids(ids).map_err(|m| RowError::Bad("document_ids", m))?,
            None => Vec::new(),
        },
        score_kind,
        error: status == Status::Error,
    })
}

/// Every span of a trace, by start time.
fn trace_spans(
    store: &Store,
    trace_id: TraceId,
    payload: bool,
) -> Result<Vec<SpanRecord>, StoreError> {
    let mut spans = Vec::new();
    store.scan_where(
        "WHERE trace_id = ?1 ORDER BY start_ns, span_id",
        &[SqlValue::Text(trace_id.to_string())],
        payload,
        &mut |span| {
            spans.push(span);
            ControlFlow::Continue(())
        },
    )?;
    Ok(spans)
}

/// The smallest string greater than every string starting with `prefix`
/// (lower-case hex), `None` if there is none (`ff...`).
fn next_prefix(prefix: &str) -> Option<String> {
    let mut bytes = prefix.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        let next = match last {
            b'0'..=b'8' | b'a'..=b'e' => last + 1,
            b'9' => b'a',
            _ => continue,
        };
        bytes.push(next);
        return String::from_utf8(bytes).ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::next_prefix;

    #[test]
    fn prefix_ranges() {
        assert_eq!(next_prefix("4bf9").as_deref(), Some("4bfa"));
        assert_eq!(next_prefix("49").as_deref(), Some("4a"));
        assert_eq!(next_prefix("4f").as_deref(), Some("5"));
        assert_eq!(next_prefix("ff"), None);
    }
}
