//! Retrieval drift: are this window's retrievals like the baseline's?
//!
//! [`drift`] splits retrievals into fixed windows (`1d` by default,
//! aligned to the Unix epoch, so days are UTC days), one series per
//! collection (or per span name), and compares each window with a
//! baseline of the same series: the [`Baseline::Rolling`] windows just
//! before it (7 by default) or one [`Baseline::Fixed`] time range.
//!
//! # What is measured
//!
//! Per window: retrievals, failed ones, the top-1 score's p10/p50/p90
//! (the rank-1 score `scores[0]`, else the producer's `top_score`), the
//! mean of the returned top-k scores, the rate of poor top-1 scores under
//! [`DriftOptions::low_score`] (above it for distances), the rate of empty
//! results, and the distinct documents retrieved. Against the baseline:
//!
//! - **PSI** of the top-1 score on ten bins at the baseline's deciles
//!   (scores are not always in `[0, 1]`: distances and BM25 are not;
//!   deciles put 10 % of the baseline in each bin whatever the scale),
//!   empty bins counted as 1e-4, with each bin's share so the bins that
//!   moved most can be shown;
//! - **KS**: the two-sample Kolmogorov–Smirnov `D` of the top-1 scores and
//!   its p-value (scipy's `ks_2samp` method: exact up to 10 000 values a
//!   side, see [`stats::ks_2samp`]);
//! - **JS**: the Jensen–Shannon divergence (base 2, in `[0, 1]`) of the
//!   retrieved-document frequencies, judged by its *excess*: the raw JS
//!   less the JS sampling alone would give an unchanged mix (with 300
//!   documents seen a few times each, identical mixes have a raw JS near
//!   0.1 bits; see [`stats::js_excess`]). Both are reported.
//!
//! Scores keep their own direction ([`ScoreKind`]): a distance series is
//! lower-is-better, so a rising median is a shift for the *worse*. When a
//! window's spans do not say, the direction is reported as unknown and
//! scores are read as similarities.
//!
//! # Verdicts and default thresholds
//!
//! Each metric's value falls in a band ([`Thresholds`]):
//!
//! | metric | warn at | alert at | reading |
//! |---|---|---|---|
//! | PSI (top-1 score) | 0.10 | 0.25 | the usual PSI bands |
//! | KS `D` (top-1 score) | 0.10 | 0.20 | a tenth (a fifth) of retrievals crossed some score |
//! | JS (documents, bits) | 0.10 | 0.20 | about 20 % (35 %) of the retrieved mass went to other documents |
//!
//! Verdicts rest on these effect sizes. A p-value only holds a band back:
//! a metric reaches warn or alert only if its p-value is under
//! [`Thresholds::significance`] (default 1e-4), so that chance differences
//! of small windows are not called drift. KS uses its own p-value; PSI
//! uses Pearson's chi-square test of the same bin counts (which, unlike
//! PSI's epsilon, an empty bin cannot blow up); JS a scaled chi-square
//! with its null mean and spread (Satterthwaite), the spread widened for
//! the worst case of
//! a retrieval's documents always coming together (a repeated query
//! brings the same documents), so that popular queries do not read as a
//! significant change. A band held back is reported (`held_back`) but
//! counts as ok.
//!
//! With three metrics at 1e-4 each, a month of 30 stable windows has under
//! a 1 % chance of any warning (`tests/analysis_drift.rs` checks that 30
//! stable days of 200 retrievals in three collections stay quiet, and a
//! unit test runs 25 such months at 200 and 25 at 50 retrievals a window:
//! no warning, and no JS excess above 0.05). Windows with fewer than
//! [`Thresholds::min_window`] (50: five expected per decile bin, the usual
//! floor for a chi-square test) scored retrievals, or whose baseline has
//! fewer than [`Thresholds::min_baseline`] (200), say
//! [`Verdict::InsufficientData`] instead of a verdict. A window still
//! open (it ends after the range's `until`, or after now) is reported but
//! does not count toward the series' or the overall verdict.
//!
//! # Memory
//!
//! Retrievals stream from [`TraceSource::retrievals`] in time order. Per
//! series, drift keeps the current window's top-1 scores (8 bytes per
//! scored retrieval) and document counts (one entry per distinct
//! document), the same for the baseline (the previous `N` windows, or the
//! fixed range), and the finished windows' fixed-size results; nothing
//! else grows with the number of retrievals.

mod table;

use std::collections::{HashMap, VecDeque};
use std::ops::ControlFlow;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::range::{TimeRange, from_nanos, to_nanos};
use super::requests::rfc3339;
use super::retrievals::RetrievalFact;
use super::source::{AnalysisError, TraceSource};
use super::stats::{self, KsMethod};
use crate::store::ScoreKind;

pub use table::render_table;

/// What a window is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Baseline {
    /// The given number of windows just before each window.
    Rolling {
        /// How many windows.
        windows: u32,
    },
    /// The retrievals that started in one range.
    Fixed(TimeRange),
}

/// How retrievals are split into series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SeriesBy {
    /// By collection (`db.collection.name` or `gen_ai.data_source.id`).
    Collection,
    /// By span name.
    Name,
}

/// The warn and alert levels of one metric (alert at or above `alert`,
/// warn at or above `warn`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Band {
    /// Warn at or above this.
    pub warn: f64,
    /// Alert at or above this.
    pub alert: f64,
}

impl Band {
    /// A band; `warn` must not exceed `alert`.
    pub fn new(warn: f64, alert: f64) -> Self {
        Band { warn, alert }
    }

    fn level(&self, value: f64) -> Level {
        if value >= self.alert {
            Level::Alert
        } else if value >= self.warn {
            Level::Warn
        } else {
            Level::Ok
        }
    }

    fn check(&self, name: &str) -> Result<(), AnalysisError> {
        if !(self.warn.is_finite() && self.alert.is_finite() && self.warn > 0.0)
            || self.warn > self.alert
        {
            return Err(AnalysisError::BadOption(format!(
                "{name} thresholds must be positive with warn ≤ alert (got warn {}, alert {})",
                self.warn, self.alert
            )));
        }
        Ok(())
    }
}

