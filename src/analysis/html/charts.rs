//! The few chart kinds the reports need, drawn as SVG by `plotters`.
//!
//! Each function takes plain data (times, names, numbers) and returns a
//! [`Figure`]: the SVG markup plus a legend that [`Page`](super::Page)
//! writes as escaped HTML next to it. Text inside the SVG (tick labels,
//! category names) is escaped by plotters' SVG backend; no text is laid
//! out with a font here, the browser does that.
//!
//! Chart values are `f64` for drawing only: money on an axis is a
//! rounded tick label, and the exact amounts live in the tables beside.

use std::time::{Duration, SystemTime};

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;

use super::escape;

/// Width of a chart's drawing, in SVG user units (it scales with the page).
const WIDTH: u32 = 760;
/// Height of a chart's drawing.
const HEIGHT: u32 = 280;

/// Colour-blind-safe series colours (Okabe and Ito), in order of use.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(120, 94, 240),  // violet
    RGBColor(140, 140, 140), // grey
];
const INK: RGBColor = RGBColor(51, 51, 51);
const GRID: RGBColor = RGBColor(225, 228, 232);
const WARN: RGBColor = RGBColor(230, 159, 0);
const ALERT: RGBColor = RGBColor(204, 37, 41);
const MUTED: RGBColor = RGBColor(150, 150, 150);
const BAND: RGBColor = RGBColor(0, 158, 115);

/// The colour of the `index`-th series, as CSS.
pub fn series_color(index: usize) -> String {
    css(PALETTE[index % PALETTE.len()])
}

fn css(color: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", color.0, color.1, color.2)
}

/// What a value axis counts, which decides how its ticks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unit {
    /// US dollars (`$0.0012`).
    Usd,
    /// Seconds (`350 ms`, `1.2 s`).
    Seconds,
    /// A count (`12`).
    Count,
    /// A share of a whole, given as a fraction (`0.25` reads `25%`).
    Share,
    /// A plain number (`0.87`).
    Number,
}

impl Unit {
    /// A tick label for `value`.
    pub fn tick(self, value: f64) -> String {
        match self {
            Unit::Usd if value < 0.0 => format!("-${}", short(-value)),
            Unit::Usd => format!("${}", short(value)),
            Unit::Seconds if value.abs() < 1.0 && value != 0.0 => {
                format!("{} ms", short(value * 1000.0))
            }
            Unit::Seconds => format!("{} s", short(value)),
            // Half a request is no count: such ticks stay unlabelled.
            Unit::Count if value.fract() != 0.0 => String::new(),
            Unit::Count => short(value),
            Unit::Share => format!("{}%", short(value * 100.0)),
            Unit::Number => short(value),
        }
    }
}

/// `value` with about three significant digits, trailing zeros dropped.
fn short(value: f64) -> String {
    if !value.is_finite() {
        return String::from("?");
    }
    if value == 0.0 {
        return String::from("0");
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 12) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// One legend entry: a name and its colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegendEntry {
    /// The series name, as given (escaped when written).
    pub name: String,
    /// A CSS colour.
    pub color: String,
    /// How the entry is drawn.
    pub swatch: Swatch,
}

/// How a legend entry's colour is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Swatch {
    /// A filled square (bars, bands).
    Box,
    /// A short line.
    Line,
    /// A dot (marked points).
    Dot,
    /// A triangle (points off the scale).
    Triangle,
}

/// A drawn chart: SVG markup and its legend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    svg: String,
    legend: Vec<LegendEntry>,
}

impl Figure {
    /// The SVG element (safe to embed: every text in it is escaped).
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// The legend, in series order.
    pub fn legend(&self) -> &[LegendEntry] {
        &self.legend
    }

    fn new(svg: String, description: &str, legend: Vec<LegendEntry>) -> Figure {
        // Make the drawing scale with the page and describe it to readers
        // that cannot see it.
        let svg = match svg.find("<svg ") {
            Some(at) => format!(
                "{}<svg role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMidYMid meet\" {}",
                &svg[..at],
                escape(description),
                &svg[at + 5..]
            ),
            None => svg,
        };
        Figure { svg, legend }
    }
}

/// A named series of values, one per position on the shared axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The name shown in the legend.
    pub name: String,
    /// The values, one per position.
    pub values: Vec<f64>,
}

