//! Model-name lookup plus cost computation, per priced span, against a
//! table the size of LiteLLM's (goal: under 200 ns after warm-up).
//!
//! `cargo bench --bench pricing`. Two tables:
//! - `synthetic`: the built-in files plus 4,500 generated entries with
//!   LiteLLM-like names (provider prefixes, dated snapshots, aliases), so the
//!   run is reproducible anywhere;
//! - `litellm`: the built-in files plus LiteLLM's real price file imported
//!   (3,500 entries from 4,553), when the file is found at
//!   `RAGTRACE_LITELLM_JSON` or `../shared/data/litellm_model_prices_1.109.1.json`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::SystemTime;

use criterion::{Criterion, criterion_group, criterion_main};
use ragtrace::pricing::{
    Date, Mode, ModelEntry, PriceRequest, PriceTable, PriceVersion, Pricer, Rates, ServiceTier,
    TierRates, Usd, litellm,
};
use ragtrace::steps::{StepKind, Usage};

const PROVIDERS: [&str; 9] = [
    "azure",
    "bedrock",
    "vertex_ai",
    "openrouter",
    "together_ai",
    "fireworks_ai",
    "groq",
    "deepinfra",
    "databricks",
];

/// 4,500 entries shaped like LiteLLM's: prefixed keys, a dated alias each,
/// batch prices on a third, a long-context band on a tenth, 20 patterns.
fn synthetic() -> PriceTable {
    let usd = |picos: i128| Usd::from_picos(picos);
    let effective: Date = "2024-01-01".parse().unwrap();
    let mut builder = PriceTable::builder();
    for i in 0..4_500u32 {
        let provider = PROVIDERS[i as usize % PROVIDERS.len()];
        let key = format!("{provider}/family-{}-model-{i}", i % 37);
        let rates = Rates::new()
            .input(usd(1_000_000_000 + i128::from(i)))
            .cached_input(usd(100_000_000))
            .output(usd(4_000_000_000));
        let mut version = PriceVersion::new(effective, "https://example.com/pricing", rates);
        if i % 3 == 0 {
            version = version.service_tier(
                ServiceTier::Batch,
                TierRates::new(
                    Rates::new()
                        .input(usd(500_000_000))
                        .output(usd(2_000_000_000)),
                ),
            );
        }
        if i % 10 == 0 {
            version = version.above(128_000, Rates::new().input(usd(2_000_000_000)));
        }
        let mut entry = ModelEntry::new(key.clone(), provider, Mode::Chat)
            .alias(format!("{key}-2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1))
            .version(version);
        if i % 225 == 0 {
            entry = entry.pattern(format!("custom-{i}-[a-z]+-v[0-9]+"));
        }
        builder = builder.model(entry);
    }
    builder.build().expect("the synthetic table loads")
}

fn litellm_file() -> Option<PathBuf> {
    let path = std::env::var_os("RAGTRACE_LITELLM_JSON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/data/litellm_model_prices_1.109.1.json")
        });
    path.is_file().then_some(path)
}

fn with_litellm(path: &PathBuf) -> PriceTable {
    let json = std::fs::read_to_string(path).expect("readable");
    let effective: Date = "2024-01-01".parse().unwrap();
    let import = litellm::import(&json, effective).expect("imports");
    import
        .to_toml_files(effective)
        .into_iter()
        .fold(PriceTable::builder(), |b, (name, text)| b.toml(name, text))
        .build()
        .expect("loads")
}

/// The spans priced: (bench name, model, usage, service tier).
fn cases() -> Vec<(&'static str, &'static str, Usage, Option<&'static str>)> {
    vec![
        (
            "exact key",
            "gpt-4o-mini",
            Usage::new(1_200, 80).with_cache_read(1_024),
            None,
        ),
        (
            "dated alias",
            "gpt-4o-mini-2024-07-18",
            Usage::new(1_200, 80),
            None,
        ),
        (
            "bedrock id (normalized, cached)",
            "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            Usage::new(12_000, 900)
                .with_cache_read(8_000)
                .with_cache_write(1_000)
                .with_cache_write_1h(500)
                .with_reasoning(300),
            None,
        ),
        (
            "long context + batch",
            "gemini-2.5-pro",
            Usage::new(250_000, 4_000).with_cache_read(50_000),
            Some("batch"),
        ),
        (
            "unknown model (unpriced)",
            "my-local-llama-70b",
            Usage::new(1_000, 100),
            None,
        ),
    ]
}

fn bench_table(c: &mut Criterion, group: &str, table: &PriceTable) {
    let mut g = c.benchmark_group(format!("pricing/{group} ({} entries)", table.len()));
    let at = SystemTime::now();
    for (name, model, usage, tier) in cases() {
        // Warm up the resolution cache the way a first span would.
        let mut request = PriceRequest::new(model, StepKind::Chat, &usage, at);
        if let Some(tier) = tier {
            request = request.service_tier(tier);
        }
        let _ = table.price(&request);
        g.bench_function(name, |b| b.iter(|| table.price(black_box(&request))));
    }
    // The first sighting of a spelling: normalization and lookups, uncached.
    g.bench_function("first sighting of a bedrock id (uncached resolve)", |b| {
        b.iter(|| {
            table.resolve(black_box(
                "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            ))
        })
    });
    g.finish();
}

fn pricing(c: &mut Criterion) {
    bench_table(c, "synthetic", &synthetic());
    if let Some(path) = litellm_file() {
        bench_table(c, "litellm", &with_litellm(&path));
    }
    c.bench_function("pricing/build the built-in table", |b| {
        b.iter(PriceTable::builtin)
    });
}

criterion_group!(benches, pricing);
criterion_main!(benches);
