//! An HTTP server on 127.0.0.1 speaking the OpenAI chat-completions and
//! embeddings API (and Azure OpenAI's deployment paths), for the real
//! `async-openai` client to talk to.
//!
//! A test scripts one [`Exchange`] per expected request: what the request
//! must contain (checked by JSON pointer, plus the credential header) and
//! what to answer (JSON, an SSE stream, a stream that breaks off, an HTTP
//! error, a slow answer). A request that breaks an expectation is answered
//! `400` with the reasons, so the client sees an error and the test fails;
//! every problem is also kept for [`OpenAiServer::assert_done`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

/// How the client must authenticate.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `Authorization: Bearer <key>` (OpenAI and compatible servers).
    Bearer(String),
    /// `api-key: <key>` (Azure OpenAI).
    ApiKey(String),
}

/// What to answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `200` with this JSON body.
    Json(Value),
    /// `200` with this body as is (for malformed JSON).
    RawJson(String),
    /// An SSE stream: one `data:` event per item, then `data: [DONE]`.
    Sse(Vec<String>),
    /// An SSE stream that breaks off after these events (no `[DONE]`, no end
    /// of the chunked body: the connection is torn down).
    SseCut(Vec<String>),
    /// An HTTP error with headers and body.
    Error {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// The reply, after a delay.
    Slow(Duration, Box<Reply>),
}

/// A check on the request body, by JSON pointer.
#[derive(Debug, Clone)]
enum Check {
    Equals(String, Value),
    Absent(String),
    /// A float sent as f32 (async-openai's sampling parameters).
    Float(String, f64),
}

/// One expected request and its answer.
#[derive(Debug, Clone)]
pub struct Exchange {
    path: String,
    checks: Vec<Check>,
    reply: Reply,
}

impl Exchange {
    /// A request to `path` (e.g. `/v1/chat/completions`).
    pub fn new(path: &str, reply: Reply) -> Exchange {
        Exchange {
            path: path.to_owned(),
            checks: Vec::new(),
            reply,
        }
    }

    pub fn chat(reply: Reply) -> Exchange {
        Exchange::new("/v1/chat/completions", reply)
    }

    pub fn embeddings(reply: Reply) -> Exchange {
        Exchange::new("/v1/embeddings", reply)
    }

    /// The body at `pointer` must equal `value`.
    pub fn expect(mut self, pointer: &str, value: Value) -> Exchange {
        self.checks.push(Check::Equals(pointer.to_owned(), value));
        self
    }

    /// The body at `pointer` must be a number equal to `value` as an f32.
    pub fn expect_f32(mut self, pointer: &str, value: f64) -> Exchange {
        self.checks.push(Check::Float(pointer.to_owned(), value));
        self
    }

    /// The body must have nothing at `pointer`.
    pub fn absent(mut self, pointer: &str) -> Exchange {
        self.checks.push(Check::Absent(pointer.to_owned()));
        self
    }

    /// The body's messages must be exactly these (role, text) pairs.
    pub fn messages(mut self, messages: &[(&str, &str)]) -> Exchange {
        let expected: Vec<Value> = messages
            .iter()
            .map(|(role, content)| json!({ "role": role, "content": content }))
            .collect();
        self.checks.push(Check::Equals(
            "/messages".to_owned(),
            Value::Array(expected),
        ));
        self
    }
}

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Value,
}

struct Shared {
    auth: Auth,
    script: Mutex<VecDeque<Exchange>>,
    received: Mutex<Vec<Received>>,
    problems: Mutex<Vec<String>>,
}

/// A running server. Dropping it stops the server.
pub struct OpenAiServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    // Its own runtime: the server is not part of the code under test, and
    // must not run on (or trace into) the test's runtime.
    _runtime: tokio::runtime::Runtime,
}

impl OpenAiServer {
    pub fn start(auth: Auth) -> OpenAiServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let shared = Arc::new(Shared {
            auth,
            script: Mutex::new(VecDeque::new()),
            received: Mutex::new(Vec::new()),
            problems: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(handle))
            .route("/v1/embeddings", post(handle))
            .route(
                "/openai/deployments/{deployment}/chat/completions",
                post(handle),
            )
            .route("/openai/deployments/{deployment}/embeddings", post(handle))
            .fallback(unknown_path)
            .with_state(shared.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        OpenAiServer {
            addr,
            shared,
            _runtime: runtime,
        }
    }

    /// The base URL an OpenAI client uses.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Scripts the next expected request.
    pub fn push(&self, exchange: Exchange) -> &Self {
        self.shared.script.lock().unwrap().push_back(exchange);
        self
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Fails the test if any request broke its expectations or was not
    /// scripted, or if a scripted request never came.
    pub fn assert_done(&self) {
        let problems = self.shared.problems.lock().unwrap();
        assert!(problems.is_empty(), "server saw: {problems:#?}");
        let left = self.shared.script.lock().unwrap();
        assert!(left.is_empty(), "never requested: {left:#?}");
    }
}

async fn unknown_path(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let problem = format!("request to unknown path {uri}");
    shared.problems.lock().unwrap().push(problem.clone());
    error_response(404, &problem)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(error) => return refuse(&shared, format!("body is not JSON: {error}")),
    };
    shared.received.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: headers.clone(),
        body: body.clone(),
    });
    let Some(exchange) = shared.script.lock().unwrap().pop_front() else {
        return refuse(&shared, format!("unscripted request to {}", uri.path()));
    };
    let mut problems = Vec::new();
    if uri.path() != exchange.path {
        problems.push(format!("path {} instead of {}", uri.path(), exchange.path));
    }
    let credential = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match &shared.auth {
        Auth::Bearer(key) => {
            if credential("authorization") != Some(format!("Bearer {key}").as_str()) {
                problems.push("missing or wrong bearer token".to_owned());
            }
        }
        Auth::ApiKey(key) => {
            if credential("api-key") != Some(key.as_str()) {
                problems.push("missing or wrong api-key header".to_owned());
            }
        }
    }
    for check in &exchange.checks {
        match check {
            Check::Equals(pointer, expected) => match body.pointer(pointer) {
                Some(actual) if actual == expected => {}
                actual => problems.push(format!("{pointer}: {actual:?} instead of {expected}")),
            },
            Check::Float(pointer, expected) => {
                match body.pointer(pointer).and_then(Value::as_f64) {
                    Some(actual) if actual as f32 == *expected as f32 => {}
                    actual => problems.push(format!("{pointer}: {actual:?} instead of {expected}")),
                }
            }
            Check::Absent(pointer) => {
                if let Some(actual) = body.pointer(pointer) {
                    problems.push(format!("{pointer}: {actual} should not be sent"));
                }
            }
        }
    }
    if !problems.is_empty() {
        return refuse(&shared, problems.join("; "));
    }
    answer(exchange.reply).await
}