impl Series {
    /// A series.
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Series {
        Series {
            name: name.into(),
            values,
        }
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws into a fresh SVG; a chart that fails to draw becomes a short
/// message in its place rather than a broken page.
fn draw(
    description: &str,
    legend: Vec<LegendEntry>,
    paint: impl FnOnce(&Area) -> DrawResult,
) -> Figure {
    let mut svg = String::new();
    let outcome = {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        paint(&root).and_then(|()| root.present().map_err(Into::into))
    };
    match outcome {
        Ok(()) => Figure::new(svg, description, legend),
        Err(error) => Figure {
            svg: format!(
                "<p class=\"chart-error\">This chart could not be drawn: {}</p>",
                escape(&error.to_string())
            ),
            legend: Vec::new(),
        },
    }
}

fn label_font() -> TextStyle<'static> {
    ("sans-serif", 15).into_font().color(&INK)
}

/// A linear axis with ticks where the chart says (round times, category
/// centres) rather than at plotters' round numbers.
struct Ticked {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
}

trait TicksAt {
    fn ticks_at(self, ticks: Vec<f64>) -> Ticked;
}

impl TicksAt for std::ops::Range<f64> {
    fn ticks_at(self, ticks: Vec<f64>) -> Ticked {
        Ticked { range: self, ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if span <= 0.0 {
            return limit.0;
        }
        let share = (value - self.range.start) / span;
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

/// Seconds since the Unix epoch, as a chart coordinate.
fn secs(time: SystemTime) -> f64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => after.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

/// Tick positions on a time axis from `start` to `end` (seconds) at a
/// round step, and the step.
fn time_ticks(start: f64, end: f64) -> (Vec<f64>, f64) {
    const STEPS: [f64; 16] = [
        1.0,
        5.0,
        15.0,
        60.0,
        300.0,
        900.0,
        1800.0,
        3600.0,
        3.0 * 3600.0,
        6.0 * 3600.0,
        12.0 * 3600.0,
        86_400.0,
        2.0 * 86_400.0,
        7.0 * 86_400.0,
        14.0 * 86_400.0,
        28.0 * 86_400.0,
    ];
    let span = (end - start).max(1.0);
    let step = STEPS
        .iter()
        .copied()
        .find(|step| span / step <= 7.0)
        .unwrap_or_else(|| (span / 7.0 / 86_400.0).ceil() * 86_400.0);
    let mut ticks = Vec::new();
    let mut tick = (start / step).ceil() * step;
    // A label centred on the right edge would be cut off.
    let last = end - span * 0.06;
    while tick <= last && ticks.len() < 64 {
        ticks.push(tick);
        tick += step;
    }
    (ticks, step)
}

/// A tick label on a time axis (UTC).
fn time_label(secs: f64, step: f64) -> String {
    let Ok(time) = jiff::Timestamp::from_second(secs.round() as i64) else {
        return String::new();
    };
    let format = if step >= 86_400.0 {
        "%b %d"
    } else if step >= 60.0 {
        "%b %d %H:%M"
    } else {
        "%H:%M:%S"
    };
    time.strftime(format).to_string()
}

/// Pads `[low, high]` so the drawing does not touch the frame, and makes
/// an empty range a visible one.
fn padded(low: f64, high: f64, from_zero: bool) -> (f64, f64) {
    let (low, high) = if low.is_finite() && high.is_finite() {
        (low, high)
    } else {
        (0.0, 1.0)
    };
    let low = if from_zero { low.min(0.0) } else { low };
    if high - low <= f64::EPSILON * high.abs().max(1.0) {
        let pad = if high == 0.0 { 1.0 } else { high.abs() * 0.1 };
        return (if from_zero { low } else { low - pad }, high + pad);
    }
    let pad = (high - low) * 0.08;
    (if from_zero { low } else { low - pad }, high + pad)
}

/// Bars over time, each bar split by series (cost by model, by step).
///
/// `starts[i]` is the start of the `i`-th time bucket, each `width` long;
/// every series has one value per bucket. Series are stacked in order,
/// the first at the bottom.
pub fn stacked_bars(
    description: &str,
    starts: &[SystemTime],
    width: Duration,
    series: &[Series],
    unit: Unit,
) -> Figure {
    let legend = series
        .iter()
        .enumerate()
        .map(|(i, s)| LegendEntry {
            name: s.name.clone(),
            color: series_color(i),
            swatch: Swatch::Box,
        })
        .collect();
    draw(description, legend, |root| {
        root.fill(&WHITE)?;
        let width = width.as_secs_f64().max(1.0);
        let first = starts
            .iter()
            .copied()
            .map(secs)
            .fold(f64::INFINITY, f64::min);
        let last = starts
            .iter()
            .copied()
            .map(secs)
            .fold(f64::NEG_INFINITY, f64::max);
        let (x0, x1) = if first.is_finite() {
            (first, last + width)
        } else {
            (0.0, width)
        };
        // A few buckets would each fill half the chart: show at least
        // eight buckets' worth of time, the data in the middle.
        let room = (width * 8.0 - (x1 - x0)).max(0.0) / 2.0;
        let (x0, x1) = (x0 - room, x1 + room);
        let top = (0..starts.len())
            .map(|i| series.iter().map(|s| value_at(&s.values, i)).sum::<f64>())
            .fold(0.0, f64::max);
        let (_, y1) = padded(0.0, top, true);
        let (ticks, step) = time_ticks(x0, x1);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(34)
            .y_label_area_size(76)
            .build_cartesian_2d((x0..x1).ticks_at(ticks), 0.0..y1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(MUTED)
            .label_style(label_font())
            .y_labels(6)
            .x_label_formatter(&|x| time_label(*x, step))
            .y_label_formatter(&|y| unit.tick(*y))
            .draw()?;
        let gap = width * 0.08;
        for (i, start) in starts.iter().enumerate() {
            let left = secs(*start) + gap;
            let right = secs(*start) + width - gap;
            let mut base = 0.0;
            for (k, s) in series.iter().enumerate() {
                let value = value_at(&s.values, i);
                if value <= 0.0 {
                    continue;
                }
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(left, base), (right, base + value)],
                    PALETTE[k % PALETTE.len()].filled(),
                )))?;
                base += value;
            }
        }
        Ok(())
    })
}

fn value_at(values: &[f64], i: usize) -> f64 {
    values
        .get(i)
        .copied()
        .filter(|v| v.is_finite())
        .unwrap_or(0.0)
}

/// Counts in bins: `edges` has one more entry than `counts`, and bin `i`
/// is `[edges[i], edges[i + 1])`.
pub fn histogram(
    description: &str,
    name: &str,
    edges: &[f64],
    counts: &[u64],
    unit: Unit,
) -> Figure {
    let legend = vec![LegendEntry {
        name: name.to_owned(),
        color: series_color(0),
        swatch: Swatch::Box,
    }];
    let bins: Vec<(f64, f64, f64)> = edges
        .windows(2)
        .zip(counts)
        .map(|(edge, count)| (edge[0], edge[1], *count as f64))
        .collect();
    draw(description, legend, |root| {
        root.fill(&WHITE)?;
        let (x0, x1) = x_extent(&bins);
        let top = bins.iter().map(|b| b.2).fold(0.0, f64::max);
        // Counts tick at whole numbers: give small counts room for five.
        let (_, y1) = padded(0.0, top.max(5.0), true);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(34)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0.0..y1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(MUTED)
            .label_style(label_font())
            .x_labels(8)
            .y_labels(6)
            .x_label_formatter(&|x| unit.tick(*x))
            .y_label_formatter(&|y| Unit::Count.tick(*y))
            .draw()?;
        chart.draw_series(bins.iter().filter(|b| b.2 > 0.0).map(|(low, high, count)| {
            let gap = (high - low) * 0.04;
            Rectangle::new(
                [(low + gap, 0.0), (high - gap, *count)],
                PALETTE[0].filled(),
            )
        }))?;
        Ok(())
    })
}

fn x_extent(bins: &[(f64, f64, f64)]) -> (f64, f64) {
    let low = bins.iter().map(|b| b.0).fold(f64::INFINITY, f64::min);
    let high = bins.iter().map(|b| b.1).fold(f64::NEG_INFINITY, f64::max);
    if low.is_finite() && high.is_finite() && high > low {
        (low, high)
    } else if low.is_finite() {
        (low, low + 1.0)
    } else {
        (0.0, 1.0)
    }
}

/// Two distributions over the same bins, side by side in each bin, as
/// shares of their own totals (so samples of different sizes compare):
/// the baseline and the latest window of a drift report. The values may
/// be counts or fractions; each side is scaled to sum to one.
pub fn paired_histogram(
    description: &str,
    edges: &[f64],
    first: (&str, &[f64]),
    second: (&str, &[f64]),
    unit: Unit,
) -> Figure {
    let legend = vec![
        LegendEntry {
            name: first.0.to_owned(),
            color: css(MUTED),
            swatch: Swatch::Box,
        },
        LegendEntry {
            name: second.0.to_owned(),
            color: series_color(0),
            swatch: Swatch::Box,
        },
    ];
    let shares = |values: &[f64]| -> Vec<f64> {
        let total: f64 = values.iter().filter(|v| v.is_finite() && **v > 0.0).sum();
        values
            .iter()
            .map(|v| {
                if total > 0.0 && v.is_finite() && *v > 0.0 {
                    v / total
                } else {
                    0.0
                }
            })
            .collect()
    };

    let (a, b) = (shares(first.1), shares(second.1));
    draw(description, legend, |root| {
        root.fill(&WHITE)?;
        let bins: Vec<(f64, f64, f64)> = edges.windows(2).map(|e| (e[0], e[1], 0.0)).collect();
        let (x0, x1) = x_extent(&bins);
        let top = a.iter().chain(&b).copied().fold(0.0, f64::max);
        let (_, y1) = padded(0.0, top, true);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(34)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0.0..y1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(MUTED)
            .label_style(label_font())
            .x_labels(10)
            .y_labels(6)
            .x_label_formatter(&|x| unit.tick(*x))
            .y_label_formatter(&|y| Unit::Share.tick(*y))
            .draw()?;
        for (i, (low, high, _)) in bins.iter().enumerate() {
            let gap = (high - low) * 0.06;
            let middle = (low + high) / 2.0;
            let left = value_at(&a, i);
            let right = value_at(&b, i);
            if left > 0.0 {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(low + gap, 0.0), (middle, left)],
                    MUTED.filled(),
                )))?;
            }
            if right > 0.0 {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(middle, 0.0), (high - gap, right)],
                    PALETTE[0].filled(),
                )))?;
            }
        }
        Ok(())
    })
}

