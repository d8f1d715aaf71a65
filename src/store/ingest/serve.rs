//! [`Receiver`]: an OTLP/HTTP trace receiver (`POST /v1/traces`, protobuf or
//! JSON, optionally gzip) that writes what it receives to the store.
//!
//! Bad input gets a 4xx with a `google.rpc.Status` body naming what was
//! wrong, and the receiver keeps serving: 400 for a body that does not
//! decode, 408 for one that does not arrive in time, 413 for one over the
//! size limit (checked before it is read, and again after decompression) or
//! that would decode to too many items, 415 for an unknown content type or
//! encoding. When the store falls behind, or too much is held in memory at
//! once, 503 with `Retry-After` (OTLP clients retry). A 200 means the spans
//! are committed to the store.
//!
//! What one peer can make the receiver hold is bounded: connections
//! ([`ReceiverConfig::max_connections`]), time to send a request's head and
//! body, bytes of bodies held at once, items a body may decode to (spans,
//! attributes, events, links, values: counted on the wire before decoding),
//! bodies decoded at once, and decoded items waiting for the store.
//! Credentials in received attributes are always redacted, and known
//! prompt and completion keys by default (see
//! [`ReceiverConfig::keep_content`]).

use std::future::Future;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::BodyExt as _;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::otlp::{Content, convert_with, decode_json, decode_protobuf};
use super::scan::{self, Exceeded};
use crate::pricing::Pricer;
use crate::store::{SpanRecord, Store};

/// Where ragtrace's receiver logs.
const TARGET: &str = "ragtrace::serve";

/// Bodies are held against the memory budget in units of this many bytes.
const BUDGET_UNIT: usize = 1024;

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
    /// The most items (messages, strings and byte strings on the protobuf
    /// wire; objects, arrays and string values in JSON) one body may decode
    /// to (default 500,000); more is refused with 413 before decoding. An
    /// empty span is 2 bytes on the wire and hundreds once decoded: this,
    /// not the body size, bounds what a request costs in memory.
    pub max_items: usize,
    /// Decoded items held at once, waiting for or being written to the
    /// store (default 2,000,000, at least `max_items`); beyond that, 503.
    pub max_pending_items: usize,
    /// Bytes of request bodies held in memory at once, compressed and
    /// decompressed (default 128 MiB, at least `max_body_bytes`); beyond
    /// that, 503.
    pub max_buffered_bytes: usize,
    /// Bodies decoded at once (default: the number of CPUs, 1 to 4); others
    /// wait their turn.
    pub max_decoding: usize,
    /// Open connections at most (default 128); further ones wait in the
    /// listen backlog until one closes. Keep it under the process's file
    /// descriptor limit.
    pub max_connections: usize,
    /// Time a client has to send a request's head, also the longest a
    /// kept-alive connection stays idle (default 10 s).
    pub header_timeout: Duration,
    /// Time a client has to send a request's body once its head arrived
    /// (default 30 s); then 408.
    pub body_timeout: Duration,
    /// On shutdown, time in-flight requests get to finish before their
    /// connections are closed (default 10 s).
    pub shutdown_grace: Duration,
    /// Keep prompt and completion content found under known keys
    /// (`gen_ai.prompt`, `gen_ai.input.messages`, `input.value`,
    /// `output.value`, ...) as received (default `false`: replaced with
    /// `[REDACTED]`). Credentials are redacted either way.
    pub keep_content: bool,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        ReceiverConfig {
            max_body_bytes: 16 * 1024 * 1024,
            pricer: None,
            queue_requests: 64,
            max_items: 500_000,
            max_pending_items: 2_000_000,
            max_buffered_bytes: 128 * 1024 * 1024,
            max_decoding: cpus.clamp(1, 4),
            max_connections: 128,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            keep_content: false,
        }
    }
}

