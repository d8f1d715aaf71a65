//! Synthetic but realistic RAG traces for the reading benchmarks: five
//! spans per request (request root with user and session, embeddings,
//! retrieval with five scored documents, prompt, chat with usage and exact
//! cost), a few models, start times spread over a number of days, written
//! through the real write path (`SpanParts` with ragtrace's attribute keys,
//! `into_record(None)`, `Store::insert` in batches). Deterministic: the
//! same seed and size give the same store.
//!
//! Shared by `examples/gen_store` and `benches/analysis.rs`.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, TraceId};
use ragtrace::instrument::keys;
use ragtrace::store::{Attributes, Kind, SpanParts, SpanRecord, Status, Store, StoreError};
use serde_json::{Value, json};

/// Spans per request.
pub const SPANS_PER_REQUEST: u64 = 5;

/// The first request starts here: 2026-10-01T00:00:00Z.
pub const EPOCH_S: u64 = 1_790_812_800;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Requests (each five spans).
    pub requests: u64,
    /// Days the requests are spread over.
    pub days: u64,
    /// The random seed.
    pub seed: u64,
    /// Write only each request's retrieval span (for drift at scale:
    /// `requests` is then the number of retrievals).
    pub retrievals_only: bool,
}

impl Plan {
    /// `spans` spans (rounded down to whole requests) over 30 days.
    pub fn spans(spans: u64) -> Plan {
        Plan {
            requests: spans / SPANS_PER_REQUEST,
            days: 30,
            seed: 42,
            retrievals_only: false,
        }
    }
}

/// SplitMix64: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    /// Roughly Zipf over `[0, n)`: small values are much more frequent.
    pub fn skewed(&mut self, n: u64) -> u64 {
        let u = self.unit();
        ((n as f64).powf(u) - 1.0) as u64 % n
    }
}

/// A chat model: name, provider, picodollars per input, cached input and
/// output token; `None` prices leave it unpriced (a self-hosted model
/// nobody priced).
struct ChatModel {
    name: &'static str,
    provider: &'static str,
    prices: Option<(i64, i64, i64)>,
    /// Cumulative share, in percent.
    upto: u64,
}

const CHAT_MODELS: &[ChatModel] = &[
    ChatModel {
        name: "gpt-4o-mini-2024-07-18",
        provider: "openai",
        prices: Some((150_000, 75_000, 600_000)),
        upto: 55,
    },
    ChatModel {
        name: "gpt-4o-2024-08-06",
        provider: "openai",
        prices: Some((2_500_000, 1_250_000, 10_000_000)),
        upto: 75,
    },
    ChatModel {
        name: "claude-sonnet-4-5-20250929",
        provider: "anthropic",
        prices: Some((3_000_000, 300_000, 15_000_000)),
        upto: 90,
    },
    ChatModel {
        name: "gemini-2.5-flash",
        provider: "gcp.gemini",
        prices: Some((300_000, 75_000, 2_500_000)),
        upto: 97,
    },
    ChatModel {
        name: "llama-3.1-70b-local",
        provider: "vllm",
        prices: None,
        upto: 100,
    },
];

const EMBEDDING_MODELS: &[(&str, i64)] = &[
    ("text-embedding-3-small", 20_000),
    ("text-embedding-3-large", 130_000),
];

const ROUTES: &[&str] = &["answer", "answer", "answer", "search", "summarize"];
const COLLECTIONS: &[&str] = &["docs", "docs", "handbook", "tickets"];
const USERS: u64 = 5_000;
const DOCUMENTS: u64 = 20_000;

fn usd(picos: i64) -> f64 {
    picos as f64 / 1e12
}

/// Writes `plan` into `store` in batches of `batch` spans; returns the
/// number of spans written.
pub fn write(store: &mut Store, plan: &Plan, batch: usize) -> Result<u64, StoreError> {
    let mut generator = Generator::new(plan);
    let mut pending: Vec<SpanRecord> = Vec::with_capacity(batch + 5);
    let mut written = 0;
    for i in 0..plan.requests {
        generator.request(i, &mut pending);
        if pending.len() >= batch {
            written += store.insert(&pending)? as u64;
            pending.clear();
        }
    }
    if !pending.is_empty() {
        written += store.insert(&pending)? as u64;
    }
    Ok(written)
}

/// Makes requests one at a time.
pub struct Generator {
    plan: Plan,
    rng: Rng,
    resource: Arc<Attributes>,
}

