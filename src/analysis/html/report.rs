//! [`report_html`]: a cost [`Report`] as a page.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use super::charts::{self, Series, Unit};
use super::{Level, Page, Table};
use crate::analysis::{GroupRow, Report, TimeBucket, TimeRange};
use crate::pricing::Usd;

/// Series drawn at most in a stacked chart; the rest are one `(other)`.
const MAX_SERIES: usize = 7;

/// The report as one self-contained HTML page: headline figures, cost over
/// time stacked by model and by step, the per-request cost histogram,
/// latency per step, then the tables (groups, steps, the most expensive
/// requests, unpriced models). Money in text and tables is exact.
pub fn report_html(report: &Report) -> String {
    let t = &report.total;
    let mut page = Page::new("ragtrace cost report");
    page.subtitle(format!(
        "{} · grouped by {}",
        range_text(&report.range),
        report.group_by.as_str()
    ));

    page.section("Summary");
    let mut stats = vec![
        ("Requests", count(t.requests)),
        ("Total cost", cost(t)),
        ("Cost per request, median", money(t.cost.p50)),
        ("95th percentile", money(t.cost.p95)),
        ("Latency, median", duration(t.latency.p50)),
        (
            "Tokens in / out",
            format!(
                "{} / {}",
                count(t.totals.tokens.input),
                count(t.totals.tokens.output)
            ),
        ),
    ];
    if t.totals.errors > 0 {
        stats.push(("Failed spans", count(t.totals.errors)));
    }
    page.stats(stats);
    if t.requests == 0 {
        page.notice(Level::Info, "No requests in this range.");
    }
    let unknown = t.totals.unpriced_spans + t.totals.partial_spans;
    if unknown > 0 {
        page.notice(
            Level::Warn,
            format!(
                "{} model calls have no price or only part of one: the total is what is known, not all that was spent (see Unpriced models).",
                count(unknown)
            ),
        );
    }
    let estimated = report.estimated_share();
    if estimated > 0.0 {
        page.notice(
            Level::Info,
            format!(
                "{} of the known cost ({}) rests on token counts estimated with a tokenizer.",
                percent(estimated),
                money(t.totals.estimated_cost)
            ),
        );
    }

    if !report.timeline.is_empty() {
        let starts: Vec<SystemTime> = report.timeline.iter().map(|b| b.start).collect();
        let per = if report.bucket >= Duration::from_secs(86_400) {
            "day"
        } else {
            "hour"
        };
        page.section("Cost over time");
        let by_model = stacked(&report.timeline, |b| &b.by_model, false);
        page.figure(
            format!("Cost per {per}, by model"),
            &charts::stacked_bars(
                &format!("Cost per {per}, stacked by model"),
                &starts,
                report.bucket,
                &by_model,
                Unit::Usd,
            ),
        );
        let by_step = stacked(&report.timeline, |b| &b.by_step, true);
        page.figure(
            format!("Cost per {per}, by step"),
            &charts::stacked_bars(
                &format!("Cost per {per}, stacked by step"),
                &starts,
                report.bucket,
                &by_step,
                Unit::Usd,
            ),
        );
    }

    if !report.cost_histogram.counts.is_empty() {
        let h = &report.cost_histogram;
        let width = h.width.to_f64();
        let edges: Vec<f64> = (0..=h.counts.len()).map(|i| width * i as f64).collect();
        page.section("Cost per request");
        page.figure(
            "Requests by cost",
            &charts::histogram(
                "Histogram of the cost per request",
                "requests",
                &edges,
                &h.counts,
                Unit::Usd,
            ),
        );
        let last = h.width.times(h.counts.len().saturating_sub(1) as u64);
        page.text(format!(
            "Bins are {} wide; the last one also holds every request above {}. Mean {}, median {}, 95th percentile {}, largest {}.",
            money(h.width),
            money(last),
            money(t.cost.mean),
            money(t.cost.p50),
            money(t.cost.p95),
            money(t.cost.max)
        ));
    }

    if !report.steps.is_empty() {
        page.section("Latency per step");
        let names: Vec<String> = report.steps.iter().map(|s| s.key.clone()).collect();
        let secs = |f: fn(&GroupRow) -> Duration| -> Vec<f64> {
            report.steps.iter().map(|s| f(s).as_secs_f64()).collect()
        };
        page.figure(
            "Span duration by step",
            &charts::grouped_bars(
                "Median and 95th percentile span duration per step",
                &names,
                &[
                    Series::new("median", secs(|s| s.latency.p50)),
                    Series::new("95th percentile", secs(|s| s.latency.p95)),
                ],
                Unit::Seconds,
            ),
        );
        let mut table = Table::new(["Step", "Spans", "Cost", "Median", "95th pct", "Max"]);
        for i in 1..6 {
            table = table.numeric(i);
        }
        for s in &report.steps {
            table.row([
                s.key.clone(),
                count(s.totals.spans),
                cost(s),
                duration(s.latency.p50),
                duration(s.latency.p95),
                duration(s.latency.max),
            ]);
        }
        page.table(&table);
    }

    let unit = if report.group_by.by_span() {
        "span"
    } else {
        "request"
    };
    page.section(format!("By {}", report.group_by.as_str()));
    let mut table = Table::new([
        report.group_by.as_str().to_owned(),
        "Requests".into(),
        "Tokens in / out".into(),
        "Cost".into(),
        "Share".into(),
        format!("Cost/{unit} median"),
        "95th pct".into(),
        "Time median".into(),
        "95th pct".into(),
    ]);
    for i in 1..9 {
        table = table.numeric(i);
    }
    let share = |g: &GroupRow| {
        let total = t.totals.cost.picos();
        if total == 0 {
            String::from("-")
        } else {
            percent(g.totals.cost.picos() as f64 / total as f64)
        }
    };
    let mut unknown_cost = false;
    for g in report.groups.iter().chain(std::iter::once(t)) {
        unknown_cost |= g.totals.unpriced_spans > 0;
        let cells = [
            if std::ptr::eq(g, t) {
                String::from("total")
            } else {
                g.key.clone()
            },
            count(g.requests),
            format!(
                "{} / {}",
                count(g.totals.tokens.input),
                count(g.totals.tokens.output)
            ),
            cost(g),
            share(g),
            spread(g, g.cost.p50),
            spread(g, g.cost.p95),
            duration(g.latency.p50),
            duration(g.latency.p95),
        ];
        if std::ptr::eq(g, t) {
            table.marked_row(Level::Info, cells);
        } else {
            table.row(cells);
        }
    }
    page.table(&table);
    if unknown_cost {
        page.text(
            "+ ? marks groups with model calls that have no price: they cost more than shown, by an unknown amount.",
        );
    }

    if !report.top_requests.is_empty() {
        page.section("Most expensive requests");
        let mut table = Table::new([
            "Trace",
            "Started (UTC)",
            "Request",
            "User",
            "Cost",
            "Duration",
            "Steps",
        ])
        .mono(0)
        .nowrap(1)
        .numeric(4)
        .numeric(5);
        for top in &report.top_requests {
            let r = &top.request;
            let steps = top
                .steps
                .iter()
                .map(|s| {
                    if s.models.is_empty() {
                        format!("{} {}", s.step, money(s.totals.cost))
                    } else {
                        format!("{} ({}) {}", s.step, s.models, money(s.totals.cost))
                    }
                })
                .collect::<Vec<_>>()
                .join(" · ");
            let cells = [
                r.trace_id.to_string(),
                stamp(r.start),
                r.name.clone(),
                r.user_id.clone().unwrap_or_default(),
                if r.totals.unpriced_spans > 0 {
                    format!("{} + ?", money(r.cost))
                } else {
                    money(r.cost)
                },
                duration(r.duration),
                steps,
            ];
            if r.status == "error" {
                table.marked_row(Level::Alert, cells);
            } else {
                table.row(cells);
            }
        }
        page.table(&table);
    }

    if !report.unpriced.is_empty() {
        page.section("Unpriced models");
        page.notice(
            Level::Warn,
            "These models' calls have no price (or none for some usage kind): their cost is unknown, not zero. Add prices with RAGTRACE_PRICING_DIR, then re-ingest or re-price.",
        );
        let mut table = Table::new(["Model", "Unpriced spans", "Partly priced spans"])
            .numeric(1)
            .numeric(2);
        for m in &report.unpriced {
            table.row([
                m.model.clone(),
                count(m.unpriced_spans),
                count(m.partial_spans),
            ]);
        }
        page.table(&table);
    }

    page.render()
}

