//! Turning checked layers into a [`PriceTable`]: merging entries (later
//! layers win), building the name index, and flattening each price version
//! into complete rates per service tier and input-size band, so pricing a
//! span only picks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustc_hash::FxHashMap;

use super::error::{LoadError, Problem};
use super::label::intern;
use super::load::Sourced;
use super::matcher::Matcher;
use super::model::{ModelEntry, PriceVersion, Rates, ServiceTier, TierRates, threshold_name};
use super::table::PriceTable;
use super::{Label, validate};

/// An entry ready to price: versions sorted, tiers flattened into bands.
pub(crate) struct Compiled {
    pub(crate) entry: ModelEntry,
    pub(crate) origin: Arc<str>,
    pub(crate) key: Label,
    pub(crate) versions: Vec<CompiledVersion>,
    /// Warned that a call fell outside every version.
    pub(crate) warned_no_version: AtomicBool,
    /// Warned that a service tier was asked for but not listed (by tier index).
    pub(crate) warned_tier: [AtomicBool; 4],
}

/// `true` the first time it is called for `flag`. One plain load on the
/// hot path once the warning was given.
pub(crate) fn first_time(flag: &AtomicBool) -> bool {
    !flag.load(Ordering::Relaxed) && !flag.swap(true, Ordering::Relaxed)
}

/// One price version, ready to price.
pub(crate) struct CompiledVersion {
    pub(crate) from: i64,
    pub(crate) until: Option<i64>,
    pub(crate) label: Label,
    /// Bands per service tier (by [`ServiceTier::index`]); empty when the
    /// version does not offer the tier.
    pub(crate) tiers: [Vec<Band>; 4],
}

/// The complete rates for calls above an input-size threshold in one tier.
pub(crate) struct Band {
    pub(crate) above: u64,
    pub(crate) rates: Rates,
    pub(crate) name: Label,
    /// The tier lists no prices for this long-context band, so these are
    /// the standard tier's (see [`bands`]).
    pub(crate) standard_fallback: bool,
    /// Warned about that fallback.
    pub(crate) warned: AtomicBool,
}

/// Merges checked layers (later winning) and builds the index.
pub(crate) fn compile(layers: Vec<Vec<Sourced>>) -> Result<PriceTable, LoadError> {
    // Later layers replace earlier entries with the same key, in place.
    let mut models: Vec<(usize, Sourced)> = Vec::new();
    let mut by_key: FxHashMap<String, usize> = FxHashMap::default();
    for (layer, entries) in layers.into_iter().enumerate() {
        for sourced in entries {
            match by_key.get(&sourced.located.entry.key) {
                Some(&slot) => models[slot] = (layer, sourced),
                None => {
                    by_key.insert(sourced.located.entry.key.clone(), models.len());
                    models.push((layer, sourced));
                }
            }
        }
    }
    // Names from later layers overwrite: insert in layer order.
    let mut order: Vec<usize> = (0..models.len()).collect();
    order.sort_by_key(|&i| models[i].0);
    let mut names = Vec::new();
    let mut patterns = Vec::new();
    for &i in &order {
        let entry = &models[i].1.located.entry;
        let id = i as u32;
        names.extend(
            entry
                .names()
                .enumerate()
                .map(|(n, name)| (name.to_owned(), id, n > 0)),
        );
    }
    // Patterns: later layers first, then table order.
    for &i in order.iter().rev() {
        let entry = &models[i].1.located.entry;
        for written in &entry.patterns {
            // Validated already; a failure here would be a bug, reported as a problem.
            match validate::compile_pattern(written) {
                Ok(regex) => patterns.push((regex, written.clone(), i as u32)),
                Err(message) => {
                    return Err(LoadError::new(vec![
                        Problem::new(&models[i].1.origin, message)
                            .entry(Some(&entry.key))
                            .field("patterns"),
                    ]));
                }
            }
        }
    }
    let matcher = Matcher::new(names, patterns).map_err(|error| {
        LoadError::new(vec![Problem::new(
            "<table>",
            format!("the table's patterns together are too large to compile: {error}"),
        )])
    })?;
    let models = models
        .into_iter()
        .map(|(_, sourced)| compile_entry(sourced))
        .collect();
    Ok(PriceTable::new(models, matcher))
}

fn compile_entry(sourced: Sourced) -> Compiled {
    let mut entry = sourced.located.entry;
    entry.versions.sort_by_key(|v| v.effective);
    let versions = entry
        .versions
        .iter()
        .map(|version| CompiledVersion {
            from: version.effective.start_seconds(),
            until: version.until.map(|d| d.start_seconds()),
            label: intern(&version.effective.to_string()),
            tiers: ServiceTier::ALL.map(|tier| bands(version, tier)),
        })
        .collect();
    Compiled {
        key: intern(&entry.key),
        origin: sourced.origin,
        entry,
        versions,
        warned_no_version: AtomicBool::new(false),
        warned_tier: Default::default(),
    }
}

/// Flattens a tier into complete rates per input-size band. A band's rates
/// are standard's base, then standard's long-context bands up to it, then
/// the tier's base and its bands up to it, each overriding what it lists.
///
/// A service tier that does not list a long-context band the standard tier
/// has is not known to apply above that threshold (a batch discount may or
/// may not stack on long-context rates): such calls are priced at the
/// standard band and flagged, never at a discount the table does not state.
fn bands(version: &PriceVersion, tier: ServiceTier) -> Vec<Band> {
    let Some(own) = version.tier(tier) else {
        return Vec::new();
    };
    let standard = &version.standard;
    let extra = (tier != ServiceTier::Standard).then_some(own);
    let mut thresholds: Vec<u64> = standard
        .above
        .iter()
        .chain(extra.iter().flat_map(|t| t.above.iter()))
        .map(|band| band.above_input_tokens)
        .collect();
    thresholds.sort_unstable();
    thresholds.dedup();
    std::iter::once(0)
        .chain(thresholds)
        .map(|above| {
            let mut rates = flatten(standard, above);
            if let Some(own) = extra {
                rates = rates.overlay(&flatten(own, above));
            }
            let uncovered = extra.is_some_and(|own| {
                standard.above.iter().any(|band| {
                    band.above_input_tokens <= above
                        && !own
                            .above
                            .iter()
                            .any(|b| b.above_input_tokens == band.above_input_tokens)
                })
            });
            if uncovered {
                return Band {
                    above,
                    rates: flatten(standard, above),
                    name: intern(&threshold_name(above)),
                    standard_fallback: true,
                    warned: AtomicBool::new(false),
                };
            }
            let name = match (tier, above) {
                (ServiceTier::Standard, 0) => "standard".to_owned(),
                (ServiceTier::Standard, above) => threshold_name(above),
                (tier, 0) => tier.as_str().to_owned(),
                (tier, above) => format!("{tier}+{}", threshold_name(above)),
            };
            Band {
                above,
                rates,
                name: intern(&name),
                standard_fallback: false,
                warned: AtomicBool::new(false),
            }
        })
        .collect()
}

/// A tier's base rates with each of its bands up to `above` laid over them.
fn flatten(tier: &TierRates, above: u64) -> Rates {
    tier.above
        .iter()
        .filter(|band| band.above_input_tokens <= above)
        .fold(tier.rates, |rates, band| rates.overlay(&band.rates))
}
