//! `Traced<T>` as a [`Retriever`]: one `retrieval {data source}` span per call,
//! with the ranked scores on it.

use std::future::Future;

use futures_util::future::Either;

use super::attrs::Attrs;
use super::options::Options;
use super::traced::{InSpan, SpanName, StepScope, Traced, nobody_listens};
use super::{keys, shared};
use crate::steps::{Hit, Hits, Query, QueryInfo, Retriever, ScoreKind, StepKind};

impl<T: Retriever> Retriever for Traced<T> {
    type Error = T::Error;

    fn retrieve(&self, query: &Query<'_>) -> impl Future<Output = Result<Hits, T::Error>> + Send {
        let call = self.inner.retrieve(query);
        if nobody_listens() {
            return Either::Left(call);
        }
        let info = self.inner.describe();
        let span = tracing::info_span!(
            target: "ragtrace",
            "retrieval",
            { keys::OTEL_NAME } = %SpanName("retrieval", info.data_source),
            { keys::OTEL_KIND } = "client",
            { keys::GEN_AI_OPERATION_NAME } = "retrieval",
            { keys::GEN_AI_DATA_SOURCE_ID } = info.data_source,
        );
        let Some(scope) = StepScope::start(StepKind::Retrieval, span, self.options()) else {
            return Either::Left(call);
        };
        // Boxed so that an unobserved call's future stays as small as the inner one.
        Either::Right(Box::pin(async move {
            let result = InSpan::new(&scope.span, call).await;
            let options = self.options();
            let top_k = query.top_k.or(info.top_k);
            let query_text = query.text;
            let described = scope.recording().then(|| self.inner.describe_query(query));
            let common = |a: &mut Attrs| {
                shared::describe(a, &info);
                a.str(
                    keys::OPENINFERENCE_SPAN_KIND,
                    keys::openinference_kind::RETRIEVER,
                );
                a.str(keys::LANGFUSE_OBSERVATION_TYPE, "retriever");
                a.opt_str(keys::DB_SYSTEM_NAME, info.db_system);
                a.opt_str(keys::DB_OPERATION_NAME, info.db_operation);
                a.opt_str(keys::DB_COLLECTION_NAME, info.data_source);
                if let Some(k) = top_k {
                    a.int(keys::GEN_AI_RETRIEVAL_TOP_K, k as u64);
                    a.float(keys::GEN_AI_REQUEST_TOP_K, k as f64);
                }
                if let (true, Some(text)) = (options.capture.is_on(), query_text) {
                    let text = options.capture.apply(text);
                    a.str(keys::GEN_AI_RETRIEVAL_QUERY_TEXT, text.clone());
                    a.str(keys::INPUT_VALUE, text);
                }
                if let Some(described) = &described {
                    record_query(a, query, described, options);
                }
            };
            match &result {
                Ok(hits) => scope.succeed(None, None, |a| {
                    common(a);
                    record_hits(a, hits, options);
                }),
                Err(error) => scope.fail(
                    T::error_type(error),
                    std::any::type_name::<T::Error>(),
                    &T::error_message(error),
                    None,
                    None,
                    common,
                ),
            }
            result
        }))
    }

    fn describe(&self) -> crate::steps::StepInfo<'_> {
        self.inner.describe()
    }

    fn error_type(error: &T::Error) -> std::borrow::Cow<'static, str> {
        T::error_type(error)
    }

    fn error_message(error: &T::Error) -> String {
        T::error_message(error)
    }

    fn describe_query(&self, query: &Query<'_>) -> QueryInfo {
        self.inner.describe_query(query)
    }
}

/// What the span says about the request beyond top-k: the threshold, the
/// filter (its shape; its values only with content capture on), the vector
/// name, search parameters, offset and fusion. The retriever's description
/// (what it actually sent) wins over the neutral query's own fields.
fn record_query(a: &mut Attrs, query: &Query<'_>, info: &QueryInfo, options: &Options) {
    let threshold = info
        .score_threshold
        .or(query.score_threshold.map(f64::from));
    if let Some(threshold) = threshold {
        a.float(keys::RAGTRACE_RETRIEVAL_SCORE_THRESHOLD, threshold);
    }
    let capture = options.capture.is_on();
    let filter = match (capture, &info.filter_values, &info.filter_shape) {
        (true, Some(values), _) => Some(options.capture.apply(values)),
        (_, _, Some(shape)) => Some(shape.clone()),
        // A filter the retriever did not describe is written only once it
        // is known to be of bounded depth and size.
        _ => query.filter.filter(|f| f.validate().is_ok()).map(|f| {
            if capture {
                options.capture.apply(&f.with_values())
            } else {
                f.shape()
            }
        }),
    };
    if let Some(filter) = filter {
        a.str(keys::RAGTRACE_RETRIEVAL_FILTER, filter);
    }
    a.opt_str(
        keys::RAGTRACE_RETRIEVAL_VECTOR_NAME,
        info.vector_name.as_deref(),
    );
    a.opt_str(
        keys::RAGTRACE_RETRIEVAL_SEARCH_PARAMS,
        info.search_params.as_deref(),
    );
    if let Some(offset) = info.offset {
        a.int(keys::RAGTRACE_RETRIEVAL_OFFSET, offset);
    }
    a.opt_str(keys::RAGTRACE_RETRIEVAL_FUSION, info.fusion.as_deref());
    if !info.stages.is_empty() {
        a.strings(
            keys::RAGTRACE_RETRIEVAL_STAGES,
            info.stages.iter().map(|s| s.clone().into()).collect(),
        );
    }
}

