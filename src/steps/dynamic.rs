//! Dynamic dispatch over the step traits.
//!
//! The step traits use `async fn`-style methods, which keeps static calls
//! free of allocation but makes the traits unusable as `dyn` objects. Each
//! has an object-safe twin here (`DynEmbedder`, ...) implemented for every
//! implementation of the original; `dyn DynX` implements the original trait
//! again, with errors boxed into [`DynError`]. So `Arc<dyn DynEmbedder>` is an
//! [`Embedder`] and can be wrapped in [`Traced`](crate::instrument::Traced)
//! like any other.
//!
//! ```
//! use std::sync::Arc;
//! use ragtrace::steps::{DynEmbedder, Embedder, Embeddings};
//!
//! struct Zeros;
//! impl Embedder for Zeros {
//!     type Error = std::io::Error;
//!     async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, Self::Error> {
//!         Ok(Embeddings::new(vec![vec![0.0; 4]; inputs.len()]))
//!     }
//! }
//!
//! // Chosen at run time, e.g. from configuration.
//! let embedders: Vec<Arc<dyn DynEmbedder>> = vec![Arc::new(Zeros)];
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! let out = embedders[0].embed(&["hello"]).await.unwrap();
//! assert_eq!(out.dimension(), Some(4));
//! # });
//! ```

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_core::Stream;
use futures_util::{StreamExt, TryFutureExt};

use super::{
    ChatChunk, ChatModel, ChatRequest, Completion, Embedder, Embeddings, Hit, Hits, Prompt,
    PromptBuilder, Query, QueryInfo, Reranker, Retriever, StepInfo,
};

/// A boxed, thread-safe error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A boxed, `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The chunk stream of a `dyn` chat model.
pub type BoxChatStream = Pin<Box<dyn Stream<Item = Result<ChatChunk, DynError>> + Send>>;

/// The error of a step called through `dyn`: the original error, boxed, with
/// the `error.type` its implementation gave it.
#[derive(Debug)]
pub struct DynError {
    error: BoxError,
    error_type: Cow<'static, str>,
    message: Option<String>,
}

impl DynError {
    /// Boxes `error`, keeping its `error.type`.
    pub fn new(
        error: impl std::error::Error + Send + Sync + 'static,
        error_type: Cow<'static, str>,
    ) -> Self {
        DynError {
            error: Box::new(error),
            error_type,
            message: None,
        }
    }

    /// Keeps the plainer message its implementation gave it (see
    /// [`Retriever::error_message`]); `Display` stays the original's.
    pub fn with_message(mut self, message: String) -> Self {
        self.message = Some(message);
        self
    }

    /// The message its implementation gave it, else its `Display`.
    pub fn message(&self) -> String {
        self.message
            .clone()
            .unwrap_or_else(|| self.error.to_string())
    }

    /// The `error.type` the implementation gave this error.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The original error, if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.error.downcast_ref::<E>()
    }

    /// The original error, boxed.
    pub fn into_inner(self) -> BoxError {
        self.error
    }
}

impl std::fmt::Display for DynError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for DynError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

fn boxed<E: std::error::Error + Send + Sync + 'static>(
    error_type: fn(&E) -> Cow<'static, str>,
) -> impl Fn(E) -> DynError {
    move |error| {
        let class = error_type(&error);
        DynError::new(error, class)
    }
}

/// The object-safe twin of [`Embedder`].
pub trait DynEmbedder: Send + Sync {
    /// [`Embedder::embed`], boxed.
    fn embed_dyn<'a>(
        &'a self,
        inputs: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Embeddings, DynError>>;
    /// [`Embedder::describe`].
    fn describe_dyn(&self) -> StepInfo<'_>;
}

impl<T: Embedder> DynEmbedder for T {
    fn embed_dyn<'a>(
        &'a self,
        inputs: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Embeddings, DynError>> {
        Box::pin(self.embed(inputs).map_err(boxed(T::error_type)))
    }
    fn describe_dyn(&self) -> StepInfo<'_> {
        self.describe()
    }
}

// The `async fn`s below keep each borrowed argument's lifetime apart; the
// boxed future alone would tie them into one that no bound can name.
impl Embedder for dyn DynEmbedder {
    type Error = DynError;
    async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, DynError> {
        self.embed_dyn(inputs).await
    }
    fn describe(&self) -> StepInfo<'_> {
        self.describe_dyn()
    }
    fn error_type(error: &DynError) -> Cow<'static, str> {
        error.error_type.clone()
    }
}

