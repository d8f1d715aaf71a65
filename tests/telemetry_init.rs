//! `init()` for real: the global subscriber, logs correlated with traces
//! (tracing events and `log` records inside a step become span events; JSON
//! log lines carry the span's trace and span ids), and the global
//! OpenTelemetry tracer feeding the same sinks.
//!
//! One test per binary: `init` installs process-wide state.
#![cfg(all(feature = "telemetry", feature = "store"))]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use ragtrace::instrument::TracedExt;
use ragtrace::steps::{Hit, Hits, Query, Retriever};
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

    let retriever = ChattyRetriever.traced();
    ragtrace::request("answer")
        .run(retriever.retrieve(&Query::vector(&[1.0, 0.0]).top_k(1)))
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
