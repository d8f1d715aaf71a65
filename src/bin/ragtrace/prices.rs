//! `ragtrace prices`: look prices up, list them, check table files, and
//! import LiteLLM's price file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context, bail};
use clap::Subcommand;
use ragtrace::pricing::{
    Date, MatchedBy, PRICING_DIR_ENV, PriceTable, PriceTableBuilder, Rates, ServiceTier, Usd,
    litellm,
};

/// Look up, list, check and import model prices.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show which entry, price version, tier and prices apply to a model name.
    Show(ShowArgs),
    /// List the table's models with the prices in force.
    List(ListArgs),
    /// Validate table files: every problem, with file, line, model and field.
    Check(CheckArgs),
    /// Convert LiteLLM's model_prices_and_context_window.json into table files.
    ImportLitellm(ImportArgs),
}

/// Where the table comes from: the built-in files, the directory in
/// RAGTRACE_PRICING_DIR if set, then each --dir (later ones win).
#[derive(Debug, clap::Args)]
struct TableArgs {
    /// Layer the *.toml files of this directory over the built-in table (repeatable).
    #[arg(long = "dir", value_name = "DIR")]
    dirs: Vec<PathBuf>,
}

impl TableArgs {
    fn load(&self) -> anyhow::Result<PriceTable> {
        let builder = self
            .dirs
            .iter()
            .fold(PriceTable::builder().env_dir(), PriceTableBuilder::dir);
        builder.build().context("the price table did not load")
    }
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The model name as the provider reports it (e.g. `openai/gpt-4o-2024-08-06`).
    model: String,
    /// When the call was made: a date (2024-09-01, midnight UTC) or an
    /// RFC 3339 time (2024-09-01T12:00:00Z). Default: now.
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    /// The service tier (batch, flex, priority, ...).
    #[arg(long, value_name = "TIER")]
    tier: Option<String>,
    /// Input tokens of the call, to pick a long-context band.
    #[arg(long, value_name = "N", default_value_t = 0)]
    input_tokens: u64,
    #[command(flatten)]
    table: TableArgs,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only this provider's models (e.g. openai, anthropic, aws.bedrock).
    #[arg(long, value_name = "P")]
    provider: Option<String>,
    /// Show the prices in force at this date or time instead of now.
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    #[command(flatten)]
    table: TableArgs,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// A directory of *.toml table files to check on its own. Without it, the
    /// built-in table and RAGTRACE_PRICING_DIR are checked.
    dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// LiteLLM's model_prices_and_context_window.json.
    file: PathBuf,
    /// Write one table file per LiteLLM provider into this directory
    /// (created if missing; files of the same name are replaced). Without it,
    /// one table is written to standard output.
    #[arg(long, short, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The date the imported prices take effect (LiteLLM records none).
    /// Calls before it are unpriced. Default: today (UTC).
    #[arg(long, value_name = "DATE")]
    effective: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Show(args) => show(args),
        Command::List(args) => list(args),
        Command::Check(args) => check(args),
        Command::ImportLitellm(args) => import(args),
    }
}

/// A date (midnight UTC) or an RFC 3339 instant.
fn parse_when(text: &str) -> anyhow::Result<SystemTime> {
    if let Ok(date) = text.parse::<Date>() {
        return Ok(date.start());
    }
    let instant: jiff::Timestamp = text.parse().with_context(|| {
        format!(
            "`{text}` is neither a date (2024-09-01) nor an RFC 3339 time (2024-09-01T12:00:00Z)"
        )
    })?;
    Ok(SystemTime::from(instant))
}

