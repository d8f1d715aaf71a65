//! Reading traces back: `requests`, `show` and `report` over stores filled
//! by the real pipeline (traced steps exporting to the store) and by OTLP
//! JSON ingest. Numbers are checked against the span attributes the
//! wrappers recorded and the request roots' own ledgers; JSON, CSV and the
//! table are checked against each other; bad input gets one clear line.
#![cfg(all(feature = "cli", feature = "telemetry"))]

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ragtrace::analysis::{self, GroupBy, ReportOptions, RequestFilter, TraceSource};
use ragtrace::instrument::{Options, TracedExt};
use ragtrace::pricing::{Cost, PriceRequest, Usd};
use ragtrace::steps::{ChatModel, ChatRequest, Embedder, Query, Retriever};
use ragtrace::store::ingest::{IngestOptions, ingest_file};
use ragtrace::store::{SpanQuery, SpanRecord, Store};
use ragtrace::telemetry::{LogFormat, Telemetry};
use serde_json::Value;
use support::rag::{Rag, Scoped, flat_price};
use support::steps::{Failure, ScriptedChat};

/// Flat prices for every model but `mystery-model`, which has none.
fn price_unless_mystery(request: &PriceRequest<'_>) -> Cost {
    if request.model.starts_with("mystery-model") {
        Cost::unpriced()
    } else {
        flat_price(request)
    }
}

/// A store written by the live pipeline: three users' requests, one failed
/// retrieval, one request with two retrievals in parallel, and one call to
/// a model without a price; plus spans from another producer, ingested.
fn filled_store(dir: &Path) -> PathBuf {
    let path = dir.join("ragtrace.db");
    let (dispatch, telemetry) = Telemetry::builder()
        .ignore_env()
        .service_name("rag-api")
        .store(&path)
        .log_format(LogFormat::Off)
        .dispatch()
        .unwrap();
    let scoped = Scoped::new(dispatch);
    let options = Options::new()
        .pricer(price_unless_mystery)
        .record_documents(true);
    let rag = Rag::with_options(options.clone());
    let mut failing = Rag::with_options(options.clone());
    failing.retriever = {
        let mut inner = failing.retriever.into_inner();
        inner.fail = Some(Failure::Upstream("shard down".into()));
        inner
            .traced()
            .with_options(std::sync::Arc::new(options.clone()))
    };
    let mut mystery = ScriptedChat::new("mystery-model", &["?"]);
    mystery.usage = Some(ragtrace::steps::Usage::new(300, 7));
    let mystery = mystery.traced().with_options(std::sync::Arc::new(options));
    scoped.block_on(async {
        for i in 0..3 {
            rag.request(&format!("u-{i}"), "what is a span?")
                .await
                .unwrap();
        }
        rag.request("u-0", "and a trace?").await.unwrap();
        assert!(failing.request("u-9", "q").await.is_err());
        // Two retrievals at once, then the model: siblings that overlap.
        ragtrace::request("parallel")
            .user("u-1")
            .session("s-2")
            .run(async {
                let query = rag.embedder.embed(&["both"]).await?;
                let vector = query.first().unwrap_or_default();
                let a = Query::vector(vector).top_k(2);
                let b = Query::vector(vector).top_k(3);
                let (left, right) =
                    futures_util::join!(rag.retriever.retrieve(&a), rag.retriever.retrieve(&b));
                let (_left, _right) = (left?, right?);
                let chat = ChatRequest::new(vec![ragtrace::steps::Message::user("both")]);
                rag.chat.chat(&chat).await?;
                Ok::<_, Failure>(())
            })
            .await
            .unwrap();
        ragtrace::request("mystery")
            .user("u-2")
            .run(async {
                let chat = ChatRequest::new(vec![ragtrace::steps::Message::user("who?")]);
                mystery.chat(&chat).await
            })
            .await
            .unwrap();
    });
    drop(scoped);
    telemetry.shutdown().unwrap();

    // Spans from a Python service (OpenInference keys, its own cost) and a
    // Go one (GenAI keys, estimated tokens, a model with no price).
    let file = dir.join("foreign.jsonl");
    std::fs::write(&file, FOREIGN).unwrap();
    let mut store = Store::open(&path).unwrap();
    let report = ingest_file(&file, &mut store, &IngestOptions::new()).unwrap();
    assert_eq!(report.error_count, 0, "{:?}", report.errors);
    path
}

