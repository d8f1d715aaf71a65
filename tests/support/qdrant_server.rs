//! A Qdrant gRPC server on 127.0.0.1: `qdrant-client`'s generated `Points`
//! service, answering `Query` over an exact in-memory index, and its
//! `Collections` service answering `Get` with each collection's vector
//! distances; `Unimplemented` for every other call.
//!
//! Scores are computed in f32 the way Qdrant scores each distance: cosine
//! (normalized dot product) and dot product rank highest first; Euclid and
//! Manhattan are distances, ranked lowest first, and a score threshold then
//! keeps hits at or below it.
//!
//! It understands what the retriever sends: a dense or sparse
//! nearest-neighbour query, or a hybrid one (dense and sparse prefetches
//! fused by reciprocal rank fusion, scored as Qdrant does: the sum over
//! lists of 1 / (0-based position + 2), or by distribution-based score
//! fusion: each list mapped from mean ± 3 sd onto [0, 1], then summed), or a multivector (MaxSim over
//! cosine) query, alone or rescoring the union of prefetched candidates,
//! a named vector (`using`), a filter (`must` / `should` / `must_not`,
//! nested filters, keyword / integer / bool matches, keyword and integer
//! any-of, numeric ranges; an array payload value matches when any element
//! does), a score threshold, limit and offset, and payload selection.
//! Anything else is refused as `InvalidArgument`, so a wrong request fails
//! the test. A collection can be made slow, to drive client timeouts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use ::qdrant_client::qdrant::collections_server::{Collections, CollectionsServer};
use ::qdrant_client::qdrant::condition::ConditionOneOf;
use ::qdrant_client::qdrant::r#match::MatchValue;
use ::qdrant_client::qdrant::points_server::{Points, PointsServer};
use ::qdrant_client::qdrant::value::Kind;
use ::qdrant_client::qdrant::vector_input::Variant as VectorVariant;
use ::qdrant_client::qdrant::with_payload_selector::SelectorOptions;
use ::qdrant_client::qdrant::*;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

/// One stored point.
#[derive(Debug, Clone, Default)]
pub struct Point {
    pub id: PointId,
    /// Vectors by name; `""` is the unnamed default vector.
    pub vectors: HashMap<String, Vec<f32>>,
    /// Sparse vectors by name: (indices, values), scored by dot product.
    pub sparse: HashMap<String, (Vec<u32>, Vec<f32>)>,
    /// Multivectors by name, scored by MaxSim over cosine similarity.
    pub multi: HashMap<String, Vec<Vec<f32>>>,
    pub payload: HashMap<String, Value>,
}

/// A collection: its points, the distance of each vector name (cosine
/// unless set), and how long each query waits before answering.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    pub points: Vec<Point>,
    pub distances: HashMap<String, Distance>,
    pub delay: Option<Duration>,
}

impl Collection {
    pub fn new(points: Vec<Point>) -> Self {
        Collection {
            points,
            ..Collection::default()
        }
    }

    /// Scores vector `name` (`""`: the unnamed one) by `distance`.
    pub fn distance(mut self, name: &str, distance: Distance) -> Self {
        self.distances.insert(name.to_owned(), distance);
        self
    }

    /// Waits this long before answering each query.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    fn distance_of(&self, name: &str) -> Distance {
        self.distances
            .get(name)
            .copied()
            .unwrap_or(Distance::Cosine)
    }
}

#[derive(Default)]
struct Index {
    collections: HashMap<String, Collection>,
    api_key: Option<String>,
    queries: Mutex<Vec<QueryPoints>>,
    responses: Mutex<Vec<QueryResponse>>,
    infos: Mutex<Vec<String>>,
    batches: Mutex<Vec<QueryBatchPoints>>,
}

#[derive(Clone)]
struct Service(Arc<Index>);

/// A running server. Dropping it stops the server.
pub struct QdrantServer {
    pub addr: SocketAddr,
    index: Arc<Index>,
    _runtime: tokio::runtime::Runtime,
}

impl QdrantServer {
    /// Serves these cosine collections; requires `api-key` metadata when `api_key` is set.
    pub fn start(collections: HashMap<String, Vec<Point>>, api_key: Option<&str>) -> QdrantServer {
        QdrantServer::start_with(
            collections
                .into_iter()
                .map(|(name, points)| (name, Collection::new(points)))
                .collect(),
            api_key,
        )
    }