/// How a point on a [`band_line`] is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mark {
    /// Within the baseline's band.
    Normal,
    /// A warning.
    Warn,
    /// An alert.
    Alert,
    /// Too little data for a value or a verdict.
    Insufficient,
}

/// One window's value on a [`band_line`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    /// Where on the time axis (a window's start or middle).
    pub at: SystemTime,
    /// The value; `None` where there was none (too little data).
    pub value: Option<f64>,
    /// The band the value is judged against at this point, `(low, high)`.
    pub band: Option<(f64, f64)>,
    /// How the point is marked.
    pub mark: Mark,
}

/// A horizontal reference line on a [`band_line`] (a warn or alert level).
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The legend name (`warn at 0.1`).
    pub name: String,
    /// Its value.
    pub value: f64,
    /// `Warn` or `Alert` colours it.
    pub mark: Mark,
}

/// A metric over time against its baseline band, with warnings and
/// alerts marked.
pub fn band_line(
    description: &str,
    metric: &str,
    points: &[BandPoint],
    thresholds: &[Threshold],
    unit: Unit,
) -> Figure {
    let mut legend = vec![LegendEntry {
        name: metric.to_owned(),
        color: series_color(0),
        swatch: Swatch::Line,
    }];
    if points.iter().any(|p| p.band.is_some()) {
        legend.push(LegendEntry {
            name: String::from("baseline band"),
            color: css(BAND),
            swatch: Swatch::Box,
        });
    }
    for threshold in thresholds {
        legend.push(LegendEntry {
            name: threshold.name.clone(),
            color: css(mark_color(threshold.mark)),
            swatch: Swatch::Line,
        });
    }
    for (mark, name) in [
        (Mark::Warn, "warning"),
        (Mark::Alert, "alert"),
        (Mark::Insufficient, "insufficient data"),
    ] {
        if points.iter().any(|p| p.mark == mark) {
            legend.push(LegendEntry {
                name: name.to_owned(),
                color: css(mark_color(mark)),
                swatch: Swatch::Dot,
            });
        }
    }
    // A value far beyond the alert level would squash the band and the
    // levels into the floor: past five times the highest level the scale
    // stops, and such points sit on the top edge as triangles. (KS D and
    // JS never reach that with their usual levels; PSI has no ceiling.)
    let top_level = thresholds
        .iter()
        .map(|t| t.value)
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(f64::NAN, f64::max);
    let cap = Some(top_level * 5.0).filter(|cap| {
        cap.is_finite()
            && points
                .iter()
                .filter_map(|p| p.value)
                .any(|v| v.is_finite() && v > *cap)
    });
    if let Some(cap) = cap {
        legend.push(LegendEntry {
            name: format!("above {} (drawn at the top)", unit.tick(cap)),
            color: css(INK),
            swatch: Swatch::Triangle,
        });
    }
    let shown = |v: f64| cap.map_or(v, |cap| v.min(cap));
    draw(description, legend, |root| {
        root.fill(&WHITE)?;
        let xs: Vec<f64> = points.iter().map(|p| secs(p.at)).collect();
        let first = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let last = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (x0, x1) = if !first.is_finite() {
            (0.0, 3600.0)
        } else if last - first < 1.0 {
            (first - 1800.0, first + 1800.0)
        } else {
            let pad = (last - first) * 0.03;
            (first - pad, last + pad)
        };
        let values = points
            .iter()
            .filter_map(|p| p.value.map(shown))
            .chain(
                points
                    .iter()
                    .filter_map(|p| p.band)
                    .flat_map(|(l, h)| [l, h]),
            )
            .chain(thresholds.iter().map(|t| t.value))
            .filter(|v| v.is_finite());
        let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        let (y0, y1) = padded(low, high, low >= 0.0 && low <= (high - low) * 0.5);
        let (ticks, step) = time_ticks(x0, x1);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(34)
            .y_label_area_size(64)
            .build_cartesian_2d((x0..x1).ticks_at(ticks), y0..y1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(MUTED)
            .label_style(label_font())
            .y_labels(6)
            .x_label_formatter(&|x| time_label(*x, step))
            .y_label_formatter(&|y| unit.tick(*y))
            .draw()?;
        // The band, one polygon per run of points that have one.
        for run in runs(points, |p| p.band.is_some()) {
            let band: Vec<(f64, (f64, f64))> = run
                .iter()
                .filter_map(|p| p.band.map(|b| (secs(p.at), b)))
                .collect();
            let widen = if band.len() == 1 {
                (x1 - x0) * 0.01
            } else {
                0.0
            };
            let upper = band.iter().map(|(x, (_, h))| (*x, *h));
            let lower = band.iter().rev().map(|(x, (l, _))| (*x, *l));
            let mut outline: Vec<(f64, f64)> = upper.chain(lower).collect();
            if widen > 0.0 {
                let (x, (l, h)) = band[0];
                outline = vec![
                    (x - widen, h),
                    (x + widen, h),
                    (x + widen, l),
                    (x - widen, l),
                ];
            }
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                BAND.mix(0.16).filled(),
            )))?;
        }
        for threshold in thresholds {
            chart.draw_series(DashedLineSeries::new(
                [(x0, threshold.value), (x1, threshold.value)],
                6,
                4,
                mark_color(threshold.mark).stroke_width(1),
            ))?;
        }
        for run in runs(points, |p| p.value.is_some()) {
            chart.draw_series(LineSeries::new(
                run.iter()
                    .filter_map(|p| p.value.map(|v| (secs(p.at), shown(v)))),
                PALETTE[0].stroke_width(2),
            ))?;
        }
        for point in points {
            let x = secs(point.at);
            if let (Some(v), Some(cap)) = (point.value, cap)
                && v > cap
            {
                chart.draw_series(std::iter::once(TriangleMarker::new(
                    (x, cap),
                    8,
                    mark_color(point.mark).filled(),
                )))?;
                continue;
            }
            match (point.value, point.mark) {
                (Some(v), Mark::Normal) => {
                    chart.draw_series(std::iter::once(Circle::new(
                        (x, v),
                        3,
                        PALETTE[0].filled(),
                    )))?;
                }
                (Some(v), mark @ (Mark::Warn | Mark::Alert)) => {
                    chart.draw_series(std::iter::once(Circle::new(
                        (x, v),
                        if mark == Mark::Alert { 7 } else { 6 },
                        mark_color(mark).filled(),
                    )))?;
                    chart.draw_series(std::iter::once(Circle::new(
                        (x, v),
                        if mark == Mark::Alert { 7 } else { 6 },
                        WHITE.stroke_width(1),
                    )))?;
                }
                (value, _) => {
                    // No value, or too little data for a verdict: a hollow
                    // grey mark (on the floor when there is no value).
                    let y = value.unwrap_or(y0 + (y1 - y0) * 0.03);
                    chart.draw_series(std::iter::once(Circle::new(
                        (x, y),
                        4,
                        MUTED.stroke_width(2),
                    )))?;
                }
            }
        }
        Ok(())
    })
}

