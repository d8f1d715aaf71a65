//! OTLP JSON ingest: files written by the real `opentelemetry-otlp` HTTP/JSON
//! exporter ingest to exactly the rows the live store sink wrote for the
//! same spans; a hand-written file in the Collector's file exporter format
//! (OpenInference, OTel GenAI and ragtrace keys) is understood; malformed
//! lines are reported by number and never stop a file.
#![cfg(all(feature = "telemetry", feature = "serve"))]

mod support;

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::TraceId;
use ragtrace::pricing::{Cost, CostStatus, PriceRequest, Usd};
use ragtrace::store::ingest::{IngestOptions, ingest_file};
use ragtrace::store::{CostSource, Kind, SpanQuery, SpanRecord, Status, Store};
use ragtrace::telemetry::{LogFormat, OtlpProtocol, Telemetry};
use support::endpoints::CaptureReceiver;
use support::rag::{Rag, Scoped};

/// Runs requests with both the store sink and the real OTLP/JSON exporter
/// on; returns the store's rows and the exporter's bodies as file lines.
fn live_rows_and_exported_json(dir: &std::path::Path) -> (Vec<SpanRecord>, String) {
    let infra = tokio::runtime::Runtime::new().unwrap();
    let receiver = infra.block_on(CaptureReceiver::start());
    let live = dir.join("live.db");
    let (dispatch, telemetry) = Telemetry::builder()
        .ignore_env()
        .service_name("rag-api")
        .store(&live)
        .otlp_endpoint(receiver.endpoint())
        .otlp_protocol(OtlpProtocol::HttpJson)
        .log_format(LogFormat::Off)
        .dispatch()
        .unwrap();
    let scoped = Scoped::new(dispatch);
    let rag = Rag::priced();
    let mut failing = Rag::priced();
    failing.retriever = {
        let mut inner = failing.retriever.into_inner();
        inner.fail = Some(support::steps::Failure::Upstream("shard down".into()));
        ragtrace::instrument::TracedExt::traced(inner)
    };
    scoped.block_on(async {
        for i in 0..3 {
            rag.request(&format!("u-{i}"), "what is a span?")
                .await
                .unwrap();
        }
        assert!(failing.request("u-9", "q").await.is_err());
    });
    drop(scoped);
    telemetry.shutdown().unwrap();

    let captured = receiver.captured();
    assert!(!captured.is_empty());
    let mut lines = String::new();
    for request in captured {
        assert_eq!(request.content_type, "application/json");
        // The exporter pretty-prints; the Collector's file format has one
        // request per line, so re-serialize compactly (same JSON values).
        let value: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        lines.push_str(&value.to_string());
        lines.push('\n');
    }
    let rows = Store::open_read_only(&live)
        .unwrap()
        .spans(&SpanQuery::new())
        .unwrap();
    (rows, lines)
}

#[test]
fn json_from_the_real_exporter_ingests_to_the_rows_the_sink_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let (live, lines) = live_rows_and_exported_json(dir.path());
    assert_eq!(
        live.len(),
        5 * 3 + 3,
        "three full requests and one that failed at retrieval"
    );

    let file = dir.path().join("traces.jsonl");
    std::fs::write(&file, lines).unwrap();
    let mut store = Store::open(dir.path().join("ingested.db")).unwrap();
    let report = ingest_file(&file, &mut store, &IngestOptions::new()).unwrap();
    assert_eq!(report.errors, []);
    assert_eq!(report.spans, live.len() as u64);

    let ingested = store.spans(&SpanQuery::new()).unwrap();
    assert_eq!(ingested.len(), live.len());
    for (a, b) in live.iter().zip(&ingested) {
        assert_eq!(
            a, b,
            "span {} differs between the live sink and ingest",
            a.name
        );
    }
    // And ingesting the same file again stores nothing twice.
    ingest_file(&file, &mut store, &IngestOptions::new()).unwrap();
    assert_eq!(store.count().unwrap(), live.len() as u64);
}

