//! `ragtrace reprice`: the real binary over stores filled by `ragtrace
//! ingest --no-pricing` from OTLP JSON, checked against costs computed here
//! from the reference prices in PRICING.md.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ragtrace::pricing::CostStatus;
use ragtrace::store::{CostSource, SpanQuery, SpanRecord, Store};
use serde_json::{Value, json};

/// 2025-06-01T00:00:00Z: after every reference price below took effect.
const JUNE_2025: u64 = 1_748_736_000;
/// 2024-07-03T00:00:00Z: gpt-4o's launch price (5.00 / 15.00) was in force.
const JULY_2024: u64 = 1_719_964_800;

/// Picodollars per token from a price in USD per 1M tokens, as
/// micro-dollars per 1M (so 0.15 is 150_000): exact, no rounding needed for
/// the prices used here.
fn picos(tokens: u64, micro_usd_per_million: u64) -> i64 {
    // 1 USD per 1M tokens = 1e12 picos / 1e6 tokens = 1e6 picos per token;
    // so `micro` micro-dollars per 1M tokens is `micro` picos per token.
    (tokens * micro_usd_per_million) as i64
}

fn ragtrace(args: &[&str]) -> Output {
    ragtrace_env(args, None)
}

fn ragtrace_env(args: &[&str], pricing_dir: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ragtrace"));
    command
        .args(args)
        .env_remove("RAGTRACE_PRICING_DIR")
        .env_remove("RAGTRACE_DB");
    if let Some(dir) = pricing_dir {
        command.env("RAGTRACE_PRICING_DIR", dir);
    }
    command.output().expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = ragtrace(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_escape_codes(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// Piped output (as here) never carries a progress bar or colour.
fn assert_no_escape_codes(out: &Output) {
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\r'),
            "escape codes on {name}: {text:?}"
        );
    }
}

/// One OTLP/JSON span with GenAI usage and no cost.
fn chat_span(span: u64, start_secs: u64, model: &str, input: u64, output: u64) -> Value {
    let nanos = |secs: u64| (secs as u128 * 1_000_000_000).to_string();
    json!({
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": format!("{span:016x}"),
        "name": format!("chat {model}"),
        "kind": 3,
        "startTimeUnixNano": nanos(start_secs),
        "endTimeUnixNano": nanos(start_secs + 1),
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": model}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": input.to_string()}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": output.to_string()}},
        ],
    })
}

/// A retrieval span: not a model call, never priced.
fn retrieval_span(span: u64, start_secs: u64) -> Value {
    json!({
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": format!("{span:016x}"),
        "name": "retrieval",
        "startTimeUnixNano": (start_secs as u128 * 1_000_000_000).to_string(),
        "endTimeUnixNano": ((start_secs + 1) as u128 * 1_000_000_000).to_string(),
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "retrieval"}},
        ],
    })
}

/// The spans of every test: gpt-4o-mini twice, gpt-4o before and after its
/// 2024-10-02 price cut, a model no table knows, and a retrieval.
fn spans() -> Vec<Value> {
    vec![
        chat_span(1, JUNE_2025, "gpt-4o-mini", 1_234, 567),
        chat_span(2, JUNE_2025 + 10, "gpt-4o-mini", 20_000, 1_000),
        chat_span(3, JULY_2024, "gpt-4o", 1_000, 100),
        chat_span(4, JUNE_2025 + 20, "gpt-4o", 1_000, 100),
        chat_span(5, JUNE_2025 + 30, "in-house-llm", 50, 5),
        retrieval_span(6, JUNE_2025 + 40),
    ]
}

