//! Endpoints for OTLP tests on 127.0.0.1: an OTLP/HTTP receiver that keeps
//! the raw bodies it gets, one that accepts connections and never answers,
//! and an address where nothing listens.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use axum::routing::post;
use tokio::net::TcpListener;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Captured {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// An OTLP/HTTP receiver that answers 200 and keeps every body.
pub struct CaptureReceiver {
    pub addr: SocketAddr,
    captured: Arc<Mutex<Vec<Captured>>>,
    _server: tokio::task::JoinHandle<()>,
}

impl CaptureReceiver {
    /// Starts on an ephemeral port (inside a tokio runtime).
    pub async fn start() -> CaptureReceiver {
        CaptureReceiver::start_with(true).await
    }

    /// Starts a receiver that answers like `start` but keeps nothing (for
    /// benchmarks that send a lot).
    pub async fn start_discarding() -> CaptureReceiver {
        CaptureReceiver::start_with(false).await
    }

    async fn start_with(keep: bool) -> CaptureReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let captured: Arc<Mutex<Vec<Captured>>> = Arc::default();
        let sink = captured.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            post(move |headers: HeaderMap, body: Bytes| {
                let sink = sink.clone();
                async move {
                    let content_type = headers
                        .get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    let json = content_type.starts_with("application/json");
                    if keep {
                        sink.lock().unwrap().push(Captured {
                            content_type: content_type.clone(),
                            body: body.to_vec(),
                        });
                    }
                    // An empty ExportTraceServiceResponse.
                    let reply: Vec<u8> = if json { b"{}".to_vec() } else { Vec::new() };
                    ([(header::CONTENT_TYPE, content_type)], reply)
                }
            }),
        );
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        CaptureReceiver {
            addr,
            captured,
            _server: server,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn captured(&self) -> Vec<Captured> {
        self.captured.lock().unwrap().clone()
    }
}

/// Accepts connections, reads nothing, answers nothing, closes nothing.
pub struct Blackhole {
    pub addr: SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    _thread: std::thread::JoinHandle<()>,
}

impl Blackhole {
    pub fn start() -> Blackhole {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((socket, _)) => held.push(socket),
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        Blackhole {
            addr,
            stop,
            _thread: thread,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// An address on 127.0.0.1 where nothing listens (connections are refused).
pub fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}
