//! Importing LiteLLM's public `model_prices_and_context_window.json` into
//! ragtrace's table format, so a table can be refreshed from it.
//!
//! LiteLLM lists USD per token as JSON floats and keeps only current
//! prices. The importer converts each per-token float to an exact decimal
//! per 1M tokens (the float's shortest decimal form, moved six places), so
//! the result prices every call exactly as the file does. Since the file
//! carries no dates, every imported price takes the effective date given.
//!
//! What it maps, per entry (`_batches`, `_flex` and `_priority` suffixes
//! become service tiers, `_above_200k_tokens` and the like long-context
//! bands):
//!
//! | LiteLLM field | ragtrace price |
//! |---|---|
//! | `input_cost_per_token` | `input` |
//! | `cache_read_input_token_cost` (or `input_cost_per_token_cache_hit`) | `cached_input` |
//! | `cache_creation_input_token_cost` | `cache_write` |
//! | `cache_creation_input_token_cost_above_1hr` | `cache_write_1h` |
//! | `output_cost_per_token` | `output` |
//! | `output_cost_per_reasoning_token` | `reasoning` |
//! | `input_cost_per_query`, `input_cost_per_request` | `per_request` |
//!
//! A reasoning price equal to the output price is dropped, so reasoning
//! follows the output price in every tier (LiteLLM lists it for the
//! standard tier only).
//!
//! Entries whose mode is not chat, responses, completion, embedding or
//! rerank (image, audio, video, moderation, ...) are skipped, as are
//! entries with no per-token or per-query price; prices for units ragtrace
//! does not meter (images, audio seconds, characters) are counted in
//! [`Import::ignored_fields`]. Nothing is dropped silently.
//!
//! ```
//! use ragtrace::pricing::litellm;
//!
//! let json = r#"{
//!   "gpt-4o": {"litellm_provider": "openai", "mode": "chat",
//!              "input_cost_per_token": 2.5e-06, "cache_read_input_token_cost": 1.25e-06,
//!              "output_cost_per_token": 1e-05, "input_cost_per_token_batches": 1.25e-06},
//!   "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation"}
//! }"#;
//! let import = litellm::import(json, "2025-11-01".parse().unwrap()).unwrap();
//! assert_eq!(import.entries.len(), 1);
//! assert_eq!(import.skipped.len(), 1);
//! let rates = &import.entries[0].versions[0].standard.rates;
//! assert_eq!(rates.input.unwrap().to_string(), "2.5");
//! ```

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::model::{LongContext, Mode, ModelEntry, PriceVersion, Rates, ServiceTier, TierRates};
use super::{Date, Usd, to_toml, validate};

/// Where the file is published; the source of entries that cite none.
pub const LITELLM_URL: &str =
    "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json";

/// What an import produced.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Import {
    /// The entries, in key order.
    pub entries: Vec<ModelEntry>,
    /// Entries not imported, with why.
    pub skipped: Vec<Skipped>,
    /// Price fields ragtrace has no usage kind for, with how many entries had each.
    pub ignored_fields: BTreeMap<String, usize>,
    /// Prices finer than a picodollar per 1M tokens, rounded to the nearest.
    pub rounded: usize,
}

/// An entry the importer left out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// The entry's key in the file.
    pub key: String,
    /// Why it was left out.
    pub reason: String,
}

/// Why a file could not be imported at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Not JSON.
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not an object of model entries.
    #[error("expected a JSON object mapping model names to entries")]
    NotAnObject,
}

/// Imports LiteLLM's price file (its text), giving every price the
/// effective date `effective`.
pub fn import(json: &str, effective: Date) -> Result<Import, ImportError> {
    let root: Value = serde_json::from_str(json)?;
    let Value::Object(models) = root else {
        return Err(ImportError::NotAnObject);
    };
    let mut import = Import::default();
    for (key, value) in &models {
        if key == "sample_spec" {
            continue; // the file's own field documentation
        }
        let Value::Object(fields) = value else {
            import.skip(key, "not a JSON object");
            continue;
        };
        match convert(key, fields, effective, &mut import) {
            Ok(entry) => {
                let problems = validate::validate(&entry, "", &|_| None);
                match problems.first() {
                    None => import.entries.push(entry),
                    Some(problem) => {
                        let field = problem.field.as_deref().unwrap_or("entry");
                        import.skip(key, &format!("{field}: {}", problem.message));
                    }
                }
            }
            Err(reason) => import.skip(key, &reason),
        }
    }
    Ok(import)
}

