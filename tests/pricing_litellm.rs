//! The LiteLLM importer: its output prices models exactly as LiteLLM's file
//! does. CI runs it on a small fixture cut from LiteLLM 1.109.1; the full
//! 4,553-entry file is tried by hand with
//! `cargo test --all-features --test pricing_litellm -- --ignored`
//! (path in `RAGTRACE_LITELLM_JSON`, default `../shared/data/litellm_model_prices_1.109.1.json`).

use std::path::PathBuf;
use std::time::SystemTime;

use ragtrace::pricing::{CostStatus, Date, PriceRequest, PriceTable, Pricer, litellm};
use ragtrace::steps::{StepKind, Usage};
use serde_json::{Map, Value};

const FIXTURE: &str = include_str!("fixtures/litellm_prices_sample.json");

fn effective() -> Date {
    "2025-11-01".parse().unwrap()
}

/// A table made only of the importer's output files.
fn imported_table(json: &str) -> (PriceTable, litellm::Import) {
    let import = litellm::import(json, effective()).unwrap();
    let builder = import.to_toml_files(effective()).into_iter().fold(
        PriceTable::builder().without_builtin(),
        |b, (name, text)| b.toml(name, text),
    );
    (builder.build().unwrap(), import)
}

/// What LiteLLM's file says a call costs, in picodollars, computed straight
/// from its per-token floats (1 USD per token = 10^12 picodollars per token).
///
/// Per kind, the most specific price present wins: long-context in the
/// tier, the tier, long-context, base. Above 200k input tokens the whole
/// call takes the long-context prices; a tier with no long-context prices of
/// its own does not apply above the threshold.
fn litellm_cost(fields: &Map<String, Value>, usage: &Usage, tier: Option<&str>) -> i128 {
    let suffix = tier.map(|t| match t {
        "batch" => "_batches",
        "flex" => "_flex",
        "priority" => "_priority",
        other => panic!("tier {other}"),
    });
    let has = |pred: &dyn Fn(&str) -> bool| fields.keys().any(|k| pred(k));
    let long = usage.input_tokens > 200_000 && has(&|k| k.contains("_above_200k_tokens"));
    let suffix = suffix.filter(|s| has(&|k| k.ends_with(s)));
    let suffix =
        suffix.filter(|s| !long || has(&|k| k.ends_with(&format!("_above_200k_tokens{s}"))));
    let rate = |base: &str| -> Option<i128> {
        let mut names = Vec::new();
        if let Some(s) = suffix {
            if long {
                names.push(format!("{base}_above_200k_tokens{s}"));
            }
            names.push(format!("{base}{s}"));
        }
        if long {
            names.push(format!("{base}_above_200k_tokens"));
        }
        names.push(base.to_owned());
        names
            .iter()
            .find_map(|n| fields.get(n).and_then(Value::as_f64))
            .map(|per_token| (per_token * 1e12).round() as i128)
    };
    let charge = |base: &str, tokens: u64| {
        if tokens == 0 {
            return 0;
        }
        rate(base).unwrap_or_else(|| panic!("no {base}")) * i128::from(tokens)
    };
    let reasoning =
        rate("output_cost_per_reasoning_token").or_else(|| rate("output_cost_per_token"));
    charge("input_cost_per_token", usage.uncached_input_tokens())
        + charge("cache_read_input_token_cost", usage.cache_read_input_tokens)
        + charge(
            "cache_creation_input_token_cost",
            usage.cache_write_5m_input_tokens(),
        )
        + charge(
            "cache_creation_input_token_cost_above_1hr",
            usage.cache_write_1h_input_tokens,
        )
        + charge("output_cost_per_token", usage.visible_output_tokens())
        + reasoning.expect("output price") * i128::from(usage.reasoning_output_tokens)
}

/// Usages to compare on: small and long-context, with every kind of token
/// the model's entry prices.
fn usages(cache_writes: bool) -> Vec<Usage> {
    let small = Usage::new(12_345, 2_222)
        .with_cache_read(4_096)
        .with_reasoning(1_111);
    let long = Usage::new(250_001, 9_876)
        .with_cache_read(120_000)
        .with_reasoning(777);
    if cache_writes {
        vec![
            small.with_cache_write(1_500).with_cache_write_1h(500),
            long.with_cache_write(10_000).with_cache_write_1h(3_000),
        ]
    } else {
        vec![small, long]
    }
}

