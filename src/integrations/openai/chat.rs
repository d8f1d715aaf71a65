//! [`OpenAiChat`]: chat completions, whole or streamed.

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_openai::Client;
use async_openai::config::{Config, OpenAIConfig};
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestAssistantMessageContent,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestSystemMessageContent, ChatCompletionRequestUserMessage,
    ChatCompletionRequestUserMessageContent, ChatCompletionResponseStream,
    ChatCompletionStreamOptions, CreateChatCompletionRequest, CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse, FinishReason, ServiceTier, StopConfiguration,
};
use futures_core::Stream;

use super::error::error_type;
use super::target::Target;
use super::usage::reported_chat_usage;
use crate::steps::{ChatChunk, ChatModel, ChatRequest, Completion, Message, Role, StepInfo};

type Customize = Arc<dyn Fn(&mut CreateChatCompletionRequest) + Send + Sync>;

/// A [`ChatModel`] over the chat completions API of an
/// [`async_openai::Client`]: OpenAI, Azure OpenAI, or any compatible server.
///
/// Parameters a [`ChatRequest`] sets win over the defaults set here; both are
/// what the span records as `gen_ai.request.*`, because both are what is sent.
/// The answer is the first choice's text (its refusal text when the model
/// refused).
///
/// ```
/// use async_openai::{Client, config::OpenAIConfig};
/// use ragtrace::integrations::openai::OpenAiChat;
/// use ragtrace::steps::ChatModel;
///
/// let client = Client::with_config(OpenAIConfig::new().with_api_key("sk-..."));
/// let llm = OpenAiChat::new(client, "gpt-4o-mini")
///     .temperature(0.2)
///     .max_tokens(512);
/// assert_eq!(llm.describe().model, Some("gpt-4o-mini"));
/// assert_eq!(llm.describe().provider, Some("openai"));
/// assert_eq!(llm.describe().temperature, Some(0.2));
/// ```
pub struct OpenAiChat<C: Config = OpenAIConfig> {
    client: Client<C>,
    model: String,
    target: Target,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    top_p: Option<f64>,
    seed: Option<i64>,
    include_usage: bool,
    legacy_max_tokens: bool,
    customize: Option<Customize>,
}

impl<C: Config + 'static> OpenAiChat<C> {
    /// A chat model calling `model` through `client`.
    ///
    /// Provider and server are read from the client's configuration (its
    /// base URL; never its key).
    pub fn new(client: Client<C>, model: impl Into<String>) -> Self {
        let target = Target::of(client.config());
        OpenAiChat {
            client,
            model: model.into(),
            target,
            temperature: None,
            max_tokens: None,
            top_p: None,
            seed: None,
            include_usage: true,
            legacy_max_tokens: false,
            customize: None,
        }
    }
}

impl<C: Config> OpenAiChat<C> {
    /// Names the provider (`gen_ai.provider.name`, and what prices are
    /// matched by), e.g. `ollama` or `vllm` for a self-hosted server.
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.target.provider = Cow::Owned(provider.into());
        self
    }

    /// The temperature sent when a request does not set one.
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// The output token limit sent when a request does not set one.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// The nucleus sampling mass sent when a request does not set one.
    pub fn top_p(mut self, top_p: f64) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// The sampling seed sent when a request does not set one.
    pub fn seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether streams ask for a final usage chunk
    /// (`stream_options.include_usage`); on by default. Turn it off for a
    /// server that rejects the option; streamed usage is then counted by the
    /// token counter, if one is configured, and marked estimated.
    pub fn include_usage(mut self, include: bool) -> Self {
        self.include_usage = include;
        self
    }

    /// Sends the output token limit as the older `max_tokens` field instead
    /// of `max_completion_tokens`, for servers that know only the old name.
    pub fn legacy_max_tokens(mut self, legacy: bool) -> Self {
        self.legacy_max_tokens = legacy;
        self
    }

    /// Adjusts every request body just before it is sent: tools, response
    /// format, reasoning effort, metadata, anything [`ChatRequest`] does not
    /// carry. Parameters set here are sent but not recorded on the span.
    ///
    /// ```
    /// use async_openai::types::chat::ReasoningEffort;
    /// # use async_openai::{Client, config::OpenAIConfig};
    /// # use ragtrace::integrations::openai::OpenAiChat;
    /// # let client = Client::with_config(OpenAIConfig::new());
    /// let llm = OpenAiChat::new(client, "o4-mini")
    ///     .customize(|body| body.reasoning_effort = Some(ReasoningEffort::Low));
    /// ```
    pub fn customize(
        mut self,
        customize: impl Fn(&mut CreateChatCompletionRequest) + Send + Sync + 'static,
    ) -> Self {
        self.customize = Some(Arc::new(customize));
        self
    }

    /// The client this model calls through.
    pub fn client(&self) -> &Client<C> {
        &self.client
    }

    /// The model asked for.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The request body for `request`, as it will be sent.
    pub fn request_body(
        &self,
        request: &ChatRequest,
        stream: bool,
    ) -> Result<CreateChatCompletionRequest, OpenAIError> {
        let mut body = CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: request.messages.iter().map(message).collect(),
            temperature: request.temperature.or(self.temperature).map(|t| t as f32),
            top_p: request.top_p.or(self.top_p).map(|p| p as f32),
            ..CreateChatCompletionRequest::default()
        };
        let max_tokens = request.max_tokens.or(self.max_tokens);
        #[allow(deprecated)] // still the only names some compatible servers know
        {
            if self.legacy_max_tokens {
                body.max_tokens = max_tokens;
            } else {
                body.max_completion_tokens = max_tokens;
            }
            body.seed = request.seed.or(self.seed);
        }
        body.stop = match request.stop.as_slice() {
            [] => None,
            [one] => Some(StopConfiguration::String(one.clone())),
            many => Some(StopConfiguration::StringArray(many.to_vec())),
        };
        if let Some(tier) = &request.service_tier {
            body.service_tier = Some(service_tier(tier)?);
        }
        if stream {
            body.stream = Some(true);
            if self.include_usage {
                body.stream_options = Some(ChatCompletionStreamOptions {
                    include_usage: Some(true),
                    include_obfuscation: None,
                });
            }
        }
        if let Some(customize) = &self.customize {
            customize(&mut body);
        }
        Ok(body)
    }
}