fn mark_color(mark: Mark) -> RGBColor {
    match mark {
        Mark::Normal => PALETTE[0],
        Mark::Warn => WARN,
        Mark::Alert => ALERT,
        Mark::Insufficient => MUTED,
    }
}

/// Maximal runs of consecutive points that satisfy `keep`.
fn runs(points: &[BandPoint], keep: impl Fn(&BandPoint) -> bool) -> Vec<&[BandPoint]> {
    points
        .split(|p| !keep(p))
        .filter(|run| !run.is_empty())
        .collect()
}

/// Horizontal bars, one group per category and one bar per series in each
/// group (latency per step: median and 95th percentile).
pub fn grouped_bars(
    description: &str,
    categories: &[String],
    series: &[Series],
    unit: Unit,
) -> Figure {
    let legend = series
        .iter()
        .enumerate()
        .map(|(i, s)| LegendEntry {
            name: s.name.clone(),
            color: series_color(i),
            swatch: Swatch::Box,
        })
        .collect();
    // Long names are cut in the drawing (the tables show them whole).
    let names: Vec<String> = categories.iter().map(|c| clip(c, 28)).collect();
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    draw(description, legend, |root| {
        root.fill(&WHITE)?;
        let n = categories.len().max(1);
        let top = series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let (_, x1) = padded(0.0, top, true);
        let keys: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(34)
            .y_label_area_size((longest as u32 * 8 + 16).clamp(60, 240))
            .build_cartesian_2d(0.0..x1, (0.0..n as f64).ticks_at(keys))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(MUTED)
            .label_style(label_font())
            .x_labels(8)
            .x_label_formatter(&|x| unit.tick(*x))
            .y_label_formatter(&|y| {
                // Category 0 at the top.
                let row = n - 1 - (y.floor().max(0.0) as usize).min(n - 1);
                names.get(row).cloned().unwrap_or_default()
            })
            .draw()?;
        let k = series.len().max(1) as f64;
        let slot = 0.8 / k;
        for (row, _) in categories.iter().enumerate() {
            let base = (n - 1 - row) as f64 + 0.9;
            for (j, s) in series.iter().enumerate() {
                let value = value_at(&s.values, row);
                let top_edge = base - slot * j as f64;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, top_edge - slot * 0.9), (value, top_edge)],
                    PALETTE[j % PALETTE.len()].filled(),
                )))?;
            }
        }
        Ok(())
    })
}

