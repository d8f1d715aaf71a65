//! [`PriceTable`]: the loaded price table, and the [`Pricer`] it implements.

use std::time::SystemTime;

use super::compile::{Band, Compiled, first_time};
use super::date::unix_seconds;
use super::error::LoadError;
use super::load::PriceTableBuilder;
use super::matcher::{MatchedBy, Matcher, WarnOnce};
use super::model::{ModelEntry, PriceVersion, Rates, ServiceTier, version_index};
use super::{Cost, PriceRequest, Pricer, compute};

/// A loaded price table: model entries, the name index, and the pricing
/// engine. Implements [`Pricer`], so it plugs straight into
/// [`Options::pricer`](crate::instrument::Options::pricer).
///
/// Tables are built in layers, later layers winning: the built-in files
/// (compiled into the crate from `pricing/*.toml`), then override
/// directories and TOML texts in the order given, then entries built in
/// code. An entry in a later layer replaces the earlier entry with the same
/// key, and its names take precedence.
///
/// Matching uses the model name only; [`PriceRequest::provider`] is not
/// consulted (prices that differ by cloud, such as Bedrock's regional
/// endpoints, are entries of their own under the cloud's model ids).
///
/// Entry keys, version dates and tier names are interned for the life of
/// the process, so the provenance of a priced span is three pointer copies;
/// each distinct string is kept once however often tables are rebuilt.
///
/// ```
/// use std::time::SystemTime;
/// use ragtrace::pricing::{CostStatus, PriceRequest, PriceTable, Pricer, Usd};
/// use ragtrace::steps::{StepKind, Usage};
///
/// let table = PriceTable::builtin();
/// // 1,200 input tokens of which 1,024 cached, 80 output tokens.
/// let usage = Usage::new(1_200, 80).with_cache_read(1_024);
/// let cost = table.price(&PriceRequest::new("gpt-4o-mini", StepKind::Chat, &usage, SystemTime::now()));
/// assert_eq!(cost.status, CostStatus::Priced);
/// // 176 x 0.15 + 1,024 x 0.075 + 80 x 0.60, per 1M tokens.
/// assert_eq!(cost.total, "0.0001512".parse::<Usd>().unwrap());
/// assert_eq!(cost.model_key.as_deref(), Some("gpt-4o-mini"));
/// ```
pub struct PriceTable {
    models: Vec<Compiled>,
    matcher: Matcher,
    warned: WarnOnce,
}

impl PriceTable {
    /// The built-in table (the `pricing/*.toml` files compiled into the crate).
    pub fn builtin() -> PriceTable {
        // The built-in files are part of the crate and checked by its tests.
        PriceTable::builder()
            .build()
            .expect("the built-in price table is valid")
    }

    /// The built-in table with the directory in `RAGTRACE_PRICING_DIR`
    /// (if set) layered over it.
    pub fn from_env() -> Result<PriceTable, LoadError> {
        PriceTable::builder().env_dir().build()
    }

    /// A builder, starting from the built-in table.
    pub fn builder() -> PriceTableBuilder {
        PriceTableBuilder::new()
    }

    pub(crate) fn new(models: Vec<Compiled>, matcher: Matcher) -> PriceTable {
        PriceTable {
            models,
            matcher,
            warned: WarnOnce::new(),
        }
    }

    /// How many model entries the table holds.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// `true` when the table holds no entries.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// Every entry, in load order.
    pub fn entries(&self) -> impl Iterator<Item = &ModelEntry> {
        self.models.iter().map(|m| &m.entry)
    }

