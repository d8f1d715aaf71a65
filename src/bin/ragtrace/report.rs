//! `ragtrace report`: what requests cost, grouped, with the most
//! expensive requests and what is not priced.

use std::fmt::Write as _;

use ragtrace::analysis::{GroupBy, GroupRow, Report, ReportOptions, report_with_progress};

use crate::common::{DbArgs, Format, RangeArgs, emit, print_json};
use crate::text::{self, Column};

/// Reports cost, tokens and latency per group (mean, p50, p95, max), the
/// most expensive requests with their steps, grand totals, and what is not
/// priced. Money is exact: every total is the sum of the stored
/// picodollars.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    range: RangeArgs,
    /// What to group by.
    #[arg(long, value_enum, default_value_t = Group::Model)]
    group_by: Group,
    /// How many of the most expensive requests to list.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Groups listed at most; the rest are summed into one `(other N)` row.
    #[arg(long, default_value_t = 30)]
    max_groups: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write the report as one self-contained HTML page with charts
    /// (opens offline) to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
    #[command(flatten)]
    quiet: crate::progress::QuietArgs,
}

/// `--group-by` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Group {
    Request,
    Step,
    Model,
    Provider,
    User,
    Session,
    Name,
    Day,
    Hour,
}

impl From<Group> for GroupBy {
    fn from(group: Group) -> GroupBy {
        match group {
            Group::Request => GroupBy::Request,
            Group::Step => GroupBy::Step,
            Group::Model => GroupBy::Model,
            Group::Provider => GroupBy::Provider,
            Group::User => GroupBy::User,
            Group::Session => GroupBy::Session,
            Group::Name => GroupBy::Name,
            Group::Day => GroupBy::Day,
            Group::Hour => GroupBy::Hour,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let store = args.db.open()?;
    let options = ReportOptions::new()
        .range(args.range.range()?)
        .group_by(args.group_by.into())
        .top(args.top)
        .max_groups(args.max_groups);
    // Over the whole store the span count bounds the work; over a range it
    // is unknown, and the bar only counts.
    // (Counting 5M spans takes 0.2 s: only for a bar that is drawn.)
    let bound = if args.quiet.shows() && options.range == ragtrace::analysis::TimeRange::all() {
        store.count()?
    } else {
        0
    };
    let bar = args
        .quiet
        .bar(bound, crate::progress::Unit::Spans, "reading".to_owned());
    if bound == 0 {
        bar.unset_length();
    }
    let report = report_with_progress(&store, &options, &mut |spans| bar.set_position(spans))?;
    bar.finish_and_clear();
    if let Some(path) = &args.html {
        std::fs::write(path, ragtrace::analysis::html::report_html(&report))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Csv => print_csv(&report)?,
        Format::Table => {
            if report.total.requests == 0 {
                emit(&format!(
                    "no requests in {} for this range ({} spans stored)\n",
                    store.path().display(),
                    text::count(store.count()?)
                ))?;
            } else {
                emit(&render(&report, text::width()))?;
            }
        }
    }
    Ok(())
}

/// The report as text in `width` columns.
pub fn render(report: &Report, width: usize) -> String {
    let t = &report.total;
    let mut out = String::new();
    let range = match (report.range.since, report.range.until) {
        (None, None) => "all time".to_owned(),
        (since, until) => format!(
            "{} .. {}",
            since.map_or("start".to_owned(), stamp),
            until.map_or("now".to_owned(), stamp)
        ),
    };
    let _ = writeln!(
        out,
        "cost by {} · {range} · {} requests · {} spans · {}\n",
        report.group_by.as_str(),
        text::count(t.requests),
        text::count(t.totals.spans),
        text::money(t.totals.cost),
    );

    let unit = if report.group_by.by_span() {
        "span"
    } else {
        "request"
    };
    let columns = [
        Column::flex(report.group_by.as_str()),
        Column::right("requests"),
        Column::right("in tokens"),
        Column::right("out tokens"),
        Column::right("cost"),
        Column::right("share"),
    ];
    let mut rows: Vec<Vec<String>> = report.groups.iter().map(|g| money_row(g, t)).collect();
    rows.push(money_row(t, t));
    out.push_str(&text::table(&columns, &rows, width));

    let columns = [
        Column::flex(report.group_by.as_str()),
        Column::right(if unit == "span" {
            "cost/span p50"
        } else {
            "cost/req p50"
        }),
        Column::right("p95"),
        Column::right("time p50"),
        Column::right("p95"),
        Column::right("max"),
    ];
    let mut rows: Vec<Vec<String>> = report.groups.iter().map(spread_row).collect();
    rows.push(spread_row(t));
    out.push('\n');
    out.push_str(&text::table(&columns, &rows, width));

    let k = &t.totals.cost_by_kind;
    let _ = writeln!(out, "\ncost by kind:");
    for (label, amount) in [
        ("input", k.input),
        ("cache read", k.cache_read),
        ("cache write", k.cache_write),
        ("output", k.output),
        ("reasoning", k.reasoning),
        ("not split by kind", k.unsplit),
    ] {
        if !amount.is_zero() {
            let _ = writeln!(out, "  {label:<18} {}", text::money(amount));
        }
    }
    let tokens = &t.totals.tokens;
    let _ = writeln!(
        out,
        "tokens: {} in ({} cache read, {} cache write) · {} out ({} reasoning)",
        text::count(tokens.input),
        text::count(tokens.cache_read),
        text::count(tokens.cache_write),
        text::count(tokens.output),
        text::count(tokens.reasoning),
    );

    if !report.top_requests.is_empty() {
        let _ = writeln!(out, "\nmost expensive requests:");
        for (i, top) in report.top_requests.iter().enumerate() {
            let r = &top.request;
            let who = r
                .user_id
                .as_deref()
                .map(|u| format!("  user {}", text::safe(u)))
                .unwrap_or_default();
            let line = format!(
                "{:>2}. {}  {}  {}{who}  {}",
                i + 1,
                text::money(r.cost),
                &r.trace_id.to_string()[..16],
                text::safe(&r.name),
                text::duration(r.duration),
            );
            let _ = writeln!(out, "{}", text::cut(&line, width));
            for step in &top.steps {
                let mut line = format!("      {:<11}", text::safe(&step.step));
                if !step.models.is_empty() {
                    line.push_str(&format!(" {}", text::safe(&step.models)));
                }
                if step.totals.tokens.total() > 0 {
                    line.push_str(&format!(
                        "  {} in / {} out",
                        text::count(step.totals.tokens.input),
                        text::count(step.totals.tokens.output)
                    ));
                }
                if step.totals.priced_spans + step.totals.partial_spans > 0 {
                    line.push_str(&format!("  {}", text::money(step.totals.cost)));
                }
                if step.totals.unpriced_spans > 0 {
                    line.push_str("  unpriced");
                }
                line.push_str(&format!("  {}", text::duration(step.duration)));
                let _ = writeln!(out, "{}", text::cut(&line, width));
            }
        }
    }

    let _ = writeln!(out, "\nnot priced:");
    if report.unpriced.is_empty() {
        let _ = writeln!(out, "  every model call has a price");
    }
    for model in &report.unpriced {
        let mut line = format!("  {}: ", text::safe(&model.model));
        if model.unpriced_spans > 0 {
            line.push_str(&format!(
                "{} spans unpriced (cost unknown, not counted)",
                text::count(model.unpriced_spans)
            ));
        }
        if model.partial_spans > 0 {
            if model.unpriced_spans > 0 {
                line.push_str(", ");
            }
            line.push_str(&format!(
                "{} spans partly priced",
                text::count(model.partial_spans)
            ));
        }
        let _ = writeln!(out, "{}", text::cut(&line, width));
    }
    let share = report.estimated_share();
    if t.totals.estimated_spans > 0 {
        let _ = writeln!(
            out,
            "  {:.1}% of the cost ({}) rests on estimated token counts ({} spans)",
            share * 100.0,
            text::money(t.totals.estimated_cost),
            text::count(t.totals.estimated_spans),
        );
    } else {
        let _ = writeln!(out, "  no cost rests on estimated token counts");
    }
    if !t.exact_percentiles {
        let _ = writeln!(
            out,
            "\npercentiles over more than 16,384 values are within 0.5%"
        );
    }
    out
}

fn stamp(time: std::time::SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn money_row(g: &GroupRow, total: &GroupRow) -> Vec<String> {
    let share = if total.totals.cost.is_zero() {
        String::new()
    } else {
        format!(
            "{:.1}%",
            g.totals.cost.picos() as f64 * 100.0 / total.totals.cost.picos() as f64
        )
    };
    let mut cost = text::money(g.totals.cost);
    if g.totals.unpriced_spans > 0 {
        cost.push_str("+?");
    }
    vec![
        text::safe(&g.key),
        text::count(g.requests),
        text::count(g.totals.tokens.input),
        text::count(g.totals.tokens.output),
        cost,
        share,
    ]
}

fn spread_row(g: &GroupRow) -> Vec<String> {
    let t = &g.totals;
    // A group with no model call has no cost to spread.
    let priced = t.priced_spans + t.partial_spans + t.unpriced_spans > 0 || !t.cost.is_zero();
    let money = |usd| {
        if priced {
            text::money(usd)
        } else {
            "-".to_owned()
        }
    };
    vec![
        text::safe(&g.key),
        money(g.cost.p50),
        money(g.cost.p95),
        text::duration(g.latency.p50),
        text::duration(g.latency.p95),
        text::duration(g.latency.max),
    ]
}

fn print_csv(report: &Report) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record([
        report.group_by.as_str(),
        "requests",
        "spans",
        "errors",
        "input_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cost_usd",
        "cost_input_usd",
        "cost_cache_read_usd",
        "cost_cache_write_usd",
        "cost_output_usd",
        "cost_reasoning_usd",
        "cost_unsplit_usd",
        "cost_mean_usd",
        "cost_p50_usd",
        "cost_p95_usd",
        "cost_max_usd",
        "latency_mean_s",
        "latency_p50_s",
        "latency_p95_s",
        "latency_max_s",
        "priced_spans",
        "partial_spans",
        "unpriced_spans",
        "estimated_cost_usd",
    ])?;
    for g in report.groups.iter().chain(std::iter::once(&report.total)) {
        let t = &g.totals;
        let k = &t.cost_by_kind;
        let s = |d: std::time::Duration| format!("{:.9}", d.as_secs_f64());
        out.write_record(crate::common::csv_fields([
            g.key.clone(),
            g.requests.to_string(),
            t.spans.to_string(),
            t.errors.to_string(),
            t.tokens.input.to_string(),
            t.tokens.cache_read.to_string(),
            t.tokens.cache_write.to_string(),
            t.tokens.output.to_string(),
            t.tokens.reasoning.to_string(),
            t.cost.to_string(),
            k.input.to_string(),
            k.cache_read.to_string(),
            k.cache_write.to_string(),
            k.output.to_string(),
            k.reasoning.to_string(),
            k.unsplit.to_string(),
            g.cost.mean.to_string(),
            g.cost.p50.to_string(),
            g.cost.p95.to_string(),
            g.cost.max.to_string(),
            s(g.latency.mean),
            s(g.latency.p50),
            s(g.latency.p95),
            s(g.latency.max),
            t.priced_spans.to_string(),
            t.partial_spans.to_string(),
            t.unpriced_spans.to_string(),
            t.estimated_cost.to_string(),
        ]))?;
    }
    out.flush()?;
    Ok(())
}