fn show(args: ShowArgs) -> anyhow::Result<()> {
    let table = args.table.load()?;
    let at = match &args.at {
        Some(text) => parse_when(text)?,
        None => SystemTime::now(),
    };
    let day = Date::of(at);
    let Some(matched) = table.resolve(&args.model) else {
        if args.model.len() > ragtrace::pricing::MAX_MODEL_NAME {
            bail!(
                "no price table entry matches the {}-byte model name `{}`; names over {} bytes \
                 are only matched exactly, and are recorded as unpriced",
                args.model.len(),
                crate::text::cut(
                    &crate::text::safe(&args.model.chars().take(41).collect::<String>()),
                    40
                ),
                ragtrace::pricing::MAX_MODEL_NAME
            );
        }
        bail!(
            "no price table entry matches `{}` (tried: {}); its calls are recorded as unpriced. \
             Add it to a table file in a directory named by {PRICING_DIR_ENV} or --dir",
            args.model,
            PriceTable::spellings(&args.model).join(", ")
        );
    };
    let entry = matched.entry;
    let how = match &matched.by {
        MatchedBy::Key => "key".to_owned(),
        MatchedBy::Alias => "alias".to_owned(),
        MatchedBy::Pattern(pattern) => format!("pattern `{pattern}`"),
        other => format!("{other:?}"),
    };
    let spelled = if matched.spelling == args.model {
        String::new()
    } else {
        format!(", as `{}`", matched.spelling)
    };
    println!("model      {}", args.model);
    println!(
        "entry      {} (matched by {how}{spelled}) in {}",
        entry.key, matched.origin
    );
    let mut facts = vec![entry.provider.clone(), entry.mode.to_string()];
    if let Some(tokens) = entry.context_window {
        facts.push(format!("context {}", thousands(tokens)));
    }
    if let Some(tokens) = entry.max_output {
        facts.push(format!("max output {}", thousands(tokens)));
    }
    if let Some(date) = entry.deprecated {
        facts.push(format!("deprecated {date}"));
    }
    println!("about      {}", facts.join(" · "));
    let versions: Vec<String> = entry
        .versions
        .iter()
        .map(|v| match v.until {
            Some(until) => format!("{}..{until}", v.effective),
            None => v.effective.to_string(),
        })
        .collect();
    println!("versions   {}", versions.join(", "));

    let Some(quote) = table.quote(&args.model, at, args.tier.as_deref(), args.input_tokens) else {
        bail!(
            "`{}` has no price in force on {day}: the table's versions of `{}` start on {}",
            args.model,
            entry.key,
            versions.join(", ")
        );
    };
    println!(
        "on         {day}: version {} from {}",
        quote.version.effective, quote.version.source
    );
    let mut tier_line = quote.tier.clone();
    if quote.fell_back_to_standard
        && let Some(asked) = &args.tier
    {
        tier_line.push_str(&format!(
            " (no `{asked}` prices listed for this call: standard rates apply)"
        ));
    }
    println!("tier       {tier_line}");
    let offered: Vec<&str> = ServiceTier::ALL
        .iter()
        .filter(|&&t| quote.version.tier(t).is_some())
        .map(|t| t.as_str())
        .collect();
    let bands: Vec<String> = quote
        .version
        .standard
        .above
        .iter()
        .map(|band| format!("above {} input tokens", thousands(band.above_input_tokens)))
        .collect();
    println!(
        "offers     {}{}",
        offered.join(", "),
        if bands.is_empty() {
            String::new()
        } else {
            format!("; {}", bands.join(", "))
        }
    );
    println!("prices     USD per 1M tokens (per request: USD per call)");
    print_rates(&quote.rates);
    Ok(())
}

