//! [`StepInfo`]: what a step implementation says about itself before a call.

use std::borrow::Cow;

/// Static facts about a step implementation, read when a span starts.
///
/// Every step trait has a `describe` method returning one of these. The
/// values borrow from the implementation, so describing costs no allocation.
/// Fields that do not apply to a step stay `None`.
///
/// ```
/// use ragtrace::steps::StepInfo;
///
/// let info = StepInfo::new()
///     .provider("openai")
///     .model("gpt-4o-mini")
///     .server("api.openai.com", 443);
/// assert_eq!(info.model, Some("gpt-4o-mini"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct StepInfo<'a> {
    /// The GenAI provider (`gen_ai.provider.name`), e.g. `openai`, `anthropic`, `azure.ai.openai`.
    pub provider: Option<&'a str>,
    /// The model asked for (`gen_ai.request.model`).
    pub model: Option<&'a str>,
    /// Host name or address of the server called (`server.address`).
    pub server_address: Option<&'a str>,
    /// Port of the server called (`server.port`).
    pub server_port: Option<u16>,
    /// Retrieval: the data source searched (`gen_ai.data_source.id`, `db.collection.name`).
    pub data_source: Option<&'a str>,
    /// Retrieval: the database product, lower case (`db.system.name`), e.g. `qdrant`.
    pub db_system: Option<&'a str>,
    /// Retrieval: the database operation (`db.operation.name`), e.g. `query`.
    pub db_operation: Option<&'a str>,
    /// Retrieval: how many hits are asked for when the query does not say.
    pub top_k: Option<usize>,
    /// Chat: the temperature sent when the request does not set one.
    pub temperature: Option<f64>,
    /// Chat: the output token limit sent when the request does not set one.
    pub max_tokens: Option<u32>,
    /// Chat: the nucleus sampling mass sent when the request does not set one.
    pub top_p: Option<f64>,
    /// Chat: the sampling seed sent when the request does not set one.
    pub seed: Option<i64>,
    /// Prompt building: the template's name (`gen_ai.prompt.name`).
    pub template: Option<&'a str>,
    /// Prompt building: the template's version.
    pub template_version: Option<&'a str>,
    /// Prompt building: the template text itself (recorded only when content capture is on).
    pub template_text: Option<&'a str>,
}

impl<'a> StepInfo<'a> {
    /// Empty info: every field `None`.
    pub const fn new() -> Self {
        StepInfo {
            provider: None,
            model: None,
            server_address: None,
            server_port: None,
            data_source: None,
            db_system: None,
            db_operation: None,
            top_k: None,
            temperature: None,
            max_tokens: None,
            top_p: None,
            seed: None,
            template: None,
            template_version: None,
            template_text: None,
        }
    }

    /// Sets the provider name.
    pub const fn provider(mut self, provider: &'a str) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Sets the requested model.
    pub const fn model(mut self, model: &'a str) -> Self {
        self.model = Some(model);
        self
    }

    /// Sets the server address and port.
    pub const fn server(mut self, address: &'a str, port: u16) -> Self {
        self.server_address = Some(address);
        self.server_port = Some(port);
        self
    }

    /// Sets the data source (collection, index) a retriever searches.
    pub const fn data_source(mut self, data_source: &'a str) -> Self {
        self.data_source = Some(data_source);
        self
    }

    /// Sets the database system and operation a retriever uses.
    pub const fn db(mut self, system: &'a str, operation: &'a str) -> Self {
        self.db_system = Some(system);
        self.db_operation = Some(operation);
        self
    }

    /// Sets the default number of hits a retriever returns.
    pub const fn top_k(mut self, top_k: usize) -> Self {
        self.top_k = Some(top_k);
        self
    }

    /// Sets the temperature a chat model sends when the request has none.
    pub const fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets the output token limit a chat model sends when the request has none.
    pub const fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the nucleus sampling mass a chat model sends when the request has none.
    pub const fn top_p(mut self, top_p: f64) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// Sets the seed a chat model sends when the request has none.
    pub const fn seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets the prompt template's name and version.
    pub const fn template(mut self, name: &'a str, version: Option<&'a str>) -> Self {
        self.template = Some(name);
        self.template_version = version;
        self
    }

    /// Sets the prompt template's text.
    pub const fn template_text(mut self, text: &'a str) -> Self {
        self.template_text = Some(text);
        self
    }
}

/// Which RAG step a span or a price belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum StepKind {
    /// Embedding ([`Embedder`](super::Embedder)).
    Embeddings,
    /// Vector search ([`Retriever`](super::Retriever)).
    Retrieval,
    /// Reranking retrieved hits ([`Reranker`](super::Reranker)).
    Rerank,
    /// Prompt building ([`PromptBuilder`](super::PromptBuilder)).
    Prompt,
    /// The LLM call ([`ChatModel`](super::ChatModel)).
    Chat,
}

impl StepKind {
    /// All kinds, in request order.
    pub const ALL: [StepKind; 5] = [
        StepKind::Embeddings,
        StepKind::Retrieval,
        StepKind::Rerank,
        StepKind::Prompt,
        StepKind::Chat,
    ];

    /// A short lower-case name: `embeddings`, `retrieval`, `rerank`,
    /// `prompt`, `chat` (all but `prompt` are also the
    /// `gen_ai.operation.name` values ragtrace writes).
    pub const fn as_str(self) -> &'static str {
        match self {
            StepKind::Embeddings => "embeddings",
            StepKind::Retrieval => "retrieval",
            StepKind::Rerank => "rerank",
            StepKind::Prompt => "prompt",
            StepKind::Chat => "chat",
        }
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The default `error.type` of an error: the last path segment of its type
/// name, without generic arguments (e.g. `OpenAIError`, `Status`).
///
/// Step traits use this unless an implementation gives a better class
/// (an HTTP status, `timeout`, `rate_limited`).
pub fn default_error_type<E: ?Sized>() -> Cow<'static, str> {
    let full = std::any::type_name::<E>();
    let base = full.split('<').next().unwrap_or(full);
    match base.rsplit("::").next().unwrap_or(base) {
        // A boxed or shared error says nothing about its class; `_OTHER` is
        // the OpenTelemetry fallback value for `error.type`.
        "Box" | "Arc" | "" => Cow::Borrowed("_OTHER"),
        short => Cow::Borrowed(short),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_error_type_is_the_short_type_name() {
        assert_eq!(default_error_type::<std::io::Error>(), "Error");
        assert_eq!(
            default_error_type::<std::num::ParseIntError>(),
            "ParseIntError"
        );
        assert_eq!(
            default_error_type::<Box<dyn std::error::Error + Send + Sync>>(),
            "_OTHER"
        );
    }
}
