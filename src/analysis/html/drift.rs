//! [`drift_html`]: a [`DriftReport`] as a page.

use std::time::Duration;

use super::charts::{self, BandPoint, Mark, Threshold, Unit};
use super::report::{count, percent, stamp};
use super::{Level, Page, Table};
use crate::analysis::{BaselineSpec, DriftReport, SeriesBy, SeriesReport, Verdict, WindowReport};

/// Windows listed at most per series, besides the flagged ones.
const MAX_ROWS: usize = 60;

/// The drift report as one self-contained HTML page: the overall verdict,
/// then per series (collection or span name) the median top-1 score over
/// time against the baseline's p10–p90 band, PSI, KS `D` and JS over time
/// against their warn and alert levels with warnings and alerts marked,
/// the top-1 score histograms of the baseline and the latest window, and
/// the windows as a table.
pub fn drift_html(report: &DriftReport) -> String {
    let mut page = Page::new("ragtrace retrieval drift");
    let group = match report.series_by {
        SeriesBy::Name => "span name",
        _ => "collection",
    };
    page.subtitle(format!(
        "Windows of {} · baseline: {} · one series per {}",
        window_text(report.window_seconds),
        baseline_text(&report.baseline, report.window_seconds),
        group
    ));

    page.section("Summary");
    let windows: usize = report.series.iter().map(|s| s.windows.len()).sum();
    let with = |verdict: Verdict| {
        report
            .series
            .iter()
            .flat_map(|s| &s.windows)
            .filter(|w| w.verdict == verdict)
            .count() as u64
    };
    page.stats([
        ("Verdict", report.verdict.as_str().to_owned()),
        ("Series", count(report.series.len() as u64)),
        ("Windows", count(windows as u64)),
        ("Alerts", count(with(Verdict::Alert))),
        ("Warnings", count(with(Verdict::Warn))),
        ("Insufficient data", count(with(Verdict::InsufficientData))),
    ]);
    let (level, text) = match report.verdict {
        Verdict::Alert => (
            Level::Alert,
            "Retrieval has drifted: at least one window is in the alert band, and the change is established at this sample size.",
        ),
        Verdict::Warn => (
            Level::Warn,
            "At least one window is in the warn band, and the change is established at this sample size.",
        ),
        Verdict::Ok => (
            Level::Info,
            "No window has drifted beyond the warn levels (or the change is not established at its sample size).",
        ),
        _ => (
            Level::Info,
            "Too few retrievals for a verdict: no window (or its baseline) had enough scored retrievals.",
        ),
    };
    page.notice(level, text);
    let t = &report.thresholds;
    let mut table = Table::new(["Metric", "Warn at", "Alert at"])
        .numeric(1)
        .numeric(2);
    table.row([
        "PSI of the top-1 score",
        &num(t.psi.warn),
        &num(t.psi.alert),
    ]);
    table.row([
        "KS D of the top-1 score",
        &num(t.ks_d.warn),
        &num(t.ks_d.alert),
    ]);
    table.row([
        "JS divergence of the documents (bits)",
        &num(t.js.warn),
        &num(t.js.alert),
    ]);
    page.table(&table);
    page.text(format!(
        "A band counts only when its p-value is under {}; a window needs {} scored retrievals and its baseline {}.",
        t.significance, t.min_window, t.min_baseline
    ));
    if report.series.is_empty() {
        page.notice(Level::Info, "No retrievals in this range.");
    }

    for series in &report.series {
        series_section(&mut page, report, series);
    }
    page.render()
}

