//! Golden costs from the built-in table, each worked out by hand in its
//! comment (prices in USD per 1M tokens, so cost = tokens x price / 1M).
//! One test per failure peer tools are known for (../shared/design/PRICING.md).

use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use ragtrace::pricing::{Cost, CostStatus, Date, PriceRequest, PriceTable, Pricer, Usd};
use ragtrace::steps::{StepKind, Usage};
use tracing_subscriber::layer::SubscriberExt;

static TABLE: LazyLock<PriceTable> = LazyLock::new(PriceTable::builtin);

fn usd(s: &str) -> Usd {
    s.parse().unwrap()
}

/// Noon UTC on `date`.
fn on(date: &str) -> SystemTime {
    date.parse::<Date>().unwrap().start() + Duration::from_secs(12 * 3600)
}

fn price_in(
    table: &PriceTable,
    model: &str,
    usage: Usage,
    at: SystemTime,
    tier: Option<&str>,
) -> Cost {
    let mut request = PriceRequest::new(model, StepKind::Chat, &usage, at);
    if let Some(tier) = tier {
        request = request.service_tier(tier);
    }
    table.price(&request)
}

fn price(model: &str, usage: Usage, date: &str, tier: Option<&str>) -> Cost {
    price_in(&TABLE, model, usage, on(date), tier)
}

fn provenance(cost: &Cost) -> (Option<&str>, Option<&str>, Option<&str>) {
    (
        cost.model_key.as_deref(),
        cost.price_version.as_deref(),
        cost.tier.as_deref(),
    )
}

#[test]
fn cached_reads_are_discounted_and_not_charged_twice() {
    // gpt-4o on 2025-03-01 (version 2024-10-02): input 2.50, cached 1.25, output 10.
    // 10,000 input tokens of which 8,000 read from cache; 500 output.
    //   uncached 2,000 x 2.50 = 0.005
    //   cached   8,000 x 1.25 = 0.010
    //   output     500 x 10   = 0.005
    //   total                 = 0.020
    // (Charging all 10,000 at 2.50 would give 0.030; adding the cached
    // tokens again on top would give 0.040.)
    let cost = price(
        "gpt-4o",
        Usage::new(10_000, 500).with_cache_read(8_000),
        "2025-03-01",
        None,
    );
    assert_eq!(cost.status, CostStatus::Priced);
    assert_eq!(cost.input, usd("0.005"));
    assert_eq!(cost.cached_input, usd("0.01"));
    assert_eq!(cost.output, usd("0.005"));
    assert_eq!(cost.total, usd("0.02"));
    assert_eq!(
        provenance(&cost),
        (Some("gpt-4o"), Some("2024-10-02"), Some("standard"))
    );
}

#[test]
fn anthropic_five_minute_and_one_hour_cache_writes_have_their_own_prices() {
    // claude-sonnet-4-5: input 3, cache read 0.30, 5m write 3.75, 1h write 6, output 15.
    // 10,000 input tokens: 4,000 cache reads, 3,000 cache writes of which
    // 1,000 with a 1-hour lifetime, so 3,000 uncached; 1,000 output.
    //   uncached  3,000 x 3.00 = 0.009
    //   read      4,000 x 0.30 = 0.0012
    //   5m write  2,000 x 3.75 = 0.0075
    //   1h write  1,000 x 6.00 = 0.006    (cache_write = 0.0135)
    //   output    1,000 x 15   = 0.015
    //   total                  = 0.0387
    let usage = Usage::new(10_000, 1_000)
        .with_cache_read(4_000)
        .with_cache_write(2_000)
        .with_cache_write_1h(1_000);
    let cost = price("claude-sonnet-4-5-20250929", usage, "2025-11-01", None);
    assert_eq!(cost.input, usd("0.009"));
    assert_eq!(cost.cached_input, usd("0.0012"));
    assert_eq!(cost.cache_write, usd("0.0135"));
    assert_eq!(cost.output, usd("0.015"));
    assert_eq!(cost.total, usd("0.0387"));
    assert_eq!(cost.model_key.as_deref(), Some("claude-sonnet-4-5"));

    // Haiku 4.5, the same usage: 3,000 x 1 + 4,000 x 0.10 + 2,000 x 1.25
    // + 1,000 x 2 + 1,000 x 5 = 0.003 + 0.0004 + 0.0025 + 0.002 + 0.005 = 0.0129.
    let cost = price("claude-haiku-4-5", usage, "2025-11-01", None);
    assert_eq!(cost.total, usd("0.0129"));
}

