//! Between [`SpanRecord`] and a `spans` row.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, TraceId};
use rusqlite::Row;
use serde_json::{Map, Value};

use super::record::{
    CostBreakdown, CostSource, Kind, ScoreKind, SpanEvent, SpanLink, SpanRecord, Status,
    parse_cost_status,
};
use super::value::{Attributes, double, read_f64};
use crate::pricing::Usd;
use crate::steps::Usage;

/// Nanoseconds since the Unix epoch (negative before it), saturating.
pub(crate) fn to_nanos(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos())
            .map(|n| -n)
            .unwrap_or(i64::MIN),
    }
}

/// The inverse of [`to_nanos`].
pub(crate) fn from_nanos(nanos: i64) -> SystemTime {
    if nanos >= 0 {
        UNIX_EPOCH + Duration::from_nanos(nanos as u64)
    } else {
        UNIX_EPOCH - Duration::from_nanos(nanos.unsigned_abs())
    }
}

fn duration_nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The insert statement; `?33` is the resource id.
pub(crate) const INSERT_SPAN: &str = "INSERT OR REPLACE INTO spans (
    trace_id, span_id, parent_span_id, name, kind, start_ns, duration_ns, status,
    status_message, service, scope, step, operation, model, provider,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
    usage_estimated, cost_picousd, cost_status, cost_source, top_score, scores,
    user_id, session_id, error_type, attributes, events, links, resource_id,
    dropped_attributes, dropped_events, cost_input_picousd, cost_cache_read_picousd,
    cost_cache_write_picousd, cost_output_picousd, cost_reasoning_picousd, score_kind,
    collection, document_ids
) VALUES (
    ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
    ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35,
    ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43
)";

/// Lower-case hex of `bytes` into `out` (which is twice as long).
fn hex_into<'b>(bytes: &[u8], out: &'b mut [u8]) -> &'b str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
    }
    // Only ASCII digits were written.
    std::str::from_utf8(out).unwrap_or_default()
}

/// Writes records as rows. It keeps its buffers between rows: a span's
/// attributes are kilobytes of JSON, and growing a fresh string for each
/// one cost more than SQLite's own work.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    attributes: Vec<u8>,
}

impl Encoder {
    /// Binds every column of `record` and runs the insert; `resource_id`
    /// is the row id of its resource.
    pub(crate) fn insert(
        &mut self,
        statement: &mut rusqlite::CachedStatement<'_>,
        record: &SpanRecord,
        resource_id: Option<i64>,
    ) -> rusqlite::Result<usize> {
        let r = record;
        let mut trace_buf = [0_u8; 32];
        let mut span_buf = [0_u8; 16];
        let mut parent_buf = [0_u8; 16];
        let trace_id = hex_into(&r.trace_id.to_bytes(), &mut trace_buf);
        let span_id = hex_into(&r.span_id.to_bytes(), &mut span_buf);
        let parent_span_id = r
            .parent_span_id
            .map(|id| hex_into(&id.to_bytes(), &mut parent_buf));
        let tokens = match &r.usage {
            Some(u) => [
                Some(count(u.input_tokens)),
                Some(count(u.output_tokens)),
                Some(count(u.cache_read_input_tokens)),
                Some(count(u.cache_write_input_tokens)),
                Some(count(u.reasoning_output_tokens)),
            ],
            None => [None; 5],
        };
        self.attributes.clear();
        serde_json::to_writer(&mut self.attributes, &r.attributes)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let attributes = std::str::from_utf8(&self.attributes)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let scores = r
            .scores
            .as_ref()
            .map(|scores| Value::Array(scores.iter().map(|s| double(*s)).collect()).to_string());
        let parts = match &r.cost_breakdown {
            Some(b) => [b.input, b.cache_read, b.cache_write, b.output, b.reasoning]
                .map(|usd| Some(usd.picos_i64())),
            None => [None; 5],
        };
        let document_ids = r.document_ids.as_ref().map(|ids| {
            Value::Array(ids.iter().map(|id| Value::String(id.clone())).collect()).to_string()
        });
        let events = (!r.events.is_empty()).then(|| events_json(&r.events));
        let links = (!r.links.is_empty()).then(|| links_json(&r.links));
        statement.execute(rusqlite::params![
            trace_id,
            span_id,
            parent_span_id,
            r.name,
            r.kind.as_str(),
            to_nanos(r.start),
            duration_nanos(r.duration),
            r.status.as_str(),
            r.status_message,
            r.service,
            r.scope,
            r.step,
            r.operation,
            r.model,
            r.provider,
            tokens[0],
            tokens[1],
            tokens[2],
            tokens[3],
            tokens[4],
            r.usage.map(|u| u.estimated),
            r.cost.map(Usd::picos_i64),
            r.cost_status.map(|s| s.as_str()),
            r.cost_source.map(|s| s.as_str()),
            r.top_score.filter(|s| s.is_finite()),
            scores,
            r.user_id,
            r.session_id,
            r.error_type,
            attributes,
            events,
            links,
            resource_id,
            i64::from(r.dropped_attributes),
            i64::from(r.dropped_events),
            parts[0],
            parts[1],
            parts[2],
            parts[3],
            parts[4],
            r.score_kind.map(ScoreKind::as_str),
            r.collection,
            document_ids,
        ])
    }
}

