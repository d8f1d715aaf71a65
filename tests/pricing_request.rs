//! The price table through the real wrappers: a `ragtrace::request` whose
//! `Traced` steps are priced by `PriceTable`, totals exact to the picodollar.

use std::sync::Arc;

use futures_util::StreamExt;
use ragtrace::instrument::{Options, TracedExt};
use ragtrace::pricing::{CostStatus, PriceTable, Usd};
use ragtrace::steps::{
    ChatModel, ChatRequest, Completion, Embedder, Embeddings, Message, SingleChunk, StepInfo,
    StepKind, Usage, single_chunk,
};

/// An embedder that reports the usage it is given.
struct Embed {
    model: &'static str,
    usage: Usage,
}

impl Embedder for Embed {
    type Error = std::io::Error;
    async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, Self::Error> {
        Ok(Embeddings::new(vec![vec![0.5; 4]; inputs.len()]).with_usage(self.usage))
    }
    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new().provider("openai").model(self.model)
    }
}

/// A chat model that answers with the usage and model name it is given.
struct Chat {
    requested: &'static str,
    answered: &'static str,
    usage: Usage,
}

impl Chat {
    fn completion(&self) -> Completion {
        Completion::new("an answer")
            .with_model(self.answered)
            .with_usage(self.usage)
    }
}

impl ChatModel for Chat {
    type Error = std::io::Error;
    type Stream = SingleChunk<std::io::Error>;
    async fn chat(&self, _: &ChatRequest) -> Result<Completion, Self::Error> {
        Ok(self.completion())
    }
    async fn chat_stream(&self, _: &ChatRequest) -> Result<Self::Stream, Self::Error> {
        Ok(single_chunk(self.completion()))
    }
    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new().model(self.requested)
    }
}

fn usd(s: &str) -> Usd {
    s.parse().unwrap()
}

#[tokio::test]
async fn a_request_costs_the_exact_sum_of_its_priced_steps() {
    let options = Arc::new(Options::new().pricer(PriceTable::builtin()));
    let embedder = Embed {
        model: "text-embedding-3-small",
        usage: Usage::new(1_234, 0),
    }
    .traced()
    .with_options(Arc::clone(&options));
    // Requested by alias, answered with the provider's dated name.
    let mini = Chat {
        requested: "gpt-4o-mini",
        answered: "gpt-4o-mini-2024-07-18",
        usage: Usage::new(1_200, 80).with_cache_read(1_024),
    }
    .traced()
    .with_options(Arc::clone(&options));
    let sonnet = Chat {
        requested: "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        answered: "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        usage: Usage::new(3_000, 200)
            .with_cache_write_1h(1_000)
            .with_reasoning(50),
    }
    .traced()
    .with_options(Arc::clone(&options));
    let batch = Chat {
        requested: "openai/gpt-4o-mini",
        answered: "gpt-4o-mini",
        usage: Usage::new(10_000, 1_000),
    }
    .traced()
    .with_options(Arc::clone(&options));

    let request = ragtrace::request("answer").user("u-1");
    request
        .run(async {
            embedder.embed(&["what is a span?"]).await?;
            let ask = ChatRequest::new(vec![Message::user("hi")]);
            mini.chat(&ask).await?;
            sonnet.chat(&ask).await?;
            // Streamed, in the batch tier.
            let mut stream = batch
                .chat_stream(&ask.clone().service_tier("batch"))
                .await?;
            while let Some(chunk) = stream.next().await {
                chunk?;
            }
            Ok::<_, std::io::Error>(())
        })
        .await
        .unwrap();

    // Each step, by hand (USD per 1M tokens):
    // embeddings  text-embedding-3-small   1,234 x 0.02                         = 0.00002468
    // chat        gpt-4o-mini              176 x 0.15 + 1,024 x 0.075 + 80 x 0.60 = 0.0001512
    // chat        claude-sonnet-4-5        2,000 x 3 + 1,000 x 6 (1h write)
    //                                      + 150 x 15 + 50 x 15 (reasoning)     = 0.015
    // chat        gpt-4o-mini, batch       10,000 x 0.075 + 1,000 x 0.30        = 0.00105
    let embed_cost = usd("0.00002468");
    let chat_costs = [usd("0.0001512"), usd("0.015"), usd("0.00105")];
    let summary = request.summary();
    assert_eq!(summary.step(StepKind::Embeddings).cost, embed_cost);
    assert_eq!(
        summary.step(StepKind::Chat).cost,
        chat_costs.iter().sum::<Usd>()
    );
    assert_eq!(summary.step(StepKind::Chat).count, 3);
    let expected: Usd = std::iter::once(embed_cost).chain(chat_costs).sum();
    assert_eq!(expected, usd("0.01622588"));
    assert_eq!(summary.cost, expected);
    assert_eq!(
        summary.cost,
        summary.by_step.iter().map(|step| step.cost).sum::<Usd>()
    );
    assert_eq!(summary.cost_status, Some(CostStatus::Priced));
}

#[tokio::test]
async fn an_unknown_model_makes_the_request_partial_not_cheaper() {
    let options = Arc::new(Options::new().pricer(PriceTable::builtin()));
    let known = Chat {
        requested: "gpt-4o",
        answered: "gpt-4o",
        usage: Usage::new(1_000, 100),
    }
    .traced()
    .with_options(Arc::clone(&options));
    let unknown = Chat {
        requested: "in-house-llm-v3",
        answered: "in-house-llm-v3",
        usage: Usage::new(50_000, 5_000),
    }
    .traced()
    .with_options(Arc::clone(&options));
    let request = ragtrace::request("answer");
    let ask = ChatRequest::new(vec![Message::user("hi")]);
    request
        .run(async {
            known.chat(&ask).await?;
            unknown.chat(&ask).await
        })
        .await
        .unwrap();
    let summary = request.summary();
    // 1,000 x 2.50 + 100 x 10 = 0.0035; the unknown call adds nothing and
    // marks the total as partial.
    assert_eq!(summary.cost, usd("0.0035"));
    assert_eq!(summary.cost_status, Some(CostStatus::Partial));
}
