//! `ragtrace requests`: the latest requests, one line each.

use std::time::SystemTime;

use ragtrace::analysis::{RequestFilter, RequestRow, list_requests};
use ragtrace::pricing::Usd;

use crate::common::{DbArgs, Format, RangeArgs, emit, print_json};
use crate::text::{self, Column};

/// Lists the latest requests (trace roots), newest first: time, trace id,
/// name, user, session, steps, tokens, cost, duration and status.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    range: RangeArgs,
    /// Only requests of this user.
    #[arg(long)]
    user: Option<String>,
    /// Only requests of this session.
    #[arg(long)]
    session: Option<String>,
    /// Only requests with this root name (route, workflow).
    #[arg(long)]
    name: Option<String>,
    /// Only requests that called this model.
    #[arg(long)]
    model: Option<String>,
    /// Only requests that cost at least this many dollars (e.g. 0.01).
    #[arg(long, value_name = "USD")]
    min_cost: Option<Usd>,
    /// Only requests with a failed step.
    #[arg(long)]
    errors: bool,
    /// How many requests, at most.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let store = args.db.open()?;
    let mut filter = RequestFilter::new()
        .range(args.range.range()?)
        .limit(args.limit);
    filter.user = args.user;
    filter.session = args.session;
    filter.name = args.name;
    filter.model = args.model;
    filter.min_cost = args.min_cost;
    filter.errors_only = args.errors;
    let rows = list_requests(&store, &filter)?;
    match args.format {
        Format::Json => print_json(&rows)?,
        Format::Csv => print_csv(&rows)?,
        Format::Table => {
            if rows.is_empty() {
                emit(&format!(
                    "no requests match in {} ({} spans stored)\n",
                    store.path().display(),
                    text::count(store.count()?)
                ))?;
            } else {
                emit(&table(&rows))?;
            }
        }
    }
    Ok(())
}

fn table(rows: &[RequestRow]) -> String {
    let columns = [
        Column::left("time (UTC)"),
        Column::left("trace"),
        Column::flex("name"),
        Column::flex("user"),
        Column::flex("session"),
        Column::right("steps"),
        Column::right("tokens"),
        Column::right("cost"),
        Column::right("time"),
        Column::left(""),
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                short_time(r.start),
                r.trace_id.to_string()[..8].to_owned(),
                text::safe(&r.name),
                text::safe(r.user_id.as_deref().unwrap_or("-")),
                text::safe(r.session_id.as_deref().unwrap_or("-")),
                r.steps.to_string(),
                text::count(r.totals.tokens.total()),
                cost_cell(r),
                text::duration(r.duration),
                match r.status {
                    "error" => "✗".to_owned(),
                    _ => String::new(),
                },
            ]
        })
        .collect();
    text::table(&columns, &cells, text::width())
}

/// The cost, marked `?` where some model call has no price.
pub fn cost_cell(row: &RequestRow) -> String {
    match row.cost_status {
        Some("unpriced") => "unpriced".to_owned(),
        Some("partial") => format!("{}+?", text::money(row.cost)),
        _ => text::money(row.cost),
    }
}

fn short_time(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|t| t.strftime("%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

fn print_csv(rows: &[RequestRow]) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record([
        "start",
        "trace_id",
        "name",
        "service",
        "user_id",
        "session_id",
        "steps",
        "status",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "cost_status",
        "duration_s",
    ])?;
    for r in rows {
        out.write_record(crate::common::csv_fields([
            jiff::Timestamp::try_from(r.start)
                .map(|t| t.to_string())
                .unwrap_or_default(),
            r.trace_id.to_string(),
            r.name.clone(),
            r.service.clone().unwrap_or_default(),
            r.user_id.clone().unwrap_or_default(),
            r.session_id.clone().unwrap_or_default(),
            r.steps.to_string(),
            r.status.to_owned(),
            r.totals.tokens.input.to_string(),
            r.totals.tokens.output.to_string(),
            r.cost.to_string(),
            r.cost_status.unwrap_or("").to_owned(),
            format!("{:.6}", r.duration.as_secs_f64()),
        ]))?;
    }
    out.flush()?;
    Ok(())
}