/// When a metric warns or alerts, and how much data a verdict needs.
/// The defaults are documented in the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Thresholds {
    /// PSI of the top-1 score (default 0.10 / 0.25).
    pub psi: Band,
    /// KS `D` of the top-1 score (default 0.10 / 0.20).
    pub ks_d: Band,
    /// JS divergence of the document mix, bits (default 0.10 / 0.20).
    pub js: Band,
    /// A band counts only when the metric's p-value is under this
    /// (default 1e-4).
    pub significance: f64,
    /// Fewest scored retrievals a window needs for a verdict (default 50).
    pub min_window: u64,
    /// Fewest scored retrievals its baseline needs (default 200).
    pub min_baseline: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            psi: Band::new(0.10, 0.25),
            ks_d: Band::new(0.10, 0.20),
            js: Band::new(0.10, 0.20),
            significance: 1e-4,
            min_window: 50,
            min_baseline: 200,
        }
    }
}

impl Thresholds {
    /// The PSI band.
    pub fn psi(mut self, band: Band) -> Self {
        self.psi = band;
        self
    }

    /// The KS `D` band.
    pub fn ks_d(mut self, band: Band) -> Self {
        self.ks_d = band;
        self
    }

    /// The JS band.
    pub fn js(mut self, band: Band) -> Self {
        self.js = band;
        self
    }

    /// The p-value a band must be under to count.
    pub fn significance(mut self, alpha: f64) -> Self {
        self.significance = alpha;
        self
    }

    /// The fewest scored retrievals of a window.
    pub fn min_window(mut self, retrievals: u64) -> Self {
        self.min_window = retrievals;
        self
    }

    /// The fewest scored retrievals of a baseline.
    pub fn min_baseline(mut self, retrievals: u64) -> Self {
        self.min_baseline = retrievals;
        self
    }

    fn check(&self) -> Result<(), AnalysisError> {
        self.psi.check("PSI")?;
        self.ks_d.check("KS D")?;
        self.js.check("JS")?;
        if !(self.significance > 0.0 && self.significance <= 1.0) {
            return Err(AnalysisError::BadOption(format!(
                "the significance level must be in (0, 1] (got {})",
                self.significance
            )));
        }
        if self.min_window == 0 || self.min_baseline == 0 {
            return Err(AnalysisError::BadOption(
                "the minimum window and baseline sizes must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// What [`drift`] computes.
///
/// ```
/// use std::time::Duration;
/// use ragtrace::analysis::{Baseline, DriftOptions, SeriesBy};
///
/// let options = DriftOptions::new()
///     .window(Duration::from_secs(3_600))
///     .baseline(Baseline::Rolling { windows: 24 })
///     .series_by(SeriesBy::Name)
///     .low_score(0.5);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DriftOptions {
    /// Window length (default one day).
    pub window: Duration,
    /// What each window is compared with (default the 7 windows before).
    pub baseline: Baseline,
    /// How retrievals split into series (default by collection).
    pub series_by: SeriesBy,
    /// The windows reported: from the one holding `since`, whole, to the
    /// one holding `until`, which is read only up to `until` (and then
    /// still open); default all.
    pub range: TimeRange,
    /// A top-1 score worse than this counts as low (unset by default).
    pub low_score: Option<f64>,
    /// Verdict thresholds.
    pub thresholds: Thresholds,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            window: Duration::from_secs(86_400),
            baseline: Baseline::Rolling { windows: 7 },
            series_by: SeriesBy::Collection,
            range: TimeRange::all(),
            low_score: None,
            thresholds: Thresholds::default(),
        }
    }
}

impl DriftOptions {
    /// Daily windows against the previous 7, by collection.
    pub fn new() -> Self {
        DriftOptions::default()
    }

    /// The window length.
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The baseline.
    pub fn baseline(mut self, baseline: Baseline) -> Self {
        self.baseline = baseline;
        self
    }

    /// How retrievals split into series.
    pub fn series_by(mut self, series_by: SeriesBy) -> Self {
        self.series_by = series_by;
        self
    }

    /// The windows reported.
    pub fn range(mut self, range: TimeRange) -> Self {
        self.range = range;
        self
    }

    /// The low-score line.
    pub fn low_score(mut self, score: f64) -> Self {
        self.low_score = Some(score);
        self
    }

    /// The verdict thresholds.
    pub fn thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// Checks the options as [`drift`] does, without reading anything.
    pub fn validate(&self) -> Result<(), AnalysisError> {
        if self.window < Duration::from_secs(1) {
            return Err(AnalysisError::BadOption(
                "the window must be at least one second".into(),
            ));
        }
        if let Baseline::Rolling { windows: 0 } = self.baseline {
            return Err(AnalysisError::BadOption(
                "the baseline needs at least one window".into(),
            ));
        }
        if let Baseline::Fixed(range) = self.baseline
            && (range.since.is_none() || range.until.is_none())
        {
            return Err(AnalysisError::BadOption(
                "a fixed baseline needs a start and an end".into(),
            ));
        }
        if self.low_score.is_some_and(|s| !s.is_finite()) {
            return Err(AnalysisError::BadOption(
                "the low-score line must be a number".into(),
            ));
        }
        self.thresholds.check()
    }
}

/// How a metric or a window stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// Too few retrievals (in the window or its baseline) for a verdict.
    InsufficientData,
    /// Within the warn threshold (or not established at this sample size).
    Ok,
    /// At or above the warn threshold, and established.
    Warn,
    /// At or above the alert threshold, and established.
    Alert,
}

impl Verdict {
    /// `ok`, `warn`, `alert` or `insufficient data`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::InsufficientData => "insufficient data",
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Alert => "alert",
        }
    }
}