impl<C: Config + Clone> Clone for OpenAiChat<C> {
    fn clone(&self) -> Self {
        OpenAiChat {
            client: self.client.clone(),
            model: self.model.clone(),
            target: self.target.clone(),
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            top_p: self.top_p,
            seed: self.seed,
            include_usage: self.include_usage,
            legacy_max_tokens: self.legacy_max_tokens,
            customize: self.customize.clone(),
        }
    }
}

// Not derived: the client's configuration holds the API key.
impl<C: Config> std::fmt::Debug for OpenAiChat<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiChat")
            .field("model", &self.model)
            .field("provider", &self.target.provider)
            .field("endpoint", &self.target.endpoint)
            .field("include_usage", &self.include_usage)
            .finish_non_exhaustive()
    }
}

impl<C: Config> ChatModel for OpenAiChat<C> {
    type Error = OpenAIError;
    type Stream = OpenAiChatStream;

    async fn chat(&self, request: &ChatRequest) -> Result<Completion, OpenAIError> {
        let body = self.request_body(request, false)?;
        let response = self.client.chat().create(body).await?;
        Ok(completion(response))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<OpenAiChatStream, OpenAIError> {
        let body = self.request_body(request, true)?;
        let inner = self.client.chat().create_stream(body).await?;
        Ok(OpenAiChatStream { inner })
    }

    fn describe(&self) -> StepInfo<'_> {
        let mut info = StepInfo::new()
            .provider(&self.target.provider)
            .model(&self.model);
        if let Some(endpoint) = &self.target.endpoint {
            info = info.server(&endpoint.host, endpoint.port);
        }
        info.temperature = self.temperature;
        info.max_tokens = self.max_tokens;
        info.top_p = self.top_p;
        info.seed = self.seed;
        info
    }

    fn error_type(error: &OpenAIError) -> Cow<'static, str> {
        error_type(error)
    }
}

/// The chunks of a streamed answer, as [`ChatChunk`]s; errors are the
/// client's own.
pub struct OpenAiChatStream {
    inner: ChatCompletionResponseStream,
}

impl Stream for OpenAiChatStream {
    type Item = Result<ChatChunk, OpenAIError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|chunk| chunk.map(chat_chunk)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl std::fmt::Debug for OpenAiChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiChatStream").finish_non_exhaustive()
    }
}

fn message(message: &Message) -> ChatCompletionRequestMessage {
    let text = message.content.clone();
    match message.role {
        Role::System => ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage {
            content: ChatCompletionRequestSystemMessageContent::Text(text),
            name: None,
        }),
        Role::User => ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
            content: ChatCompletionRequestUserMessageContent::Text(text),
            name: None,
        }),
        Role::Assistant => {
            ChatCompletionRequestMessage::Assistant(ChatCompletionRequestAssistantMessage {
                content: Some(ChatCompletionRequestAssistantMessageContent::Text(text)),
                ..ChatCompletionRequestAssistantMessage::default()
            })
        }
    }
}

