//! Reading traces back: per-request cost reports, the trace tree, and
//! retrieval drift over time.
//!
//! One engine, many outputs: each command computes a typed result here
//! (rows, totals, per-window metrics, verdicts) and table, JSON, CSV and
//! HTML are renderings of that one result, so the numbers never disagree
//! between formats. Money stays integer picodollars ([`Usd`]) until it is
//! printed, and is printed as an exact decimal string.
//!
//! Analysis reads stored spans through [`TraceSource`] (the SQLite
//! [`Store`](crate::store::Store) implements it): every query the analysis
//! runs is behind that narrow interface, so another engine can answer them.
//! It knows nothing of wrappers or vendors.
//!
//! A request is a trace: its root span, or, when the root was not stored
//! (it lives in another service), its earliest ragtrace request root, else
//! its earliest span. A request's cost is the sum of its spans' own costs.
//!
//! [`drift()`] compares retrieval scores and document mixes window by window
//! with a baseline; [`stats`] holds the statistics it rests on.
//!
//! [`Usd`]: crate::pricing::Usd

mod distribution;
pub mod drift;
#[cfg(feature = "html")]
pub mod html;
mod range;
mod report;
mod requests;
mod retrievals;
mod source;
mod sqlite;
pub mod stats;
pub mod text;
mod totals;
mod tree;

pub use distribution::Distribution;
pub use drift::{
    Band, Baseline, BaselineSpec, BaselineSummary, DriftOptions, DriftReport, JsMetric, Judged,
    KsMetric, Level, PsiBin, PsiMetric, Quantiles, ScoreDirection, ScoreHistogram, SeriesBy,
    SeriesReport, Shift, Thresholds, Verdict, WindowReport, drift,
    render_table as render_drift_table,
};
pub use range::{ParseTimeError, TimeRange, parse_duration, parse_time};
pub use report::{
    Amount, CostSpread, GroupBy, GroupRow, Histogram, LatencySpread, Report, ReportOptions,
    StepCost, TimeBucket, TopRequest, UnpricedModel, report, report_with_progress,
};
pub use requests::{RequestFilter, RequestRow, list_requests, request_span};
pub use retrievals::RetrievalFact;
pub use source::{AnalysisError, TraceSource, resolve_trace};
pub use totals::{CostByKind, Tokens, Totals};
pub use tree::{Evaluation, PromptDetail, RetrievalDetail, TraceTree, TreeNode, build_tree, show};