/// A Collector file exporter output, written by hand: a Python service
/// instrumented with OpenInference (ids in hex, 64-bit ints as strings,
/// enums as numbers, default fields omitted), a Go service on OTel GenAI
/// keys, and lines the ingest must skip and report.
const COLLECTOR_FILE: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"py-rag"}},{"key":"telemetry.sdk.language","value":{"stringValue":"python"}}]},"scopeSpans":[{"scope":{"name":"openinference.instrumentation.langchain","version":"0.1.28"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"RetrievalQA","kind":1,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000002500000000","attributes":[{"key":"openinference.span.kind","value":{"stringValue":"CHAIN"}},{"key":"session.id","value":{"stringValue":"sess-9"}},{"key":"user.id","value":{"stringValue":"alice"}}],"status":{"code":1}},{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174","name":"VectorStoreRetriever","kind":1,"startTimeUnixNano":"1700000000100000000","endTimeUnixNano":"1700000000400000000","attributes":[{"key":"openinference.span.kind","value":{"stringValue":"RETRIEVER"}},{"key":"retrieval.documents.0.document.id","value":{"stringValue":"d1"}},{"key":"retrieval.documents.0.document.score","value":{"doubleValue":0.82}},{"key":"retrieval.documents.1.document.id","value":{"stringValue":"d2"}},{"key":"retrieval.documents.1.document.score","value":{"doubleValue":0.77}},{"key":"retrieval.documents.2.document.score","value":{"doubleValue":0.5}}],"status":{}},{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176","parentSpanId":"eee19b7ec3c1b174","name":"ChatOpenAI","kind":1,"startTimeUnixNano":"1700000000500000000","endTimeUnixNano":"1700000002400000000","attributes":[{"key":"openinference.span.kind","value":{"stringValue":"LLM"}},{"key":"llm.model_name","value":{"stringValue":"gpt-4o-mini-2024-07-18"}},{"key":"llm.provider","value":{"stringValue":"openai"}},{"key":"llm.token_count.prompt","value":{"intValue":"2000"}},{"key":"llm.token_count.completion","value":{"intValue":"150"}},{"key":"llm.token_count.prompt_details.cache_read","value":{"intValue":"1024"}},{"key":"llm.token_count.total","value":{"intValue":"2150"}}],"status":{}}]}],"schemaUrl":"https://opentelemetry.io/schemas/1.26.0"}]}

{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"go-rag"}}]},"scopeSpans":[{"scope":{"name":"go.opentelemetry.io/contrib/genai"},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"retrieval kb","kind":3,"startTimeUnixNano":"1700000100000000000","endTimeUnixNano":"1700000100050000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"retrieval"}},{"key":"gen_ai.data_source.id","value":{"stringValue":"kb"}},{"key":"gen_ai.retrieval.documents","value":{"stringValue":"[{\"id\":\"a\",\"score\":0.64},{\"id\":\"b\",\"score\":0.71}]"}}]},{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","name":"chat claude","kind":3,"startTimeUnixNano":"1700000100100000000","endTimeUnixNano":"1700000101100000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.provider.name","value":{"stringValue":"anthropic"}},{"key":"gen_ai.request.model","value":{"stringValue":"claude-sonnet-4"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":900}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"60"}},{"key":"gen_ai.usage.cost","value":{"doubleValue":0.0036}},{"key":"error.type","value":{"stringValue":"overloaded"}}],"status":{"code":2,"message":"529 overloaded"}}]}]}]}
{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c"
{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203333","name":"bad time","startTimeUnixNano":true}]}]}]}
{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7","spanId":"b7ad6b7169203334","name":"short trace id"},{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203335","name":"fine","kind":2,"startTimeUnixNano":"1700000102000000000","endTimeUnixNano":"1700000102000000001"}]}]}]}
not json at all
"#;