    /// Serves these collections; requires `api-key` metadata when `api_key` is set.
    pub fn start_with(
        collections: HashMap<String, Collection>,
        api_key: Option<&str>,
    ) -> QdrantServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let index = Arc::new(Index {
            collections,
            api_key: api_key.map(str::to_owned),
            ..Index::default()
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let service = PointsServer::new(Service(index.clone()));
        let collections = CollectionsServer::new(Service(index.clone()));
        runtime.spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .add_service(collections)
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await
                .unwrap();
        });
        QdrantServer {
            addr,
            index,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The query requests received, in order.
    pub fn queries(&self) -> Vec<QueryPoints> {
        self.index.queries.lock().unwrap().clone()
    }

    /// The responses sent, in order.
    pub fn responses(&self) -> Vec<QueryResponse> {
        self.index.responses.lock().unwrap().clone()
    }

    /// The query batches received, in order.
    pub fn batches(&self) -> Vec<QueryBatchPoints> {
        self.index.batches.lock().unwrap().clone()
    }

    /// The collections whose info was asked for, in order.
    pub fn info_requests(&self) -> Vec<String> {
        self.index.infos.lock().unwrap().clone()
    }
}

impl Index {
    fn collection(&self, name: &str) -> Result<&Collection, Status> {
        self.collections
            .get(name)
            .ok_or_else(|| Status::not_found(format!("Collection `{name}` doesn't exist!")))
    }

    fn info(&self, name: &str) -> Result<GetCollectionInfoResponse, Status> {
        let collection = self.collection(name)?;
        let dimension = |vector_name: &str| {
            collection
                .points
                .first()
                .and_then(|p| p.vectors.get(vector_name))
                .map_or(0, |v| v.len() as u64)
        };
        let params = |vector_name: &str| VectorParams {
            size: dimension(vector_name),
            distance: collection.distance_of(vector_name) as i32,
            ..VectorParams::default()
        };
        let names: Vec<String> = collection
            .points
            .first()
            .map(|p| p.vectors.keys().cloned().collect())
            .unwrap_or_default();
        let config = if names.iter().all(|n| n.is_empty()) {
            vectors_config::Config::Params(params(""))
        } else {
            vectors_config::Config::ParamsMap(VectorParamsMap {
                map: names.iter().map(|n| (n.clone(), params(n))).collect(),
            })
        };
        Ok(GetCollectionInfoResponse {
            result: Some(CollectionInfo {
                status: CollectionStatus::Green as i32,
                points_count: Some(collection.points.len() as u64),
                config: Some(CollectionConfig {
                    params: Some(CollectionParams {
                        vectors_config: Some(VectorsConfig {
                            config: Some(config),
                        }),
                        ..CollectionParams::default()
                    }),
                    ..CollectionConfig::default()
                }),
                ..CollectionInfo::default()
            }),
            time: 0.000_1,
        })
    }