/// `text` cut to `max` characters with an ellipsis.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn ticks_read_as_people_write_numbers() {
        assert_eq!(Unit::Usd.tick(0.0), "$0");
        assert_eq!(Unit::Usd.tick(0.00125), "$0.00125");
        assert_eq!(Unit::Usd.tick(0.0002), "$0.0002");
        assert_eq!(Unit::Usd.tick(12.5), "$12.5");
        assert_eq!(Unit::Seconds.tick(0.35), "350 ms");
        assert_eq!(Unit::Seconds.tick(1.25), "1.25 s");
        assert_eq!(Unit::Share.tick(0.25), "25%");
        assert_eq!(Unit::Count.tick(40.0), "40");
        assert_eq!(Unit::Count.tick(0.5), "");
        assert_eq!(Unit::Number.tick(f64::NAN), "?");
    }

    #[test]
    fn time_ticks_fall_on_round_times() {
        let (ticks, step) = time_ticks(1_764_460_800.0 + 100.0, 1_764_460_800.0 + 86_400.0);
        assert_eq!(step, 6.0 * 3600.0);
        assert!(ticks.iter().all(|t| t % step == 0.0));
        assert_eq!(time_label(ticks[0], step), "Nov 30 06:00");
        let (_, step) = time_ticks(0.0, 30.0 * 86_400.0);
        assert_eq!(step, 7.0 * 86_400.0);
    }

    #[test]
    fn category_names_are_escaped_inside_svg_text() {
        let evil = String::from("<script>alert(1)</script>\"><img src=x onerror=alert(2)>");
        let figure = grouped_bars(
            "latency",
            &[evil, String::from("chat")],
            &[Series::new("p50", vec![0.2, 0.4])],
            Unit::Seconds,
        );
        let svg = figure.svg();
        assert!(svg.starts_with("<svg role=\"img\""), "{svg}");
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<img"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
        assert!(svg.contains("<rect"), "{svg}");
    }

    #[test]
    fn values_far_past_the_levels_sit_on_the_top_edge() {
        let point = |h: u64, value: f64, mark: Mark| BandPoint {
            at: at(1_764_460_800 + h * 3600),
            value: Some(value),
            band: Some((0.0, 0.1)),
            mark,
        };
        let levels = [
            Threshold {
                name: "warn at 0.1".into(),
                value: 0.1,
                mark: Mark::Warn,
            },
            Threshold {
                name: "alert at 0.25".into(),
                value: 0.25,
                mark: Mark::Alert,
            },
        ];
        let figure = band_line(
            "psi",
            "PSI",
            &[point(0, 0.02, Mark::Normal), point(1, 8.3, Mark::Alert)],
            &levels,
            Unit::Number,
        );
        let names: Vec<&str> = figure.legend().iter().map(|e| e.name.as_str()).collect();
        assert!(
            names.contains(&"above 1.25 (drawn at the top)"),
            "{names:?}"
        );
        // The axis stops at the cap (plus padding), not at 8.3.
        assert!(!figure.svg().contains(">\n8\n<"), "{}", figure.svg());
        assert_eq!(figure.svg().matches("<polygon").count(), 2);

        let calm = band_line(
            "psi",
            "PSI",
            &[point(0, 0.02, Mark::Normal), point(1, 0.3, Mark::Alert)],
            &levels,
            Unit::Number,
        );
        assert!(calm.legend().iter().all(|e| !e.name.starts_with("above")));
    }

    #[test]
    fn every_kind_draws_shapes_also_from_empty_data() {
        let starts = [at(1_764_460_800), at(1_764_464_400)];
        let figures = [
            stacked_bars(
                "cost",
                &starts,
                Duration::from_secs(3600),
                &[
                    Series::new("a", vec![1.0, 2.0]),
                    Series::new("b", vec![0.5, 0.0]),
                ],
                Unit::Usd,
            ),
            histogram("h", "requests", &[0.0, 0.5, 1.0], &[3, 4], Unit::Usd),
            paired_histogram(
                "p",
                &[0.0, 0.5, 1.0],
                ("baseline", &[3.0, 4.0][..]),
                ("latest", &[1.0, 9.0][..]),
                Unit::Number,
            ),
            band_line(
                "psi",
                "PSI",
                &[
                    BandPoint {
                        at: starts[0],
                        value: Some(0.05),
                        band: Some((0.0, 0.1)),
                        mark: Mark::Normal,
                    },
                    BandPoint {
                        at: starts[1],
                        value: Some(0.3),
                        band: Some((0.0, 0.1)),
                        mark: Mark::Alert,
                    },
                ],
                &[Threshold {
                    name: "alert at 0.25".into(),
                    value: 0.25,
                    mark: Mark::Alert,
                }],
                Unit::Number,
            ),
        ];
        for figure in &figures {
            assert!(
                figure.svg().contains("<rect") || figure.svg().contains("<polygon"),
                "{}",
                figure.svg()
            );
            assert!(figure.svg().contains("<text"), "{}", figure.svg());
        }
        for empty in [
            stacked_bars("cost", &[], Duration::from_secs(60), &[], Unit::Usd),
            histogram("h", "requests", &[], &[], Unit::Usd),
            band_line("psi", "PSI", &[], &[], Unit::Number),
            grouped_bars("latency", &[], &[], Unit::Seconds),
        ] {
            assert!(empty.svg().starts_with("<svg"), "{}", empty.svg());
        }
    }
}