fn at_nanos(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

#[test]
fn a_collector_file_from_other_producers_is_understood() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("collector.jsonl");
    std::fs::write(&file, COLLECTOR_FILE).unwrap();

    // A pricer that records when it was asked about, to check the time.
    let asked: Arc<Mutex<Vec<(String, SystemTime)>>> = Arc::default();
    let log = asked.clone();
    let pricer = move |request: &PriceRequest<'_>| {
        log.lock()
            .unwrap()
            .push((request.model.to_owned(), request.at));
        if request.model.starts_with("gpt-4o-mini") {
            let rate = |s: &str| s.parse::<Usd>().unwrap();
            let u = request.usage;
            Cost::from_parts(
                rate("0.15").per_million_tokens(u.uncached_input_tokens()),
                rate("0.075").per_million_tokens(u.cache_read_input_tokens),
                Usd::ZERO,
                rate("0.60").per_million_tokens(u.visible_output_tokens()),
                Usd::ZERO,
            )
        } else {
            Cost::unpriced()
        }
    };
    let mut store = Store::open(dir.path().join("t.db")).unwrap();
    let options = IngestOptions::new().pricer(Arc::new(pricer));
    let report = ingest_file(&file, &mut store, &options).unwrap();

    // Line 2 is blank; 4, 5, 6 (one span of it) and 7 are bad.
    assert_eq!(report.lines, 6);
    assert_eq!(report.requests, 3);
    assert_eq!(report.spans, 6);
    let errors: Vec<(u64, &str)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert_eq!(errors[0].0, 4);
    assert!(errors[0].1.contains("EOF while parsing"), "{}", errors[0].1);
    assert_eq!(errors[1].0, 5);
    assert!(
        errors[1].1.contains("invalid type: boolean `true`"),
        "{}",
        errors[1].1
    );
    assert_eq!(errors[2].0, 6);
    assert!(
        errors[2]
            .1
            .contains("span `short trace id` rejected: trace id must be 16 bytes"),
        "{}",
        errors[2].1
    );
    assert_eq!(errors[3].0, 7);
    assert!(
        errors[3]
            .1
            .starts_with("invalid OTLP/JSON at column 2: expected ident"),
        "{}",
        errors[3].1
    );

    let rows: HashMap<String, SpanRecord> = store
        .spans(&SpanQuery::new())
        .unwrap()
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect();

    let chain = &rows["RetrievalQA"];
    assert!(chain.is_root());
    assert_eq!(chain.service.as_deref(), Some("py-rag"));
    assert_eq!(
        chain.scope.as_deref(),
        Some("openinference.instrumentation.langchain")
    );
    assert_eq!(chain.user_id.as_deref(), Some("alice"));
    assert_eq!(chain.session_id.as_deref(), Some("sess-9"));
    assert_eq!(chain.status, Status::Ok);
    assert_eq!(chain.duration, Duration::from_millis(2500));
    assert_eq!(
        chain.trace_id,
        TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap()
    );

    let retriever = &rows["VectorStoreRetriever"];
    assert_eq!(retriever.step.as_deref(), Some("retrieval"));
    assert_eq!(retriever.parent_span_id, Some(chain.span_id));
    assert_eq!(retriever.scores, Some(vec![0.82, 0.77, 0.5]));
    assert_eq!(retriever.top_score, Some(0.82));

    let llm = &rows["ChatOpenAI"];
    assert_eq!(llm.step.as_deref(), Some("chat"));
    assert_eq!(llm.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!(llm.provider.as_deref(), Some("openai"));
    let usage = llm.usage.unwrap();
    assert_eq!(
        (
            usage.input_tokens,
            usage.cache_read_input_tokens,
            usage.output_tokens
        ),
        (2000, 1024, 150)
    );
    // Priced at its own start time: 976 * 0.15 + 1024 * 0.075 + 150 * 0.60 per 1M.
    assert_eq!(llm.cost, Some("0.0003132".parse().unwrap()));
    assert_eq!(llm.cost_source, Some(CostSource::Pricer));
    assert_eq!(llm.cost_status, Some(CostStatus::Priced));

    let genai_retrieval = &rows["retrieval kb"];
    assert_eq!(genai_retrieval.kind, Kind::Client);
    assert_eq!(genai_retrieval.scores, Some(vec![0.64, 0.71]));
    assert_eq!(genai_retrieval.top_score, Some(0.71));

    let claude = &rows["chat claude"];
    assert_eq!(claude.status, Status::Error);
    assert_eq!(claude.status_message.as_deref(), Some("529 overloaded"));
    assert_eq!(claude.error_type.as_deref(), Some("overloaded"));
    assert_eq!(
        claude.usage.map(|u| (u.input_tokens, u.output_tokens)),
        Some((900, 60))
    );
    // It came with a cost (Langfuse's key): kept, not re-priced.
    assert_eq!(claude.cost, Some("0.0036".parse().unwrap()));
    assert_eq!(claude.cost_source, Some(CostSource::Span));
    assert_eq!(rows["fine"].kind, Kind::Server);

    // Only the span without a cost was priced, at its own start time.
    assert_eq!(
        asked.lock().unwrap().clone(),
        vec![(
            "gpt-4o-mini-2024-07-18".to_owned(),
            at_nanos(1_700_000_000_500_000_000)
        )]
    );
}

