//! HTML reports as a person sees them: pages are written to files and
//! opened by Debian's headless Chromium, which takes a screenshot and dumps
//! the DOM. The tests check that the charts are drawn (SVG shapes in the
//! DOM, a screenshot with more than a blank page in it) and that names
//! from traces that look like markup show as text and run nothing.
//!
//! Without Chromium the tests say so and skip, except in CI (`CI` set),
//! where a missing browser fails them: `.ci/run` installs it.
#![cfg(feature = "cli")]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use ragtrace::analysis::html::charts::{self, BandPoint, Mark, Series, Threshold, Unit};
use ragtrace::analysis::html::{Level, Page, Table, drift_html, report_html};
use ragtrace::analysis::{DriftOptions, ReportOptions, Verdict, drift, report};
use ragtrace::pricing::{Cost, PriceRequest, Usd};
use ragtrace::store::Store;
use ragtrace::store::ingest::{IngestOptions, ingest_file};

/// Markup that would run or inject if a name reached the page unescaped.
const SCRIPT: &str = "<script>document.title='pwned'</script>";
const IMG: &str = "\"><img src=x onerror=\"document.title='pwned'\">";

/// Headless Chromium, or `None` (with a message saying the test is
/// skipped) when it is not installed outside CI.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        if let Some(path) = found {
            return Some(path);
        }
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !in_ci,
        "chromium is not installed, and CI is set: .ci/run must install it (apt-get install -y chromium)"
    );
    // Straight to stderr: the test harness captures eprintln!, and a skip
    // must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: chromium is not installed, so this HTML test did not run (apt-get install chromium; in CI a missing chromium fails)"
    );
    None
}

/// What Chromium made of a page.
struct Rendered {
    dom: String,
    png: PathBuf,
}

/// Opens `page` in headless Chromium: the DOM after load, and a screenshot.
fn render(browser: &Path, page: &Path) -> Rendered {
    let dir = page.parent().unwrap();
    let png = page.with_extension("png");
    let url = format!("file://{}", page.display());
    let dom = run_chromium(browser, dir, &["--dump-dom", &url]);
    run_chromium(
        browser,
        dir,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1200,2000",
            "--hide-scrollbars",
            &url,
        ],
    );
    assert!(png.exists(), "chromium wrote no screenshot");
    // To look at what the tests rendered: RAGTRACE_TEST_HTML_DIR=some/dir.
    if let Some(keep) = std::env::var_os("RAGTRACE_TEST_HTML_DIR") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        for file in [page, png.as_path()] {
            std::fs::copy(file, keep.join(file.file_name().unwrap())).unwrap();
        }
    }
    Rendered { dom, png }
}

/// Runs Chromium with a profile of its own, at most a minute.
fn run_chromium(browser: &Path, dir: &Path, args: &[&str]) -> String {
    let profile = tempfile::tempdir_in(dir).unwrap();
    let out = tempfile::NamedTempFile::new_in(dir).unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read_to_string(out.path()).unwrap()
}