    fn query(&self, request: &QueryPoints) -> Result<QueryResponse, Status> {
        let collection = self.collection(&request.collection_name)?;
        if request.lookup_from.is_some() {
            return Err(Status::invalid_argument("test server: no lookup"));
        }
        let rescoring = matches!(
            request.query.as_ref().and_then(|q| q.variant.as_ref()),
            Some(query::Variant::Nearest(_))
        );
        let scored: Vec<(f32, &Point)> = if request.prefetch.is_empty() {
            search(
                collection,
                request.query.as_ref(),
                request.using.as_deref(),
                request.filter.as_ref(),
                request.score_threshold,
                usize::MAX,
                None,
            )?
        } else if rescoring {
            // The query rescores the union of the prefetches' candidates.
            let mut union: Vec<PointId> = Vec::new();
            for prefetch in &request.prefetch {
                for (_, point) in search(
                    collection,
                    prefetch.query.as_ref(),
                    prefetch.using.as_deref(),
                    prefetch.filter.as_ref(),
                    prefetch.score_threshold,
                    prefetch.limit.unwrap_or(10) as usize,
                    None,
                )? {
                    if !union.contains(&point.id) {
                        union.push(point.id.clone());
                    }
                }
            }
            search(
                collection,
                request.query.as_ref(),
                request.using.as_deref(),
                request.filter.as_ref(),
                request.score_threshold,
                usize::MAX,
                Some(&union),
            )?
        } else {
            let fusion = match request.query.as_ref().and_then(|q| q.variant.as_ref()) {
                Some(query::Variant::Fusion(f)) => Fusion::try_from(*f)
                    .map_err(|_| Status::invalid_argument("test server: unknown fusion"))?,
                other => {
                    return Err(Status::invalid_argument(format!(
                        "test server: prefetch only with fusion or a nearest query, got {other:?}"
                    )));
                }
            };
            let mut lists = Vec::new();
            for prefetch in &request.prefetch {
                if !prefetch.prefetch.is_empty() {
                    return Err(Status::invalid_argument("test server: nested prefetch"));
                }
                lists.push(search(
                    collection,
                    prefetch.query.as_ref(),
                    prefetch.using.as_deref(),
                    prefetch.filter.as_ref(),
                    prefetch.score_threshold,
                    prefetch.limit.unwrap_or(10) as usize,
                    None,
                )?);
            }
            let mut fused: Vec<(f32, &Point)> = Vec::new();
            for list in lists {
                let normalized = match fusion {
                    Fusion::Rrf => list
                        .iter()
                        .enumerate()
                        .map(|(position, (_, p))| (1.0 / (position as f32 + 2.0), *p))
                        .collect(),
                    Fusion::Dbsf => distribution_normalized(&list),
                };
                for (score, point) in normalized {
                    match fused.iter_mut().find(|(_, p)| p.id == point.id) {
                        Some(entry) => entry.0 += score,
                        None => fused.push((score, point)),
                    }
                }
            }
            let mut kept = Vec::new();
            for (score, point) in fused {
                if let Some(filter) = &request.filter
                    && !matches(filter, &point.payload)?
                {
                    continue;
                }
                if request.score_threshold.is_some_and(|t| score < t) {
                    continue;
                }
                kept.push((score, point));
            }
            kept.sort_by(|a, b| b.0.total_cmp(&a.0));
            kept
        };
        let offset = request.offset.unwrap_or(0) as usize;
        let limit = request.limit.unwrap_or(10) as usize;
        let result = scored
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(score, point)| ScoredPoint {
                id: Some(point.id.clone()),
                payload: select_payload(request.with_payload.as_ref(), &point.payload),
                score,
                version: 3,
                ..ScoredPoint::default()
            })
            .collect();
        Ok(QueryResponse {
            result,
            time: 0.000_2,
            usage: None,
        })
    }
}

/// One nearest-neighbour search: points passing `filter` (and among `only`,
/// when given), scored on vector `using`, no worse than `threshold`, best
/// first, at most `limit`.
fn search<'c>(
    collection: &'c Collection,
    query: Option<&Query>,
    using: Option<&str>,
    filter: Option<&Filter>,
    threshold: Option<f32>,
    limit: usize,
    only: Option<&[PointId]>,
) -> Result<Vec<(f32, &'c Point)>, Status> {
    let using = using.unwrap_or_default();
    let input = match query.and_then(|q| q.variant.as_ref()) {
        Some(query::Variant::Nearest(VectorInput {
            variant: Some(input),
        })) => input,
        other => {
            return Err(Status::invalid_argument(format!(
                "test server: only nearest queries, got {other:?}"
            )));
        }
    };
    let (distance, lower_is_better) = match input {
        VectorVariant::Dense(_) => {
            let d = collection.distance_of(using);
            (d, matches!(d, Distance::Euclid | Distance::Manhattan))
        }
        VectorVariant::Sparse(_) | VectorVariant::MultiDense(_) => (Distance::Dot, false),
        other => {
            return Err(Status::invalid_argument(format!(
                "test server: only dense and sparse vectors, got {other:?}"
            )));
        }
    };
    let mut scored = Vec::new();
    for point in &collection.points {
        if only.is_some_and(|ids| !ids.contains(&point.id)) {
            continue;
        }
        let score = match input {
            VectorVariant::Dense(dense) => {
                let vector = point.vectors.get(using).ok_or_else(|| {
                    Status::invalid_argument(format!("Not existing vector name: `{using}`"))
                })?;
                if vector.len() != dense.data.len() {
                    return Err(Status::invalid_argument(format!(
                        "Wrong input: Vector dimension error: expected dim: {}, got {}",
                        vector.len(),
                        dense.data.len()
                    )));
                }
                score(distance, &dense.data, vector)
            }
            VectorVariant::Sparse(sparse) => {
                let Some((indices, values)) = point.sparse.get(using) else {
                    return Err(Status::invalid_argument(format!(
                        "Not existing vector name: `{using}`"
                    )));
                };
                // Points with no overlap are not candidates, as in Qdrant.
                let mut overlap = false;
                let mut dot = 0.0_f32;
                for (i, v) in sparse.indices.iter().zip(&sparse.values) {
                    if let Some(at) = indices.iter().position(|x| x == i) {
                        overlap = true;
                        dot += v * values[at];
                    }
                }
                if !overlap {
                    continue;
                }
                dot
            }
            VectorVariant::MultiDense(multi) => {
                let vectors = point.multi.get(using).ok_or_else(|| {
                    Status::invalid_argument(format!("Not existing vector name: `{using}`"))
                })?;
                multi
                    .vectors
                    .iter()
                    .map(|q| {
                        vectors
                            .iter()
                            .map(|d| cosine(&q.data, d))
                            .fold(f32::NEG_INFINITY, f32::max)
                    })
                    .sum()
            }
            _ => unreachable!(),
        };
        if let Some(filter) = filter
            && !matches(filter, &point.payload)?
        {
            continue;
        }
        let worse = |t: f32| {
            if lower_is_better {
                score > t
            } else {
                score < t
            }
        };
        if threshold.is_some_and(worse) {
            continue;
        }
        scored.push((score, point));
    }
    if lower_is_better {
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    } else {
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    }
    scored.truncate(limit);
    Ok(scored)
}