#[test]
fn reasoning_tokens_are_charged_at_the_output_price() {
    // o3 after its 2025-06-10 price cut: input 2, output 8 (reasoning = output).
    // 2,000 input; 5,000 output of which 4,200 reasoning, 800 visible.
    //   input      2,000 x 2 = 0.004
    //   visible      800 x 8 = 0.0064
    //   reasoning  4,200 x 8 = 0.0336
    //   total                = 0.044   (leaving reasoning out would give 0.0104)
    let cost = price(
        "o3",
        Usage::new(2_000, 5_000).with_reasoning(4_200),
        "2025-07-01",
        None,
    );
    assert_eq!(cost.output, usd("0.0064"));
    assert_eq!(cost.reasoning, usd("0.0336"));
    assert_eq!(cost.total, usd("0.044"));

    // gpt-5: 1,000 input at 1.25 + 3,000 output (2,500 reasoning) at 10
    //   = 0.00125 + 0.005 + 0.025 = 0.03125.
    let cost = price(
        "gpt-5",
        Usage::new(1_000, 3_000).with_reasoning(2_500),
        "2025-09-01",
        None,
    );
    assert_eq!(cost.total, usd("0.03125"));
}

#[test]
fn a_distinct_reasoning_price_is_used_when_the_table_has_one() {
    // A custom entry: input 1, output 2, reasoning 3.
    // 1,000 input + 100 visible + 900 reasoning
    //   = 0.001 + 0.0002 + 0.0027 = 0.0039.
    let table = PriceTable::builder()
        .without_builtin()
        .toml(
            "custom.toml",
            r#"
provider = "lab"
[[model]]
key = "thinker"
mode = "chat"
[[model.price]]
effective = 2025-01-01
source = "https://example.com/prices"
input = 1
output = 2
reasoning = 3
"#,
        )
        .build()
        .unwrap();
    let cost = price_in(
        &table,
        "thinker",
        Usage::new(1_000, 1_000).with_reasoning(900),
        on("2025-02-01"),
        None,
    );
    assert_eq!(cost.reasoning, usd("0.0027"));
    assert_eq!(cost.total, usd("0.0039"));
}

#[test]
fn gemini_long_context_prices_the_whole_call_at_the_higher_rates() {
    // gemini-2.5-pro: <= 200k input: 1.25 / cached 0.125 / output 10;
    // above 200k: 2.50 / 0.25 / 15 for the whole call.
    // 250,000 input (50,000 cached), 2,000 output:
    //   uncached 200,000 x 2.50 = 0.5
    //   cached    50,000 x 0.25 = 0.0125
    //   output     2,000 x 15   = 0.03
    //   total                   = 0.5425
    let cost = price(
        "gemini-2.5-pro",
        Usage::new(250_000, 2_000).with_cache_read(50_000),
        "2025-08-01",
        None,
    );
    assert_eq!(cost.total, usd("0.5425"));
    assert_eq!(cost.tier.as_deref(), Some("above_200k"));

    // Exactly 200,000 input is not above 200k: 200,000 x 1.25 + 2,000 x 10 = 0.25 + 0.02 = 0.27.
    let cost = price(
        "gemini-2.5-pro",
        Usage::new(200_000, 2_000),
        "2025-08-01",
        None,
    );
    assert_eq!(cost.total, usd("0.27"));
    assert_eq!(cost.tier.as_deref(), Some("standard"));

    // Claude Sonnet 4.5 above 200k (1M context): 6 / 22.50.
    // 300,000 x 6 + 1,000 x 22.50 = 1.8 + 0.0225 = 1.8225.
    let cost = price(
        "claude-sonnet-4-5",
        Usage::new(300_000, 1_000),
        "2025-11-01",
        None,
    );
    assert_eq!(cost.total, usd("1.8225"));
}