/// Decodes a screenshot; returns its size, the number of distinct
/// colours, and the share of pixels that are not the page background.
fn picture_stats(png: &Path) -> (u32, u32, usize, f64) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut counts = std::collections::HashMap::<[u8; 3], usize>::new();
    for px in pixels.chunks(channels) {
        let rgb = [px[0], px[1], px[2]];
        colours.insert(rgb);
        *counts.entry(rgb).or_default() += 1;
    }
    let total = pixels.len() / channels;
    let background = counts.values().copied().max().unwrap_or(0);
    (
        info.width,
        info.height,
        colours.len(),
        1.0 - background as f64 / total as f64,
    )
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A page with every chart kind, fed by hand-made series.
fn every_chart_page(hostile: &str) -> String {
    let day = 1_764_460_800; // 2025-11-30T00:00:00Z
    let starts: Vec<SystemTime> = (0..12).map(|h| at(day + h * 3600)).collect();
    let mut page = Page::new("Charts");
    page.subtitle(format!("Store with {hostile}"));
    page.section("Cost");
    page.stats([("Requests", "120"), ("Cost", "$0.012345678901")]);
    let figure = charts::stacked_bars(
        "Cost per hour by model",
        &starts,
        Duration::from_secs(3600),
        &[
            Series::new(
                "gpt-4o-mini",
                (0..12).map(|h| 0.001 * (h % 5) as f64).collect(),
            ),
            Series::new(hostile, (0..12).map(|h| 0.0004 * (h % 3) as f64).collect()),
        ],
        Unit::Usd,
    );
    page.figure("Cost over time by model", &figure);
    let edges: Vec<f64> = (0..=10).map(|i| i as f64 * 0.0005).collect();
    let figure = charts::histogram(
        "Requests by cost",
        "requests",
        &edges,
        &[2, 9, 14, 20, 11, 6, 3, 1, 0, 1],
        Unit::Usd,
    );
    page.figure("Cost per request", &figure);
    let figure = charts::grouped_bars(
        "Latency per step",
        &[
            "embed".into(),
            "retrieve".into(),
            hostile.into(),
            "chat".into(),
        ],
        &[
            Series::new("median", vec![0.04, 0.09, 0.02, 1.2]),
            Series::new("95th percentile", vec![0.07, 0.2, 0.03, 2.9]),
        ],
        Unit::Seconds,
    );
    page.figure("Latency per step", &figure);
    let mut table = Table::new(["Model", "Calls", "Cost"]).numeric(1).numeric(2);
    table.row(["gpt-4o-mini", "100", "$0.010000000001"]);
    table.marked_row(Level::Warn, [hostile, "20", "$0.0023456789"]);
    page.table(&table);
    page.section("Drift");
    let points: Vec<BandPoint> = (0..12)
        .map(|h| BandPoint {
            at: starts[h],
            value: if h == 4 {
                None
            } else {
                Some(0.03 + 0.03 * h as f64)
            },
            band: Some((0.0, 0.1)),
            mark: match h {
                4 => Mark::Insufficient,
                0..=2 => Mark::Normal,
                3..=7 => Mark::Warn,
                _ => Mark::Alert,
            },
        })
        .collect();
    let figure = charts::band_line(
        "PSI of the top score",
        "PSI",
        &points,
        &[
            Threshold {
                name: "warn at 0.1".into(),
                value: 0.1,
                mark: Mark::Warn,
            },
            Threshold {
                name: "alert at 0.25".into(),
                value: 0.25,
                mark: Mark::Alert,
            },
        ],
        Unit::Number,
    );
    page.figure("Top-score PSI per window", &figure);
    let edges: Vec<f64> = (0..=20).map(|i| i as f64 * 0.05).collect();
    let baseline: Vec<f64> = [
        0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 14, 20, 25, 30, 22, 12, 6, 3, 1, 0,
    ]
    .map(f64::from)
    .to_vec();
    let latest: Vec<f64> = [
        0, 0, 0, 0, 1, 3, 6, 12, 18, 20, 16, 10, 6, 3, 1, 0, 0, 0, 0, 0,
    ]
    .map(f64::from)
    .to_vec();
    let figure = charts::paired_histogram(
        "Top scores, baseline and latest window",
        &edges,
        ("baseline", &baseline[..]),
        (hostile, &latest[..]),
        Unit::Number,
    );
    page.figure("Top-score distribution", &figure);
    page.notice(Level::Alert, format!("Collection {hostile} drifted"));
    page.render()
}

#[test]
fn every_chart_kind_is_drawn_and_hostile_names_stay_text() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let hostile = format!("{SCRIPT}{IMG}");
    let file = dir.path().join("charts.html");
    std::fs::write(&file, every_chart_page(&hostile)).unwrap();
    let rendered = render(&browser, &file);
    let dom = &rendered.dom;

    // The title is the page's own: no script ran.
    assert!(dom.contains("<title>Charts</title>"), "{dom}");
    // Nothing was injected: no script or img element, only text.
    assert_eq!(dom.matches("<script").count(), 0, "{dom}");
    assert_eq!(dom.matches("<img").count(), 0, "{dom}");
    assert!(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
    // Five charts, each with shapes.
    assert_eq!(dom.matches("<svg").count(), 5, "{dom}");
    assert!(dom.matches("<rect").count() > 40);
    assert!(dom.contains("<polygon") && dom.contains("<polyline"));
    assert!(dom.matches("<circle").count() >= 12);

    let (width, height, colours, ink) = picture_stats(&rendered.png);
    assert_eq!((width, height), (1200, 2000));
    assert!(colours > 50, "only {colours} colours: a blank page?");
    assert!(ink > 0.1, "only {:.1}% of the page is drawn", ink * 100.0);
}

