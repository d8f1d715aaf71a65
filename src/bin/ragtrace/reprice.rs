//! `ragtrace reprice`: prices the stored spans again with the current
//! tables, each at its own start time.

use ragtrace::pricing::Usd;
use ragtrace::store::{RepriceReport, Store};

use crate::common::{DbArgs, RangeArgs, open_existing};
use crate::progress::{QuietArgs, Unit};

/// Recomputes the stored cost of every model-call span (usage and a model;
/// step chat, embeddings or none) with the current price tables, each span
/// at its own start time, and prints what changed per model. Spans that had
/// no price and now have one get it; spans the tables cannot price are left
/// as stored. A second run with the same tables changes nothing.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    range: RangeArgs,
    #[command(flatten)]
    tables: crate::pricing_args::PriceDirs,
    /// Show what would change; write nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    quiet: QuietArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let range = args.range.range()?;
    let table = args.tables.table()?;
    let mut store = if args.dry_run {
        args.db.open()?
    } else {
        // The existence check first: opening for writing would create it.
        drop(open_existing(&args.db.db)?);
        Store::open(&args.db.db)?
    };
    let mut bar = None;
    let report = store.reprice(&table, range, args.dry_run, &mut |progress| {
        let bar = bar.get_or_insert_with(|| {
            args.quiet
                .bar(progress.total, Unit::Spans, "repricing".to_owned())
        });
        bar.set_length(progress.total);
        bar.set_position(progress.done);
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print!("{}", render(&report, &args.db.db.display().to_string()));
    Ok(())
}

/// The report as printed: a summary line, a table per model, and the
/// spans left unpriced.
fn render(report: &RepriceReport, db: &str) -> String {
    let mut out = String::new();
    let spans = |n: u64| if n == 1 { "span" } else { "spans" };
    if report.changed == 0 {
        out.push_str(&format!(
            "no change: {} model-call {} in {db} examined; the current prices change none of their costs\n",
            report.examined,
            spans(report.examined)
        ));
    } else {
        let verb = if report.dry_run {
            "would reprice"
        } else {
            "repriced"
        };
        out.push_str(&format!(
            "{verb} {} of {} model-call {} in {db} ({} newly priced){}\n",
            report.changed,
            report.examined,
            spans(report.examined),
            report.newly_priced,
            if report.dry_run {
                "; dry run, nothing written"
            } else {
                ""
            }
        ));
        let mut rows = vec![[
            "model".to_owned(),
            "spans".to_owned(),
            "newly priced".to_owned(),
            "old USD".to_owned(),
            "new USD".to_owned(),
            "change USD".to_owned(),
        ]];
        let row = |name: &str, changed: u64, newly: u64, old: Usd, new: Usd| {
            [
                name.to_owned(),
                changed.to_string(),
                newly.to_string(),
                old.to_string(),
                new.to_string(),
                signed(new - old),
            ]
        };
        for model in report.models.iter().filter(|m| m.changed > 0) {
            rows.push(row(
                &model.model,
                model.changed,
                model.newly_priced,
                model.old_total,
                model.new_total,
            ));
        }
        rows.push(row(
            "total",
            report.changed,
            report.newly_priced,
            report.old_total(),
            report.new_total(),
        ));
        let mut widths = [0_usize; 6];
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in &rows {
            let mut line = format!("{:<w$}", row[0], w = widths[0]);
            for (cell, width) in row.iter().zip(widths).skip(1) {
                line.push_str(&format!("  {cell:>width$}"));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    if report.unpriced > 0 {
        let models: Vec<String> = report
            .models
            .iter()
            .filter(|m| m.unpriced > 0)
            .map(|m| format!("{} ({})", m.model, m.unpriced))
            .collect();
        out.push_str(&format!(
            "no price in the current tables for {} {}, left as stored: {}\n",
            report.unpriced,
            spans(report.unpriced),
            models.join(", ")
        ));
    }
    out
}

/// `+0.5`, `-0.5`, `0`.
fn signed(usd: Usd) -> String {
    if usd > Usd::ZERO {
        format!("+{usd}")
    } else {
        usd.to_string()
    }
}