/// The reference prices (PRICING.md), per span id, in picodollars.
fn expected_picos(span: u64) -> Option<i64> {
    match span {
        // gpt-4o-mini: 0.15 in, 0.60 out.
        1 => Some(picos(1_234, 150_000) + picos(567, 600_000)),
        2 => Some(picos(20_000, 150_000) + picos(1_000, 600_000)),
        // gpt-4o on 2024-07-03: the launch price, 5.00 / 15.00.
        3 => Some(picos(1_000, 5_000_000) + picos(100, 15_000_000)),
        // gpt-4o in 2025: 2.50 / 10.00.
        4 => Some(picos(1_000, 2_500_000) + picos(100, 10_000_000)),
        _ => None,
    }
}

/// A store filled by `ragtrace ingest --no-pricing` from one OTLP/JSON file.
struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("spans.jsonl");
        let request = json!({"resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "rag-api"}}
            ]},
            "scopeSpans": [{"scope": {"name": "test"}, "spans": spans()}],
        }]});
        std::fs::write(&file, format!("{request}\n")).unwrap();
        let db = dir.path().join("ragtrace.db");
        let out = ok(&[
            "ingest",
            "--no-pricing",
            "--db",
            db.to_str().unwrap(),
            file.to_str().unwrap(),
        ]);
        assert!(out.contains("6 spans from 1 lines"), "{out}");
        Fixture { _dir: dir, db }
    }

    fn db(&self) -> &str {
        self.db.to_str().unwrap()
    }

    fn rows(&self) -> Vec<SpanRecord> {
        Store::open_read_only(&self.db)
            .unwrap()
            .spans(&SpanQuery::new())
            .unwrap()
    }
}

fn span_number(record: &SpanRecord) -> u64 {
    u64::from_be_bytes(record.span_id.to_bytes())
}

/// The printed row of `model`: spans, newly priced, old, new, change.
fn model_line<'a>(out: &'a str, model: &str) -> Option<Vec<&'a str>> {
    out.lines().find_map(|line| {
        let cells: Vec<&str> = line.split_whitespace().collect();
        (cells.first() == Some(&model)).then(|| cells[1..].to_vec())
    })
}

#[test]
fn reprice_prices_unpriced_spans_exactly_and_a_second_run_changes_nothing() {
    let fixture = Fixture::new();
    let before = fixture.rows();
    for record in &before {
        assert_eq!(record.cost, None, "ingested with --no-pricing");
    }

    let out = ok(&["reprice", "--db", fixture.db()]);
    assert!(
        out.starts_with(&format!(
            "repriced 4 of 5 model-call spans in {} (4 newly priced)\n",
            fixture.db()
        )),
        "{out}"
    );
    // 1_234 x 0.15 + 567 x 0.60 and 20_000 x 0.15 + 1_000 x 0.60 per 1M.
    assert_eq!(
        model_line(&out, "gpt-4o-mini"),
        Some(vec!["2", "2", "0", "0.0041253", "+0.0041253"]),
        "{out}"
    );
    // 0.0065 at the launch price, 0.0035 after the cut.
    assert_eq!(
        model_line(&out, "gpt-4o"),
        Some(vec!["2", "2", "0", "0.01", "+0.01"]),
        "{out}"
    );
    assert_eq!(
        model_line(&out, "total"),
        Some(vec!["4", "4", "0", "0.0141253", "+0.0141253"]),
        "{out}"
    );
    assert!(
        out.contains(
            "no price in the current tables for 1 span, left as stored: in-house-llm (1)\n"
        ),
        "{out}"
    );

    let after = fixture.rows();
    assert_eq!(after.len(), 6);
    for (old, new) in before.iter().zip(&after) {
        let span = span_number(new);
        assert_eq!(old.usage, new.usage, "span {span}: usage is kept");
        assert_eq!(old.attributes, new.attributes, "span {span}");
        match expected_picos(span) {
            Some(picos) => {
                assert_eq!(
                    new.cost.map(|c| c.picos()),
                    Some(i128::from(picos)),
                    "span {span}"
                );
                assert_eq!(new.cost_status, Some(CostStatus::Priced), "span {span}");
                assert_eq!(new.cost_source, Some(CostSource::Repriced), "span {span}");
                let parts = new.cost_breakdown.expect("the parts are stored");
                assert_eq!(parts.sum(), new.cost.unwrap(), "span {span}");
                assert_eq!(parts.input + parts.output, parts.sum(), "span {span}");
            }
            None => assert_eq!(new, old, "span {span} is left as stored"),
        }
    }
    let first = after.iter().find(|r| span_number(r) == 1).unwrap();
    let parts = first.cost_breakdown.unwrap();
    assert_eq!(parts.input.picos(), i128::from(picos(1_234, 150_000)));
    assert_eq!(parts.output.picos(), i128::from(picos(567, 600_000)));

    let again = ok(&["reprice", "--db", fixture.db()]);
    assert!(
        again.starts_with(&format!(
            "no change: 5 model-call spans in {} examined; the current prices change none of their costs\n",
            fixture.db()
        )),
        "{again}"
    );
    assert_eq!(model_line(&again, "gpt-4o-mini"), None, "{again}");
    assert_eq!(fixture.rows(), after, "the second run wrote nothing");
}

