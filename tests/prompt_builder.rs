//! The built-in prompt builder: budget, accounting, order, truncation, and
//! what lands on the prompt span.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use opentelemetry::Value;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use proptest::prelude::*;
use ragtrace::instrument::TracedExt;
use ragtrace::prompt::{ContextPrompt, PromptError, Template};
use ragtrace::steps::{Hit, Prompt, PromptBuilder};
use ragtrace::tokens::{Encoding, TokenCounter, Tokenizer};
use tracing_subscriber::layer::SubscriberExt;

fn build(builder: &ContextPrompt, question: &str, hits: &[Hit]) -> Result<Prompt, PromptError> {
    futures_util::FutureExt::now_or_never(builder.build(question, hits))
        .expect("building never waits")
}

fn hit(id: usize, content: &str) -> Hit {
    Hit::new(format!("doc-{id}"), 1.0 - id as f64 / 100.0).with_content(content)
}

/// The marker each test chunk starts with, to find it in the prompt.
fn marker(id: usize) -> String {
    format!("§{id}§")
}

fn all_text(prompt: &Prompt) -> String {
    prompt
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn packs_best_first_cuts_one_and_drops_the_rest() {
    let builder = ContextPrompt::new(Template::default())
        .model("gpt-4o-mini")
        .context_window(1_000)
        .reserve(700);
    let long = "Retrieval quality drifts as documents change. ".repeat(40);
    let hits = [
        hit(1, "Spans carry tokens, latency and cost."),
        hit(2, &long),
        hit(3, "Never reached."),
    ];
    let prompt = build(&builder, "What do spans carry?", &hits).expect("fits");
    let stats = prompt.stats;
    assert_eq!(stats.budget_tokens, Some(300));
    assert_eq!(stats.context_window, Some(1_000));
    assert!(stats.prompt_tokens <= 300, "{stats:?}");
    assert!(
        stats.prompt_tokens >= 300 - 32,
        "the cut chunk should fill the room: {stats:?}"
    );
    assert_eq!(
        (
            stats.chunks_offered,
            stats.chunks_included,
            stats.chunks_truncated,
            stats.chunks_dropped
        ),
        (3, 2, 1, 1)
    );
    assert!(!stats.estimated);
    let text = all_text(&prompt);
    assert!(text.contains("Spans carry tokens"));
    assert!(!text.contains("Never reached"));
    // The figures are the real counts of what will be sent.
    let tokenizer = Tokenizer::new();
    assert_eq!(
        tokenizer
            .count_messages("gpt-4o-mini", &prompt.messages)
            .tokens,
        stats.prompt_tokens
    );
    assert!(stats.context_tokens > 0 && stats.context_tokens < stats.prompt_tokens);
    assert_eq!(
        stats.context_window_used(),
        Some(stats.prompt_tokens as f64 / 1_000.0)
    );
}

#[test]
fn without_a_budget_everything_with_content_goes_in() {
    let builder = ContextPrompt::new(Template::default()).model("gpt-4o");
    let hits = [hit(1, "one"), Hit::new("no-text", 0.5), hit(2, "two")];
    let stats = build(&builder, "q?", &hits).expect("builds").stats;
    assert_eq!(stats.budget_tokens, None);
    assert_eq!(
        (
            stats.chunks_offered,
            stats.chunks_included,
            stats.chunks_dropped
        ),
        (3, 2, 1)
    );
}

#[test]
fn over_budget_before_context_is_a_clear_error() {
    let builder = ContextPrompt::new(Template::default())
        .model("gpt-4o")
        .context_window(8_192)
        .reserve(8_180);
    let err = build(&builder, "Why is the sky blue?", &[hit(1, "x")]).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("the budget is 12 (context window 8192 minus reserve 8180)"),
        "{message}"
    );
    assert!(matches!(err, PromptError::OverBudget { budget: 12, .. }));
}

#[test]
fn models_without_a_tokenizer_are_marked_estimated() {
    let builder = ContextPrompt::new(Template::default())
        .model("claude-sonnet-4-5")
        .budget(200);
    let stats = build(&builder, "q?", &[hit(1, "some context")])
        .expect("fits")
        .stats;
    assert!(stats.estimated);
}

