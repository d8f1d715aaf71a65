//! `ragtrace drift`: retrieval scores and document mixes, window by window,
//! against a baseline, with verdicts a cron job or CI can act on.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use ragtrace::analysis::{
    Band, Baseline, DriftOptions, SeriesBy, Thresholds, TimeRange, Verdict, drift, parse_duration,
    render_drift_table,
};

use crate::common::{self, DbArgs, RangeArgs};

/// The exit code when the verdict reaches `--fail-on`.
pub const DRIFT_EXIT: u8 = 3;

/// Compares each window's retrievals (top-1 score distribution and
/// retrieved-document mix) with a baseline, per collection.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    range: RangeArgs,
    /// Window length: 1d, 12h, 1h, 30m, 1w ...
    #[arg(long, default_value = "1d", value_name = "DURATION")]
    window: String,
    /// Compare each window with the N windows just before it.
    #[arg(
        long,
        default_value_t = 7,
        value_name = "N",
        conflicts_with = "baseline"
    )]
    baseline_windows: u32,
    /// Compare every window with one fixed range instead, START..END
    /// (e.g. 2026-11-01..2026-11-08; same forms as --since).
    #[arg(long, value_name = "START..END")]
    baseline: Option<String>,
    /// One series per collection, or per span name.
    #[arg(long = "by", value_enum, default_value_t = By::Collection)]
    by: By,
    /// Exit with code 3 when the overall verdict reaches this level.
    #[arg(long, value_enum, value_name = "LEVEL")]
    fail_on: Option<FailOn>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also count retrievals whose top-1 score is worse than this (under
    /// it for similarities, over it for distances).
    #[arg(long, value_name = "SCORE", allow_negative_numbers = true)]
    low_score: Option<f64>,
    /// Also write the report as one self-contained HTML page with charts
    /// (opens offline) to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// PSI warn threshold.
    #[arg(long, default_value_t = 0.10, value_name = "X")]
    psi_warn: f64,
    /// PSI alert threshold.
    #[arg(long, default_value_t = 0.25, value_name = "X")]
    psi_alert: f64,
    /// KS D warn threshold.
    #[arg(long, default_value_t = 0.10, value_name = "X")]
    ks_warn: f64,
    /// KS D alert threshold.
    #[arg(long, default_value_t = 0.20, value_name = "X")]
    ks_alert: f64,
    /// JS divergence (bits) warn threshold.
    #[arg(long, default_value_t = 0.10, value_name = "X")]
    js_warn: f64,
    /// JS divergence (bits) alert threshold.
    #[arg(long, default_value_t = 0.20, value_name = "X")]
    js_alert: f64,
    /// A band counts only when the metric's p-value is under this.
    #[arg(long, default_value_t = 1e-4, value_name = "P")]
    significance: f64,
    /// Fewest scored retrievals a window needs for a verdict.
    #[arg(long, default_value_t = 50, value_name = "N")]
    min_window: u64,
    /// Fewest scored retrievals a baseline needs.
    #[arg(long, default_value_t = 200, value_name = "N")]
    min_baseline: u64,
}

const AFTER_HELP: &str = "\
Metrics per window: retrievals, top-1 score p10/p50/p90, mean top-k score,
low-score rate (with --low-score), empty-result rate, distinct documents.
Against the baseline:
  psi  population stability index of the top-1 score, 10 bins at the
       baseline's deciles        warn >= 0.10, alert >= 0.25
  D    two-sample Kolmogorov-Smirnov statistic of the top-1 score
                                 warn >= 0.10, alert >= 0.20
  js   Jensen-Shannon divergence (bits) of the retrieved-document mix,
       less what sampling alone gives an unchanged mix
                                 warn >= 0.10, alert >= 0.20
A band counts only if its p-value is under --significance (1e-4), so chance
differences of small windows stay ok (shown with '?'). Windows with fewer
than --min-window (50) scored retrievals, or a baseline under
--min-baseline (200), say 'insufficient data'. Distance scores are compared
lower-is-better; unknown directions are read as similarities and reported.

Windows are aligned to the Unix epoch (days are UTC days) and reported
whole from the one holding --since; a window still open (it ends after
--until or now) is marked '*' and does not count toward the verdict.

Exit codes: 0 = done, nothing reached --fail-on (insufficient data never
does); 3 = the overall verdict reached --fail-on; 1 = error; 2 = bad usage.";

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum By {
    Collection,
    Name,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FailOn {
    Warn,
    Alert,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let now = SystemTime::now();
    let window = parse_duration(&args.window).with_context(|| {
        format!(
            "--window `{}` is not a duration (e.g. 1d, 12h, 30m)",
            args.window
        )
    })?;
    let baseline = match &args.baseline {
        Some(text) => {
            let (start, end) = text
                .split_once("..")
                .with_context(|| format!("--baseline `{text}` is not START..END"))?;
            let range = TimeRange::parse(Some(start), Some(end), now)
                .with_context(|| format!("--baseline `{text}`"))?;
            Baseline::Fixed(range)
        }
        None => Baseline::Rolling {
            windows: args.baseline_windows,
        },
    };
    let thresholds = Thresholds::default()
        .psi(Band::new(args.psi_warn, args.psi_alert))
        .ks_d(Band::new(args.ks_warn, args.ks_alert))
        .js(Band::new(args.js_warn, args.js_alert))
        .significance(args.significance)
        .min_window(args.min_window)
        .min_baseline(args.min_baseline);
    let mut options = DriftOptions::new()
        .window(window)
        .baseline(baseline)
        .series_by(match args.by {
            By::Collection => SeriesBy::Collection,
            By::Name => SeriesBy::Name,
        })
        .range(args.range.range()?)
        .thresholds(thresholds);
    if let Some(line) = args.low_score {
        options = options.low_score(line);
    }

    options.validate()?;
    let store = args.db.open()?;
    let report = drift(&store, &options)?;
    if let Some(path) = &args.html {
        std::fs::write(path, ragtrace::analysis::html::drift_html(&report))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    match args.format {
        Format::Table => common::emit(&render_drift_table(&report))?,
        Format::Json => common::print_json(&report)?,
    }
    let fail = match args.fail_on {
        Some(FailOn::Warn) => report.reaches(Verdict::Warn),
        Some(FailOn::Alert) => report.reaches(Verdict::Alert),
        None => false,
    };
    Ok(if fail {
        ExitCode::from(DRIFT_EXIT)
    } else {
        ExitCode::SUCCESS
    })
}
