//! The LLM step: [`ChatModel`], its input [`ChatRequest`] and its outputs
//! [`Completion`] and, when streaming, [`ChatChunk`]s.

use std::borrow::Cow;
use std::future::Future;

use futures_core::Stream;

use super::{Message, Prompt, StepInfo, Usage, default_error_type};

/// Calls a chat model (the last step of a RAG request), whole or streamed.
///
/// Wrap an implementation in [`Traced`](crate::instrument::Traced) to get one
/// `chat {model}` span per call. A streamed call's span lives as long as the
/// stream: it records the time to the first chunk, takes usage from the chunk
/// that reports it, and closes when the stream ends or is dropped.
pub trait ChatModel: Send + Sync {
    /// The error a failed call, or a failed chunk of a stream, returns.
    type Error: std::error::Error + Send + Sync + 'static;
    /// The stream of chunks [`chat_stream`](Self::chat_stream) returns.
    /// A model that cannot stream can use [`SingleChunk`].
    type Stream: Stream<Item = Result<ChatChunk, Self::Error>> + Send;

    /// Sends the request and waits for the whole answer.
    fn chat(
        &self,
        request: &ChatRequest,
    ) -> impl Future<Output = Result<Completion, Self::Error>> + Send;

    /// Sends the request and returns the answer as a stream of chunks.
    fn chat_stream(
        &self,
        request: &ChatRequest,
    ) -> impl Future<Output = Result<Self::Stream, Self::Error>> + Send;

    /// Provider, model and server this chat model talks to.
    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
    }

    /// A low-cardinality class of a failure, recorded as `error.type`.
    ///
    /// The default is the error's type name; an implementation can do better
    /// (an HTTP status, `timeout`, `rate_limited`).
    fn error_type(error: &Self::Error) -> Cow<'static, str> {
        let _ = error;
        default_error_type::<Self::Error>()
    }
}

/// A stream of exactly one chunk: the [`ChatModel::Stream`] of a model that
/// answers whole. Make one with [`single_chunk`].
pub type SingleChunk<E> = futures_util::stream::Once<std::future::Ready<Result<ChatChunk, E>>>;

/// Wraps a whole answer as a one-chunk stream.
pub fn single_chunk<E>(completion: Completion) -> SingleChunk<E> {
    futures_util::stream::once(std::future::ready(Ok(ChatChunk::from(completion))))
}

/// What to send to a chat model: messages and sampling parameters.
///
/// ```
/// use ragtrace::steps::{ChatRequest, Message};
///
/// let request = ChatRequest::new(vec![Message::user("Hello")])
///     .temperature(0.2)
///     .max_tokens(256);
/// assert_eq!(request.max_tokens, Some(256));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ChatRequest {
    /// The conversation, in order.
    pub messages: Vec<Message>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Upper bound on output tokens.
    pub max_tokens: Option<u32>,
    /// Nucleus sampling mass.
    pub top_p: Option<f64>,
    /// Seed for reproducible sampling.
    pub seed: Option<i64>,
    /// Sequences that end the answer.
    pub stop: Vec<String>,
    /// Service tier asked for (`batch`, `flex`, `priority`, ...); it changes the price.
    pub service_tier: Option<String>,
}

impl ChatRequest {
    /// A request with these messages and default parameters.
    pub fn new(messages: Vec<Message>) -> Self {
        ChatRequest {
            messages,
            ..ChatRequest::default()
        }
    }

    /// Sets the sampling temperature.
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets the upper bound on output tokens.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets nucleus sampling.
    pub fn top_p(mut self, top_p: f64) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// Sets the sampling seed.
    pub fn seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Adds a stop sequence.
    pub fn stop(mut self, sequence: impl Into<String>) -> Self {
        self.stop.push(sequence.into());
        self
    }

    /// Asks for a service tier.
    pub fn service_tier(mut self, tier: impl Into<String>) -> Self {
        self.service_tier = Some(tier.into());
        self
    }
}

impl From<Prompt> for ChatRequest {
    fn from(prompt: Prompt) -> Self {
        ChatRequest::new(prompt.messages)
    }
}

impl From<&Prompt> for ChatRequest {
    fn from(prompt: &Prompt) -> Self {
        ChatRequest::new(prompt.messages.clone())
    }
}

/// A whole answer from a chat model.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Completion {
    /// The answer text.
    pub content: String,
    /// The model that answered (`gen_ai.response.model`).
    pub model: Option<String>,
    /// The provider's id of the response (`gen_ai.response.id`).
    pub id: Option<String>,
    /// Why generation stopped, one per choice (`stop`, `length`, `content_filter`, ...).
    pub finish_reasons: Vec<String>,
    /// Token usage, if the provider reported it.
    pub usage: Option<Usage>,
    /// The service tier that served the request, if the provider said.
    pub service_tier: Option<String>,
}

impl Completion {
    /// A completion with this text and nothing else.
    pub fn new(content: impl Into<String>) -> Self {
        Completion {
            content: content.into(),
            ..Completion::default()
        }
    }

    /// Sets the model that answered.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the response id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Adds a finish reason.
    pub fn with_finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reasons.push(reason.into());
        self
    }

    /// Sets the usage.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Sets the service tier that served the request.
    pub fn with_service_tier(mut self, tier: impl Into<String>) -> Self {
        self.service_tier = Some(tier.into());
        self
    }
}

/// One piece of a streamed answer.
///
/// Providers send metadata (model, id, finish reason, usage) on some chunks
/// only; each field is `None` where a chunk did not carry it.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ChatChunk {
    /// The text this chunk adds.
    pub delta: String,
    /// The model that answered, if this chunk says.
    pub model: Option<String>,
    /// The provider's id of the response, if this chunk says.
    pub id: Option<String>,
    /// Why generation stopped, on the chunk that ends a choice.
    pub finish_reason: Option<String>,
    /// Token usage of the whole call, usually on the last chunk only.
    pub usage: Option<Usage>,
    /// The service tier that served the request, if this chunk says.
    pub service_tier: Option<String>,
}

impl ChatChunk {
    /// A chunk adding this text.
    pub fn new(delta: impl Into<String>) -> Self {
        ChatChunk {
            delta: delta.into(),
            ..ChatChunk::default()
        }
    }

    /// Sets the model that answered.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the response id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the finish reason.
    pub fn with_finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }

    /// Sets the usage.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }
}

impl From<Completion> for ChatChunk {
    fn from(completion: Completion) -> Self {
        ChatChunk {
            delta: completion.content,
            model: completion.model,
            id: completion.id,
            finish_reason: completion.finish_reasons.into_iter().next(),
            usage: completion.usage,
            service_tier: completion.service_tier,
        }
    }
}
