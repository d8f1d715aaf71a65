//! # ragtrace
//!
//! One analyzable OpenTelemetry trace per request of a retrieval-augmented
//! generation (RAG) service.
//!
//! A RAG request has four steps, each behind a small trait in [`steps`]:
//! embed the query ([`Embedder`](steps::Embedder)), search the vector store
//! ([`Retriever`](steps::Retriever)), build the prompt
//! ([`PromptBuilder`](steps::PromptBuilder)) and call the model
//! ([`ChatModel`](steps::ChatModel)), optionally reranking the hits in
//! between ([`Reranker`](steps::Reranker)). Wrapping any implementation in
//! [`Traced`](instrument::Traced) emits one span per call with token counts,
//! latency, relevance scores and cost; [`request`] makes them children of one
//! root span that carries the request's exact totals.
//!
//! ```
//! use ragtrace::instrument::TracedExt;
//! use ragtrace::steps::{Embedder, Embeddings, Hit, Hits, Query, Retriever, Usage};
//!
//! struct Embed;
//! impl Embedder for Embed {
//!     type Error = std::io::Error;
//!     async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, Self::Error> {
//!         Ok(Embeddings::new(vec![vec![1.0, 0.0]; inputs.len()]).with_usage(Usage::new(7, 0)))
//!     }
//! }
//!
//! struct Search;
//! impl Retriever for Search {
//!     type Error = std::io::Error;
//!     async fn retrieve(&self, _query: &Query<'_>) -> Result<Hits, Self::Error> {
//!         Ok(Hits::new(vec![Hit::new("doc-1", 0.92), Hit::new("doc-2", 0.81)]))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), std::io::Error> {
//! let (embedder, retriever) = (Embed.traced(), Search.traced());
//! let request = ragtrace::request("answer").user("u-1");
//! let hits = request
//!     .run(async {
//!         let query = embedder.embed(&["what is a span?"]).await?;
//!         let vector = query.first().unwrap_or_default();
//!         retriever.retrieve(&Query::vector(vector).top_k(2)).await
//!     })
//!     .await?;
//! assert_eq!(hits.len(), 2);
//! assert_eq!(request.summary().usage.input_tokens, 7);
//! # Ok(()) }
//! ```
//!
//! Ready-made steps live in [`integrations`]: an exact in-memory retriever,
//! and, behind cargo features, `async-openai` chat and embeddings (`openai`)
//! and `qdrant-client` search (`qdrant`).
//!
//! Data flows one way: the wrappers in [`instrument`] measure, [`pricing`]
//! prices, and nothing downstream reaches back.
#![warn(missing_docs)]

#[cfg(feature = "store")]
pub mod analysis;
pub mod instrument;
pub mod integrations;
pub mod pricing;
pub mod prompt;
pub mod steps;
pub mod store;
#[cfg(feature = "telemetry")]
pub mod telemetry;
pub mod tokens;

pub use instrument::{Request, request};

/// The README's code, compiled as a doc test (it sets telemetry up, so
/// only with that feature).
#[cfg(all(doctest, feature = "telemetry"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
pub use integrations::MemoryRetriever;
#[cfg(feature = "openai")]
pub use integrations::openai::{OpenAiChat, OpenAiEmbedder};
#[cfg(feature = "qdrant")]
pub use integrations::qdrant::QdrantRetriever;