/// A JSON array of strings.
pub(crate) fn parse_ids(text: &str) -> Result<Vec<String>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .collect()),
        _ => Err(format!("not a JSON array: {text}")),
    }
}

/// The `scores` column: a JSON array of numbers (non-numbers read as NaN).
pub(crate) fn parse_scores(text: &str) -> Result<Vec<f64>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items
            .iter()
            .map(|v| read_f64(v).unwrap_or(f64::NAN))
            .collect()),
        _ => Err(format!("not a JSON array: {text}")),
    }
}

/// The cost parts (columns 35 to 39), if the row has them.
fn breakdown(row: &Row<'_>) -> rusqlite::Result<Option<CostBreakdown>> {
    let parts: [Option<i64>; 5] = [
        row.get(35)?,
        row.get(36)?,
        row.get(37)?,
        row.get(38)?,
        row.get(39)?,
    ];
    if parts.iter().all(Option::is_none) {
        return Ok(None);
    }
    let usd = |p: Option<i64>| Usd::from_picos(i128::from(p.unwrap_or(0)));
    Ok(Some(CostBreakdown::new(
        usd(parts[0]),
        usd(parts[1]),
        usd(parts[2]),
        usd(parts[3]),
        usd(parts[4]),
    )))
}

fn events_json(events: &[SpanEvent]) -> String {
    let items: Vec<Value> = events
        .iter()
        .map(|e| {
            let mut item = Map::new();
            item.insert("name".into(), Value::String(e.name.clone()));
            item.insert("time_ns".into(), Value::from(to_nanos(e.time)));
            item.insert("attributes".into(), Value::Object(e.attributes.clone()));
            Value::Object(item)
        })
        .collect();
    Value::Array(items).to_string()
}

fn links_json(links: &[SpanLink]) -> String {
    let items: Vec<Value> = links
        .iter()
        .map(|l| {
            let mut item = Map::new();
            item.insert("trace_id".into(), Value::String(l.trace_id.to_string()));
            item.insert("span_id".into(), Value::String(l.span_id.to_string()));
            item.insert("attributes".into(), Value::Object(l.attributes.clone()));
            Value::Object(item)
        })
        .collect();
    Value::Array(items).to_string()
}

/// The columns a [`decode`] expects, in order.
pub(crate) const SELECT_COLUMNS: &str = "trace_id, span_id, parent_span_id, name, kind, start_ns, \
    duration_ns, status, status_message, service, scope, step, operation, model, provider, \
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, \
    usage_estimated, cost_picousd, cost_status, cost_source, top_score, scores, user_id, \
    session_id, error_type, attributes, events, links, resource_id, dropped_attributes, \
    dropped_events, cost_input_picousd, cost_cache_read_picousd, cost_cache_write_picousd, \
    cost_output_picousd, cost_reasoning_picousd, score_kind, collection, document_ids";

/// A row that does not read back: which column, and why.
pub(crate) struct BadColumn {
    pub(crate) trace_id: String,
    pub(crate) span_id: String,
    pub(crate) column: &'static str,
    pub(crate) message: String,
}

/// Row decoding failure: SQLite's, or ours.
pub(crate) enum DecodeError {
    Sqlite(rusqlite::Error),
    Bad(BadColumn),
}

impl From<rusqlite::Error> for DecodeError {
    fn from(error: rusqlite::Error) -> Self {
        DecodeError::Sqlite(error)
    }
}

