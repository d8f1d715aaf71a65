//! [`qdrant-client`](qdrant_client) as a ragtrace step: [`QdrantRetriever`],
//! a [`Retriever`] over Qdrant's query API.
//!
//! It wraps the `Qdrant` client you already have (with its API key, timeouts
//! and pool) and reports what the server returned: point ids (UUIDs as they
//! are, numeric ids in decimal) and scores in rank order, the text stored
//! under a payload key as each hit's content, the rest of the payload as
//! its payload. Wrap it in [`Traced`](crate::instrument::Traced) to get a
//! `retrieval {collection}` span with `db.system.name=qdrant`,
//! `db.operation.name=query`, the collection, top-k, server and the ranked
//! scores.
//!
//! ```no_run
//! use qdrant_client::Qdrant;
//! use qdrant_client::qdrant::{Condition, Filter};
//! use ragtrace::instrument::TracedExt;
//! use ragtrace::integrations::qdrant::QdrantRetriever;
//! use ragtrace::steps::{Query, Retriever};
//!
//! # async fn run(vector: Vec<f32>) -> Result<(), qdrant_client::QdrantError> {
//! let client = Qdrant::from_url("http://localhost:6334").build()?;
//! let retriever = QdrantRetriever::new(client, "docs")
//!     .top_k(8)
//!     .vector_name("text-dense")
//!     .filter(Filter::must([Condition::matches("lang", "en".to_string())]))
//!     .traced();
//! let hits = retriever.retrieve(&Query::vector(&vector)).await?;
//! # Ok(()) }
//! ```
//!
//! **Score direction.** Scores are Qdrant's: similarities for `Cosine` and
//! `Dot` vectors (higher is better), distances for `Euclid` and `Manhattan`
//! ones (lower is better). The retriever says which on every [`Hits`]
//! ([`ScoreKind`]), so spans record `ragtrace.retrieval.score_kind`, the
//! rank-1 hit's score as the top score, and drift reads the direction. It
//! learns the distance of the searched vector from the collection's
//! configuration (one `Collections/Get` call per collection and vector name,
//! made alongside the first query and cached, shared by clones), or from
//! [`QdrantRetriever::distance`] when you declare it (no lookup; use this
//! when the API key may not read collection info).
//!
//! **Per-query filters.** A [`Query`] can carry a vendor-neutral
//! [`Filter`](crate::steps::Filter) (equality, any-of, ranges and their
//! combinations), converted to Qdrant's conditions, and a native
//! `qdrant_client::qdrant::Filter` through [`Query::native`]; both are
//! combined (all must hold) with the retriever's own [`filter`](QdrantRetriever::filter).
//!
//! **Hybrid and sparse search.** With [`sparse_vector_name`](QdrantRetriever::sparse_vector_name),
//! a query's [`sparse`](Query::sparse) part (BM25, SPLADE weights) searches
//! that sparse vector; with [`fusion`](QdrantRetriever::fusion) too, a query
//! with both a dense and a sparse vector runs both as prefetches and fuses
//! them (RRF or DBSF) in one call. The span records the fusion and the
//! stages that ran (`ragtrace.retrieval.stages`, each with its candidate
//! limit). Qdrant's answer to a fused query does not say how many candidates
//! each prefetch produced; [`count_stages`](QdrantRetriever::count_stages)
//! asks for them in the same round trip (`ragtrace.retrieval.stage_candidates`).
//! With [`multivector_name`](QdrantRetriever::multivector_name), a query's
//! [`multivector`](Query::multivector) (ColBERT-style token vectors) is
//! searched by late interaction, or rescores the dense / sparse prefetches'
//! candidates on the server (server-side reranking in one call). Qdrant's
//! score formulas (`Formula` queries) and nested prefetch trees are not
//! supported.
//!
//! **Content.** Each hit's text is the string under the payload key
//! [`DEFAULT_CONTENT_KEY`] (`content`) unless [`content_key`](QdrantRetriever::content_key)
//! says otherwise. When hits come back without it but with text under a
//! common key (`text`, `page_content`, ...), the retriever logs one warning
//! naming the key to set.
//!
//! **Errors** reach the caller unchanged; `error.type` classifies them (see
//! [`error_type`]): a refused or lost connection is `UNAVAILABLE` (qdrant-client
//! reports it as `INTERNAL`), a client timeout `DEADLINE_EXCEEDED` (it reports
//! `CANCELLED`). Spans carry the server's own message, without the gRPC
//! metadata, and an `exception` event. Note that qdrant-client itself retries
//! a point query once on a fresh connection after `INTERNAL`, `UNAVAILABLE`,
//! `CANCELLED` or `UNKNOWN`, so a call that times out takes about twice the
//! client's timeout, and the server sees the query twice.
//!
//! **Validation.** `top_k` 0, an empty or non-finite vector, a non-finite
//! threshold or a malformed filter fail at once with `error.type`
//! `invalid_query`, without a round trip.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use qdrant_client::qdrant::point_id::PointIdOptions;
use qdrant_client::qdrant::query::Variant;
use qdrant_client::qdrant::value::Kind;
use qdrant_client::qdrant::vectors_config::Config as VectorsConfigKind;
use qdrant_client::qdrant::{
    Condition, Distance, Filter, Fusion, GetCollectionInfoResponse, PointId, PrefetchQuery,
    Query as QdrantQuery, QueryBatchPoints, QueryPoints, ScoredPoint, SearchParams, Value,
    VectorInput, WithPayloadSelector,
};
use qdrant_client::{Qdrant, QdrantError};

