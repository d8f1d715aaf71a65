//! The OTLP/HTTP receiver behind `ragtrace serve`: it stores what the real
//! `opentelemetry-otlp` HTTP exporter sends (protobuf and JSON); malformed
//! input gets a clear 4xx and the receiver keeps serving; the binary
//! answers 200 only once spans are committed.
#![cfg(all(feature = "telemetry", feature = "serve"))]

mod support;

use std::io::{BufRead as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;
use ragtrace::store::ingest::{Receiver, ReceiverConfig, ReceiverStats};
use ragtrace::store::{SpanQuery, Store};
use ragtrace::telemetry::{LogFormat, OtlpProtocol, Telemetry};
use support::rag::{Rag, Scoped};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const LIMIT: usize = 1024 * 1024;

struct Server {
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    stats: ReceiverStats,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    db: PathBuf,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let db = dir.join("served.db");
        let store = Store::open(&db).unwrap();
        let receiver = runtime
            .block_on(Receiver::bind(
                "127.0.0.1:0".parse().unwrap(),
                store,
                ReceiverConfig::new().max_body_bytes(LIMIT),
            ))
            .unwrap();
        let addr = receiver.local_addr().unwrap();
        let stats = receiver.stats();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = runtime.spawn(receiver.serve(async {
            let _ = stopped.await;
        }));
        Server {
            runtime,
            addr,
            stats,
            stop: Some(stop),
            done: Some(done),
            db,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server gracefully and returns its store.
    fn stop(mut self) -> Store {
        let _ = self.stop.take().unwrap().send(());
        let done = self.done.take().unwrap();
        self.runtime.block_on(done).unwrap().unwrap();
        Store::open_read_only(&self.db).unwrap()
    }
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

/// A request with one chat span per id.
fn request(span_ids: &[u8], trace_id: Vec<u8>) -> ExportTraceServiceRequest {
    let spans = span_ids
        .iter()
        .map(|&i| Span {
            trace_id: trace_id.clone(),
            span_id: vec![0, 0, 0, 0, 0, 0, 0, i],
            name: format!("chat {i}"),
            kind: 3,
            start_time_unix_nano: 1_700_000_000_000_000_000,
            end_time_unix_nano: 1_700_000_001_000_000_000,
            attributes: vec![
                kv(
                    "gen_ai.operation.name",
                    any_value::Value::StringValue("chat".into()),
                ),
                kv(
                    "gen_ai.request.model",
                    any_value::Value::StringValue("gpt-4o".into()),
                ),
                kv("gen_ai.usage.input_tokens", any_value::Value::IntValue(100)),
                kv("gen_ai.usage.output_tokens", any_value::Value::IntValue(10)),
            ],
            ..Span::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv(
                    "service.name",
                    any_value::Value::StringValue("hand".into()),
                )],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

fn trace(n: u8) -> Vec<u8> {
    let mut id = vec![0xab; 16];
    id[15] = n;
    id
}

/// `google.rpc.Status`, as the receiver sends it with errors.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[test]
fn the_real_http_exporter_lands_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    for protocol in [OtlpProtocol::HttpProtobuf, OtlpProtocol::HttpJson] {
        let (dispatch, telemetry) = Telemetry::builder()
            .ignore_env()
            .service_name(format!("rag-{}", protocol.as_str()))
            .no_store()
            .otlp_endpoint(server.url(""))
            .otlp_protocol(protocol)
            .log_format(LogFormat::Off)
            .dispatch()
            .unwrap();
        let scoped = Scoped::new(dispatch);
        let rag = Rag::priced();
        scoped.block_on(async {
            for _ in 0..2 {
                rag.request("u-1", "q").await.unwrap();
            }
        });
        drop(scoped);
        telemetry.flush().unwrap();
        let otlp = telemetry.sink("otlp").unwrap();
        assert_eq!((otlp.exported, otlp.lost()), (10, 0), "{otlp:?}");
        telemetry.shutdown().unwrap();
    }
    let stats = server.stats.clone();
    let store = server.stop();
    assert_eq!(stats.rejected(), 0);
    assert_eq!(stats.spans(), 20);
    for service in ["rag-http/protobuf", "rag-http/json"] {
        let spans = store.spans(&SpanQuery::new().service(service)).unwrap();
        assert_eq!(spans.len(), 10, "{service}");
        let chat = spans
            .iter()
            .find(|s| s.step.as_deref() == Some("chat"))
            .unwrap();
        assert_eq!(chat.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
        assert_eq!(chat.usage.unwrap().cache_read_input_tokens, 1024);
        assert!(chat.cost.is_some());
        let retrieval = spans
            .iter()
            .find(|s| s.step.as_deref() == Some("retrieval"))
            .unwrap();
        assert_eq!(retrieval.top_score, Some(0.91));
    }
}

/// Posts raw bytes over a plain TCP connection and returns the status line
/// and body; the request body is written in the background and may be cut
/// off by the server (that is the point of some cases).
async fn raw_post(addr: SocketAddr, headers: &str, body: Vec<u8>, chunked: bool) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!("POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n");
    write.write_all(head.as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        for chunk in body.chunks(64 * 1024) {
            let result = if chunked {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(chunk);
                framed.extend_from_slice(b"\r\n");
                write.write_all(&framed).await
            } else {
                write.write_all(chunk).await
            };
            if result.is_err() {
                return;
            }
        }
        if chunked {
            let _ = write.write_all(b"0\r\n\r\n").await;
        }
    });
    let mut response = Vec::new();
    let mut buf = [0_u8; 8192];
    loop {
        let n = match read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if response.len() >= end + 4 + length {
                break;
            }
        }
    }
    writer.abort();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn malformed_input_gets_a_clear_4xx_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let url = server.url("/v1/traces");
    let valid = request(&[1, 2], trace(1)).encode_to_vec();

    let post = |content_type: &'static str, encoding: Option<&'static str>, body: Vec<u8>| {
        let mut request = client
            .post(&url)
            .header("content-type", content_type)
            .body(body);
        if let Some(encoding) = encoding {
            request = request.header("content-encoding", encoding);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let bytes = response.bytes().await.unwrap().to_vec();
            (status, bytes)
        }
    };
    let proto_message = |bytes: &[u8]| RpcStatus::decode(bytes).unwrap().message;
    let json_message = |bytes: &[u8]| {
        let value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        value["message"].as_str().unwrap().to_owned()
    };

    let mut refused = 0;
    server.runtime.block_on(async {
        // Truncated protobuf.
        let (status, body) = post("application/x-protobuf", None, valid[..valid.len() - 7].to_vec()).await;
        assert_eq!(status, 400);
        let message = proto_message(&body);
        assert!(message.starts_with("invalid OTLP/protobuf"), "{message}");
        refused += 1;

        // Invalid JSON.
        let (status, body) = post("application/json", None, br#"{"resourceSpans": [{"#.to_vec()).await;
        assert_eq!(status, 400);
        let message = json_message(&body);
        assert_eq!(message, "invalid OTLP/JSON at column 20: EOF while parsing an object");
        refused += 1;

        // Valid JSON, wrong types.
        let wrong = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abababababababababababababababab","spanId":"0000000000000001","name":"x","startTimeUnixNano":{"seconds":1}}]}]}]}"#;
        let (status, body) = post("application/json; charset=utf-8", None, wrong.to_vec()).await;
        assert_eq!(status, 400);
        let message = json_message(&body);
        assert!(message.contains("invalid type: map"), "{message}");
        refused += 1;

        // Not OTLP at all.
        let (status, body) = post("text/plain", None, b"hello".to_vec()).await;
        assert_eq!(status, 415);
        assert!(String::from_utf8_lossy(&body).contains("`text/plain` is not OTLP"));
        refused += 1;

        // An encoding we do not speak, and gzip that is not gzip.
        let (status, _) = post("application/x-protobuf", Some("br"), valid.clone()).await;
        assert_eq!(status, 415);
        refused += 1;
        let (status, body) = post("application/x-protobuf", Some("gzip"), valid.clone()).await;
        assert_eq!(status, 400);
        assert!(proto_message(&body).starts_with("invalid gzip body"));
        refused += 1;

        // A small gzip body that inflates past the limit.
        let bomb = gzip(&vec![0_u8; LIMIT * 20]);
        assert!(bomb.len() < LIMIT);
        let (status, body) = post("application/x-protobuf", Some("gzip"), bomb).await;
        assert_eq!(status, 413);
        assert!(proto_message(&body).contains("decompressed body is larger than the limit"));
        refused += 1;

        // 100 MB, declared up front and streamed without a length.
        let huge = vec![b'x'; 100 * 1024 * 1024];
        let (status, body) = raw_post(
            server.addr,
            &format!("Content-Type: application/json\r\nContent-Length: {}\r\n", huge.len()),
            huge.clone(),
            false,
        )
        .await;
        assert_eq!(status, 413, "{body}");
        assert!(body.contains(&format!("larger than the limit of {LIMIT} bytes")), "{body}");
        refused += 1;
        let (status, body) = raw_post(
            server.addr,
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
            huge,
            true,
        )
        .await;
        assert_eq!(status, 413, "{body}");
        refused += 1;

        // Wrong method, wrong path.
        let status = client.get(&url).send().await.unwrap().status().as_u16();
        assert_eq!(status, 405);
        let status = client
            .post(server.url("/v1/logs"))
            .header("content-type", "application/x-protobuf")
            .body(valid.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 404);

        // After all that, it still serves: protobuf, gzip, JSON.
        let (status, body) = post("application/x-protobuf", None, valid.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(ExportTraceServiceResponse::decode(&body[..]).unwrap().partial_success, None);
        let zipped = gzip(&request(&[3], trace(2)).encode_to_vec());
        assert_eq!(post("application/x-protobuf", Some("gzip"), zipped).await.0, 200);
        let json = serde_json::to_vec(&request(&[4], trace(3))).unwrap();
        let (status, body) = post("application/json", None, json).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

        // A span with an invalid id is refused alone, as a partial success.
        let mut mixed = request(&[5, 6], trace(4));
        mixed.resource_spans[0].scope_spans[0].spans[1].span_id = vec![1, 2, 3];
        let (status, body) = post("application/x-protobuf", None, mixed.encode_to_vec()).await;
        assert_eq!(status, 200);
        let partial = ExportTraceServiceResponse::decode(&body[..]).unwrap().partial_success.unwrap();
        assert_eq!(partial.rejected_spans, 1);
        assert!(partial.error_message.contains("span id must be 8 bytes"), "{}", partial.error_message);
    });

    let stats = server.stats.clone();
    let store = server.stop();
    assert_eq!(stats.rejected(), refused);
    assert_eq!(stats.rejected_spans(), 1);
    assert_eq!(store.count().unwrap(), 5, "spans 1, 2, 3, 4 and 5");
    let chat = store.spans(&SpanQuery::new()).unwrap().remove(0);
    assert_eq!(chat.service.as_deref(), Some("hand"));
    assert_eq!(chat.model.as_deref(), Some("gpt-4o"));
}

#[test]
fn the_binary_answers_200_only_once_spans_are_committed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bin.db");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ragtrace"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .trim_end_matches(',')
        .to_owned();
    assert!(url.ends_with("/v1/traces"), "{url}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for n in 1..=3 {
            let status = client
                .post(&url)
                .header("content-type", "application/x-protobuf")
                .body(request(&[1, 2, 3], trace(n)).encode_to_vec())
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 200);
        }
    });
    // No graceful stop: whatever was acknowledged must already be on disk.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(Store::open_read_only(&db).unwrap().count().unwrap(), 9);
}
