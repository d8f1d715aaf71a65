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
//! Scores are Qdrant's: similarity for `Cosine` and `Dot` collections (higher
//! is better, as [`Hit`] expects), but distance for `Euclid` and `Manhattan`
//! ones, where lower is better; drift statistics over such scores read
//! the other way round.

use std::borrow::Cow;

use qdrant_client::qdrant::point_id::PointIdOptions;
use qdrant_client::qdrant::query::Variant;
use qdrant_client::qdrant::value::Kind;
use qdrant_client::qdrant::{
    Filter, PointId, Query as QdrantQuery, QueryPoints, ScoredPoint, SearchParams, Value,
    VectorInput, WithPayloadSelector,
};
use qdrant_client::{Qdrant, QdrantError};

use super::endpoint::Endpoint;
use crate::steps::{Hit, Hits, Query, Retriever, StepInfo};

/// `db.system.name` of Qdrant.
pub const DB_SYSTEM: &str = "qdrant";
/// `db.operation.name` of a query-API call.
pub const DB_OPERATION: &str = "query";
/// The hits asked for when neither the query nor the retriever says.
pub const DEFAULT_TOP_K: usize = 4;
/// The payload key holding a chunk's text unless configured otherwise.
pub const DEFAULT_CONTENT_KEY: &str = "content";

/// A [`Retriever`] over Qdrant's universal query API (`Points/Query`):
/// nearest neighbours of the query vector, with an optional filter, score
/// threshold, named vector, search parameters and payload selection.
///
/// The retriever's settings are defaults: a [`Query`]'s own `top_k` and
/// `score_threshold` win. For a per-request filter (a tenant, a language),
/// clone the retriever (cheap: the client shares its connections) and set it.
#[derive(Clone)]
pub struct QdrantRetriever {
    client: Qdrant,
    collection: String,
    top_k: usize,
    vector_name: Option<String>,
    filter: Option<Filter>,
    score_threshold: Option<f32>,
    params: Option<SearchParams>,
    with_payload: WithPayloadSelector,
    content_key: String,
    endpoint: Option<Endpoint>,
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
            with_payload: WithPayloadSelector::from(true),
            content_key: DEFAULT_CONTENT_KEY.to_owned(),
            endpoint,
        }
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

    /// Only points matching `filter` are searched.
    pub fn filter(mut self, filter: impl Into<Filter>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// Drops hits scoring below `threshold` when the query sets none.
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
    /// a list of keys, or Qdrant's include / exclude selectors.
    pub fn with_payload(mut self, selector: impl Into<WithPayloadSelector>) -> Self {
        self.with_payload = selector.into();
        self
    }

    /// The payload key whose text becomes each hit's
    /// [`content`](Hit::content) (default [`DEFAULT_CONTENT_KEY`]); it is
    /// taken out of the hit's payload.
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

    /// The request sent for `query`, or why there is none.
    pub fn request(&self, query: &Query<'_>) -> Result<QueryPoints, QdrantError> {
        let vector = query.vector.ok_or_else(|| {
            QdrantError::ConversionError(format!(
                "QdrantRetriever on `{}` needs a query vector; the query has text only",
                self.collection
            ))
        })?;
        let limit = query.top_k.unwrap_or(self.top_k);
        Ok(QueryPoints {
            collection_name: self.collection.clone(),
            query: Some(QdrantQuery {
                variant: Some(Variant::Nearest(VectorInput::new_dense(vector.to_vec()))),
            }),
            using: self.vector_name.clone(),
            filter: self.filter.clone(),
            params: self.params.clone(),
            score_threshold: query.score_threshold.or(self.score_threshold),
            limit: Some(u64::try_from(limit).unwrap_or(u64::MAX)),
            with_payload: Some(self.with_payload.clone()),
            ..QueryPoints::default()
        })
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
        let response = self.client.query(request).await?;
        Ok(response
            .result
            .into_iter()
            .map(|point| self.hit(point))
            .collect())
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

/// A low-cardinality class of a Qdrant error, recorded as `error.type`: the
/// gRPC status name for server answers (`NOT_FOUND`, `UNAVAILABLE`,
/// `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, ...), else `conversion`,
/// `invalid_uri`, `io` or `_OTHER`.
pub fn error_type(error: &QdrantError) -> Cow<'static, str> {
    match error {
        QdrantError::ResponseError { status }
        | QdrantError::ResourceExhaustedError { status, .. } => {
            Cow::Borrowed(grpc_code_name(i32::from(status.code())))
        }
        QdrantError::ConversionError(_) => Cow::Borrowed("conversion"),
        QdrantError::InvalidUri(_) => Cow::Borrowed("invalid_uri"),
        QdrantError::Io(_) => Cow::Borrowed("io"),
        _ => Cow::Borrowed("_OTHER"),
    }
}

/// The canonical name of a gRPC status code.
fn grpc_code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "_OTHER",
    }
}

#[cfg(test)]
mod tests {
    use qdrant_client::qdrant::{ListValue, Struct};

    use super::*;

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
        assert_eq!(error_type(&error), "conversion");
        assert!(error.to_string().contains("`docs`"));
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
