//! `ragtrace show`: one request as a tree of spans, each with its timing
//! against the request, tokens, exact cost and what the step did.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, TraceId};
use serde::Serialize;

use super::requests::{RequestRow, hex, request_span, rfc3339, seconds};
use super::source::{AnalysisError, TraceSource, resolve_trace};
use super::totals::{Tokens, usd};
use crate::instrument::keys;
use crate::pricing::Usd;
use crate::store::value::{read_bool, read_f64, read_str, read_u64};
use crate::store::{SpanRecord, Status};

/// Documents listed per retrieval in the tree.
const DOCUMENTS_SHOWN: usize = 5;

/// A request as a tree: the spans in display order (depth first, children
/// by start time), each with its depth.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TraceTree {
    /// The request: its root and the sums over all spans.
    pub request: RequestRow,
    /// When the earliest span started (offsets count from here).
    #[serde(serialize_with = "rfc3339")]
    pub start: SystemTime,
    /// From the earliest start to the last end.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
    /// The spans, depth first.
    pub nodes: Vec<TreeNode>,
}

/// One span of the tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TreeNode {
    /// The span.
    #[serde(serialize_with = "hex")]
    pub span_id: SpanId,
    /// Its parent, if any.
    #[serde(serialize_with = "opt_hex")]
    pub parent_span_id: Option<SpanId>,
    /// Nesting depth (0 for the root and for spans whose parent was not stored).
    pub depth: usize,
    /// `true` if the span is the last child of its parent (for drawing).
    pub last_child: bool,
    /// The span name.
    pub name: String,
    /// The RAG step.
    pub step: Option<String>,
    /// Start, from the trace's start.
    #[serde(serialize_with = "seconds")]
    pub offset: Duration,
    /// How long it took.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
    /// `ok`, `error` or `unset`.
    pub status: &'static str,
    /// The status message or `error.type` of a failure.
    pub error: Option<String>,
    /// The stream or call was cancelled (dropped early).
    pub cancelled: bool,
    /// The model.
    pub model: Option<String>,
    /// The provider.
    pub provider: Option<String>,
    /// Tokens by kind, if the span reports usage.
    pub tokens: Option<Tokens>,
    /// The token counts are estimates (a tokenizer, not the provider).
    pub estimated: bool,
    /// The span's own cost, exact.
    #[serde(serialize_with = "opt_usd")]
    pub cost: Option<Usd>,
    /// `priced`, `partial` or `unpriced` for model calls.
    pub cost_status: Option<&'static str>,
    /// What a retrieval returned.
    pub retrieval: Option<RetrievalDetail>,
    /// What a prompt build kept.
    pub prompt: Option<PromptDetail>,
    /// Quality judgements recorded on the span.
    pub evaluations: Vec<Evaluation>,
}

/// What a retrieval returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RetrievalDetail {
    /// The collection searched.
    pub collection: Option<String>,
    /// Hits returned.
    pub returned: u64,
    /// The best score.
    pub top_score: Option<f64>,
    /// `similarity`, `distance`, or `None` when not recorded.
    pub score_kind: Option<&'static str>,
    /// The first hits: id (when recorded) and score, in rank order.
    pub hits: Vec<(Option<String>, Option<f64>)>,
}

/// What a prompt build kept of the chunks it was offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PromptDetail {
    /// Chunks offered.
    pub offered: u64,
    /// Chunks included whole.
    pub included: u64,
    /// Chunks cut to fit.
    pub truncated: u64,
    /// Chunks left out.
    pub dropped: u64,
    /// Tokens of the built prompt.
    pub tokens: Option<u64>,
    /// The budget it was built under.
    pub budget_tokens: Option<u64>,
}

/// A `gen_ai.evaluation.result` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Evaluation {
    /// What was judged (`relevance`, `groundedness`, ...).
    pub name: String,
    /// The score.
    pub score: Option<f64>,
    /// The label.
    pub label: Option<String>,
    /// Why.
    pub explanation: Option<String>,
}

/// Reads one trace, given its id or a unique prefix, and builds its tree.
pub fn show(source: &dyn TraceSource, trace: &str) -> Result<TraceTree, AnalysisError> {
    let trace_id: TraceId = resolve_trace(source, trace)?;
    let spans = source.trace(trace_id)?;
    build_tree(&spans).ok_or_else(|| AnalysisError::NoSuchTrace {
        prefix: trace.to_owned(),
    })
}

