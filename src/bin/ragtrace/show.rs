//! `ragtrace show TRACE_ID`: one request as a tree with a waterfall.

use std::fmt::Write as _;
use std::time::Duration;

use ragtrace::analysis::{TraceTree, TreeNode, show};

use crate::common::{DbArgs, Format, emit, print_json};
use crate::text;

/// Shows one request as a tree: each span's offset and duration as a bar,
/// tokens by kind, exact cost, model, retrieval scores and ids, what the
/// prompt kept, evaluations and errors.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The trace id, or a unique prefix of it (from `ragtrace requests`).
    #[arg(value_name = "TRACE_ID")]
    trace: String,
    #[command(flatten)]
    db: DbArgs,
    /// Output format (`table` is the tree; `csv` is not offered here).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let store = args.db.open()?;
    let tree = show(&store, &args.trace)?;
    match args.format {
        Format::Json => print_json(&tree)?,
        Format::Csv => anyhow::bail!("show prints a tree; use --format table or json"),
        Format::Table => emit(&render(&tree, text::width(), text::color()))?,
    }
    Ok(())
}

/// The tree as text in `width` columns.
pub fn render(tree: &TraceTree, width: usize, color: bool) -> String {
    let red = |s: String| {
        if color {
            format!("\x1b[31m{s}\x1b[0m")
        } else {
            s
        }
    };
    let r = &tree.request;
    let mut out = String::new();
    let head = format!(
        "trace {}  {}  {}",
        r.trace_id,
        text::safe(&r.name),
        jiff::Timestamp::try_from(r.start)
            .map(|t| t.to_string())
            .unwrap_or_default()
    );
    let _ = writeln!(out, "{}", text::cut(&head, width.max(40) * 2));
    let mut who = Vec::new();
    for (label, value) in [
        ("service", &r.service),
        ("user", &r.user_id),
        ("session", &r.session_id),
    ] {
        if let Some(value) = value {
            who.push(format!("{label} {}", text::safe(value)));
        }
    }
    who.push(format!("{} spans", r.totals.spans));
    who.push(tokens_text(&r.totals.tokens));
    who.push(format!(
        "{}{}",
        text::money(r.cost),
        match r.cost_status {
            Some("priced") | None => String::new(),
            Some(status) => format!(" ({status})"),
        }
    ));
    who.push(text::duration(tree.duration));
    if r.totals.errors > 0 {
        who.push(format!("{} failed", r.totals.errors));
    }
    for line in wrap(&who.join(" · "), width.max(40)) {
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');

    // Columns: label, bar, duration.
    let bar_width = (width / 4).clamp(10, 40);
    let label_width = width.saturating_sub(bar_width + 12).max(20);
    let total = tree.duration.as_nanos().max(1);
    let mut guides: Vec<bool> = Vec::new();
    for node in &tree.nodes {
        guides.truncate(node.depth);
        let mut prefix = guide(&guides);
        if node.depth > 0 {
            prefix.push_str(if node.last_child {
                "└─ "
            } else {
                "├─ "
            });
        }
        let mut label = format!("{prefix}{}", text::safe(&node.name));
        if node.status == "error" {
            label.push_str(" ✗");
        }
        let label = text::cut(&label, label_width);
        let pad = label_width - label.chars().count();
        let bar = bar(node.offset, node.duration, total, bar_width);
        let _ = writeln!(
            out,
            "{label}{}  {bar}  {:>8}",
            " ".repeat(pad),
            text::duration(node.duration)
        );
        guides.push(!node.last_child);
        // Detail lines under the span, indented past its guide.
        let mut indent = guide(&guides);
        indent.push_str("   ");
        let room = width.max(40).saturating_sub(indent.chars().count()).max(20);
        for line in details(node).iter().flat_map(|l| wrap(l, room)) {
            let text = text::cut(&format!("{indent}{line}"), width.max(40));
            let text = if line.starts_with("error: ") {
                red(text)
            } else {
                text
            };
            let _ = writeln!(out, "{text}");
        }
    }
    out
}

/// Levels of nesting drawn as guides; deeper spans say their depth
/// instead, so a deep trace costs the same per line as a shallow one.
const DRAWN_LEVELS: usize = 8;

/// The guide lines left of a span (`│  ` where its ancestor has siblings
/// to come), for the first [`DRAWN_LEVELS`] levels.
fn guide(open: &[bool]) -> String {
    let mut out = String::new();
    for open in open.iter().skip(1).take(DRAWN_LEVELS) {
        out.push_str(if *open { "│  " } else { "   " });
    }
    if open.len() > DRAWN_LEVELS + 1 {
        let _ = write!(out, "[depth {}] ", open.len());
    }
    out
}

/// Breaks a `a · b · c` line at its separators to fit `room` characters.
fn wrap(line: &str, room: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for part in line.split(" · ") {
        match lines.last_mut() {
            Some(last) if last.chars().count() + 3 + part.chars().count() <= room => {
                last.push_str(" · ");
                last.push_str(part);
            }
            _ => lines.push(part.to_owned()),
        }
    }
    lines
}

fn bar(offset: Duration, duration: Duration, total: u128, width: usize) -> String {
    let start = (offset.as_nanos() * width as u128 / total).min(width as u128 - 1) as usize;
    let end = ((offset.as_nanos() + duration.as_nanos()) * width as u128).div_ceil(total) as usize;
    let end = end.clamp(start + 1, width);
    let mut bar = String::with_capacity(width * 3);
    for i in 0..width {
        bar.push(if i >= start && i < end { '█' } else { '·' });
    }
    bar
}

fn tokens_text(t: &ragtrace::analysis::Tokens) -> String {
    let mut input = format!("{} in", text::count(t.input));
    let mut extras = Vec::new();
    if t.cache_read > 0 {
        extras.push(format!("{} cached", text::count(t.cache_read)));
    }
    if t.cache_write > 0 {
        extras.push(format!("{} cache write", text::count(t.cache_write)));
    }
    if !extras.is_empty() {
        input.push_str(&format!(" ({})", extras.join(", ")));
    }
    let mut output = format!("{} out", text::count(t.output));
    if t.reasoning > 0 {
        output.push_str(&format!(" ({} reasoning)", text::count(t.reasoning)));
    }
    format!("{input} / {output}")
}

fn details(node: &TreeNode) -> Vec<String> {
    let mut lines = Vec::new();
    let mut call = Vec::new();
    if let Some(model) = &node.model {
        call.push(text::safe(model));
    }
    if let Some(tokens) = &node.tokens {
        let mut t = tokens_text(tokens);
        if node.estimated {
            t.push_str(" (estimated)");
        }
        call.push(t);
    }
    match (node.cost, node.cost_status) {
        (Some(cost), Some("partial")) => {
            call.push(format!("{} (partly priced)", text::money(cost)))
        }
        (Some(cost), _) => call.push(text::money(cost)),
        (None, Some("unpriced")) => call.push("unpriced".to_owned()),
        _ => {}
    }
    if node.cancelled {
        call.push("cancelled".to_owned());
    }
    if !call.is_empty() {
        lines.push(call.join(" · "));
    }
    if let Some(r) = &node.retrieval {
        let mut line = format!("{} hits", r.returned);
        if let Some(top) = r.top_score {
            line.push_str(&format!(", top {top:.3}"));
        }
        if let Some(kind) = r.score_kind {
            line.push_str(&format!(" ({kind})"));
        }
        if let Some(collection) = &r.collection {
            line.push_str(&format!(" in {}", text::safe(collection)));
        }
        lines.push(line);
        let hits: Vec<String> = r
            .hits
            .iter()
            .map(|(id, score)| {
                let id = id.as_deref().map_or("?".to_owned(), text::safe);
                match score {
                    Some(s) => format!("{id} {s:.3}"),
                    None => id,
                }
            })
            .collect();
        if !hits.is_empty() {
            lines.push(hits.join(", "));
        }
    }
    if let Some(p) = &node.prompt {
        let mut line = format!(
            "chunks: {} offered, {} kept, {} truncated, {} dropped",
            p.offered, p.included, p.truncated, p.dropped
        );
        match (p.tokens, p.budget_tokens) {
            (Some(t), Some(b)) => line.push_str(&format!(
                " · {} of {} tokens",
                text::count(t),
                text::count(b)
            )),
            (Some(t), None) => line.push_str(&format!(" · {} tokens", text::count(t))),
            _ => {}
        }
        lines.push(line);
    }
    for e in &node.evaluations {
        let mut line = format!("eval {}", text::safe(&e.name));
        if let Some(score) = e.score {
            line.push_str(&format!(" = {score}"));
        }
        if let Some(label) = &e.label {
            line.push_str(&format!(" ({})", text::safe(label)));
        }
        if let Some(why) = &e.explanation {
            line.push_str(&format!(": {}", text::safe(why)));
        }
        lines.push(line);
    }
    if let Some(error) = &node.error {
        lines.push(format!("error: {}", text::safe(error)));
    }
    lines
}