#[test]
fn batch_flex_and_priority_tiers_have_their_own_prices() {
    // gpt-4o-mini batch: input 0.075, output 0.30.
    // 1,000,000 x 0.075 + 100,000 x 0.30 = 0.075 + 0.03 = 0.105 (standard: 0.21).
    let cost = price(
        "gpt-4o-mini",
        Usage::new(1_000_000, 100_000),
        "2025-03-01",
        Some("batch"),
    );
    assert_eq!(cost.total, usd("0.105"));
    assert_eq!(cost.tier.as_deref(), Some("batch"));

    // gemini-2.5-pro batch above 200k: input 1.25, output 7.50, cached
    // keeps its long-context price 0.25.
    // 240,000 input (40,000 cached), 10,000 output:
    //   200,000 x 1.25 + 40,000 x 0.25 + 10,000 x 7.50 = 0.25 + 0.01 + 0.075 = 0.335
    let cost = price(
        "gemini-2.5-pro",
        Usage::new(240_000, 10_000).with_cache_read(40_000),
        "2025-08-01",
        Some("batch"),
    );
    assert_eq!(cost.total, usd("0.335"));
    assert_eq!(cost.tier.as_deref(), Some("batch+above_200k"));

    // o3 flex (OpenAI reports service_tier "flex"): input 1, cached 0.25, output 4.
    // 10,000 (2,000 cached) in, 1,000 out: 8,000 x 1 + 2,000 x 0.25 + 1,000 x 4
    //   = 0.008 + 0.0005 + 0.004 = 0.0125.
    let cost = price(
        "o3",
        Usage::new(10_000, 1_000).with_cache_read(2_000),
        "2025-07-01",
        Some("flex"),
    );
    assert_eq!(cost.total, usd("0.0125"));

    // gpt-4o priority: 4.25 / 17. 1,000 x 4.25 + 1,000 x 17 = 0.02125.
    let cost = price(
        "gpt-4o",
        Usage::new(1_000, 1_000),
        "2025-07-01",
        Some("priority"),
    );
    assert_eq!(cost.total, usd("0.02125"));

    // OpenAI's "default" is the standard tier: 1,000 x 2.50 + 1,000 x 10 = 0.0125.
    let cost = price(
        "gpt-4o",
        Usage::new(1_000, 1_000),
        "2025-07-01",
        Some("default"),
    );
    assert_eq!(
        (cost.total, cost.tier.as_deref()),
        (usd("0.0125"), Some("standard"))
    );
}

#[test]
fn a_tier_the_table_does_not_list_falls_back_to_standard_visibly() {
    // gpt-5-chat-latest lists no batch prices: standard rates, tier "standard".
    // 1,000 x 1.25 + 1,000 x 10 = 0.01125.
    let cost = price(
        "gpt-5-chat-latest",
        Usage::new(1_000, 1_000),
        "2025-09-01",
        Some("batch"),
    );
    assert_eq!(
        (cost.total, cost.tier.as_deref()),
        (usd("0.01125"), Some("standard"))
    );

    // gemini-2.5-pro flex lists no long-context band: above 200k the
    // standard long-context rates apply, not the flex discount.
    // 210,000 x 2.50 + 1,000 x 15 = 0.525 + 0.015 = 0.54.
    let cost = price(
        "gemini-2.5-pro",
        Usage::new(210_000, 1_000),
        "2025-08-01",
        Some("flex"),
    );
    assert_eq!(
        (cost.total, cost.tier.as_deref()),
        (usd("0.54"), Some("above_200k"))
    );
}