mod error;
mod filter;
mod payload;

pub use error::{error_message, error_type};
pub use filter::{filter_text, to_qdrant};
pub use payload::PayloadSelection;

use super::endpoint::Endpoint;
use crate::steps::{Hit, Hits, Query, QueryInfo, Retriever, ScoreKind, StepInfo};

/// `db.system.name` of Qdrant.
pub const DB_SYSTEM: &str = "qdrant";
/// `db.operation.name` of a query-API call.
pub const DB_OPERATION: &str = "query";
/// The hits asked for when neither the query nor the retriever says.
pub const DEFAULT_TOP_K: usize = 4;
/// The payload key holding a chunk's text unless configured otherwise
/// (see [`QdrantRetriever::content_key`]).
pub const DEFAULT_CONTENT_KEY: &str = "content";
/// Payload keys other tools commonly store a chunk's text under; finding
/// text under one of them while the content key is missing logs a warning.
pub const COMMON_CONTENT_KEYS: [&str; 6] = [
    "text",
    "page_content",
    "content",
    "document",
    "chunk",
    "body",
];

/// The score direction of each searched vector, by vector name (`""` for the
/// unnamed one).
type KindCache = Arc<Mutex<HashMap<String, Learned>>>;

/// What a direction lookup learned.
#[derive(Debug, Clone, Copy)]
enum Learned {
    /// The direction; `None` when the lookup cannot work (no permission,
    /// no such API), so it is not tried again.
    Kind(Option<ScoreKind>),
    /// The lookup failed (the server down, a timeout): not asked again
    /// before this time, so an outage is not met with a second call per
    /// query.
    RetryAfter(std::time::Instant),
}

/// How long a failed direction lookup waits before it is tried again.
const LOOKUP_RETRY: std::time::Duration = std::time::Duration::from_secs(30);

/// A [`Retriever`] over Qdrant's universal query API (`Points/Query`):
/// nearest neighbours of the query vector, with an optional filter, score
/// threshold, named vector, search parameters and payload selection.
///
/// The retriever's settings are defaults: a [`Query`]'s own `top_k` and
/// `score_threshold` win. A per-request filter (a tenant, an ACL) goes on
/// the [`Query`] ([`Query::filter`], or a native Qdrant filter through
/// [`Query::native`]) and is combined with the retriever's own filter.
/// Clones share the client's connections and the cached score direction.
#[derive(Clone)]
pub struct QdrantRetriever {
    client: Qdrant,
    collection: String,
    top_k: usize,
    vector_name: Option<String>,
    filter: Option<Filter>,
    score_threshold: Option<f32>,
    params: Option<SearchParams>,
    offset: Option<u64>,
    sparse_name: Option<String>,
    multivector_name: Option<String>,
    fusion: Option<Fusion>,
    prefetch_limit: Option<u64>,
    count_stages: bool,
    with_payload: WithPayloadSelector,
    content_key: String,
    endpoint: Option<Endpoint>,
    distance: Option<ScoreKind>,
    kinds: KindCache,
    warned_content: Arc<AtomicBool>,
}