impl Generator {
    pub fn new(plan: &Plan) -> Generator {
        let mut resource = Attributes::new();
        resource.insert(keys::SERVICE_NAME.into(), json!("rag-api"));
        resource.insert("service.version".into(), json!("1.4.2"));
        resource.insert("telemetry.sdk.language".into(), json!("rust"));
        Generator {
            plan: *plan,
            rng: Rng::new(plan.seed),
            resource: Arc::new(resource),
        }
    }

    /// The start of request `i`: evenly spread over the days, with jitter.
    fn start(&mut self, i: u64) -> SystemTime {
        let span_ns = self.plan.days * 86_400 * 1_000_000_000;
        let step = span_ns / self.plan.requests.max(1);
        let jitter = self.rng.next() % step.max(1);
        UNIX_EPOCH + Duration::from_secs(EPOCH_S) + Duration::from_nanos(i * step + jitter)
    }

    fn parts(
        &self,
        (trace, span, parent): (TraceId, SpanId, Option<SpanId>),
        name: String,
        start: SystemTime,
        duration_ns: u64,
        attributes: Value,
    ) -> SpanParts {
        let mut parts = SpanParts::new(
            trace,
            span,
            name,
            start,
            start + Duration::from_nanos(duration_ns),
        );
        parts.parent_span_id = parent;
        parts.kind = if parent.is_some() {
            Kind::Client
        } else {
            Kind::Server
        };
        parts.scope = Some("ragtrace".into());
        parts.resource = self.resource.clone();
        if let Value::Object(map) = attributes {
            parts.attributes = map;
        }
        parts
    }

