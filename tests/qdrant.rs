//! The qdrant-client integration end to end: the real `qdrant-client`,
//! wrapped in `Traced`, queries a Qdrant gRPC server on 127.0.0.1 (the
//! client crate's own generated `Points` service over an exact in-memory
//! index); spans go through the real OTLP exporter to a receiver on
//! 127.0.0.1.
#![cfg(feature = "qdrant")]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use qdrant_client::qdrant::with_payload_selector::SelectorOptions;
use qdrant_client::qdrant::{Condition, Distance, Filter, PayloadIncludeSelector, PointId, Value};
use qdrant_client::{Qdrant, QdrantError};
use ragtrace::instrument::keys::*;
use ragtrace::instrument::{Capture, Options, TracedExt};
use ragtrace::integrations::memory::{Document, MemoryRetriever, Metric};
use ragtrace::integrations::qdrant::{QdrantRetriever, point_id};
use ragtrace::steps::{Filter as Neutral, Query, Retriever};
use support::otlp::ExportedSpan;
use support::pipeline::Pipeline;
use support::qdrant_server::{Collection, Point, QdrantServer, score};

const KEY: &str = "qdrant-api-key-7f3c9a1e5b2d4c6f8a0b";

fn point(id: impl Into<PointId>, vectors: &[(&str, Vec<f32>)], payload: &[(&str, Value)]) -> Point {
    Point {
        id: id.into(),
        vectors: vectors
            .iter()
            .map(|(name, v)| (name.to_string(), v.clone()))
            .collect(),
        payload: payload
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        ..Point::default()
    }
}

/// `handbook`: an unnamed vector, numeric ids, text under `content`.
/// `multi`: two named vectors, UUID ids, text under `text`, a language field.
fn collections() -> HashMap<String, Vec<Point>> {
    let handbook = vec![
        point(
            7_u64,
            &[("", vec![0.9, 0.1, 0.0])],
            &[
                ("content", "Spans have a start and an end.".into()),
                ("source", "spans.md".into()),
            ],
        ),
        point(
            3_u64,
            &[("", vec![0.7, 0.7, 0.1])],
            &[
                ("content", "A trace is a tree of spans.".into()),
                ("source", "traces.md".into()),
            ],
        ),
        point(
            9_u64,
            &[("", vec![0.1, 0.9, 0.3])],
            &[
                ("content", "Attributes are typed.".into()),
                ("source", "attrs.md".into()),
            ],
        ),
        point(
            12_u64,
            &[("", vec![0.0, 0.2, 1.0])],
            &[
                ("content", "Exporters send spans.".into()),
                ("source", "export.md".into()),
            ],
        ),
    ];
    let doc = |uuid: &str, dense: Vec<f32>, title: Vec<f32>, lang: &str, text: &str| {
        point(
            uuid.to_string(),
            &[("dense", dense), ("title", title)],
            &[
                ("text", text.into()),
                ("lang", lang.into()),
                ("internal_note", "not for hits".into()),
            ],
        )
    };
    let multi = vec![
        doc(
            "0b8a7c5e-3f1d-4e2a-9c6b-1d2e3f4a5b6c",
            vec![1.0, 0.0],
            vec![0.0, 1.0],
            "en",
            "Sampling keeps some traces.",
        ),
        doc(
            "1c9b8d6f-4a2e-4f3b-8d7c-2e3f4a5b6c7d",
            vec![0.8, 0.6],
            vec![1.0, 0.0],
            "de",
            "Sampling behält manche Traces.",
        ),
        doc(
            "2dac9e70-5b3f-4a4c-9e8d-3f4a5b6c7d8e",
            vec![0.6, 0.8],
            vec![0.9, 0.1],
            "en",
            "Head sampling decides early.",
        ),
        doc(
            "3ebdaf81-6c4a-4b5d-8f9e-4a5b6c7d8e9f",
            vec![-1.0, 0.0],
            vec![0.5, 0.5],
            "en",
            "Unrelated.",
        ),
    ];
    HashMap::from([
        ("handbook".to_owned(), handbook),
        ("multi".to_owned(), multi),
    ])
}

fn client(server: &QdrantServer, key: &str) -> Qdrant {
    Qdrant::from_url(&server.url())
        .api_key(key)
        .skip_compatibility_check()
        .build()
        .unwrap()
}

fn only(spans: &[ExportedSpan], name: &str) -> ExportedSpan {
    let matching: Vec<&ExportedSpan> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(
        matching.len(),
        1,
        "one {name:?} in {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    matching[0].clone()
}

#[test]
fn ids_and_scores_on_the_span_are_the_servers_in_rank_order() {
    let server = QdrantServer::start(collections(), Some(KEY));
    let pipeline = Pipeline::new();
    let retriever = QdrantRetriever::new(client(&server, KEY), "handbook")
        .top_k(3)
        .traced();
    let vector = [0.8_f32, 0.3, 0.05];
    let hits = pipeline
        .block_on(async {
            retriever
                .retrieve(&Query::vector(&vector).text("what is a span?"))
                .await
        })
        .unwrap();

    // What went over the wire.
    let sent = server.queries();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].collection_name, "handbook");
    assert_eq!(sent[0].limit, Some(3));
    assert_eq!(sent[0].using, None);
    assert_eq!(sent[0].filter, None);
    assert_eq!(sent[0].score_threshold, None);
    assert_eq!(
        sent[0]
            .with_payload
            .as_ref()
            .and_then(|s| s.selector_options.clone()),
        Some(SelectorOptions::Enable(true))
    );
    let returned = &server.responses()[0].result;
    assert_eq!(returned.len(), 3);
    let server_ids: Vec<String> = returned.iter().map(|p| point_id(p.id.as_ref())).collect();
    let server_scores: Vec<f64> = returned.iter().map(|p| f64::from(p.score)).collect();
    assert_eq!(
        server_ids,
        ["7", "3", "9"],
        "the exact index ranks by cosine"
    );

    // What the caller got: the server's ranking, content out of the payload.
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    let scores: Vec<f64> = hits.iter().map(|h| h.score).collect();
    assert_eq!(ids, server_ids);
    assert_eq!(scores, server_scores);
    assert_eq!(
        hits[0].content.as_deref(),
        Some("Spans have a start and an end.")
    );
    assert_eq!(hits[0].payload["source"], "spans.md");
    assert!(!hits[0].payload.contains_key("content"));

    // What was exported: the same ids and scores, same order, typed.
    let spans = pipeline.finish();
    let span = only(&spans, "retrieval handbook");
    assert_eq!(span.kind, SpanKind::Client);
    assert_eq!(span.status, StatusCode::Unset);
    assert_eq!(span.string(GEN_AI_OPERATION_NAME), "retrieval");
    assert_eq!(span.string(DB_SYSTEM_NAME), "qdrant");
    assert_eq!(span.string(DB_OPERATION_NAME), "query");
    assert_eq!(span.string(DB_COLLECTION_NAME), "handbook");
    assert_eq!(span.string(GEN_AI_DATA_SOURCE_ID), "handbook");
    assert_eq!(span.string(SERVER_ADDRESS), "127.0.0.1");
    assert_eq!(span.int(SERVER_PORT), i64::from(server.addr.port()));
    assert_eq!(span.int(GEN_AI_RETRIEVAL_TOP_K), 3);
    assert_eq!(span.double(GEN_AI_REQUEST_TOP_K), 3.0);
    assert_eq!(span.int(RAGTRACE_RETRIEVAL_RETURNED), 3);
    assert_eq!(span.doubles(RAGTRACE_RETRIEVAL_SCORES), server_scores);
    assert_eq!(span.double(RAGTRACE_RETRIEVAL_TOP_SCORE), server_scores[0]);
    assert_eq!(span.double(RAGTRACE_RETRIEVAL_MIN_SCORE), server_scores[2]);
    for (i, (id, score)) in server_ids.iter().zip(&server_scores).enumerate() {
        assert_eq!(
            span.string(&format!("retrieval.documents.{i}.document.id")),
            id
        );
        assert_eq!(
            span.double(&format!("retrieval.documents.{i}.document.score")),
            *score
        );
    }
    assert!(
        !span.has(GEN_AI_RETRIEVAL_QUERY_TEXT),
        "content capture is off"
    );
}