impl Import {
    fn skip(&mut self, key: &str, reason: &str) {
        self.skipped.push(Skipped {
            key: key.to_owned(),
            reason: reason.to_owned(),
        });
    }

    /// One table file per LiteLLM provider: (file name, TOML text), by name.
    ///
    /// File names are distinct even where providers' names are not as file
    /// names (`a/b`, `a?b` and `a_b` all read `a_b`; `A` and `a` are one
    /// file on some file systems): the first by name keeps the plain name,
    /// the others get `-2`, `-3`, ... Each file's header names its provider.
    pub fn to_toml_files(&self, effective: Date) -> Vec<(String, String)> {
        let mut by_provider: BTreeMap<&str, Vec<ModelEntry>> = BTreeMap::new();
        for entry in &self.entries {
            by_provider
                .entry(entry.provider.as_str())
                .or_default()
                .push(entry.clone());
        }
        let stems = distinct_stems(by_provider.keys().copied());
        by_provider
            .into_iter()
            .zip(stems)
            .map(|((provider, entries), stem)| {
                (
                    format!("{stem}.toml"),
                    to_toml(&entries, &header(effective), Some(provider)),
                )
            })
            .collect()
    }

    /// Every entry in one table file.
    pub fn to_toml(&self, effective: Date) -> String {
        to_toml(&self.entries, &header(effective), None)
    }
}

fn header(effective: Date) -> String {
    format!(
        "Imported from LiteLLM's model_prices_and_context_window.json\n\
         ({LITELLM_URL}) by `ragtrace prices import-litellm`.\n\
         Prices are USD per 1M tokens, converted exactly from LiteLLM's per-token figures.\n\
         LiteLLM records no dates, so every price takes effect on {effective}, the import's date."
    )
}

/// File stems for `providers` (in order), distinct even ignoring case.
fn distinct_stems<'a>(providers: impl Iterator<Item = &'a str> + Clone) -> Vec<String> {
    let natural: Vec<String> = providers.map(file_stem).collect();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for stem in &natural {
        *count.entry(stem.to_ascii_lowercase()).or_default() += 1;
    }
    let mut out = Vec::with_capacity(natural.len());
    for stem in natural {
        let key = stem.to_ascii_lowercase();
        if taken.insert(key.clone()) {
            out.push(stem);
            continue;
        }
        let mut n = 2;
        loop {
            let candidate = format!("{stem}-{n}");
            let lower = candidate.to_ascii_lowercase();
            if !count.contains_key(&lower) && taken.insert(lower) {
                out.push(candidate);
                break;
            }
            n += 1;
        }
    }
    out
}

/// A provider name as a file name (never empty, never hidden).
fn file_stem(provider: &str) -> String {
    let stem: String = provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        format!("_{stem}")
    } else {
        stem
    }
}

/// Which ragtrace price a LiteLLM base field name sets.
fn kind(base: &str) -> Option<usize> {
    // Indexes into `Rates::fields` order.
    Some(match base {
        "input_cost_per_token" => 0,
        "cache_read_input_token_cost" => 1,
        "cache_creation_input_token_cost" => 2,
        "cache_creation_input_token_cost_above_1hr" => 3,
        "output_cost_per_token" => 4,
        "output_cost_per_reasoning_token" => 5,
        "input_cost_per_query" | "input_cost_per_request" => 6,
        _ => return None,
    })
}

/// A price field, decoded: which price, which band and which tier.
struct Field {
    kind: usize,
    above: Option<u64>,
    tier: ServiceTier,
}

fn decode(name: &str) -> Option<Field> {
    let mut rest = name;
    let mut tier = ServiceTier::Standard;
    for (suffix, t) in [
        ("_batches", ServiceTier::Batch),
        ("_flex", ServiceTier::Flex),
        ("_priority", ServiceTier::Priority),
    ] {
        if let Some(stripped) = rest.strip_suffix(suffix) {
            rest = stripped;
            tier = t;
            break;
        }
    }
    let mut above = None;
    if let Some(head) = rest.strip_suffix("k_tokens")
        && let Some((base, thousands)) = head.rsplit_once("_above_")
        && let Ok(thousands) = thousands.parse::<u64>()
    {
        above = Some(thousands.checked_mul(1000)?);
        rest = base;
    }
    Some(Field {
        kind: kind(rest)?,
        above,
        tier,
    })
}

/// The prices of one tier while they are collected.
#[derive(Default)]
struct Collected {
    base: [Option<Usd>; 7],
    above: BTreeMap<u64, [Option<Usd>; 7]>,
}

