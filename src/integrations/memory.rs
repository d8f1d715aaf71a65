//! [`MemoryRetriever`]: an exact, in-process vector index.
//!
//! It compares the query with every stored vector (brute force), so its
//! results are exact and each search costs time proportional to the number
//! of chunks times their dimension. That makes it the embedded default for
//! small corpora, examples, tests and evaluation runs (exact results are the
//! baseline approximate indexes are judged against); move to Qdrant
//! (`QdrantRetriever`, feature `qdrant`) when the corpus outgrows one
//! process or must be shared.
//!
//! ```
//! use ragtrace::integrations::memory::{Document, MemoryRetriever, Metric};
//! use ragtrace::steps::{Query, Retriever};
//!
//! let mut index = MemoryRetriever::new("handbook").metric(Metric::Cosine).top_k(2);
//! index.insert(Document::new("a", vec![1.0, 0.0]).with_content("Spans have a start and an end."))?;
//! index.insert(Document::new("b", vec![0.6, 0.8]).with_content("A trace is a tree of spans."))?;
//! index.insert(Document::new("c", vec![0.0, 1.0]).with_content("Attributes are typed."))?;
//!
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! let hits = index.retrieve(&Query::vector(&[1.0, 0.1])).await?;
//! assert_eq!(hits[0].id, "a");
//! assert_eq!(hits[1].id, "b");
//! assert_eq!(hits.len(), 2);
//! # Ok::<_, ragtrace::integrations::memory::MemoryError>(())
//! # })?;
//! # Ok::<_, ragtrace::integrations::memory::MemoryError>(())
//! ```

use std::borrow::Cow;
use std::collections::HashMap;

use crate::steps::{Filter, Hit, Hits, Query, QueryError, Retriever, ScoreKind, StepInfo};

/// The hits returned when neither the query nor the index says.
pub const DEFAULT_TOP_K: usize = 4;

/// How a stored vector's closeness to the query is scored. Higher scores
/// are always better, whatever the metric: the hits say
/// [`ScoreKind::Similarity`] (Euclidean distance is negated to fit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Metric {
    /// Cosine similarity, in `-1..=1` (0 when either vector is all zeros).
    #[default]
    Cosine,
    /// Dot product (for vectors normalized ahead of time, the same ranking
    /// as cosine, and cheaper).
    Dot,
    /// The negated Euclidean distance, in `..=0`: 0 is identical, so a score
    /// threshold of `-0.5` keeps hits within distance 0.5.
    Euclidean,
}

/// One chunk to store: an id, its vector, and optionally its text and other fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Document {
    /// The chunk's id, unique within the index.
    pub id: String,
    /// The chunk's embedding.
    pub vector: Vec<f32>,
    /// The chunk's text, returned as [`Hit::content`].
    pub content: Option<String>,
    /// Other fields, returned as [`Hit::payload`].
    pub payload: serde_json::Map<String, serde_json::Value>,
}

impl Document {
    /// A document with an id and a vector.
    pub fn new(id: impl Into<String>, vector: Vec<f32>) -> Self {
        Document {
            id: id.into(),
            vector,
            content: None,
            payload: serde_json::Map::new(),
        }
    }

    /// Sets the text.
    pub fn with_content(mut self, content: impl Into<String>) -> Self {
        self.content = Some(content.into());
        self
    }

    /// Sets the other fields.
    pub fn with_payload(mut self, payload: serde_json::Map<String, serde_json::Value>) -> Self {
        self.payload = payload;
        self
    }
}

/// Why a document or a query was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MemoryError {
    /// A vector's length differs from the index's (set by its first document).
    #[error("index `{index}`: {what} has {got} dimensions, the index has {expected}")]
    Dimension {
        /// The index's name.
        index: String,
        /// `document "<id>"` or `the query vector`.
        what: String,
        /// The index's dimension.
        expected: usize,
        /// The vector's length.
        got: usize,
    },
    /// A vector holds NaN or an infinity.
    #[error("index `{index}`: {what} has a non-finite value at position {position}")]
    NonFinite {
        /// The index's name.
        index: String,
        /// `document "<id>"` or `the query vector`.
        what: String,
        /// Where the first non-finite value is.
        position: usize,
    },
    /// A vector is empty.
    #[error("index `{index}`: {what} is empty")]
    Empty {
        /// The index's name.
        index: String,
        /// `document "<id>"` or `the query vector`.
        what: String,
    },
    /// The query has no vector to search with.
    #[error("index `{index}` searches by vector; the query has text only")]
    NoVector {
        /// The index's name.
        index: String,
    },
    /// The query asks for something that cannot be answered (`top_k` 0, a
    /// non-finite threshold, a malformed filter).
    #[error("index `{index}`: {source}")]
    InvalidQuery {
        /// The index's name.
        index: String,
        /// What is wrong.
        source: QueryError,
    },
    /// The query carries a sparse vector or multivector; this index
    /// searches single dense vectors only.
    #[error(
        "index `{index}` searches dense vectors only; the query has a sparse vector or a multivector"
    )]
    UnsupportedSparse {
        /// The index's name.
        index: String,
    },
    /// The query carries a store-specific part this index cannot honour
    /// (refused rather than ignored: it may be an access filter).
    #[error("index `{index}` cannot honour the query's native (store-specific) part")]
    UnsupportedNative {
        /// The index's name.
        index: String,
    },
}