#[test]
fn a_changed_price_in_prices_dir_changes_that_models_totals() {
    let fixture = Fixture::new();
    ok(&["reprice", "--db", fixture.db()]);
    let priced = fixture.rows();

    let prices = tempfile::tempdir().unwrap();
    std::fs::write(
        prices.path().join("contract.toml"),
        r#"provider = "openai"

[[model]]
key = "gpt-4o-mini"
mode = "chat"

[[model.price]]
effective = 2024-07-18
source = "https://contracts.example/openai"
input = 0.30
output = 1.20
"#,
    )
    .unwrap();
    let dir = prices.path().to_str().unwrap();

    // A dry run says what would change and writes nothing.
    let dry = ok(&[
        "reprice",
        "--db",
        fixture.db(),
        "--prices-dir",
        dir,
        "--dry-run",
    ]);
    assert!(
        dry.starts_with(&format!(
            "would reprice 2 of 5 model-call spans in {} (0 newly priced); dry run, nothing written\n",
            fixture.db()
        )),
        "{dry}"
    );
    assert_eq!(fixture.rows(), priced, "--dry-run wrote nothing");

    let out = ok(&["reprice", "--db", fixture.db(), "--prices-dir", dir]);
    assert_eq!(
        dry.replacen("would reprice", "repriced", 1)
            .replace("; dry run, nothing written", ""),
        out
    );
    // Twice the price: twice the cost, to the picodollar.
    let old = picos(1_234, 150_000)
        + picos(567, 600_000)
        + picos(20_000, 150_000)
        + picos(1_000, 600_000);
    assert_eq!(old, 4_125_300_000);
    assert_eq!(
        model_line(&out, "gpt-4o-mini"),
        Some(vec!["2", "0", "0.0041253", "0.0082506", "+0.0041253"]),
        "{out}"
    );
    assert_eq!(
        model_line(&out, "gpt-4o"),
        None,
        "gpt-4o's price did not change: {out}"
    );
    let mini: i128 = fixture
        .rows()
        .iter()
        .filter(|r| r.model.as_deref() == Some("gpt-4o-mini"))
        .map(|r| r.cost.unwrap().picos())
        .sum();
    assert_eq!(mini, 2 * i128::from(old));

    // The same table through RAGTRACE_PRICING_DIR changes nothing more;
    // the built-in table alone brings the old price back.
    let env = ragtrace_env(&["reprice", "--db", fixture.db()], Some(prices.path()));
    assert!(env.status.success());
    assert!(String::from_utf8_lossy(&env.stdout).starts_with("no change: "));
    let back = ok(&["reprice", "--db", fixture.db()]);
    assert_eq!(
        model_line(&back, "gpt-4o-mini"),
        Some(vec!["2", "0", "0.0082506", "0.0041253", "-0.0041253"]),
        "{back}"
    );
}