/// The object-safe twin of [`Retriever`].
pub trait DynRetriever: Send + Sync {
    /// [`Retriever::retrieve`], boxed.
    fn retrieve_dyn<'a>(&'a self, query: &'a Query<'a>) -> BoxFuture<'a, Result<Hits, DynError>>;
    /// [`Retriever::describe`].
    fn describe_dyn(&self) -> StepInfo<'_>;
    /// [`Retriever::describe_query`].
    fn describe_query_dyn(&self, query: &Query<'_>) -> QueryInfo;
}

impl<T: Retriever> DynRetriever for T {
    fn retrieve_dyn<'a>(&'a self, query: &'a Query<'a>) -> BoxFuture<'a, Result<Hits, DynError>> {
        Box::pin(self.retrieve(query).map_err(|error| {
            let class = T::error_type(&error);
            let message = T::error_message(&error);
            DynError::new(error, class).with_message(message)
        }))
    }
    fn describe_dyn(&self) -> StepInfo<'_> {
        self.describe()
    }
    fn describe_query_dyn(&self, query: &Query<'_>) -> QueryInfo {
        self.describe_query(query)
    }
}

impl Retriever for dyn DynRetriever {
    type Error = DynError;
    async fn retrieve(&self, query: &Query<'_>) -> Result<Hits, DynError> {
        self.retrieve_dyn(query).await
    }
    fn describe(&self) -> StepInfo<'_> {
        self.describe_dyn()
    }
    fn error_type(error: &DynError) -> Cow<'static, str> {
        error.error_type.clone()
    }
    fn error_message(error: &DynError) -> String {
        error.message()
    }
    fn describe_query(&self, query: &Query<'_>) -> QueryInfo {
        self.describe_query_dyn(query)
    }
}

/// The object-safe twin of [`Reranker`].
pub trait DynReranker: Send + Sync {
    /// [`Reranker::rerank`], boxed.
    fn rerank_dyn<'a>(
        &'a self,
        query: &'a str,
        hits: &'a [Hit],
    ) -> BoxFuture<'a, Result<Hits, DynError>>;
    /// [`Reranker::describe`].
    fn describe_dyn(&self) -> StepInfo<'_>;
}

impl<T: Reranker> DynReranker for T {
    fn rerank_dyn<'a>(
        &'a self,
        query: &'a str,
        hits: &'a [Hit],
    ) -> BoxFuture<'a, Result<Hits, DynError>> {
        Box::pin(self.rerank(query, hits).map_err(|error| {
            let class = T::error_type(&error);
            let message = T::error_message(&error);
            DynError::new(error, class).with_message(message)
        }))
    }
    fn describe_dyn(&self) -> StepInfo<'_> {
        self.describe()
    }
}

impl Reranker for dyn DynReranker {
    type Error = DynError;
    async fn rerank(&self, query: &str, hits: &[Hit]) -> Result<Hits, DynError> {
        self.rerank_dyn(query, hits).await
    }
    fn describe(&self) -> StepInfo<'_> {
        self.describe_dyn()
    }
    fn error_type(error: &DynError) -> Cow<'static, str> {
        error.error_type.clone()
    }
    fn error_message(error: &DynError) -> String {
        error.message()
    }
}

/// The object-safe twin of [`PromptBuilder`].
pub trait DynPromptBuilder: Send + Sync {
    /// [`PromptBuilder::build`], boxed.
    fn build_dyn<'a>(
        &'a self,
        question: &'a str,
        hits: &'a [Hit],
    ) -> BoxFuture<'a, Result<Prompt, DynError>>;
    /// [`PromptBuilder::describe`].
    fn describe_dyn(&self) -> StepInfo<'_>;
}

impl<T: PromptBuilder> DynPromptBuilder for T {
    fn build_dyn<'a>(
        &'a self,
        question: &'a str,
        hits: &'a [Hit],
    ) -> BoxFuture<'a, Result<Prompt, DynError>> {
        Box::pin(self.build(question, hits).map_err(boxed(T::error_type)))
    }
    fn describe_dyn(&self) -> StepInfo<'_> {
        self.describe()
    }
}

impl PromptBuilder for dyn DynPromptBuilder {
    type Error = DynError;
    async fn build(&self, question: &str, hits: &[Hit]) -> Result<Prompt, DynError> {
        self.build_dyn(question, hits).await
    }
    fn describe(&self) -> StepInfo<'_> {
        self.describe_dyn()
    }
    fn error_type(error: &DynError) -> Cow<'static, str> {
        error.error_type.clone()
    }
}