/// The band a value falls in, before any significance gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Level {
    /// Under the warn threshold.
    Ok,
    /// In the warn band.
    Warn,
    /// In the alert band.
    Alert,
}

/// Which way the scores of a window (or series) point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScoreDirection {
    /// Higher is better (the spans said so).
    Similarity,
    /// Lower is better (the spans said so).
    Distance,
    /// The spans did not say; read as similarity.
    Unknown,
    /// The spans disagree; read as similarity.
    Mixed,
}

impl ScoreDirection {
    /// `similarity`, `distance`, `unknown` or `mixed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ScoreDirection::Similarity => "similarity",
            ScoreDirection::Distance => "distance",
            ScoreDirection::Unknown => "unknown",
            ScoreDirection::Mixed => "mixed",
        }
    }

    /// `true` if a lower score is better.
    pub fn lower_is_better(self) -> bool {
        self == ScoreDirection::Distance
    }
}

/// Which way the median top-1 score moved from the baseline's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Shift {
    /// Toward better matches.
    Better,
    /// Toward worse matches.
    Worse,
    /// Not at all.
    None,
}

/// p10, p50 and p90 (numpy's linear quantiles).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Quantiles {
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
}

impl Quantiles {
    fn of(sorted: &[f64]) -> Option<Quantiles> {
        Some(Quantiles {
            p10: stats::quantile(sorted, 0.1)?,
            p50: stats::quantile(sorted, 0.5)?,
            p90: stats::quantile(sorted, 0.9)?,
        })
    }
}

/// The baseline a window was compared with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BaselineSummary {
    /// Retrievals with a top-1 score.
    pub scored: u64,
    /// Its top-1 score quantiles (the band a chart draws).
    pub top1: Option<Quantiles>,
    /// Windows it spans (rolling), or 0 for a fixed range.
    pub windows: u32,
    /// Which way its scores point.
    pub direction: ScoreDirection,
}

/// One PSI bin: `[lower, upper)`, an open end as `None`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PsiBin {
    /// Lower edge (inclusive); `None` for the first bin.
    pub lower: Option<f64>,
    /// Upper edge (exclusive); `None` for the last bin.
    pub upper: Option<f64>,
    /// The baseline's fraction in the bin (empty as 1e-4).
    pub baseline: f64,
    /// The window's fraction in the bin (empty as 1e-4).
    pub window: f64,
    /// `(window - baseline) ln(window / baseline)`.
    pub contribution: f64,
}

/// A metric's value and how it stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Judged {
    /// The effect size.
    pub value: f64,
    /// The p-value of "no change" for this value at these sample sizes.
    pub p_value: f64,
    /// The band the value falls in.
    pub level: Level,
    /// `true` if the band is warn or alert but the p-value is not under
    /// the significance level, so it does not count.
    pub held_back: bool,
    /// What counts: the band, unless held back (then ok), or insufficient
    /// data when the window or baseline is too small.
    pub verdict: Verdict,
}

impl Judged {
    fn new(value: f64, p_value: f64, band: &Band, thresholds: &Thresholds, enough: bool) -> Self {
        let level = band.level(value);
        let established = p_value < thresholds.significance;
        let verdict = match (enough, level, established) {
            (false, _, _) => Verdict::InsufficientData,
            (true, Level::Ok, _) | (true, _, false) => Verdict::Ok,
            (true, Level::Warn, true) => Verdict::Warn,
            (true, Level::Alert, true) => Verdict::Alert,
        };
        Judged {
            value,
            p_value,
            level,
            held_back: enough && level != Level::Ok && !established,
            verdict,
        }
    }
}

/// PSI of the top-1 score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PsiMetric {
    /// The index and its verdict.
    #[serde(flatten)]
    pub judged: Judged,
    /// The bins, lowest scores first.
    pub bins: Vec<PsiBin>,
    /// Indexes into `bins` of the (up to three) bins that moved most.
    pub moved_most: Vec<usize>,
}

/// The two-sample KS test of the top-1 score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct KsMetric {
    /// `D` and its verdict.
    #[serde(flatten)]
    pub judged: Judged,
    /// How the p-value was computed.
    pub method: KsMethod,
}

/// JS divergence of the retrieved-document frequencies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct JsMetric {
    /// The divergence sampling does not explain (bits: the raw JS less
    /// its expected value for one unchanged mix), and its verdict.
    #[serde(flatten)]
    pub judged: Judged,
    /// JS (bits) of the observed document frequencies.
    pub raw: f64,
    /// What `raw` would be on average if the mix had not changed.
    pub null_mean: f64,
    /// Distinct documents in the window and baseline together.
    pub documents: u64,
}

/// Top-1 score histograms of a window and its baseline on equal-width
/// bins over both, for charts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ScoreHistogram {
    /// `bins + 1` ascending edges.
    pub edges: Vec<f64>,
    /// The baseline's fraction per bin.
    pub baseline: Vec<f64>,
    /// The window's fraction per bin.
    pub window: Vec<f64>,
}

/// One window of one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct WindowReport {
    /// Start (inclusive).
    #[serde(serialize_with = "rfc3339")]
    pub start: SystemTime,
    /// End (exclusive).
    #[serde(serialize_with = "rfc3339")]
    pub end: SystemTime,
    /// Which way its scores point.
    pub direction: ScoreDirection,
    /// Retrieval spans.
    pub retrievals: u64,
    /// Failed ones.
    pub errors: u64,
    /// Ones with a top-1 score.
    pub scored: u64,
    /// Top-1 score quantiles.
    pub top1: Option<Quantiles>,
    /// Mean over retrievals of the mean of their returned scores.
    pub mean_topk: Option<f64>,
    /// Share of scored retrievals whose top-1 is worse than the low-score
    /// line (when one is set).
    pub low_score_rate: Option<f64>,
    /// Share of retrievals that succeeded with no result.
    pub empty_rate: Option<f64>,
    /// Distinct documents retrieved.
    pub distinct_documents: u64,
    /// What it was compared with, if anything.
    pub baseline: Option<BaselineSummary>,
    /// Median top-1 minus the baseline's.
    pub median_shift: Option<f64>,
    /// Which way that is, in the scores' own direction.
    pub shift: Option<Shift>,
    /// PSI of the top-1 score.
    pub psi: Option<PsiMetric>,
    /// KS test of the top-1 score.
    pub ks: Option<KsMetric>,
    /// JS divergence of the document mix.
    pub js: Option<JsMetric>,
    /// Histograms of the window and its baseline.
    pub histogram: Option<ScoreHistogram>,
    /// `false` while the window is still open (it ends after `--until`, or
    /// after now): its verdict is shown but does not count toward the
    /// series' and the overall verdict.
    pub complete: bool,
    /// The worst metric verdict, or insufficient data.
    pub verdict: Verdict,
    /// Why a verdict was refused, or what to know about the scores.
    pub notes: Vec<String>,
}

