//! [`ConsoleExporter`]: each finished request as an indented tree, for a
//! developer watching a terminal.
//!
//! ```text
//! answer  214.0 ms  1,207 in / 80 out  $0.0002275  trace 4bf92f3577b34da6a3ce929d0e0e4736
//! ├─ embeddings text-embedding-3-small  12.1 ms  7 in  $0.00000014
//! ├─ retrieval docs  30.0 ms  3 hits, top 0.910
//! ├─ prompt rag-default  0.2 ms
//! └─ chat gpt-4o-mini  150.3 ms  1,200 in (1,024 cached) / 80 out  $0.0002274
//!    · eval relevance = 0.8 (relevant)
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::span_data::{resource_attributes, span_parts};
use crate::instrument::keys;
use crate::pricing::{CostStatus, Usd};
use crate::store::value::{read_f64, read_str, read_u64};
use crate::store::{Attributes, SpanRecord, Status};

/// Spans held while waiting for their root, at most.
const MAX_PENDING_SPANS: usize = 10_000;
/// Spans whose root has not ended after this long are printed without it.
const MAX_PENDING_AGE: Duration = Duration::from_secs(120);

/// Prints each finished trace as a tree: durations, tokens, cost, retrieval
/// scores, errors and evaluations.
///
/// Spans are held until their local root ends (or for two minutes at most,
/// then printed as a partial tree), so put it behind a
/// [`QueueProcessor`](super::QueueProcessor) with a short flush interval.
pub struct ConsoleExporter {
    state: Mutex<Pending>,
    resource: Arc<Attributes>,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleExporter").finish_non_exhaustive()
    }
}

struct Pending {
    out: Box<dyn Write + Send>,
    traces: HashMap<TraceId, (Instant, Vec<SpanRecord>)>,
    order: VecDeque<TraceId>,
    spans: usize,
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        ConsoleExporter::new()
    }
}

impl ConsoleExporter {
    /// Prints to standard error.
    pub fn new() -> Self {
        ConsoleExporter::to_writer(std::io::stderr())
    }

    /// Prints to `out`.
    pub fn to_writer(out: impl Write + Send + 'static) -> Self {
        ConsoleExporter {
            state: Mutex::new(Pending {
                out: Box::new(out),
                traces: HashMap::new(),
                order: VecDeque::new(),
                spans: 0,
            }),
            resource: Arc::default(),
        }
    }

    fn print(&self, batch: Vec<SpanData>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut text = String::new();
        for span in batch {
            let local_root = span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote;
            let record = span_parts(span, &self.resource).into_record(None);
            let trace_id = record.trace_id;
            if local_root {
                let mut spans = match state.traces.remove(&trace_id) {
                    Some((_, spans)) => {
                        state.spans -= spans.len();
                        spans
                    }
                    None => Vec::new(),
                };
                let root_id = record.span_id;
                spans.push(record);
                render(&mut text, &spans, Some(root_id));
            } else {
                let entry = state
                    .traces
                    .entry(trace_id)
                    .or_insert_with(|| (Instant::now(), Vec::new()));
                let fresh = entry.1.is_empty();
                entry.1.push(record);
                state.spans += 1;
                if fresh {
                    state.order.push_back(trace_id);
                }
            }
        }
        // Print what waited too long, or does not fit, without its root.
        while let Some(oldest) = state.order.front().copied() {
            let expired = match state.traces.get(&oldest) {
                None => true,
                Some((since, _)) => {
                    state.spans > MAX_PENDING_SPANS || since.elapsed() > MAX_PENDING_AGE
                }
            };
            if !expired {
                break;
            }
            state.order.pop_front();
            if let Some((_, spans)) = state.traces.remove(&oldest) {
                state.spans -= spans.len();
                render(&mut text, &spans, None);
            }
        }
        if !text.is_empty() {
            // One write per batch, so trees from other threads do not interleave.
            let _ = state.out.write_all(text.as_bytes());
            let _ = state.out.flush();
        }
    }
}

