//! Ready-made steps for the clients RAG services already use.
//!
//! | module | step | feature |
//! |---|---|---|
//! | [`memory`] | [`MemoryRetriever`]: exact in-process vector search | always |
//! | `openai` | `OpenAiChat`, `OpenAiEmbedder` over `async-openai` (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp, ...) | `openai` |
//! | `qdrant` | `QdrantRetriever` over `qdrant-client` | `qdrant` |
//!
//! Each implements a step trait of [`crate::steps`] and reports what its
//! client returned; none creates spans. Wrap them in
//! [`Traced`](crate::instrument::Traced) to record them.

#[cfg(any(feature = "openai", feature = "qdrant"))]
mod endpoint;
pub mod memory;
#[cfg(feature = "openai")]
pub mod openai;
#[cfg(feature = "qdrant")]
pub mod qdrant;

pub use memory::MemoryRetriever;
#[cfg(feature = "openai")]
pub use openai::{OpenAiChat, OpenAiEmbedder};
#[cfg(feature = "qdrant")]
pub use qdrant::QdrantRetriever;
