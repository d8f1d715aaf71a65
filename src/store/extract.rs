//! From a span's raw parts to a [`SpanRecord`]: the columns analysis
//! queries, read from OTel GenAI, OpenInference, Langfuse and ragtrace keys.
//!
//! Both ways into the store (the live sink and OTLP ingest) end here, so a
//! span means the same whichever way it arrived.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, TraceId};
use serde_json::Value;

use super::record::{
    CostBreakdown, CostSource, Kind, ScoreKind, SpanEvent, SpanLink, SpanRecord, Status,
    parse_cost_status,
};
use super::value::{Attributes, read_bool, read_f64, read_str, read_u64};
use crate::instrument::keys;
use crate::pricing::{CostStatus, PriceRequest, Pricer, Usd};
use crate::steps::{StepKind, Usage};

/// A span as it arrived, before the store reads meaning into it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SpanParts {
    /// The trace.
    pub trace_id: TraceId,
    /// This span.
    pub span_id: SpanId,
    /// The parent, `None` for a root.
    pub parent_span_id: Option<SpanId>,
    /// The name.
    pub name: String,
    /// The kind.
    pub kind: Kind,
    /// Start time.
    pub start: SystemTime,
    /// End time.
    pub end: SystemTime,
    /// Status.
    pub status: Status,
    /// Status description.
    pub status_message: Option<String>,
    /// Instrumentation scope name.
    pub scope: Option<String>,
    /// Attributes.
    pub attributes: Attributes,
    /// Events.
    pub events: Vec<SpanEvent>,
    /// Links.
    pub links: Vec<SpanLink>,
    /// Resource attributes.
    pub resource: Arc<Attributes>,
    /// Attributes dropped by the producer.
    pub dropped_attributes: u32,
    /// Events dropped by the producer.
    pub dropped_events: u32,
}

impl SpanParts {
    /// Parts with the given identity and timing, and nothing else.
    pub fn new(
        trace_id: TraceId,
        span_id: SpanId,
        name: impl Into<String>,
        start: SystemTime,
        end: SystemTime,
    ) -> Self {
        SpanParts {
            trace_id,
            span_id,
            parent_span_id: None,
            name: name.into(),
            kind: Kind::Internal,
            start,
            end,
            status: Status::Unset,
            status_message: None,
            scope: None,
            attributes: Attributes::new(),
            events: Vec::new(),
            links: Vec::new(),
            resource: Arc::default(),
            dropped_attributes: 0,
            dropped_events: 0,
        }
    }

