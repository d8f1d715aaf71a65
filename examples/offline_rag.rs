//! A whole RAG request, traced, with no network and no API key:
//!
//! ```text
//! cargo run --example offline_rag -- "how are spans exported?"
//! ```
//!
//! The four steps are local stand-ins (a hashing embedder, the exact
//! in-memory index, a context prompt, an extractive "model"), each wrapped in
//! `Traced`, inside one `ragtrace::request`. A tiny OpenTelemetry exporter
//! prints every span it receives, so you can see what ragtrace records
//! without running a collector; in a service you would export over OTLP
//! instead. Swap in `OpenAiEmbedder`, `QdrantRetriever` and `OpenAiChat`
//! (features `openai`, `qdrant`) and the request code stays the same.

use std::convert::Infallible;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use ragtrace::instrument::TracedExt;
use ragtrace::integrations::memory::{Document, MemoryRetriever, Metric};
use ragtrace::steps::{
    ChatModel, ChatRequest, Completion, Embedder, Embeddings, Hit, Message, Prompt, PromptBuilder,
    PromptStats, Query, Retriever, SingleChunk, StepInfo, StepKind, Usage, single_chunk,
};
use tracing_subscriber::layer::SubscriberExt as _;

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

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let question = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "how are spans exported?".to_owned());

    // Tracing: tracing-opentelemetry into an SDK provider that prints spans.
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(PrintSpans)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("offline_rag")));
    tracing::subscriber::set_global_default(subscriber)?;

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
    let prompt = ContextPrompt { budget_words: 40 }.traced();
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
    provider.force_flush()?;

    println!("\nquestion: {question}");
    println!("answer:   {}", answer.content);
    for hit in &hits {
        println!("  {:>10}  score {:.3}", hit.id, hit.score);
    }
    let summary = request.summary();
    println!(
        "tokens: {} in, {} out over {} steps",
        summary.usage.input_tokens, summary.usage.output_tokens, summary.steps
    );
    for kind in StepKind::ALL {
        let step = summary.step(kind);
        println!(
            "  {:<10} {:>2} call(s)  {:?}",
            kind.as_str(),
            step.count,
            step.duration
        );
    }
    provider.shutdown()?;
    Ok(())
}

/// Prints each finished span: name, kind, and its attributes.
#[derive(Debug)]
struct PrintSpans;

impl SpanExporter for PrintSpans {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        for span in batch {
            let took = span
                .end_time
                .duration_since(span.start_time)
                .unwrap_or(Duration::ZERO);
            println!("span {:?} ({:?}, {took:?})", span.name, span.span_kind);
            let mut attributes: Vec<_> = span
                .attributes
                .iter()
                .map(|kv| format!("{} = {}", kv.key, kv.value))
                .collect();
            attributes.sort();
            for line in attributes {
                println!("    {line}");
            }
        }
        Ok(())
    }
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

/// Puts the best hits into the prompt while they fit a word budget.
struct ContextPrompt {
    budget_words: usize,
}

impl PromptBuilder for ContextPrompt {
    type Error = Infallible;

    async fn build(&self, question: &str, hits: &[Hit]) -> Result<Prompt, Infallible> {
        let mut context = Vec::new();
        let mut used = 0;
        for hit in hits {
            let text = hit.content.as_deref().unwrap_or("");
            let size = words(text).count();
            if used + size > self.budget_words {
                break;
            }
            used += size;
            context.push(text);
        }
        let system = "Answer from the context only.";
        let user = format!("Context:\n{}\n\nQuestion: {question}", context.join("\n"));
        let stats = PromptStats::new((words(system).count() + words(&user).count()) as u64)
            .with_context(used as u64, hits.len() as u64, context.len() as u64, 0)
            .with_budget(self.budget_words as u64);
        Ok(Prompt::new(
            vec![Message::system(system), Message::user(user)],
            stats,
        ))
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new().template("context-v1", Some("1"))
    }
}

/// Answers with the context line that shares most content words with the question.
struct Extractive;

impl ChatModel for Extractive {
    type Error = Infallible;
    type Stream = SingleChunk<Infallible>;

    async fn chat(&self, request: &ChatRequest) -> Result<Completion, Infallible> {
        let prompt = request
            .messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let (context, question) = prompt.split_once("Question:").unwrap_or((&prompt, ""));
        // Content words of the question, each counted once per line.
        let asked: Vec<String> = words(question).filter(|w| w.len() > 3).collect();
        let answer = context
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with("Context:"))
            .max_by_key(|line| {
                let line: Vec<String> = words(line).collect();
                asked.iter().filter(|w| line.contains(w)).count()
            })
            .unwrap_or("I don't know.")
            .to_owned();
        let usage = Usage::new(words(&prompt).count() as u64, words(&answer).count() as u64);
        Ok(Completion::new(answer)
            .with_model("extractive-v0")
            .with_finish_reason("stop")
            .with_usage(usage))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<Self::Stream, Infallible> {
        Ok(single_chunk(self.chat(request).await?))
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new().provider("local").model("extractive-v0")
    }
}