/// A small deterministic generator (no dependency, same data every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A number in `[low, high)`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

/// 2025-11-28T00:00:00Z in nanoseconds.
const T0: u64 = 1_764_288_000_000_000_000;
const SEC: u64 = 1_000_000_000;

fn kv_str(key: &str, value: &str) -> serde_json::Value {
    serde_json::json!({"key": key, "value": {"stringValue": value}})
}

fn kv_int(key: &str, value: u64) -> serde_json::Value {
    serde_json::json!({"key": key, "value": {"intValue": value.to_string()}})
}

/// Two days of RAG requests as OTLP JSON (the Collector's file exporter
/// format, GenAI semantic-convention keys), one request per line. With
/// `hostile`, some request, user and model names are markup.
fn collector_file(hostile: bool) -> String {
    let mut rng = Lcg(7);
    let mut out = String::new();
    let evil = format!("{SCRIPT}{IMG}");
    for hour in 0..48u64 {
        // Busier in the day, as a service is.
        let busy = matches!(hour % 24, 8..=18);
        let n = if busy {
            rng.range(3, 7)
        } else {
            rng.range(0, 3)
        };
        for k in 0..n {
            let start = T0 + hour * 3600 * SEC + rng.range(0, 3500) * SEC;
            let trace = format!("{:016x}{:016x}", hour + 1, k + 1 + (rng.next() << 8));
            let span_id = |i: u64| format!("{:08x}{:08x}", hour * 16 + k + 1, i);
            let name = match (hostile, rng.range(0, 10)) {
                (true, 0) => evil.as_str(),
                (_, 0..=6) => "answer",
                _ => "search",
            };
            let user = if hostile && k == 1 {
                evil.clone()
            } else {
                format!("u-{}", rng.range(1, 9))
            };
            let model = match (hostile, rng.range(0, 20)) {
                (true, 0..=1) => evil.as_str(),
                (_, 2..=4) => "gpt-4.1",
                (_, 5) => "local-llama",
                _ => "gpt-4o-mini",
            };
            let embed_ms = rng.range(20, 60);
            let retrieve_ms = rng.range(30, 120);
            let chat_ms = rng.range(600, 2400) + if model == "gpt-4.1" { 1500 } else { 0 };
            let e0 = start + 2_000_000;
            let r0 = e0 + embed_ms * 1_000_000;
            let c0 = r0 + retrieve_ms * 1_000_000 + 3_000_000;
            let end = c0 + chat_ms * 1_000_000;
            let failed = rng.range(0, 40) == 0;
            let top = 0.70 + rng.range(0, 25) as f64 / 100.0;
            let docs = format!(
                r#"[{{"id":"doc-{}","score":{top:.2}}},{{"id":"doc-{}","score":{:.2}}}]"#,
                rng.range(1, 40),
                rng.range(1, 40),
                top - 0.05
            );
            let span = |id: u64, name: &str, s: u64, e: u64, attrs: Vec<serde_json::Value>| {
                let mut span = serde_json::json!({
                    "traceId": trace, "spanId": span_id(id), "name": name, "kind": 1,
                    "startTimeUnixNano": s.to_string(), "endTimeUnixNano": e.to_string(),
                    "attributes": attrs, "status": {}
                });
                if id > 1 {
                    span["parentSpanId"] = span_id(1).into();
                }
                span
            };
            let mut chat = span(
                4,
                &format!("chat {model}"),
                c0,
                end,
                vec![
                    kv_str("gen_ai.operation.name", "chat"),
                    kv_str("gen_ai.provider.name", "openai"),
                    kv_str("gen_ai.request.model", model),
                    kv_int("gen_ai.usage.input_tokens", rng.range(800, 3200)),
                    kv_int("gen_ai.usage.output_tokens", rng.range(40, 420)),
                ],
            );
            if failed {
                chat["status"] = serde_json::json!({"code": 2, "message": "upstream 503"});
            }
            let spans = vec![
                span(
                    1,
                    name,
                    start,
                    end + 1_000_000,
                    vec![
                        kv_str("ragtrace.step", "request"),
                        kv_str("user.id", &user),
                        kv_str("session.id", "s-1"),
                    ],
                ),
                span(
                    2,
                    "embeddings text-embedding-3-small",
                    e0,
                    e0 + embed_ms * 1_000_000,
                    vec![
                        kv_str("gen_ai.operation.name", "embeddings"),
                        kv_str("gen_ai.provider.name", "openai"),
                        kv_str("gen_ai.request.model", "text-embedding-3-small"),
                        kv_int("gen_ai.usage.input_tokens", rng.range(8, 60)),
                    ],
                ),
                span(
                    3,
                    "retrieval kb",
                    r0,
                    r0 + retrieve_ms * 1_000_000,
                    vec![
                        kv_str("gen_ai.operation.name", "retrieval"),
                        kv_str("gen_ai.data_source.id", "kb"),
                        kv_str("gen_ai.retrieval.documents", &docs),
                    ],
                ),
                chat,
            ];
            let line = serde_json::json!({"resourceSpans": [{
                "resource": {"attributes": [kv_str("service.name", "rag-api")]},
                "scopeSpans": [{"scope": {"name": "rag"}, "spans": spans}]
            }]});
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
    out
}

/// Prices per million tokens, input and output; `local-llama` has none.
fn pricer(request: &PriceRequest<'_>) -> Cost {
    let (input, output) = match request.model {
        "gpt-4o-mini" => ("0.15", "0.60"),
        "gpt-4.1" => ("2", "8"),
        "text-embedding-3-small" => ("0.02", "0"),
        "local-llama" => return Cost::unpriced(),
        _ => ("1.10", "4.40"),
    };
    let rate = |s: &str| s.parse::<Usd>().unwrap();
    let u = request.usage;
    Cost::from_parts(
        rate(input).per_million_tokens(u.uncached_input_tokens()),
        Usd::ZERO,
        Usd::ZERO,
        rate(output).per_million_tokens(u.visible_output_tokens()),
        Usd::ZERO,
    )
}

/// A store filled by ingesting [`collector_file`].
fn ingested_store(dir: &Path, hostile: bool) -> Store {
    let file = dir.join("collector.jsonl");
    std::fs::write(&file, collector_file(hostile)).unwrap();
    let mut store = Store::open(dir.join("traces.db")).unwrap();
    let options = IngestOptions::new().pricer(Arc::new(pricer));
    let ingested = ingest_file(&file, &mut store, &options).unwrap();
    assert!(ingested.errors.is_empty(), "{:?}", ingested.errors);
    assert!(ingested.requests > 100, "{}", ingested.requests);
    store
}

#[test]
fn a_cost_report_page_draws_its_charts_and_shows_exact_money() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = ingested_store(dir.path(), false);
    let result = report(&store, &ReportOptions::new()).unwrap();
    let file = dir.path().join("report.html");
    std::fs::write(&file, report_html(&result)).unwrap();
    let rendered = render(&browser, &file);
    let dom = &rendered.dom;

    assert!(dom.contains("<title>ragtrace cost report</title>"));
    // Cost over time by model and by step, the histogram, latency by step.
    assert_eq!(dom.matches("<svg").count(), 4, "{dom}");
    assert!(dom.matches("<rect").count() > 100);
    for name in [
        "gpt-4o-mini",
        "gpt-4.1",
        "text-embedding-3-small",
        "chat",
        "retrieval",
    ] {
        assert!(dom.contains(name), "{name} missing");
    }
    // Money exactly as the result holds it.
    let total = result.total.totals.cost;
    assert!(!total.is_zero());
    assert!(
        dom.contains(&format!("${total}")),
        "total ${total} not shown"
    );
    // Some calls have no price: the total says it is a floor.
    assert!(
        dom.contains(&format!("${total} + ?")),
        "no + ? on the total"
    );
    assert!(dom.contains("+ ? marks groups"));
    // The unpriced model is named, and its cost is not taken as zero.
    assert!(dom.contains("Unpriced models") && dom.contains("local-llama"));

    let (_, _, colours, ink) = picture_stats(&rendered.png);
    assert!(colours > 50, "only {colours} colours: a blank page?");
    assert!(ink > 0.1, "only {:.1}% of the page is drawn", ink * 100.0);
}

#[test]
fn names_from_traces_that_look_like_markup_stay_text_in_a_report() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = ingested_store(dir.path(), true);
    for options in [
        ReportOptions::new(),
        ReportOptions::new().group_by(ragtrace::analysis::GroupBy::Name),
        ReportOptions::new().group_by(ragtrace::analysis::GroupBy::User),
    ] {
        let result = report(&store, &options).unwrap();
        let file = dir.path().join("hostile.html");
        std::fs::write(&file, report_html(&result)).unwrap();
        let dom = render(&browser, &file).dom;
        assert!(
            dom.contains("<title>ragtrace cost report</title>"),
            "a script ran"
        );
        assert_eq!(dom.matches("<script").count(), 0, "{dom}");
        assert_eq!(dom.matches("<img").count(), 0, "{dom}");
        assert!(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
        assert_eq!(dom.matches("<svg").count(), 4);
    }
}

#[test]
fn ragtrace_report_html_writes_the_page_and_still_prints_the_table() {
    let dir = tempfile::tempdir().unwrap();
    drop(ingested_store(dir.path(), false));
    let page = dir.path().join("out.html");
    let output = Command::new(env!("CARGO_BIN_EXE_ragtrace"))
        .arg("report")
        .arg("--db")
        .arg(dir.path().join("traces.db"))
        .arg("--html")
        .arg(&page)
        .env_remove("RAGTRACE_DB")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("gpt-4o-mini"), "{stdout}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 4);
    // Self-contained: nothing is loaded from anywhere.
    for remote in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(remote), "{remote} in the page");
    }

    // A file that cannot be written is one clear error.
    let output = Command::new(env!("CARGO_BIN_EXE_ragtrace"))
        .arg("report")
        .arg("--db")
        .arg(dir.path().join("traces.db"))
        .arg("--html")
        .arg(dir.path().join("no/such/dir/out.html"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot write"), "{stderr}");

    let Some(browser) = chromium() else { return };
    let dom = render(&browser, &page).dom;
    assert_eq!(dom.matches("<svg").count(), 4);
}

#[test]
fn a_report_on_a_range_with_no_requests_is_a_page_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = ingested_store(dir.path(), false);
    let range = ragtrace::analysis::TimeRange::between(Some(at(4_000_000_000)), None);
    let result = report(&store, &ReportOptions::new().range(range)).unwrap();
    assert_eq!(result.total.requests, 0);
    let html = report_html(&result);
    assert!(html.contains("No requests in this range."));
    assert!(html.contains("2096-10-02 07:06:40 to now UTC"), "{html}");
    assert!(html.ends_with("</html>\n"));
}