#[test]
fn filter_named_vector_threshold_and_payload_selection_reach_the_server() {
    let server = QdrantServer::start(collections(), Some(KEY));
    let pipeline = Pipeline::new();
    let english = Filter::must([Condition::matches("lang", "en".to_string())]);
    let retriever = QdrantRetriever::new(client(&server, KEY), "multi")
        .vector_name("dense")
        .filter(english.clone())
        .score_threshold(0.0)
        .with_payload(SelectorOptions::Include(PayloadIncludeSelector {
            fields: vec!["text".into(), "lang".into()],
        }))
        .content_key("text")
        .traced()
        .with_options(Options::new().record_documents(true));
    let vector = [0.9_f32, 0.3];
    let hits = pipeline
        .block_on(async { retriever.retrieve(&Query::vector(&vector).top_k(5)).await })
        .unwrap();

    let sent = &server.queries()[0];
    assert_eq!(sent.using.as_deref(), Some("dense"));
    assert_eq!(sent.filter.as_ref(), Some(&english));
    assert_eq!(sent.score_threshold, Some(0.0));
    assert_eq!(sent.limit, Some(5), "the query's top_k wins");
    // Only English points at or above the threshold, ranked on the `dense`
    // vector (on `title`, "Head sampling" would lead and "Unrelated" would
    // pass the threshold).
    let returned = &server.responses()[0].result;
    let server_ids: Vec<String> = returned.iter().map(|p| point_id(p.id.as_ref())).collect();
    assert_eq!(
        server_ids,
        [
            "0b8a7c5e-3f1d-4e2a-9c6b-1d2e3f4a5b6c",
            "2dac9e70-5b3f-4a4c-9e8d-3f4a5b6c7d8e"
        ]
    );
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, server_ids);
    assert_eq!(
        hits[0].content.as_deref(),
        Some("Sampling keeps some traces.")
    );
    assert_eq!(
        hits[0].payload.len(),
        1,
        "only the selected fields: {:?}",
        hits[0].payload
    );
    assert_eq!(hits[0].payload["lang"], "en");

    let spans = pipeline.finish();
    let span = only(&spans, "retrieval multi");
    assert_eq!(span.int(GEN_AI_RETRIEVAL_TOP_K), 5);
    assert_eq!(span.int(RAGTRACE_RETRIEVAL_RETURNED), 2);
    let documents: serde_json::Value =
        serde_json::from_str(span.string(GEN_AI_RETRIEVAL_DOCUMENTS)).unwrap();
    let documents = documents.as_array().unwrap();
    assert_eq!(documents.len(), returned.len());
    for (document, point) in documents.iter().zip(returned) {
        assert_eq!(document["id"], point_id(point.id.as_ref()));
        // serde_json parses without exact round-trip (no `float_roundtrip`):
        // allow the last bit.
        let score = document["score"].as_f64().unwrap();
        assert!(
            (score - f64::from(point.score)).abs() <= f64::EPSILON,
            "{score}"
        );
    }
}

