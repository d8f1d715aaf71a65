//! Fuzz targets for every parser that takes outside input, on the stable
//! toolchain (`cargo fuzz` needs nightly): each target replays its seed
//! corpus (`tests/fuzz/corpus/<target>/`) and every input that once broke
//! it (`tests/fuzz/regressions/<target>/`), then mutates the corpus
//! (bit flips, byte and range edits, splices, "interesting" bytes) for a
//! bounded time, checking properties, not just the absence of panics.
//! The store's JSON codec is also driven by proptest-generated values.
//!
//! - CI runs every target for `RAGTRACE_FUZZ_SECS` seconds (default 6;
//!   the targets run in parallel, under a minute in all).
//! - Longer: `RAGTRACE_FUZZ_SECS=600 cargo test --release --all-features --test fuzz`
//!   (one target: add its name, e.g. `-- otlp_protobuf`). `RAGTRACE_FUZZ_SEED`
//!   fixes the seed (each run prints the one it used).
//! - An input that fails is written to `target/fuzz-found/<target>/`; the
//!   failure message names it. Move it to the target's `regressions/`
//!   directory with the fix, so it is replayed forever.
#![cfg(all(feature = "serve", feature = "store"))]

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use ragtrace::pricing::{Date, PriceRequest, PriceTable, Pricer, litellm};
use ragtrace::steps::{StepKind, Usage};
use ragtrace::store::ingest::receive_body;
use ragtrace::store::{SpanQuery, Store};
use ragtrace::tokens::Encoding;

const MAX_ITEMS: usize = 20_000;
const MAX_BYTES: usize = 1 << 20;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[&[u8]] = &[
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
    b"\x0a\x00",
    b"\x12\x00",
    b"\x0b",
    b"\x0c",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\",
    b":",
    b",",
    b"/",
    b"@",
    b"-v1:0",
    b"-2024-08-06",
    b"ft:",
    b"arn:",
    b"\xc3\xa9",
    b"\xf0\x9f\x98\x80",
    b"\xed\xa0\x80",
    b"null",
    b"1e999",
    b"-0",
    b"18446744073709551615",
    b"[[[[[[[[",
    b"=",
    b"\n",
    b"\r\n",
    b" ",
    b"'''",
    b"0x",
    b"nan",
    b"inf",
    // Empty protobuf groups (fields 1 and 5), which decoders skip.
    b"\x0b\x0c",
    b"\x2b\x2c",
    b"\x2b\x08\x01\x2c",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                input[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                input[at] = rng.next() as u8;
            }
            2 => {
                // Often at either end: the only places a protobuf field can
                // be added without breaking the lengths around it.
                let at = match rng.below(4) {
                    0 => 0,
                    1 => len,
                    _ => rng.below(len + 1),
                };
                let bytes = INTERESTING[rng.below(INTERESTING.len())];
                input.splice(at..at, bytes.iter().copied());
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(16)).min(len);
                input.drain(start..end);
            }
            4 if len > 0 => {
                // Repeat a range (amplification, deep nesting).
                let start = rng.below(len);
                let end = (start + 1 + rng.below(32)).min(len);
                let piece: Vec<u8> = input[start..end].to_vec();
                let times = 1 + rng.below(64);
                let at = rng.below(len + 1);
                for _ in 0..times {
                    input.splice(at..at, piece.iter().copied());
                }
            }
            5 if !corpus.is_empty() => {
                // Splice in part of another input.
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let start = rng.below(other.len());
                    let end = (start + 1 + rng.below(64)).min(other.len());
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[start..end].iter().copied());
                }
            }
            6 if len > 1 => input.truncate(rng.below(len)),
            _ => {
                let at = rng.below(len + 1);
                let byte = rng.next() as u8;
                input.insert(at, byte);
            }
        }
    }
    input.truncate(256 * 1024);
}

fn read_dir(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, Vec<u8>)> = listing
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes)))
        .collect();
    files.sort();
    files
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz")
}

