//! Property: a traced step returns exactly what the inner step returned,
//! value or error, whatever that is (odd usage, NaN scores, empty hits,
//! huge counts), with the full OpenTelemetry layer recording and a pricer
//! and token counter installed.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use proptest::prelude::*;
use ragtrace::instrument::{Options, RequestFutureExt, TracedExt};
use ragtrace::pricing::{Cost, PriceRequest, Usd};
use ragtrace::steps::{
    ChatChunk, ChatModel, ChatRequest, Completion, Embedder, Embeddings, Hit, Hits, Message,
    Prompt, PromptBuilder, PromptStats, Query, Retriever, Usage,
};
use ragtrace::tokens::{TokenCount, TokenCounter};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("inner failure {0}")]
struct Inner(String);

/// Steps that replay a scripted outcome.
#[derive(Clone)]
struct Replay<T>(Result<T, Inner>);

impl Embedder for Replay<Embeddings> {
    type Error = Inner;
    async fn embed(&self, _inputs: &[&str]) -> Result<Embeddings, Inner> {
        self.0.clone()
    }
}

impl Retriever for Replay<Hits> {
    type Error = Inner;
    async fn retrieve(&self, _query: &Query<'_>) -> Result<Hits, Inner> {
        self.0.clone()
    }
}

impl PromptBuilder for Replay<Prompt> {
    type Error = Inner;
    async fn build(&self, _question: &str, _hits: &[Hit]) -> Result<Prompt, Inner> {
        self.0.clone()
    }
}

#[derive(Clone)]
struct ReplayChat {
    whole: Result<Completion, Inner>,
    chunks: Vec<Result<ChatChunk, Inner>>,
}

impl ChatModel for ReplayChat {
    type Error = Inner;
    type Stream = BoxStream<'static, Result<ChatChunk, Inner>>;
    async fn chat(&self, _request: &ChatRequest) -> Result<Completion, Inner> {
        self.whole.clone()
    }
    async fn chat_stream(&self, _request: &ChatRequest) -> Result<Self::Stream, Inner> {
        Ok(stream::iter(self.chunks.clone()).boxed())
    }
}

/// Prices with made-up rates; any usage, including saturating counts.
fn pricer(request: &PriceRequest<'_>) -> Cost {
    let rate = Usd::from_picos(2_500_000);
    Cost::from_parts(
        rate.per_million_tokens(request.usage.uncached_input_tokens()),
        Usd::ZERO,
        Usd::ZERO,
        rate.per_million_tokens(request.usage.output_tokens),
        Usd::ZERO,
    )
}

struct Bytes;
impl TokenCounter for Bytes {
    fn count_text(&self, _model: &str, text: &str) -> TokenCount {
        TokenCount::approximate(text.len() as u64)
    }
    fn count_messages(&self, _model: &str, messages: &[Message]) -> TokenCount {
        TokenCount::approximate(messages.iter().map(|m| m.content.len() as u64).sum())
    }
}

fn usage() -> impl Strategy<Value = Option<Usage>> {
    proptest::option::of(
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<bool>(),
        )
            .prop_map(|(input, output, cached, reasoning, estimated)| {
                Usage::new(input, output)
                    .with_cache_read(cached)
                    .with_reasoning(reasoning)
                    .with_estimated(estimated)
            }),
    )
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), ".{0,40}", "sk-[a-z]{20}"]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        -1.0..1.0_f64
    ]
}

fn outcome<T: std::fmt::Debug + Clone>(
    ok: impl Strategy<Value = T>,
) -> impl Strategy<Value = Result<T, Inner>> {
    prop_oneof![
        3 => ok.prop_map(Ok),
        1 => text().prop_map(|t| Err(Inner(t))),
    ]
}

fn embeddings() -> impl Strategy<Value = Embeddings> {
    (
        proptest::collection::vec(proptest::collection::vec(any::<f32>(), 0..4), 0..3),
        proptest::option::of(text()),
        usage(),
    )
        .prop_map(|(vectors, model, usage)| {
            let mut e = Embeddings::new(vectors);
            e.model = model;
            e.usage = usage;
            e
        })
}

fn hits() -> impl Strategy<Value = Hits> {
    proptest::collection::vec(
        (text(), score(), proptest::option::of(text())).prop_map(|(id, score, content)| {
            let mut hit = Hit::new(id, score);
            hit.content = content;
            hit
        }),
        0..40,
    )
    .prop_map(Hits::new)
}

fn prompt() -> impl Strategy<Value = Prompt> {
    (
        text(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(content, tokens, offered, included, window)| {
            let mut stats = PromptStats::new(tokens).with_context(tokens / 2, offered, included, 0);
            stats.context_window = window;
            Prompt::new(vec![Message::user(content)], stats)
        })
}

fn completion() -> impl Strategy<Value = Completion> {
    (
        text(),
        proptest::option::of(text()),
        proptest::collection::vec(text(), 0..3),
        usage(),
    )
        .prop_map(|(content, model, reasons, usage)| {
            let mut c = Completion::new(content);
            c.model = model;
            c.finish_reasons = reasons;
            c.usage = usage;
            c
        })
}

fn chunks() -> impl Strategy<Value = Vec<Result<ChatChunk, Inner>>> {
    proptest::collection::vec(
        outcome((text(), proptest::option::of(text()), usage()).prop_map(
            |(delta, reason, usage)| {
                let mut chunk = ChatChunk::new(delta);
                chunk.finish_reason = reason;
                chunk.usage = usage;
                chunk
            },
        )),
        0..6,
    )
}

/// Compares hits with scores by bit pattern, so NaN equals NaN.
fn same_hits(a: &Result<Hits, Inner>, b: &Result<Hits, Inner>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            a.len() == b.len()
                && a.iter().zip(b.iter()).all(|(x, y)| {
                    x.id == y.id && x.score.to_bits() == y.score.to_bits() && x.content == y.content
                })
        }
        (Err(a), Err(b)) => a == b,
        _ => false,
    }
}