    /// Appends the five spans of request `i` (children first, as they end).
    pub fn request(&mut self, i: u64, out: &mut Vec<SpanRecord>) {
        let r = &mut self.rng;
        let trace = TraceId::from(u128::from(r.next()) << 64 | u128::from(r.next()));
        let ids: Vec<SpanId> = (0..5).map(|_| SpanId::from(r.next() | 1)).collect();
        let start = self.start(i);
        let r = &mut self.rng;
        let day = (i * self.plan.days) / self.plan.requests.max(1);
        let route = ROUTES[r.range(0, ROUTES.len() as u64 - 1) as usize];
        let user = format!("u-{}", r.skewed(USERS));
        let session = format!("s-{:x}", r.next() % (self.plan.requests / 3 + 1));
        let busy = |r: &mut Rng| r.range(10_000, 900_000);

        // Embeddings.
        let (embed_model, embed_rate) = EMBEDDING_MODELS[usize::from(r.range(0, 9) == 0)];
        let embed_tokens = r.range(5, 60) as i64;
        let embed_cost = embed_tokens * embed_rate;
        let embed_ns = r.range(15_000_000, 90_000_000);
        let embed_at = start + Duration::from_nanos(r.range(100_000, 2_000_000));
        let embeddings = json!({
            "busy_ns": busy(r), "idle_ns": busy(r),
            keys::EMBEDDING_MODEL_NAME: embed_model,
            keys::GEN_AI_EMBEDDINGS_DIMENSION_COUNT: 1536,
            keys::GEN_AI_OPERATION_NAME: "embeddings",
            keys::GEN_AI_PROVIDER_NAME: "openai",
            keys::GEN_AI_REQUEST_MODEL: embed_model,
            keys::GEN_AI_USAGE_COST: usd(embed_cost),
            keys::GEN_AI_USAGE_INPUT_TOKENS: embed_tokens,
            keys::LANGFUSE_OBSERVATION_COST_DETAILS:
                format!("{{\"input\":{:e},\"total\":{:e}}}", usd(embed_cost), usd(embed_cost)),
            keys::LANGFUSE_OBSERVATION_TYPE: "embedding",
            keys::LLM_COST_COMPLETION: 0.0,
            keys::LLM_COST_PROMPT: usd(embed_cost),
            keys::LLM_COST_TOTAL: usd(embed_cost),
            keys::LLM_TOKEN_COUNT_PROMPT: embed_tokens,
            keys::LLM_TOKEN_COUNT_TOTAL: embed_tokens,
            keys::OPENINFERENCE_SPAN_KIND: "EMBEDDING",
            keys::RAGTRACE_COST_INPUT_USD: usd(embed_cost),
            keys::RAGTRACE_COST_MODEL_KEY: embed_model,
            keys::RAGTRACE_COST_PICOUSD: embed_cost,
            keys::RAGTRACE_COST_PRICE_VERSION: "2024-01-25",
            keys::RAGTRACE_COST_STATUS: "priced",
            keys::RAGTRACE_COST_TIER: "standard",
            keys::RAGTRACE_COST_USD: usd(embed_cost),
            keys::RAGTRACE_STEP: "embeddings",
            keys::RAGTRACE_USAGE_ESTIMATED: false,
        });

        // Retrieval: five hits; the score level drifts down slowly over
        // the days, and the popular documents shift mid-way.
        let collection = COLLECTIONS[r.range(0, COLLECTIONS.len() as u64 - 1) as usize];
        let level = 0.82 - 0.004 * day as f64;
        let mut scores: Vec<f64> = (0..5)
            .map(|_| (level + 0.12 * (r.unit() - 0.5)).clamp(0.0, 1.0))
            .collect();
        scores.sort_by(|a, b| b.total_cmp(a));
        let shift = if day >= self.plan.days / 2 { 7_000 } else { 0 };
        let documents: Vec<String> = (0..5)
            .map(|_| format!("doc-{:05}", (r.skewed(DOCUMENTS) + shift) % DOCUMENTS))
            .collect();
        let retrieval_ns = r.range(8_000_000, 60_000_000);
        let retrieval_at = embed_at + Duration::from_nanos(embed_ns + r.range(50_000, 500_000));
        let mean = scores.iter().sum::<f64>() / 5.0;
        let mut retrieval = json!({
            "busy_ns": busy(r), "idle_ns": busy(r),
            keys::DB_COLLECTION_NAME: collection,
            keys::GEN_AI_DATA_SOURCE_ID: collection,
            keys::GEN_AI_OPERATION_NAME: "retrieval",
            keys::GEN_AI_REQUEST_TOP_K: 5.0,
            keys::GEN_AI_RETRIEVAL_TOP_K: 5,
            keys::LANGFUSE_OBSERVATION_TYPE: "retriever",
            keys::OPENINFERENCE_SPAN_KIND: "RETRIEVER",
            keys::RAGTRACE_RETRIEVAL_MEAN_SCORE: mean,
            keys::RAGTRACE_RETRIEVAL_MIN_SCORE: scores[4],
            keys::RAGTRACE_RETRIEVAL_RETURNED: 5,
            keys::RAGTRACE_RETRIEVAL_SCORE_KIND: "similarity",
            keys::RAGTRACE_RETRIEVAL_SCORES: scores,
            keys::RAGTRACE_RETRIEVAL_TOP_SCORE: scores[0],
            keys::RAGTRACE_STEP: "retrieval",
        });
        for (rank, (id, score)) in documents.iter().zip(&scores).enumerate() {
            let map = retrieval.as_object_mut().unwrap();
            let at = |suffix: &str| format!("{}{rank}{suffix}", keys::RETRIEVAL_DOCUMENTS_PREFIX);
            map.insert(at(keys::RETRIEVAL_DOCUMENT_ID_SUFFIX), json!(id));
            map.insert(at(keys::RETRIEVAL_DOCUMENT_SCORE_SUFFIX), json!(score));
        }

        // Prompt.
        let context_tokens = r.range(300, 2_500);
        let prompt_tokens = context_tokens + r.range(60, 200);
        let prompt_ns = r.range(500_000, 4_000_000);
        let prompt_at =
            retrieval_at + Duration::from_nanos(retrieval_ns + r.range(50_000, 300_000));
        let dropped = r.range(0, 1);
        let prompt = json!({
            "busy_ns": busy(r), "idle_ns": busy(r),
            keys::GEN_AI_PROMPT_NAME: "rag-default",
            keys::GEN_AI_PROMPT_VERSION: "3",
            keys::LANGFUSE_OBSERVATION_TYPE: "span",
            keys::LLM_PROMPT_TEMPLATE_VERSION: "3",
            keys::OPENINFERENCE_SPAN_KIND: "CHAIN",
            keys::RAGTRACE_PROMPT_BUDGET_TOKENS: 3_000,
            keys::RAGTRACE_PROMPT_CHUNKS_DROPPED: dropped,
            keys::RAGTRACE_PROMPT_CHUNKS_INCLUDED: 5 - dropped,
            keys::RAGTRACE_PROMPT_CHUNKS_OFFERED: 5,
            keys::RAGTRACE_PROMPT_CHUNKS_TRUNCATED: 0,
            keys::RAGTRACE_PROMPT_CONTEXT_TOKENS: context_tokens,
            keys::RAGTRACE_PROMPT_TOKENS: prompt_tokens,
            keys::RAGTRACE_STEP: "prompt",
            keys::RAGTRACE_USAGE_ESTIMATED: true,
        });

        // Chat.
        let pick = r.range(0, 99);
        let model = CHAT_MODELS.iter().find(|m| pick < m.upto).unwrap();
        let input = prompt_tokens as i64;
        let cached = if r.range(0, 2) == 0 { input / 2 } else { 0 };
        let output = r.range(20, 600) as i64;
        let chat_failed = r.range(0, 199) == 0;
        let chat_ns = r.range(300_000_000, 3_000_000_000) + output as u64 * 2_000_000;
        let chat_at = prompt_at + Duration::from_nanos(prompt_ns + r.range(50_000, 300_000));
        let mut chat = json!({
            "busy_ns": busy(r), "idle_ns": busy(r),
            keys::GEN_AI_OPERATION_NAME: "chat",
            keys::GEN_AI_PROVIDER_NAME: model.provider,
            keys::GEN_AI_REQUEST_MODEL: model.name,
            keys::GEN_AI_REQUEST_STREAM: true,
            keys::GEN_AI_REQUEST_TEMPERATURE: 0.2,
            keys::LANGFUSE_OBSERVATION_TYPE: "generation",
            keys::LLM_MODEL_NAME: model.name,
            keys::LLM_PROVIDER: model.provider,
            keys::OPENINFERENCE_SPAN_KIND: "LLM",
            keys::RAGTRACE_STEP: "chat",
        });
        let mut chat_cost = None;
        let mut request_tokens = (embed_tokens, 0_i64, 0_i64);
        if chat_failed {
            let map = chat.as_object_mut().unwrap();
            map.insert(keys::ERROR_TYPE.into(), json!("rate_limit_exceeded"));
        } else {
            request_tokens = (embed_tokens + input, output, cached);
            let map = chat.as_object_mut().unwrap();
            for (key, value) in [
                (keys::GEN_AI_RESPONSE_FINISH_REASONS, json!(["stop"])),
                (keys::GEN_AI_RESPONSE_MODEL, json!(model.name)),
                (keys::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, json!(cached)),
                (keys::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, json!(0)),
                (keys::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, json!(0)),
                (keys::GEN_AI_USAGE_INPUT_TOKENS, json!(input)),
                (keys::GEN_AI_USAGE_OUTPUT_TOKENS, json!(output)),
                (keys::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, json!(0)),
                (keys::LLM_TOKEN_COUNT_COMPLETION, json!(output)),
                (keys::LLM_TOKEN_COUNT_COMPLETION_REASONING, json!(0)),
                (keys::LLM_TOKEN_COUNT_PROMPT, json!(input)),
                (keys::LLM_TOKEN_COUNT_PROMPT_CACHE_READ, json!(cached)),
                (keys::LLM_TOKEN_COUNT_PROMPT_CACHE_WRITE, json!(0)),
                (keys::LLM_TOKEN_COUNT_TOTAL, json!(input + output)),
                (keys::RAGTRACE_USAGE_ESTIMATED, json!(false)),
            ] {
                map.insert(key.into(), value);
            }
            match model.prices {
                Some((input_rate, cached_rate, output_rate)) => {
                    let input_cost = (input - cached) * input_rate;
                    let cached_cost = cached * cached_rate;
                    let output_cost = output * output_rate;
                    let total = input_cost + cached_cost + output_cost;
                    chat_cost = Some(total);
                    for (key, value) in [
                        (keys::GEN_AI_USAGE_COST, json!(usd(total))),
                        (
                            keys::LANGFUSE_OBSERVATION_COST_DETAILS,
                            json!(format!(
                                "{{\"input\":{:e},\"cache_read\":{:e},\"output\":{:e},\"total\":{:e}}}",
                                usd(input_cost),
                                usd(cached_cost),
                                usd(output_cost),
                                usd(total)
                            )),
                        ),
                        (keys::LLM_COST_COMPLETION, json!(usd(output_cost))),
                        (keys::LLM_COST_PROMPT, json!(usd(input_cost + cached_cost))),
                        (keys::LLM_COST_TOTAL, json!(usd(total))),
                        (keys::RAGTRACE_COST_INPUT_USD, json!(usd(input_cost))),
                        (keys::RAGTRACE_COST_OUTPUT_USD, json!(usd(output_cost))),
                        (keys::RAGTRACE_COST_MODEL_KEY, json!(model.name)),
                        (keys::RAGTRACE_COST_PICOUSD, json!(total)),
                        (keys::RAGTRACE_COST_PRICE_VERSION, json!("2025-06-01")),
                        (keys::RAGTRACE_COST_STATUS, json!("priced")),
                        (keys::RAGTRACE_COST_TIER, json!("standard")),
                        (keys::RAGTRACE_COST_USD, json!(usd(total))),
                    ] {
                        map.insert(key.into(), value);
                    }
                    if cached > 0 {
                        map.insert(
                            keys::RAGTRACE_COST_CACHED_INPUT_USD.into(),
                            json!(usd(cached_cost)),
                        );
                    }
                }
                None => {
                    map.insert(keys::RAGTRACE_COST_STATUS.into(), json!("unpriced"));
                }
            }
        }

        // The request root, around its steps.
        let end = chat_at + Duration::from_nanos(chat_ns + r.range(100_000, 3_000_000));
        let root_ns = end.duration_since(start).unwrap().as_nanos() as u64;
        let cost = embed_cost + chat_cost.unwrap_or(0);
        let cost_status = match (chat_failed, chat_cost) {
            (true, _) | (false, Some(_)) => "priced",
            (false, None) => "partial",
        };
        let secs = |ns: u64| ns as f64 / 1e9;
        let root = json!({
            "busy_ns": busy(r), "idle_ns": busy(r),
            keys::GEN_AI_OPERATION_NAME: "invoke_workflow",
            keys::GEN_AI_WORKFLOW_NAME: route,
            keys::LANGFUSE_TRACE_NAME: route,
            keys::OPENINFERENCE_SPAN_KIND: "CHAIN",
            keys::RAGTRACE_REQUEST_CACHE_READ_TOKENS: request_tokens.2,
            keys::RAGTRACE_REQUEST_CACHE_WRITE_TOKENS: 0,
            keys::RAGTRACE_REQUEST_CHAT_SECONDS: secs(chat_ns),
            keys::RAGTRACE_REQUEST_COST_PICOUSD: cost,
            keys::RAGTRACE_REQUEST_COST_STATUS: cost_status,
            keys::RAGTRACE_REQUEST_COST_USD: usd(cost),
            keys::RAGTRACE_REQUEST_EMBEDDINGS_SECONDS: secs(embed_ns),
            keys::RAGTRACE_REQUEST_FAILED_STEPS: u64::from(chat_failed),
            keys::RAGTRACE_REQUEST_INPUT_TOKENS: request_tokens.0,
            keys::RAGTRACE_REQUEST_OUTPUT_TOKENS: request_tokens.1,
            keys::RAGTRACE_REQUEST_PROMPT_SECONDS: secs(prompt_ns),
            keys::RAGTRACE_REQUEST_REASONING_TOKENS: 0,
            keys::RAGTRACE_REQUEST_RETRIEVAL_SECONDS: secs(retrieval_ns),
            keys::RAGTRACE_REQUEST_STEPS: 4,
            keys::RAGTRACE_REQUEST_USAGE_ESTIMATED: false,
            keys::RAGTRACE_STEP: "request",
            keys::SESSION_ID: session,
            keys::USER_ID: user,
        });

        let [root_id, embed_id, retrieval_id, prompt_id, chat_id] =
            [ids[0], ids[1], ids[2], ids[3], ids[4]];
        let parent = Some(root_id);
        let mut spans = vec![
            self.parts(
                (trace, embed_id, parent),
                format!("embeddings {embed_model}"),
                embed_at,
                embed_ns,
                embeddings,
            ),
            self.parts(
                (trace, retrieval_id, parent),
                format!("retrieval {collection}"),
                retrieval_at,
                retrieval_ns,
                retrieval,
            ),
            self.parts(
                (trace, prompt_id, parent),
                "prompt rag-default".into(),
                prompt_at,
                prompt_ns,
                prompt,
            ),
            self.parts(
                (trace, chat_id, parent),
                format!("chat {}", model.name),
                chat_at,
                chat_ns,
                chat,
            ),
            self.parts((trace, root_id, None), route.into(), start, root_ns, root),
        ];
        if chat_failed {
            spans[3].status = Status::Error;
            spans[3].status_message = Some("429 Too Many Requests".into());
            spans[4].status = Status::Error;
        }
        if self.plan.retrievals_only {
            out.push(spans.swap_remove(1).into_record(None));
            return;
        }
        out.extend(spans.into_iter().map(|parts| parts.into_record(None)));
    }
}