/// Fourteen days of retrievals as OTLP JSON, 90 a day in each of two
/// collections: `kb` stays put; the other (named `drifting`) scores worse
/// and returns other documents from day 11 on.
fn retrieval_file(drifting: &str) -> String {
    let mut rng = Lcg(11);
    let mut out = String::new();
    let mut n = 0u64;
    for day in 0..14u64 {
        for (collection, shifts) in [("kb", false), (drifting, true)] {
            let moved = shifts && day >= 10;
            for _ in 0..90 {
                n += 1;
                let start = T0 + day * 86_400 * SEC + rng.range(0, 86_000) * SEC;
                let centre = if moved { 0.62 } else { 0.80 };
                let top = centre + (rng.range(0, 200) as f64 - 100.0) / 1000.0;
                let doc = |rng: &mut Lcg| {
                    if moved {
                        rng.range(30, 60)
                    } else {
                        rng.range(1, 30)
                    }
                };
                let docs = format!(
                    r#"[{{"id":"doc-{}","score":{top:.3}}},{{"id":"doc-{}","score":{:.3}}}]"#,
                    doc(&mut rng),
                    doc(&mut rng),
                    top - 0.04
                );
                let span = serde_json::json!({
                    "traceId": format!("{:032x}", n), "spanId": format!("{:016x}", n),
                    "name": format!("retrieval {collection}"), "kind": 3,
                    "startTimeUnixNano": start.to_string(),
                    "endTimeUnixNano": (start + 40_000_000).to_string(),
                    "attributes": [
                        kv_str("ragtrace.step", "retrieval"),
                        kv_str("ragtrace.retrieval.score_kind", "similarity"),
                        kv_str("gen_ai.operation.name", "retrieval"),
                        kv_str("gen_ai.data_source.id", collection),
                        kv_str("gen_ai.retrieval.documents", &docs),
                    ],
                });
                let line = serde_json::json!({"resourceSpans": [{
                    "resource": {"attributes": [kv_str("service.name", "rag-api")]},
                    "scopeSpans": [{"scope": {"name": "rag"}, "spans": [span]}]
                }]});
                out.push_str(&line.to_string());
                out.push('\n');
            }
        }
    }
    out
}