#[derive(Clone)]
struct Stored {
    document: Document,
    /// Euclidean norm, kept for cosine scoring.
    norm: f64,
}

/// An exact in-memory vector index implementing [`Retriever`]; see the
/// [module documentation](self).
///
/// Inserting a document whose id is already stored replaces it (as an
/// upsert into a vector database does). Hits are ranked by score, ties by
/// insertion order, so results are deterministic. Cloning copies the index.
#[derive(Clone)]
pub struct MemoryRetriever {
    name: String,
    metric: Metric,
    top_k: usize,
    dimension: Option<usize>,
    positions: HashMap<String, usize>,
    stored: Vec<Stored>,
}

impl MemoryRetriever {
    /// An empty index named `name` (recorded as the data source), scoring by
    /// cosine similarity and returning [`DEFAULT_TOP_K`] hits.
    pub fn new(name: impl Into<String>) -> Self {
        MemoryRetriever {
            name: name.into(),
            metric: Metric::default(),
            top_k: DEFAULT_TOP_K,
            dimension: None,
            positions: HashMap::new(),
            stored: Vec::new(),
        }
    }

    /// Sets how vectors are scored.
    pub fn metric(mut self, metric: Metric) -> Self {
        self.metric = metric;
        self
    }

    /// Sets how many hits to return when the query does not say.
    pub fn top_k(mut self, top_k: usize) -> Self {
        self.top_k = top_k;
        self
    }

    /// Inserts all `documents`, stopping at the first one refused.
    pub fn with_documents(
        mut self,
        documents: impl IntoIterator<Item = Document>,
    ) -> Result<Self, MemoryError> {
        for document in documents {
            self.insert(document)?;
        }
        Ok(self)
    }

    /// Stores `document`, replacing one with the same id. The first document
    /// sets the index's dimension; later ones must match it.
    pub fn insert(&mut self, document: Document) -> Result<(), MemoryError> {
        let what = || format!("document {:?}", document.id);
        self.check(&document.vector, what)?;
        if self.dimension.is_none() {
            self.dimension = Some(document.vector.len());
        }
        let stored = Stored {
            norm: norm(&document.vector),
            document,
        };
        match self.positions.get(&stored.document.id) {
            Some(&at) => self.stored[at] = stored,
            None => {
                self.positions
                    .insert(stored.document.id.clone(), self.stored.len());
                self.stored.push(stored);
            }
        }
        Ok(())
    }

    /// Removes and returns the document with this id.
    ///
    /// The last-inserted document takes the removed one's place in the
    /// tie-break order.
    pub fn remove(&mut self, id: &str) -> Option<Document> {
        let at = self.positions.remove(id)?;
        let removed = self.stored.swap_remove(at);
        if let Some(moved) = self.stored.get(at) {
            self.positions.insert(moved.document.id.clone(), at);
        }
        if self.stored.is_empty() {
            self.dimension = None;
        }
        Some(removed.document)
    }

    /// The document with this id.
    pub fn get(&self, id: &str) -> Option<&Document> {
        self.positions.get(id).map(|&at| &self.stored[at].document)
    }

    /// How many documents are stored.
    pub fn len(&self) -> usize {
        self.stored.len()
    }