#[test]
fn server_errors_reach_the_caller_unchanged_and_are_classified() {
    let server = QdrantServer::start(collections(), Some(KEY));
    let pipeline = Pipeline::new();
    let missing = QdrantRetriever::new(client(&server, KEY), "no-such-collection").traced();
    let unauthorized = QdrantRetriever::new(client(&server, "wrong-key"), "handbook").traced();
    let vector = [1.0_f32, 0.0, 0.0];
    let (not_found, denied, text_only) = pipeline.block_on(async {
        (
            missing.retrieve(&Query::vector(&vector)).await.unwrap_err(),
            unauthorized
                .retrieve(&Query::vector(&vector))
                .await
                .unwrap_err(),
            missing
                .retrieve(&Query::from_text("no vector"))
                .await
                .unwrap_err(),
        )
    });
    match &not_found {
        QdrantError::ResponseError { status } => {
            assert_eq!(status.code(), tonic::Code::NotFound);
            assert!(status.message().contains("no-such-collection"));
        }
        other => panic!("{other:?}"),
    }
    match &denied {
        QdrantError::ResponseError { status } => {
            assert_eq!(status.code(), tonic::Code::Unauthenticated)
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(text_only, QdrantError::ConversionError(_)));
    assert_eq!(
        server.queries().len(),
        1,
        "the text-only query was never sent"
    );

    let spans = pipeline.finish();
    let mut classes: Vec<&str> = spans
        .iter()
        .map(|s| {
            assert_eq!(s.status, StatusCode::Error, "{}", s.name);
            assert!(!s.has(RAGTRACE_RETRIEVAL_SCORES));
            s.string(ERROR_TYPE)
        })
        .collect();
    classes.sort();
    assert_eq!(classes, ["NOT_FOUND", "UNAUTHENTICATED", "invalid_query"]);
}

#[test]
fn the_api_key_never_appears_in_any_span_even_with_capture_on() {
    let server = QdrantServer::start(collections(), Some(KEY));
    let pipeline = Pipeline::new();
    let options = Arc::new(Options::new().capture(Capture::on()).record_documents(true));
    let retriever = QdrantRetriever::new(client(&server, KEY), "handbook")
        .traced()
        .with_options(options);
    let vector = [0.5_f32, 0.5, 0.5];
    let hits = pipeline
        .block_on(async {
            retriever
                .retrieve(&Query::vector(&vector).text("what is a trace?"))
                .await
        })
        .unwrap();
    assert_eq!(hits.len(), 4);
    let spans = pipeline.finish();
    let span = only(&spans, "retrieval handbook");
    assert_eq!(span.string(GEN_AI_RETRIEVAL_QUERY_TEXT), "what is a trace?");
    assert!(
        span.has("retrieval.documents.0.document.content"),
        "capture was on"
    );
    for span in &spans {
        assert!(!span.all_text().contains(KEY), "{}", span.all_text());
    }
}

/// Three points on a line, and the query vector near the first: the
/// same collection under each distance.
fn line(distance: Distance) -> HashMap<String, Collection> {
    let points = vec![
        point(1_u64, &[("", vec![0.0, 0.0])], &[]),
        point(2_u64, &[("", vec![0.5, 0.1])], &[]),
        point(3_u64, &[("", vec![0.9, 0.3])], &[]),
        point(4_u64, &[("", vec![-0.2, 0.7])], &[]),
    ];
    HashMap::from([(
        "line".to_owned(),
        Collection::new(points).distance("", distance),
    )])
}

#[test]
fn a_distance_collection_reports_its_rank_one_hit_as_the_top_score() {
    for (distance, kind) in [
        (Distance::Euclid, "distance"),
        (Distance::Manhattan, "distance"),
        (Distance::Dot, "similarity"),
        (Distance::Cosine, "similarity"),
    ] {
        let server = QdrantServer::start_with(line(distance), None);
        let pipeline = Pipeline::new();
        let retriever = QdrantRetriever::new(client(&server, ""), "line")
            .top_k(3)
            .traced();
        let vector = [0.1_f32, 0.05];
        for _ in 0..2 {
            pipeline
                .block_on(async { retriever.retrieve(&Query::vector(&vector)).await })
                .unwrap();
        }
        let returned = &server.responses()[0].result;
        let scores: Vec<f64> = returned.iter().map(|p| f64::from(p.score)).collect();
        let spans = pipeline.finish();
        assert_eq!(spans.len(), 2);
        let span = &spans[0];
        assert_eq!(span.doubles(RAGTRACE_RETRIEVAL_SCORES), scores);
        // Rank 1 is the best hit whichever way the scores point.
        assert_eq!(
            span.double(RAGTRACE_RETRIEVAL_TOP_SCORE),
            scores[0],
            "{distance:?}: {scores:?}"
        );
        assert_eq!(
            span.string(RAGTRACE_RETRIEVAL_SCORE_KIND),
            kind,
            "{distance:?}"
        );
        let worst = if kind == "distance" {
            scores.iter().copied().fold(f64::MIN, f64::max)
        } else {
            scores.iter().copied().fold(f64::MAX, f64::min)
        };
        assert_eq!(
            span.double(RAGTRACE_RETRIEVAL_MIN_SCORE),
            worst,
            "{distance:?}"
        );
        if kind == "distance" {
            assert!(scores[0] < scores[2], "{distance:?}: ranked nearest first");
        }
        assert_eq!(
            server.info_requests(),
            ["line"],
            "{distance:?}: the distance is looked up once and cached"
        );
    }
}

/// A port on 127.0.0.1 nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_refused_or_lost_connection_is_unavailable_and_a_timeout_is_deadline_exceeded() {
    let pipeline = Pipeline::new();
    let vector = [1.0_f32, 0.0, 0.0];

    // Nothing listens.
    let url = format!("http://127.0.0.1:{}", closed_port());
    let nowhere = QdrantRetriever::new(
        Qdrant::from_url(&url)
            .skip_compatibility_check()
            .build()
            .unwrap(),
        "handbook",
    )
    .traced();
    let refused = pipeline
        .block_on(async { nowhere.retrieve(&Query::vector(&vector)).await })
        .unwrap_err();
    assert!(
        matches!(refused, QdrantError::ResponseError { .. }),
        "{refused:?}"
    );

    // A server that answered once, then stopped.
    let server = QdrantServer::start(collections(), Some(KEY));
    let stopped = QdrantRetriever::new(client(&server, KEY), "handbook").traced();
    pipeline
        .block_on(async { stopped.retrieve(&Query::vector(&vector)).await })
        .unwrap();
    drop(server);
    let lost = pipeline
        .block_on(async { stopped.retrieve(&Query::vector(&vector)).await })
        .unwrap_err();
    assert!(
        matches!(lost, QdrantError::ResponseError { .. }),
        "{lost:?}"
    );

    // A server slower than the client's timeout.
    let mut slow = line(Distance::Cosine);
    let collection = slow.remove("line").unwrap().delay(Duration::from_secs(3));
    let server = QdrantServer::start_with(HashMap::from([("slow".to_owned(), collection)]), None);
    let impatient = QdrantRetriever::new(
        Qdrant::from_url(&server.url())
            .timeout(Duration::from_millis(200))
            .skip_compatibility_check()
            .build()
            .unwrap(),
        "slow",
    )
    .traced();
    let timed_out = pipeline
        .block_on(async { impatient.retrieve(&Query::vector(&[0.1, 0.1])).await })
        .unwrap_err();
    assert!(
        matches!(timed_out, QdrantError::ResponseError { .. }),
        "{timed_out:?}"
    );
    // qdrant-client retries once on a fresh connection (documented).
    assert_eq!(server.queries().len(), 2, "the client's own retry");

    let spans = pipeline.finish();
    let failed: Vec<&ExportedSpan> = spans
        .iter()
        .filter(|s| s.status == StatusCode::Error)
        .collect();
    let classes: Vec<&str> = failed.iter().map(|s| s.string(ERROR_TYPE)).collect();
    assert_eq!(classes, ["UNAVAILABLE", "UNAVAILABLE", "DEADLINE_EXCEEDED"]);
    for span in failed {
        assert!(
            !span.status_message.contains("MetadataMap"),
            "{}",
            span.status_message
        );
        assert!(
            !span.status_message.contains("tonic::"),
            "{}",
            span.status_message
        );
    }
    assert!(
        spans[0]
            .status_message
            .starts_with(&format!("Failed to connect to {url}")),
        "{}",
        spans[0].status_message
    );
}