fn print_rates(rates: &Rates) {
    let show = |price: Option<Usd>| price.map_or_else(|| "-".to_owned(), money);
    let reasoning = match (rates.reasoning, rates.output) {
        (Some(price), _) => money(price),
        (None, Some(output)) => format!("{} (the output price)", money(output)),
        (None, None) => "-".to_owned(),
    };
    for (label, value) in [
        ("input", show(rates.input)),
        ("cached input", show(rates.cached_input)),
        ("cache write 5m", show(rates.cache_write)),
        ("cache write 1h", show(rates.cache_write_1h)),
        ("output", show(rates.output)),
        ("reasoning", reasoning),
        ("per request", show(rates.per_request)),
    ] {
        println!("  {label:<16} {value}");
    }
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let table = args.table.load()?;
    let at = match &args.at {
        Some(text) => parse_when(text)?,
        None => SystemTime::now(),
    };
    let day = Date::of(at);
    let wanted = |provider: &str| {
        args.provider
            .as_deref()
            .is_none_or(|p| p.eq_ignore_ascii_case(provider))
    };
    let mut rows = Vec::new();
    for entry in table.entries().filter(|e| wanted(&e.provider)) {
        let price = |rates: &Rates, pick: fn(&Rates) -> Option<Usd>| {
            pick(rates).map_or_else(|| "-".to_owned(), money)
        };
        let row = match entry.version_on(day) {
            Some(version) => {
                let rates = &version.standard.rates;
                let tiers: Vec<&str> = ServiceTier::ALL[1..]
                    .iter()
                    .filter(|&&t| version.tier(t).is_some())
                    .map(|t| t.as_str())
                    .chain((!version.standard.above.is_empty()).then_some("long-context"))
                    .collect();
                [
                    entry.key.clone(),
                    entry.provider.clone(),
                    entry.mode.to_string(),
                    version.effective.to_string(),
                    price(rates, |r| r.input),
                    price(rates, |r| r.cached_input),
                    price(rates, |r| r.output),
                    price(rates, |r| r.per_request),
                    tiers.join(","),
                ]
            }
            None => [
                entry.key.clone(),
                entry.provider.clone(),
                entry.mode.to_string(),
                format!("(not in force on {day})"),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
        };
        rows.push(row);
    }
    if rows.is_empty() {
        match &args.provider {
            Some(provider) => {
                let mut known: Vec<&str> = table.entries().map(|e| e.provider.as_str()).collect();
                known.sort_unstable();
                known.dedup();
                bail!(
                    "no models from provider `{provider}`; the table has: {}",
                    known.join(", ")
                );
            }
            None => bail!("the price table is empty"),
        }
    }
    let header = [
        "MODEL", "PROVIDER", "MODE", "SINCE", "INPUT", "CACHED", "OUTPUT", "PER REQ", "TIERS",
    ]
    .map(str::to_owned);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
    println!("\nPrices in USD per 1M tokens (PER REQ: USD per call), in force on {day}.");
    Ok(())
}

fn check(args: CheckArgs) -> anyhow::Result<()> {
    let (builder, what) = match &args.dir {
        Some(dir) => {
            let files = toml_files(dir)?;
            if files == 0 {
                bail!("{} holds no *.toml table files", dir.display());
            }
            (
                PriceTable::builder().without_builtin().dir(dir),
                format!("{files} file(s) in {}", dir.display()),
            )
        }
        None => (
            PriceTable::builder().env_dir(),
            match std::env::var_os(PRICING_DIR_ENV) {
                Some(dir) if !dir.is_empty() => {
                    format!("the built-in table and {}", PathBuf::from(dir).display())
                }
                _ => "the built-in table".to_owned(),
            },
        ),
    };
    let table = builder.build()?;
    let versions: usize = table.entries().map(|e| e.versions.len()).sum();
    println!(
        "ok: {what}: {} models, {versions} price versions",
        table.len()
    );
    Ok(())
}

fn toml_files(dir: &std::path::Path) -> anyhow::Result<usize> {
    let listing =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    Ok(listing
        .filter_map(Result::ok)
        .filter(|item| item.path().extension().is_some_and(|ext| ext == "toml"))
        .count())
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    let effective = match &args.effective {
        Some(text) => text.parse::<Date>().context("--effective")?,
        None => Date::today(),
    };
    let json = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let import = litellm::import(&json, effective)
        .with_context(|| format!("cannot import {}", args.file.display()))?;
    if import.entries.is_empty() {
        bail!(
            "{} holds no entry with a per-token or per-query price",
            args.file.display()
        );
    }
    let written = match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let files = import.to_toml_files(effective);
            for (name, text) in &files {
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            format!("{} files in {}", files.len(), dir.display())
        }
        None => {
            print!("{}", import.to_toml(effective));
            "standard output".to_owned()
        }
    };
    let total = import.entries.len() + import.skipped.len();
    eprintln!(
        "imported {} of {total} entries into {written}, effective {effective}",
        import.entries.len()
    );
    if !import.skipped.is_empty() {
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for skipped in &import.skipped {
            *reasons.entry(skipped.reason.as_str()).or_default() += 1;
        }
        let mut reasons: Vec<(&str, usize)> = reasons.into_iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        eprintln!("skipped {}:", import.skipped.len());
        for (reason, count) in reasons {
            eprintln!("  {count:>5}  {reason}");
        }
    }
    if !import.ignored_fields.is_empty() {
        let mut fields: Vec<(&String, &usize)> = import.ignored_fields.iter().collect();
        fields.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = fields
            .iter()
            .take(8)
            .map(|(name, count)| format!("{name} ({count})"))
            .collect();
        eprintln!(
            "ignored {} kinds of price ragtrace does not meter (images, audio, ...): {}{}",
            fields.len(),
            shown.join(", "),
            if fields.len() > shown.len() {
                ", ..."
            } else {
                ""
            }
        );
    }
    if import.rounded > 0 {
        eprintln!(
            "rounded {} prices finer than a picodollar per 1M tokens",
            import.rounded
        );
    }
    Ok(())
}

/// A price with at least two decimals, as vendors print them: 0.30, 10.00, 0.075.
fn money(price: Usd) -> String {
    let text = price.to_string();
    match text.split_once('.') {
        None => format!("{text}.00"),
        Some((_, frac)) if frac.len() == 1 => format!("{text}0"),
        Some(_) => text,
    }
}

/// 1047576 -> 1,047,576.
use ragtrace::analysis::text::thousands;
