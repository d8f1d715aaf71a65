//! A whole RAG request, traced, with no network and no API key:
//!
//! ```text
//! cargo run --example offline_rag -- "how are spans exported?"
//! ```
//!
//! The four steps are local stand-ins (a hashing embedder, the exact
//! in-memory index, the built-in `ContextPrompt`, an extractive "model"), each wrapped in
//! `Traced`, inside one `ragtrace::request`. `ragtrace::telemetry` prints the
//! finished request as a tree on standard error and writes its spans to the
//! SQLite store `ragtrace.db` (or the file named by `RAGTRACE_DB`); with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set they go to that collector instead. The
//! local models are priced from a price table given in code, as a team would
//! price its own self-hosted models. Swap in `OpenAiEmbedder`,
//! `QdrantRetriever` and `OpenAiChat` (features `openai`, `qdrant`) and the
//! request code stays the same; their models are priced from the built-in
//! tables.

use std::convert::Infallible;
use std::sync::Arc;

use ragtrace::instrument::{Options, TracedExt};
use ragtrace::integrations::memory::{Document, MemoryRetriever, Metric};
use ragtrace::pricing::{PriceTable, Pricer};
use ragtrace::prompt::{ContextPrompt, Template};
use ragtrace::steps::{
    ChatModel, ChatRequest, Completion, Embedder, Embeddings, PromptBuilder, Query, Retriever,
    Role, SingleChunk, StepInfo, StepKind, Usage, single_chunk,
};
use ragtrace::tokens::{Encoding, Tokenizer};

const CORPUS: &[(&str, &str)] = &[
    (
        "spans",
        "A span records one operation: its name, start and end time, and attributes.",
    ),
    (
        "traces",
        "A trace is the tree of spans that one request produced, linked by parent ids.",
    ),
    (
        "attributes",
        "Attributes are typed key-value pairs; counts are integers and scores are doubles.",
    ),
    (
        "export",
        "Spans are exported in batches over OTLP to a collector, which forwards them to a backend.",
    ),
    (
        "sampling",
        "Sampling keeps a share of traces to bound cost; head sampling decides when a trace starts.",
    ),
    (
        "tokens",
        "Token counts come from the provider when it reports them, and from a tokenizer otherwise.",
    ),
    (
        "cost",
        "Cost is priced from a versioned table at the time the span started.",
    ),
    (
        "drift",
        "Retrieval drift shows up as falling top scores for the same kind of question.",
    ),
];

/// What the two local models cost to run, in the format of `pricing/*.toml`
/// (USD per 1M tokens). Layered over the built-in tables.
const LOCAL_PRICES: &str = r#"
provider = "local"

[[model]]
key = "hashing-256"
mode = "embedding"

[[model.price]]
effective = 2025-01-01
source = "https://example.com/our-gpu-costs"
input = 0.01

[[model]]
key = "extractive-v0"
mode = "chat"
context_window = 8192