#[test]
fn an_error_span_carries_the_servers_words_and_an_exception_event() {
    let server = QdrantServer::start(collections(), Some(KEY));
    let pipeline = Pipeline::new();
    let missing = QdrantRetriever::new(client(&server, KEY), "no-such-collection").traced();
    let vector = [1.0_f32, 0.0, 0.0];
    pipeline
        .block_on(async { missing.retrieve(&Query::vector(&vector)).await })
        .unwrap_err();
    let spans = pipeline.finish();
    let span = only(&spans, "retrieval no-such-collection");
    assert_eq!(span.status, StatusCode::Error);
    assert_eq!(
        span.status_message,
        "Collection `no-such-collection` doesn't exist!"
    );
    let exceptions: Vec<&(String, HashMap<String, _>)> = span
        .events
        .iter()
        .filter(|(name, _)| name == "exception")
        .collect();
    assert_eq!(exceptions.len(), 1, "{:?}", span.events);
    let attributes = &exceptions[0].1;
    let text = |key: &str| match attributes.get(key) {
        Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => s.clone(),
        other => panic!("{key}: {other:?}"),
    };
    assert_eq!(text("exception.message"), span.status_message);
    assert!(
        text("exception.type").ends_with("QdrantError"),
        "{}",
        text("exception.type")
    );
}

/// A JSON payload as Qdrant values.
fn qdrant_value(json: &serde_json::Value) -> Value {
    use qdrant_client::qdrant::value::Kind;
    use qdrant_client::qdrant::{ListValue, Struct};
    let kind = match json {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Kind::IntegerValue(i),
            None => Kind::DoubleValue(n.as_f64().unwrap()),
        },
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(items) => Kind::ListValue(ListValue {
            values: items.iter().map(qdrant_value).collect(),
        }),
        serde_json::Value::Object(map) => Kind::StructValue(Struct {
            fields: map
                .iter()
                .map(|(k, v)| (k.clone(), qdrant_value(v)))
                .collect(),
        }),
    };
    Value { kind: Some(kind) }
}

/// Tenants' documents: integer vectors (exact dot products in f32 and
/// f64), payloads with keywords, integers, floats, booleans, lists and a
/// nested object; the same corpus in Qdrant and in memory.
fn tenants() -> (HashMap<String, Collection>, MemoryRetriever) {
    let docs = [
        (
            1_u64,
            [3.0, 1.0],
            serde_json::json!({"tenant": "acme", "year": 2021, "price": 9.5, "public": true, "groups": ["staff", "ops"], "meta": {"lang": "en"}}),
        ),
        (
            2,
            [2.0, 2.0],
            serde_json::json!({"tenant": "acme", "year": 2023, "price": 20.0, "public": false, "groups": ["admins"], "meta": {"lang": "de"}}),
        ),
        (
            3,
            [1.0, 3.0],
            serde_json::json!({"tenant": "globex", "year": 2022, "price": 4.25, "public": true, "groups": [], "meta": {"lang": "en"}}),
        ),
        (
            4,
            [4.0, 0.0],
            serde_json::json!({"tenant": "initech", "year": 2019, "public": false, "groups": ["staff"]}),
        ),
        (
            5,
            [0.0, 4.0],
            serde_json::json!({"tenant": "acme", "price": 15.0, "groups": ["ops"], "meta": {"lang": "fr"}}),
        ),
        (
            6,
            [2.0, 1.0],
            serde_json::json!({"year": 2024, "public": true}),
        ),
    ];
    let points = docs
        .iter()
        .map(|(id, v, payload)| Point {
            id: PointId::from(*id),
            vectors: HashMap::from([(String::new(), v.to_vec())]),
            payload: payload
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), qdrant_value(v)))
                .collect(),
            ..Point::default()
        })
        .collect();
    let memory = MemoryRetriever::new("tenants")
        .metric(Metric::Dot)
        .with_documents(docs.iter().map(|(id, v, payload)| {
            Document::new(id.to_string(), v.to_vec())
                .with_payload(payload.as_object().unwrap().clone())
        }))
        .unwrap();
    (
        HashMap::from([(
            "tenants".to_owned(),
            Collection::new(points).distance("", Distance::Dot),
        )]),
        memory,
    )
}