#[test]
fn truncation_never_splits_a_character() {
    // Emoji are several tokens each: a cut on a raw token boundary would
    // land inside one.
    let emoji = "🧑‍💻🚀✅📉".repeat(100);
    for budget in 60..120 {
        let builder = ContextPrompt::new(Template::default())
            .model("gpt-4")
            .budget(budget)
            .min_truncated_tokens(1);
        let prompt = build(&builder, "q?", &[hit(1, &emoji)]).expect("fits");
        assert!(prompt.stats.prompt_tokens <= budget);
        // Content is a `String`, so it is valid UTF-8; check it is a prefix
        // of the chunk on a character boundary.
        let system = &prompt.messages[0].content;
        let start = system.find('🧑').unwrap_or(system.len());
        assert!(emoji.starts_with(&system[start..]), "budget {budget}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn packing_respects_budget_accounting_and_order(
        chunks in proptest::collection::vec((0_usize..300, any::<String>()), 0..12),
        budget in 40_u64..1_500,
        question in "[a-zA-Z ?]{0,80}",
        min_truncated in 0_u64..64,
    ) {
        let hits: Vec<Hit> = chunks
            .iter()
            .enumerate()
            .map(|(i, (words, noise))| {
                let mut text = marker(i);
                text.push(' ');
                text.push_str(&"lorem ipsum ".repeat(*words));
                text.push_str(noise);
                hit(i, &text)
            })
            .collect();
        let builder = ContextPrompt::new(Template::default())
            .model("gpt-4o")
            .budget(budget)
            .min_truncated_tokens(min_truncated);
        match build(&builder, &question, &hits) {
            Err(PromptError::OverBudget { needed, budget: b, .. }) => {
                prop_assert_eq!(b, budget);
                prop_assert!(needed > budget);
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
            Ok(prompt) => {
                let s = prompt.stats;
                prop_assert!(s.prompt_tokens <= budget, "{} > {}", s.prompt_tokens, budget);
                prop_assert_eq!(s.chunks_offered, hits.len() as u64);
                prop_assert_eq!(s.chunks_included + s.chunks_dropped, s.chunks_offered);
                prop_assert!(s.chunks_truncated <= s.chunks_included);
                prop_assert!(s.chunks_truncated <= 1);
                // Included chunks appear in rank order.
                let text = all_text(&prompt);
                let positions: Vec<usize> = (0..hits.len())
                    .filter_map(|i| text.find(&marker(i)))
                    .collect();
                prop_assert!(positions.windows(2).all(|w| w[0] < w[1]), "order: {:?}", positions);
                prop_assert!(positions.len() as u64 <= s.chunks_included);
            }
        }
    }
}

/// Keeps exported spans in memory.
#[derive(Debug, Clone, Default)]
struct Collect(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collect {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().expect("lock").extend(batch);
        Ok(())
    }
}

#[test]
fn the_prompt_span_carries_the_stats_template_and_model() {
    let exporter = Collect::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let template = Template::new("support", "Use the context:\n{context}", "{question}")
        .expect("valid")
        .version("7");
    let builder = ContextPrompt::new(template)
        .model("gpt-4o-mini")
        .budget(60)
        .traced();
    let hits = [hit(1, "short"), hit(2, &"long text ".repeat(200))];
    let prompt = tracing::subscriber::with_default(subscriber, || {
        futures_util::FutureExt::now_or_never(builder.build("q?", &hits))
            .expect("no wait")
            .expect("fits")
    });
    provider.force_flush().expect("flush");
    let spans = exporter.0.lock().expect("lock").clone();
    let span = spans
        .iter()
        .find(|s| s.name == "prompt support")
        .expect("prompt span");
    let attrs: HashMap<String, Value> = span
        .attributes
        .iter()
        .map(|kv| (kv.key.as_str().to_owned(), kv.value.clone()))
        .collect();
    let int = |key: &str| match attrs.get(key) {
        Some(Value::I64(v)) => u64::try_from(*v).expect("non-negative"),
        other => panic!("{key}: expected an i64, got {other:?}"),
    };
    let stats = prompt.stats;
    assert_eq!(int("ragtrace.prompt.tokens"), stats.prompt_tokens);
    assert_eq!(int("ragtrace.prompt.context_tokens"), stats.context_tokens);
    assert_eq!(int("ragtrace.prompt.budget_tokens"), 60);
    assert_eq!(int("ragtrace.prompt.chunks_offered"), 2);
    assert_eq!(
        int("ragtrace.prompt.chunks_included"),
        stats.chunks_included
    );
    assert_eq!(
        int("ragtrace.prompt.chunks_truncated"),
        stats.chunks_truncated
    );
    assert_eq!(int("ragtrace.prompt.chunks_dropped"), stats.chunks_dropped);
    assert_eq!(stats.chunks_truncated, 1);
    assert_eq!(
        attrs
            .get("gen_ai.prompt.name")
            .map(Value::as_str)
            .as_deref(),
        Some("support")
    );
    assert_eq!(
        attrs
            .get("gen_ai.request.model")
            .map(Value::as_str)
            .as_deref(),
        Some("gpt-4o-mini")
    );
    assert!(
        attrs.values().any(|v| v.as_str() == "7"),
        "template version recorded"
    );
    assert!(matches!(
        attrs.get("ragtrace.usage.estimated"),
        Some(Value::Bool(false))
    ));
    // Exact o200k counting is what the budget was checked with.
    assert!(Encoding::O200kBase.count(&all_text(&prompt)) < 60);
}