    /// Reads the columns out of the attributes. Spans with usage and a model
    /// but no cost are priced with `pricer` at their start time.
    pub fn into_record(self, pricer: Option<&dyn Pricer>) -> SpanRecord {
        let a = &self.attributes;
        let step = step(a);
        let model = first_str(
            a,
            &[
                keys::GEN_AI_RESPONSE_MODEL,
                keys::GEN_AI_REQUEST_MODEL,
                keys::LLM_MODEL_NAME,
                keys::EMBEDDING_MODEL_NAME,
            ],
        );
        let provider = first_str(
            a,
            &[
                keys::GEN_AI_PROVIDER_NAME,
                keys::GEN_AI_SYSTEM,
                keys::LLM_PROVIDER,
                keys::LLM_SYSTEM,
            ],
        );
        let mut reasons: Vec<String> = Vec::new();
        let usage = usage(a).and_then(|usage| match out_of_range_usage(&usage) {
            None => Some(usage),
            Some(reason) => {
                reasons.push(reason);
                None
            }
        });
        let scores = scores(a);
        let score_kind = str_of(a, keys::RAGTRACE_RETRIEVAL_SCORE_KIND).and_then(ScoreKind::parse);
        let top_score = first_f64(a, &[keys::RAGTRACE_RETRIEVAL_TOP_SCORE]).or_else(|| {
            let best = match score_kind {
                Some(ScoreKind::Distance) => f64::min,
                _ => f64::max,
            };
            scores
                .as_deref()
                .and_then(|s| s.iter().copied().filter(|x| x.is_finite()).reduce(best))
        });
        let (mut cost, mut cost_status, mut cost_source) = carried_cost(a);
        if let Some(reason) = cost.and_then(out_of_range_cost) {
            // Never stored as priced: a negative or absurd cost would make
            // every sum over it wrong (or overflow).
            reasons.push(format!("the span's own {reason}"));
            (cost, cost_status, cost_source) = (None, None, None);
        }
        let mut cost_breakdown = cost.and_then(|_| carried_breakdown(a)).filter(|b| {
            [b.input, b.cache_read, b.cache_write, b.output, b.reasoning]
                .into_iter()
                .all(|part| out_of_range_cost(part).is_none())
        });
        let priceable = usage.is_some() && model.is_some();
        if (priceable || !reasons.is_empty()) && cost_status.is_none() {
            cost_status = Some(CostStatus::Unpriced);
        }
        if let (true, None, Some(pricer), Some(model), Some(usage)) =
            (priceable, cost, pricer, model.as_deref(), usage.as_ref())
            && let Some(kind) = priced_step(step.as_deref())
        {
            let mut request = PriceRequest::new(model, kind, usage, self.start);
            request.provider = provider.as_deref();
            request.service_tier = str_of(a, keys::GEN_AI_OPENAI_RESPONSE_SERVICE_TIER);
            let priced = pricer.price(&request);
            cost_status = Some(priced.status);
            if let Some(reason) = out_of_range_cost(priced.total) {
                reasons.push(format!("the priced {reason}"));
                cost_status = Some(CostStatus::Unpriced);
            } else if priced.status != CostStatus::Unpriced {
                cost = Some(priced.total);
                cost_source = Some(CostSource::Pricer);
                cost_breakdown = Some(CostBreakdown::of(&priced));
            }
        }

        let operation = str_of(a, keys::GEN_AI_OPERATION_NAME).map(str::to_owned);
        let collection = first_str(a, &[keys::DB_COLLECTION_NAME, keys::GEN_AI_DATA_SOURCE_ID]);
        let document_ids = document_ids(a);
        let user_id = first_str(
            a,
            &[keys::USER_ID, keys::LANGFUSE_USER_ID, keys::ENDUSER_ID],
        );
        let session_id = first_str(a, &[keys::SESSION_ID, keys::LANGFUSE_SESSION_ID]);
        let error_type = str_of(a, keys::ERROR_TYPE).map(str::to_owned);
        let mut attributes = self.attributes;
        if !reasons.is_empty() {
            attributes.insert(
                keys::RAGTRACE_COST_STATUS_REASON.to_owned(),
                Value::String(reasons.join("; ")),
            );
        }
        SpanRecord {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            kind: self.kind,
            start: self.start,
            duration: self
                .end
                .duration_since(self.start)
                .unwrap_or(Duration::ZERO),
            status: self.status,
            status_message: self.status_message,
            service: self
                .resource
                .get(keys::SERVICE_NAME)
                .and_then(read_str)
                .map(str::to_owned),
            scope: self.scope,
            operation,
            step,
            model,
            provider,
            usage,
            cost,
            cost_status,
            cost_source,
            cost_breakdown,
            top_score,
            scores,
            score_kind,
            collection,
            document_ids,
            user_id,
            session_id,
            error_type,
            name: self.name,
            attributes,
            events: self.events,
            links: self.links,
            resource: self.resource,
            dropped_attributes: self.dropped_attributes,
            dropped_events: self.dropped_events,
        }
    }
}

fn str_of<'a>(a: &'a Attributes, key: &str) -> Option<&'a str> {
    a.get(key).and_then(read_str)
}

fn first_str(a: &Attributes, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| str_of(a, k)).map(str::to_owned)
}

fn first_u64(a: &Attributes, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| a.get(*k).and_then(read_u64))
}

fn first_f64(a: &Attributes, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|k| a.get(*k).and_then(read_f64))
}

