//! Hostile input against the real `ragtrace` binary (`serve` on 127.0.0.1,
//! `ingest`, `prices`): each test here failed before the defect it names
//! (issue 13) was fixed. No assertion is on elapsed time: waits are loops
//! bounded by count and by a generous deadline, and what is asserted is
//! behaviour (a status, a closed connection, an exit, what is stored).

use std::io::{BufRead as _, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;
use ragtrace::store::{SpanQuery, Store};

const BIN: &str = env!("CARGO_BIN_EXE_ragtrace");

/// The longest any wait in these tests may take before it counts as "never".
const NEVER: Duration = Duration::from_secs(60);

/// `ragtrace serve` on an ephemeral port of 127.0.0.1.
struct Serve {
    child: Child,
    addr: SocketAddr,
    db: PathBuf,
    stderr: PathBuf,
}

impl Serve {
    fn start(dir: &Path, args: &[&str]) -> Serve {
        let db = dir.join("served.db");
        Serve::start_on(dir, &db, args).unwrap_or_else(|text| panic!("serve did not start: {text}"))
    }

    /// Starts serve on `db`; `Err` with its stderr if it exits instead.
    fn start_on(dir: &Path, db: &Path, args: &[&str]) -> Result<Serve, String> {
        Serve::start_with(Command::new(BIN), dir, db, args)
    }

    /// Starts serve through `command` (BIN itself, or a shell that execs it).
    fn start_with(
        mut command: Command,
        dir: &Path,
        db: &Path,
        args: &[&str],
    ) -> Result<Serve, String> {
        let stderr = dir.join(format!(
            "serve-{}.stderr",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let Some(url) = first.split_whitespace().find(|w| w.starts_with("http://")) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::fs::read_to_string(&stderr).unwrap_or_default());
        };
        let addr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        Ok(Serve {
            child,
            addr,
            db: db.to_path_buf(),
            stderr,
        })
    }

    /// Sends SIGINT.
    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (up to [`NEVER`]) for the process to exit; `None` if it did not.
    fn wait_exit(&mut self) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + NEVER;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Stops it with SIGINT and returns its stderr.
    fn stop(mut self) -> String {
        self.interrupt();
        let status = self.wait_exit();
        assert!(status.is_some(), "serve did not stop on SIGINT");
        std::fs::read_to_string(&self.stderr).unwrap()
    }

    fn store(&self) -> Store {
        Store::open_read_only(&self.db).unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

/// One HTTP/1.1 POST /v1/traces over a fresh connection.
fn post(addr: SocketAddr, content_type: &str, encoding: Option<&str>, body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(NEVER)).unwrap();
    let mut head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(encoding) = encoding {
        head.push_str(&format!("Content-Encoding: {encoding}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading all of it.
    let _ = stream.write_all(body);
    read_answer(&mut stream).unwrap_or_else(|| panic!("no answer from {addr}"))
}

/// Reads a response until the connection closes (or [`NEVER`]).
fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some(Answer { status, body })
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

/// A request with one chat span per id, in trace `trace`.
fn request(
    trace: u8,
    span_ids: std::ops::Range<u32>,
    extra: &[KeyValue],
) -> ExportTraceServiceRequest {
    let mut trace_id = vec![0xab; 16];
    trace_id[15] = trace;
    let spans = span_ids
        .map(|i| {
            let mut attributes = vec![
                text("gen_ai.operation.name", "chat"),
                text("gen_ai.request.model", "gpt-4o"),
                kv("gen_ai.usage.input_tokens", any_value::Value::IntValue(100)),
                kv("gen_ai.usage.output_tokens", any_value::Value::IntValue(10)),
            ];
            attributes.extend_from_slice(extra);
            let mut span_id = [0_u8; 8];
            span_id[4..].copy_from_slice(&(i + 1).to_be_bytes());
            Span {
                trace_id: trace_id.clone(),
                span_id: span_id.to_vec(),
                name: format!("chat {i}"),
                kind: 3,
                start_time_unix_nano: 1_700_000_000_000_000_000,
                end_time_unix_nano: 1_700_000_001_000_000_000,
                attributes,
                ..Span::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "hostile")],
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

fn protobuf(request: &ExportTraceServiceRequest) -> Vec<u8> {
    request.encode_to_vec()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn ragtrace(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

// Defect 1: a model name of many slashes took memory and time quadratic in
// its length (150,000 slashes aborted serve).
#[test]
fn a_pathological_model_name_is_cheap_and_left_unpriced() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(dir.path(), &[]);
    let slashes = "/".repeat(150_000);
    let hostile = request(1, 0..2, &[text("gen_ai.response.model", &slashes)]);
    let answer = post(
        server.addr,
        "application/x-protobuf",
        None,
        &protobuf(&hostile),
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    let answer = post(
        server.addr,
        "application/x-protobuf",
        None,
        &protobuf(&request(2, 0..1, &[])),
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    let store = server.store();
    let spans = store.spans(&SpanQuery::new()).unwrap();
    assert_eq!(spans.len(), 3);
    let odd: Vec<_> = spans
        .iter()
        .filter(|s| s.model.as_deref() == Some(&*slashes))
        .collect();
    assert_eq!(odd.len(), 2);
    assert!(odd.iter().all(|s| s.cost.is_none()), "unpriced, not $0");
    drop(server);

    // One argument may be 128 KiB at most.
    let output = ragtrace(&["prices", "show", &slashes[..100_000]]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("100000-byte model name"),
        "{}",
        &message[..message.len().min(500)]
    );
    assert!(message.len() < 1000, "the name is not echoed whole");
}

/// 2 bytes per span on the wire: field 2 of ScopeSpans, length 0.
fn empty_spans(count: usize) -> Vec<u8> {
    let scope: Vec<u8> = [0x12_u8, 0x00].repeat(count);
    let mut resource = vec![0x12];
    prost::encoding::encode_varint(scope.len() as u64, &mut resource);
    resource.extend_from_slice(&scope);
    let mut body = vec![0x0a];
    prost::encoding::encode_varint(resource.len() as u64, &mut body);
    body.extend_from_slice(&resource);
    body
}

// Defect 2: a body of empty spans decoded ~200x its size with no bound;
// three at once aborted serve.
#[test]
fn bodies_that_decode_to_too_many_items_are_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(dir.path(), &[]);
    let protobuf_bomb = empty_spans(2_000_000);
    let json_bomb = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        vec!["{}"; 1_000_000].join(",")
    );
    let answers: Vec<Answer> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for _ in 0..3 {
            handles.push(
                s.spawn(|| post(server.addr, "application/x-protobuf", None, &protobuf_bomb)),
            );
            handles.push(
                s.spawn(|| post(server.addr, "application/json", None, json_bomb.as_bytes())),
            );
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for answer in &answers {
        assert_eq!(answer.status, 413, "{answer:?}");
        assert!(answer.body.contains("items"), "{answer:?}");
    }
    // The same bomb gzipped is counted after decompression.
    let answer = post(
        server.addr,
        "application/x-protobuf",
        Some("gzip"),
        &gzip(&protobuf_bomb),
    );
    assert_eq!(answer.status, 413, "{answer:?}");
    let answer = post(
        server.addr,
        "application/x-protobuf",
        None,
        &protobuf(&request(1, 0..3, &[])),
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(server.store().count().unwrap(), 3);
}

// Defect 3: only the first gzip member was read, and trailing bytes were
// ignored, with a 200.
#[test]
fn every_gzip_member_is_read_and_trailing_junk_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(dir.path(), &[]);
    // Concatenated protobuf messages merge: two members, one request.
    let first = protobuf(&request(1, 0..3, &[]));
    let second = protobuf(&request(2, 0..4, &[]));
    let mut body = gzip(&first);
    body.extend_from_slice(&gzip(&second));
    let answer = post(server.addr, "application/x-protobuf", Some("gzip"), &body);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(server.store().count().unwrap(), 7, "both members' spans");

    let mut junk = gzip(&protobuf(&request(3, 0..2, &[])));
    junk.extend_from_slice(b"trailing junk");
    let answer = post(server.addr, "application/x-protobuf", Some("gzip"), &junk);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.body.contains("invalid gzip body"), "{answer:?}");
    assert_eq!(
        server.store().count().unwrap(),
        7,
        "nothing of a refused body"
    );
}

/// Waits (bounded) until the server closes `stream`: `true` if it did.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(NEVER)).unwrap();
    let mut buf = [0_u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 before the close
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false, // timed out: never closed
        }
    }
}

// Defect 4: no header or body timeout, no connection cap, and shutdown
// waited forever on a stalled client.
#[test]
fn stalled_clients_are_cut_off_and_do_not_lock_out_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(
        dir.path(),
        &[
            "--max-connections",
            "8",
            "--header-timeout",
            "1s",
            "--body-timeout",
            "1s",
        ],
    );
    // Half-sent heads, more than the cap.
    let mut stalled: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut stream = TcpStream::connect(server.addr).unwrap();
            stream
                .write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: app")
                .unwrap();
            stream
        })
        .collect();
    // A valid client gets through (retrying, as OTLP clients do).
    let valid = protobuf(&request(1, 0..2, &[]));
    let deadline = Instant::now() + NEVER;
    let mut served = false;
    while Instant::now() < deadline && !served {
        served = post(server.addr, "application/x-protobuf", None, &valid).status == 200;
    }
    assert!(served, "a valid client was locked out");
    // Each stalled connection is closed by the server.
    assert!(
        closed_by_server(&mut stalled[0]),
        "a half-sent head kept its connection"
    );
    assert!(closed_by_server(&mut stalled[39]));

    // A body that stops half way gets 408.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100\r\n\r\n0123456789")
        .unwrap();
    stream.set_read_timeout(Some(NEVER)).unwrap();
    let answer = read_answer(&mut stream).expect("an answer to a stalled body");
    assert_eq!(answer.status, 408, "{answer:?}");
    drop(stalled);
    assert_eq!(server.store().count().unwrap(), 2);
}

// The reported case: 300 stalled connections against serve at a
// 256-descriptor limit locked out every valid client.
#[test]
fn stalled_connections_past_the_descriptor_limit_do_not_lock_out_valid_clients() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new("sh");
    command.args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\"", BIN]);
    let server = Serve::start_with(
        command,
        dir.path(),
        &dir.path().join("served.db"),
        // The defaults alone: no flag the old serve lacked.
        &[],
    )
    .unwrap_or_else(|text| panic!("serve did not start: {text}"));
    let stalled: Vec<TcpStream> = (0..300)
        .filter_map(|_| {
            let mut stream = TcpStream::connect(server.addr).ok()?;
            stream
                .write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
                .ok()?;
            Some(stream)
        })
        .collect();
    assert_eq!(stalled.len(), 300);
    let valid = protobuf(&request(1, 0..2, &[]));
    let deadline = Instant::now() + NEVER;
    let mut served = false;
    while Instant::now() < deadline && !served {
        served =
            std::panic::catch_unwind(|| post(server.addr, "application/x-protobuf", None, &valid))
                .is_ok_and(|answer| answer.status == 200);
    }
    assert!(served, "a valid client was locked out");
    drop(stalled);
    assert_eq!(server.store().count().unwrap(), 2);
}

