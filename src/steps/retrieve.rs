//! The vector-search step: [`Retriever`], its input [`Query`] and its output [`Hits`].

use std::any::Any;
use std::borrow::Cow;
use std::future::Future;

use serde::{Deserialize, Serialize};

use super::filter::{Filter, FilterError};
use super::{StepInfo, default_error_type};

/// Finds the stored chunks nearest to a query (the second step of a RAG request).
///
/// Hits come back ranked, best first. Their scores are the store's own:
/// a similarity (higher is better: cosine, dot product, a relevance or
/// fusion score) unless the hits say they are distances
/// ([`Hits::with_score_kind`] with [`ScoreKind::Distance`]: Euclidean or
/// Manhattan distance, lower is better). Wrap an implementation in
/// [`Traced`](crate::instrument::Traced) to get one `retrieval {data source}`
/// span per call with the ranked scores and their direction on it.
pub trait Retriever: Send + Sync {
    /// The error a failed call returns.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Searches for the chunks nearest to `query`, best first.
    fn retrieve(&self, query: &Query<'_>)
    -> impl Future<Output = Result<Hits, Self::Error>> + Send;

    /// Data source, database system and server this retriever searches.
    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
    }

    /// A low-cardinality class of a failure, recorded as `error.type`.
    ///
    /// The default is the error's type name; an implementation can do better
    /// (an HTTP status, `timeout`, `rate_limited`).
    fn error_type(error: &Self::Error) -> Cow<'static, str> {
        let _ = error;
        default_error_type::<Self::Error>()
    }

    /// The text a failed call's span status carries (and its `exception`
    /// event's `exception.message`): the error's `Display` unless an
    /// implementation can say it more plainly (the server's own message,
    /// without transport metadata).
    fn error_message(error: &Self::Error) -> String {
        error.to_string()
    }

    /// What this retriever sends for `query` beyond the query itself
    /// (its defaults, a vector name, search parameters, a native filter),
    /// recorded on the span. Called only when the span records.
    fn describe_query(&self, query: &Query<'_>) -> QueryInfo {
        let _ = query;
        QueryInfo::default()
    }
}

/// Which way a retriever's scores point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ScoreKind {
    /// Higher is better (cosine, dot product, relevance, fusion scores).
    Similarity,
    /// Lower is better (Euclidean, Manhattan distance).
    Distance,
}

impl ScoreKind {
    /// `similarity` or `distance` (the value of `ragtrace.retrieval.score_kind`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ScoreKind::Similarity => "similarity",
            ScoreKind::Distance => "distance",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    pub fn parse(text: &str) -> Option<ScoreKind> {
        match text {
            "similarity" => Some(ScoreKind::Similarity),
            "distance" => Some(ScoreKind::Distance),
            _ => None,
        }
    }

    /// `true` if `a` is a better score than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            ScoreKind::Similarity => a > b,
            ScoreKind::Distance => a < b,
        }
    }

    /// Orders scores best first (for sorting hits).
    pub fn best_first(self, a: f64, b: f64) -> std::cmp::Ordering {
        match self {
            ScoreKind::Similarity => b.total_cmp(&a),
            ScoreKind::Distance => a.total_cmp(&b),
        }
    }
}

/// What a retriever says about the request it sends for a query, beyond the
/// [`Query`] itself; every field is optional. The traced wrapper records it
/// (see [`Retriever::describe_query`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct QueryInfo {
    /// The score threshold actually sent (the query's, or the retriever's default).
    pub score_threshold: Option<f64>,
    /// The shape of the filter actually sent (fields and condition kinds, no values).
    pub filter_shape: Option<String>,
    /// The filter with its values (recorded only when content capture is on).
    pub filter_values: Option<String>,
    /// The named vector searched.
    pub vector_name: Option<String>,
    /// Search parameters, e.g. `hnsw_ef=128,exact=false`.
    pub search_params: Option<String>,
    /// Hits skipped before the first returned.
    pub offset: Option<u64>,
    /// How candidates of several searches were fused (`rrf`, `dbsf`).
    pub fusion: Option<String>,
    /// The searches that ran, in order, each as `kind using limit=N`
    /// (e.g. `dense text-dense limit=20`, `sparse bm25 limit=20`,
    /// `fusion rrf limit=5`).
    pub stages: Vec<String>,
}