impl SpanExporter for ConsoleExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.print(batch);
        std::future::ready(Ok(()))
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut text = String::new();
        let order = std::mem::take(&mut state.order);
        for trace_id in order {
            if let Some((_, spans)) = state.traces.remove(&trace_id) {
                render(&mut text, &spans, None);
            }
        }
        state.spans = 0;
        let _ = state.out.write_all(text.as_bytes());
        let _ = state.out.flush();
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource_attributes(resource);
    }
}

/// Renders one trace: from its root, or (root missing) from every span
/// whose parent is not among the spans.
pub(crate) fn render(out: &mut String, spans: &[SpanRecord], root: Option<SpanId>) {
    let ids: HashMap<SpanId, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id, i))
        .collect();
    let mut children: HashMap<SpanId, Vec<usize>> = HashMap::new();
    let mut tops: Vec<usize> = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match span.parent_span_id {
            Some(parent) if ids.contains_key(&parent) && Some(span.span_id) != root => {
                children.entry(parent).or_default().push(i);
            }
            _ if Some(span.span_id) == root => {}
            _ => tops.push(i),
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(|&i| spans[i].start);
    }
    tops.sort_by_key(|&i| spans[i].start);
    match root.and_then(|id| ids.get(&id).copied()) {
        Some(root) => {
            let span = &spans[root];
            let _ = writeln!(out, "{}  trace {}", root_line(span, spans), span.trace_id);
            events(out, span, "");
            let mut under: Vec<usize> = children.remove(&span.span_id).unwrap_or_default();
            // Spans whose parent never arrived still belong to the request.
            under.extend(tops);
            tree(out, spans, &under, &mut children, "");
        }
        None => {
            if let Some(first) = tops.first() {
                let _ = writeln!(out, "(root not seen)  trace {}", spans[*first].trace_id);
            }
            tree(out, spans, &tops, &mut children, "");
        }
    }
}

fn tree(
    out: &mut String,
    spans: &[SpanRecord],
    nodes: &[usize],
    children: &mut HashMap<SpanId, Vec<usize>>,
    indent: &str,
) {
    for (n, &i) in nodes.iter().enumerate() {
        let last = n + 1 == nodes.len();
        let span = &spans[i];
        let _ = writeln!(
            out,
            "{indent}{}{}",
            if last { "└─ " } else { "├─ " },
            line(span)
        );
        let deeper = format!("{indent}{}", if last { "   " } else { "│  " });
        events(out, span, &deeper);
        let kids = children.remove(&span.span_id).unwrap_or_default();
        tree(out, spans, &kids, children, &deeper);
    }
}