#[test]
fn shutdown_is_bounded_with_a_stalled_client_and_a_second_interrupt_quits() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Serve::start(
        dir.path(),
        &["--shutdown-grace", "1s", "--body-timeout", "1h"],
    );
    let answer = post(
        server.addr,
        "application/x-protobuf",
        None,
        &protobuf(&request(1, 0..2, &[])),
    );
    assert_eq!(answer.status, 200);
    // A request whose body never comes: in flight when the interrupt arrives.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100\r\n\r\n01234")
        .unwrap();
    // Let the server read the head, then interrupt it.
    std::thread::sleep(Duration::from_millis(200));
    server.interrupt();
    let status = server
        .wait_exit()
        .expect("serve did not stop with a stalled client");
    assert!(status.success(), "{status:?}");
    let stderr = std::fs::read_to_string(&server.stderr).unwrap();
    assert!(
        stderr.contains("stopped: 2 spans stored from 1 requests"),
        "{stderr}"
    );
    assert!(closed_by_server(&mut stream));

    // With a long grace, a second interrupt quits at once.
    let mut server = Serve::start(
        dir.path(),
        &["--shutdown-grace", "1h", "--body-timeout", "1h"],
    );
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100\r\n\r\n01234")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.interrupt();
    // The first interrupt is being handled once it says so.
    let deadline = Instant::now() + NEVER;
    while Instant::now() < deadline
        && !std::fs::read_to_string(&server.stderr)
            .unwrap()
            .contains("interrupt again")
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.interrupt();
    let status = server.wait_exit().expect("a second interrupt did not quit");
    assert_eq!(status.code(), Some(130));
    drop(stream);
}

