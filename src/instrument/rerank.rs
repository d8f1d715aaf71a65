//! `Traced<T>` as a [`Reranker`]: one `rerank {model}` span per call, with
//! the scores before and after and which documents moved.

use std::collections::HashMap;
use std::future::Future;

use futures_util::future::Either;

use super::attrs::Attrs;
use super::retrieve::record_hits;
use super::traced::{InSpan, SpanName, StepScope, Traced, nobody_listens};
use super::{keys, shared};
use crate::steps::{Hit, Hits, Reranker, StepKind};

impl<T: Reranker> Reranker for Traced<T> {
    type Error = T::Error;

    fn rerank(
        &self,
        query: &str,
        hits: &[Hit],
    ) -> impl Future<Output = Result<Hits, T::Error>> + Send {
        let call = self.inner.rerank(query, hits);
        if nobody_listens() {
            return Either::Left(call);
        }
        let info = self.inner.describe();
        // An API reranker is a client call; a local cross-encoder is not.
        let kind = if info.server_address.is_some() {
            "client"
        } else {
            "internal"
        };
        let span = tracing::info_span!(
            target: "ragtrace",
            "rerank",
            { keys::OTEL_NAME } = %SpanName("rerank", info.model),
            { keys::OTEL_KIND } = kind,
            { keys::GEN_AI_OPERATION_NAME } = "rerank",
            { keys::GEN_AI_REQUEST_MODEL } = info.model,
        );
        let Some(scope) = StepScope::start(StepKind::Rerank, span, self.options()) else {
            return Either::Left(call);
        };
        Either::Right(Box::pin(async move {
            let result = InSpan::new(&scope.span, call).await;
            let options = self.options();
            let common = |a: &mut Attrs| {
                shared::describe(a, &info);
                a.str(
                    keys::OPENINFERENCE_SPAN_KIND,
                    keys::openinference_kind::RERANKER,
                );
                a.opt_str(keys::RERANKER_MODEL_NAME, info.model);
                a.int(keys::RAGTRACE_RERANK_CANDIDATES, hits.len() as u64);
                if options.capture.is_on() {
                    let text = options.capture.apply(query);
                    a.str(keys::RERANKER_QUERY, text.clone());
                    a.str(keys::INPUT_VALUE, text);
                }
            };
            match &result {
                Ok(out) => scope.succeed(None, None, |a| {
                    common(a);
                    a.int(keys::RERANKER_TOP_K, out.len() as u64);
                    record_hits(a, out, options);
                    record_moves(a, hits, out);
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
}

/// Where each kept hit was before: its rank and score, how many moved,
/// and whether the top changed.
fn record_moves(a: &mut Attrs, before: &[Hit], after: &[Hit]) {
    let Moves {
        ranks,
        scores,
        moved,
        top_changed,
    } = Moves::of(before, after);
    a.ints(keys::RAGTRACE_RERANK_RANKS_BEFORE, ranks);
    a.floats(keys::RAGTRACE_RERANK_SCORES_BEFORE, scores);
    a.int(keys::RAGTRACE_RERANK_MOVED, moved);
    a.bool(keys::RAGTRACE_RERANK_TOP_CHANGED, top_changed);
}

#[derive(Debug, PartialEq)]
struct Moves {
    ranks: Vec<i64>,
    scores: Vec<f64>,
    moved: u64,
    top_changed: bool,
}

impl Moves {
    fn of(before: &[Hit], after: &[Hit]) -> Moves {
        // The first occurrence of an id is its rank.
        let mut at: HashMap<&str, usize> = HashMap::with_capacity(before.len());
        for (i, hit) in before.iter().enumerate() {
            at.entry(hit.id.as_str()).or_insert(i);
        }
        let mut moves = Moves {
            ranks: Vec::with_capacity(after.len()),
            scores: Vec::with_capacity(after.len()),
            moved: 0,
            top_changed: match (before.first(), after.first()) {
                (Some(b), Some(a)) => a.id != b.id,
                (None, None) => false,
                _ => true,
            },
        };
        for (new_rank, hit) in after.iter().enumerate() {
            match at.get(hit.id.as_str()) {
                Some(&old_rank) => {
                    moves
                        .ranks
                        .push(i64::try_from(old_rank).unwrap_or(i64::MAX));
                    moves.scores.push(before[old_rank].score);
                    if old_rank != new_rank {
                        moves.moved += 1;
                    }
                }
                None => {
                    moves.ranks.push(-1);
                    moves.scores.push(f64::NAN);
                    moves.moved += 1;
                }
            }
        }
        moves
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_name_each_kept_hits_old_rank_and_score() {
        let before = [Hit::new("a", 0.9), Hit::new("b", 0.8), Hit::new("c", 0.7)];
        let after = [Hit::new("c", 0.95), Hit::new("b", 0.6), Hit::new("z", 0.1)];
        let moves = Moves::of(&before, &after);
        assert_eq!(moves.ranks, [2, 1, -1]);
        assert_eq!(moves.scores[..2], [0.7, 0.8]);
        assert!(moves.scores[2].is_nan());
        assert_eq!(moves.moved, 2, "c moved up, z is new; b stayed");
        assert!(moves.top_changed);
        let same = Moves::of(&before, &before[..2]);
        assert_eq!((same.moved, same.top_changed), (0, false));
    }
}