fn seconds() -> Duration {
    let secs = std::env::var("RAGTRACE_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(6.0);
    Duration::from_secs_f64(secs.max(0.0))
}

/// Replays the corpus and regressions of `target`, then mutates for the
/// configured time. `check` panics (or returns `Err`) on a broken property.
fn fuzz(target: &str, check: impl Fn(&[u8]) -> Result<(), String>) {
    let corpus_dir = fuzz_dir().join("corpus").join(target);
    let seeds = read_dir(&corpus_dir);
    assert!(
        !seeds.is_empty(),
        "no seed corpus in {}",
        corpus_dir.display()
    );
    let regressions = read_dir(&fuzz_dir().join("regressions").join(target));
    let run = |input: &[u8]| -> Result<(), String> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| check(input))) {
            Ok(result) => result,
            Err(panic) => Err(panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "panic".to_owned())),
        }
    };
    for (path, input) in seeds.iter().chain(&regressions) {
        if let Err(why) = run(input) {
            panic!("{target}: {} fails: {why}", path.display());
        }
    }
    let seed = std::env::var("RAGTRACE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    let mut rng = Rng(seed);
    let corpus: Vec<Vec<u8>> = seeds
        .into_iter()
        .chain(regressions)
        .map(|(_, b)| b)
        .collect();
    let deadline = Instant::now() + seconds();
    let mut runs = 0_u64;
    while Instant::now() < deadline {
        let mut input = corpus[rng.below(corpus.len())].clone();
        mutate(&mut rng, &mut input, &corpus);
        runs += 1;
        if let Err(why) = run(&input) {
            let found = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/fuzz-found")
                .join(target);
            let _ = std::fs::create_dir_all(&found);
            let path = found.join(format!("{seed:016x}-{runs}"));
            let _ = std::fs::write(&path, &input);
            panic!(
                "{target}: run {runs} (RAGTRACE_FUZZ_SEED={seed}) fails: {why}\ninput saved to {}",
                path.display()
            );
        }
    }
    eprintln!(
        "fuzz {target}: {runs} mutated inputs in {:?}, seed {seed}",
        seconds()
    );
}

fn otlp(input: &[u8], json: bool, gzip: bool) -> Result<(), String> {
    // Under a small item limit, what decodes must fit in it: every span,
    // attribute, event and link is at least one item on the wire, so a
    // scan that under-counts (and would let a body amplify) shows here.
    const SMALL: usize = 64;
    for limit in [SMALL, MAX_ITEMS] {
        let Ok(converted) = receive_body(input, json, gzip, MAX_BYTES, limit) else {
            continue;
        };
        let mut decoded = converted.rejected.len();
        for record in &converted.records {
            let own = record
                .attributes
                .keys()
                .filter(|k| *k != "ragtrace.cost.status_reason")
                .count();
            decoded += 1 + own + record.events.len() + record.links.len();
            decoded += record
                .events
                .iter()
                .map(|e| e.attributes.len())
                .sum::<usize>();
            decoded += record
                .links
                .iter()
                .map(|l| l.attributes.len())
                .sum::<usize>();
            if let Some(cost) = record.cost
                && cost.picos() < 0
            {
                return Err("a negative cost was kept".into());
            }
        }
        if decoded > limit {
            return Err(format!(
                "{decoded} items decoded past the {limit}-item limit"
            ));
        }
    }
    Ok(())
}

#[test]
fn otlp_protobuf() {
    fuzz("otlp_protobuf", |input| otlp(input, false, false));
}

#[test]
fn otlp_json() {
    fuzz("otlp_json", |input| otlp(input, true, false));
}

#[test]
fn otlp_gzip() {
    fuzz("otlp_gzip", |input| otlp(input, false, true));
}

#[test]
fn store_codec() {
    // What decodes is stored, and reads back as it was converted.
    fuzz("store_codec", |input| {
        let Ok(converted) = receive_body(input, false, false, MAX_BYTES, 2_000) else {
            return Ok(());
        };
        let mut store = Store::open_in_memory().map_err(|e| e.to_string())?;
        store
            .insert(&converted.records)
            .map_err(|e| format!("insert: {e}"))?;
        let back = store
            .spans(&SpanQuery::new())
            .map_err(|e| format!("read: {e}"))?;
        // Later spans with the same ids replace earlier ones.
        let mut expected = std::collections::HashMap::new();
        for record in &converted.records {
            expected.insert((record.trace_id, record.span_id), record);
        }
        if back.len() != expected.len() {
            return Err(format!(
                "{} stored, {} read back",
                expected.len(),
                back.len()
            ));
        }
        for span in &back {
            let want = expected[&(span.trace_id, span.span_id)];
            if span.attributes != want.attributes || span.name != want.name {
                return Err(format!("span {} read back differently", span.span_id));
            }
        }
        Ok(())
    });
}

#[test]
fn pricing_toml() {
    fuzz("pricing_toml", |input| {
        let text = String::from_utf8_lossy(input).into_owned();
        if let Ok(table) = PriceTable::builder()
            .without_builtin()
            .toml("fuzz.toml", text)
            .build()
        {
            let usage = Usage::new(1000, 100);
            for model in ["gpt-4o", "house-llm", "x"] {
                let _ = table.resolve(model);
                let request = PriceRequest::new(model, StepKind::Chat, &usage, SystemTime::now());
                let cost = table.price(&request);
                if cost.total.picos() < 0 {
                    return Err("a negative price".into());
                }
            }
        }
        Ok(())
    });
}