/// `ragtrace.step`, else the GenAI operation, else the OpenInference or
/// Langfuse kind.
fn step(a: &Attributes) -> Option<String> {
    if let Some(step) = str_of(a, keys::RAGTRACE_STEP) {
        return Some(step.to_owned());
    }
    let from_operation = str_of(a, keys::GEN_AI_OPERATION_NAME).and_then(|op| match op {
        "embeddings" => Some("embeddings"),
        "retrieval" => Some("retrieval"),
        "rerank" => Some("rerank"),
        "chat" | "text_completion" | "generate_content" => Some("chat"),
        _ => None,
    });
    let from_openinference = || {
        str_of(a, keys::OPENINFERENCE_SPAN_KIND).and_then(|kind| {
            match kind.to_ascii_uppercase().as_str() {
                "EMBEDDING" => Some("embeddings"),
                "RETRIEVER" => Some("retrieval"),
                "RERANKER" => Some("rerank"),
                "LLM" => Some("chat"),
                "PROMPT" => Some("prompt"),
                _ => None,
            }
        })
    };
    let from_langfuse = || {
        str_of(a, keys::LANGFUSE_OBSERVATION_TYPE).and_then(|kind| match kind {
            "generation" => Some("chat"),
            "embedding" => Some("embeddings"),
            "retriever" => Some("retrieval"),
            _ => None,
        })
    };
    from_operation
        .or_else(from_openinference)
        .or_else(from_langfuse)
        .map(str::to_owned)
}

/// Which pricing step a span's usage belongs to; `None` for steps that are
/// not model calls.
pub(crate) fn priced_step(step: Option<&str>) -> Option<StepKind> {
    match step {
        Some("embeddings") => Some(StepKind::Embeddings),
        Some("chat") | None => Some(StepKind::Chat),
        _ => None,
    }
}

/// [`priced_step`] as SQL over the `step` column: the rows it prices.
#[cfg(feature = "store")]
pub(crate) const PRICED_STEP_SQL: &str = "(step IS NULL OR step IN ('chat', 'embeddings'))";

/// Tokens under any of the known names, normalized to ragtrace's inclusive
/// convention (all producers listed report inclusive input counts).
fn usage(a: &Attributes) -> Option<Usage> {
    let input = first_u64(
        a,
        &[
            keys::GEN_AI_USAGE_INPUT_TOKENS,
            keys::GEN_AI_USAGE_PROMPT_TOKENS,
            keys::LLM_TOKEN_COUNT_PROMPT,
        ],
    );
    let output = first_u64(
        a,
        &[
            keys::GEN_AI_USAGE_OUTPUT_TOKENS,
            keys::GEN_AI_USAGE_COMPLETION_TOKENS,
            keys::LLM_TOKEN_COUNT_COMPLETION,
        ],
    );
    let cache_read = first_u64(
        a,
        &[
            keys::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
            keys::LLM_TOKEN_COUNT_PROMPT_CACHE_READ,
        ],
    );
    let cache_write = first_u64(
        a,
        &[
            keys::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
            keys::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
            keys::LLM_TOKEN_COUNT_PROMPT_CACHE_WRITE,
        ],
    );
    let reasoning = first_u64(
        a,
        &[
            keys::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
            keys::LLM_TOKEN_COUNT_COMPLETION_REASONING,
        ],
    );
    // A total alone (some producers report only that) is input we cannot split.
    if input.is_none() && output.is_none() {
        return None;
    }
    let mut usage = Usage::new(input.unwrap_or(0), output.unwrap_or(0))
        .with_cache_read(cache_read.unwrap_or(0))
        .with_cache_write(cache_write.unwrap_or(0))
        .with_reasoning(reasoning.unwrap_or(0));
    usage.estimated = a
        .get(keys::RAGTRACE_USAGE_ESTIMATED)
        .and_then(read_bool)
        .unwrap_or(false);
    Some(usage)
}

/// The cost the span carries: exact picodollars if present, else the USD
/// total under any known alias.
fn carried_cost(a: &Attributes) -> (Option<Usd>, Option<CostStatus>, Option<CostSource>) {
    let status = str_of(a, keys::RAGTRACE_COST_STATUS).and_then(parse_cost_status);
    let exact = a
        .get(keys::RAGTRACE_COST_PICOUSD)
        .and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .map(|picos| Usd::from_picos(i128::from(picos)));
    let cost = exact.or_else(|| {
        first_f64(
            a,
            &[
                keys::RAGTRACE_COST_USD,
                keys::GEN_AI_USAGE_COST,
                keys::LLM_COST_TOTAL,
            ],
        )
        .filter(|usd| usd.is_finite())
        .map(usd_from_f64)
    });
    match cost {
        Some(cost) => (
            Some(cost),
            Some(status.unwrap_or(CostStatus::Priced)),
            Some(CostSource::Span),
        ),
        None => (None, status, None),
    }
}