const FOREIGN: &str = concat!(
    r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"py-rag"}}]},"scopeSpans":[{"scope":{"name":"openinference.instrumentation.langchain"},"spans":["#,
    r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"RetrievalQA","kind":1,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000002500000000","attributes":[{"key":"openinference.span.kind","value":{"stringValue":"CHAIN"}},{"key":"user.id","value":{"stringValue":"alice"}}],"status":{"code":1}},"#,
    r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174","name":"VectorStoreRetriever","kind":1,"startTimeUnixNano":"1700000000100000000","endTimeUnixNano":"1700000000400000000","attributes":[{"key":"openinference.span.kind","value":{"stringValue":"RETRIEVER"}},{"key":"retrieval.documents.0.document.id","value":{"stringValue":"d1"}},{"key":"retrieval.documents.0.document.score","value":{"doubleValue":0.82}}]},"#,
    r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176","parentSpanId":"eee19b7ec3c1b174","name":"ChatOpenAI","kind":1,"startTimeUnixNano":"1700000000500000000","endTimeUnixNano":"1700000002400000000","attributes":[{"key":"openinference.span.kind","value":{"stringValue":"LLM"}},{"key":"llm.model_name","value":{"stringValue":"gpt-4.1-mini-2025-04-14"}},{"key":"llm.token_count.prompt","value":{"intValue":"2000"}},{"key":"llm.token_count.completion","value":{"intValue":"150"}},{"key":"llm.cost.total","value":{"doubleValue":0.00039}},{"key":"llm.cost.prompt","value":{"doubleValue":0.0003}},{"key":"llm.cost.completion","value":{"doubleValue":0.00009}}]}"#,
    r#"]}]}]}"#,
    "\n",
    r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"go-rag"}}]},"scopeSpans":[{"spans":["#,
    r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","name":"chat local","kind":3,"startTimeUnixNano":"1700000100100000000","endTimeUnixNano":"1700000101100000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"house-llm-7b"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":900}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"60"}}]},"#,
    r#"{"traceId":"0af7651916cd43dd8448eb211c80319d","spanId":"b7ad6b7169203342","name":"chat estimated","kind":3,"startTimeUnixNano":"1700000200100000000","endTimeUnixNano":"1700000201100000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":1000}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"100"}},{"key":"ragtrace.usage.estimated","value":{"boolValue":true}},{"key":"ragtrace.cost.picousd","value":{"intValue":"210000000"}},{"key":"ragtrace.cost.status","value":{"stringValue":"priced"}}]}"#,
    r#"]}]}]}"#,
    "\n",
);

fn ragtrace(args: &[&str], db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ragtrace"))
        .args(args)
        .arg("--db")
        .arg(db)
        .env_remove("RAGTRACE_DB")
        .env("COLUMNS", "80")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn all_spans(path: &Path) -> Vec<SpanRecord> {
    Store::open_read_only(path)
        .unwrap()
        .spans(&SpanQuery::new())
        .unwrap()
}

/// A span's cost as its attributes say, independently of the store's
/// columns: ragtrace's exact picodollars, else the producer's dollars.
fn attribute_cost(span: &SpanRecord) -> Option<i128> {
    let a = &span.attributes;
    if let Some(v) = a.get("ragtrace.cost.picousd") {
        return match v {
            Value::Number(n) => n.as_i64().map(i128::from),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
    }
    a.get("llm.cost.total")
        .and_then(Value::as_f64)
        .map(|usd| (usd * 1e12).round() as i128)
}

fn attribute_int(span: &SpanRecord, keys: &[&str]) -> u64 {
    keys.iter()
        .find_map(|k| match span.attributes.get(*k)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
        .unwrap_or(0)
}

#[test]
fn report_numbers_equal_the_span_attributes_and_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled_store(dir.path());
    let spans = all_spans(&path);
    let store = Store::open_read_only(&path).unwrap();

    // Independently: cost and input tokens per model from the attributes.
    let mut by_model: HashMap<String, (i128, u64)> = HashMap::new();
    for span in &spans {
        let model = span.model.clone().unwrap_or_else(|| "(none)".into());
        let entry = by_model.entry(model).or_default();
        entry.0 += attribute_cost(span).unwrap_or(0);
        entry.1 += attribute_int(
            span,
            &["gen_ai.usage.input_tokens", "llm.token_count.prompt"],
        );
    }
    let report = analysis::report(&store, &ReportOptions::new().group_by(GroupBy::Model)).unwrap();
    for group in &report.groups {
        let (cost, input) = by_model[&group.key];
        assert_eq!(group.totals.cost.picos(), cost, "cost of {}", group.key);
        assert_eq!(
            group.totals.tokens.input, input,
            "input tokens of {}",
            group.key
        );
    }
    assert_eq!(report.groups.len(), by_model.len());
    assert_eq!(report.total.totals.spans, spans.len() as u64);
    // 4 + 1 failed + parallel + mystery + 3 foreign traces.
    assert_eq!(report.total.requests, 10);

    // Every grouping adds up to the same grand total, to the picodollar.
    for (name, group_by) in GroupBy::ALL {
        let report = analysis::report(
            &store,
            &ReportOptions::new().group_by(group_by).max_groups(1000),
        )
        .unwrap();
        let sum: Usd = report.groups.iter().map(|g| g.totals.cost).sum();
        assert_eq!(sum, report.total.totals.cost, "{name}");
        let spans: u64 = report.groups.iter().map(|g| g.totals.spans).sum();
        assert_eq!(spans, report.total.totals.spans, "{name}");
        let output: u64 = report.groups.iter().map(|g| g.totals.tokens.output).sum();
        assert_eq!(output, report.total.totals.tokens.output, "{name}");
        let by_kind: Usd = report
            .groups
            .iter()
            .map(|g| g.totals.cost_by_kind.total())
            .sum();
        assert_eq!(by_kind, report.total.totals.cost, "{name} by kind");
        if !group_by.by_span() {
            let requests: u64 = report.groups.iter().map(|g| g.requests).sum();
            assert_eq!(requests, report.total.requests, "{name}");
        }
        // Folding groups beyond the limit keeps the sum.
        let folded = analysis::report(
            &store,
            &ReportOptions::new().group_by(group_by).max_groups(1),
        )
        .unwrap();
        let sum: Usd = folded.groups.iter().map(|g| g.totals.cost).sum();
        assert_eq!(sum, report.total.totals.cost, "{name} folded");
    }

    // By request, the rows kept are the costliest requests.
    let by_request = analysis::report(
        &store,
        &ReportOptions::new()
            .group_by(GroupBy::Request)
            .max_groups(3),
    )
    .unwrap();
    let mut costs: Vec<Usd> = analysis::list_requests(&store, &RequestFilter::new().limit(100))
        .unwrap()
        .iter()
        .map(|r| r.cost)
        .collect();
    costs.sort_unstable_by(|a, b| b.cmp(a));
    let kept: Vec<Usd> = by_request.groups[..3]
        .iter()
        .map(|g| g.totals.cost)
        .collect();
    assert_eq!(kept, costs[..3]);
    assert_eq!(by_request.groups[3].key, "(other 7)");
    assert_eq!(by_request.groups[3].requests, 7);

    // What is not priced is said plainly: unknown cost, never zero.
    let unpriced: Vec<(&str, u64)> = report
        .unpriced
        .iter()
        .map(|m| (m.model.as_str(), m.unpriced_spans))
        .collect();
    assert!(
        unpriced.contains(&("mystery-model-2024-07-18", 1)),
        "{unpriced:?}"
    );
    assert!(unpriced.contains(&("house-llm-7b", 1)), "{unpriced:?}");
    assert_eq!(
        report.total.totals.estimated_cost,
        Usd::from_picos(210_000_000)
    );
    assert!(report.estimated_share() > 0.0 && report.estimated_share() < 1.0);
    // The producer's own prompt/completion split is kept.
    let python = report
        .groups
        .iter()
        .find(|g| g.key == "gpt-4.1-mini-2025-04-14")
        .unwrap();
    assert_eq!(python.totals.cost_by_kind.input, "0.0003".parse().unwrap());
    assert_eq!(
        python.totals.cost_by_kind.output,
        "0.00009".parse().unwrap()
    );
}

#[test]
fn each_request_equals_the_sum_of_its_spans_and_its_own_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled_store(dir.path());
    let spans = all_spans(&path);
    let store = Store::open_read_only(&path).unwrap();
    let rows = analysis::list_requests(&store, &RequestFilter::new().limit(100)).unwrap();
    assert_eq!(rows.len(), 10);
    for row in &rows {
        let trace: Vec<&SpanRecord> = spans
            .iter()
            .filter(|s| s.trace_id == row.trace_id)
            .collect();
        let sum: i128 = trace.iter().filter_map(|s| attribute_cost(s)).sum();
        assert_eq!(row.cost.picos(), sum, "{}", row.name);
        assert_eq!(row.totals.spans, trace.len() as u64);
        // The root's ledger (what `request.summary()` returned in the
        // service) says the same.
        let root = trace.iter().find(|s| s.span_id == row.span_id).unwrap();
        if let Some(ledger) = root.attributes.get("ragtrace.request.cost_picousd") {
            let ledger: i128 = match ledger {
                Value::Number(n) => n.as_i64().unwrap().into(),
                Value::String(s) => s.parse().unwrap(),
                other => panic!("{other}"),
            };
            assert_eq!(row.cost.picos(), ledger, "{}", row.name);
        }
    }
    // Newest first.
    assert!(rows.windows(2).all(|w| w[0].start >= w[1].start));

    // Filters.
    let only = |filter: RequestFilter| analysis::list_requests(&store, &filter.limit(100)).unwrap();
    assert!(
        only(RequestFilter::new().user("u-0"))
            .iter()
            .all(|r| r.user_id.as_deref() == Some("u-0"))
    );
    assert_eq!(only(RequestFilter::new().user("u-0")).len(), 2);
    assert_eq!(only(RequestFilter::new().session("s-2")).len(), 1);
    assert_eq!(only(RequestFilter::new().name("parallel")).len(), 1);
    let errors = only(RequestFilter::new().errors_only());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].user_id.as_deref(), Some("u-9"));
    assert_eq!(only(RequestFilter::new().model("mystery-model")).len(), 1);
    let dear = rows.iter().map(|r| r.cost).max().unwrap();
    assert!(
        only(RequestFilter::new().min_cost(dear))
            .iter()
            .all(|r| r.cost == dear)
    );
    let two = analysis::list_requests(&store, &RequestFilter::new().limit(2)).unwrap();
    assert_eq!(two, rows[..2]);
}

#[test]
fn json_csv_and_table_say_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled_store(dir.path());
    let json: Value = serde_json::from_str(&stdout(&ragtrace(
        &["report", "--group-by", "user", "--format", "json"],
        &path,
    )))
    .unwrap();
    let csv_text = stdout(&ragtrace(
        &["report", "--group-by", "user", "--format", "csv"],
        &path,
    ));
    let table = stdout(&ragtrace(&["report", "--group-by", "user"], &path));

    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let groups = json["groups"].as_array().unwrap();
    assert_eq!(records.len(), groups.len() + 1);
    for (record, group) in records.iter().zip(groups) {
        assert_eq!(&record[0], group["key"].as_str().unwrap());
        // Money is an exact decimal string in both.
        assert_eq!(
            &record[column("cost_usd")],
            group["totals"]["cost"].as_str().unwrap()
        );
        assert_eq!(
            record[column("input_tokens")].parse::<u64>().unwrap(),
            group["totals"]["tokens"]["input"].as_u64().unwrap()
        );
        assert_eq!(
            &record[column("cost_p95_usd")],
            group["cost"]["p95"].as_str().unwrap()
        );
    }
    let total = json["total"]["totals"]["cost"].as_str().unwrap();
    assert_eq!(&records.last().unwrap()[column("cost_usd")], total);
    let sum: Usd = groups
        .iter()
        .map(|g| {
            g["totals"]["cost"]
                .as_str()
                .unwrap()
                .parse::<Usd>()
                .unwrap()
        })
        .sum();
    assert_eq!(sum.to_string(), total);
    assert!(table.contains(&format!("${total}")), "{table}");
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    assert!(
        table.contains("mystery-model-2024-07-18: 1 spans unpriced"),
        "{table}"
    );
    assert!(table.contains("most expensive requests"), "{table}");

    // The request list names every request and fits 80 columns.
    let list = stdout(&ragtrace(&["requests"], &path));
    assert_eq!(list.lines().count(), 11, "{list}");
    assert!(list.lines().all(|l| l.chars().count() <= 80), "{list}");
    let listed: Vec<Value> = serde_json::from_str(&stdout(&ragtrace(
        &["requests", "--format", "json", "--errors"],
        &path,
    )))
    .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "error");
}

