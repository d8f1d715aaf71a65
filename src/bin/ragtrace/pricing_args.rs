//! The price table `ingest`, `serve` and `reprice` price spans with.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use ragtrace::pricing::{PriceTable, PriceTableBuilder, Pricer};

/// `--prices-dir`: the built-in table, RAGTRACE_PRICING_DIR, then each
/// --prices-dir (later ones win).
#[derive(Debug, clap::Args)]
pub struct PriceDirs {
    /// Layer the *.toml price files of this directory over the built-in table (repeatable).
    #[arg(long = "prices-dir", value_name = "DIR")]
    dirs: Vec<PathBuf>,
}

impl PriceDirs {
    /// The table: built-in, RAGTRACE_PRICING_DIR, then each --prices-dir.
    pub fn table(&self) -> anyhow::Result<PriceTable> {
        self.dirs
            .iter()
            .fold(PriceTable::builder().env_dir(), PriceTableBuilder::dir)
            .build()
            .context("the price table did not load")
    }
}

/// Spans that arrive with usage but no cost are priced from the table at
/// their own start time: the built-in table, RAGTRACE_PRICING_DIR, then
/// each --prices-dir (later ones win).
#[derive(Debug, clap::Args)]
pub struct PricingArgs {
    #[command(flatten)]
    tables: PriceDirs,
    /// Store spans without a cost as they are (unpriced).
    #[arg(long, conflicts_with = "dirs")]
    no_pricing: bool,
}

impl PricingArgs {
    /// The pricer, unless pricing is off.
    pub fn pricer(&self) -> anyhow::Result<Option<Arc<dyn Pricer>>> {
        if self.no_pricing {
            return Ok(None);
        }
        Ok(Some(Arc::new(self.tables.table()?)))
    }
}