/// One series per name over the buckets, the costliest first (or in
/// pipeline order for steps), at most [`MAX_SERIES`] with the rest summed.
fn stacked(
    timeline: &[TimeBucket],
    parts: impl Fn(&TimeBucket) -> &Vec<(String, crate::analysis::Amount)>,
    pipeline_order: bool,
) -> Vec<Series> {
    let mut totals: HashMap<&str, Usd> = HashMap::new();
    for bucket in timeline {
        for (name, amount) in parts(bucket) {
            *totals.entry(name.as_str()).or_default() += amount.0;
        }
    }
    let mut names: Vec<&str> = totals.keys().copied().collect();
    names.sort_by(|a, b| {
        if pipeline_order {
            (step_rank(a), *a).cmp(&(step_rank(b), *b))
        } else {
            totals[b].cmp(&totals[a]).then(a.cmp(b))
        }
    });
    let other = "(other)";
    let mut kept: Vec<&str> = names.iter().copied().filter(|n| *n != other).collect();
    let overflow = kept.len() > MAX_SERIES || totals.contains_key(other);
    if kept.len() > MAX_SERIES {
        kept.truncate(MAX_SERIES - 1);
    }
    let mut series: Vec<Series> = kept
        .iter()
        .map(|name| {
            let values = timeline
                .iter()
                .map(|b| {
                    parts(b)
                        .iter()
                        .filter(|(n, _)| n == name)
                        .map(|(_, a)| a.0)
                        .sum::<Usd>()
                        .to_f64()
                })
                .collect();
            Series::new(*name, values)
        })
        .collect();
    if overflow {
        let values = timeline
            .iter()
            .map(|b| {
                parts(b)
                    .iter()
                    .filter(|(n, _)| !kept.contains(&n.as_str()))
                    .map(|(_, a)| a.0)
                    .sum::<Usd>()
                    .to_f64()
            })
            .collect();
        series.push(Series::new(other, values));
    }
    series
}