#[test]
fn neutral_filters_select_the_same_points_in_qdrant_as_in_memory() {
    let (collections, memory) = tenants();
    let server = QdrantServer::start_with(collections, None);
    let pipeline = Pipeline::new();
    let retriever = QdrantRetriever::new(client(&server, ""), "tenants")
        .top_k(10)
        .traced();
    let filters = [
        (Neutral::eq("tenant", "acme"), vec!["1", "2", "5"]),
        (Neutral::eq("year", 2022), vec!["3"]),
        (Neutral::eq("public", true), vec!["1", "3", "6"]),
        (Neutral::eq("groups", "staff"), vec!["4", "1"]),
        (Neutral::eq("meta.lang", "en"), vec!["1", "3"]),
        (
            Neutral::any_of("tenant", ["globex", "initech"]),
            vec!["4", "3"],
        ),
        (Neutral::any_of("year", [2019, 2024]), vec!["4", "6"]),
        (
            Neutral::any_of("groups", ["admins", "ops"]),
            vec!["1", "2", "5"],
        ),
        (Neutral::any_of("public", [false]), vec!["4", "2"]),
        (Neutral::range("price").gte(9.5).lt(20.0), vec!["1", "5"]),
        (Neutral::range("year").gt(2021.0), vec!["2", "3", "6"]),
        (
            Neutral::all([
                Neutral::eq("tenant", "acme"),
                Neutral::range("year").lte(2022.0),
            ]),
            vec!["1"],
        ),
        (
            Neutral::any([Neutral::eq("tenant", "globex"), Neutral::eq("year", 2019)]),
            vec!["4", "3"],
        ),
        (
            Neutral::not(Neutral::eq("tenant", "acme")),
            vec!["4", "3", "6"],
        ),
        (
            Neutral::all([
                Neutral::not(Neutral::any_of("groups", ["staff"])),
                Neutral::any([
                    Neutral::eq("public", true),
                    Neutral::range("price").gt(10.0),
                ]),
            ]),
            vec!["2", "3", "6", "5"],
        ),
    ];
    let vector = [1.0_f32, 0.5];
    for (filter, expected) in &filters {
        let query = Query::vector(&vector).filter(filter);
        let (remote, local) = pipeline.block_on(async {
            (
                retriever.retrieve(&query).await.unwrap(),
                memory.retrieve(&query).await.unwrap(),
            )
        });
        let ids = |hits: &ragtrace::steps::Hits| {
            hits.iter()
                .map(|h| (h.id.clone(), h.score))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&remote), ids(&local), "{}", filter.with_values());
        let got: Vec<&str> = remote.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(&got, expected, "{}", filter.with_values());
    }
    let sent = server.queries();
    assert_eq!(sent.len(), filters.len());
    assert!(sent.iter().all(|q| q.filter.is_some()));
    let spans = pipeline.finish();
    assert_eq!(
        spans[0].string(RAGTRACE_RETRIEVAL_FILTER),
        "must(keyword(tenant))",
        "the shape, not the values, with capture off"
    );
    assert_eq!(
        spans[9].string(RAGTRACE_RETRIEVAL_FILTER),
        "must(range(price, gte, lt))"
    );
}

#[test]
fn the_span_says_why_fewer_hits_came_back_than_asked_for() {
    let (collections, _) = tenants();
    let server = QdrantServer::start_with(collections, None);
    let pipeline = Pipeline::new();
    let english = Filter::must([Condition::matches("meta.lang", "en".to_string())]);
    let retriever = QdrantRetriever::new(client(&server, ""), "tenants")
        .filter(english)
        .search_params(qdrant_client::qdrant::SearchParams {
            hnsw_ef: Some(128),
            exact: Some(true),
            ..Default::default()
        })
        .offset(0)
        .traced();
    let tenant = Neutral::eq("tenant", "acme");
    let vector = [1.0_f32, 0.5];
    let hits = pipeline
        .block_on(async {
            retriever
                .retrieve(
                    &Query::vector(&vector)
                        .top_k(200)
                        .score_threshold(1.0)
                        .filter(&tenant),
                )
                .await
        })
        .unwrap();
    assert_eq!(hits.len(), 1);
    let captured = QdrantRetriever::new(client(&server, ""), "tenants")
        .vector_name("sparse")
        .traced()
        .with_options(Options::new().capture(Capture::on()));
    pipeline
        .block_on(async {
            captured
                .retrieve(&Query::vector(&vector).filter(&tenant))
                .await
        })
        .unwrap_err();

    let spans = pipeline.finish();
    let span = &spans[0];
    assert_eq!(span.int(GEN_AI_RETRIEVAL_TOP_K), 200);
    assert_eq!(span.int(RAGTRACE_RETRIEVAL_RETURNED), 1);
    assert_eq!(span.double(RAGTRACE_RETRIEVAL_SCORE_THRESHOLD), 1.0);
    assert_eq!(
        span.string(RAGTRACE_RETRIEVAL_FILTER),
        "must(filter(must(keyword(meta.lang))), filter(must(keyword(tenant))))"
    );
    assert!(
        !span.all_text().contains("acme"),
        "no values with capture off"
    );
    assert_eq!(
        span.string(RAGTRACE_RETRIEVAL_SEARCH_PARAMS),
        "hnsw_ef=128,exact=true"
    );
    assert_eq!(span.int(RAGTRACE_RETRIEVAL_OFFSET), 0);
    // With capture on, the values too (and the vector name, even on failure:
    // the test server has no vector named "sparse").
    let span = &spans[1];
    assert_eq!(span.status, StatusCode::Error);
    assert_eq!(
        span.string(RAGTRACE_RETRIEVAL_FILTER),
        "must(keyword(tenant, \"acme\"))"
    );
    assert_eq!(span.string(RAGTRACE_RETRIEVAL_VECTOR_NAME), "sparse");
}

#[test]
fn payload_selection_takes_what_qdrant_client_users_write() {
    use qdrant_client::qdrant::PayloadExcludeSelector;
    let server = QdrantServer::start(collections(), Some(KEY));
    let pipeline = Pipeline::new();
    let base = || QdrantRetriever::new(client(&server, KEY), "multi").vector_name("dense");
    let retrievers = [
        base().with_payload(vec!["text", "lang"]),
        base().with_payload(["lang"]),
        base().with_payload(&["lang"][..]),
        base().with_payload(vec!["lang".to_owned()]),
        base().with_payload(PayloadExcludeSelector {
            fields: vec!["internal_note".into(), "text".into()],
        }),
        base().with_payload(false),
    ];
    let vector = [1.0_f32, 0.0];
    let payloads: Vec<Vec<String>> = retrievers
        .iter()
        .map(|r| {
            let hits = pipeline
                .block_on(async { r.retrieve(&Query::vector(&vector).top_k(1)).await })
                .unwrap();
            let mut keys: Vec<String> = hits[0].payload.keys().cloned().collect();
            if hits[0].content.is_some() {
                keys.push("(content)".to_owned());
            }
            keys.sort();
            keys
        })
        .collect();
    assert_eq!(
        payloads,
        [
            vec!["lang", "text"],
            vec!["lang"],
            vec!["lang"],
            vec!["lang"],
            vec!["lang"],
            vec![],
        ]
    );
}

/// Log lines written while `f` runs.
fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
    let buffer = Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || LogWriter(writer.clone()))
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned();
    (out, text)
}

