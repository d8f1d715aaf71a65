//! Every span attribute key ragtrace writes, in one table.
//!
//! Wrappers, the store and the analysis read keys from here and nowhere else.
//! Primary keys follow the OpenTelemetry GenAI conventions; aliases make the
//! same facts visible in Arize Phoenix (OpenInference) and Langfuse without
//! configuration. See `ATTRIBUTES.md` in the design notes for the rationale.
//!
//! The OpenTelemetry GenAI keys moved to their own repository in semantic
//! conventions v1.42.0, and `opentelemetry-semantic-conventions` marks its
//! `GEN_AI_*` constants deprecated for that reason. The strings are still the
//! ones backends read, so this module takes them from the crate where it has
//! them (the single place that allows the deprecation) and defines the newer
//! ones itself.
#![allow(deprecated)]

use std::sync::LazyLock;

use opentelemetry_semantic_conventions::attribute as semconv;

// ---- tracing-opentelemetry control fields --------------------------------

/// Sets the exported span name (tracing-opentelemetry control field).
pub const OTEL_NAME: &str = "otel.name";
/// Sets the exported span kind (tracing-opentelemetry control field).
pub const OTEL_KIND: &str = "otel.kind";

// ---- OpenTelemetry GenAI: operation, model, server ------------------------

/// `embeddings`, `retrieval`, `chat`, `invoke_workflow`.
pub const GEN_AI_OPERATION_NAME: &str = semconv::GEN_AI_OPERATION_NAME;
/// The provider, e.g. `openai`.
pub const GEN_AI_PROVIDER_NAME: &str = semconv::GEN_AI_PROVIDER_NAME;
/// The model asked for.
pub const GEN_AI_REQUEST_MODEL: &str = semconv::GEN_AI_REQUEST_MODEL;
/// The model that answered.
pub const GEN_AI_RESPONSE_MODEL: &str = semconv::GEN_AI_RESPONSE_MODEL;
/// The provider's response id.
pub const GEN_AI_RESPONSE_ID: &str = semconv::GEN_AI_RESPONSE_ID;
/// Why generation stopped, one per choice (string array).
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = semconv::GEN_AI_RESPONSE_FINISH_REASONS;
/// Sampling temperature (double).
pub const GEN_AI_REQUEST_TEMPERATURE: &str = semconv::GEN_AI_REQUEST_TEMPERATURE;
/// Output token limit (int).
pub const GEN_AI_REQUEST_MAX_TOKENS: &str = semconv::GEN_AI_REQUEST_MAX_TOKENS;
/// Nucleus sampling (double).
pub const GEN_AI_REQUEST_TOP_P: &str = semconv::GEN_AI_REQUEST_TOP_P;
/// Sampling seed (int).
pub const GEN_AI_REQUEST_SEED: &str = semconv::GEN_AI_REQUEST_SEED;
/// Stop sequences (string array).
pub const GEN_AI_REQUEST_STOP_SEQUENCES: &str = semconv::GEN_AI_REQUEST_STOP_SEQUENCES;
/// Whether the answer was streamed (bool).
pub const GEN_AI_REQUEST_STREAM: &str = semconv::GEN_AI_REQUEST_STREAM;
/// Seconds from the request to the first streamed chunk (double).
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = semconv::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK;
/// The service tier that served an OpenAI request.
pub const GEN_AI_OPENAI_RESPONSE_SERVICE_TIER: &str = semconv::GEN_AI_OPENAI_RESPONSE_SERVICE_TIER;
/// Host of the server called.
pub const SERVER_ADDRESS: &str = semconv::SERVER_ADDRESS;
/// Port of the server called (int).
pub const SERVER_PORT: &str = semconv::SERVER_PORT;
/// Class of a failure.
pub const ERROR_TYPE: &str = semconv::ERROR_TYPE;
/// Name of the event a failed call's span carries (OpenTelemetry exceptions).
pub const EXCEPTION_EVENT: &str = "exception";
/// The error's type, on the `exception` event.
pub const EXCEPTION_TYPE: &str = semconv::EXCEPTION_TYPE;
/// The error's message, on the `exception` event (the same text as the span status).
pub const EXCEPTION_MESSAGE: &str = semconv::EXCEPTION_MESSAGE;

// ---- OpenTelemetry GenAI: usage --------------------------------------------

