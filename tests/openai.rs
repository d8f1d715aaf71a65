//! The async-openai integration end to end: the real `async-openai` client,
//! wrapped in `Traced`, talks HTTP to an OpenAI-compatible server on
//! 127.0.0.1 that checks every request it receives; spans go through the
//! real OTLP exporter to a receiver on 127.0.0.1. Tests assert on what the
//! caller got back and on what was exported.
#![cfg(feature = "openai")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use async_openai::Client;
use async_openai::config::{AzureConfig, OpenAIConfig};
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use futures_util::StreamExt;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use ragtrace::instrument::keys::*;
use ragtrace::instrument::{Capture, Options, TracedExt};
use ragtrace::integrations::openai::{OpenAiChat, OpenAiEmbedder};
use ragtrace::steps::{ChatModel, ChatRequest, Embedder, Message};
use ragtrace::tokens::{TokenCount, TokenCounter};
use serde_json::json;
use support::openai_server::*;
use support::otlp::ExportedSpan;
use support::pipeline::Pipeline;
use support::rag::flat_price;

/// Looks like a real project key, so it is the kind of secret that must never leak.
const KEY: &str = "sk-proj-T3stK3yNeverInSpans0123456789abcdefXYZ";

fn client(server: &OpenAiServer) -> Client<OpenAIConfig> {
    Client::with_config(
        OpenAIConfig::new()
            .with_api_base(server.base_url())
            .with_api_key(KEY),
    )
}

/// The same client without async-openai's built-in retries.
fn client_without_retries(server: &OpenAiServer) -> Client<OpenAIConfig> {
    client(server).with_http_service(ReqwestService::new(reqwest::Client::new()))
}

fn question() -> ChatRequest {
    ChatRequest::new(vec![
        Message::system("Answer from the context."),
        Message::user("What is a trace?"),
    ])
}

const QUESTION: &[(&str, &str)] = &[
    ("system", "Answer from the context."),
    ("user", "What is a trace?"),
];

/// One token per whitespace-separated word, plus 3 per message and 3 to
/// prime the reply. A stand-in for the tokenizer being built in
/// `ragtrace::tokens`; all that matters here is that the wrapper uses it.
struct WordCounter;

impl TokenCounter for WordCounter {
    fn count_text(&self, _model: &str, text: &str) -> TokenCount {
        TokenCount::approximate(text.split_whitespace().count() as u64)
    }
    fn count_messages(&self, model: &str, messages: &[Message]) -> TokenCount {
        let words: u64 = messages
            .iter()
            .map(|m| 3 + self.count_text(model, &m.content).tokens)
            .sum();
        TokenCount::approximate(words + 3)
    }
}

