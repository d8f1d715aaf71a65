//! Token counting throughput, against bpe-openai's and tiktoken-rs's own
//! counters on the same text; `scripts/bench_tokens.sh` adds OpenAI's
//! Python tiktoken in the same run and prints the ratios (see BENCHMARKS.md).
//!
//! Groups:
//! - `count/<corpus>/<encoding>`: the fixture corpus (`natural`: the
//!   hand-written files; `synthetic`: white-space runs, repeated characters,
//!   random bytes decoded lossily), counted whole.
//! - `adversarial/<input>/<size>`: one input kind at growing sizes, ours only
//!   (tiktoken-rs panics on a million spaces). Linear time shows as a flat
//!   throughput across sizes.
//! - first use (loading an encoder) is printed before the groups run, since it
//!   happens once per process.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use ragtrace::tokens::Encoding;

/// The corpus files, by group, in the order `scripts/tiktoken_bench.py` reads them.
fn corpus(group: &str) -> String {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tokens/corpus"
    ));
    let synthetic = ["random_lossy.txt", "repeated.txt", "whitespace.txt"];
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| (group == "synthetic") == synthetic.contains(&n.as_str()))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| std::fs::read_to_string(dir.join(n)).expect("corpus file"))
        .collect()
}

fn bpe_openai(encoding: Encoding) -> &'static bpe_openai::Tokenizer {
    match encoding {
        Encoding::Cl100kBase => bpe_openai::cl100k_base(),
        _ => bpe_openai::o200k_base(),
    }
}

fn tiktoken_rs(encoding: Encoding) -> &'static tiktoken_rs::CoreBPE {
    match encoding {
        Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
        _ => tiktoken_rs::o200k_base_singleton(),
    }
}

fn first_use() {
    // Each loads once per process: time the first call of each.
    for encoding in Encoding::ALL {
        let ours = encoding.preload();
        let start = Instant::now();
        black_box(bpe_openai(encoding).count("x"));
        let bpe = start.elapsed();
        let start = Instant::now();
        black_box(tiktoken_rs(encoding).encode_ordinary("x"));
        let tiktoken = start.elapsed();
        println!(
            "first use {encoding}: ragtrace {:.1} ms (includes bpe-openai's tables), \
             bpe-openai alone after that {:.1} ms, tiktoken-rs {:.1} ms",
            ours.as_secs_f64() * 1e3,
            bpe.as_secs_f64() * 1e3,
            tiktoken.as_secs_f64() * 1e3
        );
    }
}

fn count(c: &mut Criterion) {
    for group_name in ["natural", "synthetic"] {
        let text = corpus(group_name);
        for encoding in Encoding::ALL {
            let ours = encoding.count(&text);
            assert_eq!(ours as usize, bpe_openai(encoding).count(text.as_str()));
            let mut group = c.benchmark_group(format!("count/{group_name}/{encoding}"));
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_function("ragtrace", |b| b.iter(|| encoding.count(black_box(&text))));
            group.bench_function("bpe-openai", |b| {
                b.iter(|| bpe_openai(encoding).count(black_box(text.as_str())))
            });
            // tiktoken-rs recurses on long white-space runs; the synthetic
            // corpus stays under its limit (20,000 spaces at most).
            group.bench_function("tiktoken-rs", |b| {
                b.iter(|| {
                    tiktoken_rs(encoding)
                        .encode_ordinary(black_box(&text))
                        .len()
                })
            });
            group.finish();
        }
    }
}

fn adversarial(c: &mut Criterion) {
    let mixed = corpus("natural");
    type Make = Box<dyn Fn(usize) -> String>;
    let kinds: [(&str, Make); 4] = [
        ("spaces", Box::new(|n| " ".repeat(n))),
        ("one-char", Box::new(|n| "a".repeat(n))),
        ("random-lossy", Box::new(random_lossy)),
        (
            "mixed-scripts",
            Box::new(move |n| mixed.chars().cycle().take(n).collect()),
        ),
    ];
    for (name, make) in &kinds {
        let mut group = c.benchmark_group(format!("adversarial/{name}"));
        group.sample_size(10);
        for size in [64 << 10, 256 << 10, 1 << 20] {
            let text = make(size);
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_with_input(BenchmarkId::from_parameter(size), &text, |b, text| {
                b.iter(|| Encoding::O200kBase.count(black_box(text)))
            });
        }
        group.finish();
    }
}

/// `n` pseudo-random bytes (xorshift), decoded lossily.
fn random_lossy(n: usize) -> String {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let bytes: Vec<u8> = (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

criterion_group!(benches, count, adversarial);

/// `TOKENS_PASSES=<ours|bpe-openai|none>:<corpus>:<n>` makes the binary count
/// the corpus `n` times with o200k_base and exit, for instruction counts
/// under valgrind (`scripts/bench_tokens.sh --instructions`), which do not
/// depend on the load of a shared machine.
fn passes(spec: &str) {
    let mut parts = spec.split(':');
    let (who, group, n) = (parts.next(), parts.next(), parts.next());
    let (Some(who), Some(group), Some(Ok(n))) = (who, group, n.map(str::parse::<usize>)) else {
        panic!("TOKENS_PASSES={spec}: expected who:corpus:n");
    };
    let text = corpus(group);
    Encoding::O200kBase.preload();
    bpe_openai::o200k_base().count("warm up");
    let mut total = 0_usize;
    for _ in 0..n {
        total += match who {
            "ours" => Encoding::O200kBase.count(black_box(&text)) as usize,
            "bpe-openai" => bpe_openai::o200k_base().count(black_box(text.as_str())),
            _ => 0,
        };
    }
    println!("{who} {group} x{n}: {total} tokens");
}

fn main() {
    if let Ok(spec) = std::env::var("TOKENS_PASSES") {
        return passes(&spec);
    }
    first_use();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
