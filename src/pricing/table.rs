//! [`PriceTable`]: the loaded price table, and the [`Pricer`] it implements.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use rustc_hash::FxHashMap;

use super::date::unix_seconds;
use super::error::{LoadError, Problem};
use super::file::{self, FieldLines, Located};
use super::label::intern;
use super::matcher::{MatchedBy, Matcher, WarnOnce};
use super::model::{ModelEntry, PriceVersion, Rates, ServiceTier, threshold_name, version_index};
use super::{Cost, Label, PriceRequest, Pricer, builtin, compute, validate};

/// The environment variable naming a directory of table files that
/// override the built-in ones (read by [`PriceTable::from_env`]).
pub const PRICING_DIR_ENV: &str = "RAGTRACE_PRICING_DIR";

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

/// An entry ready to price: versions sorted, tiers flattened into bands.
struct Compiled {
    entry: ModelEntry,
    origin: Arc<str>,
    key: Label,
    versions: Vec<CompiledVersion>,
    /// Warned that a call fell outside every version.
    warned_no_version: AtomicBool,
    /// Warned that a service tier was asked for but not listed (by tier index).
    warned_tier: [AtomicBool; 4],
}

/// `true` the first time it is called for `flag`. One plain load on the
/// hot path once the warning was given.
fn first_time(flag: &AtomicBool) -> bool {
    !flag.load(Ordering::Relaxed) && !flag.swap(true, Ordering::Relaxed)
}

struct CompiledVersion {
    from: i64,
    until: Option<i64>,
    label: Label,
    /// Bands per service tier (by [`ServiceTier::index`]); empty when the
    /// version does not offer the tier.
    tiers: [Vec<Band>; 4],
}

/// The complete rates for calls above an input-size threshold in one tier.
struct Band {
    above: u64,
    rates: Rates,
    name: Label,
    /// The tier lists no prices for this long-context band, so these are
    /// the standard tier's (see [`bands`]).
    standard_fallback: bool,
    /// Warned about that fallback.
    warned: AtomicBool,
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
        PriceTableBuilder {
            builtin: true,
            layers: Vec::new(),
            code: Vec::new(),
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

/// Builds a [`PriceTable`] from layers; see [`PriceTable`] for how they combine.
///
/// ```
/// use ragtrace::pricing::{Date, ModelEntry, Mode, PriceTable, PriceVersion, Rates, Usd};
///
/// let usd = |s: &str| s.parse::<Usd>().unwrap();
/// let table = PriceTable::builder()
///     .toml(
///         "team.toml",
///         r#"
/// provider = "internal"
/// [[model]]
/// key = "house-llm"
/// mode = "chat"
/// [[model.price]]
/// effective = 2025-01-01
/// source = "https://wiki.example.com/llm-chargeback"
/// input = 0.40
/// output = 1.60
/// "#,
///     )
///     .model(ModelEntry::new("ft:gpt-4o-mini-2024-07-18:acme::x1", "openai", Mode::Chat).version(
///         PriceVersion::new(
///             "2024-07-18".parse::<Date>().unwrap(),
///             "https://openai.com/api/pricing/",
///             Rates::new().input(usd("0.30")).output(usd("1.20")),
///         ),
///     ))
///     .build()
///     .unwrap();
/// assert!(table.resolve("house-llm").is_some());
/// assert!(table.resolve("gpt-4o").is_some());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct PriceTableBuilder {
    builtin: bool,
    layers: Vec<LayerSource>,
    code: Vec<ModelEntry>,
}

#[derive(Debug, Clone)]
enum LayerSource {
    Dir(PathBuf),
    EnvDir,
    Toml { name: String, text: String },
}

impl PriceTableBuilder {
    /// Leaves out the built-in files (start from an empty table).
    pub fn without_builtin(mut self) -> Self {
        self.builtin = false;
        self
    }

    /// Layers every `*.toml` file in `dir` (read at [`build`](Self::build), in name order).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.layers.push(LayerSource::Dir(dir.into()));
        self
    }

    /// Layers the directory named by `RAGTRACE_PRICING_DIR`, if it is set
    /// and not empty (read at [`build`](Self::build)).
    pub fn env_dir(mut self) -> Self {
        self.layers.push(LayerSource::EnvDir);
        self
    }

    /// Layers one table file's text; `name` is used in error messages.
    pub fn toml(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.layers.push(LayerSource::Toml {
            name: name.into(),
            text: text.into(),
        });
        self
    }

    /// Adds an entry built in code (custom or fine-tuned models). Entries
    /// added this way form the top layer.
    pub fn model(mut self, entry: ModelEntry) -> Self {
        self.code.push(entry);
        self
    }