impl QueryInfo {
    /// Empty: the retriever adds nothing beyond the query.
    pub fn new() -> Self {
        QueryInfo::default()
    }

    /// Sets the score threshold actually sent.
    pub fn score_threshold(mut self, threshold: f64) -> Self {
        self.score_threshold = Some(threshold);
        self
    }

    /// Sets the filter's shape, and its values for content capture.
    pub fn filter(mut self, shape: impl Into<String>, values: impl Into<String>) -> Self {
        self.filter_shape = Some(shape.into());
        self.filter_values = Some(values.into());
        self
    }

    /// Sets the named vector searched.
    pub fn vector_name(mut self, name: impl Into<String>) -> Self {
        self.vector_name = Some(name.into());
        self
    }

    /// Sets the search parameters sent.
    pub fn search_params(mut self, params: impl Into<String>) -> Self {
        self.search_params = Some(params.into());
        self
    }

    /// Sets the offset sent.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Sets how candidates were fused.
    pub fn fusion(mut self, fusion: impl Into<String>) -> Self {
        self.fusion = Some(fusion.into());
        self
    }

    /// Adds a search stage (`kind using limit=N`).
    pub fn stage(mut self, stage: impl Into<String>) -> Self {
        self.stages.push(stage.into());
        self
    }
}

/// Why a query was refused before anything was sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// `top_k(0)`: no hit could come back.
    #[error("top_k is 0: the query could return no hits")]
    ZeroTopK,
    /// The query vector is empty.
    #[error("the query vector is empty")]
    EmptyVector,
    /// The query vector holds NaN or an infinity.
    #[error("the query vector has a non-finite value ({value}) at position {position}")]
    NonFiniteVector {
        /// Where the first non-finite value is.
        position: usize,
        /// The value (NaN, inf or -inf).
        value: f32,
    },
    /// A sparse vector's indices and values differ in number.
    #[error("the sparse vector has {indices} indices but {values} values")]
    SparseLengths {
        /// How many indices.
        indices: usize,
        /// How many values.
        values: usize,
    },
    /// A sparse vector has no entries.
    #[error("the sparse vector is empty")]
    EmptySparse,
    /// The score threshold is NaN or an infinity.
    #[error("the score threshold is not a finite number ({0})")]
    NonFiniteThreshold(f32),
    /// The filter cannot be sent as it reads.
    #[error("invalid filter: {0}")]
    Filter(#[from] FilterError),
}

/// What to search for: a vector, the text it came from, or both; how many
/// hits, above which score, among which documents.
///
/// ```
/// use ragtrace::steps::{Filter, Query};
///
/// let vector = [0.1_f32, 0.7, 0.2];
/// let tenant = Filter::eq("tenant", "acme");
/// let query = Query::vector(&vector)
///     .text("what is a span?")
///     .top_k(5)
///     .filter(&tenant);
/// assert_eq!(query.top_k, Some(5));
/// assert!(query.validate().is_ok());
/// ```
#[derive(Clone, Copy, Default)]
#[non_exhaustive]
pub struct Query<'a> {
    /// The query vector (dense retrieval).
    pub vector: Option<&'a [f32]>,
    /// A sparse query vector (BM25, SPLADE): keyword or hybrid retrieval.
    pub sparse: Option<SparseVector<'a>>,
    /// Token-level query vectors for late interaction (ColBERT-style
    /// multivector search, often used to rerank other searches' candidates).
    pub multivector: Option<&'a [Vec<f32>]>,
    /// The query text (keyword or hybrid retrieval, and content capture).
    pub text: Option<&'a str>,
    /// How many hits to return; `None` leaves it to the retriever.
    pub top_k: Option<usize>,
    /// Drop hits scoring worse than this: below it for similarities, above
    /// it for distances.
    pub score_threshold: Option<f32>,
    /// Only documents passing this filter are searched (in addition to any
    /// filter the retriever itself applies).
    pub filter: Option<&'a Filter>,
    /// A store-specific part of the request (e.g. a native Qdrant `Filter`
    /// for `QdrantRetriever`). A retriever that does not understand the
    /// type given refuses the query rather than ignore it.
    pub native: Option<&'a (dyn Any + Send + Sync)>,
}