#[test]
fn a_dated_snapshot_with_its_own_older_price_wins_over_the_base() {
    // On 2025-03-01, gpt-4o costs 2.50 / 10 but its first snapshot
    // gpt-4o-2024-05-13 still costs 5 / 15.
    //   snapshot: 1,000 x 5 + 1,000 x 15    = 0.02
    //   base:     1,000 x 2.50 + 1,000 x 10 = 0.0125
    let usage = Usage::new(1_000, 1_000);
    let snapshot = price("gpt-4o-2024-05-13", usage, "2025-03-01", None);
    assert_eq!(snapshot.total, usd("0.02"));
    assert_eq!(
        provenance(&snapshot),
        (
            Some("gpt-4o-2024-05-13"),
            Some("2024-05-13"),
            Some("standard")
        )
    );
    assert_eq!(
        price("gpt-4o", usage, "2025-03-01", None).total,
        usd("0.0125")
    );
    // A snapshot without its own entry is priced as its base: 0.0125.
    let later = price("gpt-4o-2024-11-20", usage, "2025-03-01", None);
    assert_eq!(
        (later.total, later.model_key.as_deref()),
        (usd("0.0125"), Some("gpt-4o"))
    );
    // The 2024-05-13 snapshot lists no cached price: cached tokens make the
    // cost partial rather than guessing (1,000 uncached x 5 + 100 x 15 = 0.0065).
    let partial = price(
        "gpt-4o-2024-05-13",
        Usage::new(2_000, 100).with_cache_read(1_000),
        "2025-03-01",
        None,
    );
    assert_eq!(
        (partial.status, partial.total),
        (CostStatus::Partial, usd("0.0065"))
    );
}

#[test]
fn the_price_in_force_at_the_call_applies_across_a_price_change() {
    // o3 cost 10 / 40 from 2025-04-16 and 2 / 8 from 2025-06-10 (UTC).
    // 1,000 in + 1,000 out: before 0.01 + 0.04 = 0.05; after 0.002 + 0.008 = 0.01.
    let usage = Usage::new(1_000, 1_000);
    let midnight: SystemTime = "2025-06-10".parse::<Date>().unwrap().start();
    let before = price_in(&TABLE, "o3", usage, midnight - Duration::from_secs(1), None);
    let after = price_in(&TABLE, "o3", usage, midnight, None);
    assert_eq!(
        (before.total, before.price_version.as_deref()),
        (usd("0.05"), Some("2025-04-16"))
    );
    assert_eq!(
        (after.total, after.price_version.as_deref()),
        (usd("0.01"), Some("2025-06-10"))
    );

    // gpt-4o moved from 5 / 15 to 2.50 / 10 on 2024-10-02.
    // 1,000 in + 1,000 out: 0.02 on 2024-09-01, 0.0125 on 2024-11-01.
    assert_eq!(
        price("gpt-4o", usage, "2024-09-01", None).total,
        usd("0.02")
    );
    assert_eq!(
        price("gpt-4o", usage, "2024-11-01", None).total,
        usd("0.0125")
    );

    // text-embedding-ada-002: 0.40 until 2023-06-13, then 0.10.
    // 1,000,000 tokens: 0.40 on 2023-01-01, 0.10 on 2023-07-01.
    let embed = |date| {
        let usage = Usage::new(1_000_000, 0);
        TABLE
            .price(&PriceRequest::new(
                "text-embedding-ada-002",
                StepKind::Embeddings,
                &usage,
                on(date),
            ))
            .total
    };
    assert_eq!(embed("2023-01-01"), usd("0.4"));
    assert_eq!(embed("2023-07-01"), usd("0.1"));
}

#[test]
fn a_call_before_the_first_known_price_is_unpriced_not_repriced() {
    // gpt-5's first price takes effect 2025-08-07: an earlier call (a clock
    // error, or a table missing history) is unpriced, not charged today's price.
    let cost = price("gpt-5", Usage::new(1_000, 1_000), "2025-01-01", None);
    assert_eq!(cost.status, CostStatus::Unpriced);
    assert_eq!(cost.total, Usd::ZERO);
}