/// Where a step comes in a RAG request, for ordering.
fn step_rank(step: &str) -> usize {
    match step {
        "request" => 0,
        "embeddings" => 1,
        "retrieval" => 2,
        "rerank" => 3,
        "prompt" => 4,
        "chat" => 5,
        _ => 6,
    }
}

/// Money as the result holds it: exact, with a dollar sign.
pub(super) fn money(amount: Usd) -> String {
    if amount.picos() < 0 {
        format!("-${}", Usd::from_picos(-amount.picos()))
    } else {
        format!("${amount}")
    }
}

/// A count with thousands separators.
pub(super) use crate::analysis::text::thousands as count;

/// A share as a percentage.
pub(super) fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p > 0.0 && p < 0.1 {
        String::from("<0.1%")
    } else {
        format!("{p:.1}%")
    }
}

/// A group's known cost, `+ ?` when some of its model calls have no price.
fn cost(g: &GroupRow) -> String {
    let known = money(g.totals.cost);
    if g.totals.unpriced_spans > 0 {
        format!("{known} + ?")
    } else {
        known
    }
}

/// A cost spread figure; `-` for a group with no priced model call
/// (nothing to spread, or only unknown costs).
fn spread(g: &GroupRow, amount: Usd) -> String {
    let t = &g.totals;
    if t.priced_spans + t.partial_spans > 0 || !t.cost.is_zero() {
        money(amount)
    } else {
        String::from("-")
    }
}

/// `812 µs`, `12.1 ms`, `3.40 s`, `2m 05s`, as the text report writes them.
pub(super) fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 0.001 {
        format!("{} µs", d.as_micros())
    } else if secs < 1.0 {
        format!("{:.1} ms", secs * 1000.0)
    } else if secs < 60.0 {
        format!("{secs:.2} s")
    } else {
        format!("{}m {:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// A time in UTC to the second.
pub(super) fn stamp(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The range a result covers, in words.
pub(super) fn range_text(range: &TimeRange) -> String {
    match (range.since, range.until) {
        (None, None) => String::from("All stored requests"),
        (since, until) => format!(
            "{} to {} UTC",
            since.map_or_else(|| String::from("the first request"), stamp),
            until.map_or_else(|| String::from("now"), stamp)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_exactly() {
        assert_eq!(money("0.000123456789".parse().unwrap()), "$0.000123456789");
        assert_eq!(money(Usd::from_picos(-5)), "-$0.000000000005");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(percent(0.0004), "<0.1%");
        assert_eq!(duration(Duration::from_millis(1234)), "1.23 s");
        assert_eq!(duration(Duration::from_micros(42_400)), "42.4 ms");
        assert_eq!(duration(Duration::from_micros(812)), "812 µs");
        assert_eq!(duration(Duration::from_secs(125)), "2m 05s");
    }
}
