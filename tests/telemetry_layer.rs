//! `TelemetryBuilder::layer()` for an application's own subscriber: like
//! `init`, it installs the built-in prices for the traced wrappers.
//!
//! Its own binary: the wrappers' options are process-wide.
#![cfg(all(feature = "telemetry", feature = "store"))]

use ragtrace::instrument::TracedExt;
use ragtrace::pricing::{CostStatus, Usd};
use ragtrace::steps::{Embedder, Embeddings, StepInfo, Usage};
use tracing_subscriber::layer::SubscriberExt as _;

struct Embed;

impl Embedder for Embed {
    type Error = std::io::Error;

    async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, Self::Error> {
        Ok(Embeddings::new(vec![vec![1.0]; inputs.len()]).with_usage(Usage::new(1_000, 0)))
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
            .provider("openai")
            .model("text-embedding-3-small")
    }
}

#[tokio::test(flavor = "current_thread")]
async fn layer_installs_the_builtin_prices() {
    let dir = tempfile::tempdir().unwrap();
    let (layer, telemetry) = ragtrace::telemetry::builder()
        .ignore_env()
        .store(dir.path().join("ragtrace.db"))
        .layer()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let _guard = tracing::subscriber::set_default(subscriber);

    let embedder = Embed.traced();
    let request = ragtrace::request("answer");
    request
        .run(async { embedder.embed(&["q"]).await })
        .await
        .unwrap();
    let summary = request.summary();
    assert_eq!(summary.cost_status, Some(CostStatus::Priced));
    // 1,000 tokens at $0.02 per 1M tokens.
    assert_eq!(summary.cost, "0.00002".parse::<Usd>().unwrap());
    telemetry.shutdown().unwrap();
}
