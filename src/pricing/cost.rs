//! The cost hook: [`Pricer`], what it is asked ([`PriceRequest`]) and what it answers ([`Cost`]).

use std::time::SystemTime;

use super::{Label, Usd};
use crate::steps::{StepKind, Usage};

/// Prices a model call. The wrappers call it once per priced span; the
/// pricing engine implements it, and so can anything else (a flat internal
/// rate, a negotiated contract).
///
/// Implementations must be cheap and must not block: they run on the request
/// path. They never fail: a model they cannot price is [`CostStatus::Unpriced`].
pub trait Pricer: Send + Sync + 'static {
    /// The cost of `request.usage` for `request.model` at `request.at`.
    fn price(&self, request: &PriceRequest<'_>) -> Cost;
}

impl<F> Pricer for F
where
    F: Fn(&PriceRequest<'_>) -> Cost + Send + Sync + 'static,
{
    fn price(&self, request: &PriceRequest<'_>) -> Cost {
        self(request)
    }
}

/// What a [`Pricer`] is asked to price.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PriceRequest<'a> {
    /// The model as the provider named it in its answer, or as requested.
    pub model: &'a str,
    /// The provider (`gen_ai.provider.name`), when known.
    pub provider: Option<&'a str>,
    /// The step that made the call.
    pub step: StepKind,
    /// The usage to price.
    pub usage: &'a Usage,
    /// When the call started (UTC): the price in force then applies.
    pub at: SystemTime,
    /// The service tier that served the call (`batch`, `flex`, `priority`), if any.
    pub service_tier: Option<&'a str>,
}

impl<'a> PriceRequest<'a> {
    /// A request to price `usage` of `model`, made by `step` at `at`.
    pub fn new(model: &'a str, step: StepKind, usage: &'a Usage, at: SystemTime) -> Self {
        PriceRequest {
            model,
            provider: None,
            step,
            usage,
            at,
            service_tier: None,
        }
    }

    /// Sets the provider.
    pub fn provider(mut self, provider: &'a str) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Sets the service tier.
    pub fn service_tier(mut self, tier: &'a str) -> Self {
        self.service_tier = Some(tier);
        self
    }
}

/// Whether a span's cost is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum CostStatus {
    /// Every token was priced.
    Priced,
    /// Some usage kinds had no price (e.g. cache writes for a model whose
    /// entry lists none); the total covers the rest.
    Partial,
    /// Nothing could be priced (unknown model, or no pricer): the cost is
    /// unknown, not zero.
    #[default]
    Unpriced,
}

impl CostStatus {
    /// `priced`, `partial` or `unpriced`, as recorded in `ragtrace.cost.status`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CostStatus::Priced => "priced",
            CostStatus::Partial => "partial",
            CostStatus::Unpriced => "unpriced",
        }
    }

    /// The status of a sum: priced only if every part was priced, unpriced
    /// only if no part was.
    pub const fn combine(self, other: CostStatus) -> CostStatus {
        match (self, other) {
            (CostStatus::Priced, CostStatus::Priced) => CostStatus::Priced,
            (CostStatus::Unpriced, CostStatus::Unpriced) => CostStatus::Unpriced,
            _ => CostStatus::Partial,
        }
    }
}

impl std::fmt::Display for CostStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The cost of one call, split by usage kind, with where the price came from.
///
/// `total` is the sum of the parts. `input` covers uncached input only and
/// `output` visible output only, so no token is charged twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cost {
    /// Whether the cost is known.
    pub status: CostStatus,
    /// The whole cost.
    pub total: Usd,
    /// Uncached input tokens.
    pub input: Usd,
    /// Input tokens read from cache.
    pub cached_input: Usd,
    /// Input tokens written to cache (both lifetimes).
    pub cache_write: Usd,
    /// Visible (non-reasoning) output tokens.
    pub output: Usd,
    /// Reasoning output tokens.
    pub reasoning: Usd,
    /// Per-request or per-query charges (rerank, search units).
    pub per_request: Usd,
    /// The price entry matched (`ragtrace.cost.model_key`).
    pub model_key: Option<Label>,
    /// The effective date of the price version used (`ragtrace.cost.price_version`).
    pub price_version: Option<Label>,
    /// The pricing tier applied, e.g. `standard`, `batch`, `above_200k` (`ragtrace.cost.tier`).
    pub tier: Option<Label>,
}

impl Cost {
    /// The cost of something that could not be priced.
    pub fn unpriced() -> Self {
        Cost::default()
    }

    /// A priced cost from its parts; the total is their sum.
    pub fn from_parts(
        input: Usd,
        cached_input: Usd,
        cache_write: Usd,
        output: Usd,
        reasoning: Usd,
    ) -> Self {
        Cost {
            status: CostStatus::Priced,
            total: input + cached_input + cache_write + output + reasoning,
            input,
            cached_input,
            cache_write,
            output,
            reasoning,
            ..Cost::default()
        }
    }

    /// Adds a per-request charge.
    pub fn with_per_request(mut self, amount: Usd) -> Self {
        self.per_request = amount;
        self.total = self.input
            + self.cached_input
            + self.cache_write
            + self.output
            + self.reasoning
            + amount;
        self
    }

    /// Sets the status (e.g. [`CostStatus::Partial`]).
    pub fn with_status(mut self, status: CostStatus) -> Self {
        self.status = status;
        self
    }

    /// Records where the price came from.
    pub fn with_provenance(
        mut self,
        model_key: impl Into<Label>,
        price_version: impl Into<Label>,
        tier: impl Into<Label>,
    ) -> Self {
        self.model_key = Some(model_key.into());
        self.price_version = Some(price_version.into());
        self.tier = Some(tier.into());
        self
    }
}