/// How a carried cost splits by kind: ragtrace's per-kind keys (written
/// only where non-zero), else OpenInference's prompt / completion split.
fn carried_breakdown(a: &Attributes) -> Option<CostBreakdown> {
    let usd = |key: &str| {
        a.get(key)
            .and_then(read_f64)
            .filter(|usd| usd.is_finite())
            .map(usd_from_f64)
    };
    let ours = [
        keys::RAGTRACE_COST_INPUT_USD,
        keys::RAGTRACE_COST_CACHED_INPUT_USD,
        keys::RAGTRACE_COST_CACHE_WRITE_USD,
        keys::RAGTRACE_COST_OUTPUT_USD,
        keys::RAGTRACE_COST_REASONING_USD,
    ]
    .map(usd);
    if a.contains_key(keys::RAGTRACE_COST_PICOUSD) || ours.iter().any(Option::is_some) {
        let [input, cache_read, cache_write, output, reasoning] =
            ours.map(Option::unwrap_or_default);
        return Some(CostBreakdown::new(
            input,
            cache_read,
            cache_write,
            output,
            reasoning,
        ));
    }
    let (prompt, completion) = (usd(keys::LLM_COST_PROMPT), usd(keys::LLM_COST_COMPLETION));
    if prompt.is_none() && completion.is_none() {
        return None;
    }
    Some(CostBreakdown::new(
        prompt.unwrap_or_default(),
        Usd::ZERO,
        Usd::ZERO,
        completion.unwrap_or_default(),
        Usd::ZERO,
    ))
}

/// The most tokens of one kind a span may report (a trillion): more is
/// taken for garbage, not stored, so sums over the store cannot overflow.
pub(crate) const MAX_TOKENS: u64 = 1_000_000_000_000;

/// The most a span may cost (a million dollars, in picodollars).
pub(crate) const MAX_COST_PICOS: i128 = 1_000_000 * 1_000_000_000_000;

/// Why `usage` cannot be stored, if it cannot.
fn out_of_range_usage(usage: &Usage) -> Option<String> {
    let counts = [
        ("input", usage.input_tokens),
        ("output", usage.output_tokens),
        ("cache read", usage.cache_read_input_tokens),
        ("cache write", usage.cache_write_input_tokens),
        ("reasoning", usage.reasoning_output_tokens),
    ];
    let (kind, count) = counts.into_iter().find(|&(_, n)| n > MAX_TOKENS)?;
    Some(format!(
        "{kind} token count {count} is over {MAX_TOKENS}; usage not stored"
    ))
}

/// Why a cost cannot be stored as known, if it cannot.
fn out_of_range_cost(cost: Usd) -> Option<String> {
    let picos = cost.picos();
    if picos < 0 {
        Some(format!("cost {cost} USD is negative; not stored"))
    } else if picos > MAX_COST_PICOS {
        Some(format!("cost {cost} USD is over 1000000 USD; not stored"))
    } else {
        None
    }
}

/// Dollars as an `f64` (from a producer that only has that) to the nearest
/// picodollar.
fn usd_from_f64(usd: f64) -> Usd {
    let picos = (usd * 1e12).round();
    let picos = picos.clamp(i64::MIN as f64, i64::MAX as f64) as i64;
    Usd::from_picos(i128::from(picos))
}