/// Records a problem and answers 400 (async-openai does not retry 400s).
fn refuse(shared: &Shared, problem: String) -> Response {
    shared.problems.lock().unwrap().push(problem.clone());
    error_response(400, &format!("test server refused the request: {problem}"))
}

fn error_response(status: u16, message: &str) -> Response {
    let body = json!({ "error": { "message": message, "type": "invalid_request_error" } });
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn answer(reply: Reply) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>> {
    Box::pin(async move {
        match reply {
            Reply::Json(value) => (
                StatusCode::OK,
                [("content-type", "application/json")],
                value.to_string(),
            )
                .into_response(),
            Reply::RawJson(text) => {
                (StatusCode::OK, [("content-type", "application/json")], text).into_response()
            }
            Reply::Sse(events) => sse(events, false),
            Reply::SseCut(events) => sse(events, true),
            Reply::Error {
                status,
                headers,
                body,
            } => {
                let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
                response
                    .headers_mut()
                    .insert("content-type", "application/json".parse().unwrap());
                for (name, value) in headers {
                    response.headers_mut().insert(name, value.parse().unwrap());
                }
                response
            }
            Reply::Slow(delay, then) => {
                tokio::time::sleep(delay).await;
                answer(*then).await
            }
        }
    })
}

/// An SSE body, sent event by event. A cut stream fails its body after the
/// events, which makes the server tear the connection down mid-body.
fn sse(events: Vec<String>, cut: bool) -> Response {
    let mut frames: Vec<Result<Bytes, std::io::Error>> = events
        .into_iter()
        .map(|data| Ok(Bytes::from(format!("data: {data}\n\n"))))
        .collect();
    if cut {
        frames.push(Err(std::io::Error::other("connection cut by the test")));
    } else {
        frames.push(Ok(Bytes::from_static(b"data: [DONE]\n\n")));
    }
    let stream = futures_util::stream::iter(frames).then(|frame| async move {
        // Separate writes, as a model produces them.
        tokio::time::sleep(Duration::from_millis(2)).await;
        frame
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap()
}

// ---- bodies as OpenAI sends them ----

/// A chat completion response.
pub fn completion(
    id: &str,
    model: &str,
    content: &str,
    finish: &str,
    usage: Option<Value>,
) -> Value {
    let mut body = json!({
        "id": id,
        "object": "chat.completion",
        "created": 1_752_000_000,
        "model": model,
        "system_fingerprint": "fp_test",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content, "refusal": null },
            "logprobs": null,
            "finish_reason": finish
        }]
    });
    if let Some(usage) = usage {
        body["usage"] = usage;
    }
    body
}

/// A usage block with cached and reasoning details.
pub fn usage(prompt: u32, completion: u32, cached: u32, reasoning: u32) -> Value {
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": { "cached_tokens": cached, "audio_tokens": 0 },
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

/// The chunks of a streamed answer: a role chunk, one chunk per piece, a
/// finish chunk, and (if given) the usage chunk with no choices.
pub fn stream_chunks(id: &str, model: &str, pieces: &[&str], usage: Option<Value>) -> Vec<String> {
    let chunk = |delta: Value, finish: Value| {
        json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": 1_752_000_000,
            "model": model,
            "system_fingerprint": "fp_test",
            "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }]
        })
        .to_string()
    };
    let mut events = vec![chunk(
        json!({ "role": "assistant", "content": "" }),
        Value::Null,
    )];
    for piece in pieces {
        events.push(chunk(json!({ "content": piece }), Value::Null));
    }
    events.push(chunk(json!({}), json!("stop")));
    if let Some(usage) = usage {
        events.push(
            json!({
                "id": id,
                "object": "chat.completion.chunk",
                "created": 1_752_000_000,
                "model": model,
                "choices": [],
                "usage": usage
            })
            .to_string(),
        );
    }
    events
}

/// An embeddings response; `order` gives the index of each returned item.
pub fn embeddings(model: &str, vectors: &[Vec<f32>], order: &[usize], prompt_tokens: u32) -> Value {
    let data: Vec<Value> = order
        .iter()
        .map(|&i| json!({ "object": "embedding", "index": i, "embedding": vectors[i] }))
        .collect();
    json!({
        "object": "list",
        "model": model,
        "data": data,
        "usage": { "prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens }
    })
}

/// An OpenAI error body.
pub fn error_body(message: &str, kind: &str, code: &str) -> String {
    json!({ "error": { "message": message, "type": kind, "param": null, "code": code } })
        .to_string()
}