/// Builds the tree of a trace's spans (by start time); `None` if empty.
pub fn build_tree(spans: &[SpanRecord]) -> Option<TraceTree> {
    let root = request_span(spans)?;
    let request = RequestRow::of(root, spans);
    let start = spans.iter().map(|s| s.start).min()?;
    let end = spans.iter().map(SpanRecord::end).max()?;

    let ids: HashSet<SpanId> = spans.iter().map(|s| s.span_id).collect();
    let mut children: HashMap<Option<SpanId>, Vec<usize>> = HashMap::new();
    for (i, span) in spans.iter().enumerate() {
        // A span whose parent was not stored hangs at the top.
        let parent = span
            .parent_span_id
            .filter(|p| ids.contains(p) && *p != span.span_id);
        children.entry(parent).or_default().push(i);
    }
    // The request's root first, then other top-level spans by start.
    if let Some(top) = children.get_mut(&None) {
        top.sort_by_key(|&i| (spans[i].span_id != root.span_id, spans[i].start));
    }

    let mut nodes = Vec::with_capacity(spans.len());
    let mut visited = vec![false; spans.len()];
    // Depth first without recursion: (index, depth, last child).
    let mut stack: Vec<(usize, usize, bool)> = Vec::new();
    let push_children = |stack: &mut Vec<(usize, usize, bool)>, list: &[usize], depth: usize| {
        for (n, &i) in list.iter().enumerate().rev() {
            stack.push((i, depth, n + 1 == list.len()));
        }
    };
    if let Some(top) = children.get(&None) {
        push_children(&mut stack, top, 0);
    }
    while let Some((i, depth, last)) = stack.pop() {
        if std::mem::replace(&mut visited[i], true) {
            continue;
        }
        nodes.push(node(&spans[i], start, depth, last));
        if let Some(list) = children.get(&Some(spans[i].span_id)) {
            push_children(&mut stack, list, depth + 1);
        }
    }
    // Spans in a parent cycle never reached from the top: list them flat.
    for (i, span) in spans.iter().enumerate() {
        if !visited[i] {
            nodes.push(node(span, start, 0, true));
        }
    }
    Some(TraceTree {
        request,
        start,
        duration: end.duration_since(start).unwrap_or(Duration::ZERO),
        nodes,
    })
}

fn node(span: &SpanRecord, start: SystemTime, depth: usize, last_child: bool) -> TreeNode {
    let a = &span.attributes;
    let error = (span.status == Status::Error).then(|| {
        let message = span.status_message.clone().filter(|m| !m.is_empty());
        match (&span.error_type, message) {
            (Some(kind), Some(message)) => format!("{kind}: {message}"),
            (Some(kind), None) => kind.clone(),
            (None, Some(message)) => message,
            (None, None) => "failed".to_owned(),
        }
    });
    let retrieval =
        (span.step.as_deref() == Some("retrieval") || span.scores.is_some()).then(|| {
            let scores = span.scores.clone().unwrap_or_default();
            let ids = span.document_ids.clone().unwrap_or_default();
            let returned = a
                .get(keys::RAGTRACE_RETRIEVAL_RETURNED)
                .and_then(read_u64)
                .unwrap_or(scores.len().max(ids.len()) as u64);
            let shown = scores.len().max(ids.len()).min(DOCUMENTS_SHOWN);
            RetrievalDetail {
                collection: span.collection.clone(),
                returned,
                top_score: span.top_score,
                score_kind: span.score_kind.map(|k| k.as_str()),
                hits: (0..shown)
                    .map(|i| {
                        (
                            ids.get(i).cloned(),
                            scores.get(i).copied().filter(|s| s.is_finite()),
                        )
                    })
                    .collect(),
            }
        });
    let count = |key| a.get(key).and_then(read_u64);
    let prompt = count(keys::RAGTRACE_PROMPT_CHUNKS_OFFERED).map(|offered| PromptDetail {
        offered,
        included: count(keys::RAGTRACE_PROMPT_CHUNKS_INCLUDED).unwrap_or(0),
        truncated: count(keys::RAGTRACE_PROMPT_CHUNKS_TRUNCATED).unwrap_or(0),
        dropped: count(keys::RAGTRACE_PROMPT_CHUNKS_DROPPED).unwrap_or(0),
        tokens: count(keys::RAGTRACE_PROMPT_TOKENS),
        budget_tokens: count(keys::RAGTRACE_PROMPT_BUDGET_TOKENS),
    });
    let evaluations = span
        .events
        .iter()
        .filter(|e| e.name == keys::GEN_AI_EVALUATION_RESULT)
        .map(|e| {
            let text = |key| e.attributes.get(key).and_then(read_str).map(str::to_owned);
            Evaluation {
                name: text(keys::GEN_AI_EVALUATION_NAME).unwrap_or_else(|| "evaluation".into()),
                score: e
                    .attributes
                    .get(keys::GEN_AI_EVALUATION_SCORE_VALUE)
                    .and_then(read_f64),
                label: text(keys::GEN_AI_EVALUATION_SCORE_LABEL),
                explanation: text(keys::GEN_AI_EVALUATION_EXPLANATION),
            }
        })
        .collect();
    TreeNode {
        span_id: span.span_id,
        parent_span_id: span.parent_span_id,
        depth,
        last_child,
        name: span.name.clone(),
        step: span.step.clone(),
        offset: span.start.duration_since(start).unwrap_or(Duration::ZERO),
        duration: span.duration,
        status: span.status.as_str(),
        error,
        cancelled: a
            .get(keys::RAGTRACE_CANCELLED)
            .and_then(read_bool)
            .unwrap_or(false),
        model: span.model.clone(),
        provider: span.provider.clone(),
        tokens: span.usage.is_some().then(|| Tokens::of(span)),
        estimated: span.usage.is_some_and(|u| u.estimated),
        cost: span.cost,
        cost_status: span.cost_status.map(|s| s.as_str()),
        retrieval,
        prompt,
        evaluations,
    }
}

fn opt_hex<S: serde::Serializer>(id: &Option<SpanId>, serializer: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => serializer.collect_str(id),
        None => serializer.serialize_none(),
    }
}

fn opt_usd<S: serde::Serializer>(value: &Option<Usd>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => usd(value, serializer),
        None => serializer.serialize_none(),
    }
}
