//! Telemetry into the embedded store: traced steps inside a request root
//! land in a real SQLite file with the right columns; the console tree;
//! which sinks the environment selects.
#![cfg(all(feature = "telemetry", feature = "store"))]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use ragtrace::pricing::{CostStatus, PriceRequest, Usd};
use ragtrace::steps::{StepKind, Usage};
use ragtrace::store::{CostSource, Kind, SpanQuery, Status, Store};
use ragtrace::telemetry::{LogFormat, Telemetry};
use support::rag::{Rag, Scoped, flat_price};

/// A writer tests can read back.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_request_lands_in_the_store_with_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragtrace.db");
    let (dispatch, telemetry) = Telemetry::builder()
        .ignore_env()
        .service_name("rag-api")
        .store(&path)
        .log_format(LogFormat::Off)
        .dispatch()
        .unwrap();
    assert_eq!(telemetry.store_path(), Some(path.as_path()));
    let before = SystemTime::now();
    let scoped = Scoped::new(dispatch);
    let rag = Rag::priced();
    let answer = scoped
        .block_on(rag.request("u-42", "what is a span?"))
        .unwrap();
    assert_eq!(answer, "A trace is a tree of spans.");
    drop(scoped);
    telemetry.shutdown().unwrap();

    let store = Store::open_read_only(&path).unwrap();
    let spans = store.spans(&SpanQuery::new()).unwrap();
    assert_eq!(
        spans.len(),
        5,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let by_step = |step: &str| {
        spans
            .iter()
            .find(|s| s.step.as_deref() == Some(step))
            .unwrap_or_else(|| panic!("no {step} span"))
    };
    let root = by_step("request");
    assert!(root.is_root());
    assert_eq!(root.name, "answer");
    assert_eq!(root.kind, Kind::Internal);
    assert_eq!(root.user_id.as_deref(), Some("u-42"));
    assert_eq!(root.session_id.as_deref(), Some("s-1"));
    assert_eq!(root.service.as_deref(), Some("rag-api"));
    assert_eq!(root.scope.as_deref(), Some("ragtrace"));
    assert!(root.start >= before);
    assert_eq!(root.cost, None, "the root's roll-up is not its own cost");
    for span in spans.iter().filter(|s| !s.is_root()) {
        assert_eq!(span.trace_id, root.trace_id);
        assert_eq!(span.parent_span_id, Some(root.span_id), "{}", span.name);
        assert!(
            span.start >= root.start && span.end() <= root.end(),
            "{}",
            span.name
        );
    }

    let embed = by_step("embeddings");
    assert_eq!(embed.name, "embeddings text-embedding-3-small");
    assert_eq!(embed.kind, Kind::Client);
    assert_eq!(embed.model.as_deref(), Some("text-embedding-3-small-v1"));
    assert_eq!(embed.provider.as_deref(), Some("openai"));
    assert_eq!(embed.usage.map(|u| u.input_tokens), Some(7));
    let embed_cost = flat_price(&PriceRequest::new(
        "text-embedding-3-small-v1",
        StepKind::Embeddings,
        &Usage::new(7, 0),
        SystemTime::now(),
    ))
    .total;
    assert_eq!(embed.cost, Some(embed_cost));

    let retrieval = by_step("retrieval");
    assert_eq!(retrieval.scores, Some(vec![0.91, 0.84, 0.62]));
    assert_eq!(retrieval.top_score, Some(0.91));
    assert_eq!(retrieval.cost_status, None);
    assert!(
        retrieval
            .attributes
            .contains_key("gen_ai.retrieval.documents")
    );

    let prompt = by_step("prompt");
    assert_eq!(prompt.name, "prompt rag-default");
    assert_eq!(prompt.attributes["ragtrace.prompt.chunks_included"], 2);

    let chat = by_step("chat");
    assert_eq!(chat.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    let usage = chat.usage.unwrap();
    assert_eq!(
        (
            usage.input_tokens,
            usage.cache_read_input_tokens,
            usage.output_tokens,
            usage.reasoning_output_tokens
        ),
        (1200, 1024, 80, 16)
    );
    let chat_cost = flat_price(&PriceRequest::new(
        "gpt-4o-mini-2024-07-18",
        StepKind::Chat,
        &usage,
        SystemTime::now(),
    ))
    .total;
    assert_eq!(chat.cost, Some(chat_cost));
    assert_eq!(chat.cost_status, Some(CostStatus::Priced));
    assert_eq!(chat.cost_source, Some(CostSource::Span));
    assert_eq!(chat.status, Status::Unset);
    // Typed attributes survive: counts as ints, temperature as a double.
    assert!(chat.attributes["gen_ai.usage.input_tokens"].is_i64());
    assert!(chat.attributes["gen_ai.request.temperature"].is_f64());

    // The request's exact total is the sum of its spans' own costs.
    let summary = &store.traces(None, None, 10).unwrap()[0];
    assert_eq!(summary.cost, embed_cost + chat_cost);
    assert_eq!(
        root.attributes["ragtrace.request.cost_picousd"],
        (embed_cost + chat_cost).picos_i64()
    );
    assert_eq!(summary.cost_status, Some(CostStatus::Priced));
    assert_eq!(summary.input_tokens, 1207);
}

#[test]
fn failures_are_stored_with_their_status_and_error_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragtrace.db");
    let (dispatch, telemetry) = Telemetry::builder()
        .ignore_env()
        .store(&path)
        .log_format(LogFormat::Off)
        .dispatch()
        .unwrap();
    let scoped = Scoped::new(dispatch);
    let mut rag = Rag::priced();
    rag.chat = {
        let mut chat = rag.chat.into_inner();
        chat.fail = Some(support::steps::Failure::RateLimited(3));
        ragtrace::instrument::TracedExt::traced(chat)
    };
    let result = scoped.block_on(rag.request("u-1", "q"));
    assert!(result.is_err());
    drop(scoped);
    drop(telemetry);

    let store = Store::open_read_only(&path).unwrap();
    let chat = store
        .spans(&SpanQuery::new().step("chat"))
        .unwrap()
        .remove(0);
    assert_eq!(chat.status, Status::Error);
    assert_eq!(chat.error_type.as_deref(), Some("rate_limited"));
    assert_eq!(
        chat.status_message.as_deref(),
        Some("rate limited, retry after 3s")
    );
    assert_eq!(store.traces(None, None, 1).unwrap()[0].errors, 1);
}

