//! `init()` for real: the global subscriber, logs correlated with traces
//! (tracing events and `log` records inside a step become span events; JSON
//! log lines carry the span's trace and span ids), and the global
//! OpenTelemetry tracer feeding the same sinks, and the built-in prices
//! installed for the wrappers.
//!
//! One test per binary: `init` installs process-wide state.
#![cfg(all(feature = "telemetry", feature = "store"))]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use ragtrace::instrument::{TracedExt, keys};
use ragtrace::pricing::{CostStatus, Usd};
use ragtrace::steps::{Embedder, Embeddings, Hit, Hits, Query, Retriever, StepInfo, Usage};
use ragtrace::store::{SpanQuery, Store};
use ragtrace::telemetry::{LogFormat, Telemetry, TelemetryError};
use serde_json::Value;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A retriever that logs through both `tracing` and `log` while it works.
struct ChattyRetriever;

impl Retriever for ChattyRetriever {
    type Error = std::io::Error;

    async fn retrieve(&self, _query: &Query<'_>) -> Result<Hits, Self::Error> {
        tracing::warn!(shard = 3, "slow shard");
        log::info!("cache miss for query");
        tracing::debug!("below the default level, not recorded");
        Ok(Hits::new(vec![Hit::new("doc-1", 0.7)]))
    }
}

/// An embedder reporting usage for a model in the built-in price table.
struct OpenAiLikeEmbedder;

impl Embedder for OpenAiLikeEmbedder {
    type Error = std::io::Error;

    async fn embed(&self, inputs: &[&str]) -> Result<Embeddings, Self::Error> {
        Ok(Embeddings::new(vec![vec![1.0, 0.0]; inputs.len()]).with_usage(Usage::new(1_000, 0)))
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
            .provider("openai")
            .model("text-embedding-3-small")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_correlates_logs_with_traces() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragtrace.db");
    let logs = Buffer::default();
    let for_logs = logs.clone();
    let telemetry = Telemetry::builder()
        .ignore_env()
        .store(&path)
        .log_format(LogFormat::Json)
        .log_writer(move || for_logs.clone())
        .init()
        .unwrap();

    let embedder = OpenAiLikeEmbedder.traced();
    let retriever = ChattyRetriever.traced();
    ragtrace::request("answer")
        .run(async {
            embedder.embed(&["question"]).await?;
            retriever
                .retrieve(&Query::vector(&[1.0, 0.0]).top_k(1))
                .await
        })
        .await
        .unwrap();

    // Other OpenTelemetry instrumentation shares the pipeline.
    opentelemetry::global::tracer_provider()
        .tracer("other-lib")
        .in_span("manual work", |_cx| {});

    // A second init is refused, clearly.
    let error = Telemetry::builder()
        .ignore_env()
        .no_store()
        .init()
        .unwrap_err();
    assert!(
        matches!(error, TelemetryError::SubscriberAlreadySet),
        "{error}"
    );

    telemetry.shutdown().unwrap();

    let store = Store::open_read_only(&path).unwrap();
    let retrieval = store
        .spans(&SpanQuery::new().step("retrieval"))
        .unwrap()
        .remove(0);
    let root = store
        .spans(&SpanQuery::new().roots_only().step("request"))
        .unwrap()
        .remove(0);
    assert_eq!(
        retrieval.trace_id, root.trace_id,
        "the step is in the request's trace"
    );
    assert_eq!(retrieval.parent_span_id, Some(root.span_id));
    // `init` installed the built-in prices: 1,000 tokens of
    // text-embedding-3-small at $0.02 per 1M tokens.
    let embedding = store
        .spans(&SpanQuery::new().step("embeddings"))
        .unwrap()
        .remove(0);
    assert_eq!(
        embedding.cost_status,
        Some(CostStatus::Priced),
        "{embedding:#?}"
    );
    assert_eq!(embedding.cost, Some("0.00002".parse::<Usd>().unwrap()));
    // The root carries the request's total as attributes (its cost column
    // stays empty, so summing the column does not count the request twice).
    assert_eq!(
        root.attributes[keys::RAGTRACE_REQUEST_COST_PICOUSD],
        20_000_000,
        "{root:#?}"
    );
    let names: Vec<&str> = retrieval.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["slow shard", "cache miss for query"],
        "{retrieval:#?}"
    );
    assert_eq!(retrieval.events[0].attributes["shard"], 3);
    assert_eq!(retrieval.events[0].attributes["level"], "WARN");
    assert_eq!(retrieval.events[1].attributes["level"], "INFO");

    let manual = store.spans(&SpanQuery::new()).unwrap();
    assert!(
        manual
            .iter()
            .any(|s| s.name == "manual work" && s.scope.as_deref() == Some("other-lib")),
        "{:?}",
        manual.iter().map(|s| &s.name).collect::<Vec<_>>()
    );

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let line = |message: &str| {
        lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no log line {message:?} in {text}"))
    };
    for message in ["slow shard", "cache miss for query"] {
        let l = line(message);
        assert_eq!(l["trace_id"], retrieval.trace_id.to_string(), "{l}");
        assert_eq!(l["span_id"], retrieval.span_id.to_string(), "{l}");
        assert_eq!(l["span"], "retrieval");
    }
    assert_eq!(line("slow shard")["level"], "WARN");
    assert_eq!(line("slow shard")["fields"]["shard"], 3);
    assert_eq!(line("cache miss for query")["target"], module_path!());
    assert!(!text.contains("below the default level"));
}
