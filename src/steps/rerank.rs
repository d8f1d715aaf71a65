//! The reranking step: [`Reranker`] reorders retrieved hits for a query.

use std::borrow::Cow;
use std::future::Future;

use super::{Hit, Hits, StepInfo, default_error_type};

/// Reorders retrieved hits by relevance to the query text (a cross-encoder,
/// or an API reranker such as Cohere's, Voyage's or Jina's), an optional
/// step between retrieval and prompt building.
///
/// It returns the hits it keeps, best first, with its own scores (say their
/// direction with [`Hits::with_score_kind`]; higher is better unless told).
/// Each returned hit keeps the id it came in with, so the traced wrapper can
/// record where every document was before and after: wrap an
/// implementation in [`Traced`](crate::instrument::Traced) for a
/// `rerank {model}` span with the scores before and after, each kept
/// document's rank before, and how many moved.
///
/// ```
/// use ragtrace::steps::{Hit, Hits, Reranker};
///
/// /// Prefers shorter chunks (a stand-in for a cross-encoder).
/// struct Shortest;
/// impl Reranker for Shortest {
///     type Error = std::convert::Infallible;
///     async fn rerank(&self, _query: &str, hits: &[Hit]) -> Result<Hits, Self::Error> {
///         let mut out: Vec<Hit> = hits
///             .iter()
///             .map(|h| {
///                 let len = h.content.as_deref().map_or(0, str::len);
///                 let mut h = h.clone();
///                 h.score = 1.0 / (1.0 + len as f64);
///                 h
///             })
///             .collect();
///         out.sort_by(|a, b| b.score.total_cmp(&a.score));
///         Ok(Hits::new(out))
///     }
/// }
/// ```
pub trait Reranker: Send + Sync {
    /// The error a failed call returns.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Reorders `hits` for `query`, best first, with new scores.
    fn rerank(
        &self,
        query: &str,
        hits: &[Hit],
    ) -> impl Future<Output = Result<Hits, Self::Error>> + Send;

    /// Provider, model and server of this reranker.
    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
    }

    /// A low-cardinality class of a failure, recorded as `error.type`.
    fn error_type(error: &Self::Error) -> Cow<'static, str> {
        let _ = error;
        default_error_type::<Self::Error>()
    }

    /// The text a failed call's span status carries (see
    /// [`Retriever::error_message`](super::Retriever::error_message)).
    fn error_message(error: &Self::Error) -> String {
        error.to_string()
    }
}
