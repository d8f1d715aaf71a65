//! Step implementations for tests: each does what the test scripts (values,
//! usage, errors, delays), so the wrapper's behaviour around them can be checked.

use std::borrow::Cow;
use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};
use ragtrace::steps::{
    ChatChunk, ChatModel, ChatRequest, Completion, Embedder, Embeddings, Hit, Hits, Message,
    Prompt, PromptBuilder, PromptStats, Query, Retriever, StepInfo, Usage,
};

/// A failure a scripted step can return.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    #[error("rate limited, retry after {0}s")]
    RateLimited(u64),
    #[error("upstream failed: {0}")]
    Upstream(String),
}

fn classify(error: &Failure) -> Cow<'static, str> {
    match error {
        Failure::RateLimited(_) => Cow::Borrowed("rate_limited"),
        Failure::Upstream(_) => Cow::Borrowed("upstream"),
    }
}

#[derive(Debug, Clone)]
pub struct ScriptedEmbedder {
    pub model: String,
    pub dimensions: usize,
    /// Usage reported per input text.
    pub usage_per_input: Option<Usage>,
    pub fail: Option<Failure>,
    pub delay: Duration,
}

impl ScriptedEmbedder {
    pub fn new(model: &str, dimensions: usize) -> Self {
        ScriptedEmbedder {
            model: model.to_owned(),
            dimensions,
            usage_per_input: None,
            fail: None,
            delay: Duration::ZERO,
        }
    }
}

impl Embedder for ScriptedEmbedder {
    type Error = Failure;

    async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, Failure> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        if let Some(failure) = &self.fail {
            return Err(failure.clone());
        }
        let vectors = inputs.iter().map(|_| vec![0.5; self.dimensions]).collect();
        let mut out = Embeddings::new(vectors).with_model(format!("{}-v1", self.model));
        if let Some(per_input) = self.usage_per_input {
            let mut total = Usage::default();
            for _ in inputs {
                total.add(&per_input);
            }
            out = out.with_usage(total);
        }
        Ok(out)
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
            .provider("openai")
            .model(&self.model)
            .server("127.0.0.1", 8443)
    }

    fn error_type(error: &Failure) -> Cow<'static, str> {
        classify(error)
    }
}

#[derive(Debug, Clone)]
pub struct ScriptedRetriever {
    pub collection: String,
    pub hits: Vec<Hit>,
    pub fail: Option<Failure>,
}

impl Retriever for ScriptedRetriever {
    type Error = Failure;

    async fn retrieve(&self, query: &Query<'_>) -> Result<Hits, Failure> {
        if let Some(failure) = &self.fail {
            return Err(failure.clone());
        }
        let k = query.top_k.unwrap_or(self.hits.len());
        Ok(self.hits.iter().take(k).cloned().collect())
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
            .data_source(&self.collection)
            .db("qdrant", "query")
            .top_k(5)
            .server("127.0.0.1", 6334)
    }

    fn error_type(error: &Failure) -> Cow<'static, str> {
        classify(error)
    }
}

/// Puts every hit's content into the user message; 1 token per 4 bytes.
#[derive(Debug, Clone)]
pub struct ScriptedPrompt {
    pub template: String,
    pub max_chunks: usize,
}

impl PromptBuilder for ScriptedPrompt {
    type Error = Failure;

    async fn build(&self, question: &str, hits: &[Hit]) -> Result<Prompt, Failure> {
        let included: Vec<&Hit> = hits.iter().take(self.max_chunks).collect();
        let context: String = included
            .iter()
            .filter_map(|h| h.content.as_deref())
            .collect::<Vec<_>>()
            .join("\n");
        let system = "Answer from the context.";
        let user = format!("Context:\n{context}\n\nQuestion: {question}");
        let tokens = |s: &str| s.len().div_ceil(4) as u64;
        let stats = PromptStats::new(tokens(system) + tokens(&user))
            .with_context(
                tokens(&context),
                hits.len() as u64,
                included.len() as u64,
                0,
            )
            .with_budget(1000)
            .with_context_window(128_000)
            .with_estimated(true);
        Ok(Prompt::new(
            vec![Message::system(system), Message::user(user)],
            stats,
        ))
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
            .template(&self.template, Some("3"))
            .model("gpt-4o-mini")
            .template_text("Context:\n{context}\n\nQuestion: {question}")
    }
}

#[derive(Debug, Clone)]
pub struct ScriptedChat {
    pub model: String,
    pub chunks: Vec<String>,
    pub usage: Option<Usage>,
    pub fail: Option<Failure>,
    /// Fail the stream after this many chunks.
    pub fail_after: Option<usize>,
    pub chunk_delay: Duration,
}

impl ScriptedChat {
    pub fn new(model: &str, chunks: &[&str]) -> Self {
        ScriptedChat {
            model: model.to_owned(),
            chunks: chunks.iter().map(|c| c.to_string()).collect(),
            usage: None,
            fail: None,
            fail_after: None,
            chunk_delay: Duration::ZERO,
        }
    }
}

impl ChatModel for ScriptedChat {
    type Error = Failure;
    type Stream = BoxStream<'static, Result<ChatChunk, Failure>>;

    async fn chat(&self, _request: &ChatRequest) -> Result<Completion, Failure> {
        if let Some(failure) = &self.fail {
            return Err(failure.clone());
        }
        let mut completion = Completion::new(self.chunks.concat())
            .with_model(format!("{}-2024-07-18", self.model))
            .with_id("chatcmpl-1")
            .with_finish_reason("stop");
        if let Some(usage) = self.usage {
            completion = completion.with_usage(usage);
        }
        Ok(completion)
    }

    async fn chat_stream(&self, _request: &ChatRequest) -> Result<Self::Stream, Failure> {
        if let Some(failure) = &self.fail {
            return Err(failure.clone());
        }
        let model = format!("{}-2024-07-18", self.model);
        let last = self.chunks.len().saturating_sub(1);
        let mut items: Vec<Result<ChatChunk, Failure>> = Vec::new();
        for (i, text) in self.chunks.iter().enumerate() {
            if self.fail_after == Some(i) {
                items.push(Err(Failure::Upstream("stream reset".into())));
                break;
            }
            let mut chunk = ChatChunk::new(text.clone())
                .with_model(model.clone())
                .with_id("chatcmpl-2");
            if i == last {
                chunk = chunk.with_finish_reason("stop");
            }
            items.push(Ok(chunk));
        }
        if let (Some(usage), None) = (self.usage, self.fail_after) {
            items.push(Ok(ChatChunk::default().with_usage(usage)));
        }
        let delay = self.chunk_delay;
        Ok(stream::iter(items)
            .then(move |item| async move {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                item
            })
            .boxed())
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
            .provider("openai")
            .model(&self.model)
            .server("127.0.0.1", 8443)
    }

    fn error_type(error: &Failure) -> Cow<'static, str> {
        classify(error)
    }
}

/// A handful of ranked hits with content.
pub fn sample_hits() -> Vec<Hit> {
    vec![
        Hit::new("doc-7", 0.91).with_content("Spans have a start and an end."),
        Hit::new("doc-3", 0.84).with_content("A trace is a tree of spans."),
        Hit::new("doc-9", 0.62).with_content("Attributes are typed key-values."),
    ]
}