/// Distribution-based score fusion's normalization of one list: scores
/// mapped from [mean - 3 sd, mean + 3 sd] (sample sd, Welford's method, in
/// f32) onto [0, 1]; a single hit, or equal extremes, score 0.5.
fn distribution_normalized<'c>(list: &[(f32, &'c Point)]) -> Vec<(f32, &'c Point)> {
    if list.len() < 2 {
        return list.iter().map(|(_, p)| (0.5, *p)).collect();
    }
    let (mut mean, mut aggregate) = (0.0_f32, 0.0_f32);
    for (k, (score, _)) in list.iter().enumerate() {
        let before = score - mean;
        mean += before / (k + 1) as f32;
        aggregate += before * (score - mean);
    }
    let sd = (aggregate / (list.len() as f32 - 1.0)).sqrt();
    let (low, high) = (mean - 3.0 * sd, mean + 3.0 * sd);
    list.iter()
        .map(|(score, p)| {
            let normalized = if low == high {
                0.5
            } else {
                (score - low) / (high - low)
            };
            (normalized, *p)
        })
        .collect()
}

/// A point's score for `distance`, in f32 as Qdrant computes it.
pub fn score(distance: Distance, a: &[f32], b: &[f32]) -> f32 {
    match distance {
        Distance::Dot => a.iter().zip(b).map(|(x, y)| x * y).sum(),
        Distance::Euclid => a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f32>()
            .sqrt(),
        Distance::Manhattan => a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum(),
        Distance::Cosine | Distance::UnknownDistance => cosine(a, b),
    }
}

/// Qdrant normalizes vectors of a cosine collection and scores by dot
/// product, in f32.
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| (x / na) * (y / nb)).sum()
}

/// Qdrant's filter semantics: every `must`, at least one `should` (when
/// there are any), no `must_not`.
pub fn matches(filter: &Filter, payload: &HashMap<String, Value>) -> Result<bool, Status> {
    if filter.min_should.is_some() {
        return Err(Status::invalid_argument("test server: no min_should"));
    }
    for condition in &filter.must {
        if !condition_holds(condition, payload)? {
            return Ok(false);
        }
    }
    if !filter.should.is_empty() {
        let mut any = false;
        for condition in &filter.should {
            any |= condition_holds(condition, payload)?;
        }
        if !any {
            return Ok(false);
        }
    }
    for condition in &filter.must_not {
        if condition_holds(condition, payload)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The value at a dotted path.
fn lookup<'p>(payload: &'p HashMap<String, Value>, key: &str) -> Option<&'p Kind> {
    let mut parts = key.split('.');
    let mut value = payload.get(parts.next()?)?.kind.as_ref()?;
    for part in parts {
        match value {
            Kind::StructValue(s) => value = s.fields.get(part)?.kind.as_ref()?,
            _ => return None,
        }
    }
    Some(value)
}

/// `test` on a value, or on any element of a list.
fn any_element(value: Option<&Kind>, test: impl Fn(&Kind) -> bool) -> bool {
    match value {
        None | Some(Kind::NullValue(_)) => false,
        Some(Kind::ListValue(list)) => list.values.iter().filter_map(|v| v.kind.as_ref()).any(test),
        Some(other) => test(other),
    }
}

