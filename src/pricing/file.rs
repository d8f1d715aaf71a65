//! Reading the TOML table format into [`ModelEntry`] values, remembering
//! the line of every field so that problems can name it.
//!
//! The format (one file per provider under `pricing/`):
//!
//! ```toml
//! provider = "openai"              # default for the models below
//!
//! [[model]]
//! key = "gpt-4o"                   # canonical name
//! mode = "chat"                    # chat | completion | embedding | rerank
//! context_window = 128000
//! max_output = 16384
//! aliases = ["gpt-4o-2024-08-06"]  # other exact names
//! patterns = []                    # regexes matching whole names
//!
//! [[model.price]]                  # one per price version
//! effective = 2024-10-02           # first day (UTC) these prices apply
//! source = "https://openai.com/api/pricing/"
//! input = 2.50                     # USD per 1M tokens
//! cached_input = 1.25
//! output = 10.00
//! batch = { input = 1.25, output = 5.00 }
//! ```
//!
//! A version may end with `until = DATE` (exclusive) when it had no
//! successor; versions must not overlap. `pricing/README.md` has the full
//! reference and the review rules.
//!
//! Prices: `input`, `cached_input`, `cache_write` (5 minute), `cache_write_1h`,
//! `output`, `reasoning` (defaults to `output`), all per 1M tokens, and
//! `per_request` in USD per call. A version may add long-context bands
//! (`[[model.price.above]]` with `input_tokens = 200000` and the prices that
//! change) and service tiers (`batch`, `flex`, `priority`, each listing the
//! prices that differ from standard, with `above` bands of their own). A
//! tier that lists no band for one of standard's thresholds is priced at the
//! standard long-context rates above it: a discount is applied only where
//! the table states it.

use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::error::Problem;
use super::model::{LongContext, Mode, ModelEntry, PriceVersion, Rates, ServiceTier, TierRates};
use super::{Date, Usd};

/// A model entry read from a file, with where each of its fields was.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub(crate) entry: ModelEntry,
    pub(crate) lines: FieldLines,
}

/// Lines of an entry's fields, by path (`price[0].batch.input`).
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldLines {
    entry: Option<usize>,
    fields: HashMap<String, usize>,
}

