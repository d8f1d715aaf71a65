//! The embedding step: [`Embedder`] and its output, [`Embeddings`].

use std::borrow::Cow;
use std::future::Future;

use super::{StepInfo, Usage, default_error_type};

/// Turns texts into vectors (the first step of a RAG request).
///
/// Implement it for a client of an embedding API or a local model; wrap the
/// implementation in [`Traced`](crate::instrument::Traced) to get one
/// `embeddings {model}` span per call.
///
/// ```
/// use ragtrace::steps::{Embedder, Embeddings, StepInfo, Usage};
///
/// /// Counts letters: a toy embedder that shows the shape of an implementation.
/// struct LetterCounts;
///
/// impl Embedder for LetterCounts {
///     type Error = std::convert::Infallible;
///
///     async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, Self::Error> {
///         let vectors = inputs
///             .iter()
///             .map(|text| vec![text.chars().filter(|c| c.is_alphabetic()).count() as f32])
///             .collect();
///         Ok(Embeddings::new(vectors).with_usage(Usage::new(inputs.len() as u64, 0)))
///     }
///
///     fn describe(&self) -> StepInfo<'_> {
///         StepInfo::new().provider("local").model("letter-counts")
///     }
/// }
/// ```
pub trait Embedder: Send + Sync {
    /// The error a failed call returns.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Embeds each input text; the result holds one vector per input, in order.
    fn embed(
        &self,
        inputs: &[&str],
    ) -> impl Future<Output = Result<Embeddings, Self::Error>> + Send;

    /// Provider, model and server this embedder talks to.
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

/// The vectors an [`Embedder`] returned, with the model and usage it reported.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Embeddings {
    /// One vector per input, in input order.
    pub vectors: Vec<Vec<f32>>,
    /// The model that answered (`gen_ai.response.model`), if the provider said.
    pub model: Option<String>,
    /// Token usage, if the provider reported it.
    pub usage: Option<Usage>,
}

impl Embeddings {
    /// Embeddings holding these vectors, with no model or usage.
    pub fn new(vectors: Vec<Vec<f32>>) -> Self {
        Embeddings {
            vectors,
            model: None,
            usage: None,
        }
    }

    /// Sets the model that answered.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the usage the provider reported.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// The length of the vectors, taken from the first one.
    pub fn dimension(&self) -> Option<usize> {
        self.vectors.first().map(Vec::len)
    }

    /// The first vector (the usual case: one query, one vector).
    pub fn first(&self) -> Option<&[f32]> {
        self.vectors.first().map(Vec::as_slice)
    }
}