    /// `true` when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.stored.is_empty()
    }

    /// The vectors' length, once a document is stored.
    pub fn dimension(&self) -> Option<usize> {
        self.dimension
    }

    /// The ranked hits for `vector`: at most `top_k`, none below `threshold`.
    pub fn search(
        &self,
        vector: &[f32],
        top_k: usize,
        threshold: Option<f32>,
    ) -> Result<Vec<Hit>, MemoryError> {
        self.search_filtered(vector, top_k, threshold, None)
    }

    /// The ranked hits for `vector` among the documents whose payload passes
    /// `filter`: at most `top_k`, none below `threshold`.
    pub fn search_filtered(
        &self,
        vector: &[f32],
        top_k: usize,
        threshold: Option<f32>,
        filter: Option<&Filter>,
    ) -> Result<Vec<Hit>, MemoryError> {
        self.check(vector, || "the query vector".to_owned())?;
        let query_norm = norm(vector);
        let threshold = threshold.map(f64::from);
        let mut scored: Vec<(f64, usize)> = self
            .stored
            .iter()
            .enumerate()
            .filter(|(_, stored)| filter.is_none_or(|f| f.matches(&stored.document.payload)))
            .map(|(at, stored)| (self.score(vector, query_norm, stored), at))
            .filter(|(score, _)| threshold.is_none_or(|t| *score >= t))
            .collect();
        let best_first =
            |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if top_k == 0 {
            return Ok(Vec::new());
        }
        if scored.len() > top_k {
            // Partial selection: linear in the corpus, then sort only the top k.
            scored.select_nth_unstable_by(top_k - 1, best_first);
            scored.truncate(top_k);
        }
        scored.sort_unstable_by(best_first);
        Ok(scored
            .into_iter()
            .map(|(score, at)| {
                let document = &self.stored[at].document;
                let mut hit = Hit::new(document.id.clone(), score);
                hit.content.clone_from(&document.content);
                hit.payload.clone_from(&document.payload);
                hit
            })
            .collect())
    }

    fn score(&self, query: &[f32], query_norm: f64, stored: &Stored) -> f64 {
        let vector = &stored.document.vector;
        match self.metric {
            Metric::Dot => dot(query, vector),
            Metric::Cosine => {
                let denominator = query_norm * stored.norm;
                if denominator > 0.0 {
                    // Rounding can push a cosine a hair past ±1.
                    (dot(query, vector) / denominator).clamp(-1.0, 1.0)
                } else {
                    0.0
                }
            }
            Metric::Euclidean => {
                let squared: f64 = query
                    .iter()
                    .zip(vector)
                    .map(|(a, b)| {
                        let d = f64::from(*a) - f64::from(*b);
                        d * d
                    })
                    .sum();
                -squared.sqrt()
            }
        }
    }

    /// Refuses empty, non-finite, or wrong-length vectors.
    fn check(&self, vector: &[f32], what: impl Fn() -> String) -> Result<(), MemoryError> {
        if vector.is_empty() {
            return Err(MemoryError::Empty {
                index: self.name.clone(),
                what: what(),
            });
        }
        if let Some(position) = vector.iter().position(|x| !x.is_finite()) {
            return Err(MemoryError::NonFinite {
                index: self.name.clone(),
                what: what(),
                position,
            });
        }
        match self.dimension {
            Some(expected) if expected != vector.len() => Err(MemoryError::Dimension {
                index: self.name.clone(),
                what: what(),
                expected,
                got: vector.len(),
            }),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Debug for MemoryRetriever {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryRetriever")
            .field("name", &self.name)
            .field("metric", &self.metric)
            .field("top_k", &self.top_k)
            .field("dimension", &self.dimension)
            .field("documents", &self.stored.len())
            .finish()
    }
}

impl Retriever for MemoryRetriever {
    type Error = MemoryError;

    /// Searches the documents passing the query's [`Filter`]; refuses
    /// `top_k` 0 (the query's or the index's), a non-finite threshold, a
    /// malformed filter, a sparse vector and any native part.
    async fn retrieve(&self, query: &Query<'_>) -> Result<Hits, MemoryError> {
        let vector = query.vector.ok_or_else(|| MemoryError::NoVector {
            index: self.name.clone(),
        })?;
        self.check(vector, || "the query vector".to_owned())?;
        if query.native.is_some() {
            return Err(MemoryError::UnsupportedNative {
                index: self.name.clone(),
            });
        }
        if query.sparse.is_some() || query.multivector.is_some() {
            return Err(MemoryError::UnsupportedSparse {
                index: self.name.clone(),
            });
        }
        let top_k = query.top_k.unwrap_or(self.top_k);
        Query {
            top_k: Some(top_k),
            ..*query
        }
        .validate()
        .map_err(|source| MemoryError::InvalidQuery {
            index: self.name.clone(),
            source,
        })?;
        self.search_filtered(vector, top_k, query.score_threshold, query.filter)
            .map(|hits| Hits::new(hits).with_score_kind(ScoreKind::Similarity))
    }

    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new().data_source(&self.name).top_k(self.top_k)
    }

    fn error_type(error: &MemoryError) -> Cow<'static, str> {
        Cow::Borrowed(match error {
            MemoryError::Dimension { .. } => "dimension_mismatch",
            MemoryError::NonFinite { .. } => "non_finite_vector",
            MemoryError::Empty { .. } => "empty_vector",
            MemoryError::NoVector { .. } => "no_vector",
            MemoryError::InvalidQuery { .. } => "invalid_query",
            MemoryError::UnsupportedNative { .. } => "unsupported_native",
            MemoryError::UnsupportedSparse { .. } => "unsupported_sparse",
        })
    }
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