impl std::fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverConfig")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("pricer", &self.pricer.is_some())
            .field("queue_requests", &self.queue_requests)
            .field("max_items", &self.max_items)
            .field("max_pending_items", &self.max_pending_items)
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("max_decoding", &self.max_decoding)
            .field("max_connections", &self.max_connections)
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("keep_content", &self.keep_content)
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

    /// Sets the most items one body may decode to.
    pub fn max_items(mut self, items: usize) -> Self {
        self.max_items = items;
        self
    }

    /// Sets the most decoded items held at once.
    pub fn max_pending_items(mut self, items: usize) -> Self {
        self.max_pending_items = items;
        self
    }

    /// Sets the most bytes of bodies held at once.
    pub fn max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = bytes;
        self
    }

    /// Sets how many bodies are decoded at once.
    pub fn max_decoding(mut self, bodies: usize) -> Self {
        self.max_decoding = bodies;
        self
    }

    /// Sets the most connections open at once.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// Sets the time a client has to send a request's head (and the idle
    /// time of a kept-alive connection).
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Sets the time a client has to send a request's body.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Sets how long in-flight requests may take to finish on shutdown.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Keeps prompt and completion content as received (credentials are
    /// still redacted).
    pub fn keep_content(mut self, keep: bool) -> Self {
        self.keep_content = keep;
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
    connections_closed: AtomicU64,
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
    /// Requests refused because the store fell behind or failed, or too
    /// much was held in memory (503).
    pub fn unavailable(&self) -> u64 {
        self.0.unavailable.load(Ordering::Relaxed)
    }
    /// Spans stored by accepted requests (each request counts its own).
    pub fn spans(&self) -> u64 {
        self.0.spans.load(Ordering::Relaxed)
    }
    /// Spans refused for invalid ids (reported as partial success).
    pub fn rejected_spans(&self) -> u64 {
        self.0.rejected_spans.load(Ordering::Relaxed)
    }
    /// Connections closed by the receiver on shutdown because they did not
    /// finish within the grace period.
    pub fn connections_closed(&self) -> u64 {
        self.0.connections_closed.load(Ordering::Relaxed)
    }
}

struct Job {
    records: Vec<SpanRecord>,
    done: oneshot::Sender<Result<usize, String>>,
    /// The job's share of the pending-items budget, given back once written.
    _items: OwnedSemaphorePermit,
}

struct Shared {
    config: ReceiverConfig,
    counters: Arc<Counters>,
    writer: mpsc::Sender<Job>,
    /// Bytes of bodies held, in [`BUDGET_UNIT`]s.
    buffered: Arc<Semaphore>,
    /// Decoded items held.
    pending: Arc<Semaphore>,
    /// Bodies being decoded.
    decoding: Arc<Semaphore>,
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

/// Semaphore permits are counted in `u32`s (and Tokio allows fewer).
fn permits(n: usize) -> usize {
    n.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize))
}

