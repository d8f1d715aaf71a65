//! The embedded trace store: where spans land on one machine, and what the
//! analysis reads.
//!
//! - [`SpanRecord`] is one stored span: identity, timing, status, the
//!   columns analysis queries (step, model, provider, tokens by kind, exact
//!   cost and its status, top retrieval score, user, session) and every
//!   attribute and event as typed JSON. [`SpanParts::into_record`] reads
//!   those columns from OTel GenAI, OpenInference, Langfuse and ragtrace keys,
//!   and prices spans that carry usage but no cost.
//! - [`Store`] (feature `store`) is the SQLite file: a versioned schema with
//!   migrations, WAL mode, batched writes (one transaction per batch) and
//!   readers by trace, by time range and filters, and per-trace summaries;
//!   [`Store::reprice`] prices stored spans again with today's tables.
//! - [`ingest`] (feature `ingest`) turns OTLP (protobuf or JSON, including
//!   the Collector's file exporter output) into records.
//!
//! The live path from a running service into the store is
//! `ragtrace::telemetry`'s store sink.

mod extract;
mod record;
pub mod value;

#[cfg(feature = "store")]
mod codec;
#[cfg(feature = "store")]
mod db;
#[cfg(feature = "store")]
mod error;
#[cfg(feature = "store")]
mod read;
#[cfg(feature = "store")]
mod reprice;
#[cfg(feature = "store")]
mod schema;

#[cfg(feature = "ingest")]
pub mod ingest;

pub(crate) use codec::{parse_ids, parse_scores};
pub use extract::SpanParts;
pub(crate) use record::parse_cost_status;
pub use record::{
    CostBreakdown, CostSource, Kind, ScoreKind, SpanEvent, SpanLink, SpanRecord, Status,
};
pub use value::Attributes;

#[cfg(feature = "store")]
pub(crate) use codec::{from_nanos, to_nanos};
#[cfg(feature = "store")]
pub use db::Store;
#[cfg(feature = "store")]
pub use error::StoreError;
#[cfg(feature = "store")]
pub use read::{SpanQuery, TraceSummary};
#[cfg(feature = "store")]
pub use reprice::{ModelReprice, RepriceProgress, RepriceReport};
#[cfg(feature = "store")]
pub use schema::SCHEMA_VERSION;
