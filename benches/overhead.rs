//! Per-request overhead of the instrumentation: a request root plus the four
//! traced steps around inner steps that do (almost) nothing, compared with
//! the same inner steps called bare, under three subscribers:
//!
//! - `none`: no subscriber at all (spans disabled; request totals still kept),
//! - `none_beside_others`: no subscriber on the measuring thread, while the
//!   two below exist in the process (not installed),
//! - `registry`: a plain `tracing_subscriber::registry()` (spans enabled, no export),
//! - `otel`: registry + `tracing-opentelemetry` + SDK batch span processor with
//!   an exporter that discards (the request path without network effects).
//!
//! Run: `cargo bench --bench overhead`

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use ragtrace::instrument::{Options, Traced, TracedExt};
use ragtrace::pricing::{Cost, PriceRequest, Usd};
use ragtrace::steps::{
    ChatChunk, ChatModel, ChatRequest, Completion, Embedder, Embeddings, Hit, Hits, Message,
    Prompt, PromptBuilder, PromptStats, Query, Retriever, StepInfo, Usage,
};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

struct Embed;
impl Embedder for Embed {
    type Error = Never;
    async fn embed(&self, _inputs: &[&str]) -> Result<Embeddings, Never> {
        Ok(Embeddings::new(Vec::new()).with_usage(Usage::new(9, 0)))
    }
    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
            .provider("openai")
            .model("text-embedding-3-small")
            .server("api.openai.com", 443)
    }
}

struct Search;
impl Retriever for Search {
    type Error = Never;
    async fn retrieve(&self, _query: &Query<'_>) -> Result<Hits, Never> {
        Ok(Hits::new(vec![
            Hit::new("a", 0.9),
            Hit::new("b", 0.8),
            Hit::new("c", 0.7),
        ]))
    }
    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
            .data_source("docs")
            .db("qdrant", "query")
            .top_k(3)
            .server("localhost", 6334)
    }
}

struct Build;
impl PromptBuilder for Build {
    type Error = Never;
    async fn build(&self, _question: &str, hits: &[Hit]) -> Result<Prompt, Never> {
        let stats = PromptStats::new(900)
            .with_context(700, hits.len() as u64, hits.len() as u64, 0)
            .with_budget(4000)
            .with_context_window(128_000);
        Ok(Prompt::new(Vec::new(), stats))
    }
    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new().template("rag", Some("1"))
    }
}

struct Chat;
impl ChatModel for Chat {
    type Error = Never;
    type Stream = BoxStream<'static, Result<ChatChunk, Never>>;
    async fn chat(&self, _request: &ChatRequest) -> Result<Completion, Never> {
        Ok(Completion::new(String::new()).with_usage(Usage::new(1200, 80).with_cache_read(1024)))
    }
    async fn chat_stream(&self, _request: &ChatRequest) -> Result<Self::Stream, Never> {
        Ok(stream::empty().boxed())
    }
    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
            .provider("openai")
            .model("gpt-4o-mini")
            .server("api.openai.com", 443)
    }
}

fn price(request: &PriceRequest<'_>) -> Cost {
    let rate = Usd::from_picos(150_000);
    Cost::from_parts(
        rate.per_million_tokens(request.usage.input_tokens),
        Usd::ZERO,
        Usd::ZERO,
        rate.per_million_tokens(request.usage.output_tokens),
        Usd::ZERO,
    )
}

struct TracedSteps {
    embed: Traced<Embed>,
    search: Traced<Search>,
    build: Traced<Build>,
    chat: Traced<Chat>,
}

fn traced() -> TracedSteps {
    let options = Arc::new(Options::new().pricer(price));
    TracedSteps {
        embed: Embed.traced().with_options(options.clone()),
        search: Search.traced().with_options(options.clone()),
        build: Build.traced().with_options(options.clone()),
        chat: Chat.traced().with_options(options),
    }
}

static REQUEST: std::sync::LazyLock<ChatRequest> =
    std::sync::LazyLock::new(|| ChatRequest::new(vec![Message::user("q")]));