#[test]
fn litellm_import() {
    // Whatever the importer accepts, the table files it writes load back.
    let effective: Date = "2025-01-01".parse().unwrap();
    fuzz("litellm", |input| {
        let text = String::from_utf8_lossy(input);
        let Ok(import) = litellm::import(&text, effective) else {
            return Ok(());
        };
        let files = import.to_toml_files(effective);
        let names: std::collections::HashSet<String> =
            files.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        if names.len() != files.len() {
            return Err("two providers share a file name".into());
        }
        let builder = files.into_iter().fold(
            PriceTable::builder().without_builtin(),
            |b, (name, text)| b.toml(name, text),
        );
        builder
            .build()
            .map(drop)
            .map_err(|e| format!("imported files do not load: {e}"))
    });
}

#[test]
fn model_names() {
    let table = PriceTable::builtin();
    fuzz("model_names", |input| {
        let name = String::from_utf8_lossy(input);
        let spellings = PriceTable::spellings(&name);
        if spellings.len() > 13 {
            return Err(format!("{} spellings", spellings.len()));
        }
        if spellings.iter().any(|s| s.len() > name.len()) {
            return Err("a spelling longer than the name".into());
        }
        let _ = table.resolve(&name);
        let usage = Usage::new(1_000_000, 1_000);
        let request = PriceRequest::new(&name, StepKind::Chat, &usage, SystemTime::now());
        if table.price(&request).total.picos() < 0 {
            return Err("a negative price".into());
        }
        Ok(())
    });
}

#[test]
fn tokenizer() {
    fuzz("tokenizer", |input| {
        let text = String::from_utf8_lossy(input);
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let count = encoding.count(&text);
            let tokens = encoding.encode(&text);
            if count != tokens.len() as u64 {
                return Err(format!(
                    "{encoding:?}: count {count}, encode {}",
                    tokens.len()
                ));
            }
            let max = count / 2;
            let (prefix, n) = encoding.truncate(&text, max);
            if n > max || !text.starts_with(prefix) {
                return Err(format!("{encoding:?}: truncate to {max} gave {n} tokens"));
            }
        }
        Ok(())
    });
}

mod codec {
    use proptest::prelude::*;
    use ragtrace::store::{SpanQuery, SpanRecord, Store};
    use serde_json::Value;

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
                .prop_map(Value::from),
            ".{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".{0,12}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("RAGTRACE_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256),
            // Failures are kept with the fuzz regressions and replayed first.
            failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct(
                "tests/fuzz/regressions/store_codec.proptest",
            ))),
            ..ProptestConfig::default()
        })]
        /// Attributes of any JSON shape are stored and read back as they were.
        #[test]
        fn attributes_round_trip(attrs in prop::collection::btree_map("[a-z._]{1,20}", value(), 0..12)) {
            let mut parts = ragtrace::store::SpanParts::new(
                opentelemetry::trace::TraceId::from(7_u128),
                opentelemetry::trace::SpanId::from(9_u64),
                "span",
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_001),
            );
            parts.attributes = attrs.into_iter().collect();
            let record: SpanRecord = parts.into_record(None);
            let mut store = Store::open_in_memory().unwrap();
            store.insert(std::slice::from_ref(&record)).unwrap();
            let back = store.spans(&SpanQuery::new()).unwrap().remove(0);
            prop_assert_eq!(back.attributes, record.attributes);
        }
    }
}