#[test]
fn dry_run_leaves_the_store_unchanged() {
    let fixture = Fixture::new();
    let before = fixture.rows();
    let bytes = std::fs::read(&fixture.db).unwrap();
    let out = ok(&["reprice", "--db", fixture.db(), "--dry-run"]);
    assert!(
        out.starts_with("would reprice 4 of 5 model-call spans"),
        "{out}"
    );
    assert_eq!(
        model_line(&out, "total"),
        Some(vec!["4", "4", "0", "0.0141253", "+0.0141253"]),
        "{out}"
    );
    assert_eq!(fixture.rows(), before);
    assert_eq!(
        std::fs::read(&fixture.db).unwrap(),
        bytes,
        "not a byte changed"
    );
}

#[test]
fn each_span_is_priced_at_its_own_start_and_since_until_select_spans() {
    let fixture = Fixture::new();
    // Only the July 2024 span: gpt-4o at its launch price.
    let out = ok(&[
        "reprice",
        "--db",
        fixture.db(),
        "--since",
        "2024-07-01",
        "--until",
        "2024-08-01",
    ]);
    assert!(
        out.starts_with("repriced 1 of 1 model-call span in"),
        "{out}"
    );
    assert_eq!(
        model_line(&out, "gpt-4o"),
        Some(vec!["1", "1", "0", "0.0065", "+0.0065"]),
        "{out}"
    );
    let rows = fixture.rows();
    let cost = |span: u64| {
        rows.iter()
            .find(|r| span_number(r) == span)
            .unwrap()
            .cost
            .map(|c| c.picos())
    };
    assert_eq!(cost(3), expected_picos(3).map(i128::from));
    assert_eq!(cost(3), Some(6_500_000_000));
    assert_eq!(cost(4), None, "outside the range");

    // The rest: the same model and usage, a year later, costs less.
    let out = ok(&["reprice", "--db", fixture.db(), "--since", "2025-01-01"]);
    assert_eq!(
        model_line(&out, "gpt-4o"),
        Some(vec!["1", "1", "0", "0.0035", "+0.0035"]),
        "{out}"
    );
    assert_eq!(
        fixture
            .rows()
            .iter()
            .find(|r| span_number(r) == 4)
            .unwrap()
            .cost
            .map(|c| c.picos()),
        Some(3_500_000_000)
    );
}

#[test]
fn ingest_and_reprice_draw_no_progress_bar_when_piped() {
    // `ok` checks every command's output for escape codes; this one also
    // covers --quiet and a larger file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.jsonl");
    let mut text = String::new();
    for line in 0..200_u64 {
        let spans: Vec<Value> = (0..10)
            .map(|i| chat_span(line * 10 + i + 1, JUNE_2025 + line, "gpt-4o-mini", 100, 10))
            .collect();
        let request = json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]});
        text.push_str(&format!("{request}\n"));
    }
    std::fs::write(&file, text).unwrap();
    let db = dir.path().join("many.db");
    let db = db.to_str().unwrap();
    let out = ok(&["ingest", "--no-pricing", "--db", db, file.to_str().unwrap()]);
    assert!(out.contains("2000 spans from 200 lines"), "{out}");
    let out = ok(&["reprice", "--db", db]);
    assert!(
        out.starts_with("repriced 2000 of 2000 model-call spans"),
        "{out}"
    );
    let out = ok(&["reprice", "--db", db, "--quiet"]);
    assert!(out.starts_with("no change: 2000 model-call spans"), "{out}");
}

#[test]
fn a_missing_store_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nowhere.db");
    for dry_run in [false, true] {
        let mut args = vec!["reprice", "--db", db.to_str().unwrap()];
        if dry_run {
            args.push("--dry-run");
        }
        let out = ragtrace(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("error: no store at {}", db.display())),
            "{err}"
        );
        assert!(!db.exists(), "reprice created a store");
    }
}