/// Ranked retrieval scores: ragtrace's list, else OpenInference's
/// per-document keys, else the GenAI documents JSON.
fn scores(a: &Attributes) -> Option<Vec<f64>> {
    if let Some(Value::Array(items)) = a.get(keys::RAGTRACE_RETRIEVAL_SCORES) {
        return Some(
            items
                .iter()
                .map(|v| read_f64(v).unwrap_or(f64::NAN))
                .collect(),
        );
    }
    let mut ranked: Vec<(usize, f64)> = a
        .iter()
        .filter_map(|(key, value)| {
            let rank = key
                .strip_prefix(keys::RETRIEVAL_DOCUMENTS_PREFIX)?
                .strip_suffix(keys::RETRIEVAL_DOCUMENT_SCORE_SUFFIX)?
                .parse::<usize>()
                .ok()?;
            Some((rank, read_f64(value).unwrap_or(f64::NAN)))
        })
        .collect();
    if !ranked.is_empty() {
        ranked.sort_by_key(|(rank, _)| *rank);
        return Some(ranked.into_iter().map(|(_, score)| score).collect());
    }
    let documents = match a.get(keys::GEN_AI_RETRIEVAL_DOCUMENTS)? {
        Value::String(text) => serde_json::from_str::<Value>(text).ok()?,
        other => other.clone(),
    };
    let Value::Array(documents) = documents else {
        return None;
    };
    let scores: Vec<f64> = documents
        .iter()
        .filter_map(|doc| doc.get("score").and_then(read_f64))
        .collect();
    (!scores.is_empty()).then_some(scores)
}

