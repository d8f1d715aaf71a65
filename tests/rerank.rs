//! The reranking step end to end over real OTLP: a traced `MemoryRetriever`
//! then a traced reranker inside a request root; the rerank span says which
//! documents moved, with the scores before and after.

mod support;

use std::collections::HashMap;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use ragtrace::instrument::TracedExt;
use ragtrace::instrument::keys::*;
use ragtrace::integrations::memory::{Document, MemoryRetriever};
use ragtrace::steps::{Hit, Hits, Query, Reranker, Retriever, ScoreKind, StepInfo, StepKind};
use support::otlp::ExportedSpan;
use support::pipeline::Pipeline;

/// Scores each hit by how many query words its text contains (a stand-in
/// for a cross-encoder), keeps the best `keep`.
struct WordOverlap {
    keep: usize,
    fail: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("reranker overloaded")]
struct Overloaded;

impl Reranker for WordOverlap {
    type Error = Overloaded;

    async fn rerank(&self, query: &str, hits: &[Hit]) -> Result<Hits, Overloaded> {
        if self.fail {
            return Err(Overloaded);
        }
        let words: Vec<&str> = query.split_whitespace().collect();
        let mut out: Vec<Hit> = hits
            .iter()
            .map(|h| {
                let text = h.content.as_deref().unwrap_or_default();
                let mut h = h.clone();
                h.score = words.iter().filter(|w| text.contains(**w)).count() as f64 / 10.0;
                h
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out.truncate(self.keep);
        Ok(Hits::new(out).with_score_kind(ScoreKind::Similarity))
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new().model("word-overlap-v1")
    }
}

fn index() -> MemoryRetriever {
    MemoryRetriever::new("handbook")
        .with_documents([
            Document::new("a", vec![1.0, 0.0]).with_content("spans start"),
            Document::new("b", vec![0.9, 0.3]).with_content("a trace is a tree of spans"),
            Document::new("c", vec![0.7, 0.7]).with_content("exporters send a trace of spans"),
            Document::new("d", vec![0.0, 1.0]).with_content("unrelated"),
        ])
        .unwrap()
}

fn by_name<'a>(spans: &'a [ExportedSpan], name: &str) -> &'a ExportedSpan {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn the_rerank_span_says_which_documents_moved_with_scores_before_and_after() {
    let pipeline = Pipeline::new();
    let retriever = index().traced();
    let reranker = WordOverlap {
        keep: 3,
        fail: false,
    }
    .traced();
    let question = "trace of spans";
    let (before, after, summary) = pipeline.block_on(async {
        let request = ragtrace::request("answer");
        let (before, after) = request
            .run(async {
                let before = retriever
                    .retrieve(&Query::vector(&[1.0, 0.0]).top_k(4))
                    .await
                    .unwrap();
                let after = reranker.rerank(question, &before).await.unwrap();
                (before, after)
            })
            .await;
        (before, after, request.summary())
    });
    let ids = |hits: &Hits| hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&before), ["a", "b", "c", "d"]);
    assert_eq!(
        ids(&after),
        ["b", "c", "a"],
        "the wrapper returns what the reranker did"
    );
    assert_eq!(summary.step(StepKind::Rerank).count, 1);

    let spans = pipeline.finish();
    let span = by_name(&spans, "rerank word-overlap-v1");
    assert_eq!(span.kind, SpanKind::Internal, "a local reranker");
    assert_eq!(span.string(RAGTRACE_STEP), "rerank");
    assert_eq!(span.string(GEN_AI_OPERATION_NAME), "rerank");
    assert_eq!(span.string(OPENINFERENCE_SPAN_KIND), "RERANKER");
    assert_eq!(span.string(RERANKER_MODEL_NAME), "word-overlap-v1");
    assert_eq!(span.int(RAGTRACE_RERANK_CANDIDATES), 4);
    assert_eq!(span.int(RERANKER_TOP_K), 3);
    let after_scores: Vec<f64> = after.iter().map(|h| h.score).collect();
    assert_eq!(span.doubles(RAGTRACE_RETRIEVAL_SCORES), after_scores);
    assert_eq!(span.double(RAGTRACE_RETRIEVAL_TOP_SCORE), after_scores[0]);
    assert_eq!(span.string(RAGTRACE_RETRIEVAL_SCORE_KIND), "similarity");
    let before_scores: Vec<f64> = ["b", "c", "a"]
        .iter()
        .map(|id| before.iter().find(|h| h.id == *id).unwrap().score)
        .collect();
    assert_eq!(span.doubles(RAGTRACE_RERANK_SCORES_BEFORE), before_scores);
    let ranks = match span.attributes.get(RAGTRACE_RERANK_RANKS_BEFORE) {
        Some(Value::ArrayValue(array)) => array
            .values
            .iter()
            .map(|v| match v.value {
                Some(Value::IntValue(i)) => i,
                ref other => panic!("{other:?}"),
            })
            .collect::<Vec<i64>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(ranks, [1, 2, 0]);
    assert_eq!(span.int(RAGTRACE_RERANK_MOVED), 3);
    assert!(span.boolean(RAGTRACE_RERANK_TOP_CHANGED));
    assert!(!span.has(RERANKER_QUERY), "content capture is off");
    let root = by_name(&spans, "answer");
    assert!(root.double(RAGTRACE_REQUEST_RERANK_SECONDS) >= 0.0);
    assert_eq!(root.int(RAGTRACE_REQUEST_STEPS), 2);
    assert_eq!(span.parent_span_id, root.span_id);
}

#[test]
fn a_failed_rerank_is_an_error_span_with_an_exception_event() {
    let pipeline = Pipeline::new();
    let reranker = WordOverlap {
        keep: 3,
        fail: true,
    }
    .traced();
    let hits = [Hit::new("a", 0.5)];
    let error = pipeline
        .block_on(async { reranker.rerank("q", &hits).await })
        .unwrap_err();
    assert_eq!(error.to_string(), "reranker overloaded");
    let spans = pipeline.finish();
    let span = by_name(&spans, "rerank word-overlap-v1");
    assert_eq!(span.status, StatusCode::Error);
    assert_eq!(span.status_message, "reranker overloaded");
    assert_eq!(span.string(ERROR_TYPE), "Overloaded");
    let events: HashMap<&str, usize> = span
        .events
        .iter()
        .map(|(name, attrs)| (name.as_str(), attrs.len()))
        .collect();
    assert_eq!(events.get(EXCEPTION_EVENT), Some(&2));
    assert!(!span.has(RAGTRACE_RETRIEVAL_SCORES));
}
