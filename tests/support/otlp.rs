//! An OTLP/gRPC trace receiver on 127.0.0.1, built on `opentelemetry-proto`'s
//! generated server, and a decoded view of the spans it received.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

#[derive(Clone, Default)]
struct Collector {
    requests: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    /// Answer without keeping anything (benchmarks).
    discard: bool,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        if !self.discard {
            self.requests.lock().unwrap().push(request.into_inner());
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// A running receiver. Dropping it stops the server.
pub struct OtlpReceiver {
    pub addr: SocketAddr,
    collector: Collector,
    _server: tokio::task::JoinHandle<()>,
}

impl OtlpReceiver {
    /// Starts a receiver on an ephemeral port of 127.0.0.1 (inside a tokio runtime).
    pub async fn start() -> OtlpReceiver {
        OtlpReceiver::start_with("127.0.0.1:0".parse().unwrap(), false).await
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far, decoded.
    pub fn spans(&self) -> Vec<ExportedSpan> {
        let requests = self.collector.requests.lock().unwrap();
        let mut out = Vec::new();
        for request in requests.iter() {
            for resource in &request.resource_spans {
                let service = resource
                    .resource
                    .as_ref()
                    .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                    .and_then(|kv| kv.value.as_ref())
                    .and_then(|v| v.value.clone());
                for scope in &resource.scope_spans {
                    for span in &scope.spans {
                        out.push(ExportedSpan::decode(span, service.clone()));
                    }
                }
            }
        }
        out
    }
}

/// One exported span, decoded for assertions.
#[derive(Debug, Clone)]
pub struct ExportedSpan {
    pub name: String,
    pub kind: SpanKind,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub parent_span_id: Vec<u8>,
    pub attributes: HashMap<String, Value>,
    pub status: StatusCode,
    pub status_message: String,
    pub events: Vec<(String, HashMap<String, Value>)>,
    pub start_unix_nano: u64,
    pub end_unix_nano: u64,
    pub service: Option<Value>,
}

impl ExportedSpan {
    fn decode(
        span: &opentelemetry_proto::tonic::trace::v1::Span,
        service: Option<Value>,
    ) -> ExportedSpan {
        let attrs = |kvs: &[opentelemetry_proto::tonic::common::v1::KeyValue]| {
            kvs.iter()
                .filter_map(|kv| Some((kv.key.clone(), kv.value.as_ref()?.value.clone()?)))
                .collect::<HashMap<_, _>>()
        };
        let status = span.status.clone().unwrap_or_default();
        ExportedSpan {
            name: span.name.clone(),
            kind: SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified),
            trace_id: span.trace_id.clone(),
            span_id: span.span_id.clone(),
            parent_span_id: span.parent_span_id.clone(),
            attributes: attrs(&span.attributes),
            status: StatusCode::try_from(status.code).unwrap_or(StatusCode::Unset),
            status_message: status.message,
            events: span
                .events
                .iter()
                .map(|e| (e.name.clone(), attrs(&e.attributes)))
                .collect(),
            start_unix_nano: span.start_time_unix_nano,
            end_unix_nano: span.end_time_unix_nano,
            service,
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.attributes.contains_key(key)
    }

    /// An attribute that must be an OTLP int.
    pub fn int(&self, key: &str) -> i64 {
        match self.attributes.get(key) {
            Some(Value::IntValue(v)) => *v,
            other => panic!("{}: `{key}` is not an int but {other:?}", self.name),
        }
    }

    /// An attribute that must be an OTLP double.
    pub fn double(&self, key: &str) -> f64 {
        match self.attributes.get(key) {
            Some(Value::DoubleValue(v)) => *v,
            other => panic!("{}: `{key}` is not a double but {other:?}", self.name),
        }
    }

    /// An attribute that must be an OTLP string.
    pub fn string(&self, key: &str) -> &str {
        match self.attributes.get(key) {
            Some(Value::StringValue(v)) => v,
            other => panic!("{}: `{key}` is not a string but {other:?}", self.name),
        }
    }

    /// An attribute that must be an OTLP bool.
    pub fn boolean(&self, key: &str) -> bool {
        match self.attributes.get(key) {
            Some(Value::BoolValue(v)) => *v,
            other => panic!("{}: `{key}` is not a bool but {other:?}", self.name),
        }
    }

    /// An attribute that must be an OTLP array of doubles.
    pub fn doubles(&self, key: &str) -> Vec<f64> {
        match self.attributes.get(key) {
            Some(Value::ArrayValue(array)) => array
                .values
                .iter()
                .map(|v| match &v.value {
                    Some(Value::DoubleValue(d)) => *d,
                    other => panic!("{}: `{key}` holds a non-double {other:?}", self.name),
                })
                .collect(),
            other => panic!("{}: `{key}` is not an array but {other:?}", self.name),
        }
    }

    /// An attribute that must be an OTLP array of strings.
    pub fn strings(&self, key: &str) -> Vec<String> {
        match self.attributes.get(key) {
            Some(Value::ArrayValue(array)) => array
                .values
                .iter()
                .map(|v| match &v.value {
                    Some(Value::StringValue(s)) => s.clone(),
                    other => panic!("{}: `{key}` holds a non-string {other:?}", self.name),
                })
                .collect(),
            other => panic!("{}: `{key}` is not an array but {other:?}", self.name),
        }
    }

    /// Every string value on the span and its events, for "never appears" checks.
    pub fn all_text(&self) -> String {
        fn push(out: &mut String, v: &Value) {
            match v {
                Value::StringValue(s) => out.push_str(s),
                Value::ArrayValue(a) => a
                    .values
                    .iter()
                    .filter_map(|x| x.value.as_ref())
                    .for_each(|x| push(out, x)),
                Value::KvlistValue(l) => l
                    .values
                    .iter()
                    .filter_map(|kv| kv.value.as_ref()?.value.as_ref())
                    .for_each(|x| push(out, x)),
                other => out.push_str(&format!("{other:?}")),
            }
            out.push('\n');
        }
        let mut out = format!("{}\n{}\n", self.name, self.status_message);
        for v in self.attributes.values() {
            push(&mut out, v);
        }
        for (name, attrs) in &self.events {
            out.push_str(name);
            for v in attrs.values() {
                push(&mut out, v);
            }
        }
        out
    }
}

impl OtlpReceiver {
    /// Starts a receiver on `addr` (e.g. one that refused connections before).
    pub async fn start_at(addr: SocketAddr) -> OtlpReceiver {
        OtlpReceiver::start_with(addr, false).await
    }

    /// Starts a receiver that answers but keeps nothing (for benchmarks).
    pub async fn start_discarding() -> OtlpReceiver {
        OtlpReceiver::start_with("127.0.0.1:0".parse().unwrap(), true).await
    }

    async fn start_with(addr: SocketAddr, discard: bool) -> OtlpReceiver {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let collector = Collector {
            discard,
            ..Collector::default()
        };
        let service = TraceServiceServer::new(collector.clone());
        let server = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await
                .unwrap();
        });
        OtlpReceiver {
            addr,
            collector,
            _server: server,
        }
    }
}