/// Prices `model` with the imported table over the usages and tiers, and
/// compares with the file's own figures.
fn assert_prices_identically(
    table: &PriceTable,
    root: &Map<String, Value>,
    model: &str,
    cache_writes: bool,
) {
    let fields = root[model].as_object().unwrap();
    for usage in usages(cache_writes) {
        for tier in [None, Some("batch"), Some("flex"), Some("priority")] {
            let mut request = PriceRequest::new(model, StepKind::Chat, &usage, SystemTime::now());
            if let Some(tier) = tier {
                request = request.service_tier(tier);
            }
            let cost = table.price(&request);
            assert_eq!(
                cost.status,
                CostStatus::Priced,
                "{model} {tier:?} {usage:?}"
            );
            assert_eq!(
                cost.total.picos(),
                litellm_cost(fields, &usage, tier),
                "{model} {tier:?} {usage:?} (tier {:?})",
                cost.tier
            );
            assert_eq!(cost.model_key.as_deref(), Some(model));
        }
    }
}

fn root(json: &str) -> Map<String, Value> {
    match serde_json::from_str(json).unwrap() {
        Value::Object(map) => map,
        _ => panic!("not an object"),
    }
}

#[test]
fn imported_prices_equal_litellms_for_the_reference_models() {
    let (table, _) = imported_table(FIXTURE);
    let root = root(FIXTURE);
    assert_prices_identically(&table, &root, "gpt-4o", false);
    assert_prices_identically(&table, &root, "claude-sonnet-4-5", true);
    assert_prices_identically(&table, &root, "gemini-2.5-pro", false);
    assert_prices_identically(&table, &root, "gemini/gemini-2.5-pro", false);
    assert_prices_identically(
        &table,
        &root,
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        true,
    );
}

#[test]
fn the_fixture_import_accounts_for_every_entry() {
    let (table, import) = imported_table(FIXTURE);
    let root = root(FIXTURE);
    // Every entry but the file's own `sample_spec` is imported or skipped with a reason.
    assert_eq!(import.entries.len() + import.skipped.len(), root.len() - 1);
    let skipped: Vec<(&str, &str)> = import
        .skipped
        .iter()
        .map(|s| (s.key.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                "1024-x-1024/50-steps/stability.stable-diffusion-xl-v1",
                "mode `image_generation` is not priced per token"
            ),
            (
                "whisper-1",
                "mode `audio_transcription` is not priced per token"
            ),
        ]
    );
    // Units ragtrace does not meter are counted, not silently dropped.
    assert_eq!(
        import.ignored_fields.get("input_cost_per_token_ultrafast"),
        Some(&1)
    );
    assert_eq!(
        import
            .ignored_fields
            .get("cache_creation_input_token_cost_above_12hr"),
        Some(&1)
    );
    // Per-query prices and entries without a mode (LiteLLM treats them as chat).
    let rerank = table
        .quote("rerank-v3.5", SystemTime::now(), None, 0)
        .unwrap();
    assert_eq!(
        rerank.rates.per_request.map(|p| p.to_string()),
        Some("0.002".into())
    );
    assert!(table.resolve("fireworks-ai-above-16b").is_some());
    // A reasoning price equal to output (LiteLLM lists it for the standard
    // tier only) is dropped so batch reasoning gets the batch output price:
    // 1,000 reasoning tokens in batch x 1.25 = 0.00125.
    let flash = table.resolve("gemini/gemini-2.5-flash").unwrap().entry;
    assert_eq!(flash.versions[0].standard.rates.reasoning, None);
    let usage = Usage::new(0, 1_000).with_reasoning(1_000);
    let batch = table.price(
        &PriceRequest::new(
            "gemini/gemini-2.5-flash",
            StepKind::Chat,
            &usage,
            SystemTime::now(),
        )
        .service_tier("batch"),
    );
    assert_eq!(batch.total.to_string(), "0.00125");
    // Sources are kept; the effective date is the import's.
    let gpt4o = table.resolve("gpt-4o").unwrap().entry;
    assert_eq!(
        gpt4o.versions[0].source,
        "https://developers.openai.com/api/docs/pricing"
    );
    assert_eq!(gpt4o.versions[0].effective, effective());
    assert_eq!(gpt4o.context_window, Some(128_000));
    // No date, no price: a call before the import's effective date is unpriced.
    let usage = Usage::new(1, 1);
    let before = table.price(&PriceRequest::new(
        "gpt-4o",
        StepKind::Chat,
        &usage,
        "2025-10-31".parse::<Date>().unwrap().start(),
    ));
    assert_eq!(before.status, CostStatus::Unpriced);
}