// Defect 5: a foreign SQLite file was switched to WAL before it was refused.
#[test]
fn a_foreign_database_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&foreign).unwrap();
        conn.execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts (name) VALUES ('a');")
            .unwrap();
    }
    let before = std::fs::read(&foreign).unwrap();
    let input = dir.path().join("in.json");
    std::fs::write(
        &input,
        serde_json::to_string(&request(1, 0..1, &[])).unwrap(),
    )
    .unwrap();
    for args in [
        vec![
            "ingest",
            "--db",
            foreign.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
        vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            foreign.to_str().unwrap(),
        ],
    ] {
        let output = ragtrace(&args);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr(&output).contains("is not a ragtrace trace store"),
            "{}",
            stderr(&output)
        );
    }
    assert!(
        std::fs::read(&foreign).unwrap() == before,
        "the file was changed"
    );
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    assert!(!dir.path().join("other.db-wal").exists());
}

// Defect 6: u64-max counts and i64::MAX picodollars were stored as sent
// (sum(cost_picousd) overflowed) and a negative cost was stored as priced.
#[test]
fn out_of_range_counts_and_costs_are_not_stored_as_known() {
    let dir = tempfile::tempdir().unwrap();
    let line = |id: &str, attributes: &str| {
        format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"abababababababababababababababab","spanId":"{id}","name":"chat","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000","attributes":[{{"key":"gen_ai.operation.name","value":{{"stringValue":"chat"}}}},{{"key":"gen_ai.request.model","value":{{"stringValue":"gpt-4o"}}}},{attributes}]}}]}}]}}]}}"#
        )
    };
    let tokens = |n: &str| {
        format!(
            r#"{{"key":"gen_ai.usage.input_tokens","value":{{"intValue":"{n}"}}}},{{"key":"gen_ai.usage.output_tokens","value":{{"intValue":"1"}}}}"#
        )
    };
    let lines = [
        line("0000000000000001", &tokens(&i64::MAX.to_string())),
        line(
            "0000000000000002",
            &format!(
                r#"{},{{"key":"ragtrace.cost.picousd","value":{{"intValue":"{}"}}}}"#,
                tokens("10"),
                i64::MAX
            ),
        ),
        line(
            "0000000000000003",
            &format!(
                r#"{},{{"key":"gen_ai.usage.cost","value":{{"doubleValue":-5.0}}}}"#,
                tokens("10")
            ),
        ),
        line(
            "0000000000000004",
            &format!(
                r#"{},{{"key":"ragtrace.cost.picousd","value":{{"intValue":"7"}}}}"#,
                tokens("10")
            ),
        ),
    ];
    let input = dir.path().join("in.json");
    std::fs::write(&input, lines.join("\n")).unwrap();
    let db = dir.path().join("t.db");
    let output = ragtrace(&[
        "ingest",
        "--no-pricing",
        "--db",
        db.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    let conn = rusqlite::Connection::open(&db).unwrap();
    let (cost, tokens): (i64, i64) = conn
        .query_row(
            "SELECT sum(cost_picousd), sum(input_tokens) FROM spans",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the README's sums do not overflow");
    assert_eq!((cost, tokens), (7, 30));
    let store = Store::open_read_only(&db).unwrap();
    let spans = store.spans(&SpanQuery::new()).unwrap();
    let by_id = |n: u8| spans.iter().find(|s| s.span_id.to_bytes()[7] == n).unwrap();
    for (n, why) in [
        (1, "token count"),
        (2, "is over 1000000 USD"),
        (3, "is negative"),
    ] {
        let span = by_id(n);
        assert_eq!(span.cost, None, "span {n}");
        assert_eq!(
            span.cost_status,
            Some(ragtrace::pricing::CostStatus::Unpriced),
            "span {n}"
        );
        let reason = span.attributes["ragtrace.cost.status_reason"]
            .as_str()
            .unwrap();
        assert!(reason.contains(why), "span {n}: {reason}");
    }
    assert_eq!(
        by_id(4).cost_status,
        Some(ragtrace::pricing::CostStatus::Priced)
    );
}

// Defect 7: providers spelled alike as file names overwrote each other.
#[test]
fn import_litellm_writes_every_provider() {
    let dir = tempfile::tempdir().unwrap();
    let json = r#"{
      "m-slash": {"litellm_provider": "a/b", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
      "m-query": {"litellm_provider": "a?b", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
      "m-under": {"litellm_provider": "a_b", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}
    }"#;
    let file = dir.path().join("litellm.json");
    std::fs::write(&file, json).unwrap();
    let out = dir.path().join("tables");
    let output = ragtrace(&[
        "prices",
        "import-litellm",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--effective",
        "2025-01-01",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("imported 3 of 3 entries into 3 files"),
        "{}",
        stderr(&output)
    );
    let files = std::fs::read_dir(&out).unwrap().count();
    assert_eq!(files, 3);
    for model in ["m-slash", "m-query", "m-under"] {
        let output = ragtrace(&["prices", "show", model, "--dir", out.to_str().unwrap()]);
        assert!(output.status.success(), "{model}: {}", stderr(&output));
    }
}

// Defect 8: serve started on a store it could not write, said "listening",
// then answered every export with 503.
#[test]
fn serve_refuses_a_store_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ro.db");
    drop(Store::open(&db).unwrap());
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db);
    // Root writes whatever the mode says: run as nobody, who owns the
    // directory (so SQLite can make its -shm file) but not the write bit.
    if is_root() {
        use std::os::unix::process::CommandExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).unwrap();
        std::os::unix::fs::chown(&db, Some(65534), Some(65534)).unwrap();
        command.uid(65534).gid(65534);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + NEVER;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    assert!(
        status.is_some_and(|s| !s.success()),
        "serve kept running on a read-only store"
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("listening"));
    assert!(stderr(&output).contains("read-only"), "{}", stderr(&output));
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

// Defect 9: each request was credited with its whole write batch.
#[test]
fn the_shutdown_summary_counts_each_span_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(dir.path(), &[]);
    std::thread::scope(|s| {
        for t in 0..40_u8 {
            let addr = server.addr;
            s.spawn(move || {
                let answer = post(
                    addr,
                    "application/x-protobuf",
                    None,
                    &protobuf(&request(t, 0..5, &[])),
                );
                assert_eq!(answer.status, 200, "{answer:?}");
            });
        }
    });
    let stored = server.store().count().unwrap();
    assert_eq!(stored, 200);
    let stderr = server.stop();
    assert!(
        stderr.contains("stopped: 200 spans stored from 40 requests"),
        "{stderr}"
    );
}

// Defect 10: error messages repeated their cause.
#[test]
fn errors_name_their_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let output = ragtrace(&[
        "ingest",
        "--db",
        db.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output).matches("Is a directory").count(),
        1,
        "{}",
        stderr(&output)
    );

    let not_a_db = dir.path().join("text.db");
    std::fs::write(
        &not_a_db,
        "this is not a database, just text, long enough to have a header",
    )
    .unwrap();
    let input = dir.path().join("in.json");
    std::fs::write(&input, "").unwrap();
    let output = ragtrace(&[
        "ingest",
        "--db",
        not_a_db.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output).matches("file is not a database").count(),
        1,
        "{}",
        stderr(&output)
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let output = ragtrace(&["prices", "import-litellm", bad.to_str().unwrap()]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output).matches("key must be a string").count(),
        1,
        "{}",
        stderr(&output)
    );
}

// Defect 11: ingest stopped at the first unreadable file.
#[test]
fn ingest_reads_every_file_and_reports_each_failure() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        serde_json::to_string(&request(1, 0..3, &[])).unwrap(),
    )
    .unwrap();
    let missing = dir.path().join("missing.json");
    let output = ragtrace(&[
        "ingest",
        "--db",
        db.to_str().unwrap(),
        dir.path().to_str().unwrap(),
        missing.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("Is a directory"), "{text}");
    assert!(text.contains("missing.json"), "{text}");
    assert!(text.contains("2 of 3 files could not be read"), "{text}");
    assert_eq!(Store::open_read_only(&db).unwrap().count().unwrap(), 3);
}