#[test]
fn show_draws_a_parallel_request_as_overlapping_siblings() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled_store(dir.path());
    let store = Store::open_read_only(&path).unwrap();
    let parallel = analysis::list_requests(&store, &RequestFilter::new().name("parallel")).unwrap();
    let id = parallel[0].trace_id.to_string();

    let tree = analysis::show(&store, &id[..10]).unwrap();
    let root = &tree.nodes[0];
    assert_eq!((root.name.as_str(), root.depth), ("parallel", 0));
    let retrievals: Vec<_> = tree
        .nodes
        .iter()
        .filter(|n| n.step.as_deref() == Some("retrieval"))
        .collect();
    assert_eq!(retrievals.len(), 2);
    assert!(
        retrievals
            .iter()
            .all(|n| n.depth == 1 && n.parent_span_id == Some(root.span_id))
    );
    let (a, b) = (retrievals[0], retrievals[1]);
    assert!(
        a.offset < b.offset + b.duration && b.offset < a.offset + a.duration,
        "they overlap"
    );
    assert_eq!(
        a.retrieval.as_ref().unwrap().hits.len() + b.retrieval.as_ref().unwrap().hits.len(),
        5
    );
    let chat = tree
        .nodes
        .iter()
        .find(|n| n.step.as_deref() == Some("chat"))
        .unwrap();
    assert!(chat.last_child && chat.cost.is_some() && chat.tokens.is_some());
    let sum: Usd = tree.nodes.iter().filter_map(|n| n.cost).sum();
    assert_eq!(sum, tree.request.cost);

    let text = stdout(&ragtrace(&["show", &id[..10]], &path));
    assert!(text.contains(&id), "{text}");
    assert_eq!(text.matches("├─ retrieval docs").count(), 2, "{text}");
    assert!(text.contains("└─ chat"), "{text}");
    assert!(text.contains(&format!("${}", chat.cost.unwrap())), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let json: Value = serde_json::from_str(&stdout(&ragtrace(
        &["show", &id, "--format", "json"],
        &path,
    )))
    .unwrap();
    assert_eq!(json["nodes"].as_array().unwrap().len(), tree.nodes.len());
    assert_eq!(json["request"]["cost"], tree.request.cost.to_string());

    // A failed step shows its error.
    let failed = analysis::list_requests(&store, &RequestFilter::new().errors_only()).unwrap();
    let text = stdout(&ragtrace(&["show", &failed[0].trace_id.to_string()], &path));
    assert!(text.contains("error: upstream"), "{text}");
    // A foreign trace is shown the same way.
    let text = stdout(&ragtrace(&["show", "5b8efff7"], &path));
    assert!(
        text.contains("└─ ChatOpenAI") && text.contains("$0.00039"),
        "{text}"
    );
}