#[test]
fn the_store_prices_spans_that_arrive_without_a_cost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragtrace.db");
    let (dispatch, telemetry) = Telemetry::builder()
        .ignore_env()
        .store(&path)
        .pricer(Arc::new(flat_price))
        .log_format(LogFormat::Off)
        .dispatch()
        .unwrap();
    let scoped = Scoped::new(dispatch);
    // No pricer in the wrappers: the spans say `unpriced`.
    let rag = Rag::with_options(ragtrace::instrument::Options::new());
    scoped.block_on(rag.request("u-1", "q")).unwrap();
    drop(scoped);
    drop(telemetry);

    let store = Store::open_read_only(&path).unwrap();
    let chat = store
        .spans(&SpanQuery::new().step("chat"))
        .unwrap()
        .remove(0);
    assert_eq!(chat.attributes["ragtrace.cost.status"], "unpriced");
    assert_eq!(chat.cost_source, Some(CostSource::Pricer));
    assert_eq!(chat.cost_status, Some(CostStatus::Priced));
    let expected = flat_price(&PriceRequest::new(
        "gpt-4o-mini-2024-07-18",
        StepKind::Chat,
        &chat.usage.unwrap(),
        chat.start,
    ))
    .total;
    assert_eq!(chat.cost, Some(expected));
    assert!(expected > Usd::ZERO);
}

