//! [`OpenAiEmbedder`]: the embeddings API.

use std::borrow::Cow;

use async_openai::Client;
use async_openai::config::{Config, OpenAIConfig};
use async_openai::error::OpenAIError;
use async_openai::types::embeddings::{
    CreateEmbeddingRequest, CreateEmbeddingResponse, EmbeddingInput,
};

use super::error::error_type;
use super::target::Target;
use super::usage::reported_embedding_usage;
use crate::steps::{Embedder, Embeddings, StepInfo, Usage};

/// An [`Embedder`] over the embeddings API of an [`async_openai::Client`]:
/// OpenAI, Azure OpenAI, or any compatible server.
///
/// One call sends all inputs in one request (a single input as a plain
/// string, which every compatible server accepts) and returns the vectors in
/// input order.
///
/// ```
/// use async_openai::{Client, config::OpenAIConfig};
/// use ragtrace::integrations::openai::OpenAiEmbedder;
/// use ragtrace::steps::Embedder;
///
/// let client = Client::with_config(OpenAIConfig::new().with_api_key("sk-..."));
/// let embedder = OpenAiEmbedder::new(client, "text-embedding-3-small").dimensions(512);
/// assert_eq!(embedder.describe().model, Some("text-embedding-3-small"));
/// ```
pub struct OpenAiEmbedder<C: Config = OpenAIConfig> {
    client: Client<C>,
    model: String,
    target: Target,
    dimensions: Option<u32>,
}

impl<C: Config + 'static> OpenAiEmbedder<C> {
    /// An embedder calling `model` through `client`.
    pub fn new(client: Client<C>, model: impl Into<String>) -> Self {
        let target = Target::of(client.config());
        OpenAiEmbedder {
            client,
            model: model.into(),
            target,
            dimensions: None,
        }
    }
}

impl<C: Config> OpenAiEmbedder<C> {
    /// Names the provider (`gen_ai.provider.name`, and what prices are matched by).
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.target.provider = Cow::Owned(provider.into());
        self
    }

    /// Asks for vectors of this length (models that support shortening).
    pub fn dimensions(mut self, dimensions: u32) -> Self {
        self.dimensions = Some(dimensions);
        self
    }

    /// The client this embedder calls through.
    pub fn client(&self) -> &Client<C> {
        &self.client
    }

    /// The model asked for.
    pub fn model(&self) -> &str {
        &self.model
    }
}

impl<C: Config + Clone> Clone for OpenAiEmbedder<C> {
    fn clone(&self) -> Self {
        OpenAiEmbedder {
            client: self.client.clone(),
            model: self.model.clone(),
            target: self.target.clone(),
            dimensions: self.dimensions,
        }
    }
}

// Not derived: the client's configuration holds the API key.
impl<C: Config> std::fmt::Debug for OpenAiEmbedder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("model", &self.model)
            .field("provider", &self.target.provider)
            .field("endpoint", &self.target.endpoint)
            .field("dimensions", &self.dimensions)
            .finish_non_exhaustive()
    }
}

impl<C: Config> Embedder for OpenAiEmbedder<C> {
    type Error = OpenAIError;

    async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, OpenAIError> {
        if inputs.is_empty() {
            // Nothing to embed: no call, so exactly no tokens.
            return Ok(Embeddings::new(Vec::new()).with_usage(Usage::default()));
        }
        let input = match inputs {
            [one] => EmbeddingInput::String((*one).to_owned()),
            many => EmbeddingInput::StringArray(many.iter().map(|s| (*s).to_owned()).collect()),
        };
        let request = CreateEmbeddingRequest {
            model: self.model.clone(),
            input,
            encoding_format: None,
            user: None,
            dimensions: self.dimensions,
        };
        let response = self.client.embeddings().create(request).await?;
        embeddings(response, inputs.len())
    }

    fn describe(&self) -> StepInfo<'_> {
        let info = StepInfo::new()
            .provider(&self.target.provider)
            .model(&self.model);
        match &self.target.endpoint {
            Some(endpoint) => info.server(&endpoint.host, endpoint.port),
            None => info,
        }
    }

    fn error_type(error: &OpenAIError) -> Cow<'static, str> {
        error_type(error)
    }
}

/// The vectors of `response` in input order, checked to be one per input.
fn embeddings(response: CreateEmbeddingResponse, inputs: usize) -> Result<Embeddings, OpenAIError> {
    let received = response.data.len();
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; inputs];
    for item in response.data {
        let slot = usize::try_from(item.index)
            .ok()
            .and_then(|i| slots.get_mut(i))
            .filter(|slot| slot.is_none())
            .ok_or_else(|| {
                invalid_response(format!(
                    "embeddings response: index {} is out of range or repeated for {inputs} inputs",
                    item.index
                ))
            })?;
        *slot = Some(item.embedding);
    }
    let vectors = slots
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            invalid_response(format!(
                "embeddings response: {received} vectors for {inputs} inputs"
            ))
        })?;
    let mut out = Embeddings::new(vectors);
    if !response.model.is_empty() {
        out = out.with_model(response.model);
    }
    if let Some(usage) = reported_embedding_usage(&response.usage) {
        out = out.with_usage(usage);
    }
    Ok(out)
}

/// A response that parsed but breaks the API's promise, reported the way
/// async-openai reports bodies it cannot use.
fn invalid_response(message: String) -> OpenAIError {
    let error = <serde_json::Error as serde::de::Error>::custom(&message);
    OpenAIError::JSONDeserialize(error, message)
}

#[cfg(test)]
mod tests {
    use async_openai::types::embeddings::{Embedding, EmbeddingUsage};

    use super::*;

    fn response(indices: &[u32]) -> CreateEmbeddingResponse {
        CreateEmbeddingResponse {
            object: "list".into(),
            model: "m".into(),
            data: indices
                .iter()
                .map(|&index| Embedding {
                    index,
                    object: "embedding".into(),
                    embedding: vec![index as f32],
                })
                .collect(),
            usage: EmbeddingUsage {
                prompt_tokens: 3,
                total_tokens: 3,
            },
        }
    }

    #[test]
    fn vectors_come_back_in_input_order() {
        let out = embeddings(response(&[2, 0, 1]), 3).unwrap();
        assert_eq!(out.vectors, [vec![0.0], vec![1.0], vec![2.0]]);
        assert_eq!(out.usage, Some(Usage::new(3, 0)));
        assert_eq!(out.model.as_deref(), Some("m"));
    }

    #[test]
    fn a_response_that_does_not_match_the_inputs_is_an_error() {
        for (indices, inputs) in [(&[0, 1][..], 3), (&[0, 0, 1][..], 3), (&[0, 5][..], 2)] {
            let error = embeddings(response(indices), inputs).unwrap_err();
            assert_eq!(error_type(&error), "invalid_response", "{error}");
        }
    }
}