fn condition_holds(
    condition: &Condition,
    payload: &HashMap<String, Value>,
) -> Result<bool, Status> {
    let field = match &condition.condition_one_of {
        Some(ConditionOneOf::Field(field)) => field,
        Some(ConditionOneOf::Filter(filter)) => return matches(filter, payload),
        other => {
            return Err(Status::invalid_argument(format!(
                "test server: unsupported condition {other:?}"
            )));
        }
    };
    let value = lookup(payload, &field.key);
    if let Some(range) = &field.range {
        let inside = |x: f64| {
            range.gt.is_none_or(|b| x > b)
                && range.gte.is_none_or(|b| x >= b)
                && range.lt.is_none_or(|b| x < b)
                && range.lte.is_none_or(|b| x <= b)
        };
        return Ok(any_element(value, |v| match v {
            Kind::IntegerValue(i) => inside(*i as f64),
            Kind::DoubleValue(d) => inside(*d),
            _ => false,
        }));
    }
    match field.r#match.as_ref().and_then(|m| m.match_value.as_ref()) {
        Some(MatchValue::Keyword(expected)) => Ok(any_element(
            value,
            |v| matches!(v, Kind::StringValue(s) if s == expected),
        )),
        Some(MatchValue::Integer(expected)) => Ok(any_element(
            value,
            |v| matches!(v, Kind::IntegerValue(i) if i == expected),
        )),
        Some(MatchValue::Boolean(expected)) => Ok(any_element(
            value,
            |v| matches!(v, Kind::BoolValue(b) if b == expected),
        )),
        Some(MatchValue::Keywords(list)) => Ok(any_element(
            value,
            |v| matches!(v, Kind::StringValue(s) if list.strings.contains(s)),
        )),
        Some(MatchValue::Integers(list)) => Ok(any_element(
            value,
            |v| matches!(v, Kind::IntegerValue(i) if list.integers.contains(i)),
        )),
        other => Err(Status::invalid_argument(format!(
            "test server: unsupported match {other:?}"
        ))),
    }
}

