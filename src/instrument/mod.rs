//! Instrumentation: [`Traced`] wrappers, the request root, and what they record.
//!
//! - [`Traced<T>`] wraps any step implementation and implements the same
//!   trait; each call emits one span with the attributes listed in [`keys`].
//! - [`request`](crate::request) starts a request root; steps run inside
//!   [`Request::run`] become its children and add to its [`Summary`].
//! - [`Options`] carries the cost hook ([`Pricer`](crate::pricing::Pricer)),
//!   the token counter used when a provider reports no usage, and content
//!   [`Capture`] (off by default, redacted when on).
//!
//! Spans go through `tracing`; with `tracing-opentelemetry` installed they
//! are exported as OpenTelemetry spans with typed attributes. With no
//! subscriber at all, the wrappers still keep each request's totals.

mod attrs;
mod capture;
mod chat;
mod context;
mod embed;
pub mod keys;
mod ledger;
mod options;
mod prompt;
mod request;
mod rerank;
mod retrieve;
mod shared;
mod stream;
mod traced;

pub(crate) use capture::redact_credentials;
pub use capture::{Capture, Redact, Redactor};
pub use context::{InRequest, RequestFutureExt};
pub use ledger::{StepTotals, Summary};
pub use options::Options;
pub use request::{Request, request};
pub use stream::TracedStream;
pub use traced::{Traced, TracedExt};