/// One series (a collection or a span name) over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SeriesReport {
    /// The collection or span name (`(none)` when unrecorded).
    pub key: String,
    /// Which way its scores point, over all its retrievals.
    pub direction: ScoreDirection,
    /// Its windows, oldest first.
    pub windows: Vec<WindowReport>,
    /// The worst verdict of its complete windows.
    pub verdict: Verdict,
}

/// The baseline as the report states it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BaselineSpec {
    /// The windows before each window.
    Rolling {
        /// How many.
        windows: u32,
    },
    /// One range.
    Fixed {
        /// Start (inclusive).
        #[serde(serialize_with = "rfc3339")]
        start: SystemTime,
        /// End (exclusive).
        #[serde(serialize_with = "rfc3339")]
        end: SystemTime,
    },
}

/// What [`drift`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DriftReport {
    /// Window length in seconds.
    pub window_seconds: u64,
    /// The baseline.
    pub baseline: BaselineSpec,
    /// How retrievals were split.
    pub series_by: SeriesBy,
    /// The low-score line, if set.
    pub low_score: Option<f64>,
    /// The thresholds used.
    pub thresholds: Thresholds,
    /// The series, by key.
    pub series: Vec<SeriesReport>,
    /// The worst verdict of any complete window; insufficient data if no
    /// complete window had enough.
    pub verdict: Verdict,
}

impl DriftReport {
    /// `true` if the overall verdict is at or above `level`.
    pub fn reaches(&self, level: Verdict) -> bool {
        self.verdict >= level && self.verdict != Verdict::InsufficientData
    }
}

/// Runs drift over `source`; see the [module docs](self).
pub fn drift(
    source: &dyn TraceSource,
    options: &DriftOptions,
) -> Result<DriftReport, AnalysisError> {
    options.validate()?;
    let window_ns = i64::try_from(options.window.as_nanos()).unwrap_or(i64::MAX);
    let index_of = |time: SystemTime| to_nanos(time).div_euclid(window_ns);
    let first_reported = options.range.since.map(index_of);
    let last_reported = options
        .range
        .until
        .map(|until| to_nanos(until).saturating_sub(1).div_euclid(window_ns));
    let too_many = |windows: i64| {
        AnalysisError::BadOption(format!(
            "{windows} windows of {} are too many (at most {MAX_WINDOWS}); give a longer --window or a shorter --since/--until range",
            humantime::format_duration(options.window)
        ))
    };
    if let (Some(first), Some(last)) = (first_reported, last_reported)
        && last.saturating_sub(first) >= MAX_WINDOWS
    {
        return Err(too_many(last.saturating_sub(first).saturating_add(1)));
    }

    let mut fixed: HashMap<String, Sample> = HashMap::new();
    let (history, read_since) = match options.baseline {
        Baseline::Rolling { windows } => (
            windows,
            first_reported
                .map(|first| from_nanos((first - i64::from(windows)).saturating_mul(window_ns))),
        ),
        Baseline::Fixed(range) => {
            source.retrievals(&range, &mut |fact| {
                let key = key_of(&fact, options.series_by);
                fixed.entry(key).or_default().add(&fact, options.low_score);
                ControlFlow::Continue(())
            })?;
            fixed = fixed
                .into_iter()
                .map(|(key, sample)| (key, sample.into_baseline()))
                .collect();
            (
                0,
                first_reported.map(|first| from_nanos(first.saturating_mul(window_ns))),
            )
        }
    };
    // Whole windows from the one holding `since` (and the baseline windows
    // before it); nothing that started at or after `until`.
    let read = TimeRange::between(read_since, options.range.until);

    let mut series: HashMap<String, Series> = HashMap::new();
    let mut last_seen: Option<i64> = None;
    let context = Context {
        options,
        window_ns,
        history,
        first_reported,
        fixed: &fixed,
        data_end: options.range.until.unwrap_or_else(SystemTime::now),
    };
    let mut overflow = None;
    source.retrievals(&read, &mut |fact| {
        let index = index_of(fact.start);
        last_seen = Some(last_seen.map_or(index, |seen| seen.max(index)));
        let key = key_of(&fact, options.series_by);
        let state = series
            .entry(key.clone())
            .or_insert_with(|| Series::new(index));
        if index.saturating_sub(state.first_index) >= MAX_WINDOWS {
            overflow = Some(index.saturating_sub(state.first_index).saturating_add(1));
            return ControlFlow::Break(());
        }
        state.advance_to(index, &key, &context);
        state.current.add(&fact, options.low_score);
        ControlFlow::Continue(())
    })?;

    if let Some(windows) = overflow {
        return Err(too_many(windows));
    }
    let last = last_reported.or(last_seen);
    let mut reports = Vec::new();
    let mut keys: Vec<String> = series.keys().cloned().collect();
    keys.sort();
    for key in keys {
        let Some(mut state) = series.remove(&key) else {
            continue;
        };
        if let Some(last) = last {
            if last.saturating_sub(state.first_index) >= MAX_WINDOWS {
                return Err(too_many(
                    last.saturating_sub(state.first_index).saturating_add(1),
                ));
            }
            state.advance_to(last.saturating_add(1), &key, &context);
        }
        let verdict = overall(
            state
                .windows
                .iter()
                .filter(|w| w.complete)
                .map(|w| w.verdict),
        );
        if state.windows.is_empty() {
            continue;
        }
        reports.push(SeriesReport {
            direction: state.kinds.direction(),
            key,
            windows: state.windows,
            verdict,
        });
    }
    Ok(DriftReport {
        window_seconds: options.window.as_secs(),
        baseline: match options.baseline {
            Baseline::Rolling { windows } => BaselineSpec::Rolling { windows },
            Baseline::Fixed(range) => BaselineSpec::Fixed {
                start: range.since.unwrap_or(SystemTime::UNIX_EPOCH),
                end: range.until.unwrap_or(SystemTime::UNIX_EPOCH),
            },
        },
        series_by: options.series_by,
        low_score: options.low_score,
        thresholds: options.thresholds,
        verdict: overall(reports.iter().map(|s| s.verdict)),
        series: reports,
    })
}

