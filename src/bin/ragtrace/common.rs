//! Options every reading command shares: the store, the time range, the
//! output format, and how to open the store for reading.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context as _;
use ragtrace::analysis::TimeRange;
use ragtrace::store::{Store, StoreError};

/// `--db`: the store to read.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The store file.
    #[arg(long, env = "RAGTRACE_DB", default_value = "ragtrace.db")]
    pub db: PathBuf,
}

impl DbArgs {
    /// Opens the store for reading. A missing file or one with no spans is
    /// an error (reading never creates a store); a store written by an
    /// older ragtrace is migrated first.
    pub fn open(&self) -> anyhow::Result<Store> {
        let store = open_existing(&self.db)?;
        if store.is_empty()? {
            return Err(ragtrace::analysis::AnalysisError::Empty {
                source_name: self.db.display().to_string(),
            }
            .into());
        }
        Ok(store)
    }
}

/// Opens an existing store, migrating an older schema in place.
pub fn open_existing(path: &Path) -> anyhow::Result<Store> {
    if !path.exists() {
        anyhow::bail!(
            "no store at {} (give --db PATH or set RAGTRACE_DB; a store is written by telemetry::init, `ragtrace ingest` or `ragtrace serve`)",
            path.display()
        );
    }
    match Store::open_read_only(path) {
        Err(StoreError::Outdated { .. }) => Store::open(path)
            .with_context(|| format!("upgrading {} to this version's schema", path.display())),
        other => Ok(other?),
    }
}

/// `--since` / `--until`.
#[derive(Debug, Clone, clap::Args)]
pub struct RangeArgs {
    /// Only spans that started at or after this time: RFC 3339
    /// (2026-11-30T12:00:00Z), a date (2026-11-30), or a duration back
    /// from now (90m, 12h, 7d, 2w).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only spans that started before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

impl RangeArgs {
    /// The range, relative times counted back from now.
    pub fn range(&self) -> anyhow::Result<TimeRange> {
        Ok(TimeRange::parse(
            self.since.as_deref(),
            self.until.as_deref(),
            SystemTime::now(),
        )?)
    }
}

/// How a reading command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people (fits 80 columns, or `COLUMNS`).
    Table,
    /// JSON; money as exact decimal strings.
    Json,
    /// CSV, one row per group; money as exact decimals.
    Csv,
}

/// Prints `value` as pretty JSON to stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    emit(&text)
}

/// Writes `text` to stdout. A reader that went away (`| head`) is not an
/// error: `main` exits quietly on a broken pipe.
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `true` if `error` is a write to a closed pipe.
pub fn broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<csv::Error>()
                .is_some_and(|e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
    })
}

/// `error` and its causes on one line, each cause once: a cause whose text
/// its effect already shows (many errors print their source in their own
/// message) is not repeated.
pub fn describe(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        // Shown already, or the same cause restated with a prefix
        // ("Error code 26: file is not a database" after "file is not a
        // database").
        let last = out.rsplit(": ").next().unwrap_or("");
        let shown = out.ends_with(&text)
            || (text.len() >= 16 && out.contains(&text))
            || (last.len() >= 8 && text.ends_with(last));
        if text.is_empty() || shown {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// CSV fields as written: as stored when piped (CSV is for machines), with
/// control characters escaped when stdout is a terminal, so a name from a
/// trace cannot drive it.
pub fn csv_fields<const N: usize>(fields: [String; N]) -> [String; N] {
    use std::io::IsTerminal as _;
    if std::io::stdout().is_terminal() {
        fields.map(|f| ragtrace::analysis::text::terminal_safe(&f))
    } else {
        fields
    }
}