struct LogWriter(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn text_under_another_common_key_is_warned_about_once() {
    let server = QdrantServer::start(collections(), Some(KEY));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // `multi` keeps its text under `text`; the default content key is `content`.
    let retriever = QdrantRetriever::new(client(&server, KEY), "multi").vector_name("dense");
    let clone = retriever.clone();
    let vector = [1.0_f32, 0.0];
    let (hits, log) = logged(|| {
        runtime.block_on(async {
            for r in [&retriever, &clone, &retriever] {
                r.retrieve(&Query::vector(&vector)).await.unwrap();
            }
            retriever.retrieve(&Query::vector(&vector)).await.unwrap()
        })
    });
    assert!(hits.iter().all(|h| h.content.is_none()));
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(
        warnings[0].contains("content_key(\"text\")"),
        "{}",
        warnings[0]
    );

    // Told where the text is: content, and no warning.
    let told = QdrantRetriever::new(client(&server, KEY), "multi")
        .vector_name("dense")
        .content_key("text");
    let (hits, log) = logged(|| {
        runtime
            .block_on(async { told.retrieve(&Query::vector(&vector)).await })
            .unwrap()
    });
    assert_eq!(
        hits[0].content.as_deref(),
        Some("Sampling keeps some traces.")
    );
    assert!(!log.contains("WARN"), "{log}");
}

/// Six chunks with a dense `dense` vector (cosine), a sparse `bm25` one and
/// a `colbert` multivector.
fn hybrid() -> HashMap<String, Collection> {
    // Token vectors for late interaction: the dense vector and its reverse.
    let chunk = |id: u64, dense: Vec<f32>, sparse: (Vec<u32>, Vec<f32>), tenant: &str| Point {
        id: PointId::from(id),
        multi: HashMap::from([(
            "colbert".to_owned(),
            vec![dense.clone(), dense.iter().rev().copied().collect()],
        )]),
        vectors: HashMap::from([("dense".to_owned(), dense)]),
        sparse: HashMap::from([("bm25".to_owned(), sparse)]),
        payload: HashMap::from([("tenant".to_owned(), Value::from(tenant))]),
    };
    let points = vec![
        chunk(1, vec![0.9, 0.1, 0.0], (vec![1, 7], vec![0.5, 1.5]), "acme"),
        chunk(2, vec![0.7, 0.7, 0.1], (vec![3], vec![2.0]), "acme"),
        chunk(3, vec![0.1, 0.9, 0.3], (vec![7, 9], vec![2.5, 0.3]), "acme"),
        chunk(
            4,
            vec![0.0, 0.2, 1.0],
            (vec![1, 3, 7], vec![0.2, 0.2, 0.2]),
            "globex",
        ),
        chunk(5, vec![0.8, 0.0, 0.6], (vec![9], vec![1.0]), "acme"),
        chunk(6, vec![0.5, 0.5, 0.5], (vec![2], vec![4.0]), "acme"),
    ];
    HashMap::from([("hybrid".to_owned(), Collection::new(points))])
}

#[test]
fn hybrid_search_fuses_dense_and_sparse_prefetches_and_the_span_names_the_stages() {
    let collections = hybrid();
    let points = collections["hybrid"].points.clone();
    let server = QdrantServer::start_with(collections, None);
    let pipeline = Pipeline::new();
    let retriever = QdrantRetriever::new(client(&server, ""), "hybrid")
        .vector_name("dense")
        .sparse_vector_name("bm25")
        .fusion(qdrant_client::qdrant::Fusion::Rrf)
        .prefetch_limit(4)
        .traced();
    let dense = [0.8_f32, 0.3, 0.2];
    let (indices, values) = ([7_u32, 9], [1.0_f32, 0.5]);
    let tenant = Neutral::eq("tenant", "acme");
    let query = Query::vector(&dense)
        .sparse(&indices, &values)
        .top_k(3)
        .filter(&tenant);
    let (fused, sparse_only) = pipeline.block_on(async {
        (
            retriever.retrieve(&query).await.unwrap(),
            retriever
                .retrieve(&Query::from_text("spans").sparse(&indices, &values))
                .await
                .unwrap(),
        )
    });

    // The exact computation: each search over the tenant's points, its
    // first 4, then reciprocal rank fusion as Qdrant scores it.
    let acme: Vec<&Point> = points
        .iter()
        .filter(|p| p.payload["tenant"] == Value::from("acme"))
        .collect();
    let ranked = |score_of: &dyn Fn(&Point) -> Option<f32>| {
        let mut list: Vec<(f32, u64)> = acme
            .iter()
            .filter_map(|p| score_of(p).map(|s| (s, point_id(Some(&p.id)).parse().unwrap())))
            .collect();
        list.sort_by(|a, b| b.0.total_cmp(&a.0));
        list.truncate(4);
        list
    };
    let sparse_score = |p: &Point| {
        let (ix, vs) = &p.sparse["bm25"];
        let hits: Vec<f32> = indices
            .iter()
            .zip(&values)
            .filter_map(|(i, v)| ix.iter().position(|x| x == i).map(|at| v * vs[at]))
            .collect();
        (!hits.is_empty()).then(|| hits.iter().sum())
    };
    let dense_list = ranked(&|p| Some(score(Distance::Cosine, &dense, &p.vectors["dense"])));
    let sparse_list = ranked(&sparse_score);
    let mut rrf: Vec<(f32, u64)> = Vec::new();
    for list in [&dense_list, &sparse_list] {
        for (position, (_, id)) in list.iter().enumerate() {
            let s = 1.0 / (position as f32 + 2.0);
            match rrf.iter_mut().find(|(_, i)| i == id) {
                Some(entry) => entry.0 += s,
                None => rrf.push((s, *id)),
            }
        }
    }
    rrf.sort_by(|a, b| b.0.total_cmp(&a.0));
    rrf.truncate(3);
    let expected: Vec<(String, f64)> = rrf
        .iter()
        .map(|(s, id)| (id.to_string(), f64::from(*s)))
        .collect();
    let got: Vec<(String, f64)> = fused.iter().map(|h| (h.id.clone(), h.score)).collect();
    assert_eq!(got, expected, "dense {dense_list:?} sparse {sparse_list:?}");
    let sparse_expected: Vec<String> = {
        let mut all: Vec<(f32, String)> = points
            .iter()
            .filter_map(|p| sparse_score(p).map(|s| (s, point_id(Some(&p.id)))))
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0));
        all.into_iter().take(4).map(|(_, id)| id).collect()
    };
    let sparse_ids: Vec<String> = sparse_only.iter().map(|h| h.id.clone()).collect();
    assert_eq!(sparse_ids, sparse_expected);

    // One call: two prefetches, each filtered, fused.
    let sent = &server.queries()[0];
    assert_eq!(sent.prefetch.len(), 2);
    assert!(
        sent.prefetch
            .iter()
            .all(|p| p.limit == Some(4) && p.filter.is_some())
    );
    assert_eq!(sent.prefetch[0].using.as_deref(), Some("dense"));
    assert_eq!(sent.prefetch[1].using.as_deref(), Some("bm25"));
    assert!(
        server.info_requests().is_empty(),
        "fused scores need no lookup"
    );

    let spans = pipeline.finish();
    let span = &spans[0];
    assert_eq!(span.string(RAGTRACE_RETRIEVAL_FUSION), "rrf");
    assert_eq!(
        span.strings(RAGTRACE_RETRIEVAL_STAGES),
        [
            "dense dense limit=4",
            "sparse bm25 limit=4",
            "fusion rrf limit=3"
        ]
    );
    assert_eq!(span.string(RAGTRACE_RETRIEVAL_SCORE_KIND), "similarity");
    assert_eq!(span.double(RAGTRACE_RETRIEVAL_TOP_SCORE), expected[0].1);
    assert_eq!(
        spans[1].strings(RAGTRACE_RETRIEVAL_STAGES),
        ["sparse bm25 limit=4"]
    );
    assert!(
        !span.has(RAGTRACE_RETRIEVAL_STAGE_CANDIDATES),
        "not counted unless asked"
    );
}