impl std::fmt::Debug for Query<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("vector", &self.vector)
            .field("sparse", &self.sparse)
            .field("multivector", &self.multivector.map(<[Vec<f32>]>::len))
            .field("text", &self.text)
            .field("top_k", &self.top_k)
            .field("score_threshold", &self.score_threshold)
            .field("filter", &self.filter)
            .field("native", &self.native.map(|_| ".."))
            .finish()
    }
}

impl PartialEq for Query<'_> {
    /// Field by field; native parts compare by address.
    fn eq(&self, other: &Self) -> bool {
        self.vector == other.vector
            && self.sparse == other.sparse
            && self.multivector == other.multivector
            && self.text == other.text
            && self.top_k == other.top_k
            && self.score_threshold == other.score_threshold
            && self.filter == other.filter
            && match (self.native, other.native) {
                (None, None) => true,
                (Some(a), Some(b)) => std::ptr::addr_eq(a, b),
                _ => false,
            }
    }
}

impl<'a> Query<'a> {
    /// A query by vector.
    pub const fn vector(vector: &'a [f32]) -> Self {
        Query {
            vector: Some(vector),
            sparse: None,
            multivector: None,
            text: None,
            top_k: None,
            score_threshold: None,
            filter: None,
            native: None,
        }
    }

    /// A query by text only.
    pub const fn from_text(text: &'a str) -> Self {
        Query {
            vector: None,
            sparse: None,
            multivector: None,
            text: Some(text),
            top_k: None,
            score_threshold: None,
            filter: None,
            native: None,
        }
    }

    /// Adds a sparse vector (dimension indices and their weights), for
    /// sparse or hybrid retrieval.
    pub const fn sparse(mut self, indices: &'a [u32], values: &'a [f32]) -> Self {
        self.sparse = Some(SparseVector { indices, values });
        self
    }

    /// Adds token-level vectors for late-interaction (multivector) search.
    pub const fn multivector(mut self, vectors: &'a [Vec<f32>]) -> Self {
        self.multivector = Some(vectors);
        self
    }

    /// Only searches documents passing `filter` (a tenant, an ACL, a date range).
    pub const fn filter(mut self, filter: &'a Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Adds a store-specific part of the request (see [`Query::native`]).
    pub const fn native(mut self, native: &'a (dyn Any + Send + Sync)) -> Self {
        self.native = Some(native);
        self
    }

    /// The native part as a `T`, if it is one.
    pub fn native_as<T: Any>(&self) -> Option<&'a T> {
        self.native
            .and_then(|n| (n as &dyn Any).downcast_ref::<T>())
    }

    /// Checks what can be checked before anything is sent: `top_k` is not 0,
    /// the vector (if any) is non-empty and finite, the threshold is finite,
    /// the filter is well formed.
    pub fn validate(&self) -> Result<(), QueryError> {
        if self.top_k == Some(0) {
            return Err(QueryError::ZeroTopK);
        }
        if let Some(vector) = self.vector {
            if vector.is_empty() {
                return Err(QueryError::EmptyVector);
            }
            if let Some(position) = vector.iter().position(|x| !x.is_finite()) {
                return Err(QueryError::NonFiniteVector {
                    position,
                    value: vector[position],
                });
            }
        }
        if let Some(sparse) = self.sparse {
            if sparse.indices.len() != sparse.values.len() {
                return Err(QueryError::SparseLengths {
                    indices: sparse.indices.len(),
                    values: sparse.values.len(),
                });
            }
            if sparse.values.is_empty() {
                return Err(QueryError::EmptySparse);
            }
            if let Some(position) = sparse.values.iter().position(|x| !x.is_finite()) {
                return Err(QueryError::NonFiniteVector {
                    position,
                    value: sparse.values[position],
                });
            }
        }
        if let Some(vectors) = self.multivector {
            if vectors.is_empty() || vectors.iter().any(Vec::is_empty) {
                return Err(QueryError::EmptyVector);
            }
            let values = vectors.iter().flatten();
            if let Some((position, value)) = values.enumerate().find(|(_, x)| !x.is_finite()) {
                return Err(QueryError::NonFiniteVector {
                    position,
                    value: *value,
                });
            }
        }
        if let Some(t) = self.score_threshold.filter(|t| !t.is_finite()) {
            return Err(QueryError::NonFiniteThreshold(t));
        }
        if let Some(filter) = self.filter {
            filter.validate()?;
        }
        Ok(())
    }