/// The object-safe twin of [`ChatModel`].
pub trait DynChatModel: Send + Sync {
    /// [`ChatModel::chat`], boxed.
    fn chat_dyn<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<Completion, DynError>>;
    /// [`ChatModel::chat_stream`], boxed.
    fn chat_stream_dyn<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<BoxChatStream, DynError>>;
    /// [`ChatModel::describe`].
    fn describe_dyn(&self) -> StepInfo<'_>;
}

impl<T> DynChatModel for T
where
    T: ChatModel,
    T::Stream: 'static,
{
    fn chat_dyn<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<Completion, DynError>> {
        Box::pin(self.chat(request).map_err(boxed(T::error_type)))
    }
    fn chat_stream_dyn<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<BoxChatStream, DynError>> {
        Box::pin(async move {
            match self.chat_stream(request).await {
                Ok(stream) => {
                    let stream = stream.map(|item| item.map_err(boxed(T::error_type)));
                    Ok(Box::pin(stream) as BoxChatStream)
                }
                Err(error) => Err(boxed(T::error_type)(error)),
            }
        })
    }
    fn describe_dyn(&self) -> StepInfo<'_> {
        self.describe()
    }
}

impl ChatModel for dyn DynChatModel {
    type Error = DynError;
    type Stream = BoxChatStream;
    async fn chat(&self, request: &ChatRequest) -> Result<Completion, DynError> {
        self.chat_dyn(request).await
    }
    async fn chat_stream(&self, request: &ChatRequest) -> Result<BoxChatStream, DynError> {
        self.chat_stream_dyn(request).await
    }
    fn describe(&self) -> StepInfo<'_> {
        self.describe_dyn()
    }
    fn error_type(error: &DynError) -> Cow<'static, str> {
        error.error_type.clone()
    }
}

/// Implements a step trait for references and smart pointers to an implementation.
macro_rules! forward_through_pointers {
    ($($pointer:ty),*) => {$(
        impl<T: Embedder + ?Sized> Embedder for $pointer {
            type Error = T::Error;
            fn embed(&self, inputs: &[&str]) -> impl Future<Output = Result<Embeddings, T::Error>> + Send {
                (**self).embed(inputs)
            }
            fn describe(&self) -> StepInfo<'_> {
                (**self).describe()
            }
            fn error_type(error: &T::Error) -> Cow<'static, str> {
                T::error_type(error)
            }
        }

        impl<T: Retriever + ?Sized> Retriever for $pointer {
            type Error = T::Error;
            fn retrieve(&self, query: &Query<'_>) -> impl Future<Output = Result<Hits, T::Error>> + Send {
                (**self).retrieve(query)
            }
            fn describe(&self) -> StepInfo<'_> {
                (**self).describe()
            }
            fn error_type(error: &T::Error) -> Cow<'static, str> {
                T::error_type(error)
            }
            fn error_message(error: &T::Error) -> String {
                T::error_message(error)
            }
            fn describe_query(&self, query: &Query<'_>) -> QueryInfo {
                (**self).describe_query(query)
            }
        }

        impl<T: Reranker + ?Sized> Reranker for $pointer {
            type Error = T::Error;
            fn rerank(&self, query: &str, hits: &[Hit]) -> impl Future<Output = Result<Hits, T::Error>> + Send {
                (**self).rerank(query, hits)
            }
            fn describe(&self) -> StepInfo<'_> {
                (**self).describe()
            }
            fn error_type(error: &T::Error) -> Cow<'static, str> {
                T::error_type(error)
            }
            fn error_message(error: &T::Error) -> String {
                T::error_message(error)
            }
        }

        impl<T: PromptBuilder + ?Sized> PromptBuilder for $pointer {
            type Error = T::Error;
            fn build(&self, question: &str, hits: &[Hit]) -> impl Future<Output = Result<Prompt, T::Error>> + Send {
                (**self).build(question, hits)
            }
            fn describe(&self) -> StepInfo<'_> {
                (**self).describe()
            }
            fn error_type(error: &T::Error) -> Cow<'static, str> {
                T::error_type(error)
            }
        }

        impl<T: ChatModel + ?Sized> ChatModel for $pointer {
            type Error = T::Error;
            type Stream = T::Stream;
            fn chat(&self, request: &ChatRequest) -> impl Future<Output = Result<Completion, T::Error>> + Send {
                (**self).chat(request)
            }
            fn chat_stream(&self, request: &ChatRequest) -> impl Future<Output = Result<T::Stream, T::Error>> + Send {
                (**self).chat_stream(request)
            }
            fn describe(&self) -> StepInfo<'_> {
                (**self).describe()
            }
            fn error_type(error: &T::Error) -> Cow<'static, str> {
                T::error_type(error)
            }
        }
    )*};
}

forward_through_pointers!(&T, Arc<T>, Box<T>);