impl Receiver {
    /// Binds `addr` and starts the store writer (inside a Tokio runtime).
    pub async fn bind(
        addr: SocketAddr,
        store: Store,
        mut config: ReceiverConfig,
    ) -> std::io::Result<Receiver> {
        config.max_items = config.max_items.max(1);
        config.max_pending_items = config.max_pending_items.max(config.max_items);
        config.max_buffered_bytes = config.max_buffered_bytes.max(config.max_body_bytes);
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let (sender, jobs) = mpsc::channel(config.queue_requests.max(1));
        let writer = std::thread::Builder::new()
            .name("ragtrace-serve-writer".into())
            .spawn(move || write_jobs(store, jobs))?;
        let buffered = permits(config.max_buffered_bytes.div_ceil(BUDGET_UNIT));
        Ok(Receiver {
            listener,
            shared: Arc::new(Shared {
                buffered: Arc::new(Semaphore::new(buffered)),
                pending: Arc::new(Semaphore::new(permits(config.max_pending_items))),
                decoding: Arc::new(Semaphore::new(permits(config.max_decoding))),
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

    /// Serves until `shutdown` completes; then stops accepting, gives the
    /// requests in flight [`ReceiverConfig::shutdown_grace`] to finish,
    /// closes what is left, and writes everything queued for the store.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Receiver {
            listener,
            shared,
            writer,
        } = self;
        let config = shared.config.clone();
        let counters = Arc::clone(&shared.counters);
        let router = Router::new()
            .route("/v1/traces", post(export))
            .with_state(shared);
        let slots = Arc::new(Semaphore::new(permits(config.max_connections)));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(config.header_timeout)
            .max_buf_size(64 * 1024);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut connections = tokio::task::JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            while connections.try_join_next().is_some() {}
            // A free slot first: past the cap, connections wait in the
            // kernel's backlog rather than holding a descriptor here.
            let slot = tokio::select! {
                slot = Arc::clone(&slots).acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
                () = &mut shutdown => break,
            };
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of descriptors, or a connection reset before
                        // it was accepted: wait a little, keep serving.
                        tracing::warn!(target: TARGET, "accepting a connection failed: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let router = router.clone();
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    let mut router = router.clone();
                    tower_service::Service::call(&mut router, request)
                },
            );
            let connection =
                builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            connections.spawn(async move {
                let _ = connection.await;
                drop(slot);
            });
        }
        drop(listener);
        drop(router);
        if tokio::time::timeout(config.shutdown_grace, graceful.shutdown())
            .await
            .is_err()
        {
            let left = connections.len() as u64;
            counters
                .connections_closed
                .fetch_add(left, Ordering::Relaxed);
            tracing::warn!(
                target: TARGET,
                "{left} connections did not finish within {:?}; closing them",
                config.shutdown_grace
            );
        }
        connections.shutdown().await;
        // The writer ends when the last sender (held by the router's state,
        // now dropped with every connection) is gone, after writing what was
        // queued.
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        Ok(())
    }
}

/// The store writer: one transaction for as many queued requests as are
/// waiting, then each request learns its fate (and its own span count).
fn write_jobs(mut store: Store, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < 64 {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let counts: Vec<usize> = batch.iter().map(|job| job.records.len()).collect();
        let records: Vec<SpanRecord> = batch
            .iter_mut()
            .flat_map(|job| std::mem::take(&mut job.records))
            .collect();
        let result = store.insert(&records).map_err(|e| e.to_string());
        drop(records);
        for (job, count) in batch.into_iter().zip(counts) {
            let _ = job.done.send(result.clone().map(|_| count));
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
            StatusCode::REQUEST_TIMEOUT => 4,
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
    let config = &shared.config;
    let limit = config.max_body_bytes;
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
                    "Content-Type `{}` is not OTLP; send application/x-protobuf or application/json",
                    content_type.chars().take(100).collect::<String>()
                ),
            ));
        }
    };
    let failure = move |status, message: String| Failure::new(status, Some(encoding), message);
    let too_large = || {
        failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than the limit of {limit} bytes"),
        )
    };
    let busy = move |what: &str| {
        failure(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the receiver is holding too many {what} at once; retry shortly"),
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
    let compression = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    let gzip = match compression.as_deref() {
        None | Some("") | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            return Err(failure(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Encoding `{}` is not supported; send gzip or none",
                    other.chars().take(100).collect::<String>()
                ),
            ));
        }
    };

    // The body, within the time limit, each piece held against the budget
    // of buffered bytes.
    let mut held: Option<OwnedSemaphorePermit> = None;
    let mut hold = |total: usize| -> Result<(), Failure> {
        let already = held.as_ref().map_or(0, OwnedSemaphorePermit::num_permits);
        let more = total.div_ceil(BUDGET_UNIT).saturating_sub(already);
        if more == 0 {
            return Ok(());
        }
        let permit = u32::try_from(more)
            .ok()
            .and_then(|n| Arc::clone(&shared.buffered).try_acquire_many_owned(n).ok())
            .ok_or_else(|| busy("request bodies"))?;
        match &mut held {
            Some(held) => held.merge(permit),
            None => held = Some(permit),
        }
        Ok(())
    };
    let read = async {
        let mut body = body;
        let mut bytes = Vec::with_capacity(declared.map_or(0, |n| n as usize).min(limit));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| {
                failure(
                    StatusCode::BAD_REQUEST,
                    format!("the body could not be read: {error}"),
                )
            })?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            if bytes.len() + data.len() > limit {
                return Err(too_large());
            }
            hold(bytes.len() + data.len())?;
            bytes.extend_from_slice(&data);
        }
        Ok(bytes)
    };
    let body = tokio::time::timeout(config.body_timeout, read)
        .await
        .map_err(|_| {
            failure(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body did not arrive within {} s",
                    config.body_timeout.as_secs_f64()
                ),
            )
        })??;

    // Decoding is CPU work: off the I/O threads, a few bodies at a time.
    let _decoding = Arc::clone(&shared.decoding)
        .acquire_owned()
        .await
        .map_err(|_| busy("bodies to decode"))?;
    let pricer = config.pricer.clone();
    let max_items = config.max_items;
    let content = if config.keep_content {
        Content::Keep
    } else {
        Content::Redact
    };
    let buffered = Arc::clone(&shared.buffered);
    let pending = Arc::clone(&shared.pending);
    let (decoded, items) = tokio::task::spawn_blocking(move || {
        let mut _decompressed = None;
        let raw: std::borrow::Cow<'_, [u8]> = if gzip {
            let (out, extra) = gunzip(&body, limit).map_err(|error| match error {
                Gunzip::TooLarge => failure(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the decompressed body is larger than the limit of {limit} bytes"),
                ),
                Gunzip::Invalid(message) => {
                    failure(StatusCode::BAD_REQUEST, format!("invalid gzip body: {message}"))
                }
            })?;
            // The decompressed copy is held against the budget too.
            _decompressed = extra
                .map(|units| {
                    u32::try_from(units)
                        .ok()
                        .and_then(|n| Arc::clone(&buffered).try_acquire_many_owned(n).ok())
                        .ok_or_else(|| busy("request bodies"))
                })
                .transpose()?;
            out.into()
        } else {
            body.as_slice().into()
        };
        // Count what it would decode to before decoding it.
        let counted = match encoding {
            Encoding::Protobuf => scan::protobuf_items(&raw, max_items),
            Encoding::Json => scan::json_items(&raw, max_items),
        };
        let items = counted.map_err(|exceeded| match exceeded {
            Exceeded::Items(limit) => failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the body holds more than {limit} items (spans, attributes, events, links and values together); send smaller batches"
                ),
            ),
            Exceeded::Depth(limit) => failure(
                StatusCode::BAD_REQUEST,
                format!("the body nests values deeper than {limit} levels"),
            ),
        })?;
        let items = u32::try_from(items.max(1))
            .ok()
            .and_then(|n| pending.try_acquire_many_owned(n).ok())
            .ok_or_else(|| busy("decoded spans"))?;
        let request = match encoding {
            Encoding::Protobuf => decode_protobuf(&raw),
            Encoding::Json => decode_json(&raw),
        }
        .map_err(|e| failure(StatusCode::BAD_REQUEST, e.to_string()))?;
        drop(raw);
        Ok((convert_with(request, pricer.as_deref(), content), items))
    })
    .await
    .map_err(|e| {
        failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("decoding failed: {e}"),
        )
    })??;
    drop(_decoding);
    drop(held);

    let rejected = decoded.rejected.len();
    let (done, outcome) = oneshot::channel();
    let job = Job {
        records: decoded.records,
        done,
        _items: items,
    };
    shared.writer.try_send(job).map_err(|_| {
        failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "the store is behind; retry shortly".to_owned(),
        )
    })?;
    let stored = match outcome.await {
        Ok(Ok(n)) => n,
        Ok(Err(error)) => {
            return Err(failure(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the store could not be written: {error}"),
            ));
        }
        Err(_) => {
            return Err(failure(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store writer stopped".to_owned(),
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

/// Why a gzip body was refused.
enum Gunzip {
    TooLarge,
    Invalid(String),
}

/// Decompresses every member of a gzip body (a concatenation of members
/// is one stream, RFC 1952), refusing output over `limit` bytes and bytes
/// after the last member that are not another member. Returns the output
/// and how many budget units it needs beyond the compressed body's.
fn gunzip(body: &[u8], limit: usize) -> Result<(Vec<u8>, Option<usize>), Gunzip> {
    let mut out = Vec::new();
    let mut reader = flate2::read::MultiGzDecoder::new(body).take(limit as u64 + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| Gunzip::Invalid(e.to_string()))?;
    if out.len() > limit {
        return Err(Gunzip::TooLarge);
    }
    let extra = out.len().saturating_sub(body.len()).div_ceil(BUDGET_UNIT);
    Ok((out, (extra > 0).then_some(extra)))
}

/// What the receiver does with a body, without its memory budgets: gunzip
/// (every member), count the items, decode, convert (redacting content).
/// For fuzz harnesses and tests; the receiver itself answers with the
/// status each error maps to.
#[doc(hidden)]
pub fn receive_body(
    body: &[u8],
    json: bool,
    gzip: bool,
    max_bytes: usize,
    max_items: usize,
) -> Result<super::Converted, String> {
    let raw: std::borrow::Cow<'_, [u8]> = if gzip {
        match gunzip(body, max_bytes) {
            Ok((out, _)) => out.into(),
            Err(Gunzip::TooLarge) => return Err("decompressed body too large".into()),
            Err(Gunzip::Invalid(message)) => return Err(format!("invalid gzip body: {message}")),
        }
    } else {
        body.into()
    };
    let counted = if json {
        scan::json_items(&raw, max_items)
    } else {
        scan::protobuf_items(&raw, max_items)
    };
    counted.map_err(|e| format!("{e:?}"))?;
    let request = if json {
        decode_json(&raw)
    } else {
        decode_protobuf(&raw)
    }
    .map_err(|e| e.to_string())?;
    Ok(convert_with(request, None, Content::Redact))
}