impl QdrantRetriever {
    /// A retriever searching `collection` through `client`, returning
    /// [`DEFAULT_TOP_K`] hits with their whole payload.
    pub fn new(client: Qdrant, collection: impl Into<String>) -> Self {
        // Host and port only: the URL's credentials, if any, stay out of spans.
        let endpoint = Endpoint::parse(&client.config.uri);
        QdrantRetriever {
            client,
            collection: collection.into(),
            top_k: DEFAULT_TOP_K,
            vector_name: None,
            filter: None,
            score_threshold: None,
            params: None,
            offset: None,
            sparse_name: None,
            multivector_name: None,
            fusion: None,
            prefetch_limit: None,
            count_stages: false,
            with_payload: WithPayloadSelector::from(true),
            content_key: DEFAULT_CONTENT_KEY.to_owned(),
            endpoint,
            distance: None,
            kinds: KindCache::default(),
            warned_content: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Declares the distance of the searched vector, so scores are read in
    /// the right direction without looking the collection up.
    pub fn distance(mut self, distance: Distance) -> Self {
        self.distance = score_kind(distance);
        self
    }

    /// Searches this named sparse vector of the collection (BM25, SPLADE)
    /// with a query's [`sparse`](Query::sparse) part.
    pub fn sparse_vector_name(mut self, name: impl Into<String>) -> Self {
        self.sparse_name = Some(name.into());
        self
    }

    /// Late interaction: a query's [`multivector`](Query::multivector) is
    /// searched on this named multivector (MaxSim). With a dense or sparse
    /// vector too, those run first as prefetches (each
    /// [`prefetch_limit`](Self::prefetch_limit) candidates) and the
    /// multivector rescores their union on the server: server-side
    /// reranking, in one call. Scores are read as similarities (cosine or
    /// dot MaxSim, as ColBERT-style models use).
    pub fn multivector_name(mut self, name: impl Into<String>) -> Self {
        self.multivector_name = Some(name.into());
        self
    }

    /// Hybrid search: a query with both a dense and a sparse vector runs
    /// both searches as prefetches (each [`prefetch_limit`](Self::prefetch_limit)
    /// candidates, each with the filter) and fuses them with `fusion`
    /// (reciprocal rank fusion or distribution-based score fusion), in one
    /// call. Fused scores are similarities (higher is better).
    pub fn fusion(mut self, fusion: Fusion) -> Self {
        self.fusion = Some(fusion);
        self
    }

    /// Candidates each hybrid prefetch returns before fusion (default: four
    /// times the hits asked for, at least 20).
    pub fn prefetch_limit(mut self, limit: u64) -> Self {
        self.prefetch_limit = Some(limit);
        self
    }

    /// Also reports how many candidates each prefetch produced (hybrid and
    /// multivector rescoring)
    /// (`ragtrace.retrieval.stage_candidates`). Qdrant's answer to a fused
    /// query does not say, so the retriever sends each prefetch again as a
    /// plain query in the same `QueryBatch` call (one round trip, but the
    /// server runs the prefetch searches twice; without payloads).
    pub fn count_stages(mut self, count: bool) -> Self {
        self.count_stages = count;
        self
    }

    /// Skips this many hits before the first returned (paging).
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// How many hits to return when the query does not say.
    pub fn top_k(mut self, top_k: usize) -> Self {
        self.top_k = top_k;
        self
    }

    /// Searches this named vector of the collection (`using`).
    pub fn vector_name(mut self, name: impl Into<String>) -> Self {
        self.vector_name = Some(name.into());
        self
    }

    /// Only points matching `filter` are searched (every query; a query's
    /// own filter is added to it).
    pub fn filter(mut self, filter: impl Into<Filter>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// Drops hits scoring worse than `threshold` (below it for a
    /// similarity, above it for a distance) when the query sets none.
    pub fn score_threshold(mut self, threshold: f32) -> Self {
        self.score_threshold = Some(threshold);
        self
    }

    /// Search parameters (HNSW `ef`, exact search, quantization).
    pub fn search_params(mut self, params: impl Into<SearchParams>) -> Self {
        self.params = Some(params.into());
        self
    }

    /// Which payload fields come back: `true` (all, the default), `false`,
    /// a list of keys (`vec!["text", "lang"]`, `["text"]`), or Qdrant's
    /// include / exclude selectors; see [`PayloadSelection`].
    pub fn with_payload(mut self, selection: impl Into<PayloadSelection>) -> Self {
        self.with_payload = selection.into().into_selector();
        self
    }

    /// The payload key whose text becomes each hit's
    /// [`content`](Hit::content) (default [`DEFAULT_CONTENT_KEY`], i.e.
    /// `content`; set `"text"` for corpora written by tools that store it
    /// there); it is taken out of the hit's payload.
    pub fn content_key(mut self, key: impl Into<String>) -> Self {
        self.content_key = key.into();
        self
    }

    /// The client this retriever queries through.
    pub fn client(&self) -> &Qdrant {
        &self.client
    }

    /// The collection searched.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// The request sent for `query`, or why there is none (checked before
    /// anything is sent: see the module's "Validation").
    pub fn request(&self, query: &Query<'_>) -> Result<QueryPoints, QdrantError> {
        let invalid = |why: String| {
            QdrantError::ConversionError(format!("QdrantRetriever on `{}`: {why}", self.collection))
        };
        let limit = query.top_k.unwrap_or(self.top_k);
        let threshold = query.score_threshold.or(self.score_threshold);
        let effective = Query {
            top_k: Some(limit),
            score_threshold: threshold,
            ..*query
        };
        effective.validate().map_err(|e| invalid(e.to_string()))?;
        let filter = self.combined_filter(query).map_err(invalid)?;
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        let nearest = |input: VectorInput| QdrantQuery {
            variant: Some(Variant::Nearest(input)),
        };
        let sparse_name = || {
            self.sparse_name.clone().ok_or_else(|| {
                invalid("the query has a sparse vector; set sparse_vector_name(..)".into())
            })
        };
        let plain_prefetch = |query: QdrantQuery, using: Option<String>| PrefetchQuery {
            query: Some(query),
            using,
            filter: filter.clone(),
            params: self.params.clone(),
            limit: Some(self.prefetch_limit_for(limit)),
            ..PrefetchQuery::default()
        };
        if let Some(vectors) = query.multivector {
            let name = self.multivector_name.clone().ok_or_else(|| {
                invalid("the query has a multivector; set multivector_name(..)".into())
            })?;
            let mut prefetch = Vec::new();
            if let Some(dense) = query.vector {
                prefetch.push(plain_prefetch(
                    nearest(VectorInput::new_dense(dense.to_vec())),
                    self.vector_name.clone(),
                ));
            }
            if let Some(sparse) = query.sparse {
                prefetch.push(plain_prefetch(
                    nearest(VectorInput::new_sparse(
                        sparse.indices.to_vec(),
                        sparse.values.to_vec(),
                    )),
                    Some(sparse_name()?),
                ));
            }
            return Ok(QueryPoints {
                collection_name: self.collection.clone(),
                prefetch,
                query: Some(nearest(VectorInput::new_multi(vectors.to_vec()))),
                using: Some(name),
                filter,
                params: self.params.clone(),
                score_threshold: threshold,
                limit: Some(limit),
                offset: self.offset,
                with_payload: Some(self.with_payload.clone()),
                ..QueryPoints::default()
            });
        }
        let (search, using, prefetch) = match (query.vector, query.sparse, self.fusion) {
            (Some(dense), Some(sparse), Some(fusion)) => {
                let each = plain_prefetch;
                let prefetch = vec![
                    each(
                        nearest(VectorInput::new_dense(dense.to_vec())),
                        self.vector_name.clone(),
                    ),
                    each(
                        nearest(VectorInput::new_sparse(
                            sparse.indices.to_vec(),
                            sparse.values.to_vec(),
                        )),
                        Some(sparse_name()?),
                    ),
                ];
                let fused = QdrantQuery {
                    variant: Some(Variant::Fusion(fusion as i32)),
                };
                (fused, None, prefetch)
            }
            (Some(_), Some(_), None) => {
                return Err(invalid(
                    "the query has a dense and a sparse vector; set fusion(..) for hybrid search"
                        .into(),
                ));
            }
            (None, Some(sparse), _) => (
                nearest(VectorInput::new_sparse(
                    sparse.indices.to_vec(),
                    sparse.values.to_vec(),
                )),
                Some(sparse_name()?),
                Vec::new(),
            ),
            (Some(dense), None, _) => (
                nearest(VectorInput::new_dense(dense.to_vec())),
                self.vector_name.clone(),
                Vec::new(),
            ),
            (None, None, _) => {
                return Err(invalid(
                    "needs a query vector; the query has text only".into(),
                ));
            }
        };
        Ok(QueryPoints {
            collection_name: self.collection.clone(),
            prefetch,
            query: Some(search),
            using,
            filter,
            params: self.params.clone(),
            score_threshold: threshold,
            limit: Some(limit),
            offset: self.offset,
            with_payload: Some(self.with_payload.clone()),
            ..QueryPoints::default()
        })
    }

    /// Sends the fused query and each of its prefetches as a plain query in
    /// one batch: the fused hits, and each prefetch's candidate count, then
    /// the fused result's own count.
    async fn query_counting_stages(
        &self,
        request: QueryPoints,
    ) -> Result<(Vec<ScoredPoint>, Vec<u64>), QdrantError> {
        let alone = request.prefetch.iter().map(|p| QueryPoints {
            collection_name: request.collection_name.clone(),
            query: p.query.clone(),
            using: p.using.clone(),
            filter: p.filter.clone(),
            params: p.params.clone(),
            score_threshold: p.score_threshold,
            limit: p.limit,
            with_payload: Some(false.into()),
            ..QueryPoints::default()
        });
        let mut queries = vec![request.clone()];
        queries.extend(alone);
        let response = self
            .client
            .query_batch(QueryBatchPoints {
                collection_name: request.collection_name.clone(),
                query_points: queries,
                ..QueryBatchPoints::default()
            })
            .await?;
        let mut results = response.result.into_iter();
        let fused = results.next().map(|r| r.result).unwrap_or_default();
        let mut counts: Vec<u64> = results.map(|r| r.result.len() as u64).collect();
        counts.push(fused.len() as u64);
        Ok((fused, counts))
    }

    /// Candidates each prefetch gathers: the declared limit, else four
    /// times what the answer needs. The answer needs `limit` hits past the
    /// `offset`, and Qdrant fuses only what the prefetches gathered, so a
    /// prefetch short of `limit + offset` would page past its own end.
    fn prefetch_limit_for(&self, limit: u64) -> u64 {
        let needed = limit.saturating_add(self.offset.unwrap_or(0));
        self.prefetch_limit
            .unwrap_or_else(|| needed.saturating_mul(4).max(20))
            .max(needed)
    }

    /// `true` when `query` runs as a fused hybrid search.
    fn is_hybrid(&self, query: &Query<'_>) -> bool {
        query.multivector.is_none()
            && query.vector.is_some()
            && query.sparse.is_some()
            && self.fusion.is_some()
    }

    /// The retriever's filter, the query's neutral one and a native one, all
    /// of which must hold.
    fn combined_filter(&self, query: &Query<'_>) -> Result<Option<Filter>, String> {
        let native = match query.native {
            None => None,
            Some(_) => Some(query.native_as::<Filter>().ok_or_else(|| {
                "the query's native part is not a qdrant_client::qdrant::Filter".to_owned()
            })?),
        };
        let parts: Vec<Filter> = [
            self.filter.clone(),
            query.filter.map(to_qdrant),
            native.cloned(),
        ]
        .into_iter()
        .flatten()
        .collect();
        Ok(match parts.len() {
            0 => None,
            1 => parts.into_iter().next(),
            _ => Some(Filter::must(parts.into_iter().map(Condition::from))),
        })
    }

    /// The score direction of the searched vector: declared, cached, or
    /// `None` when it must be looked up.
    fn known_kind(&self) -> Option<Option<ScoreKind>> {
        if self.distance.is_some() {
            return Some(self.distance);
        }
        let key = self.vector_name.as_deref().unwrap_or_default();
        match self.kinds.lock().ok()?.get(key).copied()? {
            Learned::Kind(kind) => Some(kind),
            Learned::RetryAfter(at) if std::time::Instant::now() < at => Some(None),
            Learned::RetryAfter(_) => None,
        }
    }

    /// Looks up the searched vector's distance in the collection's
    /// configuration, caching what it learns.
    async fn look_up_kind(&self) -> Option<ScoreKind> {
        let key = self.vector_name.clone().unwrap_or_default();
        let learned = match self.client.collection_info(&self.collection).await {
            Ok(info) => Some(distance_of(&info, &key).and_then(score_kind)),
            // A key without read access to collections, or a proxy without
            // the API: do not ask again.
            Err(QdrantError::ResponseError { status })
                if matches!(
                    status.code(),
                    tonic::Code::PermissionDenied
                        | tonic::Code::Unauthenticated
                        | tonic::Code::Unimplemented
                ) =>
            {
                tracing::debug!(
                    target: "ragtrace",
                    collection = %self.collection,
                    "cannot read the collection's distance; scores are recorded without a direction \
                     (declare it with QdrantRetriever::distance)"
                );
                Some(None)
            }
            Err(_) => None,
        };
        let entry = match learned {
            Some(kind) => Learned::Kind(kind),
            None => Learned::RetryAfter(std::time::Instant::now() + LOOKUP_RETRY),
        };
        if let Ok(mut kinds) = self.kinds.lock() {
            kinds.insert(key, entry);
        }
        learned.flatten()
    }

    /// Logs once when hits carry no text under the content key but do under
    /// a common other key.
    fn warn_about_content_key(&self, hits: &[Hit]) {
        if hits.is_empty()
            || hits.iter().any(|h| h.content.is_some())
            || self.warned_content.load(Ordering::Relaxed)
        {
            return;
        }
        let found = COMMON_CONTENT_KEYS.iter().find(|key| {
            **key != self.content_key
                && hits
                    .iter()
                    .any(|h| matches!(h.payload.get(**key), Some(serde_json::Value::String(_))))
        });
        if let Some(found) = found
            && !self.warned_content.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                target: "ragtrace",
                collection = %self.collection,
                content_key = %self.content_key,
                found = %found,
                "hits have no text under payload key `{}` but do under `{found}`; \
                 set QdrantRetriever::content_key(\"{found}\") to get it as content",
                self.content_key,
            );
        }
    }
}

impl std::fmt::Debug for QdrantRetriever {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the client: its configuration holds the API key.
        f.debug_struct("QdrantRetriever")
            .field("collection", &self.collection)
            .field("top_k", &self.top_k)
            .field("vector_name", &self.vector_name)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Retriever for QdrantRetriever {
    type Error = QdrantError;

    async fn retrieve(&self, query: &Query<'_>) -> Result<Hits, QdrantError> {
        let request = self.request(query)?;
        // Fused and sparse scores are similarities whatever the dense
        // vector's distance.
        let fixed =
            (self.is_hybrid(query) || query.vector.is_none() || query.multivector.is_some())
                .then_some(Some(ScoreKind::Similarity));
        if self.count_stages && !request.prefetch.is_empty() {
            let (points, counts) = self.query_counting_stages(request).await?;
            let hits: Vec<Hit> = points.into_iter().map(|p| self.hit(p)).collect();
            self.warn_about_content_key(&hits);
            return Ok(Hits::new(hits)
                .with_score_kind(ScoreKind::Similarity)
                .with_stage_candidates(counts));
        }
        let (response, kind) = match fixed.or_else(|| self.known_kind()) {
            Some(kind) => (self.client.query(request).await?, kind),
            // The first query also looks the distance up, concurrently.
            None => {
                let (response, kind) =
                    futures_util::join!(self.client.query(request), self.look_up_kind());
                (response?, kind)
            }
        };
        let hits: Vec<Hit> = response
            .result
            .into_iter()
            .map(|point| self.hit(point))
            .collect();
        self.warn_about_content_key(&hits);
        let hits = Hits::new(hits);
        Ok(match kind {
            Some(kind) => hits.with_score_kind(kind),
            None => hits,
        })
    }

    fn describe_query(&self, query: &Query<'_>) -> QueryInfo {
        let filter = self.combined_filter(query).ok().flatten();
        QueryInfo {
            score_threshold: query
                .score_threshold
                .or(self.score_threshold)
                .map(f64::from),
            filter_shape: filter.as_ref().map(|f| filter_text(f, false)),
            filter_values: filter.as_ref().map(|f| filter_text(f, true)),
            vector_name: self.vector_name.clone(),
            search_params: self.params.as_ref().map(params_text),
            offset: self.offset,
            fusion: self
                .is_hybrid(query)
                .then(|| self.fusion.map(fusion_name))
                .flatten()
                .map(str::to_owned),
            stages: self.stages(query),
        }
    }

    fn error_message(error: &QdrantError) -> String {
        error_message(error)
    }

    fn describe(&self) -> StepInfo<'_> {
        let info = StepInfo::new()
            .data_source(&self.collection)
            .db(DB_SYSTEM, DB_OPERATION)
            .top_k(self.top_k);
        match &self.endpoint {
            Some(endpoint) => info.server(&endpoint.host, endpoint.port),
            None => info,
        }
    }