fn norm(v: &[f32]) -> f64 {
    dot(v, v).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(metric: Metric) -> MemoryRetriever {
        MemoryRetriever::new("t")
            .metric(metric)
            .with_documents([
                Document::new("x", vec![1.0, 0.0]),
                Document::new("y", vec![0.0, 2.0]),
                Document::new("xy", vec![3.0, 3.0]),
                Document::new("zero", vec![0.0, 0.0]),
            ])
            .unwrap()
    }

    fn ranked(index: &MemoryRetriever, query: &[f32], k: usize) -> Vec<(String, f64)> {
        index
            .search(query, k, None)
            .unwrap()
            .into_iter()
            .map(|h| (h.id, h.score))
            .collect()
    }

    #[test]
    fn each_metric_scores_and_ranks_exactly() {
        let q = [1.0, 0.0];
        let cos = ranked(&index(Metric::Cosine), &q, 4);
        assert_eq!(cos[0], ("x".into(), 1.0));
        assert_eq!(cos[1].0, "xy");
        assert!((cos[1].1 - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        // Ties (0.0) keep insertion order.
        assert_eq!(cos[2], ("y".into(), 0.0));
        assert_eq!(cos[3], ("zero".into(), 0.0));

        let dot = ranked(&index(Metric::Dot), &q, 2);
        assert_eq!(dot, [("xy".into(), 3.0), ("x".into(), 1.0)]);

        let euclid = ranked(&index(Metric::Euclidean), &q, 4);
        assert_eq!(euclid[0], ("x".into(), 0.0));
        assert_eq!(euclid[1], ("zero".into(), -1.0));
        assert!((euclid[2].1 + 5.0_f64.sqrt()).abs() < 1e-12, "{euclid:?}");
        assert_eq!(euclid[2].0, "y");
    }

    #[test]
    fn partial_selection_agrees_with_a_full_sort() {
        let mut index = MemoryRetriever::new("t");
        for i in 0..500_u32 {
            let angle = (i as f32) * 0.37;
            index
                .insert(Document::new(
                    i.to_string(),
                    vec![angle.cos(), angle.sin(), 0.5],
                ))
                .unwrap();
        }
        let query = [0.3, -0.8, 0.1];
        let all = index.search(&query, 500, None).unwrap();
        for k in [1, 7, 100, 499] {
            let top = index.search(&query, k, None).unwrap();
            assert_eq!(top, all[..k].to_vec(), "k = {k}");
        }
        assert!(all.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn threshold_top_k_and_upsert() {
        let mut index = index(Metric::Cosine);
        let hits = index.search(&[1.0, 0.0], 10, Some(0.5)).unwrap();
        assert_eq!(
            hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            ["x", "xy"]
        );
        assert!(index.search(&[1.0, 0.0], 0, None).unwrap().is_empty());
        index
            .insert(Document::new("x", vec![-1.0, 0.0]).with_content("moved"))
            .unwrap();
        assert_eq!(index.len(), 4);
        let hits = index.search(&[1.0, 0.0], 10, None).unwrap();
        assert_eq!(
            hits.last().map(|h| (h.id.as_str(), h.score)),
            Some(("x", -1.0))
        );
        assert_eq!(
            index.get("x").and_then(|d| d.content.as_deref()),
            Some("moved")
        );
        assert!(index.remove("y").is_some());
        assert!(index.get("y").is_none());
        assert_eq!(index.get("zero").map(|d| d.id.as_str()), Some("zero"));
        assert_eq!(index.len(), 3);
    }

    #[test]
    fn bad_vectors_are_refused_with_what_and_where() {
        let mut index = index(Metric::Cosine);
        let error = index.insert(Document::new("short", vec![1.0])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "index `t`: document \"short\" has 1 dimensions, the index has 2"
        );
        let error = index.search(&[0.0, f32::NAN], 1, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "index `t`: the query vector has a non-finite value at position 1"
        );
        assert!(matches!(
            index.insert(Document::new("e", vec![])),
            Err(MemoryError::Empty { .. })
        ));
        assert_eq!(index.len(), 4, "nothing refused was stored");
    }

    #[test]
    fn payload_and_content_come_back_on_hits() {
        let mut payload = serde_json::Map::new();
        payload.insert("source".into(), "handbook.md".into());
        let index = MemoryRetriever::new("t")
            .with_documents([Document::new("a", vec![1.0])
                .with_content("text")
                .with_payload(payload.clone())])
            .unwrap();
        let hit = &index.search(&[2.0], 1, None).unwrap()[0];
        assert_eq!(hit.content.as_deref(), Some("text"));
        assert_eq!(hit.payload, payload);
    }
}
