//! The price table's data model: a [`ModelEntry`] per model, holding dated
//! [`PriceVersion`]s, each with [`Rates`] per service tier and input size.
//!
//! These are plain values: the TOML files under `pricing/` load into them,
//! and programs can build them directly for custom or fine-tuned models.

use std::fmt;
use std::str::FromStr;

use super::{Date, Usd};

/// What kind of call a model serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Mode {
    /// Chat or responses API: input and output tokens.
    Chat,
    /// Legacy text completions: input and output tokens.
    Completion,
    /// Embeddings: input tokens only.
    Embedding,
    /// Reranking: per query and/or per token.
    Rerank,
}

impl Mode {
    /// Every mode, in the order listed in the docs.
    pub const ALL: [Mode; 4] = [Mode::Chat, Mode::Completion, Mode::Embedding, Mode::Rerank];

    /// `chat`, `completion`, `embedding` or `rerank`, as written in table files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Chat => "chat",
            Mode::Completion => "completion",
            Mode::Embedding => "embedding",
            Mode::Rerank => "rerank",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Mode, String> {
        Mode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == s)
            .ok_or_else(|| {
                format!("unknown mode `{s}`, expected one of chat, completion, embedding, rerank")
            })
    }
}

/// Prices for each kind of usage: USD per 1M tokens, as vendors publish
/// them, and USD per request. `None` means the table lists no price for
/// that kind (a call that uses it is then [partially priced](super::CostStatus::Partial)).
///
/// ```
/// use ragtrace::pricing::{Rates, Usd};
///
/// let usd = |s: &str| s.parse::<Usd>().unwrap();
/// let rates = Rates::new().input(usd("2.50")).cached_input(usd("1.25")).output(usd("10"));
/// assert_eq!(rates.reasoning_or_output(), Some(usd("10")));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Rates {
    /// Uncached input tokens.
    pub input: Option<Usd>,
    /// Input tokens read from the prompt cache.
    pub cached_input: Option<Usd>,
    /// Input tokens written to the prompt cache with the default (five-minute) lifetime.
    pub cache_write: Option<Usd>,
    /// Input tokens written to the prompt cache with a one-hour lifetime.
    pub cache_write_1h: Option<Usd>,
    /// Visible output tokens (and reasoning tokens, unless `reasoning` is set).
    pub output: Option<Usd>,
    /// Reasoning output tokens, when priced differently from output.
    pub reasoning: Option<Usd>,
    /// A flat charge per call (a rerank query, a search unit). USD, not per 1M.
    pub per_request: Option<Usd>,
}

impl Rates {
    /// No prices.
    pub const fn new() -> Self {
        Rates {
            input: None,
            cached_input: None,
            cache_write: None,
            cache_write_1h: None,
            output: None,
            reasoning: None,
            per_request: None,
        }
    }

    /// Sets the input price (per 1M tokens).
    pub const fn input(mut self, price: Usd) -> Self {
        self.input = Some(price);
        self
    }

    /// Sets the cached-read price (per 1M tokens).
    pub const fn cached_input(mut self, price: Usd) -> Self {
        self.cached_input = Some(price);
        self
    }

    /// Sets the five-minute cache-write price (per 1M tokens).
    pub const fn cache_write(mut self, price: Usd) -> Self {
        self.cache_write = Some(price);
        self
    }

    /// Sets the one-hour cache-write price (per 1M tokens).
    pub const fn cache_write_1h(mut self, price: Usd) -> Self {
        self.cache_write_1h = Some(price);
        self
    }

    /// Sets the output price (per 1M tokens).
    pub const fn output(mut self, price: Usd) -> Self {
        self.output = Some(price);
        self
    }

    /// Sets the reasoning price (per 1M tokens), when it differs from output.
    pub const fn reasoning(mut self, price: Usd) -> Self {
        self.reasoning = Some(price);
        self
    }

    /// Sets the flat per-call price (USD).
    pub const fn per_request(mut self, price: Usd) -> Self {
        self.per_request = Some(price);
        self
    }

    /// The price of reasoning tokens: the reasoning price, else the output price.
    pub const fn reasoning_or_output(&self) -> Option<Usd> {
        match self.reasoning {
            Some(price) => Some(price),
            None => self.output,
        }
    }