#[test]
fn counted_stages_say_how_many_candidates_each_search_produced() {
    let server = QdrantServer::start_with(hybrid(), None);
    let pipeline = Pipeline::new();
    let counting = QdrantRetriever::new(client(&server, ""), "hybrid")
        .vector_name("dense")
        .sparse_vector_name("bm25")
        .fusion(qdrant_client::qdrant::Fusion::Rrf)
        .prefetch_limit(4)
        .count_stages(true)
        .traced();
    let plain = QdrantRetriever::new(client(&server, ""), "hybrid")
        .vector_name("dense")
        .sparse_vector_name("bm25")
        .fusion(qdrant_client::qdrant::Fusion::Rrf)
        .prefetch_limit(4);
    let dense = [0.8_f32, 0.3, 0.2];
    // Only points 3 and 5 have dimension 9; 1, 3 and 4 have dimension 7.
    let (indices, values) = ([9_u32], [1.0_f32]);
    let tenant = Neutral::eq("tenant", "acme");
    let query = Query::vector(&dense)
        .sparse(&indices, &values)
        .top_k(3)
        .filter(&tenant);
    let (counted, uncounted) = pipeline.block_on(async {
        (
            counting.retrieve(&query).await.unwrap(),
            plain.retrieve(&query).await.unwrap(),
        )
    });
    assert_eq!(counted, uncounted.with_stage_candidates(vec![4, 2, 3]));
    let batches = server.batches();
    assert_eq!(batches.len(), 1, "one round trip");
    assert_eq!(batches[0].query_points.len(), 3);

    let spans = pipeline.finish();
    let span = &spans[0];
    // Five acme points have a dense vector (4 kept), two have dimension 9.
    let counts = match span.attributes.get(RAGTRACE_RETRIEVAL_STAGE_CANDIDATES) {
        Some(opentelemetry_proto::tonic::common::v1::any_value::Value::ArrayValue(a)) => a
            .values
            .iter()
            .map(|v| match v.value {
                Some(opentelemetry_proto::tonic::common::v1::any_value::Value::IntValue(i)) => i,
                ref other => panic!("{other:?}"),
            })
            .collect::<Vec<i64>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(counts, [4, 2, 3]);
    assert_eq!(
        span.strings(RAGTRACE_RETRIEVAL_STAGES),
        [
            "dense dense limit=4",
            "sparse bm25 limit=4",
            "fusion rrf limit=3"
        ]
    );
}

#[cfg(all(feature = "telemetry", feature = "store"))]
#[test]
fn the_store_keeps_a_distance_retrievals_rank_one_score_and_direction() {
    use ragtrace::store::{ScoreKind, SpanQuery, Store};
    use ragtrace::telemetry::{LogFormat, Telemetry};

    let server = QdrantServer::start_with(line(Distance::Euclid), None);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragtrace.db");
    let (dispatch, telemetry) = Telemetry::builder()
        .ignore_env()
        .store(&path)
        .log_format(LogFormat::Off)
        .dispatch()
        .unwrap();
    let scoped = support::rag::Scoped::new(dispatch);
    let retriever = QdrantRetriever::new(client(&server, ""), "line")
        .top_k(3)
        .traced();
    let hits = scoped
        .block_on(async { retriever.retrieve(&Query::vector(&[0.1, 0.05])).await })
        .unwrap();
    drop(scoped);
    telemetry.shutdown().unwrap();

    let store = Store::open_read_only(&path).unwrap();
    let spans = store.spans(&SpanQuery::new()).unwrap();
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.score_kind, Some(ScoreKind::Distance));
    assert_eq!(span.top_score, Some(hits[0].score));
    assert!(hits[0].score < hits[2].score, "nearest first");
    assert_eq!(span.collection.as_deref(), Some("line"));
}

