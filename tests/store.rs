//! The trace store on a real SQLite file: round trips, idempotent writes,
//! schema checks, concurrent readers, and per-trace summaries.
#![cfg(feature = "store")]

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, TraceId};
use ragtrace::pricing::{CostStatus, Usd};
use ragtrace::store::{
    Attributes, Kind, SpanEvent, SpanParts, SpanQuery, SpanRecord, Status, Store, StoreError,
};
use serde_json::json;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn object(value: serde_json::Value) -> Attributes {
    match value {
        serde_json::Value::Object(map) => map,
        _ => panic!("not an object"),
    }
}

/// A request of three spans: root, retrieval, chat.
fn request(trace: u128, start: u64, resource: &Arc<Attributes>) -> Vec<SpanRecord> {
    let trace_id = TraceId::from(trace);
    let root_id = SpanId::from((trace as u64) << 8 | 1);
    let mut root = SpanParts::new(trace_id, root_id, "answer", at(start), at(start + 2));
    root.kind = Kind::Server;
    root.resource = resource.clone();
    root.attributes = object(json!({
        "ragtrace.step": "request",
        "user.id": format!("user-{}", trace % 3),
        "session.id": "s-1",
        "ragtrace.request.cost_picousd": 5_000_000,
    }));

    let mut retrieval = SpanParts::new(
        trace_id,
        SpanId::from((trace as u64) << 8 | 2),
        "retrieval docs",
        at(start),
        at(start + 1),
    );
    retrieval.parent_span_id = Some(root_id);
    retrieval.kind = Kind::Client;
    retrieval.resource = resource.clone();
    retrieval.attributes = object(json!({
        "ragtrace.step": "retrieval",
        "ragtrace.retrieval.scores": [0.91, 0.84, "NaN"],
        "ragtrace.retrieval.top_score": 0.91,
    }));

    let mut chat = SpanParts::new(
        trace_id,
        SpanId::from((trace as u64) << 8 | 3),
        "chat gpt-4o-mini",
        at(start + 1),
        at(start + 2),
    );
    chat.parent_span_id = Some(root_id);
    chat.kind = Kind::Client;
    chat.resource = resource.clone();
    chat.status = if trace.is_multiple_of(2) {
        Status::Error
    } else {
        Status::Unset
    };
    chat.status_message = trace.is_multiple_of(2).then(|| "rate limited".to_owned());
    chat.attributes = object(json!({
        "ragtrace.step": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.provider.name": "openai",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 80,
        "gen_ai.usage.cache_read.input_tokens": 1024,
        "ragtrace.cost.picousd": 5_000_000,
        "ragtrace.cost.status": "priced",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.request.temperature": 0.0,
    }));
    chat.events = vec![SpanEvent::new(
        "retrying after rate limit",
        at(start + 1),
        object(json!({ "level": "WARN", "attempt": 2 })),
    )];
    [root, retrieval, chat]
        .into_iter()
        .map(|p| p.into_record(None))
        .collect()
}

fn resource() -> Arc<Attributes> {
    Arc::new(object(json!({
        "service.name": "rag-api",
        "telemetry.sdk.language": "rust",
    })))
}

#[test]
fn records_round_trip_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragtrace.db");
    let resource = resource();
    let written = request(2, 0, &resource);
    {
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.insert(&written).unwrap(), 3);
    }
    let store = Store::open_read_only(&path).unwrap();
    let read = store.trace(TraceId::from(2_u128)).unwrap();
    assert_eq!(read.len(), 3);
    // NaN != NaN, so compare the scores apart.
    for (a, b) in read.iter().zip(&written) {
        let mut a = a.clone();
        let mut b = b.clone();
        let (sa, sb) = (a.scores.take(), b.scores.take());
        assert_eq!(a, b);
        assert_eq!(format!("{sa:?}"), format!("{sb:?}"));
    }
    let chat = read
        .iter()
        .find(|r| r.step.as_deref() == Some("chat"))
        .unwrap();
    assert_eq!(chat.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(chat.cost, Some(Usd::from_picos(5_000_000)));
    assert_eq!(chat.usage.unwrap().cache_read_input_tokens, 1024);
    assert_eq!(chat.status, Status::Error);
    assert_eq!(chat.events[0].attributes["attempt"], json!(2));
    assert_eq!(chat.service.as_deref(), Some("rag-api"));
    // Doubles stay doubles, ints stay ints.
    assert!(chat.attributes["gen_ai.request.temperature"].is_f64());
    assert!(chat.attributes["gen_ai.usage.input_tokens"].is_i64());
    // The root's roll-up stays an attribute; its own cost column is empty.
    let root = read.iter().find(|r| r.is_root()).unwrap();
    assert_eq!(root.cost, None);
    assert_eq!(root.user_id.as_deref(), Some("user-2"));
}

