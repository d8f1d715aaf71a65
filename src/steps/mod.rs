//! The four steps of a RAG request, as traits, and the data that flows between them.
//!
//! | step | trait | output |
//! |---|---|---|
//! | embed the query | [`Embedder`] | [`Embeddings`] |
//! | search the vector store | [`Retriever`] | [`Hits`] |
//! | rerank the hits (optional) | [`Reranker`] | [`Hits`] |
//! | build the prompt | [`PromptBuilder`] | [`Prompt`] |
//! | call the model | [`ChatModel`] | [`Completion`] or a stream of [`ChatChunk`]s |
//!
//! The traits know nothing of tracing; [`crate::instrument`] wraps any
//! implementation. Their futures are `Send`, so steps run on multi-threaded
//! tokio; `&T`, `Arc<T>` and `Box<T>` implement a trait whenever `T` does,
//! and [`dynamic`] offers `dyn`-compatible twins.

mod chat;
pub mod dynamic;
mod embed;
mod filter;
mod info;
mod prompt;
mod rerank;
mod retrieve;
mod usage;

pub use chat::{ChatChunk, ChatModel, ChatRequest, Completion, SingleChunk, single_chunk};
pub use dynamic::{
    DynChatModel, DynEmbedder, DynError, DynPromptBuilder, DynReranker, DynRetriever,
};
pub use embed::{Embedder, Embeddings};
pub use filter::{Bounds, Filter, FilterError, FilterValue};
pub use info::{StepInfo, StepKind, default_error_type};
pub use prompt::{Message, Prompt, PromptBuilder, PromptStats, Role};
pub use rerank::Reranker;
pub use retrieve::{Hit, Hits, Query, QueryError, QueryInfo, Retriever, ScoreKind, SparseVector};
pub use usage::Usage;