/// A span from after gpt-4o-mini's first price (2024-11-14), without cost.
const LATER_SPAN: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"py-rag"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60d","spanId":"eee19b7ec3c1b180","name":"chat later","kind":3,"startTimeUnixNano":"1731542400000000000","endTimeUnixNano":"1731542401000000000","attributes":[{"key":"openinference.span.kind","value":{"stringValue":"LLM"}},{"key":"llm.model_name","value":{"stringValue":"gpt-4o-mini-2024-07-18"}},{"key":"llm.token_count.prompt","value":{"intValue":"2000"}},{"key":"llm.token_count.completion","value":{"intValue":"150"}},{"key":"llm.token_count.prompt_details.cache_read","value":{"intValue":"1024"}}]}]}]}]}"#;

#[test]
fn the_cli_prices_with_the_built_in_table_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("collector.jsonl");
    let mut f = std::fs::File::create(&file).unwrap();
    f.write_all(COLLECTOR_FILE.as_bytes()).unwrap();
    f.write_all(LATER_SPAN.as_bytes()).unwrap();
    f.write_all(b"\n").unwrap();
    drop(f);
    let db = dir.path().join("cli.db");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ragtrace"))
        .arg("ingest")
        .arg(&file)
        .arg("--db")
        .arg(&db)
        .env_remove("RAGTRACE_DB")
        .env_remove("RAGTRACE_PRICING_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("collector.jsonl: 7 spans from 7 lines"),
        "{stdout}"
    );
    assert!(
        stderr.contains("collector.jsonl: line 4: invalid OTLP/JSON"),
        "{stderr}"
    );
    assert!(
        stderr.contains("collector.jsonl: line 7: invalid OTLP/JSON"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped 4 malformed lines or spans"),
        "{stderr}"
    );

    let store = Store::open_read_only(&db).unwrap();
    assert_eq!(store.count().unwrap(), 7);
    let rows: HashMap<String, SpanRecord> = store
        .spans(&SpanQuery::new())
        .unwrap()
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect();
    // Priced at its own time from the built-in table...
    let later = &rows["chat later"];
    assert_eq!(later.cost, Some("0.0003132".parse().unwrap()));
    assert_eq!(later.cost_source, Some(CostSource::Pricer));
    // ...which has no gpt-4o-mini price before 2024-07-18: unknown, not free.
    let early = &rows["ChatOpenAI"];
    assert_eq!(early.cost, None);
    assert_eq!(early.cost_status, Some(CostStatus::Unpriced));

    // A file that is not there is an error naming it; nothing else breaks.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ragtrace"))
        .args(["ingest", "missing.jsonl", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("missing.jsonl"), "{stderr}");
}

#[test]
fn progress_is_told_the_bytes_read_up_to_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("collector.jsonl");
    std::fs::write(&file, COLLECTOR_FILE).unwrap();
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let log = seen.clone();
    let options = IngestOptions::new().progress(move |read| log.lock().unwrap().push(read));
    let mut store = Store::open(dir.path().join("progress.db")).unwrap();
    ingest_file(&file, &mut store, &options).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), COLLECTOR_FILE.lines().count(), "once a line");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&(COLLECTOR_FILE.len() as u64)));
}
