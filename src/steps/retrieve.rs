//! The vector-search step: [`Retriever`], its input [`Query`] and its output [`Hits`].

use std::borrow::Cow;
use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{StepInfo, default_error_type};

/// Finds the stored chunks nearest to a query (the second step of a RAG request).
///
/// Hits come back ranked, best first; the score's meaning (cosine similarity,
/// dot product, negated distance) is the implementation's, but higher must
/// mean more relevant. Wrap an implementation in
/// [`Traced`](crate::instrument::Traced) to get one `retrieval {data source}`
/// span per call with the ranked scores on it.
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
}

/// What to search for: a vector, the text it came from, or both.
///
/// ```
/// use ragtrace::steps::Query;
///
/// let vector = [0.1_f32, 0.7, 0.2];
/// let query = Query::vector(&vector).text("what is a span?").top_k(5);
/// assert_eq!(query.top_k, Some(5));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct Query<'a> {
    /// The query vector (dense retrieval).
    pub vector: Option<&'a [f32]>,
    /// The query text (keyword or hybrid retrieval, and content capture).
    pub text: Option<&'a str>,
    /// How many hits to return; `None` leaves it to the retriever.
    pub top_k: Option<usize>,
    /// Drop hits scoring below this.
    pub score_threshold: Option<f32>,
}

impl<'a> Query<'a> {
    /// A query by vector.
    pub const fn vector(vector: &'a [f32]) -> Self {
        Query {
            vector: Some(vector),
            text: None,
            top_k: None,
            score_threshold: None,
        }
    }

    /// A query by text only.
    pub const fn from_text(text: &'a str) -> Self {
        Query {
            vector: None,
            text: Some(text),
            top_k: None,
            score_threshold: None,
        }
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

    /// Sets the minimum score a hit must reach.
    pub const fn score_threshold(mut self, threshold: f32) -> Self {
        self.score_threshold = Some(threshold);
        self
    }
}

/// One retrieved chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hit {
    /// The chunk's id in the store (numeric ids are written in decimal).
    pub id: String,
    /// Relevance score; higher is more relevant.
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

/// The ranked hits a [`Retriever`] returned, best first.
///
/// Derefs to `[Hit]`, so it can be indexed and iterated like a slice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hits {
    hits: Vec<Hit>,
}

impl Hits {
    /// Ranked hits, best first.
    pub fn new(hits: Vec<Hit>) -> Self {
        Hits { hits }
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
        Hits { hits }
    }
}

impl FromIterator<Hit> for Hits {
    fn from_iter<I: IntoIterator<Item = Hit>>(iter: I) -> Self {
        Hits {
            hits: iter.into_iter().collect(),
        }
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