fn series_section(page: &mut Page, report: &DriftReport, series: &SeriesReport) {
    page.section(format!(
        "{} · {}",
        if series.key.is_empty() {
            "(none)"
        } else {
            &series.key
        },
        series.verdict.as_str()
    ));
    let direction = match series.direction.as_str() {
        "similarity" => "similarities (higher is better)",
        "distance" => "distances (lower is better)",
        "mixed" => "of mixed kinds (producers disagree; read as similarities)",
        _ => "of an unrecorded kind (read as similarities, higher is better)",
    };
    let windows = series.windows.len() as u64;
    page.text(format!(
        "{} window{}; scores are {direction}.",
        count(windows),
        if windows == 1 { "" } else { "s" },
    ));
    // Notes every window shares are said once, above the table.
    let shared: Vec<&String> = match series.windows.first() {
        Some(first) if series.windows.len() > 1 => first
            .notes
            .iter()
            .filter(|note| series.windows.iter().all(|w| w.notes.contains(note)))
            .collect(),
        _ => Vec::new(),
    };
    let half = Duration::from_secs(report.window_seconds / 2);
    let middle = |w: &WindowReport| w.start + half;

    let points: Vec<BandPoint> = series
        .windows
        .iter()
        .map(|w| BandPoint {
            at: middle(w),
            value: w.top1.map(|q| q.p50),
            band: w
                .baseline
                .as_ref()
                .and_then(|b| b.top1)
                .map(|q| (q.p10, q.p90)),
            mark: mark(w.verdict),
        })
        .collect();
    page.figure(
        "Median top-1 score per window, against the baseline's p10–p90",
        &charts::band_line(
            "Median top-1 score per window with the baseline band; warnings and alerts marked",
            "median top-1 score",
            &points,
            &[],
            Unit::Number,
        ),
    );

    let t = &report.thresholds;
    type Metric = fn(&WindowReport) -> Option<(f64, Verdict)>;
    let metrics: [(&str, &str, Metric, f64, f64); 3] = [
        (
            "PSI of the top-1 score",
            "PSI",
            |w| w.psi.as_ref().map(|m| (m.judged.value, m.judged.verdict)),
            t.psi.warn,
            t.psi.alert,
        ),
        (
            "KS D of the top-1 score",
            "KS D",
            |w| w.ks.as_ref().map(|m| (m.judged.value, m.judged.verdict)),
            t.ks_d.warn,
            t.ks_d.alert,
        ),
        (
            "JS divergence of the retrieved documents (bits)",
            "JS",
            |w| w.js.as_ref().map(|m| (m.judged.value, m.judged.verdict)),
            t.js.warn,
            t.js.alert,
        ),
    ];
    for (title, name, get, warn, alert) in metrics {
        let points: Vec<BandPoint> = series
            .windows
            .iter()
            .map(|w| {
                let got = get(w);
                BandPoint {
                    at: middle(w),
                    value: got.map(|(v, _)| v),
                    band: Some((0.0, warn)),
                    mark: got.map_or(Mark::Insufficient, |(_, v)| mark(v)),
                }
            })
            .collect();
        page.figure(
            format!("{title} per window"),
            &charts::band_line(
                &format!("{title} per window against its warn and alert levels"),
                name,
                &points,
                &[
                    Threshold {
                        name: format!("warn at {}", num(warn)),
                        value: warn,
                        mark: Mark::Warn,
                    },
                    Threshold {
                        name: format!("alert at {}", num(alert)),
                        value: alert,
                        mark: Mark::Alert,
                    },
                ],
                Unit::Number,
            ),
        );
    }

    if let Some(latest) = series.windows.iter().rev().find(|w| w.histogram.is_some())
        && let Some(h) = &latest.histogram
    {
        page.figure(
            format!(
                "Top-1 scores: baseline and the latest window ({})",
                minute(latest.start)
            ),
            &charts::paired_histogram(
                "Histograms of the top-1 score, baseline beside the latest window",
                &h.edges,
                ("baseline", &h.baseline),
                ("latest window", &h.window),
                Unit::Number,
            ),
        );
    }

    let mut table = Table::new([
        "Window (UTC)",
        "Retrievals",
        "Top-1 median",
        "Shift",
        "PSI",
        "KS D (p)",
        "JS",
        "Verdict",
        "Notes",
    ]);
    table = table.nowrap(0);
    for i in 1..7 {
        table = table.numeric(i);
    }
    // Long histories list their latest windows, and every flagged one.
    let listed = series.windows.len().saturating_sub(MAX_ROWS);
    let earlier = series.windows[..listed]
        .iter()
        .filter(|w| !matches!(w.verdict, Verdict::Alert | Verdict::Warn))
        .count();
    for (i, w) in series.windows.iter().enumerate() {
        if i < listed && !matches!(w.verdict, Verdict::Alert | Verdict::Warn) {
            continue;
        }
        let judged = |v: Option<(f64, f64, bool)>| match v {
            None => String::from("-"),
            Some((value, _, held)) if held => format!("{} (held back)", num(value)),
            Some((value, _, _)) => num(value),
        };
        let cells = [
            minute(w.start),
            if w.errors > 0 {
                format!("{} ({} failed)", count(w.retrievals), count(w.errors))
            } else {
                count(w.retrievals)
            },
            w.top1.map_or_else(|| String::from("-"), |q| num(q.p50)),
            w.median_shift.map_or_else(|| String::from("-"), signed),
            judged(
                w.psi
                    .as_ref()
                    .map(|m| (m.judged.value, m.judged.p_value, m.judged.held_back)),
            ),
            w.ks.as_ref().map_or_else(
                || String::from("-"),
                |m| format!("{} ({})", num(m.judged.value), p_value(m.judged.p_value)),
            ),
            judged(
                w.js.as_ref()
                    .map(|m| (m.judged.value, m.judged.p_value, m.judged.held_back)),
            ),
            w.verdict.as_str().to_owned(),
            w.notes
                .iter()
                .filter(|note| !shared.contains(note))
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ];
        match w.verdict {
            Verdict::Alert => table.marked_row(Level::Alert, cells),
            Verdict::Warn => table.marked_row(Level::Warn, cells),
            _ => table.row(cells),
        };
    }
    for note in &shared {
        page.text(format!("Every window: {note}"));
    }
    page.table(&table);
    if earlier > 0 {
        page.text(format!(
            "{} earlier windows without a warning or an alert are not listed (the charts show them; --format json has every window).",
            count(earlier as u64)
        ));
    }
    if let Some(rate) = series.windows.last().and_then(|w| w.low_score_rate) {
        page.text(format!(
            "In the latest window {} of top-1 scores were worse than the low-score line.",
            percent(rate)
        ));
    }
}

