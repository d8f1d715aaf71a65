//! [`async-openai`](async_openai) as ragtrace steps: [`OpenAiChat`] (a
//! [`ChatModel`](crate::steps::ChatModel)) and [`OpenAiEmbedder`] (an
//! [`Embedder`](crate::steps::Embedder)), for OpenAI and any server that speaks
//! its API: Azure OpenAI, vLLM, Ollama, llama.cpp, LiteLLM and other proxies.
//!
//! They take the `async_openai::Client` you already have and report what the
//! server said, faithfully: usage (cached and reasoning tokens included, in
//! ragtrace's [inclusive convention](crate::steps::Usage)), response model
//! and id, finish reasons, service tier. Wrap them in
//! [`Traced`](crate::instrument::Traced) to record it; they create no spans
//! themselves. Errors are the `async_openai` errors the client returned,
//! unchanged, classified for `error.type` by [`error_type`].
//!
//! ```no_run
//! use async_openai::{Client, config::OpenAIConfig};
//! use ragtrace::instrument::TracedExt;
//! use ragtrace::integrations::openai::{OpenAiChat, OpenAiEmbedder};
//! use ragtrace::steps::{ChatModel, ChatRequest, Embedder, Message};
//!
//! # async fn run() -> Result<(), async_openai::error::OpenAIError> {
//! let client = Client::with_config(OpenAIConfig::new()); // OPENAI_API_KEY from the environment
//! let embedder = OpenAiEmbedder::new(client.clone(), "text-embedding-3-small").traced();
//! let llm = OpenAiChat::new(client, "gpt-4o-mini").temperature(0.2).traced();
//!
//! let vectors = embedder.embed(&["what is a span?"]).await?;
//! let answer = llm
//!     .chat(&ChatRequest::new(vec![Message::user("what is a span?")]))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # OpenAI-compatible servers
//!
//! Point the client's base URL at the server; `server.address` and
//! `server.port` come from it. The provider recorded as `gen_ai.provider.name`
//! is `azure.ai.openai` for an `AzureConfig` client or an `*.openai.azure.com`
//! / `*.cognitiveservices.azure.com` host, and `openai` otherwise; name the
//! real one with `.provider("ollama")` (it is also what prices are matched by).
//!
//! ```
//! use async_openai::{Client, config::OpenAIConfig};
//! use ragtrace::integrations::openai::OpenAiChat;
//! use ragtrace::steps::ChatModel;
//!
//! let ollama = Client::with_config(
//!     OpenAIConfig::new().with_api_base("http://localhost:11434/v1").with_api_key("unused"),
//! );
//! let llm = OpenAiChat::new(ollama, "llama3.2").provider("ollama");
//! let info = llm.describe();
//! assert_eq!((info.provider, info.server_address, info.server_port),
//!            (Some("ollama"), Some("localhost"), Some(11434)));
//! ```
//!
//! # Retries
//!
//! async-openai's default client retries `429` answers (except
//! `insufficient_quota`), `5xx` answers and connection failures up to three
//! times, waiting as long as a `Retry-After` header says (else 100 ms,
//! doubling). All attempts happen inside one step call, so
//! they are one span whose duration includes the waits; the caller (and the
//! span) sees the last attempt's outcome. To handle retries yourself, give the
//! client a transport without the retry layer:
//! `client.with_http_service(async_openai::middleware::ReqwestService::new(reqwest::Client::new()))`.
//!
//! # async-openai's own log events
//!
//! async-openai logs the bodies it cannot use (a `5xx` body at WARN, a body
//! that is not valid JSON at ERROR) with `tracing`. Emitted inside the step's
//! span, they become span events when an OpenTelemetry layer records them,
//! whatever ragtrace's content capture says. If response bodies must not
//! reach your tracing backend, filter the `async_openai` target out of the
//! OpenTelemetry layer (your log output can keep it).
//!
//! # Usage
//!
//! Usage a server reports is converted by [`convert_usage`]. A server that
//! reports none, or only zeros (some local servers), gives `usage: None`;
//! [`Traced`](crate::instrument::Traced) then counts tokens with the configured
//! [`TokenCounter`](crate::tokens::TokenCounter) and marks the figures estimated.
//! Streams ask for a final usage chunk (`stream_options.include_usage`) unless
//! [`OpenAiChat::include_usage`] turns that off for servers that reject it.

mod chat;
mod embed;
mod error;
mod target;
mod usage;

pub use chat::{OpenAiChat, OpenAiChatStream};
pub use embed::OpenAiEmbedder;
pub use error::error_type;
pub use usage::convert_usage;

/// The provider name of OpenAI (`gen_ai.provider.name`).
pub const OPENAI: &str = "openai";
/// The provider name of Azure OpenAI (`gen_ai.provider.name`).
pub const AZURE_OPENAI: &str = "azure.ai.openai";
