//! The plain-text table of a [`DriftReport`]: at most 80 columns, no
//! colours or other escapes (so `NO_COLOR` and pipes need nothing), and
//! names from traces with their control characters escaped.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::{DriftReport, Judged, ScoreDirection, SeriesReport, Shift, Verdict, WindowReport};

/// Renders `report` as a table, one block per series, with the windows
/// that warn or alert explained under it.
pub fn render_table(report: &DriftReport) -> String {
    let mut out = String::new();
    if report.series.is_empty() {
        out.push_str("no retrievals in the range\n");
    }
    let daily = report.window_seconds.is_multiple_of(86_400);
    for series in &report.series {
        render_series(&mut out, series, daily, report.low_score.is_some());
        out.push('\n');
    }
    let t = &report.thresholds;
    let _ = writeln!(
        out,
        "thresholds (warn/alert): PSI {}/{}, KS D {}/{}, JS {}/{}; p < {}",
        t.psi.warn, t.psi.alert, t.ks_d.warn, t.ks_d.alert, t.js.warn, t.js.alert, t.significance
    );
    let _ = writeln!(
        out,
        "? = band reached but not significant at this size; too few = under {} scored",
        t.min_window
    );
    let _ = writeln!(
        out,
        "    retrievals in the window or {} in its baseline; * = window still open",
        t.min_baseline
    );
    let windows = report
        .series
        .iter()
        .flat_map(|s| &s.windows)
        .filter(|w| w.complete);
    let count = |v: Verdict| windows.clone().filter(|w| w.verdict == v).count();
    let _ = writeln!(
        out,
        "overall: {} ({} alert, {} warn, {} ok, {} too few)",
        shout(report.verdict),
        count(Verdict::Alert),
        count(Verdict::Warn),
        count(Verdict::Ok),
        count(Verdict::InsufficientData),
    );
    out
}

fn render_series(out: &mut String, series: &SeriesReport, daily: bool, low: bool) {
    let _ = writeln!(
        out,
        "{} ({} scores): {}",
        clip(&safe(&series.key), 50),
        series.direction.as_str(),
        shout(series.verdict)
    );
    if matches!(
        series.direction,
        ScoreDirection::Unknown | ScoreDirection::Mixed
    ) {
        let _ = writeln!(
            out,
            "(score direction {}: read as similarity, higher is better)",
            series.direction.as_str()
        );
    }
    let _ = writeln!(
        out,
        "{:<11}{:>6}{:>6}{:>6}{:>6}{:>6}{:>6}{:>6}{:>6}{:>6}{:>6} verdict",
        "window",
        "n",
        "p10",
        "p50",
        "p90",
        "mean",
        if low { "low" } else { "" },
        "empty",
        "psi",
        "D",
        "js"
    );
    for w in &series.windows {
        let q = w.top1;
        let _ = writeln!(
            out,
            "{:<11}{:>6}{:>6}{:>6}{:>6}{:>6}{:>6}{:>6}{:>6}{:>6}{:>6} {}",
            label(w.start, daily),
            w.retrievals,
            opt(q.map(|q| q.p10)),
            opt(q.map(|q| q.p50)),
            opt(q.map(|q| q.p90)),
            opt(w.mean_topk),
            if low {
                percent(w.low_score_rate)
            } else {
                String::new()
            },
            percent(w.empty_rate),
            judged(w.psi.as_ref().map(|m| &m.judged)),
            judged(w.ks.as_ref().map(|m| &m.judged)),
            judged(w.js.as_ref().map(|m| &m.judged)),
            if w.complete {
                short(w.verdict).to_owned()
            } else {
                format!("{}*", short(w.verdict))
            },
        );
    }
    for w in series
        .windows
        .iter()
        .filter(|w| matches!(w.verdict, Verdict::Warn | Verdict::Alert))
    {
        explain(out, w, daily);
    }
}