#[test]
fn writing_a_span_twice_stores_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("t.db")).unwrap();
    let resource = resource();
    store.insert(&request(1, 0, &resource)).unwrap();
    store.insert(&request(1, 0, &resource)).unwrap();
    assert_eq!(store.count().unwrap(), 3);
    let resources: i64 = rusqlite::Connection::open(dir.path().join("t.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM resources", [], |r| r.get(0))
        .unwrap();
    assert_eq!(resources, 1, "one resource row shared by all spans");
}

#[test]
fn queries_filter_by_time_step_model_user_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("t.db")).unwrap();
    let resource = resource();
    for trace in 1..=10_u128 {
        store
            .insert(&request(trace, trace as u64 * 10, &resource))
            .unwrap();
    }
    assert_eq!(store.count().unwrap(), 30);
    let window = SpanQuery::new().since(at(30)).until(at(60));
    assert_eq!(store.spans(&window).unwrap().len(), 9);
    let chats = store.spans(&SpanQuery::new().step("chat")).unwrap();
    assert_eq!(chats.len(), 10);
    assert!(chats.windows(2).all(|w| w[0].start <= w[1].start));
    assert_eq!(
        store
            .spans(&SpanQuery::new().model("gpt-4o-mini").limit(4))
            .unwrap()
            .len(),
        4
    );
    let user = store.spans(&SpanQuery::new().user("user-1")).unwrap();
    assert_eq!(user.len(), 4, "roots of traces 1, 4, 7, 10");
    let roots = store.spans(&SpanQuery::new().roots_only()).unwrap();
    assert_eq!(roots.len(), 10);
    let bare = store
        .spans(&SpanQuery::new().step("chat").payload(false))
        .unwrap();
    assert!(bare[0].attributes.is_empty());
    assert_eq!(bare[0].usage, chats[0].usage);

    let mut seen = 0;
    store
        .scan(&SpanQuery::new(), |_| {
            seen += 1;
            if seen == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(seen, 5);
    assert_eq!(store.time_range().unwrap(), Some((at(10), at(101))));
}

#[test]
fn trace_summaries_sum_their_spans() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("t.db")).unwrap();
    let resource = resource();
    for trace in 1..=4_u128 {
        store
            .insert(&request(trace, trace as u64 * 10, &resource))
            .unwrap();
    }
    let all = store.traces(None, None, 100).unwrap();
    assert_eq!(all.len(), 4);
    let first = &all[0];
    assert_eq!(first.trace_id, TraceId::from(1_u128));
    assert_eq!(first.name, "answer");
    assert_eq!(first.spans, 3);
    assert_eq!(first.cost, Usd::from_picos(5_000_000));
    assert_eq!(first.cost_status, Some(CostStatus::Priced));
    assert_eq!(first.input_tokens, 1200);
    assert_eq!(first.duration, Duration::from_secs(2));
    assert_eq!(first.service.as_deref(), Some("rag-api"));
    assert_eq!(all[1].errors, 1);
    let latest_two = store.traces(None, None, 2).unwrap();
    assert_eq!(
        latest_two.iter().map(|t| t.trace_id).collect::<Vec<_>>(),
        vec![TraceId::from(3_u128), TraceId::from(4_u128)]
    );
    let windowed = store.traces(Some(at(20)), Some(at(31)), 100).unwrap();
    assert_eq!(windowed.len(), 2);
}

#[test]
fn a_foreign_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE customers (id INTEGER)")
            .unwrap();
    }
    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::NotAStore { .. }), "{error}");
    assert!(error.to_string().contains("other.db"), "{error}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "nothing was added to the stranger's file");
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(Store::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let error = Store::open(&path).unwrap_err();
    assert!(
        matches!(error, StoreError::TooNew { found: 99, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("upgrade ragtrace"), "{error}");
}

#[test]
fn a_missing_file_is_not_created_by_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.db");
    let error = Store::open_read_only(&path).unwrap_err();
    assert!(matches!(error, StoreError::Open { .. }), "{error}");
    assert!(!path.exists());
}

#[test]
fn readers_see_whole_batches_while_the_writer_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut writer = Store::open(&path).unwrap();
    let resource = resource();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let reader = Store::open_read_only(&path).unwrap();
                let mut reads = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // Every batch is one request of 3 spans.
                    let count = reader.count().unwrap();
                    assert_eq!(count % 3, 0, "a reader saw half a batch");
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for trace in 1..=300_u128 {
        writer
            .insert(&request(trace, trace as u64, &resource))
            .unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        assert!(reader.join().unwrap() > 0);
    }
    assert_eq!(writer.count().unwrap(), 900);
}