fn fails_with(output: &Output, needle: &str) {
    assert!(!output.status.success(), "should fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(needle), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_input_gets_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    for command in [&["requests"][..], &["report"], &["show", "abc"]] {
        fails_with(&ragtrace(command, &missing), "no store at");
    }
    assert!(!missing.exists(), "reading never creates a store");

    let empty = dir.path().join("empty.db");
    drop(Store::open(&empty).unwrap());
    for command in [&["requests"][..], &["report"], &["show", "abc"]] {
        fails_with(&ragtrace(command, &empty), "holds no spans");
    }

    let foreign = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE invoices (id INTEGER);")
        .unwrap();
    drop(conn);
    fails_with(&ragtrace(&["report"], &foreign), "not a ragtrace");

    let path = filled_store(dir.path());
    fails_with(
        &ragtrace(&["show", "ffffffffffff"], &path),
        "no trace id starts with",
    );
    fails_with(&ragtrace(&["show", "xyz"], &path), "not a trace id");
    fails_with(
        &ragtrace(&["report", "--since", "yesterday-ish"], &path),
        "is not a time",
    );
    // A prefix shared by several traces.
    let store = Store::open_read_only(&path).unwrap();
    let ids: Vec<String> = analysis::list_requests(&store, &RequestFilter::new().limit(100))
        .unwrap()
        .iter()
        .map(|r| r.trace_id.to_string())
        .collect();
    let shared = (0..16)
        .map(|d| format!("{d:x}"))
        .find(|p| ids.iter().filter(|id| id.starts_with(p.as_str())).count() > 1);
    if let Some(prefix) = shared {
        fails_with(&ragtrace(&["show", &prefix], &path), "matches");
        assert!(store.find_traces(&prefix, 10).unwrap().len() > 1);
    }
}