/// The root's line: the request's totals (its own roll-up when ragtrace
/// recorded one, else the sum of the spans).
fn root_line(root: &SpanRecord, spans: &[SpanRecord]) -> String {
    let a = &root.attributes;
    let mut text = format!("{}  {}", root.name, duration(root.duration));
    let rolled_input = a
        .get(keys::RAGTRACE_REQUEST_INPUT_TOKENS)
        .and_then(read_u64);
    let (input, cached, output) = match rolled_input {
        Some(input) => (
            input,
            a.get(keys::RAGTRACE_REQUEST_CACHE_READ_TOKENS)
                .and_then(read_u64)
                .unwrap_or(0),
            a.get(keys::RAGTRACE_REQUEST_OUTPUT_TOKENS)
                .and_then(read_u64)
                .unwrap_or(0),
        ),
        None => spans
            .iter()
            .filter_map(|s| s.usage)
            .fold((0, 0, 0), |t, u| {
                (
                    t.0 + u.input_tokens,
                    t.1 + u.cache_read_input_tokens,
                    t.2 + u.output_tokens,
                )
            }),
    };
    // Any estimated count makes the total an estimate.
    let estimated = match a.get(keys::RAGTRACE_REQUEST_USAGE_ESTIMATED) {
        Some(value) => value.as_bool().unwrap_or(false),
        None => spans.iter().any(|s| s.usage.is_some_and(|u| u.estimated)),
    };
    if input + output > 0 {
        text.push_str("  ");
        text.push_str(&tokens(input, cached, output, 0, estimated));
    }
    let rolled_cost = a
        .get(keys::RAGTRACE_REQUEST_COST_PICOUSD)
        .and_then(read_u64)
        .map(|p| Usd::from_picos(i128::from(p)));
    let rolled_status = a
        .get(keys::RAGTRACE_REQUEST_COST_STATUS)
        .and_then(read_str)
        .map(str::to_owned);
    let (cost, status) = match rolled_status {
        Some(status) => (rolled_cost, Some(status)),
        None => {
            let priced: Vec<&SpanRecord> =
                spans.iter().filter(|s| s.cost_status.is_some()).collect();
            let status = priced
                .iter()
                .filter_map(|s| s.cost_status)
                .reduce(CostStatus::combine)
                .map(|s| s.as_str().to_owned());
            let cost: Usd = priced.iter().filter_map(|s| s.cost).sum();
            (Some(cost), status)
        }
    };
    match (status.as_deref(), cost) {
        (Some("unpriced"), _) => text.push_str("  unpriced"),
        (Some("partial"), Some(cost)) => {
            let _ = write!(text, "  ${cost} (partial)");
        }
        (Some(_), Some(cost)) => {
            let _ = write!(text, "  ${cost}");
        }
        _ => {}
    }
    if root.status == Status::Error {
        text.push_str("  ERROR");
    }
    text
}

/// One span's line.
fn line(span: &SpanRecord) -> String {
    let mut text = format!("{}  {}", span.name, duration(span.duration));
    if let Some(u) = span.usage {
        text.push_str("  ");
        let show_output = span.step.as_deref() != Some("embeddings") || u.output_tokens > 0;
        text.push_str(&tokens(
            u.input_tokens,
            u.cache_read_input_tokens,
            if show_output { u.output_tokens } else { 0 },
            u.reasoning_output_tokens,
            u.estimated,
        ));
    }
    match (span.cost_status, span.cost) {
        (Some(CostStatus::Unpriced), _) => text.push_str("  unpriced"),
        (Some(CostStatus::Partial), Some(cost)) => {
            let _ = write!(text, "  ${cost} (partial)");
        }
        (_, Some(cost)) => {
            let _ = write!(text, "  ${cost}");
        }
        _ => {}
    }
    if let Some(scores) = &span.scores {
        let _ = write!(text, "  {} hits", scores.len());
        if let Some(top) = span.top_score {
            let _ = write!(text, ", top {top:.3}");
        }
    }
    if span
        .attributes
        .get(keys::RAGTRACE_CANCELLED)
        .is_some_and(|v| v.as_bool() == Some(true))
    {
        text.push_str("  cancelled");
    }
    if span.status == Status::Error {
        text.push_str("  ERROR");
        if let Some(kind) = &span.error_type {
            let _ = write!(text, " {kind}");
        }
        if let Some(message) = &span.status_message {
            let _ = write!(text, ": {message}");
        }
    }
    text
}

/// Evaluation results and log lines recorded on the span.
fn events(out: &mut String, span: &SpanRecord, indent: &str) {
    for event in &span.events {
        let a = &event.attributes;
        if event.name == keys::GEN_AI_EVALUATION_RESULT {
            let name = a
                .get(keys::GEN_AI_EVALUATION_NAME)
                .and_then(read_str)
                .unwrap_or("evaluation");
            let _ = write!(out, "{indent}   · eval {name}");
            if let Some(score) = a
                .get(keys::GEN_AI_EVALUATION_SCORE_VALUE)
                .and_then(read_f64)
            {
                let _ = write!(out, " = {score}");
            }
            if let Some(label) = a
                .get(keys::GEN_AI_EVALUATION_SCORE_LABEL)
                .and_then(read_str)
            {
                let _ = write!(out, " ({label})");
            }
            out.push('\n');
        } else if let Some(level) = a.get("level").and_then(read_str) {
            // A tracing event inside the span (tracing-opentelemetry records
            // its level); show warnings and errors only.
            if matches!(level, "WARN" | "ERROR") {
                let _ = writeln!(out, "{indent}   · {level} {}", event.name);
            }
        }
    }
}