fn overall(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
    verdicts.max().unwrap_or(Verdict::InsufficientData)
}

fn key_of(fact: &RetrievalFact, series_by: SeriesBy) -> String {
    match series_by {
        SeriesBy::Collection => fact.collection.clone(),
        SeriesBy::Name => Some(fact.name.clone()),
    }
    .filter(|key| !key.is_empty())
    .unwrap_or_else(|| "(none)".to_owned())
}

/// What every series shares while windows close.
struct Context<'a> {
    options: &'a DriftOptions,
    window_ns: i64,
    /// Rolling baseline windows (0 for a fixed baseline).
    history: u32,
    first_reported: Option<i64>,
    fixed: &'a HashMap<String, Sample>,
    /// Windows ending after this are still open.
    data_end: SystemTime,
}

/// Score direction counts.
#[derive(Debug, Clone, Copy, Default)]
struct Kinds {
    similarity: u64,
    distance: u64,
    unknown: u64,
}

impl Kinds {
    fn add(&mut self, kind: Option<ScoreKind>) {
        match kind {
            Some(ScoreKind::Similarity) => self.similarity += 1,
            Some(ScoreKind::Distance) => self.distance += 1,
            _ => self.unknown += 1,
        }
    }

    fn merge(&mut self, other: &Kinds) {
        self.similarity += other.similarity;
        self.distance += other.distance;
        self.unknown += other.unknown;
    }

    fn direction(&self) -> ScoreDirection {
        match (self.similarity > 0, self.distance > 0) {
            (true, true) => ScoreDirection::Mixed,
            (true, false) => ScoreDirection::Similarity,
            (false, true) => ScoreDirection::Distance,
            (false, false) => ScoreDirection::Unknown,
        }
    }
}

/// The retrievals of one window (or a fixed baseline), narrowed to what
/// the statistics need.
#[derive(Debug, Clone, Default)]
struct Sample {
    retrievals: u64,
    errors: u64,
    empty: u64,
    low: u64,
    top1: Vec<f64>,
    mean_sum: f64,
    mean_count: u64,
    documents: HashMap<String, u64>,
    /// Retrievals that returned at least one document id.
    with_documents: u64,
    kinds: Kinds,
}

impl Sample {
    fn add(&mut self, fact: &RetrievalFact, low_score: Option<f64>) {
        self.retrievals += 1;
        if fact.error {
            self.errors += 1;
        }

        let top1 = fact
            .scores
            .first()
            .copied()
            .filter(|s| s.is_finite())
            .or(fact.top_score.filter(|s| s.is_finite()));
        if !fact.error && fact.scores.is_empty() && fact.document_ids.is_empty() && top1.is_none() {
            self.empty += 1;
        }
        if let Some(top1) = top1 {
            self.top1.push(top1);
            self.kinds.add(fact.score_kind);
            let distance = fact.score_kind == Some(ScoreKind::Distance);
            if let Some(line) = low_score
                && ((distance && top1 > line) || (!distance && top1 < line))
            {
                self.low += 1;
            }
        }
        let (sum, count) = fact
            .scores
            .iter()
            .filter(|s| s.is_finite())
            .fold((0.0, 0_u32), |(sum, n), s| (sum + s, n + 1));
        if count > 0 {
            self.mean_sum += sum / f64::from(count);
            self.mean_count += 1;
        }
        if !fact.document_ids.is_empty() {
            self.with_documents += 1;
        }
        for id in &fact.document_ids {
            *self.documents.entry(id.clone()).or_default() += 1;
        }
    }

    /// Keeps only what a baseline needs.
    fn into_baseline(self) -> Sample {
        Sample {
            top1: stats::sorted_finite(self.top1),
            documents: self.documents,
            with_documents: self.with_documents,
            kinds: self.kinds,
            ..Sample::default()
        }
    }
}

/// One series while retrievals stream in.
struct Series {
    first_index: i64,
    current_index: i64,
    current: Sample,
    /// The previous windows kept for a rolling baseline, oldest first.
    previous: VecDeque<(i64, Sample)>,
    windows: Vec<WindowReport>,
    kinds: Kinds,
}

impl Series {
    fn new(index: i64) -> Self {
        Series {
            first_index: index,
            current_index: index,
            current: Sample::default(),
            previous: VecDeque::new(),
            windows: Vec::new(),
            kinds: Kinds::default(),
        }
    }