    fn error_type(error: &QdrantError) -> Cow<'static, str> {
        error_type(error)
    }
}

impl QdrantRetriever {
    fn hit(&self, point: ScoredPoint) -> Hit {
        let mut payload: serde_json::Map<String, serde_json::Value> = point
            .payload
            .into_iter()
            .map(|(key, value)| (key, json(value)))
            .collect();
        let content = match payload.remove(&self.content_key) {
            Some(serde_json::Value::String(text)) => Some(text),
            // Not text: leave it where it was.
            Some(other) => {
                payload.insert(self.content_key.clone(), other);
                None
            }
            None => None,
        };
        let mut hit = Hit::new(point_id(point.id.as_ref()), f64::from(point.score));
        hit.content = content;
        hit.payload = payload;
        hit
    }
}

/// A point id as text: UUIDs as they are, numbers in decimal.
pub fn point_id(id: Option<&PointId>) -> String {
    match id.and_then(|id| id.point_id_options.as_ref()) {
        Some(PointIdOptions::Num(n)) => n.to_string(),
        Some(PointIdOptions::Uuid(uuid)) => uuid.clone(),
        None => String::new(),
    }
}

/// A payload value as JSON (non-finite numbers become `null`, as JSON has none).
fn json(value: Value) -> serde_json::Value {
    match value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::DoubleValue(d)) => serde_json::Number::from_f64(d)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Some(Kind::IntegerValue(i)) => serde_json::Value::from(i),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s),
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(b),
        Some(Kind::StructValue(s)) => {
            serde_json::Value::Object(s.fields.into_iter().map(|(k, v)| (k, json(v))).collect())
        }
        Some(Kind::ListValue(list)) => {
            serde_json::Value::Array(list.values.into_iter().map(json).collect())
        }
    }
}