/// Qdrant returns no payload unless asked.
fn select_payload(
    selector: Option<&WithPayloadSelector>,
    payload: &HashMap<String, Value>,
) -> HashMap<String, Value> {
    match selector.and_then(|s| s.selector_options.as_ref()) {
        Some(SelectorOptions::Enable(true)) => payload.clone(),
        Some(SelectorOptions::Include(include)) => payload
            .iter()
            .filter(|(k, _)| include.fields.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Some(SelectorOptions::Exclude(exclude)) => payload
            .iter()
            .filter(|(k, _)| !exclude.fields.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Some(SelectorOptions::Enable(false)) | None => HashMap::new(),
    }
}

impl Service {
    fn authorize<T>(&self, request: &Request<T>) -> Result<(), Status> {
        if let Some(key) = &self.0.api_key {
            let sent = request
                .metadata()
                .get("api-key")
                .and_then(|v| v.to_str().ok());
            if sent != Some(key.as_str()) {
                return Err(Status::unauthenticated("Invalid api-key"));
            }
        }
        Ok(())
    }

    async fn answer(
        &self,
        request: Request<QueryPoints>,
    ) -> Result<Response<QueryResponse>, Status> {
        self.authorize(&request)?;
        let request = request.into_inner();
        self.0.queries.lock().unwrap().push(request.clone());
        let delay = self
            .0
            .collections
            .get(&request.collection_name)
            .and_then(|c| c.delay);
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let response = self.0.query(&request)?;
        self.0.responses.lock().unwrap().push(response.clone());
        Ok(Response::new(response))
    }
}

/// The `Points` service: `query` and `query_batch` answer, every other call
/// is `Unimplemented`.
/// (One macro for the whole impl, so `async_trait` sees every method.)
macro_rules! points_service {
    ($($name:ident($request:ident) -> $response:ident;)*) => {
        #[tonic::async_trait]
        impl Points for Service {
            async fn query(
                &self,
                request: Request<QueryPoints>,
            ) -> Result<Response<QueryResponse>, Status> {
                self.answer(request).await
            }

            async fn query_batch(
                &self,
                request: Request<QueryBatchPoints>,
            ) -> Result<Response<QueryBatchResponse>, Status> {
                self.authorize(&request)?;
                let batch = request.into_inner();
                self.0.batches.lock().unwrap().push(batch.clone());
                let mut result = Vec::new();
                for query in &batch.query_points {
                    result.push(BatchResult {
                        result: self.0.query(query)?.result,
                    });
                }
                Ok(Response::new(QueryBatchResponse {
                    result,
                    time: 0.000_3,
                    usage: None,
                }))
            }

            $(
                async fn $name(
                    &self,
                    _request: Request<$request>,
                ) -> Result<Response<$response>, Status> {
                    Err(Status::unimplemented(concat!(
                        "test server: Points/",
                        stringify!($name)
                    )))
                }
            )*
        }
    };
}

points_service! {
    upsert(UpsertPoints) -> PointsOperationResponse;
    delete(DeletePoints) -> PointsOperationResponse;
    get(GetPoints) -> GetResponse;
    update_vectors(UpdatePointVectors) -> PointsOperationResponse;
    delete_vectors(DeletePointVectors) -> PointsOperationResponse;
    set_payload(SetPayloadPoints) -> PointsOperationResponse;
    overwrite_payload(SetPayloadPoints) -> PointsOperationResponse;
    delete_payload(DeletePayloadPoints) -> PointsOperationResponse;
    clear_payload(ClearPayloadPoints) -> PointsOperationResponse;
    create_field_index(CreateFieldIndexCollection) -> PointsOperationResponse;
    delete_field_index(DeleteFieldIndexCollection) -> PointsOperationResponse;
    create_vector_name(CreateVectorNameRequest) -> PointsOperationResponse;
    delete_vector_name(DeleteVectorNameRequest) -> PointsOperationResponse;
    search(SearchPoints) -> SearchResponse;
    search_batch(SearchBatchPoints) -> SearchBatchResponse;
    search_groups(SearchPointGroups) -> SearchGroupsResponse;
    scroll(ScrollPoints) -> ScrollResponse;
    recommend(RecommendPoints) -> RecommendResponse;
    recommend_batch(RecommendBatchPoints) -> RecommendBatchResponse;
    recommend_groups(RecommendPointGroups) -> RecommendGroupsResponse;
    discover(DiscoverPoints) -> DiscoverResponse;
    discover_batch(DiscoverBatchPoints) -> DiscoverBatchResponse;
    count(CountPoints) -> CountResponse;
    update_batch(UpdateBatchPoints) -> UpdateBatchResponse;
    query_groups(QueryPointGroups) -> QueryGroupsResponse;
    facet(FacetCounts) -> FacetResponse;
    search_matrix_pairs(SearchMatrixPoints) -> SearchMatrixPairsResponse;
    search_matrix_offsets(SearchMatrixPoints) -> SearchMatrixOffsetsResponse;
}

/// The `Collections` service: `get` answers with the collection's vector
/// configuration, every other call is `Unimplemented`.
macro_rules! collections_service {
    ($($name:ident($request:ident) -> $response:ident;)*) => {
        #[tonic::async_trait]
        impl Collections for Service {
            async fn get(
                &self,
                request: Request<GetCollectionInfoRequest>,
            ) -> Result<Response<GetCollectionInfoResponse>, Status> {
                self.authorize(&request)?;
                let name = request.into_inner().collection_name;
                self.0.infos.lock().unwrap().push(name.clone());
                self.0.info(&name).map(Response::new)
            }

            $(
                async fn $name(
                    &self,
                    _request: Request<$request>,
                ) -> Result<Response<$response>, Status> {
                    Err(Status::unimplemented(concat!(
                        "test server: Collections/",
                        stringify!($name)
                    )))
                }
            )*
        }
    };
}

collections_service! {
    list(ListCollectionsRequest) -> ListCollectionsResponse;
    create(CreateCollection) -> CollectionOperationResponse;
    update(UpdateCollection) -> CollectionOperationResponse;
    delete(DeleteCollection) -> CollectionOperationResponse;
    update_aliases(ChangeAliases) -> CollectionOperationResponse;
    list_collection_aliases(ListCollectionAliasesRequest) -> ListAliasesResponse;
    list_aliases(ListAliasesRequest) -> ListAliasesResponse;
    collection_cluster_info(CollectionClusterInfoRequest) -> CollectionClusterInfoResponse;
    collection_exists(CollectionExistsRequest) -> CollectionExistsResponse;
    update_collection_cluster_setup(UpdateCollectionClusterSetupRequest) -> UpdateCollectionClusterSetupResponse;
    create_shard_key(CreateShardKeyRequest) -> CreateShardKeyResponse;
    delete_shard_key(DeleteShardKeyRequest) -> DeleteShardKeyResponse;
    list_shard_keys(ListShardKeysRequest) -> ListShardKeysResponse;
}
