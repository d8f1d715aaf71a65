//! `ragtrace drift` end to end: retrieval spans with known score and
//! document distributions are written as OTLP JSON lines (the Collector's
//! file exporter format), ingested into a SQLite store, and read back by
//! the library and by the real binary.
//!
//! Every sample comes from a seeded generator, so the truth is known: a
//! stable month stays quiet, a shift from a given day is flagged from
//! that day, a new document mix raises JS, a small window is "insufficient
//! data", and distances are compared lower-is-better.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ragtrace::analysis::{
    Baseline, DriftOptions, DriftReport, ScoreDirection, SeriesReport, Shift, TimeRange, Verdict,
    drift,
};
use ragtrace::store::Store;
use ragtrace::store::ingest::{IngestOptions, ingest_file};
use serde_json::{Value, json};

/// 2026-10-01T00:00:00Z.
const DAY0: u64 = 1_790_812_800;
const DAY: u64 = 86_400;

/// SplitMix64 with Box–Muller normals: a fixed, dependency-free sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1_u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// How one day's retrievals of one collection are drawn.
#[derive(Clone, Copy)]
struct Day {
    retrievals: u32,
    /// Mean and spread of the top-1 score.
    mean: f64,
    sd: f64,
    /// `Some("similarity")`, `Some("distance")`, or unrecorded.
    kind: Option<&'static str>,
    /// Documents are `{docs}-{i}`, `i < 300`, drawn with Zipf-like weights.
    docs: &'static str,
    /// Further retrievals that found nothing, and that failed.
    empty: u32,
    failed: u32,
}

impl Day {
    fn similarity() -> Day {
        Day {
            retrievals: 200,
            mean: 0.72,
            sd: 0.06,
            kind: Some("similarity"),
            docs: "doc",
            empty: 0,
            failed: 0,
        }
    }
}

/// Writes the OTLP JSON lines for `days` of `collection` (day `d` drawn as
/// `plan(d)`), appending to `lines`.
fn generate(lines: &mut String, collection: &str, seed: u64, days: u32, plan: impl Fn(u32) -> Day) {
    let mut rng = Rng(seed);
    let weights: Vec<f64> = (0..300).map(|i| 1.0 / f64::from(i + 1).powf(0.8)).collect();
    let total: f64 = weights.iter().sum();
    let mut spans = Vec::new();
    for day in 0..days {
        let d = plan(day);
        for i in 0..d.retrievals {
            let start = (DAY0 + u64::from(day) * DAY) * 1_000_000_000
                + u64::from(i) * (DAY * 1_000_000_000 / u64::from(d.retrievals))
                + rng.next() % 1_000_000;
            let lower_better = d.kind == Some("distance");
            let mut score = d.mean + d.sd * rng.normal();
            let mut scores = Vec::new();
            let mut ids: Vec<String> = Vec::new();
            while ids.len() < 5 {
                let mut pick = rng.uniform() * total;
                let mut doc = 0;
                while doc < 299 && pick > weights[doc] {
                    pick -= weights[doc];
                    doc += 1;
                }
                let id = format!("{}-{doc}", d.docs);
                if !ids.contains(&id) {
                    ids.push(id);
                    scores.push(json!({ "doubleValue": score }));
                    let step = (0.02 * rng.normal()).abs();
                    score += if lower_better { step } else { -step };
                }
            }
            let mut attributes = vec![
                json!({"key": "ragtrace.step", "value": {"stringValue": "retrieval"}}),
                json!({"key": "gen_ai.operation.name", "value": {"stringValue": "retrieval"}}),
                json!({"key": "db.system.name", "value": {"stringValue": "qdrant"}}),
                json!({"key": "db.collection.name", "value": {"stringValue": collection}}),
                json!({"key": "ragtrace.retrieval.scores", "value": {"arrayValue": {"values": scores}}}),
                json!({"key": "ragtrace.retrieval.returned", "value": {"intValue": "5"}}),
            ];
            if let Some(kind) = d.kind {
                attributes.push(
                    json!({"key": "ragtrace.retrieval.score_kind", "value": {"stringValue": kind}}),
                );
            }
            for (rank, id) in ids.iter().enumerate() {
                attributes.push(json!({
                    "key": format!("retrieval.documents.{rank}.document.id"),
                    "value": {"stringValue": id},
                }));
            }
            let trace = rng.next();
            spans.push(json!({
                "traceId": format!("{:016x}{:016x}", seed, trace),
                "spanId": format!("{:016x}", rng.next() | 1),
                "name": format!("retrieval {collection}"),
                "kind": 3,
                "startTimeUnixNano": start.to_string(),
                "endTimeUnixNano": (start + 4_000_000).to_string(),
                "attributes": attributes,
                "status": {},
            }));
            if spans.len() == 200 {
                flush(lines, &mut spans);
            }
        }
        for i in 0..d.empty + d.failed {
            let failed = i >= d.empty;
            let start = (DAY0 + u64::from(day) * DAY + 3_600 + u64::from(i)) * 1_000_000_000;
            spans.push(json!({
                "traceId": format!("{:016x}{:016x}", seed, rng.next()),
                "spanId": format!("{:016x}", rng.next() | 1),
                "name": format!("retrieval {collection}"),
                "kind": 3,
                "startTimeUnixNano": start.to_string(),
                "endTimeUnixNano": (start + 4_000_000).to_string(),
                "attributes": [
                    {"key": "ragtrace.step", "value": {"stringValue": "retrieval"}},
                    {"key": "db.collection.name", "value": {"stringValue": collection}},
                    {"key": "ragtrace.retrieval.scores", "value": {"arrayValue": {"values": []}}},
                    {"key": "ragtrace.retrieval.returned", "value": {"intValue": "0"}},
                ],
                "status": if failed { json!({"code": 2, "message": "shard down"}) } else { json!({}) },
            }));
        }
    }
    flush(lines, &mut spans);
}