#[test]
fn the_console_prints_each_request_as_a_tree() {
    let out = Buffer::default();
    let (dispatch, telemetry) = Telemetry::builder()
        .ignore_env()
        .no_store()
        .console_writer(out.clone())
        .log_format(LogFormat::Off)
        .dispatch()
        .unwrap();
    let scoped = Scoped::new(dispatch);
    let rag = Rag::priced();
    scoped.block_on(rag.request("u-1", "q")).unwrap();
    drop(scoped);
    drop(telemetry);

    let text = out.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with("answer  "), "{text}");
    assert!(
        lines[0].contains("1,207 in (1,024 cached) / 80 out"),
        "{text}"
    );
    assert!(lines[0].contains("  $0.00015225  trace "), "{text}");
    assert!(
        lines[1].starts_with("├─ embeddings text-embedding-3-small  "),
        "{text}"
    );
    assert!(
        lines[2].starts_with("├─ retrieval docs  ") && lines[2].contains("3 hits, top 0.910"),
        "{text}"
    );
    assert!(lines[3].starts_with("├─ prompt rag-default  "), "{text}");
    assert!(lines[4].starts_with("└─ chat gpt-4o-mini  "), "{text}");
    assert!(
        lines[4].contains("1,200 in (1,024 cached) / 80 out (16 reasoning)  $"),
        "{text}"
    );
}

#[test]
fn the_environment_chooses_the_sinks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("env.db");
    let sinks = |vars: Vec<(&'static str, String)>| {
        let telemetry = Telemetry::builder()
            .env_from(move |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
            })
            .log_format(LogFormat::Off)
            .dispatch()
            .map(|(_, t)| t);
        telemetry.map(|t| {
            let mut names: Vec<&str> = t.stats().iter().map(|s| s.sink).collect();
            names.sort();
            names
        })
    };
    let db_text = db.display().to_string();
    // Nothing configured: the store, in `RAGTRACE_DB` here (not the cwd).
    assert_eq!(
        sinks(vec![("RAGTRACE_DB", db_text.clone())]).unwrap(),
        ["store"]
    );
    // An OTLP endpoint replaces the default store...
    assert_eq!(
        sinks(vec![(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:9".into()
        )])
        .unwrap(),
        ["otlp"]
    );
    // ...unless the store is asked for too.
    assert_eq!(
        sinks(vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9".into()),
            ("RAGTRACE_DB", db_text.clone()),
            ("RAGTRACE_CONSOLE", "1".into()),
        ])
        .unwrap(),
        ["console", "otlp", "store"]
    );
    assert_eq!(
        sinks(vec![("OTEL_TRACES_EXPORTER", "console".into())]).unwrap(),
        ["console"]
    );
    assert!(
        sinks(vec![("OTEL_SDK_DISABLED", "true".into())])
            .unwrap()
            .is_empty()
    );
    let error = sinks(vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317".into()),
        ("RAGTRACE_DB", db_text),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("collector:4317"), "{error}");
    let error = sinks(vec![("RUST_LOG", "info,[".into())]).unwrap_err();
    assert!(error.to_string().contains("log filter"), "{error}");
}

#[test]
fn the_layer_joins_a_subscriber_the_application_built() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragtrace.db");
    let (layer, telemetry) = Telemetry::builder()
        .ignore_env()
        .store(&path)
        .layer()
        .unwrap();
    // The application's own subscriber: a registry with its own log layer.
    let logs = Buffer::default();
    let for_logs = logs.clone();
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(tracing_subscriber::fmt::layer().with_writer(move || for_logs.clone()));
    let scoped = Scoped::new(tracing::Dispatch::new(subscriber));
    let rag = Rag::priced();
    scoped.block_on(async {
        tracing::info!("handling a request");
        rag.request("u-1", "q").await.unwrap();
    });
    drop(scoped);
    telemetry.shutdown().unwrap();
    assert_eq!(Store::open_read_only(&path).unwrap().count().unwrap(), 5);
    assert!(logs.text().contains("handling a request"));
}