/// All input tokens, cached included (int).
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = semconv::GEN_AI_USAGE_INPUT_TOKENS;
/// All output tokens, reasoning included (int).
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = semconv::GEN_AI_USAGE_OUTPUT_TOKENS;
/// Input tokens read from cache (int).
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str =
    semconv::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS;
/// Input tokens written to cache (int), the v1.41 name.
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str =
    semconv::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS;
/// Input tokens written to cache (int), the GenAI repository's newer name.
pub const GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: &str = "gen_ai.usage.cache_write.input_tokens";
/// Reasoning output tokens (int).
pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str =
    semconv::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS;
/// Total cost in USD (double); Langfuse reads it.
pub const GEN_AI_USAGE_COST: &str = "gen_ai.usage.cost";

// ---- OpenTelemetry GenAI: embeddings, retrieval, prompt -------------------

/// Length of the returned vectors (int).
pub const GEN_AI_EMBEDDINGS_DIMENSION_COUNT: &str = semconv::GEN_AI_EMBEDDINGS_DIMENSION_COUNT;
/// The data source searched.
pub const GEN_AI_DATA_SOURCE_ID: &str = semconv::GEN_AI_DATA_SOURCE_ID;
/// Hits asked for (int), the GenAI repository's newer name.
pub const GEN_AI_RETRIEVAL_TOP_K: &str = "gen_ai.retrieval.top_k";
/// Hits asked for (double, as defined in v1.41.1), for older readers.
pub const GEN_AI_REQUEST_TOP_K: &str = semconv::GEN_AI_REQUEST_TOP_K;
/// Retrieved ids and scores as JSON `[{"id":..,"score":..}]` (opt-in).
pub const GEN_AI_RETRIEVAL_DOCUMENTS: &str = semconv::GEN_AI_RETRIEVAL_DOCUMENTS;
/// The query text (content capture only).
pub const GEN_AI_RETRIEVAL_QUERY_TEXT: &str = semconv::GEN_AI_RETRIEVAL_QUERY_TEXT;
/// The prompt template's name.
pub const GEN_AI_PROMPT_NAME: &str = semconv::GEN_AI_PROMPT_NAME;
/// The prompt template's version.
pub const GEN_AI_PROMPT_VERSION: &str = "gen_ai.prompt.version";
/// Input messages as JSON (content capture only).
pub const GEN_AI_INPUT_MESSAGES: &str = semconv::GEN_AI_INPUT_MESSAGES;
/// Output messages as JSON (content capture only).
pub const GEN_AI_OUTPUT_MESSAGES: &str = semconv::GEN_AI_OUTPUT_MESSAGES;

// ---- request root ------------------------------------------------------------

/// The workflow (request) name on the root span.
pub const GEN_AI_WORKFLOW_NAME: &str = semconv::GEN_AI_WORKFLOW_NAME;
/// A real conversation id given by the caller.
pub const GEN_AI_CONVERSATION_ID: &str = semconv::GEN_AI_CONVERSATION_ID;
/// The end user.
pub const USER_ID: &str = semconv::USER_ID;
/// The user's session.
pub const SESSION_ID: &str = semconv::SESSION_ID;

// ---- database (retrieval) ----------------------------------------------------

/// The database product, lower case (`qdrant`).
pub const DB_SYSTEM_NAME: &str = semconv::DB_SYSTEM_NAME;
/// The database operation (`query`).
pub const DB_OPERATION_NAME: &str = semconv::DB_OPERATION_NAME;
/// The collection searched.
pub const DB_COLLECTION_NAME: &str = semconv::DB_COLLECTION_NAME;

// ---- evaluations (span event) ------------------------------------------------

/// Name of the event that carries a quality judgement.
pub const GEN_AI_EVALUATION_RESULT: &str = "gen_ai.evaluation.result";
/// What was judged (e.g. `relevance`).
pub const GEN_AI_EVALUATION_NAME: &str = semconv::GEN_AI_EVALUATION_NAME;
/// Numeric score (double).
pub const GEN_AI_EVALUATION_SCORE_VALUE: &str = semconv::GEN_AI_EVALUATION_SCORE_VALUE;
/// Label (e.g. `relevant`).
pub const GEN_AI_EVALUATION_SCORE_LABEL: &str = semconv::GEN_AI_EVALUATION_SCORE_LABEL;
/// Free-text explanation.
pub const GEN_AI_EVALUATION_EXPLANATION: &str = semconv::GEN_AI_EVALUATION_EXPLANATION;

// ---- OpenInference (Arize Phoenix) -----------------------------------------