fn flush(lines: &mut String, spans: &mut Vec<Value>) {
    if spans.is_empty() {
        return;
    }
    let request = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "rag-api"}}]},
        "scopeSpans": [{"scope": {"name": "ragtrace"}, "spans": std::mem::take(spans)}],
    }]});
    let _ = writeln!(lines, "{request}");
}

/// A store in a temporary directory, filled by OTLP JSON ingest.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn ingest(lines: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("traces.jsonl");
        std::fs::write(&file, lines).unwrap();
        let mut store = Store::open(dir.path().join("t.db")).unwrap();
        let report = ingest_file(&file, &mut store, &IngestOptions::new()).unwrap();
        assert_eq!(report.errors, [], "the generated lines ingest cleanly");
        Fixture { dir }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("t.db")
    }

    fn drift(&self, options: &DriftOptions) -> DriftReport {
        let store = Store::open_read_only(self.db()).unwrap();
        drift(&store, options).unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ragtrace"))
            .arg("drift")
            .arg("--db")
            .arg(self.db())
            .args(args)
            .env_remove("RAGTRACE_DB")
            .env("NO_COLOR", "1")
            .output()
            .expect("the binary runs")
    }
}

fn series<'a>(report: &'a DriftReport, key: &str) -> &'a SeriesReport {
    report
        .series
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no series {key}"))
}

fn day(n: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(DAY0 + n * DAY)
}

/// The window starting on day `n`.
fn on_day(series: &SeriesReport, n: u64) -> &ragtrace::analysis::WindowReport {
    series
        .windows
        .iter()
        .find(|w| w.start == day(n))
        .unwrap_or_else(|| panic!("no window on day {n}"))
}

fn date(n: u64) -> String {
    jiff::Timestamp::try_from(day(n))
        .unwrap()
        .strftime("%Y-%m-%d")
        .to_string()
}