impl QdrantRetriever {
    /// The searches `query` runs: `kind using limit=N` each.
    fn stages(&self, query: &Query<'_>) -> Vec<String> {
        let limit = query.top_k.unwrap_or(self.top_k) as u64;
        let name = |n: &Option<String>| n.clone().unwrap_or_default();
        let stage = |kind: &str, using: &str, limit: u64| {
            if using.is_empty() {
                format!("{kind} limit={limit}")
            } else {
                format!("{kind} {using} limit={limit}")
            }
        };
        if query.multivector.is_some() {
            let each = self.prefetch_limit_for(limit);
            let mut stages = Vec::new();
            if query.vector.is_some() {
                stages.push(stage("dense", &name(&self.vector_name), each));
            }
            if query.sparse.is_some() {
                stages.push(stage("sparse", &name(&self.sparse_name), each));
            }
            stages.push(stage("multivector", &name(&self.multivector_name), limit));
            stages
        } else if self.is_hybrid(query) {
            let each = self.prefetch_limit_for(limit);
            vec![
                stage("dense", &name(&self.vector_name), each),
                stage("sparse", &name(&self.sparse_name), each),
                stage(
                    "fusion",
                    self.fusion.map(fusion_name).unwrap_or_default(),
                    limit,
                ),
            ]
        } else if query.vector.is_some() {
            vec![stage("dense", &name(&self.vector_name), limit)]
        } else if query.sparse.is_some() {
            vec![stage("sparse", &name(&self.sparse_name), limit)]
        } else {
            Vec::new()
        }
    }
}