impl FieldLines {
    /// The line of `path`, or of the entry when the field has none.
    pub(crate) fn line(&self, path: &str) -> Option<usize> {
        self.fields.get(path).copied().or(self.entry)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    provider: Option<Spanned<String>>,
    #[serde(default)]
    model: Vec<Spanned<ModelSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelSpec {
    key: Spanned<String>,
    provider: Option<Spanned<String>>,
    mode: Spanned<ModeSpec>,
    context_window: Option<Spanned<u64>>,
    max_output: Option<Spanned<u64>>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    #[serde(default)]
    patterns: Vec<Spanned<String>>,
    deprecated: Option<Spanned<DateSpec>>,
    #[serde(default)]
    price: Vec<Spanned<VersionSpec>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ModeSpec {
    Chat,
    Completion,
    Embedding,
    Rerank,
}

impl From<ModeSpec> for Mode {
    fn from(mode: ModeSpec) -> Mode {
        match mode {
            ModeSpec::Chat => Mode::Chat,
            ModeSpec::Completion => Mode::Completion,
            ModeSpec::Embedding => Mode::Embedding,
            ModeSpec::Rerank => Mode::Rerank,
        }
    }
}

type PriceField = Option<Spanned<PriceSpec>>;

// The seven price fields are spelled out in each of the three tables below:
// serde cannot combine `flatten` with `deny_unknown_fields`, and a typo in a
// price name must be an error, not a price silently left out.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionSpec {
    effective: Spanned<DateSpec>,
    until: Option<Spanned<DateSpec>>,
    source: Spanned<String>,
    input: PriceField,
    cached_input: PriceField,
    cache_write: PriceField,
    cache_write_1h: PriceField,
    output: PriceField,
    reasoning: PriceField,
    per_request: PriceField,
    #[serde(default)]
    above: Vec<Spanned<AboveSpec>>,
    batch: Option<Spanned<TierSpec>>,
    flex: Option<Spanned<TierSpec>>,
    priority: Option<Spanned<TierSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TierSpec {
    input: PriceField,
    cached_input: PriceField,
    cache_write: PriceField,
    cache_write_1h: PriceField,
    output: PriceField,
    reasoning: PriceField,
    per_request: PriceField,
    #[serde(default)]
    above: Vec<Spanned<AboveSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AboveSpec {
    input_tokens: Spanned<u64>,
    input: PriceField,
    cached_input: PriceField,
    cache_write: PriceField,
    cache_write_1h: PriceField,
    output: PriceField,
    reasoning: PriceField,
    per_request: PriceField,
}

/// The seven price fields of a table in the order of [`Rates::fields`].
macro_rules! price_fields {
    ($spec:expr) => {
        [
            ("input", &$spec.input),
            ("cached_input", &$spec.cached_input),
            ("cache_write", &$spec.cache_write),
            ("cache_write_1h", &$spec.cache_write_1h),
            ("output", &$spec.output),
            ("reasoning", &$spec.reasoning),
            ("per_request", &$spec.per_request),
        ]
    };
}

/// A date written as a TOML date (`2024-10-02`) or a string (`"2024-10-02"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum DateSpec {
    Toml(toml::value::Datetime),
    Text(String),
}

/// A price as written: a TOML number or a decimal string, kept as text so
/// that it converts to [`Usd`] exactly.
struct PriceSpec(String);

impl<'de> Deserialize<'de> for PriceSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = PriceSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a price in USD (a number such as 2.50, or a decimal string)")
            }
            // `f64`'s Display is the shortest text that reads back as the
            // same number, so `0.075` comes back as "0.075", not 0.07499...
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<PriceSpec, E> {
                Ok(PriceSpec(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PriceSpec, E> {
                Ok(PriceSpec(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PriceSpec, E> {
                Ok(PriceSpec(v.to_string()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PriceSpec, E> {
                Ok(PriceSpec(v.to_owned()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Reads one table file. Returns the entries that converted cleanly and
/// every problem found; a syntax or shape error stops at the first.
pub(crate) fn parse(file: &str, source: &str) -> (Vec<Located>, Vec<Problem>) {
    let spec: FileSpec = match toml::from_str(source) {
        Ok(spec) => spec,
        Err(error) => return (Vec::new(), vec![syntax_problem(file, source, error)]),
    };
    let file_provider = spec
        .provider
        .as_ref()
        .map(|p| p.get_ref().trim().to_owned());
    let newlines = Newlines::of(source);
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    for model in &spec.model {
        let mut conv = Converter {
            file,
            newlines: &newlines,
            problems: Vec::new(),
            entry: model.get_ref().key.get_ref().clone(),
            lines: FieldLines {
                entry: Some(newlines.line(model.span().start)),
                fields: HashMap::new(),
            },
        };
        let entry = conv.model(model.get_ref(), file_provider.as_deref());
        if conv.problems.is_empty() {
            entries.push(Located {
                entry,
                lines: conv.lines,
            });
        } else {
            problems.append(&mut conv.problems);
        }
    }
    (entries, problems)
}

/// Converts one `[[model]]` table, noting lines and conversion problems.
struct Converter<'a> {
    file: &'a str,
    newlines: &'a Newlines,
    problems: Vec<Problem>,
    entry: String,
    lines: FieldLines,
}

impl Converter<'_> {
    fn note(&mut self, path: &str, span: Range<usize>) -> usize {
        let line = self.newlines.line(span.start);
        self.lines.fields.insert(path.to_owned(), line);
        line
    }

    fn problem(&mut self, path: &str, span: Range<usize>, message: impl Into<String>) {
        let line = self.note(path, span);
        self.problems.push(
            Problem::new(self.file, message)
                .line(Some(line))
                .entry(Some(&self.entry))
                .field(path),
        );
    }

    fn model(&mut self, spec: &ModelSpec, file_provider: Option<&str>) -> ModelEntry {
        self.note("key", spec.key.span());
        let provider = match (&spec.provider, file_provider) {
            (Some(provider), _) => {
                self.note("provider", provider.span());
                provider.get_ref().trim().to_owned()
            }
            (None, Some(provider)) => provider.to_owned(),
            (None, None) => String::new(), // reported by validation
        };
        self.note("mode", spec.mode.span());
        let mut entry = ModelEntry::new(
            spec.key.get_ref().clone(),
            provider,
            (*spec.mode.get_ref()).into(),
        );
        if let Some(tokens) = &spec.context_window {
            self.note("context_window", tokens.span());
            entry.context_window = Some(*tokens.get_ref());
        }
        if let Some(tokens) = &spec.max_output {
            self.note("max_output", tokens.span());
            entry.max_output = Some(*tokens.get_ref());
        }
        for (i, alias) in spec.aliases.iter().enumerate() {
            self.note(&format!("aliases[{i}]"), alias.span());
            entry.aliases.push(alias.get_ref().clone());
        }
        for (i, pattern) in spec.patterns.iter().enumerate() {
            self.note(&format!("patterns[{i}]"), pattern.span());
            entry.patterns.push(pattern.get_ref().clone());
        }
        if let Some(date) = &spec.deprecated {
            entry.deprecated = self.date("deprecated", date);
        }
        for (i, version) in spec.price.iter().enumerate() {
            let path = format!("price[{i}]");
            self.note(&path, version.span());
            if let Some(version) = self.version(&path, version.get_ref()) {
                entry.versions.push(version);
            }
        }
        entry
    }

    fn version(&mut self, path: &str, spec: &VersionSpec) -> Option<PriceVersion> {
        let effective = self.date(&format!("{path}.effective"), &spec.effective);
        let until = spec
            .until
            .as_ref()
            .map(|until| self.date(&format!("{path}.until"), until));
        self.note(&format!("{path}.source"), spec.source.span());
        let rates = self.rates(path, price_fields!(spec));
        let above = self.bands(path, &spec.above);
        let until = match until {
            Some(until) => Some(until?),
            None => None,
        };
        let mut version = PriceVersion::new(effective?, spec.source.get_ref().trim(), rates);
        version.until = until;
        version.standard.above = above;
        for (tier, spec) in [
            (ServiceTier::Batch, &spec.batch),
            (ServiceTier::Flex, &spec.flex),
            (ServiceTier::Priority, &spec.priority),
        ] {
            if let Some(spec) = spec {
                let tier_path = format!("{path}.{tier}");
                self.note(&tier_path, spec.span());
                let rates = self.rates(&tier_path, price_fields!(spec.get_ref()));
                let above = self.bands(&tier_path, &spec.get_ref().above);
                version = version.service_tier(tier, TierRates { rates, above });
            }
        }
        Some(version)
    }

    fn bands(&mut self, path: &str, specs: &[Spanned<AboveSpec>]) -> Vec<LongContext> {
        let mut bands = Vec::with_capacity(specs.len());
        for (i, band) in specs.iter().enumerate() {
            let band_path = format!("{path}.above[{i}]");
            self.note(&band_path, band.span());
            let spec = band.get_ref();
            self.note(
                &format!("{band_path}.input_tokens"),
                spec.input_tokens.span(),
            );
            let rates = self.rates(&band_path, price_fields!(spec));
            bands.push(LongContext::new(*spec.input_tokens.get_ref(), rates));
        }
        bands
    }

    fn rates(&mut self, path: &str, fields: [(&str, &PriceField); 7]) -> Rates {
        let mut prices = [None; 7];
        for (slot, (name, field)) in prices.iter_mut().zip(fields) {
            let Some(field) = field else { continue };
            let field_path = format!("{path}.{name}");
            match field.get_ref().0.parse::<Usd>() {
                Ok(price) => {
                    self.note(&field_path, field.span());
                    *slot = Some(price);
                }
                Err(error) => self.problem(&field_path, field.span(), error.to_string()),
            }
        }
        Rates::from_fields(prices)
    }

    fn date(&mut self, path: &str, spec: &Spanned<DateSpec>) -> Option<Date> {
        let text = match spec.get_ref() {
            DateSpec::Toml(datetime) if datetime.time.is_some() || datetime.offset.is_some() => {
                self.problem(
                    path,
                    spec.span(),
                    format!("`{datetime}` has a time of day; write a date such as 2024-10-02"),
                );
                return None;
            }
            DateSpec::Toml(datetime) => datetime.to_string(),
            DateSpec::Text(text) => text.clone(),
        };
        match text.trim().parse::<Date>() {
            Ok(date) => {
                self.note(path, spec.span());
                Some(date)
            }
            Err(error) => {
                self.problem(path, spec.span(), error.to_string());
                None
            }
        }
    }
}

/// Where a file's lines start, to turn byte offsets into line numbers in
/// O(log n) (an imported table has tens of thousands of fields).
struct Newlines(Vec<usize>);

impl Newlines {
    fn of(source: &str) -> Newlines {
        Newlines(
            source
                .bytes()
                .enumerate()
                .filter_map(|(i, b)| (b == b'\n').then_some(i))
                .collect(),
        )
    }

    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

/// The 1-based line of a byte offset, for one-off lookups.
fn line_of(source: &str, offset: usize) -> usize {
    Newlines::of(source).line(offset)
}

/// A problem for a TOML syntax error or a value of the wrong shape, naming
/// the model entry it is in (found by reading the file loosely) and the
/// field path toml reports.
fn syntax_problem(file: &str, source: &str, error: toml::de::Error) -> Problem {
    let span = error.span();
    let line = span.as_ref().map(|s| line_of(source, s.start));
    let entry = span.as_ref().and_then(|s| entry_at(source, s.start));
    let mut path =
        error_path(&error).or_else(|| span.as_ref().and_then(|s| lexical_path(source, s.start)));
    let message = error.message().trim().to_owned();
    // toml names the table an unknown field was found in; add the field.
    if let Some(unknown) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        path = Some(match path {
            Some(table) => format!("{table}.{unknown}"),
            None => unknown.to_owned(),
        });
    }
    // Paths inside an entry are written relative to it, as elsewhere.
    let path = path.map(|p| match (&entry, p.strip_prefix("model.")) {
        (Some(_), Some(inner)) => inner.to_owned(),
        _ => p,
    });
    let mut problem = Problem::new(file, message)
        .line(line)
        .entry(entry.as_deref());
    if let Some(path) = path {
        problem = problem.field(path);
    }
    problem
}

/// The dotted key path toml attaches to a deserialization error, which it
/// prints as a last line ``in `a.b.c` `` when it has no input to quote.
fn error_path(error: &toml::de::Error) -> Option<String> {
    let mut bare = error.clone();
    bare.set_input(None);
    let text = bare.to_string();
    let last = text.trim_end().lines().last()?;
    let path = last.strip_prefix("in `")?.strip_suffix('`')?;
    (!path.is_empty()).then(|| path.to_owned())
}

/// For errors toml finds before it knows any keys (a malformed value): the
/// key on the error's line, under the last table header above it.
fn lexical_path(source: &str, offset: usize) -> Option<String> {
    let before = &source[..offset.min(source.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = source[line_start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    let table = before[..line_start].lines().rev().find_map(|l| {
        let l = l.trim();
        l.strip_prefix("[[")
            .and_then(|h| h.strip_suffix("]]"))
            .or_else(|| l.strip_prefix('[').and_then(|h| h.strip_suffix(']')))
            .map(str::trim)
    });
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_owned(),
    })
}

/// The key of the `[[model]]` table containing `offset`: read loosely
/// (ignoring every field but `key`), or, if the file does not parse at all,
/// the first `key = "..."` line after the last `[[model]]` header above it.
fn entry_at(source: &str, offset: usize) -> Option<String> {
    entry_at_parsed(source, offset).or_else(|| entry_at_lexical(source, offset))
}

fn entry_at_lexical(source: &str, offset: usize) -> Option<String> {
    let before = &source[..offset.min(source.len())];
    let header = before.rfind("[[model]]")?;
    source[header..].lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once('=')?;
        if key.trim() != "key" {
            return None;
        }
        let value = value.trim();
        let quoted = value
            .strip_prefix('"')
            .and_then(|v| v.split_once('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.split_once('\'')))?;
        Some(quoted.0.to_owned())
    })
}

fn entry_at_parsed(source: &str, offset: usize) -> Option<String> {
    #[derive(Deserialize)]
    struct Outline {
        #[serde(default)]
        model: Vec<Spanned<OutlineModel>>,
    }
    #[derive(Deserialize)]
    struct OutlineModel {
        key: Option<toml::Value>,
    }
    let outline: Outline = toml::from_str(source).ok()?;
    let model = outline
        .model
        .iter()
        .rev()
        .find(|model| model.span().start <= offset)?;
    match model.get_ref().key.as_ref()? {
        toml::Value::String(key) => Some(key.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(source: &str) -> Problem {
        let (entries, problems) = parse("t.toml", source);
        assert!(entries.is_empty() || !problems.is_empty(), "parsed cleanly");
        assert_eq!(problems.len(), 1, "{problems:#?}");
        problems.into_iter().next().unwrap()
    }

    #[test]
    fn reads_prices_exactly_from_numbers_and_strings() {
        let source = r#"
provider = "openai"
[[model]]
key = "m"
mode = "chat"
[[model.price]]
effective = 2024-10-02
source = "https://example.com/p"
input = 0.075
cached_input = "0.0375"
output = 3
batch = { input = 0.0375 }
[[model.price.above]]
input_tokens = 200000
input = 0.15
"#;
        let (entries, problems) = parse("t.toml", source);
        assert!(problems.is_empty(), "{problems:?}");
        let entry = &entries[0].entry;
        assert_eq!(entry.provider, "openai");
        let version = &entry.versions[0];
        assert_eq!(version.standard.rates.input, Some("0.075".parse().unwrap()));
        assert_eq!(
            version.standard.rates.cached_input,
            Some("0.0375".parse().unwrap())
        );
        assert_eq!(version.standard.rates.output, Some("3".parse().unwrap()));
        assert_eq!(version.standard.above[0].above_input_tokens, 200_000);
        assert_eq!(
            version.batch.as_ref().unwrap().rates.input,
            Some("0.0375".parse().unwrap())
        );
        assert_eq!(entries[0].lines.line("price[0].cached_input"), Some(10));
    }

    #[test]
    fn a_bad_price_names_line_entry_and_field() {
        let p = one(
            "[[model]]\nkey = \"m\"\nmode = \"chat\"\n[[model.price]]\neffective = 2024-10-02\nsource = \"https://x\"\nbatch = { input = \"1.2.3\" }\n",
        );
        assert_eq!(p.line, Some(7));
        assert_eq!(p.entry.as_deref(), Some("m"));
        assert_eq!(p.field.as_deref(), Some("price[0].batch.input"));
    }

    #[test]
    fn an_unknown_field_names_its_path() {
        let p = one(
            "[[model]]\nkey = \"m\"\nmode = \"chat\"\n[[model.price]]\neffective = 2024-10-02\nsource = \"https://x\"\ninptu = 1\n",
        );
        assert_eq!(p.line, Some(7));
        assert_eq!(p.entry.as_deref(), Some("m"));
        assert_eq!(p.field.as_deref(), Some("price.inptu"));
        assert!(p.message.contains("unknown field `inptu`"), "{}", p.message);
    }

    #[test]
    fn a_date_with_a_time_is_refused() {
        let p = one(
            "[[model]]\nkey = \"m\"\nmode = \"chat\"\n[[model.price]]\neffective = 2024-10-02T10:00:00Z\nsource = \"https://x\"\n",
        );
        assert_eq!(p.field.as_deref(), Some("price[0].effective"));
        assert_eq!(p.line, Some(5));
    }
}