/// `CHAIN`, `EMBEDDING`, `RETRIEVER`, `LLM`.
pub const OPENINFERENCE_SPAN_KIND: &str = "openinference.span.kind";
/// Input text (content capture only).
pub const INPUT_VALUE: &str = "input.value";
/// Output text (content capture only).
pub const OUTPUT_VALUE: &str = "output.value";
/// Embedding model.
pub const EMBEDDING_MODEL_NAME: &str = "embedding.model_name";
/// LLM model.
pub const LLM_MODEL_NAME: &str = "llm.model_name";
/// LLM provider.
pub const LLM_PROVIDER: &str = "llm.provider";
/// Prompt (input) tokens (int).
pub const LLM_TOKEN_COUNT_PROMPT: &str = "llm.token_count.prompt";
/// Completion (output) tokens (int).
pub const LLM_TOKEN_COUNT_COMPLETION: &str = "llm.token_count.completion";
/// Total tokens (int).
pub const LLM_TOKEN_COUNT_TOTAL: &str = "llm.token_count.total";
/// Cache-read input tokens (int).
pub const LLM_TOKEN_COUNT_PROMPT_CACHE_READ: &str = "llm.token_count.prompt_details.cache_read";
/// Cache-write input tokens (int).
pub const LLM_TOKEN_COUNT_PROMPT_CACHE_WRITE: &str = "llm.token_count.prompt_details.cache_write";
/// Reasoning output tokens (int).
pub const LLM_TOKEN_COUNT_COMPLETION_REASONING: &str =
    "llm.token_count.completion_details.reasoning";
/// Total cost in USD (double).
pub const LLM_COST_TOTAL: &str = "llm.cost.total";
/// Input cost in USD (double).
pub const LLM_COST_PROMPT: &str = "llm.cost.prompt";
/// Output cost in USD (double).
pub const LLM_COST_COMPLETION: &str = "llm.cost.completion";
/// The prompt template text (content capture only).
pub const LLM_PROMPT_TEMPLATE_TEMPLATE: &str = "llm.prompt_template.template";
/// The prompt template version.
pub const LLM_PROMPT_TEMPLATE_VERSION: &str = "llm.prompt_template.version";
/// Tags of a request (string array).
pub const TAG_TAGS: &str = "tag.tags";

/// OpenInference span kind values.
pub mod openinference_kind {
    /// A chain of steps (request root, prompt building).
    pub const CHAIN: &str = "CHAIN";
    /// An embedding call.
    pub const EMBEDDING: &str = "EMBEDDING";
    /// A retrieval.
    pub const RETRIEVER: &str = "RETRIEVER";
    /// An LLM call.
    pub const LLM: &str = "LLM";
    /// A reranker.
    pub const RERANKER: &str = "RERANKER";
}

/// The OpenInference keys of the `index`th retrieved document: id, score, content.
///
/// The first [`RETRIEVAL_DOCUMENT_KEY_LIMIT`] are built once; later ones are `None`
/// (spans carry at most that many per-document attributes).
pub fn retrieval_document_keys(index: usize) -> Option<&'static DocumentKeys> {
    static KEYS: LazyLock<Vec<DocumentKeys>> = LazyLock::new(|| {
        (0..RETRIEVAL_DOCUMENT_KEY_LIMIT)
            .map(|i| DocumentKeys {
                id: leak(format!("retrieval.documents.{i}.document.id")),
                score: leak(format!("retrieval.documents.{i}.document.score")),
                content: leak(format!("retrieval.documents.{i}.document.content")),
            })
            .collect()
    });
    KEYS.get(index)
}

/// How many retrieved documents get per-document OpenInference attributes.
/// The full ranked score list is always in [`RAGTRACE_RETRIEVAL_SCORES`].
pub const RETRIEVAL_DOCUMENT_KEY_LIMIT: usize = 32;

/// The per-document OpenInference keys of one rank.
#[derive(Debug)]
pub struct DocumentKeys {
    /// `retrieval.documents.{i}.document.id`
    pub id: &'static str,
    /// `retrieval.documents.{i}.document.score`
    pub score: &'static str,
    /// `retrieval.documents.{i}.document.content`
    pub content: &'static str,
}

// Built once for a bounded set of ranks, so the leak is bounded too.
fn leak(key: String) -> &'static str {
    Box::leak(key.into_boxed_str())
}

// ---- Langfuse ----------------------------------------------------------------

