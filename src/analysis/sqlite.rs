//! The analysis queries against the SQLite [`Store`]: the one place that
//! knows its SQL.

use std::ops::ControlFlow;

use opentelemetry::trace::TraceId;
use rusqlite::types::Value as SqlValue;

use super::range::TimeRange;
use super::requests::{RequestFilter, RequestRow, request_span};
use super::retrievals::RetrievalFact;
use super::source::{AnalysisError, TraceSource};
use crate::store::{SpanRecord, Store, StoreError};

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
        self.scan_where(&tail, &params, false, &mut |candidate| {
            let spans = match trace_spans(self, candidate.trace_id, false) {
                Ok(spans) => spans,
                Err(error) => {
                    failure = Some(error);
                    return ControlFlow::Break(());
                }
            };
            // A trace is listed once, at its request span.
            let Some(root) = request_span(&spans) else {
                return ControlFlow::Continue(());
            };
            if root.span_id != candidate.span_id {
                return ControlFlow::Continue(());
            }
            let row = RequestRow::of(root, &spans);
            if filter.accepts(&row, &spans) {
                rows.push(row);
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

    fn retrievals(
        &self,
        range: &TimeRange,
        visit: &mut dyn FnMut(RetrievalFact) -> ControlFlow<()>,
    ) -> Result<(), AnalysisError> {
        let (since, until) = range.nanos();
        let params = [SqlValue::Integer(since), SqlValue::Integer(until)];
        self.scan_where(
            "WHERE start_ns >= ?1 AND start_ns < ?2 AND step = 'retrieval' \
             ORDER BY start_ns, trace_id, span_id",
            &params,
            false,
            &mut |span| visit(RetrievalFact::of(span)),
        )?;
        Ok(())
    }
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