#[test]
fn fine_tuned_models_match_their_own_entry_or_their_base() {
    // ft:gpt-4o-mini-2024-07-18 has its own (higher) price: 0.30 / 1.20.
    // 1,000 x 0.30 + 500 x 1.20 = 0.0003 + 0.0006 = 0.0009.
    let cost = price(
        "ft:gpt-4o-mini-2024-07-18:acme:support-bot:AbC123xy",
        Usage::new(1_000, 500),
        "2025-03-01",
        None,
    );
    assert_eq!(cost.total, usd("0.0009"));
    assert_eq!(cost.model_key.as_deref(), Some("ft:gpt-4o-mini-2024-07-18"));
    // The undated spelling of the docs: ft:gpt-4o-mini:org::id.
    let cost = price(
        "ft:gpt-4o-mini:acme::AbC123xy",
        Usage::new(1_000, 500),
        "2025-03-01",
        None,
    );
    assert_eq!(cost.total, usd("0.0009"));

    // A fine-tune of a base without a fine-tune entry is priced as the base:
    // gpt-5-mini 1,000 x 0.25 + 500 x 2 = 0.00025 + 0.001 = 0.00125.
    let cost = price(
        "ft:gpt-5-mini-2025-08-07:acme::x9",
        Usage::new(1_000, 500),
        "2025-09-01",
        None,
    );
    assert_eq!(cost.total, usd("0.00125"));
    assert_eq!(cost.model_key.as_deref(), Some("gpt-5-mini"));
}

#[test]
fn provider_prefixed_and_cloud_spellings_match() {
    // 100,000 input tokens (below every long-context threshold) cost a
    // tenth of the input price per 1M.
    let usage = Usage::new(100_000, 0);
    let key_and_total = |model: &str| {
        let cost = price(model, usage, "2025-12-01", None);
        (
            cost.model_key.as_deref().map(str::to_owned),
            cost.total.times(10),
        )
    };
    for (model, key, total) in [
        ("openai/gpt-4o", "gpt-4o", "2.5"),
        ("azure/gpt-4o-mini-2024-07-18", "gpt-4o-mini", "0.15"),
        ("openai:gpt-4.1", "gpt-4.1", "2"),
        ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5", "3"),
        (
            "openrouter/anthropic/claude-sonnet-4.5",
            "claude-sonnet-4-5",
            "3",
        ),
        // Bedrock global and plain ids cost the Anthropic price ...
        (
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5",
            "3",
        ),
        (
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "claude-haiku-4-5",
            "1",
        ),
        // ... regional ones 10% more, GovCloud 20% more.
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5-bedrock-regional",
            "3.3",
        ),
        (
            "bedrock/eu.anthropic.claude-haiku-4-5-20251001-v1:0",
            "claude-haiku-4-5-bedrock-regional",
            "1.1",
        ),
        (
            "bedrock/us-gov-west-1/anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5-bedrock-govcloud",
            "3.6",
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-opus-4-5-20251101-v1:0",
            "claude-opus-4-5",
            "5",
        ),
        (
            "vertex_ai/claude-sonnet-4-5@20250929",
            "claude-sonnet-4-5",
            "3",
        ),
        (
            "publishers/google/models/gemini-2.5-pro",
            "gemini-2.5-pro",
            "1.25",
        ),
        ("models/gemini-2.5-flash", "gemini-2.5-flash", "0.3"),
        ("mistral/mistral-large-latest", "mistral-large-2512", "0.5"),
        ("voyage/voyage-3.5", "voyage-3.5", "0.06"),
        ("GPT-4o-Mini", "gpt-4o-mini", "0.15"),
    ] {
        assert_eq!(
            key_and_total(model),
            (Some(key.to_owned()), usd(total)),
            "{model}"
        );
    }
}

#[test]
fn similar_names_are_not_mistaken_for_each_other() {
    // Prefix matching would price these as gpt-4o; they are other models.
    for model in [
        "gpt-4o-audio-preview-2024-12-17",
        "gpt-4o-search-preview",
        "gpt-4o-mini-tts",
        "gpt-4o1",
    ] {
        let cost = price(model, Usage::new(1_000, 1_000), "2025-06-01", None);
        assert_eq!(
            cost.status,
            CostStatus::Unpriced,
            "{model} priced as {:?}",
            cost.model_key
        );
    }
}