/// Scores (the full ranked list, their direction, and statistics over the
/// finite ones), and per-document attributes for the first ranks.
pub(super) fn record_hits(a: &mut Attrs, hits: &Hits, options: &Options) {
    a.int(keys::RAGTRACE_RETRIEVAL_RETURNED, hits.len() as u64);
    a.floats(
        keys::RAGTRACE_RETRIEVAL_SCORES,
        hits.iter().map(|h| h.score).collect(),
    );
    if let Some(kind) = hits.score_kind() {
        a.str(keys::RAGTRACE_RETRIEVAL_SCORE_KIND, kind.as_str());
    }
    if !hits.stage_candidates().is_empty() {
        a.ints(
            keys::RAGTRACE_RETRIEVAL_STAGE_CANDIDATES,
            hits.stage_candidates()
                .iter()
                .map(|n| i64::try_from(*n).unwrap_or(i64::MAX))
                .collect(),
        );
    }
    let kind = hits.score_kind().unwrap_or(ScoreKind::Similarity);
    let stats = ScoreStats::of(hits, kind);
    if let Some((top, mean, min)) = stats.summary() {
        a.float(keys::RAGTRACE_RETRIEVAL_TOP_SCORE, top);
        a.float(keys::RAGTRACE_RETRIEVAL_MEAN_SCORE, mean);
        a.float(keys::RAGTRACE_RETRIEVAL_MIN_SCORE, min);
    }
    if stats.invalid > 0 {
        a.int(keys::RAGTRACE_RETRIEVAL_INVALID_SCORES, stats.invalid);
    }
    let capture = options.capture.is_on();
    for (i, hit) in hits.iter().enumerate() {
        let Some(doc) = keys::retrieval_document_keys(i) else {
            break;
        };
        a.str(doc.id, bounded_id(&hit.id));
        a.float(doc.score, hit.score);
        if let (true, Some(content)) = (capture, &hit.content) {
            a.str(doc.content, options.capture.apply(content));
        }
    }
    if options.record_documents {
        let documents: Vec<serde_json::Value> = hits
            .iter()
            .map(|h| serde_json::json!({ "id": h.id, "score": h.score }))
            .collect();
        a.str(
            keys::GEN_AI_RETRIEVAL_DOCUMENTS,
            serde_json::Value::Array(documents).to_string(),
        );
    }
}

/// Longest document id recorded as is; ids come from the store's answer,
/// and a span must not grow with whatever a server sends back.
const MAX_ID_BYTES: usize = 256;

/// `id`, cut at a character boundary within [`MAX_ID_BYTES`].
fn bounded_id(id: &str) -> String {
    if id.len() <= MAX_ID_BYTES {
        return id.to_owned();
    }
    let mut end = MAX_ID_BYTES;
    while !id.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &id[..end])
}

/// Over the finite scores: the top (the best-ranked hit's, whatever its
/// value), the mean and the worst in the scores' direction; the rest are
/// counted as invalid.
struct ScoreStats {
    top: f64,
    min: f64,
    sum: f64,
    finite: u64,
    invalid: u64,
}

impl ScoreStats {
    fn of(hits: &[Hit], kind: ScoreKind) -> ScoreStats {
        let mut stats = ScoreStats {
            top: f64::NAN,
            min: f64::NAN,
            sum: 0.0,
            finite: 0,
            invalid: 0,
        };
        for hit in hits {
            if hit.score.is_finite() {
                if stats.finite == 0 {
                    stats.top = hit.score;
                    stats.min = hit.score;
                } else if kind.better(stats.min, hit.score) {
                    stats.min = hit.score;
                }
                stats.sum += hit.score;
                stats.finite += 1;
            } else {
                stats.invalid += 1;
            }
        }
        stats
    }

    fn summary(&self) -> Option<(f64, f64, f64)> {
        (self.finite > 0).then(|| (self.top, self.sum / self.finite as f64, self.min))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_skip_non_finite_scores() {
        let hits = [
            Hit::new("a", 0.9),
            Hit::new("b", f64::NAN),
            Hit::new("c", 0.5),
            Hit::new("d", f64::INFINITY),
        ];
        let stats = ScoreStats::of(&hits, ScoreKind::Similarity);
        assert_eq!(stats.summary(), Some((0.9, 0.7, 0.5)));
        assert_eq!(stats.invalid, 2);
        assert_eq!(ScoreStats::of(&[], ScoreKind::Similarity).summary(), None);
    }

    #[test]
    fn long_ids_are_cut_at_a_character_boundary() {
        assert_eq!(bounded_id("doc-1"), "doc-1");
        let long = "é".repeat(1_000);
        let cut = bounded_id(&long);
        assert!(cut.len() <= MAX_ID_BYTES + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn top_is_rank_one_and_worst_follows_the_direction() {
        // Distances, best (smallest) first.
        let hits = [
            Hit::new("a", f64::NAN),
            Hit::new("b", 0.25),
            Hit::new("c", 0.5),
            Hit::new("d", 0.75),
        ];
        let stats = ScoreStats::of(&hits, ScoreKind::Distance);
        assert_eq!(stats.summary(), Some((0.25, 0.5, 0.75)));
        // A ranking the scores do not follow (e.g. a reranker's order):
        // the top is still rank 1's.
        let hits = [Hit::new("x", 0.5), Hit::new("y", 0.9), Hit::new("z", 0.1)];
        let stats = ScoreStats::of(&hits, ScoreKind::Similarity);
        assert_eq!(stats.summary(), Some((0.5, 0.5, 0.1)));
    }
}