// Secrets and privacy: credentials always, content by default; stores 0600.
#[test]
fn received_credentials_and_content_are_redacted_and_the_store_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = [
        text(
            "http.request.header.authorization",
            "Bearer abcdefgh12345678secret",
        ),
        text("gen_ai.prompt", "my secret prompt"),
        text("input.value", "the user's question"),
        text("note", "key sk-abcdefghijklmnopqrstuvwx in a string"),
        text("user.id", "jane@example.com"),
    ];
    let mut hostile = request(1, 0..1, &secrets);
    hostile.resource_spans[0]
        .resource
        .as_mut()
        .unwrap()
        .attributes
        .push(text("openai.api_key", "sk-abcdefghijklmnopqrstuvwx"));
    for (args, content_kept) in [(&[][..], false), (&["--keep-content"][..], true)] {
        let sub = dir.path().join(format!("keep-{content_kept}"));
        std::fs::create_dir(&sub).unwrap();
        let server = Serve::start(&sub, args);
        let answer = post(
            server.addr,
            "application/x-protobuf",
            None,
            &protobuf(&hostile),
        );
        assert_eq!(answer.status, 200, "{answer:?}");
        let span = server.store().spans(&SpanQuery::new()).unwrap().remove(0);
        let a = &span.attributes;
        assert_eq!(a["http.request.header.authorization"], "[REDACTED]");
        assert_eq!(a["note"], "key [REDACTED] in a string");
        assert_eq!(a["user.id"], "jane@example.com");
        assert_eq!(span.resource["openai.api_key"], "[REDACTED]");
        if content_kept {
            assert_eq!(a["gen_ai.prompt"], "my secret prompt");
        } else {
            assert_eq!(a["gen_ai.prompt"], "[REDACTED]");
            assert_eq!(a["input.value"], "[REDACTED]");
        }
        use std::os::unix::fs::PermissionsExt as _;
        for file in ["served.db", "served.db-wal"] {
            let mode = std::fs::metadata(sub.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
        }
        drop(server);
    }
}