#[test]
fn rerank_is_priced_per_query() {
    // Cohere rerank-v3.5: USD 2 per 1,000 searches = 0.002 per call; tokens are free.
    let usage = Usage::new(3_000, 0);
    let cost = TABLE.price(&PriceRequest::new(
        "cohere/rerank-v3.5",
        StepKind::Retrieval,
        &usage,
        on("2025-06-01"),
    ));
    assert_eq!(
        (cost.status, cost.per_request, cost.total),
        (CostStatus::Priced, usd("0.002"), usd("0.002"))
    );
}

/// Records `ragtrace::pricing` warnings by their `model` (or `model_key`) field.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Model(String);
        impl tracing::field::Visit for Model {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "model" || field.name() == "model_key" {
                    self.0 = value.to_owned();
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        if event.metadata().target() == "ragtrace::pricing"
            && *event.metadata().level() == tracing::Level::WARN
        {
            let mut model = Model(String::new());
            event.record(&mut model);
            self.0.lock().unwrap().push(model.0);
        }
    }
}

#[test]
fn an_unknown_model_is_unpriced_never_zero_and_warned_about_once() {
    let table = PriceTable::builtin();
    let warnings = Warnings::default();
    let subscriber = tracing_subscriber::registry().with(warnings.clone());
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..3 {
            let cost = price_in(
                &table,
                "my-local-llama-70b",
                Usage::new(1_000, 100),
                on("2025-06-01"),
                None,
            );
            assert_eq!(cost.status, CostStatus::Unpriced);
            assert_eq!(cost.total, Usd::ZERO);
            assert_eq!(cost.model_key, None);
        }
        price_in(
            &table,
            "another-unknown",
            Usage::new(1, 1),
            on("2025-06-01"),
            None,
        );
        // Known models never warn.
        price_in(
            &table,
            "openai/gpt-4o",
            Usage::new(1, 1),
            on("2025-06-01"),
            None,
        );
    });
    assert_eq!(
        *warnings.0.lock().unwrap(),
        ["my-local-llama-70b", "another-unknown"]
    );
}

#[test]
fn a_tier_or_band_the_table_lacks_is_warned_about_once_per_model() {
    let table = PriceTable::builtin();
    let warnings = Warnings::default();
    let subscriber = tracing_subscriber::registry().with(warnings.clone());
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..3 {
            price_in(
                &table,
                "gpt-5-chat-latest",
                Usage::new(10, 10),
                on("2025-09-01"),
                Some("batch"),
            );
            price_in(
                &table,
                "gemini-2.5-pro",
                Usage::new(210_000, 10),
                on("2025-09-01"),
                Some("flex"),
            );
            // Offered: no warning.
            price_in(
                &table,
                "gemini-2.5-pro",
                Usage::new(1_000, 10),
                on("2025-09-01"),
                Some("flex"),
            );
        }
    });
    assert_eq!(
        *warnings.0.lock().unwrap(),
        ["gpt-5-chat-latest", "gemini-2.5-pro"]
    );
}