/// Decodes rows, sharing each resource among the rows that use it.
pub(crate) struct Decoder<'c> {
    pub(crate) payload: bool,
    resources: HashMap<i64, Arc<Attributes>>,
    conn: &'c rusqlite::Connection,
}

impl<'c> Decoder<'c> {
    pub(crate) fn new(conn: &'c rusqlite::Connection, payload: bool) -> Self {
        Decoder {
            payload,
            resources: HashMap::new(),
            conn,
        }
    }

    pub(crate) fn decode(&mut self, row: &Row<'_>) -> Result<SpanRecord, DecodeError> {
        let trace_hex: String = row.get(0)?;
        let span_hex: String = row.get(1)?;
        let bad = |column: &'static str, message: String| {
            DecodeError::Bad(BadColumn {
                trace_id: trace_hex.clone(),
                span_id: span_hex.clone(),
                column,
                message,
            })
        };
        let trace_id = TraceId::from_hex(&trace_hex)
            .map_err(|e| bad("trace_id", format!("not a trace id: {e}")))?;
        let span_id = SpanId::from_hex(&span_hex)
            .map_err(|e| bad("span_id", format!("not a span id: {e}")))?;
        let parent_span_id = match row.get::<_, Option<String>>(2)? {
            Some(hex) => Some(
                SpanId::from_hex(&hex)
                    .map_err(|e| bad("parent_span_id", format!("not a span id: {e}")))?,
            ),
            None => None,
        };
        let kind_text: String = row.get(4)?;
        let kind = Kind::parse(&kind_text).ok_or_else(|| bad("kind", kind_text.clone()))?;
        let status_text: String = row.get(7)?;
        let status = Status::parse(&status_text).ok_or_else(|| bad("status", status_text))?;
        let tokens: [Option<i64>; 5] = [
            row.get(15)?,
            row.get(16)?,
            row.get(17)?,
            row.get(18)?,
            row.get(19)?,
        ];
        let usage = match tokens {
            [None, None, None, None, None] => None,
            [input, output, cache_read, cache_write, reasoning] => {
                let n = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
                let mut usage = Usage::new(n(input), n(output))
                    .with_cache_read(n(cache_read))
                    .with_cache_write(n(cache_write))
                    .with_reasoning(n(reasoning));
                usage.estimated = row.get::<_, Option<bool>>(20)?.unwrap_or(false);
                Some(usage)
            }
        };
        let cost_status = match row.get::<_, Option<String>>(22)? {
            Some(text) => Some(parse_cost_status(&text).ok_or_else(|| bad("cost_status", text))?),
            None => None,
        };
        let cost_source = match row.get::<_, Option<String>>(23)? {
            Some(text) => Some(CostSource::parse(&text).ok_or_else(|| bad("cost_source", text))?),
            None => None,
        };
        let scores = match row.get::<_, Option<String>>(25)? {
            Some(text) => Some(parse_scores(&text).map_err(|m| bad("scores", m))?),
            None => None,
        };
        let (attributes, events, links, resource) = if self.payload {
            let attributes: String = row.get(29)?;
            let attributes = parse_object(&attributes).map_err(|m| bad("attributes", m))?;
            let events = match row.get::<_, Option<String>>(30)? {
                Some(text) => parse_events(&text).map_err(|m| bad("events", m))?,
                None => Vec::new(),
            };
            let links = match row.get::<_, Option<String>>(31)? {
                Some(text) => parse_links(&text).map_err(|m| bad("links", m))?,
                None => Vec::new(),
            };
            let resource = match row.get::<_, Option<i64>>(32)? {
                Some(id) => self.resource(id).map_err(|e| match e {
                    DecodeError::Bad(b) => bad("resource_id", b.message),
                    other => other,
                })?,
                None => Arc::default(),
            };
            (attributes, events, links, resource)
        } else {
            (Attributes::new(), Vec::new(), Vec::new(), Arc::default())
        };
        Ok(SpanRecord {
            trace_id,
            span_id,
            parent_span_id,
            name: row.get(3)?,
            kind,
            start: from_nanos(row.get(5)?),
            duration: Duration::from_nanos(row.get::<_, i64>(6)?.max(0) as u64),
            status,
            status_message: row.get(8)?,
            service: row.get(9)?,
            scope: row.get(10)?,
            step: row.get(11)?,
            operation: row.get(12)?,
            model: row.get(13)?,
            provider: row.get(14)?,
            usage,
            cost: row
                .get::<_, Option<i64>>(21)?
                .map(|p| Usd::from_picos(i128::from(p))),
            cost_status,
            cost_source,
            cost_breakdown: breakdown(row)?,
            top_score: row.get(24)?,
            scores,
            score_kind: match row.get::<_, Option<String>>(40)? {
                Some(text) => Some(ScoreKind::parse(&text).ok_or_else(|| bad("score_kind", text))?),
                None => None,
            },
            collection: row.get(41)?,
            document_ids: match row.get::<_, Option<String>>(42)? {
                Some(text) => Some(parse_ids(&text).map_err(|m| bad("document_ids", m))?),
                None => None,
            },
            user_id: row.get(26)?,
            session_id: row.get(27)?,
            error_type: row.get(28)?,
            attributes,
            events,
            links,
            resource,
            dropped_attributes: row.get::<_, i64>(33)?.clamp(0, u32::MAX as i64) as u32,
            dropped_events: row.get::<_, i64>(34)?.clamp(0, u32::MAX as i64) as u32,
        })
    }

    fn resource(&mut self, id: i64) -> Result<Arc<Attributes>, DecodeError> {
        if let Some(found) = self.resources.get(&id) {
            return Ok(Arc::clone(found));
        }
        let text: String = self.conn.query_row(
            "SELECT attributes FROM resources WHERE id = ?1",
            [id],
            |row| row.get(0),
        )?;
        let parsed = Arc::new(parse_object(&text).map_err(|message| {
            DecodeError::Bad(BadColumn {
                trace_id: String::new(),
                span_id: String::new(),
                column: "resource_id",
                message,
            })
        })?);
        self.resources.insert(id, Arc::clone(&parsed));
        Ok(parsed)
    }
}

