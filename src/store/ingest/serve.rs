//! [`Receiver`]: an OTLP/HTTP trace receiver (`POST /v1/traces`, protobuf or
//! JSON, optionally gzip) that writes what it receives to the store.
//!
//! Bad input gets a 4xx with a `google.rpc.Status` body naming what was
//! wrong, and the receiver keeps serving: 400 for a body that does not
//! decode, 413 for one over the size limit (checked before it is read, and
//! again after decompression), 415 for an unknown content type or encoding.
//! When the store falls behind, 503 with `Retry-After` (OTLP clients retry).
//! A 200 means the spans are committed to the store.

use std::future::Future;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use tokio::sync::{mpsc, oneshot};

use super::otlp::{convert, decode_json, decode_protobuf};
use crate::pricing::Pricer;
use crate::store::{SpanRecord, Store};

/// Where ragtrace's receiver logs.
const TARGET: &str = "ragtrace::serve";

/// Settings of a [`Receiver`].
#[derive(Clone)]
#[non_exhaustive]
pub struct ReceiverConfig {
    /// The largest request body accepted, compressed or not (default 16 MiB).
    pub max_body_bytes: usize,
    /// Prices spans that carry usage but no cost.
    pub pricer: Option<Arc<dyn Pricer>>,
    /// Requests waiting for the store at most; beyond that, 503.
    pub queue_requests: usize,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            max_body_bytes: 16 * 1024 * 1024,
            pricer: None,
            queue_requests: 64,
        }
    }
}

impl std::fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverConfig")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("pricer", &self.pricer.is_some())
            .field("queue_requests", &self.queue_requests)
            .finish()
    }
}

impl ReceiverConfig {
    /// The defaults.
    pub fn new() -> Self {
        ReceiverConfig::default()
    }

    /// Sets the body size limit.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Prices spans that carry usage but no cost.
    pub fn pricer(mut self, pricer: Arc<dyn Pricer>) -> Self {
        self.pricer = Some(pricer);
        self
    }
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
    unavailable: AtomicU64,
    spans: AtomicU64,
    rejected_spans: AtomicU64,
}

/// A live view of what a [`Receiver`] has done.
#[derive(Debug, Clone)]
pub struct ReceiverStats(Arc<Counters>);

impl ReceiverStats {
    /// Requests received on `/v1/traces`.
    pub fn requests(&self) -> u64 {
        self.0.requests.load(Ordering::Relaxed)
    }
    /// Requests whose spans were stored.
    pub fn accepted(&self) -> u64 {
        self.0.accepted.load(Ordering::Relaxed)
    }
    /// Requests refused for bad input (4xx).
    pub fn rejected(&self) -> u64 {
        self.0.rejected.load(Ordering::Relaxed)
    }
    /// Requests refused because the store fell behind or failed (503).
    pub fn unavailable(&self) -> u64 {
        self.0.unavailable.load(Ordering::Relaxed)
    }
    /// Spans stored.
    pub fn spans(&self) -> u64 {
        self.0.spans.load(Ordering::Relaxed)
    }
    /// Spans refused for invalid ids (reported as partial success).
    pub fn rejected_spans(&self) -> u64 {
        self.0.rejected_spans.load(Ordering::Relaxed)
    }
}

struct Job {
    records: Vec<SpanRecord>,
    done: oneshot::Sender<Result<usize, String>>,
}

struct Shared {
    config: ReceiverConfig,
    counters: Arc<Counters>,
    writer: mpsc::Sender<Job>,
}