#[test]
fn the_reference_figures_of_the_design_notes_are_in_the_table() {
    // ../shared/design/PRICING.md, "Reference figures for tests" (LiteLLM 1.109.1).
    let now = on("2025-12-15");
    let rates = |model: &str, tier: Option<&str>, input_tokens: u64| {
        TABLE
            .quote(model, now, tier, input_tokens)
            .unwrap_or_else(|| panic!("no quote for {model}"))
            .rates
    };
    let p = |s: &str| Some(usd(s));
    // model, input, cached, output, batch in, batch out
    for (model, input, cached, output, batch_in, batch_out) in [
        ("gpt-4o", "2.50", Some("1.25"), "10", "1.25", "5"),
        (
            "gpt-4o-mini",
            "0.15",
            Some("0.075"),
            "0.60",
            "0.075",
            "0.30",
        ),
        ("gpt-4.1", "2", Some("0.50"), "8", "1", "4"),
        ("gpt-4.1-mini", "0.40", Some("0.10"), "1.60", "0.20", "0.80"),
        ("o3", "2", Some("0.50"), "8", "1", "4"),
        ("gpt-5", "1.25", Some("0.125"), "10", "0.625", "5"),
        ("claude-sonnet-4-5", "3", Some("0.30"), "15", "1.50", "7.50"),
        ("claude-haiku-4-5", "1", Some("0.10"), "5", "0.50", "2.50"),
        ("claude-opus-4-5", "5", Some("0.50"), "25", "2.50", "12.50"),
    ] {
        let standard = rates(model, None, 0);
        assert_eq!(
            (standard.input, standard.cached_input, standard.output),
            (p(input), cached.map(usd), p(output)),
            "{model}"
        );
        let batch = rates(model, Some("batch"), 0);
        assert_eq!(
            (batch.input, batch.output),
            (p(batch_in), p(batch_out)),
            "{model} batch"
        );
    }
    let gpt4o_priority = rates("gpt-4o", Some("priority"), 0);
    assert_eq!(
        (gpt4o_priority.input, gpt4o_priority.output),
        (p("4.25"), p("17"))
    );
    let old = rates("gpt-4o-2024-05-13", None, 0);
    assert_eq!(
        (old.input, old.cached_input, old.output),
        (p("5"), None, p("15"))
    );
    assert_eq!(
        TABLE.resolve("gpt-4.1").unwrap().entry.context_window,
        Some(1_047_576)
    );
    let o3_flex = rates("o3", Some("flex"), 0);
    assert_eq!((o3_flex.input, o3_flex.output), (p("1"), p("4")));
    for (model, input, batch) in [
        ("text-embedding-3-small", "0.02", "0.01"),
        ("text-embedding-3-large", "0.13", "0.065"),
    ] {
        assert_eq!(rates(model, None, 0).input, p(input));
        assert_eq!(rates(model, Some("batch"), 0).input, p(batch));
    }
    for (model, write_5m, write_1h) in [
        ("claude-sonnet-4-5", "3.75", "6"),
        ("claude-haiku-4-5", "1.25", "2"),
        ("claude-opus-4-5", "6.25", "10"),
    ] {
        let r = rates(model, None, 0);
        assert_eq!(
            (r.cache_write, r.cache_write_1h),
            (p(write_5m), p(write_1h)),
            "{model}"
        );
    }
    let gemini = rates("gemini-2.5-pro", None, 0);
    let gemini_long = rates("gemini-2.5-pro", None, 200_001);
    assert_eq!(
        (gemini.input, gemini.cached_input, gemini.output),
        (p("1.25"), p("0.125"), p("10"))
    );
    assert_eq!(
        (
            gemini_long.input,
            gemini_long.cached_input,
            gemini_long.output
        ),
        (p("2.50"), p("0.25"), p("15"))
    );
    assert_eq!(rates("rerank-v3.5", None, 0).per_request, p("0.002"));
}

#[test]
fn the_builtin_table_covers_the_models_the_issue_lists() {
    for model in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o3",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "text-embedding-3-small",
        "text-embedding-3-large",
        "text-embedding-ada-002",
        "claude-haiku-4-5",
        "claude-sonnet-4-5",
        "claude-opus-4-5",
        "claude-sonnet-4",
        "claude-opus-4-1",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "mistral-large-latest",
        "mistral-small-latest",
        "mistral-embed",
        "embed-v4.0",
        "embed-english-v3.0",
        "rerank-v3.5",
        "voyage-3.5",
        "voyage-3-large",
    ] {
        let quote = TABLE.quote(model, on("2026-06-01"), None, 0);
        assert!(quote.is_some(), "{model} is not priced");
        let entry = TABLE.resolve(model).unwrap().entry;
        assert!(
            entry
                .versions
                .iter()
                .all(|v| v.source.starts_with("https://")),
            "{model}"
        );
    }
}