    /// Loads and checks every layer. Fails with every problem found, each
    /// naming its file, line, entry and field.
    pub fn build(self) -> Result<PriceTable, LoadError> {
        let mut problems = Vec::new();
        let mut layers: Vec<Vec<Sourced>> = Vec::new();
        if self.builtin {
            let (entries, builtin_problems) = builtin::entries();
            problems.extend(builtin_problems);
            layers.push(entries);
        }
        for source in &self.layers {
            let files = match source {
                LayerSource::Dir(dir) => read_dir(dir, &mut problems),
                LayerSource::EnvDir => match std::env::var_os(PRICING_DIR_ENV) {
                    Some(dir) if !dir.is_empty() => read_dir(Path::new(&dir), &mut problems),
                    _ => continue,
                },
                LayerSource::Toml { name, text } => vec![(name.clone(), text.clone())],
            };
            layers.push(parse_files(&files, &mut problems));
        }
        if !self.code.is_empty() {
            let origin: Arc<str> = Arc::from(CODE_ORIGIN);
            layers.push(
                self.code
                    .into_iter()
                    .map(|entry| Sourced {
                        origin: Arc::clone(&origin),
                        located: Located {
                            entry,
                            lines: FieldLines::default(),
                        },
                    })
                    .collect(),
            );
        }
        for layer in &layers {
            check_layer(layer, &mut problems);
        }
        if !problems.is_empty() {
            return Err(LoadError::new(problems));
        }
        compile(layers)
    }
}

const CODE_ORIGIN: &str = "<code>";

/// An entry and the file it came from.
#[derive(Clone)]
pub(crate) struct Sourced {
    pub(crate) origin: Arc<str>,
    pub(crate) located: Located,
}

/// Parses table files (name, text) into one layer.
pub(crate) fn parse_files(files: &[(String, String)], problems: &mut Vec<Problem>) -> Vec<Sourced> {
    let mut layer = Vec::new();
    for (name, text) in files {
        let origin: Arc<str> = Arc::from(name.as_str());
        let (entries, file_problems) = file::parse(name, text);
        problems.extend(file_problems);
        layer.extend(entries.into_iter().map(|located| Sourced {
            origin: Arc::clone(&origin),
            located,
        }));
    }
    layer
}

/// The `*.toml` files of `dir`, in name order.
fn read_dir(dir: &Path, problems: &mut Vec<Problem>) -> Vec<(String, String)> {
    let shown = dir.display().to_string();
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(error) => {
            problems.push(Problem::new(
                &shown,
                format!("cannot read the pricing directory: {error}"),
            ));
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = listing
        .filter_map(|item| item.ok().map(|item| item.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml") && path.is_file())
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((name, text)),
            Err(error) => problems.push(Problem::new(&name, format!("cannot read: {error}"))),
        }
    }
    files
}

/// Validates each entry, and checks no two entries of one layer share a name.
pub(crate) fn check_layer(layer: &[Sourced], problems: &mut Vec<Problem>) {
    let mut owners: FxHashMap<&str, (&str, &str)> = FxHashMap::default();
    for sourced in layer {
        let entry = &sourced.located.entry;
        let lines = &sourced.located.lines;
        problems.extend(validate::validate(entry, &sourced.origin, &|path| {
            lines.line(path)
        }));
        for (i, name) in entry.names().enumerate() {
            if let Some((file, key)) = owners.insert(name, (&sourced.origin, &entry.key)) {
                let path = if i == 0 {
                    "key".to_owned()
                } else {
                    format!("aliases[{}]", i - 1)
                };
                problems.push(
                    Problem::new(
                        &sourced.origin,
                        format!("the name `{name}` is already used by model `{key}` in {file}"),
                    )
                    .line(lines.line(&path))
                    .entry(Some(&entry.key))
                    .field(path),
                );
            }
        }
    }
}

/// Merges checked layers (later winning) and builds the index.
fn compile(layers: Vec<Vec<Sourced>>) -> Result<PriceTable, LoadError> {
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
    Ok(PriceTable {
        models,
        matcher,
        warned: WarnOnce::new(),
    })
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
            let mut rates = standard.rates;
            for band in standard
                .above
                .iter()
                .filter(|b| b.above_input_tokens <= above)
            {
                rates = rates.overlay(&band.rates);
            }
            if let Some(own) = extra {
                rates = rates.overlay(&own.rates);
                for band in own.above.iter().filter(|b| b.above_input_tokens <= above) {
                    rates = rates.overlay(&band.rates);
                }
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
                // Standard's own flattened band at this threshold.
                let mut rates = standard.rates;
                for band in standard
                    .above
                    .iter()
                    .filter(|b| b.above_input_tokens <= above)
                {
                    rates = rates.overlay(&band.rates);
                }
                return Band {
                    above,
                    rates,
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
