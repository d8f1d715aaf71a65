//! The instrumentation core, end to end over real OTLP: wrapped steps inside a
//! request root export through `tracing-opentelemetry`, the batch processor
//! and the real `opentelemetry-otlp` gRPC exporter to a receiver on
//! 127.0.0.1; the tests decode what arrived.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use ragtrace::instrument::keys::*;
use ragtrace::instrument::{Options, RequestFutureExt, TracedExt};
use ragtrace::pricing::{CostStatus, Usd};
use ragtrace::steps::{ChatModel, ChatRequest, Embedder, Query, Retriever, Usage};
use support::otlp::ExportedSpan;
use support::pipeline::Pipeline;
use support::rag::{Rag, flat_price};
use support::steps::*;
use tracing::Instrument;

fn by_name<'a>(spans: &'a [ExportedSpan], name: &str) -> &'a ExportedSpan {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span named {name:?} in {:?}", names(spans)))
}

fn names(spans: &[ExportedSpan]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

fn assert_keys(span: &ExportedSpan, keys: &[&str]) {
    let missing: Vec<&&str> = keys.iter().filter(|k| !span.has(k)).collect();
    assert!(missing.is_empty(), "{}: missing {missing:?}", span.name);
}

/// Sums a per-step int attribute over the children of `root`.
fn sum_children(spans: &[ExportedSpan], root: &ExportedSpan, key: &str) -> i64 {
    spans
        .iter()
        .filter(|s| s.parent_span_id == root.span_id && s.has(key))
        .map(|s| s.int(key))
        .sum()
}

fn assert_root_totals_match_children(spans: &[ExportedSpan], root: &ExportedSpan) {
    let children: Vec<&ExportedSpan> = spans
        .iter()
        .filter(|s| s.parent_span_id == root.span_id)
        .collect();
    assert_eq!(root.int(RAGTRACE_REQUEST_STEPS), children.len() as i64);
    for (total, per_step) in [
        (RAGTRACE_REQUEST_INPUT_TOKENS, GEN_AI_USAGE_INPUT_TOKENS),
        (RAGTRACE_REQUEST_OUTPUT_TOKENS, GEN_AI_USAGE_OUTPUT_TOKENS),
        (
            RAGTRACE_REQUEST_CACHE_READ_TOKENS,
            GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        ),
        (
            RAGTRACE_REQUEST_CACHE_WRITE_TOKENS,
            GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
        ),
        (
            RAGTRACE_REQUEST_REASONING_TOKENS,
            GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
        ),
    ] {
        assert_eq!(
            root.int(total),
            sum_children(spans, root, per_step),
            "{total} vs the sum of {per_step}"
        );
    }
    if root.has(RAGTRACE_REQUEST_COST_PICOUSD) {
        assert_eq!(
            root.int(RAGTRACE_REQUEST_COST_PICOUSD),
            sum_children(spans, root, RAGTRACE_COST_PICOUSD),
            "request cost vs the sum of step costs"
        );
    }
}

#[test]
fn a_request_is_one_trace_with_the_expected_tree_names_kinds_and_typed_attributes() {
    let pipeline = Pipeline::new();
    let steps = Rag::with_options(Options::new().pricer(flat_price));
    let (answer, summary) = pipeline.block_on(async {
        let request = ragtrace::request("answer")
            .user("u-42")
            .session("s-7")
            .tag("beta");
        let answer = request.run(steps.answer("what is a span?")).await;
        (answer, request.summary())
    });
    assert_eq!(answer.unwrap(), "A trace is a tree of spans.");
    let spans = pipeline.finish();
    assert_eq!(spans.len(), 5, "{:?}", names(&spans));

    // One trace; the root has no parent and is the parent of every step.
    let traces: HashSet<&Vec<u8>> = spans.iter().map(|s| &s.trace_id).collect();
    assert_eq!(traces.len(), 1);
    let root = by_name(&spans, "answer");
    assert!(root.parent_span_id.is_empty());
    let embed = by_name(&spans, "embeddings text-embedding-3-small");
    let retrieval = by_name(&spans, "retrieval docs");
    let prompt = by_name(&spans, "prompt rag-default");
    let chat = by_name(&spans, "chat gpt-4o-mini");
    for child in [embed, retrieval, prompt, chat] {
        assert_eq!(child.parent_span_id, root.span_id, "{} parent", child.name);
        assert_eq!(child.status, StatusCode::Unset);
    }
    assert_eq!(root.kind, SpanKind::Internal);
    assert_eq!(embed.kind, SpanKind::Client);
    assert_eq!(retrieval.kind, SpanKind::Client);
    assert_eq!(prompt.kind, SpanKind::Internal);
    assert_eq!(chat.kind, SpanKind::Client);

    // Request root.
    assert_eq!(root.string(GEN_AI_OPERATION_NAME), "invoke_workflow");
    assert_eq!(root.string(USER_ID), "u-42");
    assert_eq!(root.string(SESSION_ID), "s-7");
    assert_eq!(root.string(OPENINFERENCE_SPAN_KIND), "CHAIN");
    assert_eq!(root.string(LANGFUSE_TRACE_NAME), "answer");
    assert_eq!(root.strings(TAG_TAGS), ["beta"]);
    assert_eq!(root.strings(LANGFUSE_TRACE_TAGS), ["beta"]);
    assert!(
        !root.has(GEN_AI_CONVERSATION_ID),
        "no conversation id was given"
    );
    assert_eq!(root.int(RAGTRACE_REQUEST_FAILED_STEPS), 0);
    for key in [
        RAGTRACE_REQUEST_EMBEDDINGS_SECONDS,
        RAGTRACE_REQUEST_RETRIEVAL_SECONDS,
        RAGTRACE_REQUEST_PROMPT_SECONDS,
        RAGTRACE_REQUEST_CHAT_SECONDS,
    ] {
        assert!(root.double(key) >= 0.0);
    }
    assert_eq!(root.string(RAGTRACE_REQUEST_COST_STATUS), "priced");
    assert!(root.double(RAGTRACE_REQUEST_COST_USD) > 0.0);
    assert_root_totals_match_children(&spans, root);
    assert_eq!(root.int(RAGTRACE_REQUEST_INPUT_TOKENS), 7 + 1200);

    // Embedding.
    assert_keys(embed, &[GEN_AI_PROVIDER_NAME, SERVER_ADDRESS]);
    assert_eq!(embed.string(GEN_AI_OPERATION_NAME), "embeddings");
    assert_eq!(embed.string(GEN_AI_REQUEST_MODEL), "text-embedding-3-small");
    assert_eq!(
        embed.string(GEN_AI_RESPONSE_MODEL),
        "text-embedding-3-small-v1"
    );
    assert_eq!(embed.int(GEN_AI_USAGE_INPUT_TOKENS), 7);
    assert_eq!(embed.int(GEN_AI_EMBEDDINGS_DIMENSION_COUNT), 1536);
    assert_eq!(embed.int(SERVER_PORT), 8443);
    assert_eq!(embed.string(OPENINFERENCE_SPAN_KIND), "EMBEDDING");
    assert_eq!(embed.string(EMBEDDING_MODEL_NAME), "text-embedding-3-small");
    assert_eq!(embed.int(LLM_TOKEN_COUNT_PROMPT), 7);
    assert_eq!(embed.int(LLM_TOKEN_COUNT_TOTAL), 7);
    assert_eq!(embed.string(LANGFUSE_OBSERVATION_TYPE), "embedding");
    assert!(!embed.boolean(RAGTRACE_USAGE_ESTIMATED));

    // Retrieval: ranked scores as a double array, statistics as doubles.
    assert_eq!(retrieval.string(GEN_AI_OPERATION_NAME), "retrieval");
    assert_eq!(retrieval.string(GEN_AI_DATA_SOURCE_ID), "docs");
    assert_eq!(retrieval.int(GEN_AI_RETRIEVAL_TOP_K), 3);
    assert_eq!(retrieval.double(GEN_AI_REQUEST_TOP_K), 3.0);
    assert_eq!(retrieval.string(DB_SYSTEM_NAME), "qdrant");
    assert_eq!(retrieval.string(DB_OPERATION_NAME), "query");
    assert_eq!(retrieval.string(DB_COLLECTION_NAME), "docs");
    assert_eq!(retrieval.string(SERVER_ADDRESS), "127.0.0.1");
    assert_eq!(retrieval.int(SERVER_PORT), 6334);
    assert_eq!(
        retrieval.doubles(RAGTRACE_RETRIEVAL_SCORES),
        [0.91, 0.84, 0.62]
    );
    assert_eq!(retrieval.double(RAGTRACE_RETRIEVAL_TOP_SCORE), 0.91);
    assert_eq!(retrieval.double(RAGTRACE_RETRIEVAL_MIN_SCORE), 0.62);
    assert!(
        (retrieval.double(RAGTRACE_RETRIEVAL_MEAN_SCORE) - (0.91 + 0.84 + 0.62) / 3.0).abs()
            < 1e-12
    );
    assert_eq!(retrieval.int(RAGTRACE_RETRIEVAL_RETURNED), 3);
    assert_eq!(retrieval.string(OPENINFERENCE_SPAN_KIND), "RETRIEVER");
    assert_eq!(
        retrieval.string("retrieval.documents.0.document.id"),
        "doc-7"
    );
    assert_eq!(
        retrieval.double("retrieval.documents.2.document.score"),
        0.62
    );
    assert_eq!(retrieval.string(LANGFUSE_OBSERVATION_TYPE), "retriever");
    assert!(!retrieval.has(GEN_AI_RETRIEVAL_DOCUMENTS), "opt-in only");

    // Prompt building.
    assert_eq!(prompt.string(GEN_AI_PROMPT_NAME), "rag-default");
    assert_eq!(prompt.string(GEN_AI_PROMPT_VERSION), "3");
    assert_eq!(prompt.string(LLM_PROMPT_TEMPLATE_VERSION), "3");
    assert_eq!(prompt.string(OPENINFERENCE_SPAN_KIND), "CHAIN");
    assert_eq!(prompt.int(RAGTRACE_PROMPT_CHUNKS_OFFERED), 3);
    assert_eq!(prompt.int(RAGTRACE_PROMPT_CHUNKS_INCLUDED), 2);
    assert_eq!(prompt.int(RAGTRACE_PROMPT_CHUNKS_TRUNCATED), 0);
    assert_eq!(prompt.int(RAGTRACE_PROMPT_CHUNKS_DROPPED), 1);
    assert_eq!(prompt.int(RAGTRACE_PROMPT_BUDGET_TOKENS), 1000);
    assert!(prompt.int(RAGTRACE_PROMPT_TOKENS) > prompt.int(RAGTRACE_PROMPT_CONTEXT_TOKENS));
    let used = prompt.double(RAGTRACE_PROMPT_CONTEXT_WINDOW_USED);
    assert!(used > 0.0 && used < 1.0);
    assert!(prompt.boolean(RAGTRACE_USAGE_ESTIMATED));

    // LLM call.
    assert_eq!(chat.string(GEN_AI_OPERATION_NAME), "chat");
    assert_eq!(chat.string(GEN_AI_PROVIDER_NAME), "openai");
    assert_eq!(chat.string(GEN_AI_REQUEST_MODEL), "gpt-4o-mini");
    assert_eq!(chat.string(GEN_AI_RESPONSE_MODEL), "gpt-4o-mini-2024-07-18");
    assert_eq!(chat.string(GEN_AI_RESPONSE_ID), "chatcmpl-1");
    assert_eq!(chat.strings(GEN_AI_RESPONSE_FINISH_REASONS), ["stop"]);
    assert_eq!(chat.double(GEN_AI_REQUEST_TEMPERATURE), 0.2);
    assert_eq!(chat.int(GEN_AI_REQUEST_MAX_TOKENS), 256);
    assert_eq!(chat.double(GEN_AI_REQUEST_TOP_P), 0.9);
    assert!(!chat.boolean(GEN_AI_REQUEST_STREAM));
    assert_eq!(chat.int(GEN_AI_USAGE_INPUT_TOKENS), 1200);
    assert_eq!(chat.int(GEN_AI_USAGE_OUTPUT_TOKENS), 80);
    assert_eq!(chat.int(GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS), 1024);
    assert_eq!(chat.int(GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS), 0);
    assert_eq!(chat.int(GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS), 0);
    assert_eq!(chat.int(GEN_AI_USAGE_REASONING_OUTPUT_TOKENS), 16);
    assert_eq!(chat.string(OPENINFERENCE_SPAN_KIND), "LLM");
    assert_eq!(chat.string(LLM_MODEL_NAME), "gpt-4o-mini-2024-07-18");
    assert_eq!(chat.string(LLM_PROVIDER), "openai");
    assert_eq!(chat.int(LLM_TOKEN_COUNT_PROMPT), 1200);
    assert_eq!(chat.int(LLM_TOKEN_COUNT_COMPLETION), 80);
    assert_eq!(chat.int(LLM_TOKEN_COUNT_TOTAL), 1280);
    assert_eq!(chat.int(LLM_TOKEN_COUNT_PROMPT_CACHE_READ), 1024);
    assert_eq!(chat.int(LLM_TOKEN_COUNT_PROMPT_CACHE_WRITE), 0);
    assert_eq!(chat.int(LLM_TOKEN_COUNT_COMPLETION_REASONING), 16);
    assert_eq!(chat.string(LANGFUSE_OBSERVATION_TYPE), "generation");
    assert!(!chat.has(ERROR_TYPE));
    assert!(
        !chat.has(GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK),
        "not streamed"
    );

    // Cost on both priced spans, with provenance and aliases, as doubles.
    for span in [embed, chat] {
        assert_eq!(span.string(RAGTRACE_COST_STATUS), "priced");
        assert_eq!(span.string(RAGTRACE_COST_PRICE_VERSION), "2024-07-18");
        assert_eq!(span.string(RAGTRACE_COST_TIER), "standard");
        let total = span.double(RAGTRACE_COST_USD);
        assert_eq!(span.double(GEN_AI_USAGE_COST), total);
        assert_eq!(span.double(LLM_COST_TOTAL), total);
        assert_eq!(
            total,
            Usd::from_picos(span.int(RAGTRACE_COST_PICOUSD).into()).to_f64()
        );
        let details: serde_json::Value =
            serde_json::from_str(span.string(LANGFUSE_OBSERVATION_COST_DETAILS)).unwrap();
        assert_eq!(details["total"], total);
    }
    // chat: 176 uncached * 0.15 + 1024 cached * 0.075 + 64 visible * 0.60 + 16 reasoning * 0.60
    // per 1M = 26.4 + 76.8 + 38.4 + 9.6 = 151.2 micro-USD.
    assert_eq!(chat.int(RAGTRACE_COST_PICOUSD), 151_200_000);
    assert_eq!(chat.double(RAGTRACE_COST_INPUT_USD), 0.0000264);
    assert_eq!(chat.double(RAGTRACE_COST_CACHED_INPUT_USD), 0.0000768);
    assert_eq!(chat.double(RAGTRACE_COST_OUTPUT_USD), 0.0000384);
    assert_eq!(chat.double(RAGTRACE_COST_REASONING_USD), 0.0000096);
    assert!(
        !chat.has(RAGTRACE_COST_CACHE_WRITE_USD),
        "zero parts are left out"
    );
    assert_eq!(chat.double(LLM_COST_PROMPT), 0.0001032);
    assert_eq!(chat.double(LLM_COST_COMPLETION), 0.000048);
    // Retrieval and prompt building are not priced.
    assert!(!retrieval.has(RAGTRACE_COST_STATUS) && !prompt.has(RAGTRACE_COST_STATUS));

    // The same totals are readable in code, exactly.
    assert_eq!(summary.steps, 4);
    assert_eq!(summary.usage.input_tokens, 1207);
    assert_eq!(
        summary.cost.picos(),
        i128::from(root.int(RAGTRACE_REQUEST_COST_PICOUSD))
    );
    assert_eq!(summary.cost_status, Some(CostStatus::Priced));
    // embeddings: 7 tokens * 0.15 per 1M = 1.05 micro-USD.
    assert_eq!(summary.cost, Usd::from_picos(151_200_000 + 1_050_000));
}

#[test]
fn concurrent_and_spawned_steps_are_children_and_add_up_exactly() {
    let pipeline = Pipeline::new();
    let steps = Arc::new(Rag::with_options(Options::new().pricer(flat_price)));
    let summary = pipeline.block_on(async {
        let request = ragtrace::request("fan-out");
        request
            .run(async {
                // Concurrent steps within the request's task.
                let (a, b) = tokio::join!(
                    steps.embedder.embed(&["first question"]),
                    steps.embedder.embed(&["second", "third"]),
                );
                a.unwrap();
                b.unwrap();
                // A task spawned with the span passed on.
                let s = steps.clone();
                let with_span = tokio::spawn(
                    async move { s.chat.chat(&ChatRequest::default()).await }
                        .instrument(tracing::Span::current()),
                );
                // A task bound to the request explicitly.
                let s = steps.clone();
                let bound = tokio::spawn(
                    async move {
                        let mut stream = s.chat.chat_stream(&ChatRequest::default()).await?;
                        while let Some(chunk) = stream.next().await {
                            chunk?;
                        }
                        Ok::<_, Failure>(())
                    }
                    .in_current_request(),
                );
                with_span.await.unwrap().unwrap();
                bound.await.unwrap().unwrap();
            })
            .await;
        request.summary()
    });
    let spans = pipeline.finish();
    let root = by_name(&spans, "fan-out");
    assert_eq!(spans.len(), 5, "{:?}", names(&spans));
    for span in &spans {
        assert_eq!(
            span.trace_id, root.trace_id,
            "{} is in another trace",
            span.name
        );
        if span.span_id != root.span_id {
            assert_eq!(span.parent_span_id, root.span_id, "{} parent", span.name);
        }
    }
    assert_root_totals_match_children(&spans, root);
    // 3 embedded texts * 7 tokens + 2 chat calls * 1200.
    assert_eq!(summary.usage.input_tokens, 3 * 7 + 2 * 1200);
    assert_eq!(summary.steps, 4);
    assert_eq!(
        summary.cost.picos(),
        i128::from(root.int(RAGTRACE_REQUEST_COST_PICOUSD))
    );
}

#[test]
fn many_requests_at_once_are_separate_traces_with_their_own_totals() {
    let pipeline = Pipeline::new();
    let steps = Arc::new(Rag::with_options(Options::new().pricer(flat_price)));
    pipeline.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..24 {
            let steps = steps.clone();
            tasks.push(tokio::spawn(async move {
                let request = ragtrace::request(format!("req-{i}"));
                // Each request embeds i+1 texts, so totals differ per request.
                let texts: Vec<String> = (0..=i).map(|n| format!("text {n}")).collect();
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                request
                    .run(async {
                        steps.embedder.embed(&refs).await.unwrap();
                        tokio::task::yield_now().await;
                        steps.answer("q").await.unwrap();
                    })
                    .await;
                assert_eq!(request.summary().usage.input_tokens, 7 * (i + 1) + 7 + 1200);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let spans = pipeline.finish();
    assert_eq!(spans.len(), 24 * 6);
    let roots: Vec<&ExportedSpan> = spans
        .iter()
        .filter(|s| s.parent_span_id.is_empty())
        .collect();
    assert_eq!(roots.len(), 24);
    let traces: HashSet<&Vec<u8>> = roots.iter().map(|r| &r.trace_id).collect();
    assert_eq!(traces.len(), 24, "one trace per request");
    for root in roots {
        let i: u64 = root.name.trim_start_matches("req-").parse().unwrap();
        assert_eq!(
            root.int(RAGTRACE_REQUEST_INPUT_TOKENS) as u64,
            7 * (i + 1) + 7 + 1200
        );
        assert_root_totals_match_children(&spans, root);
        let own = spans.iter().filter(|s| s.trace_id == root.trace_id).count();
        assert_eq!(own, 6);
    }
}

#[test]
fn failures_are_returned_unchanged_and_recorded_with_status_and_error_type() {
    let pipeline = Pipeline::new();
    let mut steps = Rag::with_options(Options::new().pricer(flat_price));
    let mut failing = steps.chat.inner().clone();
    failing.fail = Some(Failure::RateLimited(30));
    steps.chat = failing.traced();
    let (result, summary) = pipeline.block_on(async {
        let request = ragtrace::request("answer");
        let result = request.run(steps.answer("q")).await;
        (result, request.summary())
    });
    assert_eq!(result, Err(Failure::RateLimited(30)));
    assert_eq!(summary.failed_steps, 1);
    let spans = pipeline.finish();
    let chat = by_name(&spans, "chat gpt-4o-mini");
    assert_eq!(chat.status, StatusCode::Error);
    assert_eq!(chat.status_message, "rate limited, retry after 30s");
    assert_eq!(chat.string(ERROR_TYPE), "rate_limited");
    assert_exception(chat, "Failure", "rate limited, retry after 30s");
    assert!(!chat.has(GEN_AI_USAGE_INPUT_TOKENS) && !chat.has(RAGTRACE_COST_STATUS));
    let root = by_name(&spans, "answer");
    assert_eq!(root.int(RAGTRACE_REQUEST_FAILED_STEPS), 1);
    assert_eq!(root.int(RAGTRACE_REQUEST_STEPS), 4);
    assert_root_totals_match_children(&spans, root);
}

/// Counts whitespace-separated words: a stand-in tokenizer, never exact.
struct WordCounter;

impl ragtrace::tokens::TokenCounter for WordCounter {
    fn count_text(&self, _model: &str, text: &str) -> ragtrace::tokens::TokenCount {
        ragtrace::tokens::TokenCount::approximate(text.split_whitespace().count() as u64)
    }
    fn count_messages(
        &self,
        model: &str,
        messages: &[ragtrace::steps::Message],
    ) -> ragtrace::tokens::TokenCount {
        let words: u64 = messages
            .iter()
            .map(|m| self.count_text(model, &m.content).tokens)
            .sum();
        ragtrace::tokens::TokenCount::approximate(words + 3)
    }
}

#[test]
fn a_stream_span_lives_as_long_as_the_stream_and_records_first_chunk_and_usage() {
    let pipeline = Pipeline::new();
    let mut chat = ScriptedChat::new("gpt-4o-mini", &["one ", "two ", "three"]);
    chat.usage = Some(Usage::new(50, 3));
    chat.chunk_delay = Duration::from_millis(30);
    let chat = chat
        .traced()
        .with_options(Options::new().pricer(flat_price));
    let text = pipeline.block_on(async {
        ragtrace::request("stream")
            .run(async {
                let mut stream = chat.chat_stream(&ChatRequest::default()).await.unwrap();
                let mut text = String::new();
                while let Some(chunk) = stream.next().await {
                    text.push_str(&chunk.unwrap().delta);
                }
                text
            })
            .await
    });
    assert_eq!(text, "one two three");
    let spans = pipeline.finish();
    let span = by_name(&spans, "chat gpt-4o-mini");
    assert!(span.boolean(GEN_AI_REQUEST_STREAM));
    let ttfc = span.double(GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK);
    let duration = (span.end_unix_nano - span.start_unix_nano) as f64 / 1e9;
    // The first chunk came after one delay, the span ended after all four.
    assert!(
        ttfc >= 0.03 && ttfc < duration,
        "ttfc {ttfc} duration {duration}"
    );
    assert!(
        duration >= 0.12,
        "span closed before the stream ended: {duration}"
    );
    assert!(span.has(LANGFUSE_OBSERVATION_COMPLETION_START_TIME));
    assert_eq!(span.int(GEN_AI_USAGE_INPUT_TOKENS), 50);
    assert_eq!(span.int(GEN_AI_USAGE_OUTPUT_TOKENS), 3);
    assert_eq!(span.strings(GEN_AI_RESPONSE_FINISH_REASONS), ["stop"]);
    assert_eq!(span.string(GEN_AI_RESPONSE_MODEL), "gpt-4o-mini-2024-07-18");
    assert_eq!(span.string(RAGTRACE_COST_STATUS), "priced");
    assert!(!span.has(RAGTRACE_CANCELLED));
    assert_root_totals_match_children(&spans, by_name(&spans, "stream"));
}

#[test]
fn a_stream_dropped_early_is_cancelled_with_what_was_counted_so_far() {
    let pipeline = Pipeline::new();
    // No usage ever arrives; the counter fills in, flagged estimated.
    let chat = ScriptedChat::new("gpt-4o-mini", &["alpha beta ", "gamma ", "delta"])
        .traced()
        .with_options(Options::new().pricer(flat_price).token_counter(WordCounter));
    let summary = pipeline.block_on(async {
        let request = ragtrace::request("cut");
        request
            .run(async {
                let request =
                    ChatRequest::new(vec![ragtrace::steps::Message::user("say four words")]);
                let mut stream = chat.chat_stream(&request).await.unwrap();
                let first = stream.next().await.unwrap().unwrap();
                assert_eq!(first.delta, "alpha beta ");
                // The caller stops reading here.
            })
            .await;
        request.summary()
    });
    let spans = pipeline.finish();
    let span = by_name(&spans, "chat gpt-4o-mini");
    assert!(span.boolean(RAGTRACE_CANCELLED));
    assert_eq!(span.status, StatusCode::Unset);
    assert!(span.boolean(RAGTRACE_USAGE_ESTIMATED));
    assert_eq!(
        span.int(GEN_AI_USAGE_OUTPUT_TOKENS),
        2,
        "two words were streamed"
    );
    assert_eq!(span.int(GEN_AI_USAGE_INPUT_TOKENS), 3 + 3);
    assert_eq!(summary.step(ragtrace::steps::StepKind::Chat).cancelled, 1);
    assert!(summary.usage.estimated);
    assert_root_totals_match_children(&spans, by_name(&spans, "cut"));
}

#[test]
fn an_error_inside_a_stream_marks_the_span_failed() {
    let pipeline = Pipeline::new();
    let mut chat = ScriptedChat::new("gpt-4o-mini", &["a", "b", "c"]);
    chat.fail_after = Some(1);
    let chat = chat.traced();
    let items = pipeline.block_on(async {
        let stream = chat.chat_stream(&ChatRequest::default()).await.unwrap();
        stream.collect::<Vec<_>>().await
    });
    assert_eq!(items.len(), 2);
    assert_eq!(items[1], Err(Failure::Upstream("stream reset".into())));
    let spans = pipeline.finish();
    let span = by_name(&spans, "chat gpt-4o-mini");
    assert_eq!(span.status, StatusCode::Error);
    assert_eq!(span.string(ERROR_TYPE), "upstream");
    assert_exception(span, "Failure", &span.status_message);
}

/// One OpenTelemetry `exception` event, with the error's type and the
/// status message.
fn assert_exception(span: &ExportedSpan, type_suffix: &str, message: &str) {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    let events: Vec<_> = span
        .events
        .iter()
        .filter(|(name, _)| name == EXCEPTION_EVENT)
        .collect();
    assert_eq!(events.len(), 1, "{:?}", span.events);
    let attrs = &events[0].1;
    match attrs.get(EXCEPTION_TYPE) {
        Some(Value::StringValue(t)) => assert!(t.ends_with(type_suffix), "{t}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        attrs.get(EXCEPTION_MESSAGE),
        Some(&Value::StringValue(message.to_owned()))
    );
}

const CONTENT_KEYS: &[&str] = &[
    INPUT_VALUE,
    OUTPUT_VALUE,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_RETRIEVAL_QUERY_TEXT,
    LLM_PROMPT_TEMPLATE_TEMPLATE,
    "retrieval.documents.0.document.content",
];

const PLANTED_KEY: &str = "sk-proj-Zk3vQ9aB7cD1eF5gH2iJ8kL4";
const PLANTED_MAIL: &str = "jane.doe@example.com";

fn question_with_secrets() -> String {
    format!("my key is {PLANTED_KEY}, mail {PLANTED_MAIL}: what is a span?")
}

#[test]
fn content_is_absent_by_default() {
    let pipeline = Pipeline::new();
    let steps = Rag::with_options(Options::new());
    let question = question_with_secrets();
    pipeline
        .block_on(
            ragtrace::request("answer")
                .input(question.clone())
                .run(steps.answer(&question)),
        )
        .unwrap();
    let spans = pipeline.finish();
    assert_eq!(spans.len(), 5);
    for span in &spans {
        for key in CONTENT_KEYS {
            assert!(
                !span.has(key),
                "{} carries {key} with capture off",
                span.name
            );
        }
        let text = span.all_text();
        assert!(
            !text.contains("what is a span"),
            "{} carries the question",
            span.name
        );
        assert!(
            !text.contains("Spans have a start"),
            "{} carries a document",
            span.name
        );
    }
}

#[test]
fn captured_content_is_redacted_and_truncated() {
    let pipeline = Pipeline::new();
    let options = Options::new().capture(ragtrace::instrument::Capture::on().max_bytes(400));
    let steps = Rag::with_options(options.clone());
    let question = question_with_secrets();
    let request = ragtrace::request("answer")
        .input(question.clone())
        .with_options(options);
    pipeline
        .block_on(request.run(steps.answer(&question)))
        .unwrap();
    let spans = pipeline.finish();
    for span in &spans {
        let text = span.all_text();
        assert!(
            !text.contains(PLANTED_KEY) && !text.contains("sk-proj"),
            "{} leaks the key",
            span.name
        );
        assert!(
            !text.contains(PLANTED_MAIL),
            "{} leaks the address",
            span.name
        );
    }
    let chat = by_name(&spans, "chat gpt-4o-mini");
    let input: serde_json::Value =
        serde_json::from_str(chat.string(GEN_AI_INPUT_MESSAGES)).unwrap();
    assert_eq!(input[1]["role"], "user");
    let user_text = input[1]["parts"][0]["content"].as_str().unwrap();
    assert!(
        user_text.contains("[REDACTED]") && user_text.contains("what is a span?"),
        "{user_text}"
    );
    let output: serde_json::Value =
        serde_json::from_str(chat.string(GEN_AI_OUTPUT_MESSAGES)).unwrap();
    assert_eq!(
        output[0]["parts"][0]["content"],
        "A trace is a tree of spans."
    );
    assert_eq!(output[0]["finish_reason"], "stop");
    let retrieval = by_name(&spans, "retrieval docs");
    assert_eq!(
        retrieval.string("retrieval.documents.1.document.content"),
        "A trace is a tree of spans."
    );
    assert!(
        retrieval
            .string(GEN_AI_RETRIEVAL_QUERY_TEXT)
            .contains("[REDACTED]")
    );
    let root = by_name(&spans, "answer");
    assert!(root.string(INPUT_VALUE).starts_with("my key is [REDACTED]"));
    // Truncated to the configured size, marked.
    let prompt = by_name(&spans, "prompt rag-default");
    assert!(prompt.has(LLM_PROMPT_TEMPLATE_TEMPLATE));
    for span in &spans {
        for key in CONTENT_KEYS {
            if let Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(v)) =
                span.attributes.get(*key)
            {
                assert!(
                    v.len() <= 400 + "…[truncated]".len() || key.contains("messages"),
                    "{}: {key} is {} bytes",
                    span.name,
                    v.len()
                );
            }
        }
    }
}

#[test]
fn odd_data_never_panics_and_is_recorded_sanely() {
    let pipeline = Pipeline::new();
    let nan_hits = ScriptedRetriever {
        collection: "docs".into(),
        hits: vec![
            ragtrace::steps::Hit::new("a", f64::NAN),
            ragtrace::steps::Hit::new("b", 0.4),
        ],
        fail: None,
    }
    .traced();
    let empty = ScriptedRetriever {
        collection: "empty".into(),
        hits: vec![],
        fail: None,
    }
    .traced();
    // No usage reported and no counter: nothing to price.
    let chat = ScriptedChat::new("gpt-4o-mini", &[]).traced();
    pipeline.block_on(async {
        nan_hits.retrieve(&Query::from_text("q")).await.unwrap();
        empty.retrieve(&Query::from_text("q")).await.unwrap();
        chat.chat(&ChatRequest::default()).await.unwrap();
    });
    let spans = pipeline.finish();
    let nan = by_name(&spans, "retrieval docs");
    assert_eq!(nan.int(RAGTRACE_RETRIEVAL_INVALID_SCORES), 1);
    assert_eq!(nan.double(RAGTRACE_RETRIEVAL_TOP_SCORE), 0.4);
    assert!(nan.doubles(RAGTRACE_RETRIEVAL_SCORES)[0].is_nan());
    let empty = by_name(&spans, "retrieval empty");
    assert_eq!(empty.int(RAGTRACE_RETRIEVAL_RETURNED), 0);
    assert!(!empty.has(RAGTRACE_RETRIEVAL_TOP_SCORE));
    assert!(empty.doubles(RAGTRACE_RETRIEVAL_SCORES).is_empty());
    let chat = by_name(&spans, "chat gpt-4o-mini");
    assert!(!chat.has(GEN_AI_USAGE_INPUT_TOKENS) && !chat.has(RAGTRACE_COST_STATUS));
}

#[test]
fn without_a_pricer_usage_is_recorded_and_cost_is_unpriced_not_zero() {
    let pipeline = Pipeline::new();
    let steps = Rag::with_options(Options::new());
    let summary = pipeline.block_on(async {
        let request = ragtrace::request("answer");
        request.run(steps.answer("q")).await.unwrap();
        request.summary()
    });
    assert_eq!(summary.cost_status, Some(CostStatus::Unpriced));
    let spans = pipeline.finish();
    let chat = by_name(&spans, "chat gpt-4o-mini");
    assert_eq!(chat.int(GEN_AI_USAGE_INPUT_TOKENS), 1200);
    assert_eq!(chat.string(RAGTRACE_COST_STATUS), "unpriced");
    assert!(!chat.has(RAGTRACE_COST_USD) && !chat.has(GEN_AI_USAGE_COST));
    let root = by_name(&spans, "answer");
    assert_eq!(root.string(RAGTRACE_REQUEST_COST_STATUS), "unpriced");
    assert!(!root.has(RAGTRACE_REQUEST_COST_USD));
}