/// Compares vectors by bit pattern (NaN-safe).
fn same_embeddings(a: &Result<Embeddings, Inner>, b: &Result<Embeddings, Inner>) -> bool {
    let bits = |e: &Embeddings| -> Vec<Vec<u32>> {
        e.vectors
            .iter()
            .map(|v| v.iter().map(|x| x.to_bits()).collect())
            .collect()
    };
    match (a, b) {
        (Ok(a), Ok(b)) => bits(a) == bits(b) && a.model == b.model && a.usage == b.usage,
        (Err(a), Err(b)) => a == b,
        _ => false,
    }
}

struct World {
    runtime: tokio::runtime::Runtime,
    dispatch: tracing::Dispatch,
    _provider: SdkTracerProvider,
}

fn world() -> World {
    // Spans are recorded (sampled) but not exported: the attribute code runs in full.
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("transparency")));
    World {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        dispatch: tracing::Dispatch::new(subscriber),
        _provider: provider,
    }
}

impl World {
    fn run<F: std::future::Future>(&self, future: F) -> F::Output {
        tracing::dispatcher::with_default(&self.dispatch, || self.runtime.block_on(future))
    }
}

fn options() -> Arc<Options> {
    Arc::new(
        Options::new()
            .pricer(pricer)
            .token_counter(Bytes)
            .capture(ragtrace::instrument::Capture::on().max_bytes(16))
            .record_documents(true),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn traced_steps_return_what_the_inner_step_returned(
        embedded in outcome(embeddings()),
        found in outcome(hits()),
        built in outcome(prompt()),
        whole in outcome(completion()),
        streamed in chunks(),
        stream_fails_to_open in any::<bool>(),
    ) {
        let world = world();
        let options = options();
        let request = ragtrace::request("property");
        world.run(request.run(async {
            let embedder = Replay(embedded.clone()).traced().with_options(options.clone());
            prop_assert!(same_embeddings(&embedder.embed(&["q"]).await, &embedded));

            let retriever = Replay(found.clone()).traced().with_options(options.clone());
            prop_assert!(same_hits(&retriever.retrieve(&Query::from_text("q").top_k(3)).await, &found));

            let builder = Replay(built.clone()).traced().with_options(options.clone());
            prop_assert_eq!(builder.build("q", &[]).await, built.clone());

            let chat = ReplayChat { whole: whole.clone(), chunks: streamed.clone() };
            let traced = chat.clone().traced().with_options(options.clone());
            prop_assert_eq!(traced.chat(&ChatRequest::default()).await, whole.clone());

            if stream_fails_to_open {
                let failing = ReplayChat { whole: whole.clone(), chunks: vec![] };
                let stream = failing.traced().with_options(options.clone());
                let got: Vec<_> = stream.chat_stream(&ChatRequest::default()).await.unwrap().collect().await;
                prop_assert!(got.is_empty());
            } else {
                let got: Vec<_> = traced.chat_stream(&ChatRequest::default()).await.unwrap().collect().await;
                prop_assert_eq!(got, streamed.clone());
            }
            Ok(())
        }))?;
        // The request counted every step, whatever happened inside them.
        prop_assert_eq!(request.summary().steps, 5);
    }
}

#[test]
fn without_any_subscriber_the_request_totals_are_still_kept() {
    // No subscriber at all: spans are disabled, the ledger still works.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let embedder = Replay(Ok(
        Embeddings::new(vec![vec![1.0]]).with_usage(Usage::new(40, 0))
    ))
    .traced()
    .with_options(options());
    let chat = ReplayChat {
        whole: Ok(Completion::new("ok").with_usage(Usage::new(1000, 200))),
        chunks: vec![],
    }
    .traced()
    .with_options(options());
    let chat = Arc::new(chat);
    let request = ragtrace::request("quiet");
    runtime.block_on(request.run(async {
        embedder.embed(&["q"]).await.unwrap();
        chat.chat(&ChatRequest::default()).await.unwrap();
        // A spawned task bound to the request counts too.
        let chat = chat.clone();
        let task = async move { chat.chat(&ChatRequest::default()).await.unwrap() };
        tokio::spawn(task.in_current_request()).await.unwrap();
    }));
    let summary = request.summary();
    assert_eq!(summary.steps, 3);
    assert_eq!(summary.usage.input_tokens, 2040);
    // No model was described or reported, so nothing could be priced.
    assert_eq!(
        summary.cost_status,
        Some(ragtrace::pricing::CostStatus::Unpriced)
    );
}

#[test]
fn dyn_steps_are_traced_and_keep_the_inner_error_and_its_class() {
    use ragtrace::steps::{DynChatModel, DynError};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let models: Vec<Arc<dyn DynChatModel>> = vec![
        Arc::new(ReplayChat {
            whole: Ok(Completion::new("fine")),
            chunks: vec![],
        }),
        Arc::new(ReplayChat {
            whole: Err(Inner("boom".into())),
            chunks: vec![],
        }),
    ];
    let traced: Vec<_> = models.into_iter().map(|m| m.traced()).collect();
    runtime.block_on(async {
        assert_eq!(
            traced[0]
                .chat(&ChatRequest::default())
                .await
                .unwrap()
                .content,
            "fine"
        );
        let error: DynError = traced[1].chat(&ChatRequest::default()).await.unwrap_err();
        assert_eq!(error.downcast_ref::<Inner>(), Some(&Inner("boom".into())));
        assert_eq!(error.error_type(), "Inner");
        assert_eq!(error.to_string(), "inner failure boom");
    });
}