/// Writes the seed corpora (run by hand when the formats change):
/// `cargo test --all-features --test fuzz -- --ignored write_seed_corpora`.
#[test]
#[ignore]
fn write_seed_corpora() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value as V,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
    use prost::Message as _;
    use std::io::Write as _;

    let kv = |key: &str, value: V| KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    };
    let s = |text: &str| V::StringValue(text.into());
    let span = |id: u8, attributes: Vec<KeyValue>| Span {
        trace_id: vec![0xab; 16],
        span_id: vec![0, 0, 0, 0, 0, 0, 0, id],
        parent_span_id: if id > 1 {
            vec![0, 0, 0, 0, 0, 0, 0, 1]
        } else {
            vec![]
        },
        name: format!("span {id}"),
        kind: 3,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_001_000_000_000,
        attributes,
        events: vec![Event {
            name: "gen_ai.content.prompt".into(),
            time_unix_nano: 1_700_000_000_500_000_000,
            attributes: vec![kv("gen_ai.prompt", s("hello"))],
            ..Event::default()
        }],
        links: vec![Link {
            trace_id: vec![0xcd; 16],
            span_id: vec![1; 8],
            attributes: vec![kv("l", V::IntValue(1))],
            ..Link::default()
        }],
        status: Some(Status {
            code: 2,
            message: "boom".into(),
        }),
        ..Span::default()
    };
    let requests = [
        ExportTraceServiceRequest::default(),
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", s("rag")),
                        kv("api_key", s("sk-abcdefghijklmnopqrstu")),
                    ],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: vec![
                        span(1, vec![kv("ragtrace.step", s("request"))]),
                        span(
                            2,
                            vec![
                                kv("gen_ai.operation.name", s("chat")),
                                kv("gen_ai.request.model", s("openai/gpt-4o-2024-08-06")),
                                kv("gen_ai.usage.input_tokens", V::IntValue(1200)),
                                kv("gen_ai.usage.output_tokens", V::IntValue(80)),
                                kv("gen_ai.usage.cost", V::DoubleValue(0.0042)),
                                kv(
                                    "http.request.header.authorization",
                                    s("Bearer abcdefgh123456"),
                                ),
                            ],
                        ),
                        span(
                            3,
                            vec![
                                kv("openinference.span.kind", s("RETRIEVER")),
                                kv("retrieval.documents.0.document.id", s("doc-1")),
                                kv("retrieval.documents.0.document.score", V::DoubleValue(0.91)),
                                kv(
                                    "nested",
                                    V::KvlistValue(KeyValueList {
                                        values: vec![kv(
                                            "a",
                                            V::ArrayValue(ArrayValue {
                                                values: vec![
                                                    AnyValue {
                                                        value: Some(V::BoolValue(true)),
                                                    },
                                                    AnyValue {
                                                        value: Some(V::BytesValue(vec![1, 2, 3])),
                                                    },
                                                ],
                                            }),
                                        )],
                                    }),
                                ),
                            ],
                        ),
                        span(
                            4,
                            vec![
                                kv(
                                    "llm.model_name",
                                    s("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
                                ),
                                kv("llm.token_count.prompt", V::IntValue(10)),
                                kv("llm.token_count.completion", V::IntValue(5)),
                                kv("ragtrace.cost.picousd", V::StringValue("-5".into())),
                            ],
                        ),
                    ],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        },
    ];
    let many = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (1..=40)
                    .map(|i| {
                        span(
                            i,
                            vec![
                                kv("gen_ai.operation.name", s("chat")),
                                kv("k", V::IntValue(i.into())),
                            ],
                        )
                    })
                    .collect(),
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    };
    let requests = [requests[0].clone(), requests[1].clone(), many];
    let dir = fuzz_dir().join("corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let d = dir.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), bytes).unwrap();
    };
    for (i, request) in requests.iter().enumerate() {
        let proto = request.encode_to_vec();
        write("otlp_protobuf", &format!("request-{i}.pb"), &proto);
        write("store_codec", &format!("request-{i}.pb"), &proto);
        write(
            "otlp_json",
            &format!("request-{i}.json"),
            &serde_json::to_vec(request).unwrap(),
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&proto).unwrap();
        let member = gz.finish().unwrap();
        write("otlp_gzip", &format!("request-{i}.gz"), &member);
        write(
            "otlp_gzip",
            &format!("request-{i}-two-members.gz"),
            &[member.clone(), member].concat(),
        );
    }
    for file in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("pricing")).unwrap() {
        let path = file.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            write("pricing_toml", &name, &std::fs::read(&path).unwrap());
        }
    }
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/litellm_prices_sample.json"),
    )
    .unwrap();
    let sample: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&sample).unwrap();
    // A few entries per file keeps each mutation cheap.
    let entries: Vec<_> = sample.into_iter().collect();
    for (i, chunk) in entries.chunks(6).take(8).enumerate() {
        let map: serde_json::Map<String, serde_json::Value> = chunk.iter().cloned().collect();
        write(
            "litellm",
            &format!("sample-{i}.json"),
            &serde_json::to_vec_pretty(&map).unwrap(),
        );
    }
    for (i, name) in [
        "gpt-4o", "openai/gpt-4o-2024-08-06", "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-opus-4-5-20251101-v1:0",
        "vertex_ai/claude-sonnet-4-5@20250929", "ft:gpt-4o-mini-2024-07-18:acme:support:AbC123",
        "publishers/google/models/gemini-2.5-pro", "command-r-08-2024", "a/b/c/d/e/f/g/h/i/gpt-4o",
    ]
    .iter()
    .enumerate()
    {
        write("model_names", &format!("name-{i}"), name.as_bytes());
    }
    for (i, text) in [
        "Hello, world! How are you?",
        "def f(x):\n    return x ** 2  # 😀\n",
        "日本語のテキストと English mixed 123456789",
        "   \t\n\n   lots   of    space   ",
        "<|endoftext|> special-looking text <|im_start|>",
    ]
    .iter()
    .enumerate()
    {
        write("tokenizer", &format!("text-{i}"), text.as_bytes());
    }
}