[[model.price]]
effective = 2025-01-01
source = "https://example.com/our-gpu-costs"
input = 0.05
output = 0.20
"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let question = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "how are spans exported?".to_owned());

    // One call at start-up: subscriber, sinks, and the wrappers' pricer.
    let prices: Arc<dyn Pricer> = Arc::new(
        PriceTable::builder()
            .env_dir()
            .toml("local-models.toml", LOCAL_PRICES)
            .build()?,
    );
    let telemetry = ragtrace::telemetry::builder()
        .service_name("offline-rag")
        .console(true)
        .pricer(Arc::clone(&prices))
        .instrument_options(
            Options::new()
                .shared_pricer(prices)
                .token_counter(Tokenizer::new()),
        )
        .init()?;

    // Load the tokenizer's tables now, so that the first request does not
    // pay for it (the prompt builder and the usage fallback count tokens).
    Encoding::O200kBase.preload();

    // The steps, each wrapped once at start-up.
    let embedder = HashingEmbedder.traced();
    let mut index = MemoryRetriever::new("handbook")
        .metric(Metric::Cosine)
        .top_k(3);
    let texts: Vec<&str> = CORPUS.iter().map(|(_, text)| *text).collect();
    let vectors = HashingEmbedder.embed(&texts).await?.vectors;
    for ((id, text), vector) in CORPUS.iter().zip(vectors) {
        index.insert(Document::new(*id, vector).with_content(*text))?;
    }
    let retriever = index.traced();
    // The built-in prompt builder: the best chunks that fit 120 tokens.
    let prompt = ContextPrompt::new(Template::default())
        .model("extractive-v0")
        .budget(120)
        .traced();
    let llm = Extractive.traced();

    // One request: one trace, four child spans, exact totals.
    let request = ragtrace::request("answer").user("example-user");
    let (answer, hits) = request
        .run(async {
            let query = embedder.embed(&[question.as_str()]).await?;
            let vector = query.first().unwrap_or_default();
            let hits = retriever
                .retrieve(&Query::vector(vector).text(&question))
                .await?;
            let prompt = prompt.build(&question, &hits).await?;
            let answer = llm
                .chat(&ChatRequest::from(prompt).temperature(0.0))
                .await?;
            Ok::<_, Box<dyn std::error::Error>>((answer, hits))
        })
        .await?;
    // Flushing prints the tree and commits the spans to the store.
    telemetry.flush()?;

    println!("question: {question}");
    println!("answer:   {}", answer.content);
    for hit in &hits {
        println!("  {:>10}  score {:.3}", hit.id, hit.score);
    }
    // The request's own totals, readable in code whatever the sinks are.
    let summary = request.summary();
    println!(
        "tokens: {} in, {} out over {} steps; cost ${} ({})",
        summary.usage.input_tokens,
        summary.usage.output_tokens,
        summary.steps,
        summary.cost,
        summary
            .cost_status
            .map_or_else(|| "no cost".to_owned(), |s| s.to_string()),
    );
    for kind in StepKind::ALL {
        let step = summary.step(kind);
        if step.count == 0 {
            continue;
        }
        println!(
            "  {:<10} {:>2} call(s)  {:?}",
            kind.as_str(),
            step.count,
            step.duration
        );
    }
    if let Some(path) = telemetry.store_path() {
        println!("spans stored in {}", path.display());
    }
    telemetry.shutdown()?;
    Ok(())
}

/// Words, lower-cased, without punctuation.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Feature hashing: each word adds 1 to one of 256 buckets (FNV-1a), and the
/// vector is normalized. Crude, deterministic, and good enough to rank a
/// small corpus by shared words.
struct HashingEmbedder;

const DIMENSIONS: usize = 256;

impl HashingEmbedder {
    fn vector(text: &str) -> Vec<f32> {
        let mut v = vec![0.0_f32; DIMENSIONS];
        for word in words(text).filter(|w| w.len() > 2) {
            let hash = word.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            v[(hash % DIMENSIONS as u64) as usize] += 1.0;
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

impl Embedder for HashingEmbedder {
    type Error = Infallible;

    async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, Infallible> {
        let tokens: usize = inputs.iter().map(|t| words(t).count()).sum();
        Ok(
            Embeddings::new(inputs.iter().map(|t| Self::vector(t)).collect())
                .with_usage(Usage::new(tokens as u64, 0)),
        )
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new().provider("local").model("hashing-256")
    }
}

/// Answers with the context chunk that shares most content words with the
/// question. Reports no usage, as many local servers do: the wrapper then
/// counts the tokens itself and marks them estimated.
struct Extractive;

impl ChatModel for Extractive {
    type Error = Infallible;
    type Stream = SingleChunk<Infallible>;

    async fn chat(&self, request: &ChatRequest) -> Result<Completion, Infallible> {
        let text_of = |role: Role| {
            request
                .messages
                .iter()
                .filter(|m| m.role == role)
                .map(|m| m.content.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        };
        // The built-in template puts the context in the system message, after
        // "Context:", one chunk per paragraph; the question is the user's.
        let system = text_of(Role::System);
        let context = system.split_once("Context:").map_or("", |(_, c)| c);
        let asked: Vec<String> = words(&text_of(Role::User))
            .filter(|w| w.len() > 3)
            .collect();
        let answer = context
            .split("\n\n")
            .map(str::trim)
            .filter(|chunk| !chunk.is_empty())
            .max_by_key(|chunk| {
                let chunk: Vec<String> = words(chunk).collect();
                asked.iter().filter(|w| chunk.contains(w)).count()
            })
            .unwrap_or("I don't know.")
            .to_owned();
        Ok(Completion::new(answer)
            .with_model("extractive-v0")
            .with_finish_reason("stop"))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<Self::Stream, Infallible> {
        Ok(single_chunk(self.chat(request).await?))
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new().provider("local").model("extractive-v0")
    }
}