fn fusion_name(fusion: Fusion) -> &'static str {
    match fusion {
        Fusion::Rrf => "rrf",
        Fusion::Dbsf => "dbsf",
    }
}

/// The direction of a Qdrant distance's scores.
fn score_kind(distance: Distance) -> Option<ScoreKind> {
    match distance {
        Distance::Cosine | Distance::Dot => Some(ScoreKind::Similarity),
        Distance::Euclid | Distance::Manhattan => Some(ScoreKind::Distance),
        Distance::UnknownDistance => None,
    }
}

/// The distance of the vector `name` (`""`: the unnamed one) in a
/// collection's configuration.
fn distance_of(info: &GetCollectionInfoResponse, name: &str) -> Option<Distance> {
    let vectors = info
        .result
        .as_ref()?
        .config
        .as_ref()?
        .params
        .as_ref()?
        .vectors_config
        .as_ref()?;
    let params = match vectors.config.as_ref()? {
        VectorsConfigKind::Params(params) if name.is_empty() => params,
        VectorsConfigKind::Params(_) => return None,
        VectorsConfigKind::ParamsMap(map) => map.map.get(name)?,
    };
    Distance::try_from(params.distance).ok()
}

/// Search parameters as `name=value` pairs.
fn params_text(params: &SearchParams) -> String {
    let mut parts = Vec::new();
    if let Some(ef) = params.hnsw_ef {
        parts.push(format!("hnsw_ef={ef}"));
    }
    if let Some(exact) = params.exact {
        parts.push(format!("exact={exact}"));
    }
    if let Some(indexed_only) = params.indexed_only {
        parts.push(format!("indexed_only={indexed_only}"));
    }
    if let Some(q) = &params.quantization {
        if let Some(ignore) = q.ignore {
            parts.push(format!("quantization.ignore={ignore}"));
        }
        if let Some(rescore) = q.rescore {
            parts.push(format!("quantization.rescore={rescore}"));
        }
        if let Some(oversampling) = q.oversampling {
            parts.push(format!("quantization.oversampling={oversampling}"));
        }
    }
    if let Some(enable) = params.acorn.as_ref().and_then(|a| a.enable) {
        parts.push(format!("acorn={enable}"));
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use qdrant_client::qdrant::{ListValue, Range, Struct};

    use super::error::grpc_code_name;
    use super::*;
    use crate::steps::Filter as NeutralFilter;

    fn retriever() -> QdrantRetriever {
        let client = Qdrant::from_url("http://qdrant.internal:6334")
            .api_key("qdrant-secret")
            .skip_compatibility_check()
            .build()
            .unwrap();
        QdrantRetriever::new(client, "docs")
    }

    #[test]
    fn query_settings_win_over_the_retriever_defaults() {
        let vector = [0.1_f32, 0.2];
        let r = retriever()
            .top_k(3)
            .score_threshold(0.5)
            .vector_name("dense");
        let request = r.request(&Query::vector(&vector)).unwrap();
        assert_eq!(request.collection_name, "docs");
        assert_eq!(request.limit, Some(3));
        assert_eq!(request.score_threshold, Some(0.5));
        assert_eq!(request.using.as_deref(), Some("dense"));
        let request = r
            .request(&Query::vector(&vector).top_k(9).score_threshold(0.8))
            .unwrap();
        assert_eq!(request.limit, Some(9));
        assert_eq!(request.score_threshold, Some(0.8));
        let error = r.request(&Query::from_text("no vector")).unwrap_err();
        assert_eq!(error_type(&error), "invalid_query");
        assert!(error.to_string().contains("`docs`"));
    }

    #[test]
    fn invalid_queries_are_refused_before_sending_with_what_is_wrong() {
        let r = retriever();
        let refused = |query: Query<'_>| {
            let error = r.request(&query).unwrap_err();
            assert_eq!(error_type(&error), "invalid_query");
            error_message(&error)
        };
        let v = [0.1_f32, 0.2];
        assert!(refused(Query::vector(&v).top_k(0)).contains("top_k is 0"));
        assert!(refused(Query::vector(&[])).contains("the query vector is empty"));
        let nan = [0.1_f32, f32::NAN];
        assert!(refused(Query::vector(&nan)).contains("non-finite value (NaN) at position 1"));
        let inf = [f32::NEG_INFINITY];
        assert!(refused(Query::vector(&inf)).contains("(-inf) at position 0"));
        assert!(refused(Query::vector(&v).score_threshold(f32::NAN)).contains("threshold"));
        let empty = NeutralFilter::any_of::<&str>("tenant", []);
        assert!(refused(Query::vector(&v).filter(&empty)).contains("any_of(tenant)"));
        let zero_default = retriever().top_k(0);
        assert!(zero_default.request(&Query::vector(&v)).is_err());
        assert!(zero_default.request(&Query::vector(&v).top_k(2)).is_ok());
        let not_a_filter = 42_u32;
        assert!(refused(Query::vector(&v).native(&not_a_filter)).contains("native"));
    }

    #[test]
    fn every_neutral_condition_kind_converts_to_its_qdrant_condition() {
        use crate::steps::Filter as F;
        let one = |f: &F| match to_qdrant(f).must.as_slice() {
            [c] => c.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            one(&F::eq("tenant", "acme")),
            Condition::matches("tenant", "acme".to_owned())
        );
        assert_eq!(
            one(&F::eq("year", 2021)),
            Condition::matches("year", 2021_i64)
        );
        assert_eq!(
            one(&F::eq("public", true)),
            Condition::matches("public", true)
        );
        assert_eq!(
            one(&F::any_of("group", ["a", "b"])),
            Condition::matches("group", vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(
            one(&F::any_of("n", [1, 2])),
            Condition::matches("n", vec![1_i64, 2])
        );
        assert_eq!(
            one(&F::any_of("flag", [true])),
            Condition::from(Filter::should([Condition::matches("flag", true)]))
        );
        assert_eq!(
            one(&F::range("year").gte(2020.0).lt(2024.0)),
            Condition::range(
                "year",
                Range {
                    gte: Some(2020.0),
                    lt: Some(2024.0),
                    ..Range::default()
                }
            )
        );
        assert_eq!(
            one(&F::not(F::eq("tenant", "x"))),
            Condition::from(Filter::must_not([Condition::matches(
                "tenant",
                "x".to_owned()
            )]))
        );
        assert_eq!(
            one(&F::any([F::eq("a", 1), F::eq("b", 2)])),
            Condition::from(Filter::should([
                Condition::matches("a", 1_i64),
                Condition::matches("b", 2_i64)
            ]))
        );
        // A top-level `all` becomes the filter's own `must`.
        let all = to_qdrant(&F::all([F::eq("a", 1), F::eq("b", 2)]));
        assert_eq!(all.must.len(), 2);
        assert_eq!(filter_text(&all, false), "must(integer(a), integer(b))");
        assert_eq!(
            filter_text(&all, true),
            "must(integer(a, 1), integer(b, 2))"
        );
    }

    #[test]
    fn the_retriever_query_and_native_filters_all_apply() {
        let own = Filter::must([Condition::matches("lang", "en".to_owned())]);
        let r = retriever().filter(own.clone());
        let v = [0.1_f32];
        assert_eq!(
            r.request(&Query::vector(&v)).unwrap().filter,
            Some(own.clone())
        );
        let tenant = crate::steps::Filter::eq("tenant", "acme");
        let native = Filter::must_not([Condition::matches("draft", true)]);
        let request = r
            .request(&Query::vector(&v).filter(&tenant).native(&native))
            .unwrap();
        assert_eq!(
            request.filter,
            Some(Filter::must([
                Condition::from(own),
                Condition::from(to_qdrant(&tenant)),
                Condition::from(native),
            ]))
        );
        let info = r.describe_query(&Query::vector(&v).filter(&tenant));
        assert_eq!(
            info.filter_shape.as_deref(),
            Some("must(filter(must(keyword(lang))), filter(must(keyword(tenant))))")
        );
    }

    #[test]
    fn hybrid_requests_prefetch_both_vectors_and_fuse() {
        let dense = [0.1_f32, 0.2];
        let (ix, vs) = ([3_u32], [0.5_f32]);
        let query = Query::vector(&dense).sparse(&ix, &vs).top_k(2);
        let plain = retriever().vector_name("d").sparse_vector_name("s");
        let error = plain.request(&query).unwrap_err();
        assert!(error_message(&error).contains("set fusion"));
        let r = plain.fusion(Fusion::Dbsf);
        let request = r.request(&query).unwrap();
        assert_eq!(
            request.query.and_then(|q| q.variant),
            Some(Variant::Fusion(Fusion::Dbsf as i32))
        );
        assert_eq!(request.using, None);
        assert_eq!(request.limit, Some(2));
        assert_eq!(request.prefetch.len(), 2);
        assert_eq!(
            request.prefetch[0].limit,
            Some(20),
            "at least 20 by default"
        );
        let info = r.describe_query(&query);
        assert_eq!(info.fusion.as_deref(), Some("dbsf"));
        assert_eq!(
            info.stages,
            [
                "dense d limit=20",
                "sparse s limit=20",
                "fusion dbsf limit=2"
            ]
        );
        let no_name = retriever().request(&Query::from_text("x").sparse(&ix, &vs));
        assert!(error_message(&no_name.unwrap_err()).contains("sparse_vector_name"));
        let mismatched = Query::from_text("x").sparse(&ix, &[]);
        assert!(
            error_message(&r.request(&mismatched).unwrap_err()).contains("1 indices but 0 values")
        );
    }

    #[test]
    fn client_side_failures_are_classified_and_their_message_is_the_servers() {
        let status = |code: tonic::Code, message: &str| QdrantError::ResponseError {
            status: tonic::Status::new(code, message),
        };
        let refused = status(
            tonic::Code::Internal,
            "Failed to connect to http://127.0.0.1:1/: tonic::transport::Error(Transport, \
             ConnectError(\"tcp connect error\", 127.0.0.1:1, Os { code: 111, kind: \
             ConnectionRefused, message: \"Connection refused\" }))",
        );
        assert_eq!(error_type(&refused), "UNAVAILABLE");
        assert_eq!(
            error_message(&refused),
            "Failed to connect to http://127.0.0.1:1/: Connection refused"
        );
        assert_eq!(
            error_type(&status(tonic::Code::Cancelled, "Timeout expired")),
            "DEADLINE_EXCEEDED"
        );
        assert_eq!(
            error_type(&status(tonic::Code::Cancelled, "operation was canceled")),
            "CANCELLED"
        );
        assert_eq!(
            error_type(&status(tonic::Code::Internal, "segment is broken")),
            "INTERNAL"
        );
        assert_eq!(
            error_message(&status(
                tonic::Code::NotFound,
                "Collection `x` doesn't exist!"
            )),
            "Collection `x` doesn't exist!"
        );
        let limited = QdrantError::ResourceExhaustedError {
            status: tonic::Status::new(tonic::Code::ResourceExhausted, "Too many requests"),
            retry_after_seconds: 7,
        };
        assert_eq!(error_type(&limited), "RESOURCE_EXHAUSTED");
        assert_eq!(
            error_message(&limited),
            "Too many requests (retry after 7 s)"
        );
    }

    #[test]
    fn describes_collection_db_and_server_but_not_the_key() {
        let r = retriever();
        let info = r.describe();
        assert_eq!(info.data_source, Some("docs"));
        assert_eq!(info.db_system, Some("qdrant"));
        assert_eq!(info.db_operation, Some("query"));
        assert_eq!(info.top_k, Some(DEFAULT_TOP_K));
        assert_eq!(info.server_address, Some("qdrant.internal"));
        assert_eq!(info.server_port, Some(6334));
        assert!(!format!("{r:?}").contains("qdrant-secret"));
    }

    #[test]
    fn payload_values_become_json_and_content_is_taken_out() {
        let mut point = ScoredPoint {
            id: Some(PointId::from(42_u64)),
            score: 0.75,
            ..ScoredPoint::default()
        };
        let nested = Value {
            kind: Some(Kind::StructValue(Struct {
                fields: [(
                    "tags".to_owned(),
                    Value {
                        kind: Some(Kind::ListValue(ListValue {
                            values: vec![Value::from("a"), Value::from(1_i64)],
                        })),
                    },
                )]
                .into(),
            })),
        };
        point
            .payload
            .insert("content".into(), Value::from("the text"));
        point.payload.insert("meta".into(), nested);
        point.payload.insert("page".into(), Value::from(3_i64));
        point.payload.insert(
            "weird".into(),
            Value {
                kind: Some(Kind::DoubleValue(f64::NAN)),
            },
        );
        let hit = retriever().hit(point);
        assert_eq!(hit.id, "42");
        assert_eq!(hit.score, 0.75);
        assert_eq!(hit.content.as_deref(), Some("the text"));
        assert!(!hit.payload.contains_key("content"));
        assert_eq!(hit.payload["meta"], serde_json::json!({ "tags": ["a", 1] }));
        assert_eq!(hit.payload["page"], 3);
        assert_eq!(hit.payload["weird"], serde_json::Value::Null);
    }

    #[test]
    fn ids_and_error_classes() {
        let uuid = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26";
        assert_eq!(point_id(Some(&PointId::from(uuid.to_owned()))), uuid);
        assert_eq!(point_id(None), "");
        let status = |code| QdrantError::ResponseError {
            status: qdrant_client_status(code),
        };
        assert_eq!(error_type(&status(5)), "NOT_FOUND");
        assert_eq!(error_type(&status(14)), "UNAVAILABLE");
        // tonic reads codes it does not know as UNKNOWN.
        assert_eq!(error_type(&status(99)), "UNKNOWN");
        assert_eq!(grpc_code_name(99), "_OTHER");
    }

    /// A gRPC status with this code, made through the client's own conversion.
    fn qdrant_client_status(code: i32) -> tonic::Status {
        tonic::Status::new(code.into(), "x")
    }
}