impl Collected {
    fn tier_rates(&self) -> TierRates {
        TierRates {
            rates: Rates::from_fields(self.base),
            above: self
                .above
                .iter()
                .map(|(&tokens, prices)| LongContext::new(tokens, Rates::from_fields(*prices)))
                .collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.base.iter().all(Option::is_none) && self.above.is_empty()
    }
}

fn convert(
    key: &str,
    fields: &Map<String, Value>,
    effective: Date,
    import: &mut Import,
) -> Result<ModelEntry, String> {
    let provider = match fields.get("litellm_provider") {
        Some(Value::String(p)) if !p.trim().is_empty() => p.trim().to_owned(),
        _ => return Err("no litellm_provider".to_owned()),
    };
    let mode = match fields.get("mode").and_then(Value::as_str) {
        None | Some("chat" | "responses") => Mode::Chat,
        Some("completion") => Mode::Completion,
        Some("embedding") => Mode::Embedding,
        Some("rerank") => Mode::Rerank,
        Some(other) => return Err(format!("mode `{other}` is not priced per token")),
    };
    let mut tiers: [Collected; 4] = Default::default();
    let mut cache_hit = None;
    for (name, value) in fields {
        if name == "input_cost_per_token_cache_hit" {
            cache_hit = Some(price(name, value, 6, import)?);
            continue;
        }
        match decode(name) {
            Some(field) => {
                let shift = if field.kind == 6 { 0 } else { 6 };
                let amount = price(name, value, shift, import)?;
                let tier = &mut tiers[field.tier.index()];
                let slot = match field.above {
                    Some(tokens) => &mut tier.above.entry(tokens).or_default()[field.kind],
                    None => &mut tier.base[field.kind],
                };
                *slot = Some(amount);
            }
            // A price for a unit ragtrace does not meter; zeros cost nothing.
            None if name.contains("cost")
                && !matches!(value, Value::Number(n) if n.as_f64() == Some(0.0)) =>
            {
                *import.ignored_fields.entry(name.clone()).or_default() += 1;
            }
            None => {}
        }
    }
    if tiers[0].base[1].is_none() {
        tiers[0].base[1] = cache_hit;
    }
    // A reasoning price equal to the output price only says reasoning is
    // billed as output; kept as its own price it would miss every tier's
    // output discount (LiteLLM lists it for the standard tier alone).
    for tier in &mut tiers {
        for prices in std::iter::once(&mut tier.base).chain(tier.above.values_mut()) {
            if prices[5].is_some() && prices[5] == prices[4] {
                prices[5] = None;
            }
        }
    }
    if tiers[0].base.iter().all(Option::is_none) {
        return Err("no per-token or per-query price".to_owned());
    }
    let source = match fields.get("source").and_then(Value::as_str).map(str::trim) {
        Some(url) if url.starts_with("http") && !url.contains(char::is_whitespace) => {
            url.to_owned()
        }
        _ => LITELLM_URL.to_owned(),
    };
    let [standard, batch, flex, priority] = tiers;
    let mut version = PriceVersion::new(effective, source, Rates::new());
    version.standard = standard.tier_rates();
    for (tier, collected) in [
        (ServiceTier::Batch, batch),
        (ServiceTier::Flex, flex),
        (ServiceTier::Priority, priority),
    ] {
        if !collected.is_empty() {
            version = version.service_tier(tier, collected.tier_rates());
        }
    }
    let mut entry = ModelEntry::new(key, provider, mode).version(version);
    let tokens = |field: &str| fields.get(field).and_then(Value::as_u64).filter(|&n| n > 0);
    entry.context_window = tokens("max_input_tokens");
    entry.max_output = tokens("max_output_tokens");
    entry.deprecated = fields
        .get("deprecation_date")
        .and_then(Value::as_str)
        .and_then(|d| d.trim().parse().ok());
    Ok(entry)
}

/// A LiteLLM number as an exact decimal, moved `shift` places left (6 turns
/// USD per token into USD per 1M tokens).
fn price(name: &str, value: &Value, shift: usize, import: &mut Import) -> Result<Usd, String> {
    let text = match value {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            // Display is the shortest decimal that reads back as this float,
            // never in exponent form: 2.5e-06 prints as 0.0000025.
            Some(f) if f.is_finite() => f.to_string(),
            _ => return Err(format!("`{name}` is not a finite number")),
        },
        Value::Number(n) => n.to_string(),
        other => return Err(format!("`{name}` is not a number: {other}")),
    };
    let (usd, rounded) =
        scale(&text, shift).ok_or_else(|| format!("`{name}` = {text} is not a price"))?;
    if rounded {
        import.rounded += 1;
    }
    Ok(usd)
}