    /// Closes windows until `index` is the current one.
    fn advance_to(&mut self, index: i64, key: &str, context: &Context<'_>) {
        while self.current_index < index {
            let sample = std::mem::take(&mut self.current);
            let at = self.current_index;
            if context.first_reported.is_none_or(|first| at >= first) {
                self.kinds.merge(&sample.kinds);
                let report = match context.options.baseline {
                    Baseline::Rolling { windows } => {
                        let mut merged = Sample::default();
                        let mut used = 0;
                        for (i, previous) in &self.previous {
                            if *i >= at - i64::from(windows) {
                                merged.top1.extend_from_slice(&previous.top1);
                                merged.with_documents += previous.with_documents;
                                for (id, n) in &previous.documents {
                                    *merged.documents.entry(id.clone()).or_default() += n;
                                }
                                merged.kinds.merge(&previous.kinds);
                                used += 1;
                            }
                        }
                        merged.top1 = stats::sorted_finite(merged.top1);
                        let baseline = (used > 0).then_some((&merged, used));
                        window_report(at, &sample, baseline, context)
                    }
                    Baseline::Fixed(_) => {
                        window_report(at, &sample, context.fixed.get(key).map(|s| (s, 0)), context)
                    }
                };
                self.windows.push(report);
            }
            if context.history > 0 {
                self.previous.push_back((at, sample.into_baseline()));
                while self
                    .previous
                    .front()
                    .is_some_and(|(i, _)| *i <= at - i64::from(context.history))
                {
                    self.previous.pop_front();
                }
            }
            self.current_index += 1;
        }
    }
}

const HISTOGRAM_BINS: usize = 20;

/// Most windows one series may span (a guard against `--window 1s` over a
/// year: every window, empty or not, is a row of the report).
const MAX_WINDOWS: i64 = 100_000;

/// The chi-square homogeneity p-value of two bin count vectors (1 when
/// there are fewer than two non-empty bins).
fn counts_p_value(a: &[u64], b: &[u64]) -> f64 {
    let a: Vec<f64> = a.iter().map(|c| *c as f64).collect();
    let b: Vec<f64> = b.iter().map(|c| *c as f64).collect();
    stats::chi2_homogeneity(&a, &b).map_or(1.0, |t| t.p_value)
}