fn only(spans: &[ExportedSpan], name: &str) -> ExportedSpan {
    let matching: Vec<&ExportedSpan> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(
        matching.len(),
        1,
        "one span named {name:?} expected in {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    matching[0].clone()
}

#[test]
fn a_whole_answer_reports_what_the_server_said_and_what_was_sent() {
    let server = OpenAiServer::start(Auth::Bearer(KEY.into()));
    let mut body = completion(
        "chatcmpl-A1",
        "gpt-4o-mini-2024-07-18",
        "A trace is a tree of spans.",
        "stop",
        Some(usage(1200, 80, 1024, 16)),
    );
    body["service_tier"] = json!("default");
    server.push(
        Exchange::chat(Reply::Json(body))
            .expect("/model", json!("gpt-4o-mini"))
            .messages(QUESTION)
            // From the request...
            .expect_f32("/temperature", 0.2)
            .expect("/seed", json!(7))
            .expect("/stop", json!("END"))
            // ...and from the model's defaults where the request says nothing.
            .expect("/max_completion_tokens", json!(256))
            .expect_f32("/top_p", 0.9)
            .absent("/max_tokens")
            .absent("/stream")
            .absent("/stream_options"),
    );
    let pipeline = Pipeline::new();
    let llm = OpenAiChat::new(client(&server), "gpt-4o-mini")
        .temperature(0.7)
        .max_tokens(256)
        .top_p(0.9)
        .traced()
        .with_options(Options::new().pricer(flat_price));
    let request = question().temperature(0.2).seed(7).stop("END");
    let answer = pipeline
        .block_on(async { llm.chat(&request).await })
        .unwrap();
    server.assert_done();

    assert_eq!(answer.content, "A trace is a tree of spans.");
    assert_eq!(answer.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!(answer.id.as_deref(), Some("chatcmpl-A1"));
    assert_eq!(answer.finish_reasons, ["stop"]);
    assert_eq!(answer.service_tier.as_deref(), Some("default"));
    let usage = answer.usage.unwrap();
    assert_eq!(
        (usage.input_tokens, usage.cache_read_input_tokens),
        (1200, 1024)
    );
    assert_eq!(
        (usage.output_tokens, usage.reasoning_output_tokens),
        (80, 16)
    );
    assert!(!usage.estimated);

    let spans = pipeline.finish();
    let chat = only(&spans, "chat gpt-4o-mini");
    assert_eq!(chat.kind, SpanKind::Client);
    assert_eq!(chat.status, StatusCode::Unset);
    assert_eq!(chat.string(GEN_AI_PROVIDER_NAME), "openai");
    assert_eq!(chat.string(SERVER_ADDRESS), "127.0.0.1");
    assert_eq!(chat.int(SERVER_PORT), i64::from(server.addr.port()));
    assert_eq!(chat.string(GEN_AI_REQUEST_MODEL), "gpt-4o-mini");
    assert_eq!(chat.double(GEN_AI_REQUEST_TEMPERATURE), 0.2);
    assert_eq!(chat.int(GEN_AI_REQUEST_MAX_TOKENS), 256);
    assert_eq!(chat.double(GEN_AI_REQUEST_TOP_P), 0.9);
    assert_eq!(chat.int(GEN_AI_REQUEST_SEED), 7);
    assert_eq!(chat.strings(GEN_AI_REQUEST_STOP_SEQUENCES), ["END"]);
    assert!(!chat.boolean(GEN_AI_REQUEST_STREAM));
    assert_eq!(chat.string(GEN_AI_RESPONSE_MODEL), "gpt-4o-mini-2024-07-18");
    assert_eq!(chat.string(GEN_AI_RESPONSE_ID), "chatcmpl-A1");
    assert_eq!(chat.strings(GEN_AI_RESPONSE_FINISH_REASONS), ["stop"]);
    assert_eq!(chat.string(GEN_AI_OPENAI_RESPONSE_SERVICE_TIER), "default");
    // OpenAI's inclusive counts carried over as they are, details as subsets.
    assert_eq!(chat.int(GEN_AI_USAGE_INPUT_TOKENS), 1200);
    assert_eq!(chat.int(GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS), 1024);
    assert_eq!(chat.int(GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS), 0);
    assert_eq!(chat.int(GEN_AI_USAGE_OUTPUT_TOKENS), 80);
    assert_eq!(chat.int(GEN_AI_USAGE_REASONING_OUTPUT_TOKENS), 16);
    assert_eq!(chat.int(LLM_TOKEN_COUNT_TOTAL), 1280);
    assert!(!chat.boolean(RAGTRACE_USAGE_ESTIMATED));
    // Priced without double counting: 176 uncached + 1024 cached input,
    // 64 visible + 16 reasoning output = 151.2 micro-USD.
    assert_eq!(chat.int(RAGTRACE_COST_PICOUSD), 151_200_000);
    assert!(!chat.has(ERROR_TYPE));
}

#[test]
fn a_stream_asks_for_usage_and_takes_it_from_the_last_chunk() {
    let server = OpenAiServer::start(Auth::Bearer(KEY.into()));
    let pieces = ["A trace ", "is a tree ", "of spans."];
    server.push(
        Exchange::chat(Reply::Sse(stream_chunks(
            "chatcmpl-S1",
            "gpt-4o-mini-2024-07-18",
            &pieces,
            Some(usage(900, 12, 512, 0)),
        )))
        .expect("/model", json!("gpt-4o-mini"))
        .messages(QUESTION)
        .expect("/stream", json!(true))
        .expect("/stream_options/include_usage", json!(true)),
    );
    let pipeline = Pipeline::new();
    let llm = OpenAiChat::new(client(&server), "gpt-4o-mini").traced();
    let chunks = pipeline.block_on(async {
        let stream = llm.chat_stream(&question()).await.unwrap();
        stream.collect::<Vec<_>>().await
    });
    server.assert_done();

    let chunks: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
    let text: String = chunks.iter().map(|c| c.delta.as_str()).collect();
    assert_eq!(text, "A trace is a tree of spans.");
    // role chunk, 3 pieces, finish chunk, usage chunk
    assert_eq!(chunks.len(), 6);
    assert_eq!(chunks[4].finish_reason.as_deref(), Some("stop"));
    let last = chunks.last().unwrap();
    assert_eq!(
        last.usage
            .map(|u| (u.input_tokens, u.cache_read_input_tokens, u.output_tokens)),
        Some((900, 512, 12))
    );
    assert!(
        chunks
            .iter()
            .all(|c| c.id.as_deref() == Some("chatcmpl-S1"))
    );

    let spans = pipeline.finish();
    let chat = only(&spans, "chat gpt-4o-mini");
    assert_eq!(chat.status, StatusCode::Unset);
    assert!(chat.boolean(GEN_AI_REQUEST_STREAM));
    assert!(chat.double(GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK) > 0.0);
    assert!(chat.has(LANGFUSE_OBSERVATION_COMPLETION_START_TIME));
    assert_eq!(chat.string(GEN_AI_RESPONSE_ID), "chatcmpl-S1");
    assert_eq!(chat.string(GEN_AI_RESPONSE_MODEL), "gpt-4o-mini-2024-07-18");
    assert_eq!(chat.strings(GEN_AI_RESPONSE_FINISH_REASONS), ["stop"]);
    assert_eq!(chat.int(GEN_AI_USAGE_INPUT_TOKENS), 900);
    assert_eq!(chat.int(GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS), 512);
    assert_eq!(chat.int(GEN_AI_USAGE_OUTPUT_TOKENS), 12);
    assert!(!chat.boolean(RAGTRACE_USAGE_ESTIMATED));
    assert!(!chat.has(RAGTRACE_CANCELLED));
}

#[test]
fn a_stream_without_usage_is_counted_and_flagged_estimated() {
    let server = OpenAiServer::start(Auth::Bearer(KEY.into()));
    let pieces = ["A trace ", "is a tree ", "of spans."];
    // Opted out: the server checks the option is not sent, and sends no usage.
    server.push(
        Exchange::chat(Reply::Sse(stream_chunks(
            "chatcmpl-S2",
            "llama3.2",
            &pieces,
            None,
        )))
        .expect("/model", json!("llama3.2"))
        .expect("/stream", json!(true))
        .absent("/stream_options"),
    );
    // Asked for, but the server ignores the option (as some do).
    server.push(
        Exchange::chat(Reply::Sse(stream_chunks(
            "chatcmpl-S3",
            "llama3.2",
            &pieces,
            None,
        )))
        .expect("/stream_options/include_usage", json!(true)),
    );
    let pipeline = Pipeline::new();
    let options = Arc::new(Options::new().token_counter(WordCounter));
    let quiet = OpenAiChat::new(client(&server), "llama3.2")
        .provider("ollama")
        .include_usage(false)
        .traced()
        .with_options(options.clone());
    let asking = OpenAiChat::new(client(&server), "llama3.2")
        .provider("ollama")
        .traced()
        .with_options(options);
    pipeline.block_on(async {
        for llm in [&quiet, &asking] {
            let chunks: Vec<_> = llm.chat_stream(&question()).await.unwrap().collect().await;
            assert!(chunks.iter().all(Result::is_ok));
            assert!(chunks.iter().all(|c| c.as_ref().unwrap().usage.is_none()));
        }
    });
    server.assert_done();

    let spans = pipeline.finish();
    let chats: Vec<&ExportedSpan> = spans.iter().filter(|s| s.name == "chat llama3.2").collect();
    assert_eq!(chats.len(), 2);
    // 2 messages: (3 + 4 words) + (3 + 4 words) + 3 = 17; answer: 7 words.
    let input = WordCounter
        .count_messages("llama3.2", &question().messages)
        .tokens as i64;
    assert_eq!(input, 17);
    for chat in chats {
        assert_eq!(chat.string(GEN_AI_PROVIDER_NAME), "ollama");
        assert!(chat.boolean(RAGTRACE_USAGE_ESTIMATED));
        assert_eq!(chat.int(GEN_AI_USAGE_INPUT_TOKENS), input);
        assert_eq!(chat.int(GEN_AI_USAGE_OUTPUT_TOKENS), 7);
        assert_eq!(chat.status, StatusCode::Unset);
    }
}

#[test]
fn a_stream_cut_midway_gives_the_client_error_and_counts_what_arrived() {
    let server = OpenAiServer::start(Auth::Bearer(KEY.into()));
    let mut events = stream_chunks("chatcmpl-C1", "gpt-4o-mini", &["A trace ", "is a"], None);
    events.pop(); // no finish chunk: the connection breaks first
    server.push(Exchange::chat(Reply::SseCut(events)));
    let pipeline = Pipeline::new();
    let llm = OpenAiChat::new(client(&server), "gpt-4o-mini")
        .traced()
        .with_options(Options::new().token_counter(WordCounter));
    let items = pipeline.block_on(async {
        let stream = llm.chat_stream(&question()).await.unwrap();
        stream.collect::<Vec<_>>().await
    });
    server.assert_done();

    // What async-openai yields, unchanged: the chunks that came, then its error.
    let (ok, failed): (Vec<_>, Vec<_>) = items.into_iter().partition(Result::is_ok);
    let text: String = ok.into_iter().map(|c| c.unwrap().delta).collect();
    assert_eq!(text, "A trace is a");
    assert_eq!(failed.len(), 1);
    let error = failed.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(error, OpenAIError::StreamError(_)), "{error:?}");

    let spans = pipeline.finish();
    let chat = only(&spans, "chat gpt-4o-mini");
    assert_eq!(chat.status, StatusCode::Error);
    assert_eq!(chat.string(ERROR_TYPE), "stream_error");
    assert!(chat.boolean(RAGTRACE_USAGE_ESTIMATED));
    assert_eq!(
        chat.int(GEN_AI_USAGE_OUTPUT_TOKENS),
        4,
        "the words that arrived"
    );
    assert!(!chat.has(GEN_AI_RESPONSE_FINISH_REASONS));
}

#[test]
fn embeddings_come_back_in_input_order_with_usage() {
    let server = OpenAiServer::start(Auth::Bearer(KEY.into()));
    let vectors = vec![vec![0.1, 0.2, 0.3], vec![0.4, 0.5, 0.6]];
    server.push(
        Exchange::embeddings(Reply::Json(embeddings(
            "text-embedding-3-small",
            &vectors,
            &[1, 0], // out of order, as the API allows
            9,
        )))
        .expect("/model", json!("text-embedding-3-small"))
        .expect("/input", json!(["what is a span?", "what is a trace?"]))
        .expect("/dimensions", json!(3))
        .absent("/encoding_format"),
    );
    // A single input goes as a plain string, which every compatible server takes.
    server.push(
        Exchange::embeddings(Reply::Json(embeddings(
            "text-embedding-3-small",
            &vectors[..1],
            &[0],
            4,
        )))
        .expect("/input", json!("what is a span?")),
    );
    let pipeline = Pipeline::new();
    let embedder = OpenAiEmbedder::new(client(&server), "text-embedding-3-small")
        .dimensions(3)
        .traced();
    let (pair, single, none) = pipeline.block_on(async {
        (
            embedder
                .embed(&["what is a span?", "what is a trace?"])
                .await
                .unwrap(),
            embedder.embed(&["what is a span?"]).await.unwrap(),
            embedder.embed(&[]).await.unwrap(),
        )
    });
    server.assert_done();
    assert_eq!(pair.vectors, vectors);
    assert_eq!(pair.model.as_deref(), Some("text-embedding-3-small"));
    assert_eq!(pair.usage.map(|u| u.input_tokens), Some(9));
    assert_eq!(single.vectors, vectors[..1]);
    assert!(none.vectors.is_empty(), "no inputs, no call");

    let spans = pipeline.finish();
    let embeds: Vec<&ExportedSpan> = spans
        .iter()
        .filter(|s| s.name == "embeddings text-embedding-3-small")
        .collect();
    assert_eq!(embeds.len(), 3);
    let first = embeds
        .iter()
        .find(|s| s.has(GEN_AI_USAGE_INPUT_TOKENS) && s.int(GEN_AI_USAGE_INPUT_TOKENS) == 9)
        .expect("the two-input call");
    assert_eq!(first.kind, SpanKind::Client);
    assert_eq!(first.string(GEN_AI_OPERATION_NAME), "embeddings");
    assert_eq!(first.string(GEN_AI_PROVIDER_NAME), "openai");
    assert_eq!(
        first.string(GEN_AI_RESPONSE_MODEL),
        "text-embedding-3-small"
    );
    assert_eq!(first.int(GEN_AI_EMBEDDINGS_DIMENSION_COUNT), 3);
    assert_eq!(first.int(SERVER_PORT), i64::from(server.addr.port()));
    assert!(!first.boolean(RAGTRACE_USAGE_ESTIMATED));
}

#[test]
fn http_errors_reach_the_caller_unchanged_and_are_classified() {
    let server = OpenAiServer::start(Auth::Bearer(KEY.into()));
    let rate_limited = || Reply::Error {
        status: 429,
        headers: vec![("retry-after", "7".into())],
        body: error_body(
            "Rate limit reached for gpt-4o-mini on requests per min (RPM).",
            "requests",
            "rate_limit_exceeded",
        ),
    };
    let overloaded = || Reply::Error {
        status: 500,
        headers: vec![],
        body: "upstream overloaded".into(),
    };
    let malformed = || Reply::RawJson(r#"{"id": "chatcmpl-X", "choices": [{"#.into());
    let replies = [
        (rate_limited(), "429"),
        (overloaded(), "500"),
        (malformed(), "invalid_response"),
    ];
    // Each reply is served twice: once to the bare client, once through ragtrace.
    for (reply, _) in &replies {
        server.push(Exchange::chat(reply.clone()));
        server.push(Exchange::chat(reply.clone()));
    }
    let pipeline = Pipeline::new();
    // Retries off, so a 429 with retry-after: 7 answers at once (see the
    // retry test below for the default client).
    let bare = client_without_retries(&server);
    let llm = OpenAiChat::new(client_without_retries(&server), "gpt-4o-mini").traced();
    let results = pipeline.block_on(async {
        let mut results = Vec::new();
        for _ in &replies {
            let body = llm.inner().request_body(&question(), false).unwrap();
            let without = bare.chat().create(body).await.unwrap_err();
            let with = llm.chat(&question()).await.unwrap_err();
            results.push((without, with));
        }
        results
    });
    server.assert_done();
    assert_eq!(
        server.received().len(),
        6,
        "one request per call: no retries"
    );

    for ((without, with), (_, class)) in results.iter().zip(&replies) {
        // The same error as without ragtrace, variant, status and text.
        assert_eq!(format!("{with:?}"), format!("{without:?}"));
        assert_eq!(with.to_string(), without.to_string());
        assert_eq!(ragtrace::integrations::openai::error_type(with), *class);
    }
    match &results[0].1 {
        OpenAIError::ApiError(e) => {
            assert_eq!(e.status_code.as_u16(), 429);
            assert_eq!(e.api_error.code.as_deref(), Some("rate_limit_exceeded"));
        }
        other => panic!("{other:?}"),
    }

    let spans = pipeline.finish();
    let mut classes: Vec<String> = spans
        .iter()
        .map(|s| {
            assert_eq!(s.name, "chat gpt-4o-mini");
            assert_eq!(s.status, StatusCode::Error);
            assert!(
                !s.has(GEN_AI_USAGE_INPUT_TOKENS),
                "a failed call has no usage"
            );
            s.string(ERROR_TYPE).to_owned()
        })
        .collect();
    classes.sort();
    assert_eq!(classes, ["429", "500", "invalid_response"]);
    let limited = spans
        .iter()
        .find(|s| s.string(ERROR_TYPE) == "429")
        .unwrap();
    assert!(
        limited.status_message.contains("Rate limit reached"),
        "{}",
        limited.status_message
    );
}

#[test]
fn default_retries_happen_inside_one_span() {
    let server = OpenAiServer::start(Auth::Bearer(KEY.into()));
    let limited = || Reply::Error {
        status: 429,
        headers: vec![("retry-after", "0".into())],
        body: error_body("Rate limit reached.", "requests", "rate_limit_exceeded"),
    };
    // Two rate limits, then an answer: async-openai retries (honouring
    // retry-after: 0) and the caller sees only the answer.
    server.push(Exchange::chat(limited()));
    server.push(Exchange::chat(limited()));
    server.push(Exchange::chat(Reply::Json(completion(
        "chatcmpl-R1",
        "gpt-4o-mini",
        "ok",
        "stop",
        Some(usage(10, 1, 0, 0)),
    ))));
    // Always rate limited: after 3 retries the last 429 reaches the caller.
    for _ in 0..4 {
        server.push(Exchange::chat(limited()));
    }
    let pipeline = Pipeline::new();
    let llm = OpenAiChat::new(client(&server), "gpt-4o-mini").traced();
    let (first, second) =
        pipeline.block_on(async { (llm.chat(&question()).await, llm.chat(&question()).await) });
    server.assert_done();
    assert_eq!(server.received().len(), 7);
    assert_eq!(first.unwrap().content, "ok");
    let second = second.unwrap_err();
    assert!(
        matches!(&second, OpenAIError::ApiError(e) if e.status_code.as_u16() == 429),
        "{second:?}"
    );

    let spans = pipeline.finish();
    assert_eq!(spans.len(), 2, "one span per call, not per attempt");
    let ok = spans
        .iter()
        .find(|s| s.status == StatusCode::Unset)
        .unwrap();
    assert_eq!(ok.int(GEN_AI_USAGE_INPUT_TOKENS), 10);
    let failed = spans
        .iter()
        .find(|s| s.status == StatusCode::Error)
        .unwrap();
    assert_eq!(failed.string(ERROR_TYPE), "429");
}

#[test]
fn a_timeout_is_the_clients_timeout_error() {
    let server = OpenAiServer::start(Auth::Bearer(KEY.into()));
    server.push(Exchange::chat(Reply::Slow(
        Duration::from_secs(5),
        Box::new(Reply::Json(completion(
            "x",
            "gpt-4o-mini",
            "late",
            "stop",
            None,
        ))),
    )));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let pipeline = Pipeline::new();
    let llm = OpenAiChat::new(client(&server).with_http_client(http), "gpt-4o-mini").traced();
    let error = pipeline
        .block_on(async { llm.chat(&question()).await })
        .unwrap_err();
    match &error {
        OpenAIError::Reqwest(e) => assert!(e.is_timeout(), "{e:?}"),
        other => panic!("{other:?}"),
    }
    let spans = pipeline.finish();
    let chat = only(&spans, "chat gpt-4o-mini");
    assert_eq!(chat.status, StatusCode::Error);
    assert_eq!(chat.string(ERROR_TYPE), "timeout");
}

#[test]
fn azure_openai_is_named_as_such_and_authenticates_its_own_way() {
    let server = OpenAiServer::start(Auth::ApiKey(KEY.into()));
    server.push(
        Exchange::new(
            "/openai/deployments/prod-4o-mini/chat/completions",
            Reply::Json(completion(
                "chatcmpl-Z1",
                "gpt-4o-mini-2024-07-18",
                "Hi",
                "stop",
                Some(usage(20, 2, 0, 0)),
            )),
        )
        .expect("/model", json!("gpt-4o-mini")),
    );
    let config = AzureConfig::new()
        .with_api_base(format!("http://{}", server.addr))
        .with_deployment_id("prod-4o-mini")
        .with_api_version("2024-10-21")
        .with_api_key(KEY);
    let pipeline = Pipeline::new();
    let llm = OpenAiChat::new(Client::with_config(config), "gpt-4o-mini").traced();
    let answer = pipeline
        .block_on(async { llm.chat(&question()).await })
        .unwrap();
    server.assert_done();
    assert_eq!(answer.content, "Hi");
    assert_eq!(
        server.received()[0].query.as_deref(),
        Some("api-version=2024-10-21")
    );
    let spans = pipeline.finish();
    let chat = only(&spans, "chat gpt-4o-mini");
    assert_eq!(chat.string(GEN_AI_PROVIDER_NAME), "azure.ai.openai");
    assert_eq!(chat.string(LLM_PROVIDER), "azure.ai.openai");
    assert_eq!(chat.int(GEN_AI_USAGE_INPUT_TOKENS), 20);
}

#[test]
fn the_api_key_never_appears_in_any_span_or_event_even_with_capture_on() {
    let server = OpenAiServer::start(Auth::Bearer(KEY.into()));
    let pieces = ["A trace ", "is a tree."];
    server.push(Exchange::chat(Reply::Json(completion(
        "c1",
        "gpt-4o-mini",
        "ok",
        "stop",
        Some(usage(10, 1, 0, 0)),
    ))));
    server.push(Exchange::chat(Reply::Sse(stream_chunks(
        "c2",
        "gpt-4o-mini",
        &pieces,
        Some(usage(10, 4, 0, 0)),
    ))));
    server.push(Exchange::embeddings(Reply::Json(embeddings(
        "text-embedding-3-small",
        &[vec![1.0]],
        &[0],
        3,
    ))));
    // A server that echoes the key in its error message, in full.
    server.push(Exchange::chat(Reply::Error {
        status: 401,
        headers: vec![],
        body: error_body(
            &format!("Incorrect API key provided: {KEY}."),
            "invalid_request_error",
            "invalid_api_key",
        ),
    }));
    server.push(Exchange::chat(Reply::Error {
        status: 429,
        headers: vec![("retry-after", "1".into())],
        body: error_body("Slow down.", "requests", "rate_limit_exceeded"),
    }));
    let pipeline = Pipeline::new();
    let options = Arc::new(
        Options::new()
            .capture(Capture::on())
            .token_counter(WordCounter),
    );
    let llm = OpenAiChat::new(client_without_retries(&server), "gpt-4o-mini")
        .traced()
        .with_options(options.clone());
    let embedder = OpenAiEmbedder::new(client(&server), "text-embedding-3-small")
        .traced()
        .with_options(options.clone());
    // The user pastes the key into a question: content capture must redact it.
    let leaky = ChatRequest::new(vec![Message::user(format!("is {KEY} valid?"))]);
    pipeline.block_on(
        ragtrace::request("leak-check")
            .with_options(options)
            .input(format!("is {KEY} valid?"))
            .run(async {
                llm.chat(&leaky).await.unwrap();
                let chunks: Vec<_> = llm.chat_stream(&leaky).await.unwrap().collect().await;
                assert!(chunks.iter().all(Result::is_ok));
                embedder
                    .embed(&[&format!("is {KEY} valid?")])
                    .await
                    .unwrap();
                let unauthorized = llm.chat(&leaky).await.unwrap_err();
                assert!(
                    unauthorized.to_string().contains(KEY),
                    "the caller's error is untouched"
                );
                llm.chat(&leaky).await.unwrap_err();
            }),
    );
    server.assert_done();

    let spans = pipeline.finish();
    assert_eq!(spans.len(), 6, "root + 5 steps");
    let unauthorized = spans
        .iter()
        .find(|s| s.has(ERROR_TYPE) && s.string(ERROR_TYPE) == "401")
        .expect("the 401 span");
    assert!(
        unauthorized
            .status_message
            .contains("Incorrect API key provided: [REDACTED]"),
        "{}",
        unauthorized.status_message
    );
    assert!(
        spans.iter().any(|s| s.has(GEN_AI_INPUT_MESSAGES)),
        "capture was on"
    );
    // Not the key, and not a recognisable piece of it either.
    let fragment = &KEY[8..24];
    for span in &spans {
        let text = span.all_text();
        assert!(!text.contains(KEY), "{}: {text}", span.name);
        assert!(!text.contains(fragment), "{}: {text}", span.name);
    }
}

#[test]
fn a_rag_request_over_openai_and_the_memory_index_is_one_trace_with_exact_totals() {
    use ragtrace::integrations::memory::{Document, MemoryRetriever};
    use ragtrace::steps::{PromptBuilder, Query, Retriever};
    use support::steps::ScriptedPrompt;

    let server = OpenAiServer::start(Auth::Bearer(KEY.into()));
    server.push(
        Exchange::embeddings(Reply::Json(embeddings(
            "text-embedding-3-small",
            &[vec![0.9, 0.1]],
            &[0],
            6,
        )))
        .expect("/input", json!("what is a trace?")),
    );
    server.push(
        Exchange::chat(Reply::Sse(stream_chunks(
            "chatcmpl-E1",
            "gpt-4o-mini-2024-07-18",
            &["A tree ", "of spans."],
            Some(usage(300, 5, 256, 0)),
        )))
        // The prompt carries the best hit first.
        .expect(
            "/messages/1/content",
            json!("Context:\nA trace is a tree of spans.\nSpans have names.\n\nQuestion: what is a trace?"),
        ),
    );
    let pipeline = Pipeline::new();
    let options = Arc::new(Options::new().pricer(flat_price));
    let embedder = OpenAiEmbedder::new(client(&server), "text-embedding-3-small")
        .traced()
        .with_options(options.clone());
    let retriever = MemoryRetriever::new("handbook")
        .with_documents([
            Document::new("t", vec![1.0, 0.0]).with_content("A trace is a tree of spans."),
            Document::new("s", vec![0.5, 0.5]).with_content("Spans have names."),
            Document::new("x", vec![0.0, 1.0]).with_content("Unrelated."),
        ])
        .unwrap()
        .top_k(2)
        .traced()
        .with_options(options.clone());
    let prompt = ScriptedPrompt {
        template: "rag".into(),
        max_chunks: 2,
    }
    .traced()
    .with_options(options.clone());
    let llm = OpenAiChat::new(client(&server), "gpt-4o-mini")
        .traced()
        .with_options(options);
    let question = "what is a trace?";
    let (answer, summary) = pipeline.block_on(async {
        let request = ragtrace::request("answer");
        let answer = request
            .run(async {
                let query = embedder.embed(&[question]).await.unwrap();
                let hits = retriever
                    .retrieve(&Query::vector(query.first().unwrap()).text(question))
                    .await
                    .unwrap();
                let prompt = prompt.build(question, &hits).await.unwrap();
                let stream = llm.chat_stream(&ChatRequest::from(prompt)).await.unwrap();
                let chunks: Vec<_> = stream.collect().await;
                chunks
                    .into_iter()
                    .map(|c| c.unwrap().delta)
                    .collect::<String>()
            })
            .await;
        (answer, request.summary())
    });
    server.assert_done();
    assert_eq!(answer, "A tree of spans.");
    assert_eq!(summary.steps, 4);
    assert_eq!(summary.usage.input_tokens, 6 + 300);
    assert_eq!(summary.usage.cache_read_input_tokens, 256);

    let spans = pipeline.finish();
    assert_eq!(spans.len(), 5);
    let root = only(&spans, "answer");
    for span in spans.iter().filter(|s| s.span_id != root.span_id) {
        assert_eq!(span.trace_id, root.trace_id);
        assert_eq!(span.parent_span_id, root.span_id, "{}", span.name);
    }
    let retrieval = only(&spans, "retrieval handbook");
    assert_eq!(retrieval.int(RAGTRACE_RETRIEVAL_RETURNED), 2);
    assert_eq!(retrieval.string("retrieval.documents.0.document.id"), "t");
    assert_eq!(root.int(RAGTRACE_REQUEST_INPUT_TOKENS), 306);
    assert_eq!(root.int(RAGTRACE_REQUEST_CACHE_READ_TOKENS), 256);
    let chat = only(&spans, "chat gpt-4o-mini");
    let embed = only(&spans, "embeddings text-embedding-3-small");
    assert_eq!(
        root.int(RAGTRACE_REQUEST_COST_PICOUSD),
        chat.int(RAGTRACE_COST_PICOUSD) + embed.int(RAGTRACE_COST_PICOUSD)
    );
}