async fn bare_steps() {
    black_box(Embed.embed(&["q"]).await.ok());
    let hits = Search
        .retrieve(&Query::from_text("q"))
        .await
        .unwrap_or_default();
    black_box(Build.build("q", &hits).await.ok());
    black_box(Chat.chat(&REQUEST).await.ok());
}

async fn traced_steps(steps: &TracedSteps) {
    black_box(steps.embed.embed(&["q"]).await.ok());
    let hits = steps
        .search
        .retrieve(&Query::from_text("q"))
        .await
        .unwrap_or_default();
    black_box(steps.build.build("q", &hits).await.ok());
    black_box(steps.chat.chat(&REQUEST).await.ok());
}

/// An exporter that drops what it gets, counting spans.
#[derive(Debug, Default, Clone)]
struct Discard(Arc<AtomicU64>);

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// The OpenTelemetry layer over a batch processor whose exporter discards.
fn otel_subscriber() -> (tracing::Dispatch, SdkTracerProvider) {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Discard::default())
        .build();
    let otel = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    (tracing::Dispatch::new(otel), provider)
}

fn timed<F, Fut>(
    runtime: &tokio::runtime::Runtime,
    dispatch: &Option<tracing::Dispatch>,
    iters: u64,
    f: F,
) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let run = || {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                f().await;
            }
            start.elapsed()
        })
    };
    match dispatch {
        Some(d) => tracing::dispatcher::with_default(d, run),
        None => run(),
    }
}

fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let steps = traced();
    let plain = {
        let options = Arc::new(Options::new());
        TracedSteps {
            embed: Embed.traced().with_options(options.clone()),
            search: Search.traced().with_options(options.clone()),
            build: Build.traced().with_options(options.clone()),
            chat: Chat.traced().with_options(options),
        }
    };
    let mut group = c.benchmark_group("overhead");
    group.measurement_time(Duration::from_secs(
        std::env::var("BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(4),
    ));
    // What an observed step is made of, priced on this machine: a monotonic
    // clock read (two per observed step) and an `Arc` clone-and-drop.
    group.bench_function("primitives/instant_now", |b| b.iter(Instant::now));
    let shared = Arc::new(0_u64);
    group.bench_function("primitives/arc_clone_drop", |b| {
        b.iter(|| drop(black_box(Arc::clone(&shared))))
    });

    group.bench_function("bare_steps", |b| {
        b.iter_custom(|iters| timed(&runtime, &None, iters, bare_steps))
    });

    // `none` first: no `Dispatch` exists in the process yet, as in a service
    // that never installs a subscriber.
    let mut scenarios = |name: &str, dispatch: Option<tracing::Dispatch>| {
        group.bench_function(format!("{name}/root_only"), |b| {
            b.iter_custom(|iters| {
                timed(&runtime, &dispatch, iters, || async {
                    ragtrace::request("bench").run(async {}).await
                })
            })
        });
        group.bench_function(format!("{name}/traced_steps"), |b| {
            b.iter_custom(|iters| timed(&runtime, &dispatch, iters, || traced_steps(&steps)))
        });
        group.bench_function(format!("{name}/traced_steps_unpriced"), |b| {
            b.iter_custom(|iters| timed(&runtime, &dispatch, iters, || traced_steps(&plain)))
        });
        group.bench_function(format!("{name}/request"), |b| {
            b.iter_custom(|iters| {
                timed(&runtime, &dispatch, iters, || async {
                    let request = ragtrace::request("bench").user("u");
                    request.run(traced_steps(&steps)).await;
                    black_box(request.summary());
                })
            })
        });
    };
    scenarios("none", None);
    let registry = tracing::Dispatch::new(tracing_subscriber::registry());
    let (otel, provider) = otel_subscriber();
    // No subscriber on this thread while subscribers exist elsewhere in the
    // process (built, or installed on other threads): `tracing` then creates
    // spans that go nowhere, and the wrappers must still run bare.
    scenarios("none_beside_others", None);
    scenarios("registry", Some(registry));
    scenarios("otel", Some(otel));
    let _ = provider.shutdown();
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