fn service_tier(tier: &str) -> Result<ServiceTier, OpenAIError> {
    Ok(match tier {
        "auto" => ServiceTier::Auto,
        "default" => ServiceTier::Default,
        "flex" => ServiceTier::Flex,
        "scale" => ServiceTier::Scale,
        "priority" => ServiceTier::Priority,
        "fast" => ServiceTier::Fast,
        other => {
            return Err(OpenAIError::InvalidArgument(format!(
                "ChatRequest.service_tier: `{other}` is not a chat completions service tier \
                 (auto, default, flex, scale, priority, fast)"
            )));
        }
    })
}

fn service_tier_name(tier: &ServiceTier) -> &'static str {
    match tier {
        ServiceTier::Auto => "auto",
        ServiceTier::Default => "default",
        ServiceTier::Flex => "flex",
        ServiceTier::Scale => "scale",
        ServiceTier::Priority => "priority",
        ServiceTier::Fast => "fast",
    }
}

fn finish_reason(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::FunctionCall => "function_call",
    }
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

fn completion(response: CreateChatCompletionResponse) -> Completion {
    let usage = reported_chat_usage(response.usage.as_ref());
    let mut choices = response.choices;
    choices.sort_by_key(|c| c.index);
    let finish_reasons = choices
        .iter()
        .filter_map(|c| c.finish_reason)
        .map(|r| finish_reason(r).to_owned())
        .collect();
    let content = choices
        .into_iter()
        .next()
        .and_then(|c| c.message.content.or(c.message.refusal))
        .unwrap_or_default();
    Completion {
        content,
        model: non_empty(response.model),
        id: non_empty(response.id),
        finish_reasons,
        usage,
        service_tier: response
            .service_tier
            .as_ref()
            .map(|t| service_tier_name(t).to_owned()),
    }
}

fn chat_chunk(response: CreateChatCompletionStreamResponse) -> ChatChunk {
    let usage = reported_chat_usage(response.usage.as_ref());
    // The answer is choice 0; a usage-only chunk has no choices at all.
    let choice = response.choices.into_iter().find(|c| c.index == 0);
    let (delta, finish) = match choice {
        Some(c) => (
            c.delta.content.or(c.delta.refusal).unwrap_or_default(),
            c.finish_reason.map(|r| finish_reason(r).to_owned()),
        ),
        None => (String::new(), None),
    };
    ChatChunk {
        delta,
        model: non_empty(response.model),
        id: non_empty(response.id),
        finish_reason: finish,
        usage,
        service_tier: response
            .service_tier
            .as_ref()
            .map(|t| service_tier_name(t).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat() -> OpenAiChat {
        let config = OpenAIConfig::new()
            .with_api_base("http://127.0.0.1:9/v1")
            .with_api_key("sk-test");
        OpenAiChat::new(Client::with_config(config), "gpt-4o-mini")
    }

    #[test]
    fn request_parameters_win_over_defaults_and_streams_ask_for_usage() {
        let llm = chat().temperature(0.7).max_tokens(100).seed(1);
        let request = ChatRequest::new(vec![Message::system("s"), Message::user("u")])
            .temperature(0.2)
            .stop("END");
        let body = serde_json::to_value(llm.request_body(&request, true).unwrap()).unwrap();
        assert_eq!(body["model"], "gpt-4o-mini");
        assert_eq!(body["temperature"].as_f64().map(|t| t as f32), Some(0.2));
        assert_eq!(body["max_completion_tokens"], 100);
        assert!(body.get("max_tokens").is_none());
        assert_eq!(body["seed"], 1);
        assert_eq!(body["stop"], "END");
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][1]["content"], "u");

        let quiet = chat()
            .include_usage(false)
            .legacy_max_tokens(true)
            .max_tokens(5);
        let body = serde_json::to_value(quiet.request_body(&request, true).unwrap()).unwrap();
        assert!(body.get("stream_options").is_none());
        assert_eq!(body["max_tokens"], 5);
        let whole = serde_json::to_value(chat().request_body(&request, false).unwrap()).unwrap();
        assert!(whole.get("stream").is_none() && whole.get("stream_options").is_none());
    }

    #[test]
    fn an_unknown_service_tier_is_refused_before_sending() {
        let request = ChatRequest::default().service_tier("batch");
        let error = chat().request_body(&request, false).unwrap_err();
        assert!(error.to_string().contains("`batch`"), "{error}");
        let request = ChatRequest::default().service_tier("flex");
        let body = chat().request_body(&request, false).unwrap();
        assert_eq!(body.service_tier, Some(ServiceTier::Flex));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let text = format!("{:?}", chat());
        assert!(!text.contains("sk-test"), "{text}");
    }
}