    /// `true` when no price is set.
    pub const fn is_empty(&self) -> bool {
        self.input.is_none()
            && self.cached_input.is_none()
            && self.cache_write.is_none()
            && self.cache_write_1h.is_none()
            && self.output.is_none()
            && self.reasoning.is_none()
            && self.per_request.is_none()
    }

    /// These rates with every price `over` sets replacing ours.
    pub fn overlay(&self, over: &Rates) -> Rates {
        Rates {
            input: over.input.or(self.input),
            cached_input: over.cached_input.or(self.cached_input),
            cache_write: over.cache_write.or(self.cache_write),
            cache_write_1h: over.cache_write_1h.or(self.cache_write_1h),
            output: over.output.or(self.output),
            reasoning: over.reasoning.or(self.reasoning),
            per_request: over.per_request.or(self.per_request),
        }
    }

    /// Rates from prices in the order of [`fields`](Self::fields).
    pub(crate) const fn from_fields(prices: [Option<Usd>; 7]) -> Rates {
        let [
            input,
            cached_input,
            cache_write,
            cache_write_1h,
            output,
            reasoning,
            per_request,
        ] = prices;
        Rates {
            input,
            cached_input,
            cache_write,
            cache_write_1h,
            output,
            reasoning,
            per_request,
        }
    }

    /// Each price with its field name as written in table files, in that order.
    pub fn fields(&self) -> [(&'static str, Option<Usd>); 7] {
        [
            ("input", self.input),
            ("cached_input", self.cached_input),
            ("cache_write", self.cache_write),
            ("cache_write_1h", self.cache_write_1h),
            ("output", self.output),
            ("reasoning", self.reasoning),
            ("per_request", self.per_request),
        ]
    }
}

/// Prices that apply to a whole call when its input exceeds a threshold
/// (e.g. Gemini 2.5 Pro above 200k input tokens). Lists only the prices
/// that differ from the band below.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LongContext {
    /// The band applies when a call's input tokens are strictly more than this.
    pub above_input_tokens: u64,
    /// The prices that change above the threshold.
    pub rates: Rates,
}

impl LongContext {
    /// `rates` for calls with more than `above_input_tokens` input tokens.
    pub const fn new(above_input_tokens: u64, rates: Rates) -> Self {
        LongContext {
            above_input_tokens,
            rates,
        }
    }

    /// The tier name recorded in provenance, e.g. `above_200k`.
    pub fn name(&self) -> String {
        threshold_name(self.above_input_tokens)
    }
}

/// `above_200k` for 200,000; `above_1500` for 1,500.
pub(crate) fn threshold_name(tokens: u64) -> String {
    if tokens >= 1000 && tokens.is_multiple_of(1000) {
        format!("above_{}k", tokens / 1000)
    } else {
        format!("above_{tokens}")
    }
}

/// One service tier's prices: base rates and long-context bands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TierRates {
    /// Prices for calls at or below every threshold.
    pub rates: Rates,
    /// Long-context bands, ascending by threshold.
    pub above: Vec<LongContext>,
}

impl TierRates {
    /// Tier prices with no long-context bands.
    pub fn new(rates: Rates) -> Self {
        TierRates {
            rates,
            above: Vec::new(),
        }
    }

    /// Adds a long-context band.
    pub fn above(mut self, input_tokens: u64, rates: Rates) -> Self {
        self.above.push(LongContext::new(input_tokens, rates));
        self
    }
}

/// A service tier a provider can serve a call in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ServiceTier {
    /// The default tier (OpenAI `default`/`auto`, Anthropic `standard`).
    Standard,
    /// Batch APIs (asynchronous, typically 50% off).
    Batch,
    /// OpenAI and Gemini flex processing (slower, cheaper).
    Flex,
    /// Priority processing (faster, dearer).
    Priority,
}

impl ServiceTier {
    /// Every tier, standard first.
    pub const ALL: [ServiceTier; 4] = [
        ServiceTier::Standard,
        ServiceTier::Batch,
        ServiceTier::Flex,
        ServiceTier::Priority,
    ];