/// The trace name.
pub const LANGFUSE_TRACE_NAME: &str = "langfuse.trace.name";
/// The trace tags (string array).
pub const LANGFUSE_TRACE_TAGS: &str = "langfuse.trace.tags";
/// `span`, `generation`, `embedding`, `retriever`.
pub const LANGFUSE_OBSERVATION_TYPE: &str = "langfuse.observation.type";
/// When the first streamed chunk arrived (RFC 3339).
pub const LANGFUSE_OBSERVATION_COMPLETION_START_TIME: &str =
    "langfuse.observation.completion_start_time";
/// Cost by kind as a JSON map.
pub const LANGFUSE_OBSERVATION_COST_DETAILS: &str = "langfuse.observation.cost_details";

// ---- ragtrace ------------------------------------------------------------------

/// Which RAG step a span is: `embeddings`, `retrieval`, `prompt`, `chat`, or `request` on the root.
pub const RAGTRACE_STEP: &str = "ragtrace.step";
/// `true` when token counts are estimates.
pub const RAGTRACE_USAGE_ESTIMATED: &str = "ragtrace.usage.estimated";
/// `true` when the caller dropped the call (or stream) before it finished.
pub const RAGTRACE_CANCELLED: &str = "ragtrace.cancelled";

/// Ranked scores (double array).
pub const RAGTRACE_RETRIEVAL_SCORES: &str = "ragtrace.retrieval.scores";
/// The rank-1 hit's score (double; the first finite one in rank order).
pub const RAGTRACE_RETRIEVAL_TOP_SCORE: &str = "ragtrace.retrieval.top_score";
/// Mean of the finite scores (double).
pub const RAGTRACE_RETRIEVAL_MEAN_SCORE: &str = "ragtrace.retrieval.mean_score";
/// The worst finite score (double): the lowest similarity, or the largest
/// distance when `ragtrace.retrieval.score_kind` is `distance`.
pub const RAGTRACE_RETRIEVAL_MIN_SCORE: &str = "ragtrace.retrieval.min_score";
/// Hits returned (int).
pub const RAGTRACE_RETRIEVAL_RETURNED: &str = "ragtrace.retrieval.returned";
/// Which way the scores point: `similarity` (higher is better) or
/// `distance` (lower is better).
pub const RAGTRACE_RETRIEVAL_SCORE_KIND: &str = "ragtrace.retrieval.score_kind";
/// Hits whose score was not a finite number (int; only when non-zero).
pub const RAGTRACE_RETRIEVAL_INVALID_SCORES: &str = "ragtrace.retrieval.invalid_scores";
/// The score threshold sent (double): hits worse than it were dropped.
pub const RAGTRACE_RETRIEVAL_SCORE_THRESHOLD: &str = "ragtrace.retrieval.score_threshold";
/// The filter's shape: fields and condition kinds, values only with content capture on.
pub const RAGTRACE_RETRIEVAL_FILTER: &str = "ragtrace.retrieval.filter";
/// The named vector searched.
pub const RAGTRACE_RETRIEVAL_VECTOR_NAME: &str = "ragtrace.retrieval.vector_name";
/// Search parameters sent (e.g. `hnsw_ef=128,exact=true`).
pub const RAGTRACE_RETRIEVAL_SEARCH_PARAMS: &str = "ragtrace.retrieval.search_params";
/// Hits skipped before the first returned (int).
pub const RAGTRACE_RETRIEVAL_OFFSET: &str = "ragtrace.retrieval.offset";
/// How the candidates of several searches were fused (`rrf`, `dbsf`).
pub const RAGTRACE_RETRIEVAL_FUSION: &str = "ragtrace.retrieval.fusion";
/// The searches that ran, in order (string array, e.g.
/// `["dense text-dense limit=20", "sparse bm25 limit=20", "fusion rrf limit=5"]`).
pub const RAGTRACE_RETRIEVAL_STAGES: &str = "ragtrace.retrieval.stages";
/// How many candidates each stage produced, aligned with
/// `ragtrace.retrieval.stages` (int array; only when the store reported them).
pub const RAGTRACE_RETRIEVAL_STAGE_CANDIDATES: &str = "ragtrace.retrieval.stage_candidates";

