//! A whole RAG request over scripted steps, priced by a flat pricer, and a
//! runtime that runs it under a given subscriber.

use std::future::Future;
use std::sync::Arc;

use ragtrace::instrument::{Options, Traced, TracedExt};
use ragtrace::pricing::{Cost, PriceRequest, Usd};
use ragtrace::steps::{ChatModel, ChatRequest, Embedder, PromptBuilder, Query, Retriever, Usage};
use tracing::Dispatch;

use super::steps::*;

/// gpt-4o-mini-like rates for every model, exact arithmetic.
pub fn flat_price(request: &PriceRequest<'_>) -> Cost {
    let rate = |s: &str| s.parse::<Usd>().unwrap();
    let u = request.usage;
    Cost::from_parts(
        rate("0.15").per_million_tokens(u.uncached_input_tokens()),
        rate("0.075").per_million_tokens(u.cache_read_input_tokens),
        rate("0.1875").per_million_tokens(u.cache_write_input_tokens),
        rate("0.60").per_million_tokens(u.visible_output_tokens()),
        rate("0.60").per_million_tokens(u.reasoning_output_tokens),
    )
    .with_provenance(request.model, "2024-07-18", "standard")
}

/// The four traced steps of a RAG service.
pub struct Rag {
    pub embedder: Traced<ScriptedEmbedder>,
    pub retriever: Traced<ScriptedRetriever>,
    pub prompt: Traced<ScriptedPrompt>,
    pub chat: Traced<ScriptedChat>,
}

impl Rag {
    /// Steps with usage on the embedder and the chat model, priced flat.
    pub fn priced() -> Rag {
        Rag::with_options(Options::new().pricer(flat_price).record_documents(true))
    }

    pub fn with_options(options: Options) -> Rag {
        let options = Arc::new(options);
        let mut embedder = ScriptedEmbedder::new("text-embedding-3-small", 1536);
        embedder.usage_per_input = Some(Usage::new(7, 0));
        let mut chat = ScriptedChat::new("gpt-4o-mini", &["A trace ", "is a tree ", "of spans."]);
        chat.usage = Some(
            Usage::new(1200, 80)
                .with_cache_read(1024)
                .with_reasoning(16),
        );
        Rag {
            embedder: embedder.traced().with_options(options.clone()),
            retriever: ScriptedRetriever {
                collection: "docs".into(),
                hits: sample_hits(),
                fail: None,
            }
            .traced()
            .with_options(options.clone()),
            prompt: ScriptedPrompt {
                template: "rag-default".into(),
                max_chunks: 2,
            }
            .traced()
            .with_options(options.clone()),
            chat: chat.traced().with_options(options),
        }
    }

    /// The four steps in order.
    pub async fn answer(&self, question: &str) -> Result<String, Failure> {
        let query = self.embedder.embed(&[question]).await?;
        let vector = query.first().unwrap_or_default();
        let hits = self
            .retriever
            .retrieve(&Query::vector(vector).text(question).top_k(3))
            .await?;
        let prompt = self.prompt.build(question, &hits).await?;
        let request = ChatRequest::from(prompt)
            .temperature(0.2)
            .max_tokens(256)
            .top_p(0.9);
        Ok(self.chat.chat(&request).await?.content)
    }

    /// One request: a root named `answer` for `user`, the four steps inside.
    pub async fn request(&self, user: &str, question: &str) -> Result<String, Failure> {
        ragtrace::request("answer")
            .user(user)
            .session("s-1")
            .run(self.answer(question))
            .await
    }
}

/// A multi-threaded runtime whose threads all use `dispatch`.
pub struct Scoped {
    runtime: tokio::runtime::Runtime,
    dispatch: Dispatch,
}

impl Scoped {
    pub fn new(dispatch: Dispatch) -> Scoped {
        let for_workers = dispatch.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .on_thread_start(move || {
                // The guard would restore the previous default when dropped;
                // the thread ends with the runtime, so keep it set.
                std::mem::forget(tracing::dispatcher::set_default(&for_workers));
            })
            .build()
            .unwrap();
        Scoped { runtime, dispatch }
    }

    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        tracing::dispatcher::with_default(&self.dispatch, || self.runtime.block_on(future))
    }

    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }
}