fn tokens(input: u64, cached: u64, output: u64, reasoning: u64, estimated: bool) -> String {
    let mut text = String::new();
    if estimated {
        text.push('~');
    }
    let _ = write!(text, "{} in", thousands(input));
    if cached > 0 {
        let _ = write!(text, " ({} cached)", thousands(cached));
    }
    if output > 0 {
        let _ = write!(text, " / {} out", thousands(output));
        if reasoning > 0 {
            let _ = write!(text, " ({} reasoning)", thousands(reasoning));
        }
    }
    text
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{} µs", d.as_micros())
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SpanParts;
    use serde_json::json;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn span(
        id: u64,
        parent: Option<u64>,
        name: &str,
        ms: (u64, u64),
        attrs: serde_json::Value,
    ) -> SpanRecord {
        let t = |ms: u64| UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms);
        let mut parts = SpanParts::new(
            TraceId::from(7_u128),
            SpanId::from(id),
            name,
            t(ms.0),
            t(ms.1),
        );
        parts.parent_span_id = parent.map(SpanId::from);
        parts.attributes = attrs.as_object().cloned().unwrap_or_default();
        parts.into_record(None)
    }

    #[test]
    fn a_request_renders_as_a_tree_with_totals() {
        let _ = SystemTime::now();
        let spans = vec![
            span(
                2,
                Some(1),
                "embeddings text-embedding-3-small",
                (0, 12),
                json!({
                    "ragtrace.step": "embeddings", "gen_ai.request.model": "m",
                    "gen_ai.usage.input_tokens": 7, "ragtrace.cost.picousd": 140_000, "ragtrace.cost.status": "priced"
                }),
            ),
            span(
                3,
                Some(1),
                "retrieval docs",
                (12, 42),
                json!({
                    "ragtrace.step": "retrieval", "ragtrace.retrieval.scores": [0.91, 0.84, 0.62]
                }),
            ),
            span(
                4,
                Some(1),
                "chat gpt-4o-mini",
                (42, 192),
                json!({
                    "ragtrace.step": "chat", "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 80,
                    "gen_ai.usage.cache_read.input_tokens": 1024,
                    "ragtrace.cost.status": "unpriced"
                }),
            ),
            span(5, Some(4), "http post", (50, 190), json!({})),
            span(
                1,
                None,
                "answer",
                (0, 214),
                json!({
                    "ragtrace.step": "request",
                    "ragtrace.request.input_tokens": 1207, "ragtrace.request.output_tokens": 80,
                    "ragtrace.request.cache_read_tokens": 1024,
                    "ragtrace.request.cost_status": "partial", "ragtrace.request.cost_picousd": 140_000
                }),
            ),
        ];
        let mut out = String::new();
        render(&mut out, &spans, Some(SpanId::from(1)));
        let expected = "\
answer  214.0 ms  1,207 in (1,024 cached) / 80 out  $0.00000014 (partial)  trace 00000000000000000000000000000007
├─ embeddings text-embedding-3-small  12.0 ms  7 in  $0.00000014
├─ retrieval docs  30.0 ms  3 hits, top 0.910
└─ chat gpt-4o-mini  150.0 ms  1,200 in (1,024 cached) / 80 out  unpriced
   └─ http post  140.0 ms
";
        assert_eq!(out, expected);
    }

    #[test]
    fn spans_without_their_root_still_print() {
        let spans = vec![span(3, Some(1), "retrieval docs", (0, 5), json!({}))];
        let mut out = String::new();
        render(&mut out, &spans, None);
        assert!(out.starts_with("(root not seen)"), "{out}");
        assert!(out.contains("└─ retrieval docs  5.0 ms"), "{out}");
    }

    #[test]
    fn big_numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }
}