#[test]
fn a_stable_month_stays_quiet() {
    // 30 days × 200 retrievals in three collections (similarity, distance,
    // unrecorded direction), nothing changes: no window may warn.
    let mut lines = String::new();
    generate(&mut lines, "kb", 1, 30, |_| Day::similarity());
    generate(&mut lines, "faq", 2, 30, |_| Day {
        mean: 0.35,
        kind: Some("distance"),
        docs: "faq",
        ..Day::similarity()
    });
    generate(&mut lines, "wiki", 3, 30, |_| Day {
        kind: None,
        docs: "wiki",
        ..Day::similarity()
    });
    let fixture = Fixture::ingest(&lines);
    let report = fixture.drift(&DriftOptions::new());

    assert_eq!(report.series.len(), 3);
    for s in &report.series {
        assert_eq!(s.windows.len(), 30, "{}", s.key);
        let judged: Vec<_> = s
            .windows
            .iter()
            .filter(|w| w.verdict != Verdict::InsufficientData)
            .collect();
        // Day 0 has no baseline; from day 1 on the baseline has 200 or more.
        assert_eq!(judged.len(), 29, "{}", s.key);
        for w in &judged {
            assert_eq!(w.verdict, Verdict::Ok, "{} {:?}: {w:#?}", s.key, w.start);
        }
        assert_eq!(s.verdict, Verdict::Ok);
    }
    assert_eq!(series(&report, "faq").direction, ScoreDirection::Distance);
    let wiki = series(&report, "wiki");
    assert_eq!(wiki.direction, ScoreDirection::Unknown);
    assert!(
        wiki.windows[5]
            .notes
            .iter()
            .any(|n| n.contains("score direction unknown")),
        "{:?}",
        wiki.windows[5].notes
    );
    assert_eq!(report.verdict, Verdict::Ok);

    // The binary agrees, and exits 0 even with --fail-on warn.
    let out = fixture.run(&["--fail-on", "warn"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("overall: ok (0 alert, 0 warn, 87 ok, 3 too few)"),
        "{table}"
    );
    for line in table.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line:?}");
        assert!(
            !line.contains('\u{1b}'),
            "escape codes with NO_COLOR: {line:?}"
        );
    }
}

/// 20 days of `kb`; the top-1 score drops by 0.10 (1.7 sd) from day 14.
fn shifted_store() -> Fixture {
    let mut lines = String::new();
    generate(&mut lines, "kb", 7, 20, |d| Day {
        mean: if d >= 14 { 0.62 } else { 0.72 },
        ..Day::similarity()
    });
    Fixture::ingest(&lines)
}