    /// Finds the entry for a model name the way pricing does, and says how.
    pub fn resolve(&self, model: &str) -> Option<Match<'_>> {
        self.find(model).map(|(_, matched)| matched)
    }

    /// The spellings of `model` that matching tries, in order: the name
    /// itself, then its normalized forms (see [`PriceTable::resolve`]).
    pub fn spellings(model: &str) -> Vec<String> {
        std::iter::once(model.to_owned())
            .chain(super::normalize::candidates(model))
            .collect()
    }

    fn find(&self, model: &str) -> Option<(&Compiled, Match<'_>)> {
        let found = self.matcher.find(model)?;
        let compiled = self.models.get(found.entry as usize)?;
        let matched = Match {
            entry: &compiled.entry,
            origin: &compiled.origin,
            spelling: found.spelling,
            by: found.by,
        };
        Some((compiled, matched))
    }

    /// The prices that apply to a call of `model` at `at`, served in
    /// `service_tier`, with `input_tokens` of input: the entry, version,
    /// tier and complete rates (long-context and service-tier prices
    /// already folded in). `None` if the model is unknown or no version is
    /// in force.
    pub fn quote(
        &self,
        model: &str,
        at: SystemTime,
        service_tier: Option<&str>,
        input_tokens: u64,
    ) -> Option<Quote<'_>> {
        let (compiled, matched) = self.find(model)?;
        let index = version_index(&compiled.versions, unix_seconds(at), |v| (v.from, v.until))?;
        let (tier, fell_back) = self.tier(compiled, index, service_tier, false);
        let band = band(&compiled.versions[index].tiers[tier.index()], input_tokens);
        Some(Quote {
            matched,
            version: &compiled.entry.versions[index],
            service_tier: if band.standard_fallback {
                ServiceTier::Standard
            } else {
                tier
            },
            fell_back_to_standard: fell_back || band.standard_fallback,
            tier: band.name.to_string(),
            rates: band.rates,
        })
    }

    /// The tier to price in, and whether the one asked for was not offered.
    fn tier(
        &self,
        compiled: &Compiled,
        version: usize,
        asked: Option<&str>,
        warn: bool,
    ) -> (ServiceTier, bool) {
        let Some(name) = asked else {
            return (ServiceTier::Standard, false);
        };
        let Some(tier) = ServiceTier::parse(name) else {
            if warn && self.warned.first(&format!("tier\0{name}")) {
                tracing::warn!(
                    target: "ragtrace::pricing",
                    service_tier = name,
                    "unknown service tier; pricing at standard rates"
                );
            }
            return (ServiceTier::Standard, true);
        };
        if compiled.versions[version].tiers[tier.index()].is_empty() {
            if warn && first_time(&compiled.warned_tier[tier.index()]) {
                tracing::warn!(
                    target: "ragtrace::pricing",
                    model_key = &*compiled.key,
                    service_tier = tier.as_str(),
                    "the price table lists no prices for this service tier; pricing at standard rates"
                );
            }
            return (ServiceTier::Standard, true);
        }
        (tier, false)
    }
}

/// The band for a call with `input_tokens` of input.
#[inline]
fn band(bands: &[Band], input_tokens: u64) -> &Band {
    bands
        .iter()
        .rev()
        .find(|b| input_tokens > b.above)
        .unwrap_or(&bands[0])
}

impl Pricer for PriceTable {
    fn price(&self, request: &PriceRequest<'_>) -> Cost {
        let (found, fresh) = self.matcher.resolve(request.model);
        let Some(compiled) = found.and_then(|i| self.models.get(i as usize)) else {
            if fresh && self.warned.first(request.model) {
                tracing::warn!(
                    target: "ragtrace::pricing",
                    model = request.model,
                    "no price for this model: its cost is recorded as unpriced, not zero"
                );
            }
            return Cost::unpriced();
        };
        let at = unix_seconds(request.at);
        let Some(index) = version_index(&compiled.versions, at, |v| (v.from, v.until)) else {
            if first_time(&compiled.warned_no_version) {
                tracing::warn!(
                    target: "ragtrace::pricing",
                    model_key = &*compiled.key,
                    "the price table has no price in force at the call's time"
                );
            }
            return Cost::unpriced();
        };
        let (tier, _) = self.tier(compiled, index, request.service_tier, true);
        let version = &compiled.versions[index];
        let band = band(&version.tiers[tier.index()], request.usage.input_tokens);
        if band.standard_fallback && first_time(&band.warned) {
            tracing::warn!(
                target: "ragtrace::pricing",
                model_key = &*compiled.key,
                service_tier = tier.as_str(),
                band = &*band.name,
                "the price table lists no prices for this service tier above this input size; \
                 pricing at standard long-context rates"
            );
        }
        compute::cost(&band.rates, request.usage).with_provenance(
            compiled.key.clone(),
            version.label.clone(),
            band.name.clone(),
        )
    }
}

impl std::fmt::Debug for PriceTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PriceTable")
            .field("models", &self.models.len())
            .field("names", &self.matcher.names())
            .finish_non_exhaustive()
    }
}

/// An entry a name resolved to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Match<'a> {
    /// The entry.
    pub entry: &'a ModelEntry,
    /// The file it came from (`pricing/openai.toml`, a path, or `<code>`).
    pub origin: &'a str,
    /// The spelling that matched: the name itself, or a normalized form
    /// (prefix, region or snapshot removed).
    pub spelling: String,
    /// Whether that spelling is the entry's key, an alias, or matched a pattern.
    pub by: MatchedBy,
}

/// The prices that apply to one call, with where they came from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Quote<'a> {
    /// The entry and how the name matched it.
    pub matched: Match<'a>,
    /// The price version in force.
    pub version: &'a PriceVersion,
    /// The service tier priced.
    pub service_tier: ServiceTier,
    /// `true` when the tier asked for is unknown or not offered (at this
    /// input size), so standard rates apply.
    pub fell_back_to_standard: bool,
    /// The tier name recorded in provenance (`standard`, `batch+above_200k`).
    pub tier: String,
    /// The complete rates that apply.
    pub rates: Rates,
}