/// A store filled by ingesting [`retrieval_file`].
fn drift_store(dir: &Path, drifting: &str) -> PathBuf {
    let file = dir.join("retrievals.jsonl");
    std::fs::write(&file, retrieval_file(drifting)).unwrap();
    let path = dir.join("drift.db");
    let mut store = Store::open(&path).unwrap();
    let ingested = ingest_file(&file, &mut store, &IngestOptions::new()).unwrap();
    assert!(ingested.errors.is_empty(), "{:?}", ingested.errors);
    path
}

#[test]
fn a_drift_page_draws_each_metric_against_its_band_with_alerts_marked() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let hostile = format!("faq{SCRIPT}{IMG}");
    let store = Store::open_read_only(drift_store(dir.path(), &hostile)).unwrap();
    let result = drift(&store, &DriftOptions::new()).unwrap();
    assert_eq!(result.verdict, Verdict::Alert);
    let file = dir.path().join("drift.html");
    std::fs::write(&file, drift_html(&result)).unwrap();
    let rendered = render(&browser, &file);
    let dom = &rendered.dom;

    assert!(
        dom.contains("<title>ragtrace retrieval drift</title>"),
        "a script ran"
    );
    assert_eq!(dom.matches("<script").count(), 0, "{dom}");
    assert_eq!(dom.matches("<img").count(), 0, "{dom}");
    assert!(dom.contains("faq&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
    // Per series: the median against its band, PSI, KS and JS over time,
    // and the paired histograms.
    assert_eq!(dom.matches("<svg").count(), 10, "{dom}");
    assert!(dom.contains("<polygon") && dom.contains("<polyline"));
    // Alerts are drawn in the alert colour and named in the legend; the
    // alert windows are marked in the table.
    assert!(dom.to_ascii_lowercase().contains("fill=\"#cc2529\""));
    assert!(dom.contains("</span>alert</li>"), "{dom}");
    assert_eq!(dom.matches("<tr class=\"alert\">").count(), 4, "{dom}");

    let (_, _, colours, ink) = picture_stats(&rendered.png);
    assert!(colours > 50, "only {colours} colours: a blank page?");
    assert!(ink > 0.1, "only {:.1}% of the page is drawn", ink * 100.0);
}

#[test]
fn ragtrace_drift_html_writes_the_page_and_keeps_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = drift_store(dir.path(), "faq");
    let page = dir.path().join("drift-cli.html");
    let output = Command::new(env!("CARGO_BIN_EXE_ragtrace"))
        .arg("drift")
        .arg("--db")
        .arg(&db)
        .arg("--html")
        .arg(&page)
        .args(["--fail-on", "alert"])
        .env_remove("RAGTRACE_DB")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("faq"), "{stdout}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 10);
    for remote in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(remote), "{remote} in the page");
    }

    let Some(browser) = chromium() else { return };
    let dom = render(&browser, &page).dom;
    assert_eq!(dom.matches("<svg").count(), 10);
}