#[test]
fn a_range_selects_requests_by_their_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled_store(dir.path());
    // The foreign spans are from November 2023; the live ones from now.
    let old = stdout(&ragtrace(
        &["report", "--until", "2024-01-01", "--format", "json"],
        &path,
    ));
    let old: Value = serde_json::from_str(&old).unwrap();
    assert_eq!(old["total"]["requests"], 3);
    let recent = stdout(&ragtrace(
        &["report", "--since", "1d", "--format", "json"],
        &path,
    ));
    let recent: Value = serde_json::from_str(&recent).unwrap();
    assert_eq!(recent["total"]["requests"], 7);
    let none = stdout(&ragtrace(
        &["requests", "--since", "2020-01-01", "--until", "2020-01-02"],
        &path,
    ));
    assert!(none.starts_with("no requests match"), "{none}");
}

#[test]
fn a_store_written_by_schema_v1_is_migrated_and_reads_the_same() {
    // Written by the offline example at the last commit with schema v1.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    std::fs::copy("tests/fixtures/stores/v1.db", &path).unwrap();
    assert!(matches!(
        Store::open_read_only(&path),
        Err(ragtrace::store::StoreError::Outdated { found: 1, .. })
    ));
    let json: Value =
        serde_json::from_str(&stdout(&ragtrace(&["report", "--format", "json"], &path))).unwrap();
    let store = Store::open_read_only(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        ragtrace::store::SCHEMA_VERSION
    );
    let spans = store.spans(&SpanQuery::new()).unwrap();
    assert_eq!(json["total"]["requests"], 2);
    assert_eq!(json["total"]["totals"]["spans"], spans.len());
    let sum: i128 = spans.iter().filter_map(attribute_cost).sum();
    assert_eq!(
        json["total"]["totals"]["cost"],
        Usd::from_picos(sum).to_string()
    );
    // Rows from v1 have no split by kind: all of it is reported unsplit.
    assert_eq!(
        json["total"]["totals"]["cost_by_kind"]["unsplit"],
        Usd::from_picos(sum).to_string()
    );
}