/// Ranked document ids: OpenInference's per-document keys, else the GenAI
/// documents JSON.
fn document_ids(a: &Attributes) -> Option<Vec<String>> {
    let mut ranked: Vec<(usize, String)> = a
        .iter()
        .filter_map(|(key, value)| {
            let rank = key
                .strip_prefix(keys::RETRIEVAL_DOCUMENTS_PREFIX)?
                .strip_suffix(keys::RETRIEVAL_DOCUMENT_ID_SUFFIX)?
                .parse::<usize>()
                .ok()?;
            Some((rank, id_text(value)))
        })
        .collect();
    if !ranked.is_empty() {
        ranked.sort_by_key(|(rank, _)| *rank);
        return Some(ranked.into_iter().map(|(_, id)| id).collect());
    }
    let documents = match a.get(keys::GEN_AI_RETRIEVAL_DOCUMENTS)? {
        Value::String(text) => serde_json::from_str::<Value>(text).ok()?,
        other => other.clone(),
    };
    let Value::Array(documents) = documents else {
        return None;
    };
    let ids: Vec<String> = documents
        .iter()
        .filter_map(|doc| doc.get("id").map(id_text))
        .collect();
    (!ids.is_empty()).then_some(ids)
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::Cost;
    use serde_json::json;

    fn parts(attributes: Value) -> SpanParts {
        let mut parts = SpanParts::new(
            TraceId::from(1_u128),
            SpanId::from(2_u64),
            "span",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_001),
        );
        parts.attributes = match attributes {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        parts
    }

    #[test]
    fn ragtrace_keys_fill_every_column() {
        let record = parts(json!({
            "ragtrace.step": "chat",
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.provider.name": "openai",
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.output_tokens": 80,
            "gen_ai.usage.cache_read.input_tokens": 1024,
            "gen_ai.usage.cache_write.input_tokens": 0,
            "gen_ai.usage.reasoning.output_tokens": 16,
            "ragtrace.cost.picousd": 123_456_789,
            "ragtrace.cost.usd": 0.000123456789,
            "ragtrace.cost.status": "priced",
            "user.id": "u-1",
            "session.id": "s-1",
        }))
        .into_record(None);
        assert_eq!(record.step.as_deref(), Some("chat"));
        assert_eq!(record.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
        assert_eq!(record.provider.as_deref(), Some("openai"));
        let usage = record.usage.unwrap();
        assert_eq!(
            (
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_input_tokens
            ),
            (1200, 80, 1024)
        );
        assert_eq!(usage.reasoning_output_tokens, 16);
        assert_eq!(record.cost, Some(Usd::from_picos(123_456_789)));
        assert_eq!(record.cost_status, Some(CostStatus::Priced));
        assert_eq!(record.cost_source, Some(CostSource::Span));
        assert_eq!(record.user_id.as_deref(), Some("u-1"));
        assert_eq!(record.session_id.as_deref(), Some("s-1"));
        assert_eq!(record.duration, Duration::from_secs(1));
    }

    #[test]
    fn openinference_spans_are_understood() {
        let record = parts(json!({
            "openinference.span.kind": "LLM",
            "llm.model_name": "claude-3-5-sonnet",
            "llm.provider": "anthropic",
            "llm.token_count.prompt": "500",
            "llm.token_count.completion": 20,
            "llm.token_count.prompt_details.cache_read": 100,
            "llm.cost.total": 0.0021,
        }))
        .into_record(None);
        assert_eq!(record.step.as_deref(), Some("chat"));
        assert_eq!(record.model.as_deref(), Some("claude-3-5-sonnet"));
        assert_eq!(record.usage.unwrap().input_tokens, 500);
        assert_eq!(record.usage.unwrap().cache_read_input_tokens, 100);
        assert_eq!(record.cost, Some("0.0021".parse().unwrap()));
    }

    #[test]
    fn scores_come_from_any_of_the_three_spellings() {
        let ours = parts(json!({
            "ragtrace.retrieval.scores": [0.9, "NaN", 0.5],
        }))
        .into_record(None);
        let s = ours.scores.unwrap();
        assert_eq!((s[0], s[2]), (0.9, 0.5));
        assert!(s[1].is_nan());
        assert_eq!(ours.top_score, Some(0.9));

        let openinference = parts(json!({
            "openinference.span.kind": "RETRIEVER",
            "retrieval.documents.10.document.score": 0.1,
            "retrieval.documents.2.document.score": 0.7,
            "retrieval.documents.0.document.score": 0.8,
            "retrieval.documents.0.document.id": "a",
        }))
        .into_record(None);
        assert_eq!(openinference.step.as_deref(), Some("retrieval"));
        assert_eq!(openinference.scores, Some(vec![0.8, 0.7, 0.1]));
        assert_eq!(openinference.top_score, Some(0.8));

        let genai = parts(json!({
            "gen_ai.operation.name": "retrieval",
            "gen_ai.retrieval.documents": r#"[{"id":"a","score":0.4},{"id":"b","score":0.6}]"#,
        }))
        .into_record(None);
        assert_eq!(genai.scores, Some(vec![0.4, 0.6]));
        assert_eq!(genai.top_score, Some(0.6));

        let broken = parts(json!({ "gen_ai.retrieval.documents": "[{oops" })).into_record(None);
        assert_eq!(broken.scores, None);
    }

    #[test]
    fn spans_without_cost_are_priced_at_their_start() {
        let captured = Arc::new(std::sync::Mutex::new(None));
        let sink = captured.clone();
        let pricer = move |request: &PriceRequest<'_>| {
            *sink.lock().unwrap() = Some((request.model.to_owned(), request.at));
            let rate: Usd = "1".parse().unwrap();
            Cost::from_parts(
                rate.per_million_tokens(request.usage.input_tokens),
                Usd::ZERO,
                Usd::ZERO,
                Usd::ZERO,
                Usd::ZERO,
            )
        };
        let unpriced = parts(json!({
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 2_000_000,
            "gen_ai.usage.output_tokens": 1,
            "ragtrace.cost.status": "unpriced",
        }));
        let start = unpriced.start;
        let record = unpriced.clone().into_record(Some(&pricer));
        assert_eq!(record.cost, Some("2".parse().unwrap()));
        assert_eq!(record.cost_status, Some(CostStatus::Priced));
        assert_eq!(record.cost_source, Some(CostSource::Pricer));
        assert_eq!(
            captured.lock().unwrap().clone(),
            Some(("gpt-4o".to_owned(), start))
        );
        // Without a pricer the span is unpriced, not free.
        let record = unpriced.into_record(None);
        assert_eq!(record.cost, None);
        assert_eq!(record.cost_status, Some(CostStatus::Unpriced));
    }

    #[test]
    fn spans_that_are_not_model_calls_have_no_cost_status() {
        let record = parts(json!({ "ragtrace.step": "retrieval" })).into_record(None);
        assert_eq!(record.cost_status, None);
        assert_eq!(record.usage, None);
    }
}