/// Hits a reranker was given (int).
pub const RAGTRACE_RERANK_CANDIDATES: &str = "ragtrace.rerank.candidates";
/// The retrieval score of each hit a reranker kept, in its new order
/// (double array; NaN for an id it was not given).
pub const RAGTRACE_RERANK_SCORES_BEFORE: &str = "ragtrace.rerank.scores_before";
/// The rank (0-based) each kept hit had before reranking, in the new order
/// (int array; -1 for an id it was not given).
pub const RAGTRACE_RERANK_RANKS_BEFORE: &str = "ragtrace.rerank.ranks_before";
/// Kept hits whose rank changed (int).
pub const RAGTRACE_RERANK_MOVED: &str = "ragtrace.rerank.moved";
/// `true` when the rank-1 hit changed.
pub const RAGTRACE_RERANK_TOP_CHANGED: &str = "ragtrace.rerank.top_changed";
/// The reranking model (OpenInference).
pub const RERANKER_MODEL_NAME: &str = "reranker.model_name";
/// Hits the reranker kept (int, OpenInference).
pub const RERANKER_TOP_K: &str = "reranker.top_k";
/// The query text reranked for (OpenInference; content capture only).
pub const RERANKER_QUERY: &str = "reranker.query";

/// Tokens of the built prompt (int).
pub const RAGTRACE_PROMPT_TOKENS: &str = "ragtrace.prompt.tokens";
/// Tokens of retrieved context in it (int).
pub const RAGTRACE_PROMPT_CONTEXT_TOKENS: &str = "ragtrace.prompt.context_tokens";
/// The budget it was packed under (int).
pub const RAGTRACE_PROMPT_BUDGET_TOKENS: &str = "ragtrace.prompt.budget_tokens";
/// Chunks offered (int).
pub const RAGTRACE_PROMPT_CHUNKS_OFFERED: &str = "ragtrace.prompt.chunks_offered";
/// Chunks included (int).
pub const RAGTRACE_PROMPT_CHUNKS_INCLUDED: &str = "ragtrace.prompt.chunks_included";
/// Included chunks that were truncated (int).
pub const RAGTRACE_PROMPT_CHUNKS_TRUNCATED: &str = "ragtrace.prompt.chunks_truncated";
/// Chunks dropped (int).
pub const RAGTRACE_PROMPT_CHUNKS_DROPPED: &str = "ragtrace.prompt.chunks_dropped";
/// Share of the model's context window used (double, 0..1).
pub const RAGTRACE_PROMPT_CONTEXT_WINDOW_USED: &str = "ragtrace.prompt.context_window_used";

/// Total cost in USD (double).
pub const RAGTRACE_COST_USD: &str = "ragtrace.cost.usd";
/// Total cost in picodollars (int): exact, for sums.
pub const RAGTRACE_COST_PICOUSD: &str = "ragtrace.cost.picousd";
/// Uncached input cost (double).
pub const RAGTRACE_COST_INPUT_USD: &str = "ragtrace.cost.input_usd";
/// Cache-read input cost (double).
pub const RAGTRACE_COST_CACHED_INPUT_USD: &str = "ragtrace.cost.cached_input_usd";
/// Cache-write input cost (double).
pub const RAGTRACE_COST_CACHE_WRITE_USD: &str = "ragtrace.cost.cache_write_usd";
/// Visible output cost (double).
pub const RAGTRACE_COST_OUTPUT_USD: &str = "ragtrace.cost.output_usd";
/// Reasoning output cost (double).
pub const RAGTRACE_COST_REASONING_USD: &str = "ragtrace.cost.reasoning_usd";
/// Per-request or per-query charges (double).
pub const RAGTRACE_COST_PER_REQUEST_USD: &str = "ragtrace.cost.per_request_usd";
/// `priced`, `partial` or `unpriced`.
pub const RAGTRACE_COST_STATUS: &str = "ragtrace.cost.status";
/// Why a span's cost is unpriced although it carried usage or a cost: set
/// by the store when a token count or cost is out of range (negative, over
/// a trillion tokens, over a million dollars) and was not kept.
pub const RAGTRACE_COST_STATUS_REASON: &str = "ragtrace.cost.status_reason";
/// The price entry matched.
pub const RAGTRACE_COST_MODEL_KEY: &str = "ragtrace.cost.model_key";
/// Effective date of the price version used.
pub const RAGTRACE_COST_PRICE_VERSION: &str = "ragtrace.cost.price_version";
/// Pricing tier applied.
pub const RAGTRACE_COST_TIER: &str = "ragtrace.cost.tier";