/// An OTLP/HTTP receiver bound to an address, writing to a store.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use ragtrace::store::Store;
/// use ragtrace::store::ingest::{Receiver, ReceiverConfig};
///
/// let store = Store::open("ragtrace.db")?;
/// let receiver = Receiver::bind("127.0.0.1:4318".parse()?, store, ReceiverConfig::new()).await?;
/// receiver.serve(async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// # Ok(()) }
/// ```
pub struct Receiver {
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    writer: std::thread::JoinHandle<()>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("addr", &self.listener.local_addr().ok())
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Binds `addr` and starts the store writer (inside a Tokio runtime).
    pub async fn bind(
        addr: SocketAddr,
        store: Store,
        config: ReceiverConfig,
    ) -> std::io::Result<Receiver> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let (sender, jobs) = mpsc::channel(config.queue_requests.max(1));
        let writer = std::thread::Builder::new()
            .name("ragtrace-serve-writer".into())
            .spawn(move || write_jobs(store, jobs))?;
        Ok(Receiver {
            listener,
            shared: Arc::new(Shared {
                config,
                counters: Arc::default(),
                writer: sender,
            }),
            writer,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Counters of what it has done.
    pub fn stats(&self) -> ReceiverStats {
        ReceiverStats(Arc::clone(&self.shared.counters))
    }

    /// Serves until `shutdown` completes, then finishes the requests in
    /// flight and writes what they carried.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = Router::new()
            .route("/v1/traces", post(export))
            .with_state(Arc::clone(&self.shared));
        let result = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        // The writer ends when the last sender (ours) is gone.
        drop(self.shared);
        let writer = self.writer;
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        result
    }
}

/// The store writer: one transaction for as many queued requests as are
/// waiting, then each request learns its fate.
fn write_jobs(mut store: Store, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < 64 {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let records: Vec<SpanRecord> = batch
            .iter_mut()
            .flat_map(|job| std::mem::take(&mut job.records))
            .collect();
        let result = store.insert(&records).map_err(|e| e.to_string());
        for job in batch {
            let _ = job.done.send(result.clone());
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

/// A failed request: status, and the reason sent back and logged.
struct Failure {
    status: StatusCode,
    message: String,
    encoding: Option<Encoding>,
}

impl Failure {
    fn new(status: StatusCode, encoding: Option<Encoding>, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
            encoding,
        }
    }
}

/// `google.rpc.Status`, the body OTLP/HTTP sends with errors.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        // gRPC codes: INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAVAILABLE.
        let code = match self.status {
            StatusCode::PAYLOAD_TOO_LARGE => 8,
            StatusCode::SERVICE_UNAVAILABLE => 14,
            _ => 3,
        };
        let mut response = match self.encoding {
            Some(Encoding::Protobuf) => (
                self.status,
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                prost::Message::encode_to_vec(&RpcStatus {
                    code,
                    message: self.message,
                }),
            )
                .into_response(),
            Some(Encoding::Json) => (
                self.status,
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::json!({ "code": code, "message": self.message }).to_string(),
            )
                .into_response(),
            None => (
                self.status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                self.message,
            )
                .into_response(),
        };
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

async fn export(
    State(shared): State<Arc<Shared>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let counters = &shared.counters;
    counters.requests.fetch_add(1, Ordering::Relaxed);
    match handle(&shared, &headers, body).await {
        Ok(response) => {
            counters.accepted.fetch_add(1, Ordering::Relaxed);
            response
        }
        Err(failure) => {
            let counter = if failure.status == StatusCode::SERVICE_UNAVAILABLE {
                &counters.unavailable
            } else {
                &counters.rejected
            };
            counter.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                target: TARGET,
                %peer,
                status = failure.status.as_u16(),
                "refused an export: {}",
                failure.message
            );
            failure.into_response()
        }
    }
}

async fn handle(shared: &Shared, headers: &HeaderMap, body: Body) -> Result<Response, Failure> {
    let limit = shared.config.max_body_bytes;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let encoding = match media.as_str() {
        "application/x-protobuf" | "application/protobuf" => Encoding::Protobuf,
        "application/json" => Encoding::Json,
        _ => {
            return Err(Failure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                format!(
                    "Content-Type `{content_type}` is not OTLP; send application/x-protobuf or application/json"
                ),
            ));
        }
    };
    let too_large = || {
        Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(encoding),
            format!("the body is larger than the limit of {limit} bytes"),
        )
    };
    // A declared length over the limit is refused before reading a byte.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let body = axum::body::to_bytes(body, limit).await.map_err(|error| {
        let error = error.into_inner();
        if error.is::<http_body_util::LengthLimitError>() {
            too_large()
        } else {
            Failure::new(
                StatusCode::BAD_REQUEST,
                Some(encoding),
                format!("the body could not be read: {error}"),
            )
        }
    })?;
    let compression = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    let gzip = match compression.as_deref() {
        None | Some("") | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            return Err(Failure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Some(encoding),
                format!("Content-Encoding `{other}` is not supported; send gzip or none"),
            ));
        }
    };
    let pricer = shared.config.pricer.clone();
    // Decoding and reading the keys is CPU work: keep it off the I/O threads.
    let decoded = tokio::task::spawn_blocking(move || {
        let raw: std::borrow::Cow<'_, [u8]> = if gzip {
            let mut out = Vec::new();
            let mut reader = flate2::read::GzDecoder::new(&body[..]).take(limit as u64 + 1);
            reader.read_to_end(&mut out).map_err(|e| {
                Failure::new(
                    StatusCode::BAD_REQUEST,
                    Some(encoding),
                    format!("invalid gzip body: {e}"),
                )
            })?;
            if out.len() > limit {
                return Err(Failure::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Some(encoding),
                    format!("the decompressed body is larger than the limit of {limit} bytes"),
                ));
            }
            out.into()
        } else {
            body.as_ref().into()
        };
        let request = match encoding {
            Encoding::Protobuf => decode_protobuf(&raw),
            Encoding::Json => decode_json(&raw),
        }
        .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, Some(encoding), e.to_string()))?;
        Ok(convert(request, pricer.as_deref()))
    })
    .await
    .map_err(|e| {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(encoding),
            format!("decoding failed: {e}"),
        )
    })??;

    let rejected = decoded.rejected.len();
    let (done, outcome) = oneshot::channel();
    let job = Job {
        records: decoded.records,
        done,
    };
    shared.writer.try_send(job).map_err(|_| {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(encoding),
            "the store is behind; retry shortly",
        )
    })?;
    let stored = match outcome.await {
        Ok(Ok(n)) => n,
        Ok(Err(error)) => {
            return Err(Failure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(encoding),
                format!("the store could not be written: {error}"),
            ));
        }
        Err(_) => {
            return Err(Failure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(encoding),
                "the store writer stopped",
            ));
        }
    };
    shared
        .counters
        .spans
        .fetch_add(stored as u64, Ordering::Relaxed);
    shared
        .counters
        .rejected_spans
        .fetch_add(rejected as u64, Ordering::Relaxed);

    let partial_success = (rejected > 0).then(|| {
        let first = &decoded.rejected[0];
        ExportTracePartialSuccess {
            rejected_spans: rejected as i64,
            error_message: format!("span `{}`: {}", first.name, first.reason),
        }
    });
    let response = ExportTraceServiceResponse { partial_success };
    Ok(match encoding {
        Encoding::Protobuf => (
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            prost::Message::encode_to_vec(&response),
        )
            .into_response(),
        Encoding::Json => (
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_vec(&response).unwrap_or_default(),
        )
            .into_response(),
    })
}
