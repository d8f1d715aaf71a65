//! A traced call that nobody observes runs bare: no clock, no pricing, no
//! attributes. "Nobody" must include a thread whose subscriber is
//! `NoSubscriber` while other `Dispatch`es exist in the process (built for
//! later, or installed on other threads): `tracing` then may still create
//! spans, and they go nowhere.
//!
//! Its own test binary, because the `Dispatch` built here changes callsite
//! interest for the whole process.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ragtrace::instrument::{Options, TracedExt};
use ragtrace::pricing::{Cost, PriceRequest};
use ragtrace::steps::{Embedder, Embeddings, StepInfo, Usage};

struct Embed;

impl Embedder for Embed {
    type Error = std::io::Error;

    async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, Self::Error> {
        Ok(Embeddings::new(vec![vec![1.0]; inputs.len()]).with_usage(Usage::new(3, 0)))
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
            .provider("openai")
            .model("text-embedding-3-small")
    }
}

#[tokio::test(flavor = "current_thread")]
async fn calls_are_observed_only_where_someone_records_them() {
    let priced = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&priced);
    let options = Options::new().pricer(move |_: &PriceRequest<'_>| {
        counter.fetch_add(1, Ordering::Relaxed);
        Cost::unpriced()
    });
    let embedder = Embed.traced().with_options(Arc::new(options));

    // Two registries that want every span exist (with more than one,
    // `tracing` caches callsite interest as "always"), but this thread has
    // no subscriber: spans are created and discarded, so the call runs bare.
    let elsewhere = tracing::Dispatch::new(tracing_subscriber::registry());
    let _another = tracing::Dispatch::new(tracing_subscriber::registry());
    assert!(
        !tracing::info_span!(target: "ragtrace", "probe").is_disabled(),
        "precondition: the existing dispatch makes tracing create spans"
    );
    let out = embedder.embed(&["q"]).await.expect("inner call succeeds");
    assert_eq!(
        out.usage,
        Some(Usage::new(3, 0)),
        "the value passes through"
    );
    assert_eq!(
        priced.load(Ordering::Relaxed),
        0,
        "an unobserved call is not priced"
    );

    // Inside a request its totals are wanted: observed, priced, counted.
    let request = ragtrace::request("answer");
    request
        .run(async { embedder.embed(&["q"]).await })
        .await
        .expect("inner call succeeds");
    assert_eq!(priced.load(Ordering::Relaxed), 1);
    assert_eq!(request.summary().steps, 1);
    assert_eq!(request.summary().usage.input_tokens, 3);

    // With the registry installed on this thread the span is recorded.
    let _guard = tracing::dispatcher::set_default(&elsewhere);
    embedder.embed(&["q"]).await.expect("inner call succeeds");
    assert_eq!(priced.load(Ordering::Relaxed), 2);
}