#[test]
fn a_score_shift_alerts_from_the_day_it_happened() {
    let fixture = shifted_store();
    let report = fixture.drift(&DriftOptions::new());
    let kb = series(&report, "kb");
    for n in 1..14 {
        assert_eq!(on_day(kb, n).verdict, Verdict::Ok, "day {n}");
    }
    let moved = on_day(kb, 14);
    assert_eq!(moved.verdict, Verdict::Alert, "{moved:#?}");
    assert_eq!(moved.shift, Some(Shift::Worse));
    let psi = moved.psi.as_ref().unwrap();
    assert!(psi.judged.value > 0.25 && !psi.judged.held_back);
    assert!(moved.ks.unwrap().judged.value > 0.2);
    // The bins that moved most are the low-score ones: now far fuller.
    let top = &psi.bins[psi.moved_most[0]];
    assert!(top.window > top.baseline && top.lower.is_none(), "{top:?}");
    assert_eq!(report.verdict, Verdict::Alert);

    // A fixed baseline of the first week flags every shifted day.
    let fixed = fixture.drift(
        &DriftOptions::new()
            .baseline(Baseline::Fixed(TimeRange::between(
                Some(day(0)),
                Some(day(7)),
            )))
            .range(TimeRange::between(Some(day(7)), None)),
    );
    let kb = series(&fixed, "kb");
    assert_eq!(kb.windows.first().map(|w| w.start), Some(day(7)));
    for w in &kb.windows {
        let shifted = w.start >= day(14);
        let expected = if shifted { Verdict::Alert } else { Verdict::Ok };
        assert_eq!(w.verdict, expected, "{:?}", w.start);
    }

    // The binary: exit 3 (not an error) with --fail-on alert, nothing on
    // stderr; exit 0 without --fail-on.
    let out = fixture.run(&["--fail-on", "alert"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains(&format!("{}: alert\n    PSI ", date(14)))
            && table.contains("top-1 median 0.7"),
        "{table}"
    );
    assert_eq!(fixture.run(&[]).status.code(), Some(0));
    let baseline = format!("{}..{}", date(0), date(7));
    let out = fixture.run(&[
        "--baseline",
        &baseline,
        "--since",
        &date(7),
        "--until",
        &date(14),
        "--fail-on",
        "warn",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the unshifted week alone is quiet"
    );
}

#[test]
fn json_output_carries_what_charts_need() {
    let fixture = shifted_store();
    let out = fixture.run(&[
        "--format",
        "json",
        "--low-score",
        "0.6",
        "--since",
        &date(10),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "alert");
    assert_eq!(report["window_seconds"], 86_400);
    assert_eq!(report["baseline"], json!({"kind": "rolling", "windows": 7}));
    assert_eq!(
        report["thresholds"]["psi"],
        json!({"warn": 0.1, "alert": 0.25})
    );
    let windows = report["series"][0]["windows"].as_array().unwrap();
    assert_eq!(
        windows.len(),
        10,
        "days 10..19; the baseline reads back 7 more"
    );
    let w = &windows[4]; // day 14
    assert_eq!(w["start"], format!("{}T00:00:00Z", date(14)));
    assert_eq!(w["verdict"], "alert");
    assert_eq!(w["psi"]["verdict"], "alert");
    assert_eq!(w["ks"]["method"], "exact");
    assert!(w["baseline"]["top1"]["p50"].as_f64().unwrap() > 0.7);
    assert_eq!(w["histogram"]["edges"].as_array().unwrap().len(), 21);
    assert_eq!(w["psi"]["bins"].as_array().unwrap().len(), 10);
    let low = w["low_score_rate"].as_f64().unwrap();
    assert!(
        (0.3..0.7).contains(&low),
        "about half of N(0.62, 0.06) is under 0.6: {low}"
    );
    assert_eq!(
        windows[0]["low_score_rate"].as_f64().map(|r| r < 0.1),
        Some(true)
    );

    // By span name; --until in the middle of day 15 leaves that window
    // open and cut there: shown, not counted.
    let until = format!("{}T12:00:00Z", date(15));
    let out = fixture.run(&[
        "--format",
        "json",
        "--by",
        "name",
        "--since",
        &date(10),
        "--until",
        &until,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["series"][0]["key"], "retrieval kb");
    let windows = report["series"][0]["windows"].as_array().unwrap();
    let last = windows.last().unwrap();
    assert_eq!((windows.len(), &last["complete"]), (6, &json!(false)));
    assert_eq!(last["retrievals"], 100, "half of day 15");
    assert_eq!(windows[4]["complete"], true);
}

#[test]
fn a_new_document_mix_raises_js() {
    // Scores stay put; from day 10 the documents come from another set.
    let mut lines = String::new();
    generate(&mut lines, "kb", 11, 14, |d| Day {
        docs: if d >= 10 { "new" } else { "doc" },
        ..Day::similarity()
    });
    let fixture = Fixture::ingest(&lines);
    let report = fixture.drift(&DriftOptions::new());
    let kb = series(&report, "kb");
    let before = on_day(kb, 9);
    assert_eq!(before.verdict, Verdict::Ok);
    assert!(before.js.unwrap().judged.value < 0.1, "{:?}", before.js);
    let after = on_day(kb, 10);
    let js = after.js.unwrap();
    assert_eq!(js.judged.verdict, Verdict::Alert, "{js:?}");
    assert!(js.raw > 0.99, "disjoint mixes are 1 bit apart: {js:?}");
    // Rare documents of both sides share one category, so the judged value
    // is lower, and still far into the alert band.
    assert!(js.judged.value > 0.3, "{js:?}");
    assert_eq!(after.psi.as_ref().unwrap().judged.verdict, Verdict::Ok);
    assert_eq!(after.ks.unwrap().judged.verdict, Verdict::Ok);
    assert_eq!(after.verdict, Verdict::Alert);
    assert!(after.distinct_documents > 100);
}

#[test]
fn a_small_window_is_insufficient_data_not_an_alarm() {
    // Ten quiet days, then a day of 12 retrievals with far lower scores.
    let mut lines = String::new();
    generate(&mut lines, "kb", 21, 11, |d| {
        if d == 10 {
            Day {
                retrievals: 12,
                mean: 0.40,
                ..Day::similarity()
            }
        } else {
            Day::similarity()
        }
    });
    let fixture = Fixture::ingest(&lines);
    let report = fixture.drift(&DriftOptions::new());
    let small = on_day(series(&report, "kb"), 10);
    assert_eq!(small.retrievals, 12);
    assert_eq!(small.verdict, Verdict::InsufficientData);
    assert!(
        small
            .notes
            .iter()
            .any(|n| n.contains("12 scored retrievals")),
        "{:?}",
        small.notes
    );
    assert_eq!(report.verdict, Verdict::Ok);
    let out = fixture.run(&["--fail-on", "warn", "--since", &date(10)]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("too few"), "{table}");
    assert!(table.contains("overall: insufficient data"), "{table}");

    // A window so short the range would be millions of rows is refused.
    let out = fixture.run(&["--window", "1s", "--since", &date(0), "--until", &date(10)]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("864000 windows of 1s are too many"),
        "{stderr}"
    );
    let out = fixture.run(&["--window", "1s"]);
    assert_eq!(out.status.code(), Some(1), "also without --since/--until");
}

#[test]
fn distances_are_compared_lower_is_better() {
    // Two distance collections: one's distances grow (worse), the other's
    // shrink (better), both from day 10.
    let mut lines = String::new();
    for (name, seed, later) in [("worse", 31, 0.45), ("better", 32, 0.25)] {
        generate(&mut lines, name, seed, 12, move |d| Day {
            mean: if d >= 10 { later } else { 0.35 },
            sd: 0.04,
            kind: Some("distance"),
            // Day 11 also has 25 searches that found nothing, 5 that failed.
            empty: if d == 11 { 25 } else { 0 },
            failed: if d == 11 { 5 } else { 0 },
            ..Day::similarity()
        });
    }
    let fixture = Fixture::ingest(&lines);
    let report = fixture.drift(&DriftOptions::new().low_score(0.4));
    for (name, shift) in [("worse", Shift::Worse), ("better", Shift::Better)] {
        let s = series(&report, name);
        assert_eq!(s.direction, ScoreDirection::Distance);
        let before = on_day(s, 9);
        let after = on_day(s, 10);
        assert_eq!(after.shift, Some(shift), "{name}");
        assert_eq!(after.verdict, Verdict::Alert, "{name}");
        // The top-1 is the rank-1 (smallest) distance: p50 near the mean.
        let p50 = after.top1.unwrap().p50;
        assert!((p50 - if name == "worse" { 0.45 } else { 0.25 }).abs() < 0.02);
        let busy = on_day(s, 11);
        assert_eq!((busy.retrievals, busy.errors, busy.scored), (230, 5, 200));
        assert_eq!(busy.empty_rate, Some(25.0 / 230.0));
        assert_eq!(before.empty_rate, Some(0.0));
        // "Low" means a distance over the line.
        let (was, now) = (
            before.low_score_rate.unwrap(),
            after.low_score_rate.unwrap(),
        );
        if name == "worse" {
            assert!(was < 0.15 && now > 0.8, "{was} {now}");
        } else {
            assert!(was < 0.15 && now < 0.01, "{was} {now}");
        }
    }
}

#[test]
fn a_missing_store_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.db");
    let out = Command::new(env!("CARGO_BIN_EXE_ragtrace"))
        .args(["drift", "--db"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: no store at"), "{stderr}");
    assert!(
        !Path::new(&missing).exists(),
        "reading never creates a store"
    );

    // Bad options are errors too (exit 1 or clap's 2), never a verdict.
    for args in [
        &["--window", "soon"][..],
        &["--baseline", "2026-11-01"],
        &["--psi-warn", "0.5", "--psi-alert", "0.2"],
        &["--html", "report.html"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ragtrace"))
            .arg("drift")
            .args(args)
            .arg("--db")
            .arg(&missing)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}