fn window_report(
    index: i64,
    sample: &Sample,
    baseline: Option<(&Sample, u32)>,
    context: &Context<'_>,
) -> WindowReport {
    let thresholds = &context.options.thresholds;
    let start = from_nanos(index.saturating_mul(context.window_ns));
    let end = from_nanos((index + 1).saturating_mul(context.window_ns));
    let top1 = stats::sorted_finite(sample.top1.iter().copied());
    let scored = top1.len() as u64;
    let direction = sample.kinds.direction();
    let rate = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    let mut notes = Vec::new();
    let mut report = WindowReport {
        start,
        end,
        direction,
        retrievals: sample.retrievals,
        errors: sample.errors,
        scored,
        top1: Quantiles::of(&top1),
        mean_topk: (sample.mean_count > 0).then(|| sample.mean_sum / sample.mean_count as f64),
        low_score_rate: context
            .options
            .low_score
            .and_then(|_| rate(sample.low, scored)),
        empty_rate: rate(sample.empty, sample.retrievals),
        distinct_documents: sample.documents.len() as u64,
        baseline: None,
        median_shift: None,
        shift: None,
        psi: None,
        ks: None,
        js: None,
        histogram: None,
        complete: end <= context.data_end,
        verdict: Verdict::InsufficientData,
        notes: Vec::new(),
    };
    if !report.complete {
        notes.push("window still open: its verdict does not count yet".to_owned());
    }
    if matches!(direction, ScoreDirection::Unknown | ScoreDirection::Mixed) && scored > 0 {
        notes.push(format!(
            "score direction {}: read as similarity (higher is better)",
            direction.as_str()
        ));
    }
    let Some((base, windows)) = baseline else {
        notes.push("no baseline retrievals".to_owned());
        report.notes = notes;
        return report;
    };
    let base_direction = base.kinds.direction();
    report.baseline = Some(BaselineSummary {
        scored: base.top1.len() as u64,
        top1: Quantiles::of(&base.top1),
        windows,
        direction: base_direction,
    });
    let known =
        |d: ScoreDirection| matches!(d, ScoreDirection::Similarity | ScoreDirection::Distance);
    if known(direction) && known(base_direction) && direction != base_direction {
        notes.push(format!(
            "score direction changed: {} in the baseline, {} now",
            base_direction.as_str(),
            direction.as_str()
        ));
    }
    let enough_window = scored >= thresholds.min_window;
    let enough_baseline = base.top1.len() as u64 >= thresholds.min_baseline;
    if !enough_window {
        notes.push(format!(
            "{scored} scored retrievals, fewer than the {} a verdict needs",
            thresholds.min_window
        ));
    }
    if !enough_baseline {
        notes.push(format!(
            "baseline has {} scored retrievals, fewer than the {} a verdict needs",
            base.top1.len(),
            thresholds.min_baseline
        ));
    }
    let enough = enough_window && enough_baseline;

    if let (Some(now), Some(then)) = (report.top1, report.baseline.as_ref().and_then(|b| b.top1)) {
        let moved = now.p50 - then.p50;
        let lower_better = if known(direction) {
            direction.lower_is_better()
        } else {
            base_direction.lower_is_better()
        };
        report.median_shift = Some(moved);
        report.shift = Some(if moved == 0.0 {
            Shift::None
        } else if (moved < 0.0) != lower_better {
            Shift::Worse
        } else {
            Shift::Better
        });
    }

    if !top1.is_empty() && !base.top1.is_empty() {
        let edges = stats::decile_edges(&base.top1);
        let base_counts = stats::bin_counts(&base.top1, &edges);
        let window_counts = stats::bin_counts(&top1, &edges);
        if let Some(psi) = stats::psi(&base_counts, &window_counts) {
            let bins = psi.contributions.len();
            let p_value = counts_p_value(&window_counts, &base_counts);
            let mut order: Vec<usize> = (0..bins).collect();
            order.sort_by(|a, b| psi.contributions[*b].total_cmp(&psi.contributions[*a]));
            order.truncate(3);
            order.retain(|i| psi.contributions[*i] > 0.0);
            report.psi = Some(PsiMetric {
                judged: Judged::new(psi.value, p_value, &thresholds.psi, thresholds, enough),
                bins: (0..bins)
                    .map(|i| PsiBin {
                        lower: i.checked_sub(1).map(|j| edges[j]),
                        upper: edges.get(i).copied(),
                        baseline: psi.expected[i],
                        window: psi.actual[i],
                        contribution: psi.contributions[i],
                    })
                    .collect(),
                moved_most: order,
            });
        }
        if let Some(ks) = stats::ks_2samp(&top1, &base.top1) {
            report.ks = Some(KsMetric {
                judged: Judged::new(ks.d, ks.p_value, &thresholds.ks_d, thresholds, enough),
                method: ks.method,
            });
        }
        report.histogram = Some(histogram(&base.top1, &top1));
    }

    if !sample.documents.is_empty() && !base.documents.is_empty() {
        let mut ids: Vec<&String> = sample
            .documents
            .keys()
            .chain(base.documents.keys())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let now: Vec<u64> = ids
            .iter()
            .map(|id| sample.documents.get(*id).copied().unwrap_or(0))
            .collect();
        let then: Vec<u64> = ids
            .iter()
            .map(|id| base.documents.get(*id).copied().unwrap_or(0))
            .collect();
        // A retrieval's documents may all come with its query: the worst
        // case widens the null spread by the mean documents a retrieval.
        let hits = sample.documents.values().sum::<u64>() + base.documents.values().sum::<u64>();
        let units = sample.with_documents + base.with_documents;
        let cluster = if units > 0 {
            hits as f64 / units as f64
        } else {
            1.0
        };
        if let Some(js) = stats::js_excess(&now, &then, cluster) {
            report.js = Some(JsMetric {
                judged: Judged::new(js.excess, js.p_value, &thresholds.js, thresholds, enough),
                raw: js.raw,
                null_mean: js.null_mean,
                documents: ids.len() as u64,
            });
        }
    }

    report.verdict = if enough {
        [
            report.psi.as_ref().map(|m| m.judged.verdict),
            report.ks.map(|m| m.judged.verdict),
            report.js.map(|m| m.judged.verdict),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(Verdict::Ok)
    } else {
        Verdict::InsufficientData
    };
    report.notes = notes;
    report
}

fn histogram(baseline: &[f64], window: &[f64]) -> ScoreHistogram {
    let lo = baseline[0].min(window[0]);
    let hi = baseline[baseline.len() - 1].max(window[window.len() - 1]);
    let bins = if hi > lo { HISTOGRAM_BINS } else { 1 };
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins)
        .map(|i| if i == bins { hi } else { lo + width * i as f64 })
        .collect();
    let fractions = |values: &[f64]| {
        let mut counts = vec![0_u64; bins];
        for v in values {
            let i = if width > 0.0 {
                (((v - lo) / width) as usize).min(bins - 1)
            } else {
                0
            };
            counts[i] += 1;
        }
        counts
            .iter()
            .map(|c| *c as f64 / values.len() as f64)
            .collect()
    };
    ScoreHistogram {
        baseline: fractions(baseline),
        window: fractions(window),
        edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceId;

    /// SplitMix64 with Box–Muller normals.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn uniform(&mut self) -> f64 {
            ((self.next() >> 11) as f64 + 0.5) / (1_u64 << 53) as f64
        }

        fn normal(&mut self) -> f64 {
            let (u, v) = (self.uniform(), self.uniform());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }
    }

    /// Runs `windows` stable daily windows of `per_window` retrievals
    /// (top-1 ~ N(0.72, 0.06), five of 300 documents with Zipf-like
    /// weights) through the rolling-baseline machinery; returns how many
    /// windows got a verdict and how many of those warned or alerted.
    /// Simulated windows: top-1 ~ N(mean(window), 0.06) times `scale`.
    fn simulate(
        seed: u64,
        windows: i64,
        per_window: u32,
        options: &DriftOptions,
        mean: impl Fn(i64) -> f64,
        scale: f64,
        repeated: bool,
    ) -> Vec<WindowReport> {
        let mut rng = Rng(seed);
        let weights: Vec<f64> = (0..300).map(|i| 1.0 / f64::from(i + 1).powf(0.8)).collect();
        let total: f64 = weights.iter().sum();
        let total_queries: f64 = weights[..60].iter().sum();
        let fixed = HashMap::new();
        let context = Context {
            options,
            window_ns: i64::try_from(options.window.as_nanos()).unwrap(),
            history: 7,
            first_reported: None,
            fixed: &fixed,
            data_end: SystemTime::now(),
        };
        let mut series = Series::new(0);
        for window in 0..windows {
            series.advance_to(window, "kb", &context);
            for _ in 0..per_window {
                let top = (mean(window) + 0.06 * rng.normal()) * scale;
                let mut ids: Vec<String> = Vec::new();
                if repeated {
                    // One of 60 queries, Zipf-like; a query always brings
                    // the same five documents.
                    let mut pick = rng.uniform() * total_queries;
                    let mut query = 0;
                    while query < 59 && pick > weights[query] {
                        pick -= weights[query];
                        query += 1;
                    }
                    ids = (0..5).map(|d| format!("doc-{}", query * 5 + d)).collect();
                }
                while ids.len() < 5 {
                    let mut pick = rng.uniform() * total;
                    let mut doc = 0;
                    while doc < 299 && pick > weights[doc] {
                        pick -= weights[doc];
                        doc += 1;
                    }
                    let id = format!("doc-{doc}");
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                let fact = RetrievalFact {
                    trace_id: TraceId::from(u128::from(rng.next())),
                    start: SystemTime::UNIX_EPOCH,
                    name: "retrieval kb".into(),
                    collection: Some("kb".into()),
                    scores: (0..5).map(|i| top - 0.01 * f64::from(i)).collect(),
                    top_score: Some(top),
                    document_ids: ids,
                    score_kind: Some(ScoreKind::Similarity),
                    error: false,
                };
                series.current.add(&fact, options.low_score);
            }
        }
        series.advance_to(windows, "kb", &context);
        series.windows
    }

    /// Windows judged, windows flagged, the largest JS excess.
    fn stable(seed: u64, windows: i64, per_window: u32, repeated: bool) -> (usize, usize, f64) {
        let windows = simulate(
            seed,
            windows,
            per_window,
            &DriftOptions::new(),
            |_| 0.72,
            1.0,
            repeated,
        );
        let judged: Vec<_> = windows
            .iter()
            .filter(|w| w.verdict != Verdict::InsufficientData)
            .collect();
        let flagged = judged
            .iter()
            .filter(|w| matches!(w.verdict, Verdict::Warn | Verdict::Alert))
            .count();
        let excess = judged
            .iter()
            .filter_map(|w| w.js.map(|j| j.judged.value))
            .fold(0.0, f64::max);
        (judged.len(), flagged, excess)
    }

    #[test]
    fn the_table_fits_80_columns() {
        // Hourly windows, scores in the hundreds, a long name, a shift.
        let options = DriftOptions::new()
            .window(Duration::from_secs(3_600))
            .low_score(600.0);
        let windows = simulate(
            7,
            12,
            300,
            &options,
            |w| if w >= 9 { 0.6 } else { 0.72 },
            1_000.0,
            false,
        );
        assert_eq!(windows[9].verdict, Verdict::Alert);
        let report = DriftReport {
            window_seconds: 3_600,
            baseline: BaselineSpec::Rolling { windows: 7 },
            series_by: SeriesBy::Collection,
            low_score: options.low_score,
            thresholds: options.thresholds,
            series: vec![SeriesReport {
                key: "a-collection-with-a-very-long-name-".repeat(4),
                direction: ScoreDirection::Unknown,
                verdict: overall(windows.iter().map(|w| w.verdict)),
                windows,
            }],
            verdict: Verdict::Alert,
        };
        let table = render_table(&report);
        assert!(
            table.contains("ALERT") && table.contains("01-01 09:00"),
            "{table}"
        );
        for line in table.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} wide: {line}",
                line.chars().count()
            );
        }
    }

    #[test]
    fn stable_months_stay_quiet() {
        // 25 months of 30 daily windows × 200 retrievals, and 25 of windows
        // at the smallest size that gets a verdict (50 retrievals), with
        // documents drawn independently and with repeated queries (each of
        // 60 queries always brings the same five documents): not one
        // warning. At 50 a window, PSI's epsilon for an empty decile bin
        // alone pushes PSI over 0.6 in about 5 % of windows; the chi-square
        // gate on the counts holds those back.
        for (per_window, repeated) in [(200, false), (50, false), (200, true), (50, true)] {
            let (mut judged, mut flagged, mut noisy_months) = (0, 0, 0);
            let mut largest = 0.0_f64;
            for seed in 0..25 {
                let (j, f, excess) = stable(1_000 + seed, 30, per_window, repeated);
                judged += j;
                flagged += f;
                largest = largest.max(excess);
                noisy_months += usize::from(f > 0);
            }
            eprintln!(
                "{per_window} a window, repeated queries {repeated}: {flagged} of {judged} windows flagged, {noisy_months} of 25 months; JS excess at most {largest:.3}"
            );
            assert!(judged > 600, "{judged}");
            assert_eq!(flagged, 0, "{noisy_months} of 25 stable months warned");
            // Repeated queries make the document mix of 50 retrievals
            // noisier (an excess up to about 0.12, held back by the gate).
            let bound = if repeated && per_window < 100 {
                0.15
            } else {
                0.05
            };
            assert!(largest < bound, "JS excess {largest} in a stable month");
        }
    }

    #[test]
    fn a_band_counts_only_when_established() {
        let t = Thresholds::default();
        let held = Judged::new(0.3, 0.01, &t.psi, &t, true);
        assert_eq!(
            (held.level, held.verdict, held.held_back),
            (Level::Alert, Verdict::Ok, true)
        );
        let alert = Judged::new(0.3, 1e-6, &t.psi, &t, true);
        assert_eq!((alert.verdict, alert.held_back), (Verdict::Alert, false));
        let warn = Judged::new(0.12, 1e-6, &t.psi, &t, true);
        assert_eq!(warn.verdict, Verdict::Warn);
        let few = Judged::new(0.3, 1e-6, &t.psi, &t, false);
        assert_eq!(
            (few.verdict, few.held_back),
            (Verdict::InsufficientData, false)
        );
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(DriftOptions::new().validate().is_ok());
        let bad = [
            DriftOptions::new().window(Duration::from_millis(10)),
            DriftOptions::new().baseline(Baseline::Rolling { windows: 0 }),
            DriftOptions::new().baseline(Baseline::Fixed(TimeRange::all())),
            DriftOptions::new().low_score(f64::NAN),
            DriftOptions::new().thresholds(Thresholds::default().psi(Band::new(0.3, 0.1))),
            DriftOptions::new().thresholds(Thresholds::default().significance(0.0)),
            DriftOptions::new().thresholds(Thresholds::default().min_window(0)),
        ];
        for options in bad {
            assert!(
                matches!(options.validate(), Err(AnalysisError::BadOption(_))),
                "{options:?}"
            );
        }
    }

    #[test]
    fn histograms_cover_both_samples() {
        let h = histogram(&[0.0, 0.5, 1.0], &[0.25, 2.0]);
        assert_eq!(h.edges.len(), HISTOGRAM_BINS + 1);
        assert_eq!((h.edges[0], h.edges[HISTOGRAM_BINS]), (0.0, 2.0));
        assert!((h.baseline.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(h.window[HISTOGRAM_BINS - 1], 0.5);
        let flat = histogram(&[0.5, 0.5], &[0.5]);
        assert_eq!((flat.edges.len(), flat.window[0]), (2, 1.0));
    }
}