/// Request total cost in USD (double).
pub const RAGTRACE_REQUEST_COST_USD: &str = "ragtrace.request.cost_usd";
/// Request total cost in picodollars (int): exact.
pub const RAGTRACE_REQUEST_COST_PICOUSD: &str = "ragtrace.request.cost_picousd";
/// Request cost status, combined over its steps.
pub const RAGTRACE_REQUEST_COST_STATUS: &str = "ragtrace.request.cost_status";
/// Request input tokens, cached included (int).
pub const RAGTRACE_REQUEST_INPUT_TOKENS: &str = "ragtrace.request.input_tokens";
/// Request cache-read input tokens (int).
pub const RAGTRACE_REQUEST_CACHE_READ_TOKENS: &str = "ragtrace.request.cache_read_tokens";
/// Request cache-write input tokens (int).
pub const RAGTRACE_REQUEST_CACHE_WRITE_TOKENS: &str = "ragtrace.request.cache_write_tokens";
/// Request output tokens, reasoning included (int).
pub const RAGTRACE_REQUEST_OUTPUT_TOKENS: &str = "ragtrace.request.output_tokens";
/// Request reasoning tokens (int).
pub const RAGTRACE_REQUEST_REASONING_TOKENS: &str = "ragtrace.request.reasoning_tokens";
/// `true` when some of the request's token counts are estimates.
pub const RAGTRACE_REQUEST_USAGE_ESTIMATED: &str = "ragtrace.request.usage_estimated";
/// Steps run in the request (int).
pub const RAGTRACE_REQUEST_STEPS: &str = "ragtrace.request.steps";
/// Steps that failed (int).
pub const RAGTRACE_REQUEST_FAILED_STEPS: &str = "ragtrace.request.failed_steps";
/// Seconds spent in embedding steps (double; concurrent steps each count).
pub const RAGTRACE_REQUEST_EMBEDDINGS_SECONDS: &str = "ragtrace.request.embeddings_s";
/// Seconds spent in retrieval steps (double).
pub const RAGTRACE_REQUEST_RETRIEVAL_SECONDS: &str = "ragtrace.request.retrieval_s";
/// Seconds spent in reranking steps (double).
pub const RAGTRACE_REQUEST_RERANK_SECONDS: &str = "ragtrace.request.rerank_s";
/// Seconds spent in prompt building (double).
pub const RAGTRACE_REQUEST_PROMPT_SECONDS: &str = "ragtrace.request.prompt_s";
/// Seconds spent in LLM calls (double).
pub const RAGTRACE_REQUEST_CHAT_SECONDS: &str = "ragtrace.request.chat_s";

// ---- read-only aliases -------------------------------------------------------
//
// ragtrace never writes these; the store understands them when spans from
// other producers (older OTel GenAI versions, OpenInference, Langfuse) are
// ingested.

/// The provider in OTel GenAI before v1.37 (`gen_ai.provider.name` since).
pub const GEN_AI_SYSTEM: &str = semconv::GEN_AI_SYSTEM;
/// Input tokens in OTel GenAI before v1.27.
pub const GEN_AI_USAGE_PROMPT_TOKENS: &str = semconv::GEN_AI_USAGE_PROMPT_TOKENS;
/// Output tokens in OTel GenAI before v1.27.
pub const GEN_AI_USAGE_COMPLETION_TOKENS: &str = semconv::GEN_AI_USAGE_COMPLETION_TOKENS;
/// The provider in OpenInference before `llm.provider`.
pub const LLM_SYSTEM: &str = "llm.system";
/// The end user in older OTel conventions.
pub const ENDUSER_ID: &str = semconv::ENDUSER_ID;
/// The end user as Langfuse's SDKs set it.
pub const LANGFUSE_USER_ID: &str = "langfuse.user.id";
/// The session as Langfuse's SDKs set it.
pub const LANGFUSE_SESSION_ID: &str = "langfuse.session.id";
/// Start of the OpenInference per-document keys, `retrieval.documents.{i}.document.*`.
pub const RETRIEVAL_DOCUMENTS_PREFIX: &str = "retrieval.documents.";
/// End of the OpenInference per-document id key.
pub const RETRIEVAL_DOCUMENT_ID_SUFFIX: &str = ".document.id";
/// End of the OpenInference per-document score key.
pub const RETRIEVAL_DOCUMENT_SCORE_SUFFIX: &str = ".document.score";
/// The service that emitted a span (resource attribute).
pub const SERVICE_NAME: &str = semconv::SERVICE_NAME;