fn explain(out: &mut String, w: &WindowReport, daily: bool) {
    let flagged = |j: &Judged| matches!(j.verdict, Verdict::Warn | Verdict::Alert);
    let _ = writeln!(out, "  {}: {}", label(w.start, daily), w.verdict.as_str());
    let line = |out: &mut String, name: &str, j: &Judged, extra: String| {
        let _ = writeln!(
            out,
            "    {name} {:.2}: {} (p {}){extra}",
            j.value,
            j.verdict.as_str(),
            p_value(j.p_value)
        );
    };
    let psi = w.psi.as_ref().filter(|m| flagged(&m.judged));
    if let Some(m) = psi {
        line(out, "PSI", &m.judged, String::new());
    }
    let ks = w.ks.filter(|m| flagged(&m.judged));
    if let Some(m) = ks {
        line(out, "KS D", &m.judged, String::new());
    }
    if let Some(m) = w.js.filter(|m| flagged(&m.judged)) {
        line(out, "JS", &m.judged, format!(", {} documents", m.documents));
    }
    if (psi.is_some() || ks.is_some())
        && let (Some(now), Some(then)) = (w.top1, w.baseline.as_ref().and_then(|b| b.top1))
    {
        let way = match w.shift {
            Some(Shift::Worse) => "worse",
            Some(Shift::Better) => "better",
            _ => "unchanged",
        };
        let _ = writeln!(
            out,
            "    top-1 median {} -> {} ({way})",
            num(then.p50),
            num(now.p50)
        );
    }
    if let Some(psi) = psi {
        for &i in &psi.moved_most {
            let bin = &psi.bins[i];
            let _ = writeln!(
                out,
                "    score {}: {:.1}% of baseline, {:.1}% now",
                range(bin.lower, bin.upper),
                bin.baseline * 100.0,
                bin.window * 100.0
            );
        }
    }
    for note in w
        .notes
        .iter()
        .filter(|n| !n.starts_with("score direction "))
    {
        let _ = writeln!(out, "    {}", clip(note, 74));
    }
}

fn p_value(p: f64) -> String {
    if p < 1e-16 {
        "< 1e-16".to_owned()
    } else {
        format!("{p:.0e}")
    }
}

fn range(lower: Option<f64>, upper: Option<f64>) -> String {
    match (lower, upper) {
        (None, Some(u)) => format!("below {}", num(u)),
        (Some(l), None) => format!("{} and above", num(l)),
        (Some(l), Some(u)) => format!("{} to {}", num(l), num(u)),
        (None, None) => "all".to_owned(),
    }
}

fn label(start: SystemTime, daily: bool) -> String {
    let Ok(ts) = jiff::Timestamp::try_from(start) else {
        return "?".to_owned();
    };
    let zoned = ts.to_zoned(jiff::tz::TimeZone::UTC);
    if daily {
        zoned.strftime("%Y-%m-%d").to_string()
    } else {
        zoned.strftime("%m-%d %H:%M").to_string()
    }
}

/// A score in at most 6 characters.
fn num(v: f64) -> String {
    let a = v.abs();
    let text = if a < 10.0 {
        format!("{v:.3}")
    } else if a < 100.0 {
        format!("{v:.2}")
    } else if a < 1000.0 {
        format!("{v:.1}")
    } else if a < 99_999.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.0e}")
    };
    if text.len() > 6 && a < 10.0 {
        format!("{v:.2}")
    } else {
        text
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_else(|| "-".to_owned())
}

fn percent(v: Option<f64>) -> String {
    match v {
        Some(r) if r >= 0.9995 => "100%".to_owned(),
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "-".to_owned(),
    }
}

fn judged(m: Option<&Judged>) -> String {
    match m {
        None => "-".to_owned(),
        Some(j) => {
            let value = if j.value >= 9.995 {
                format!("{:.0}", j.value.min(999.0))
            } else {
                format!("{:.2}", j.value)
            };
            if j.held_back {
                format!("{value}?")
            } else {
                value
            }
        }
    }
}

fn short(v: Verdict) -> &'static str {
    match v {
        Verdict::InsufficientData => "too few",
        Verdict::Ok => "ok",
        Verdict::Warn => "WARN",
        Verdict::Alert => "ALERT",
    }
}

fn shout(v: Verdict) -> &'static str {
    match v {
        Verdict::InsufficientData => "insufficient data",
        Verdict::Ok => "ok",
        Verdict::Warn => "WARN",
        Verdict::Alert => "ALERT",
    }
}

/// A collection name comes from traces and must not drive the terminal.
use crate::analysis::text::terminal_safe as safe;

fn clip(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_drive_the_terminal() {
        assert_eq!(safe("kb\u{1b}[31m"), "kb\\u{1b}[31m");
        assert_eq!(clip("abcdef", 3), "abc...");
    }

    #[test]
    fn numbers_fit_their_columns() {
        for v in [
            0.0, 0.123_456, -0.98765, 9.9996, 12.345, 123.45, 4321.0, 1e9, -1e9,
        ] {
            assert!(num(v).len() <= 6, "{v} -> {}", num(v));
        }
        assert_eq!(percent(Some(0.1234)), "12.3%");
        assert_eq!(percent(Some(1.0)), "100%");
    }
}