/// A window start: the date, and the time unless it is midnight.
fn minute(time: std::time::SystemTime) -> String {
    let text = stamp(time);
    match text.strip_suffix(" 00:00:00") {
        Some(date) => date.to_owned(),
        None => text[..text.len().saturating_sub(3)].to_owned(),
    }
}

fn mark(verdict: Verdict) -> Mark {
    match verdict {
        Verdict::Alert => Mark::Alert,
        Verdict::Warn => Mark::Warn,
        Verdict::Ok => Mark::Normal,
        _ => Mark::Insufficient,
    }
}

/// A metric value to three decimals.
fn num(value: f64) -> String {
    if !value.is_finite() {
        return String::from("-");
    }
    if value > 0.0 && value < 0.0005 {
        return String::from("<0.001");
    }
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A shift with its sign.
fn signed(value: f64) -> String {
    if value > 0.0 {
        format!("+{}", num(value))
    } else {
        num(value)
    }
}

fn p_value(p: f64) -> String {
    if p < 1e-4 {
        format!("p={p:.0e}")
    } else {
        format!("p={p:.4}")
    }
}

fn window_text(seconds: u64) -> String {
    match seconds {
        s if s.is_multiple_of(86_400) => plural(s / 86_400, "day"),
        s if s.is_multiple_of(3_600) => plural(s / 3_600, "hour"),
        s if s.is_multiple_of(60) => plural(s / 60, "minute"),
        s => plural(s, "second"),
    }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn baseline_text(baseline: &BaselineSpec, window_seconds: u64) -> String {
    match baseline {
        BaselineSpec::Rolling { windows } => format!(
            "the {} windows before each ({})",
            windows,
            window_text(window_seconds * u64::from(*windows))
        ),
        BaselineSpec::Fixed { start, end } => {
            format!("{} to {} UTC", stamp(*start), stamp(*end))
        }
        #[allow(unreachable_patterns)]
        _ => String::from("as configured"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_windows_read_plainly() {
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(0.0003), "<0.001");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(f64::NAN), "-");
        assert_eq!(signed(0.038), "+0.038");
        assert_eq!(p_value(2e-74), "p=2e-74");
        assert_eq!(window_text(86_400), "1 day");
        assert_eq!(window_text(7 * 86_400), "7 days");
        assert_eq!(window_text(5_400), "90 minutes");
    }
}