/// `text` (a plain decimal) times 10^`shift`, rounded half up to whole
/// picodollars; and whether rounding changed it.
fn scale(text: &str, shift: usize) -> Option<(Usd, bool)> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !all_digits(whole) || !all_digits(frac) {
        return None;
    }
    // Picodollars: the decimal point moves `shift` + 12 places.
    let places = shift + 12;
    let padded = format!("{frac:0<places$}");
    let (kept, dropped) = padded.split_at(places);
    let mut picos: u128 = format!("0{whole}{kept}").parse().ok()?;
    let dropped = dropped.trim_end_matches('0');
    if dropped.as_bytes().first().is_some_and(|&d| d >= b'5') {
        picos += 1;
    }
    let picos = i128::try_from(picos).ok()?;
    Some((
        Usd::from_picos(if negative { -picos } else { picos }),
        !dropped.is_empty(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_distinct_even_where_providers_spell_alike() {
        let stems = distinct_stems(
            [
                "", ".hidden", "A", "a", "a/b", "a?b", "a_b", "a_b-2", "openai",
            ]
            .into_iter(),
        );
        assert_eq!(
            stems,
            [
                "_", "_.hidden", "A", "a-2", "a_b", "a_b-3", "a_b-4", "a_b-2", "openai"
            ]
        );
        let lower: std::collections::HashSet<String> =
            stems.iter().map(|s| s.to_ascii_lowercase()).collect();
        assert_eq!(lower.len(), stems.len());
    }

    #[test]
    fn per_token_floats_become_exact_prices_per_million() {
        for (per_token, per_million) in [
            (2.5e-06, "2.5"),
            (1e-05, "10"),
            (1.875e-07, "0.1875"),
            (6.25e-08, "0.0625"),
            (3.3e-06, "3.3"),
            (0.0, "0"),
        ] {
            let (usd, rounded) = scale(&per_token.to_string(), 6).unwrap();
            assert_eq!(usd.to_string(), per_million, "{per_token}");
            assert!(!rounded);
        }
    }

    #[test]
    fn finer_than_a_picodollar_rounds_half_up_with_carry() {
        let (usd, rounded) = scale("0.0000009999999999999999", 6).unwrap();
        assert_eq!((usd.to_string().as_str(), rounded), ("1", true));
        let (usd, rounded) = scale("0.000000020833333333333334", 6).unwrap();
        assert_eq!(
            (usd.to_string().as_str(), rounded),
            ("0.020833333333", true)
        );
        assert_eq!(scale("0.002", 0).unwrap().0.to_string(), "0.002");
    }

    #[test]
    fn decodes_tiers_and_bands_from_field_names() {
        let f =
            decode("cache_creation_input_token_cost_above_1hr_above_200k_tokens_batches").unwrap();
        assert_eq!(
            (f.kind, f.above, f.tier),
            (3, Some(200_000), ServiceTier::Batch)
        );
        let f = decode("input_cost_per_token_above_272k_tokens").unwrap();
        assert_eq!(
            (f.kind, f.above, f.tier),
            (0, Some(272_000), ServiceTier::Standard)
        );
        assert!(decode("input_cost_per_token_ultrafast").is_none());
        assert!(decode("cache_creation_input_token_cost_above_12hr").is_none());
        assert!(decode("input_cost_per_image").is_none());
    }

    #[test]
    fn skips_what_it_cannot_price_and_says_why() {
        let json = r#"{
            "sample_spec": {"mode": "one of ..."},
            "a": {"litellm_provider": "x", "mode": "image_generation", "output_cost_per_image": 0.04},
            "b": {"litellm_provider": "x", "mode": "chat"},
            "c": {"mode": "chat", "input_cost_per_token": 1e-6},
            "d": {"litellm_provider": "x", "input_cost_per_token": "free"},
            "e": [1, 2],
            "f": {"litellm_provider": "x", "input_cost_per_token": -1e-6},
            "g": {"litellm_provider": "x", "input_cost_per_token": 1e-6, "input_cost_per_pixel": 1e-9}
        }"#;
        let import = import(json, "2025-01-01".parse().unwrap()).unwrap();
        let skipped: Vec<&str> = import.skipped.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(skipped, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(import.entries.len(), 1);
        assert_eq!(import.ignored_fields.get("input_cost_per_pixel"), Some(&1));
        assert!(
            import.skipped[5].reason.contains("negative"),
            "{:?}",
            import.skipped[5]
        );
    }
}