#[test]
fn a_multivector_rescores_the_prefetched_candidates_on_the_server() {
    let collections = hybrid();
    let points = collections["hybrid"].points.clone();
    let server = QdrantServer::start_with(collections, None);
    let pipeline = Pipeline::new();
    let retriever = QdrantRetriever::new(client(&server, ""), "hybrid")
        .vector_name("dense")
        .multivector_name("colbert")
        .prefetch_limit(3)
        .count_stages(true)
        .traced();
    let dense = [0.8_f32, 0.3, 0.2];
    let tokens = vec![vec![0.6_f32, 0.0, 0.8], vec![0.8, 0.0, 0.6]];
    let query = Query::vector(&dense).multivector(&tokens).top_k(2);
    let hits = pipeline
        .block_on(async { retriever.retrieve(&query).await })
        .unwrap();

    // Exactly: the 3 nearest on `dense`, rescored by MaxSim over cosine.
    let mut nearest: Vec<(f32, &Point)> = points
        .iter()
        .map(|p| (score(Distance::Cosine, &dense, &p.vectors["dense"]), p))
        .collect();
    nearest.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut rescored: Vec<(f32, String)> = nearest[..3]
        .iter()
        .map(|(_, p)| {
            let maxsim: f32 = tokens
                .iter()
                .map(|q| {
                    p.multi["colbert"]
                        .iter()
                        .map(|d| score(Distance::Cosine, q, d))
                        .fold(f32::NEG_INFINITY, f32::max)
                })
                .sum();
            (maxsim, point_id(Some(&p.id)))
        })
        .collect();
    rescored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let expected: Vec<(String, f64)> = rescored[..2]
        .iter()
        .map(|(s, id)| (id.clone(), f64::from(*s)))
        .collect();
    let got: Vec<(String, f64)> = hits.iter().map(|h| (h.id.clone(), h.score)).collect();
    assert_eq!(got, expected);
    assert_eq!(hits.stage_candidates(), [3, 2]);
    assert_ne!(
        got[0].0,
        point_id(Some(&nearest[0].1.id)),
        "the rescoring changed the order"
    );
    let batch = &server.batches()[0];
    assert_eq!(batch.query_points[0].using.as_deref(), Some("colbert"));
    assert_eq!(batch.query_points[0].prefetch.len(), 1);

    let spans = pipeline.finish();
    assert_eq!(
        spans[0].strings(RAGTRACE_RETRIEVAL_STAGES),
        ["dense dense limit=3", "multivector colbert limit=2"]
    );
    assert_eq!(spans[0].string(RAGTRACE_RETRIEVAL_SCORE_KIND), "similarity");
}

#[test]
fn distribution_based_fusion_matches_an_exact_computation() {
    let collections = hybrid();
    let points = collections["hybrid"].points.clone();
    let server = QdrantServer::start_with(collections, None);
    let pipeline = Pipeline::new();
    let retriever = QdrantRetriever::new(client(&server, ""), "hybrid")
        .vector_name("dense")
        .sparse_vector_name("bm25")
        .fusion(qdrant_client::qdrant::Fusion::Dbsf)
        .prefetch_limit(5)
        .traced();
    let dense = [0.2_f32, 0.9, 0.3];
    let (indices, values) = ([7_u32, 3], [1.0_f32, 0.5]);
    let query = Query::vector(&dense).sparse(&indices, &values).top_k(4);
    let hits = pipeline
        .block_on(async { retriever.retrieve(&query).await })
        .unwrap();

    // Each list mapped from mean ± 3 sample sd onto [0, 1] (computed here
    // in f64, naively), summed over lists.
    let ranked = |score_of: &dyn Fn(&Point) -> Option<f64>| {
        let mut list: Vec<(f64, String)> = points
            .iter()
            .filter_map(|p| score_of(p).map(|s| (s, point_id(Some(&p.id)))))
            .collect();
        list.sort_by(|a, b| b.0.total_cmp(&a.0));
        list.truncate(5);
        let n = list.len() as f64;
        let mean = list.iter().map(|(s, _)| s).sum::<f64>() / n;
        let sd = (list.iter().map(|(s, _)| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let (low, high) = (mean - 3.0 * sd, mean + 3.0 * sd);
        list.into_iter()
            .map(|(s, id)| ((s - low) / (high - low), id))
            .collect::<Vec<_>>()
    };
    let dense_list = ranked(&|p| {
        Some(f64::from(score(
            Distance::Cosine,
            &dense,
            &p.vectors["dense"],
        )))
    });
    let sparse_list = ranked(&|p| {
        let (ix, vs) = &p.sparse["bm25"];
        let parts: Vec<f64> = indices
            .iter()
            .zip(&values)
            .filter_map(|(i, v)| {
                ix.iter()
                    .position(|x| x == i)
                    .map(|at| f64::from(*v) * f64::from(vs[at]))
            })
            .collect();
        (!parts.is_empty()).then(|| parts.iter().sum())
    });
    assert!(dense_list.len() >= 2 && sparse_list.len() >= 2);
    let mut fused: Vec<(f64, String)> = Vec::new();
    for (s, id) in dense_list.into_iter().chain(sparse_list) {
        match fused.iter_mut().find(|(_, i)| *i == id) {
            Some(entry) => entry.0 += s,
            None => fused.push((s, id)),
        }
    }
    fused.sort_by(|a, b| b.0.total_cmp(&a.0));
    fused.truncate(4);
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    let expected_ids: Vec<&str> = fused.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, expected_ids);
    for (hit, (expected, _)) in hits.iter().zip(&fused) {
        assert!(
            (hit.score - expected).abs() < 1e-5,
            "{} vs {expected}",
            hit.score
        );
    }
    let spans = pipeline.finish();
    assert_eq!(spans[0].string(RAGTRACE_RETRIEVAL_FUSION), "dbsf");
}

#[test]
fn a_native_qdrant_filter_passes_through_with_the_neutral_one() {
    let (collections, _) = tenants();
    let server = QdrantServer::start_with(collections, None);
    let pipeline = Pipeline::new();
    let retriever = QdrantRetriever::new(client(&server, ""), "tenants")
        .top_k(10)
        .traced();
    let tenant = Neutral::eq("tenant", "acme");
    // Native: a keyword any-of written the qdrant-client way.
    let native = Filter::must_not([Condition::matches("groups", vec!["admins".to_string()])]);
    let vector = [1.0_f32, 0.5];
    let hits = pipeline
        .block_on(async {
            retriever
                .retrieve(&Query::vector(&vector).filter(&tenant).native(&native))
                .await
        })
        .unwrap();
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["1", "5"], "acme, and not in admins");
    let not_a_filter = "tenant = acme";
    let refused = pipeline
        .block_on(async {
            retriever
                .retrieve(&Query::vector(&vector).native(&not_a_filter))
                .await
        })
        .unwrap_err();
    assert!(matches!(refused, QdrantError::ConversionError(_)));
    assert_eq!(server.queries().len(), 1, "the refused query was not sent");
    let spans = pipeline.finish();
    assert_eq!(
        spans[0].string(RAGTRACE_RETRIEVAL_FILTER),
        "must(filter(must(keyword(tenant))), filter(must_not(keywords(groups, 1))))"
    );
    assert_eq!(spans[1].string(ERROR_TYPE), "invalid_query");
}