#[test]
fn one_file_and_per_provider_files_hold_the_same_entries() {
    let import = litellm::import(FIXTURE, effective()).unwrap();
    let single = PriceTable::builder()
        .without_builtin()
        .toml("all.toml", import.to_toml(effective()))
        .build()
        .unwrap();
    let (split, _) = imported_table(FIXTURE);
    let mut a: Vec<_> = single.entries().cloned().collect();
    let mut b: Vec<_> = split.entries().cloned().collect();
    a.sort_by(|x, y| x.key.cmp(&y.key));
    b.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(a, b);
    assert_eq!(a, {
        let mut imported = import.entries.clone();
        imported.sort_by(|x, y| x.key.cmp(&y.key));
        imported
    });
}

#[test]
fn what_is_not_a_price_file_is_an_error() {
    assert!(matches!(
        litellm::import("[1, 2]", effective()),
        Err(litellm::ImportError::NotAnObject)
    ));
    let error = litellm::import("{\"gpt-4o\": {", effective()).unwrap_err();
    assert!(error.to_string().contains("line 1"), "{error}");
}

fn full_file() -> PathBuf {
    std::env::var_os("RAGTRACE_LITELLM_JSON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/data/litellm_model_prices_1.109.1.json")
        })
}

#[test]
#[ignore = "needs LiteLLM's full price file; run by hand with --ignored"]
fn the_full_litellm_file_imports_and_prices_identically() {
    let path = full_file();
    let json = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root = root(&json);
    let (table, import) = imported_table(&json);
    assert_eq!(import.entries.len() + import.skipped.len(), root.len() - 1);
    assert_eq!(table.len(), import.entries.len());
    assert_prices_identically(&table, &root, "gpt-4o", false);
    assert_prices_identically(&table, &root, "claude-sonnet-4-5", true);
    assert_prices_identically(&table, &root, "gemini-2.5-pro", false);
    assert_prices_identically(&table, &root, "gemini/gemini-2.5-pro", false);
    eprintln!(
        "{}: {} entries, {} imported, {} skipped, {} kinds of price ignored, {} prices rounded",
        path.display(),
        root.len(),
        import.entries.len(),
        import.skipped.len(),
        import.ignored_fields.len(),
        import.rounded
    );
}

#[test]
#[ignore = "needs LiteLLM's full price file; run by hand with --ignored"]
fn the_builtin_table_agrees_with_litellm_where_it_does_not_say_otherwise() {
    let json = std::fs::read_to_string(full_file()).unwrap();
    let (litellm_table, _) = imported_table(&json);
    let builtin = PriceTable::builtin();
    // Differences the table files explain in their comments.
    let explained = [
        "claude-sonnet-4-5",          // long-context band from Anthropic's page
        "claude-sonnet-4-5-20250929", // the same entry
        "ft:gpt-4o-2024-08-06",       // LiteLLM's batch figures left out
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0", // batch long-context band added
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "jp.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "au.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "apac.anthropic.claude-haiku-4-5-20251001-v1:0", // 1-hour write (2x input) LiteLLM omits
        "ft:gpt-4.1-2025-04-14",                         // LiteLLM's batch cached price left out
        "gemini-2.5-pro", // LiteLLM's Vertex-only cache-creation price left out
        "text-embedding-ada-002", // LiteLLM lists its batch price under -v2 only
    ];
    let now = SystemTime::now();
    let mut compared = 0;
    let mut differences = Vec::new();
    for entry in builtin.entries() {
        for name in entry.names() {
            // LiteLLM keys some providers' models with a prefix.
            let theirs = ["", "gemini/", "mistral/", "cohere/", "voyage/"]
                .iter()
                .map(|prefix| format!("{prefix}{name}"))
                .find(|key| {
                    litellm_table
                        .resolve(key)
                        .is_some_and(|m| m.entry.key == *key)
                });
            let Some(theirs) = theirs else { continue };
            for tier in [None, Some("batch"), Some("flex"), Some("priority")] {
                for input_tokens in [1_000, 250_000] {
                    // A listed zero (LiteLLM's output price of embeddings) is no charge either way.
                    let rates = |table: &PriceTable, name: &str| {
                        table.quote(name, now, tier, input_tokens).map(|q| {
                            // Reasoning without its own price is charged as output.
                            let mut rates = q.rates;
                            rates.reasoning = rates.reasoning_or_output();
                            rates
                                .fields()
                                .map(|(_, price)| price.filter(|p| !p.is_zero()))
                        })
                    };
                    let (ours, other) = (rates(&builtin, name), rates(&litellm_table, &theirs));
                    compared += 1;
                    if ours != other && !explained.contains(&name) {
                        differences.push(format!(
                            "{name} {tier:?} {input_tokens}:\n  ours   {ours:?}\n  theirs {other:?}"
                        ));
                    }
                }
            }
        }
    }
    eprintln!("compared {compared} (name, tier, size) cases with LiteLLM");
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
