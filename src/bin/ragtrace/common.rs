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
    /// Opens the store for reading. A missing file is an error (reading
    /// never creates a store); a store written by an older ragtrace is
    /// migrated first.
    pub fn open(&self) -> anyhow::Result<Store> {
        open_existing(&self.db)
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