    /// `standard`, `batch`, `flex` or `priority`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceTier::Standard => "standard",
            ServiceTier::Batch => "batch",
            ServiceTier::Flex => "flex",
            ServiceTier::Priority => "priority",
        }
    }

    /// Reads the service tier a provider reported (or the caller asked for),
    /// ignoring ASCII case. The standard tier goes by many names (`default`,
    /// `auto`, `standard`, `standard_only`, `on_demand`); `None` means the
    /// name is not one ragtrace knows.
    pub fn parse(name: &str) -> Option<ServiceTier> {
        const STANDARD: [&str; 6] = [
            "standard",
            "default",
            "auto",
            "standard_only",
            "on_demand",
            "",
        ];
        let is = |candidate: &str| name.eq_ignore_ascii_case(candidate);
        if STANDARD.iter().any(|s| is(s)) {
            Some(ServiceTier::Standard)
        } else if is("batch") || is("batches") {
            Some(ServiceTier::Batch)
        } else if is("flex") {
            Some(ServiceTier::Flex)
        } else if is("priority") {
            Some(ServiceTier::Priority)
        } else {
            None
        }
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            ServiceTier::Standard => 0,
            ServiceTier::Batch => 1,
            ServiceTier::Flex => 2,
            ServiceTier::Priority => 3,
        }
    }
}

impl fmt::Display for ServiceTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The prices of a model from a date on, with the source they came from.
///
/// A version applies from its `effective` date (midnight UTC) until the
/// next version's, or until `until` if set. A call before an entry's first
/// version (or in a gap after an `until`) is unpriced: the table does not
/// claim to know the price then, rather than charge today's price for it.
///
/// ```
/// use ragtrace::pricing::{Date, PriceVersion, Rates, ServiceTier, TierRates, Usd};
///
/// let usd = |s: &str| s.parse::<Usd>().unwrap();
/// let version = PriceVersion::new(
///     "2025-06-17".parse::<Date>().unwrap(),
///     "https://ai.google.dev/gemini-api/docs/pricing",
///     Rates::new().input(usd("1.25")).output(usd("10")),
/// )
/// .above(200_000, Rates::new().input(usd("2.50")).output(usd("15")))
/// .service_tier(ServiceTier::Batch, TierRates::new(Rates::new().input(usd("0.625")).output(usd("5"))));
/// assert!(version.tier(ServiceTier::Batch).is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PriceVersion {
    /// The first day these prices apply.
    pub effective: Date,
    /// The first day they no longer apply, if they ended without a successor.
    pub until: Option<Date>,
    /// Where the prices were published.
    pub source: String,
    /// Standard-tier prices.
    pub standard: TierRates,
    /// Batch-tier prices, if offered. Lists only what differs from standard.
    pub batch: Option<TierRates>,
    /// Flex-tier prices, if offered. Lists only what differs from standard.
    pub flex: Option<TierRates>,
    /// Priority-tier prices, if offered. Lists only what differs from standard.
    pub priority: Option<TierRates>,
}

impl PriceVersion {
    /// Standard prices `rates` in force from `effective`, published at `source`.
    pub fn new(effective: Date, source: impl Into<String>, rates: Rates) -> Self {
        PriceVersion {
            effective,
            until: None,
            source: source.into(),
            standard: TierRates::new(rates),
            batch: None,
            flex: None,
            priority: None,
        }
    }

    /// Ends this version on `until` (exclusive).
    pub fn until(mut self, until: Date) -> Self {
        self.until = Some(until);
        self
    }

    /// Adds a standard-tier long-context band.
    pub fn above(mut self, input_tokens: u64, rates: Rates) -> Self {
        self.standard
            .above
            .push(LongContext::new(input_tokens, rates));
        self
    }

    /// Sets a service tier's prices (replacing standard's when `tier` is
    /// [`ServiceTier::Standard`]).
    pub fn service_tier(mut self, tier: ServiceTier, rates: TierRates) -> Self {
        match tier {
            ServiceTier::Standard => self.standard = rates,
            ServiceTier::Batch => self.batch = Some(rates),
            ServiceTier::Flex => self.flex = Some(rates),
            ServiceTier::Priority => self.priority = Some(rates),
        }
        self
    }