fn parse_object(text: &str) -> Result<Attributes, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("not a JSON object".to_owned()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

fn parse_array(text: &str) -> Result<Vec<Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) => Err("not a JSON array".to_owned()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

fn parse_events(text: &str) -> Result<Vec<SpanEvent>, String> {
    parse_array(text)?
        .into_iter()
        .map(|item| {
            let Value::Object(mut item) = item else {
                return Err("an event is not an object".to_owned());
            };
            let name = match item.remove("name") {
                Some(Value::String(name)) => name,
                _ => return Err("an event has no name".to_owned()),
            };
            let time = item
                .get("time_ns")
                .and_then(Value::as_i64)
                .map(from_nanos)
                .ok_or("an event has no time_ns")?;
            let attributes = match item.remove("attributes") {
                Some(Value::Object(map)) => map,
                _ => Attributes::new(),
            };
            Ok(SpanEvent::new(name, time, attributes))
        })
        .collect()
}

fn parse_links(text: &str) -> Result<Vec<SpanLink>, String> {
    parse_array(text)?
        .into_iter()
        .map(|item| {
            let Value::Object(mut item) = item else {
                return Err("a link is not an object".to_owned());
            };
            let id = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
            let trace_id = id("trace_id")
                .and_then(|h| TraceId::from_hex(&h).ok())
                .ok_or("a link has no valid trace_id")?;
            let span_id = id("span_id")
                .and_then(|h| SpanId::from_hex(&h).ok())
                .ok_or("a link has no valid span_id")?;
            let attributes = match item.remove("attributes") {
                Some(Value::Object(map)) => map,
                _ => Attributes::new(),
            };
            Ok(SpanLink::new(trace_id, span_id, attributes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lower_case_hex_as_opentelemetry_prints_them() {
        let id = TraceId::from(0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c_u128);
        let mut buf = [0_u8; 32];
        assert_eq!(hex_into(&id.to_bytes(), &mut buf), id.to_string());
        let span = SpanId::from(0xb7ad_6b71_6920_3331_u64);
        let mut buf = [0_u8; 16];
        assert_eq!(hex_into(&span.to_bytes(), &mut buf), span.to_string());
    }

    #[test]
    fn nanos_round_trip_on_both_sides_of_the_epoch() {
        for nanos in [0, 1, 1_700_000_000_123_456_789, -5_000_000_001] {
            assert_eq!(to_nanos(from_nanos(nanos)), nanos);
        }
    }
}
