//! Cost: the [`Pricer`] hook the wrappers call, exact money ([`Usd`]), and
//! the price table ([`PriceTable`]) that implements the hook.
//!
//! Pricing is a pure function of (model, usage, time): nothing here knows
//! about spans or stores.
//!
//! - [`PriceTable`] loads the reviewed table files under `pricing/` (one
//!   per provider, compiled in), override directories
//!   ([`PRICING_DIR_ENV`]), and entries built in code.
//! - A model name is matched exactly (key or alias), then through its
//!   other spellings: provider prefixes (`openai/`, `azure/`), Bedrock ids
//!   (`us.anthropic.claude-...-v1:0`), Vertex `@` versions, `ft:` fine-tunes
//!   (their own entry if listed, else the base model) and snapshot dates.
//!   A snapshot or spelling with its own price is listed and wins.
//! - The price version in force at the call's start (UTC) applies, so old
//!   traces re-price at old prices; then the long-context band (by input
//!   tokens) and the service tier (batch, flex, priority).
//! - Each token is charged once, exactly ([`Usd`] counts picodollars);
//!   an unknown model is [`CostStatus::Unpriced`], never $0, and is
//!   warned about once.
//! - [`litellm`] imports LiteLLM's public price file into the same format.
//!
//! ```
//! use std::time::SystemTime;
//! use ragtrace::instrument::Options;
//! use ragtrace::pricing::PriceTable;
//!
//! let options = Options::new().pricer(PriceTable::builtin());
//! assert!(options.has_pricer());
//! ```

mod builtin;
mod compile;
mod compute;
mod cost;
mod date;
mod error;
mod file;
mod label;
pub mod litellm;
mod load;
mod matcher;
mod model;
mod money;
mod normalize;
mod table;
mod validate;
mod write;

pub use cost::{Cost, CostStatus, PriceRequest, Pricer};
pub use date::{Date, DateError};
pub use error::{LoadError, Problem};
pub use label::Label;
pub use load::{PRICING_DIR_ENV, PriceTableBuilder};
pub use matcher::MatchedBy;
pub use model::{LongContext, Mode, ModelEntry, PriceVersion, Rates, ServiceTier, TierRates};
pub use money::{ParseUsdError, Usd};
pub use normalize::MAX_MODEL_NAME;
pub use table::{Match, PriceTable, Quote};
pub use write::to_toml;
