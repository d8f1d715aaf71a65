//! A Qdrant gRPC server on 127.0.0.1: `qdrant-client`'s generated `Points`
//! service, answering `Query` over an exact in-memory index (cosine
//! similarity, computed in f32 the way Qdrant scores a cosine collection)
//! and `Unimplemented` for every other call.
//!
//! It understands what the retriever sends: a dense nearest-neighbour query,
//! a named vector (`using`), a filter of `must` / `must_not` field matches,
//! a score threshold, limit and offset, and payload selection. Anything else
//! is refused as `InvalidArgument`, so a wrong request fails the test.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

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
#[derive(Debug, Clone)]
pub struct Point {
    pub id: PointId,
    /// Vectors by name; `""` is the unnamed default vector.
    pub vectors: HashMap<String, Vec<f32>>,
    pub payload: HashMap<String, Value>,
}

#[derive(Default)]
struct Index {
    collections: HashMap<String, Vec<Point>>,
    api_key: Option<String>,
    queries: Mutex<Vec<QueryPoints>>,
    responses: Mutex<Vec<QueryResponse>>,
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
    /// Serves these collections; requires `api-key` metadata when `api_key` is set.
    pub fn start(collections: HashMap<String, Vec<Point>>, api_key: Option<&str>) -> QdrantServer {
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
        runtime.spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
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
}

impl Index {
    fn query(&self, request: &QueryPoints) -> Result<QueryResponse, Status> {
        let points = self
            .collections
            .get(&request.collection_name)
            .ok_or_else(|| {
                Status::not_found(format!(
                    "Collection `{}` doesn't exist!",
                    request.collection_name
                ))
            })?;
        if !request.prefetch.is_empty() || request.lookup_from.is_some() {
            return Err(Status::invalid_argument(
                "test server: no prefetch or lookup",
            ));
        }
        let query = match request.query.as_ref().and_then(|q| q.variant.as_ref()) {
            Some(query::Variant::Nearest(VectorInput {
                variant: Some(VectorVariant::Dense(dense)),
            })) => &dense.data,
            other => {
                return Err(Status::invalid_argument(format!(
                    "test server: only dense nearest queries, got {other:?}"
                )));
            }
        };
        let using = request.using.clone().unwrap_or_default();
        let mut scored = Vec::new();
        for point in points {
            let vector = point.vectors.get(&using).ok_or_else(|| {
                Status::invalid_argument(format!("Not existing vector name: `{using}`"))
            })?;
            if vector.len() != query.len() {
                return Err(Status::invalid_argument(format!(
                    "Wrong input: Vector dimension error: expected dim: {}, got {}",
                    vector.len(),
                    query.len()
                )));
            }
            if let Some(filter) = &request.filter
                && !matches(filter, &point.payload)?
            {
                continue;
            }
            let score = cosine(query, vector);
            if request.score_threshold.is_some_and(|t| score < t) {
                continue;
            }
            scored.push((score, point));
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
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

fn matches(filter: &Filter, payload: &HashMap<String, Value>) -> Result<bool, Status> {
    if !filter.should.is_empty() || filter.min_should.is_some() {
        return Err(Status::invalid_argument(
            "test server: only must / must_not",
        ));
    }
    for condition in &filter.must {
        if !condition_holds(condition, payload)? {
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

fn condition_holds(
    condition: &Condition,
    payload: &HashMap<String, Value>,
) -> Result<bool, Status> {
    let Some(ConditionOneOf::Field(field)) = &condition.condition_one_of else {
        return Err(Status::invalid_argument(
            "test server: only field conditions",
        ));
    };
    let value = payload.get(&field.key).and_then(|v| v.kind.as_ref());
    match field.r#match.as_ref().and_then(|m| m.match_value.as_ref()) {
        Some(MatchValue::Keyword(expected)) => {
            Ok(matches!(value, Some(Kind::StringValue(s)) if s == expected))
        }
        Some(MatchValue::Integer(expected)) => {
            Ok(matches!(value, Some(Kind::IntegerValue(i)) if i == expected))
        }
        Some(MatchValue::Boolean(expected)) => {
            Ok(matches!(value, Some(Kind::BoolValue(b)) if b == expected))
        }
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
    fn answer(&self, request: Request<QueryPoints>) -> Result<Response<QueryResponse>, Status> {
        if let Some(key) = &self.0.api_key {
            let sent = request
                .metadata()
                .get("api-key")
                .and_then(|v| v.to_str().ok());
            if sent != Some(key.as_str()) {
                return Err(Status::unauthenticated("Invalid api-key"));
            }
        }
        let request = request.into_inner();
        self.0.queries.lock().unwrap().push(request.clone());
        let response = self.0.query(&request)?;
        self.0.responses.lock().unwrap().push(response.clone());
        Ok(Response::new(response))
    }
}

/// The `Points` service: `query` answers, every other call is `Unimplemented`.
/// (One macro for the whole impl, so `async_trait` sees every method.)
macro_rules! points_service {
    ($($name:ident($request:ident) -> $response:ident;)*) => {
        #[tonic::async_trait]
        impl Points for Service {
            async fn query(
                &self,
                request: Request<QueryPoints>,
            ) -> Result<Response<QueryResponse>, Status> {
                self.answer(request)
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
    query_batch(QueryBatchPoints) -> QueryBatchResponse;
    query_groups(QueryPointGroups) -> QueryGroupsResponse;
    facet(FacetCounts) -> FacetResponse;
    search_matrix_pairs(SearchMatrixPoints) -> SearchMatrixPairsResponse;
    search_matrix_offsets(SearchMatrixPoints) -> SearchMatrixOffsetsResponse;
}