    /// A service tier's prices, if this version lists it.
    pub fn tier(&self, tier: ServiceTier) -> Option<&TierRates> {
        match tier {
            ServiceTier::Standard => Some(&self.standard),
            ServiceTier::Batch => self.batch.as_ref(),
            ServiceTier::Flex => self.flex.as_ref(),
            ServiceTier::Priority => self.priority.as_ref(),
        }
    }
}

/// One model in the price table: how to recognise it and what it cost when.
///
/// ```
/// use ragtrace::pricing::{Date, ModelEntry, Mode, PriceVersion, Rates, Usd};
///
/// let usd = |s: &str| s.parse::<Usd>().unwrap();
/// let entry = ModelEntry::new("ft:gpt-4o-mini-2024-07-18:acme::b7x2", "openai", Mode::Chat)
///     .alias("acme-support-bot")
///     .version(PriceVersion::new(
///         "2024-07-18".parse::<Date>().unwrap(),
///         "https://openai.com/api/pricing/",
///         Rates::new().input(usd("0.30")).cached_input(usd("0.15")).output(usd("1.20")),
///     ));
/// assert_eq!(entry.names().count(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ModelEntry {
    /// The canonical name, recorded as `ragtrace.cost.model_key`.
    pub key: String,
    /// Who serves it (`openai`, `anthropic`, `aws.bedrock`, ...).
    pub provider: String,
    /// What kind of calls it serves.
    pub mode: Mode,
    /// Maximum input tokens, when published.
    pub context_window: Option<u64>,
    /// Maximum output tokens, when published.
    pub max_output: Option<u64>,
    /// Other exact names for the same prices (dated snapshots, cloud spellings).
    pub aliases: Vec<String>,
    /// Regular expressions that must match a whole model name.
    pub patterns: Vec<String>,
    /// When the provider retires (or retired) the model, if announced.
    pub deprecated: Option<Date>,
    /// Price versions, ascending by effective date.
    pub versions: Vec<PriceVersion>,
}

impl ModelEntry {
    /// An entry with no names but `key` and no prices yet.
    pub fn new(key: impl Into<String>, provider: impl Into<String>, mode: Mode) -> Self {
        ModelEntry {
            key: key.into(),
            provider: provider.into(),
            mode,
            context_window: None,
            max_output: None,
            aliases: Vec::new(),
            patterns: Vec::new(),
            deprecated: None,
            versions: Vec::new(),
        }
    }

    /// Adds an exact alias.
    pub fn alias(mut self, name: impl Into<String>) -> Self {
        self.aliases.push(name.into());
        self
    }

    /// Adds a pattern (a regular expression matched against the whole name).
    pub fn pattern(mut self, regex: impl Into<String>) -> Self {
        self.patterns.push(regex.into());
        self
    }

    /// Sets the context window.
    pub fn context_window(mut self, tokens: u64) -> Self {
        self.context_window = Some(tokens);
        self
    }

    /// Sets the maximum output.
    pub fn max_output(mut self, tokens: u64) -> Self {
        self.max_output = Some(tokens);
        self
    }

    /// Sets the deprecation date.
    pub fn deprecated(mut self, date: Date) -> Self {
        self.deprecated = Some(date);
        self
    }

    /// Adds a price version.
    pub fn version(mut self, version: PriceVersion) -> Self {
        self.versions.push(version);
        self
    }

    /// The key followed by the aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.key.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// The version in force on `date`, by the rule in [`PriceVersion`]'s docs.
    pub fn version_on(&self, date: Date) -> Option<&PriceVersion> {
        let index = version_index(&self.versions, date.start_seconds(), |v| {
            (
                v.effective.start_seconds(),
                v.until.map(Date::start_seconds),
            )
        })?;
        self.versions.get(index)
    }
}

/// The index of the version in force at `at` (seconds since the epoch):
/// the last one that started at or before `at`; `None` if there is none or
/// it ended before `at`. `versions` is sorted by start.
#[inline]
pub(crate) fn version_index<V>(
    versions: &[V],
    at: i64,
    bounds: impl Fn(&V) -> (i64, Option<i64>),
) -> Option<usize> {
    let started = versions.iter().rposition(|v| bounds(v).0 <= at)?;
    let (_, until) = bounds(&versions[started]);
    match until {
        Some(end) if at >= end => None,
        _ => Some(started),
    }
}