    /// Adds the text the vector was made from.
    pub const fn text(mut self, text: &'a str) -> Self {
        self.text = Some(text);
        self
    }

    /// Sets how many hits to return.
    pub const fn top_k(mut self, top_k: usize) -> Self {
        self.top_k = Some(top_k);
        self
    }

    /// Sets the worst score a hit may have (a minimum similarity, or a
    /// maximum distance).
    pub const fn score_threshold(mut self, threshold: f32) -> Self {
        self.score_threshold = Some(threshold);
        self
    }
}

/// A sparse vector: the non-zero dimensions and their weights, in the same order.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SparseVector<'a> {
    /// Dimension indices (e.g. token ids).
    pub indices: &'a [u32],
    /// Their weights.
    pub values: &'a [f32],
}

/// One retrieved chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hit {
    /// The chunk's id in the store (numeric ids are written in decimal).
    pub id: String,
    /// Relevance score, in the direction of [`Hits::score_kind`]
    /// (higher is better unless the hits are distances).
    pub score: f64,
    /// The chunk's text, when the store returned it.
    pub content: Option<String>,
    /// Other stored fields of the chunk.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub payload: serde_json::Map<String, serde_json::Value>,
}

impl Hit {
    /// A hit with an id and a score.
    pub fn new(id: impl Into<String>, score: f64) -> Self {
        Hit {
            id: id.into(),
            score,
            content: None,
            payload: serde_json::Map::new(),
        }
    }

    /// Sets the chunk's text.
    pub fn with_content(mut self, content: impl Into<String>) -> Self {
        self.content = Some(content.into());
        self
    }

    /// Sets the chunk's other stored fields.
    pub fn with_payload(mut self, payload: serde_json::Map<String, serde_json::Value>) -> Self {
        self.payload = payload;
        self
    }
}

/// The ranked hits a [`Retriever`] returned, best first, and which way
/// their scores point.
///
/// Derefs to `[Hit]`, so it can be indexed and iterated like a slice.
/// Serialized as the list of hits alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hits {
    hits: Vec<Hit>,
    #[serde(skip)]
    score_kind: Option<ScoreKind>,
    #[serde(skip)]
    stage_candidates: Vec<u64>,
}

impl Hits {
    /// Ranked hits, best first.
    pub fn new(hits: Vec<Hit>) -> Self {
        Hits {
            hits,
            score_kind: None,
            stage_candidates: Vec::new(),
        }
    }

    /// Says how many candidates each search stage produced, in the order of
    /// [`QueryInfo::stages`] (only when the store reported them).
    pub fn with_stage_candidates(mut self, counts: Vec<u64>) -> Self {
        self.stage_candidates = counts;
        self
    }

    /// How many candidates each search stage produced, if known.
    pub fn stage_candidates(&self) -> &[u64] {
        &self.stage_candidates
    }

    /// Says which way the scores point. Without it, scores are read as
    /// similarities (higher is better) but no direction is recorded.
    pub fn with_score_kind(mut self, kind: ScoreKind) -> Self {
        self.score_kind = Some(kind);
        self
    }

    /// Which way the scores point, if the retriever said.
    pub fn score_kind(&self) -> Option<ScoreKind> {
        self.score_kind
    }

    /// The hits as a vector.
    pub fn into_vec(self) -> Vec<Hit> {
        self.hits
    }
}

impl std::ops::Deref for Hits {
    type Target = [Hit];
    fn deref(&self) -> &[Hit] {
        &self.hits
    }
}

impl From<Vec<Hit>> for Hits {
    fn from(hits: Vec<Hit>) -> Self {
        Hits::new(hits)
    }
}

impl FromIterator<Hit> for Hits {
    fn from_iter<I: IntoIterator<Item = Hit>>(iter: I) -> Self {
        Hits::new(iter.into_iter().collect())
    }
}

impl IntoIterator for Hits {
    type Item = Hit;
    type IntoIter = std::vec::IntoIter<Hit>;
    fn into_iter(self) -> Self::IntoIter {
        self.hits.into_iter()
    }
}

impl<'a> IntoIterator for &'a Hits {
    type Item = &'a Hit;
    type IntoIter = std::slice::Iter<'a, Hit>;
    fn into_iter(self) -> Self::IntoIter {
        self.hits.iter()
    }
}