/// Peak resident memory of a process, in bytes (Linux: VmHWM).
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The memory bound `serve` keeps with its default limits, documented in
/// the README ("Running serve as a shared collector").
const SERVE_MEMORY_BOUND: u64 = 1024 * 1024 * 1024;

// The bounded load test: valid clients among stalled, oversized and
// amplifying ones, against one serve with its default budgets.
#[test]
fn a_crowd_of_clients_some_hostile_leaves_every_acknowledged_span_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(
        dir.path(),
        &[
            "--max-connections",
            "64",
            "--header-timeout",
            "2s",
            "--body-timeout",
            "2s",
        ],
    );
    let addr = server.addr;
    let acknowledged = std::sync::Mutex::new(std::collections::HashSet::new());
    let refused = std::sync::atomic::AtomicU64::new(0);
    let bomb = empty_spans(4_000_000);
    let json_bomb = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        vec!["{}"; 1_000_000].join(",")
    );
    let gzip_bomb = gzip(&bomb);
    std::thread::scope(|s| {
        // Valid clients: 8 x 25 requests of 20 spans, retrying 503s and
        // dropped connections a bounded number of times.
        for client in 0..8_u8 {
            let acknowledged = &acknowledged;
            let refused = &refused;
            s.spawn(move || {
                for n in 0..25_u32 {
                    let trace = client * 32 + (n % 32) as u8;
                    let ids = n * 20..n * 20 + 20;
                    let body = protobuf(&request(trace, ids.clone(), &[]));
                    for _attempt in 0..200 {
                        let answer = std::panic::catch_unwind(|| {
                            post(addr, "application/x-protobuf", None, &body)
                        });
                        match answer {
                            Ok(answer) if answer.status == 200 => {
                                let mut ack = acknowledged.lock().unwrap();
                                for id in ids.clone() {
                                    ack.insert((trace, id));
                                }
                                break;
                            }
                            Ok(answer) if answer.status == 503 => {
                                refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            Ok(answer) => panic!("a valid request got {answer:?}"),
                            Err(_) => std::thread::sleep(Duration::from_millis(20)),
                        }
                    }
                }
            });
        }
        // Stalled: half-sent heads and bodies, reopened as they are cut.
        for _ in 0..4 {
            s.spawn(move || {
                for _ in 0..5 {
                    let streams: Vec<TcpStream> = (0..10)
                        .filter_map(|i| {
                            let mut stream = TcpStream::connect(addr).ok()?;
                            let head: &[u8] = if i % 2 == 0 {
                                b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
                            } else {
                                b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n{\"resourceSpans\":["
                            };
                            stream.write_all(head).ok()?;
                            Some(stream)
                        })
                        .collect();
                    for mut stream in streams {
                        closed_by_server(&mut stream);
                    }
                }
            });
        }
        // Oversized: declared and undeclared.
        for _ in 0..2 {
            s.spawn(move || {
                for _ in 0..5 {
                    let mut stream = TcpStream::connect(addr).unwrap();
                    let _ = stream.write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000000000\r\n\r\n");
                    let answer = read_answer(&mut stream).expect("an answer");
                    assert_eq!(answer.status, 413);
                    let mut stream = TcpStream::connect(addr).unwrap();
                    let _ = stream.write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n");
                    let chunk = vec![b'x'; 1 << 20];
                    for _ in 0..24 {
                        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                        framed.extend_from_slice(&chunk);
                        framed.extend_from_slice(b"\r\n");
                        if stream.write_all(&framed).is_err() {
                            break;
                        }
                    }
                    let answer = read_answer(&mut stream);
                    assert!(answer.as_ref().is_none_or(|a| a.status == 413 || a.status == 503), "{answer:?}");
                }
            });
        }
        // Amplifying: 8 MB of empty spans, JSON `{}`s, and the same gzipped.
        for client in 0..3 {
            let (bomb, json_bomb, gzip_bomb) = (&bomb, &json_bomb, &gzip_bomb);
            s.spawn(move || {
                for _ in 0..4 {
                    let answer = match client {
                        0 => post(addr, "application/x-protobuf", None, bomb),
                        1 => post(addr, "application/json", None, json_bomb.as_bytes()),
                        _ => post(addr, "application/x-protobuf", Some("gzip"), gzip_bomb),
                    };
                    assert!(answer.status == 413 || answer.status == 503, "{answer:?}");
                }
            });
        }
    });
    let peak = peak_rss(server.child.id()).expect("VmHWM of serve");
    let acknowledged = acknowledged.into_inner().unwrap();
    assert_eq!(
        acknowledged.len(),
        8 * 25 * 20,
        "every valid request was acknowledged"
    );
    let stored: std::collections::HashSet<(u8, u32)> = server
        .store()
        .spans(&SpanQuery::new())
        .unwrap()
        .iter()
        .map(|s| {
            let id = s.span_id.to_bytes();
            (
                s.trace_id.to_bytes()[15],
                u32::from_be_bytes([id[4], id[5], id[6], id[7]]) - 1,
            )
        })
        .collect();
    assert!(
        acknowledged.is_subset(&stored),
        "an acknowledged span is missing"
    );
    eprintln!(
        "load: peak RSS {} MiB (bound {} MiB), {} valid requests refused with 503 and retried",
        peak / (1024 * 1024),
        SERVE_MEMORY_BOUND / (1024 * 1024),
        refused.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert!(peak < SERVE_MEMORY_BOUND, "serve peaked at {peak} bytes");
    let stderr = server.stop();
    assert!(
        stderr.contains("stopped: 4000 spans stored from 200 requests"),
        "{stderr}"
    );
}
