//! Loading price tables: layers and overrides, and malformed files failing
//! with errors that name the file, the line, the model entry and the field.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use ragtrace::pricing::{
    CostStatus, Date, LoadError, Mode, ModelEntry, PriceRequest, PriceTable, PriceVersion, Pricer,
    Problem, Rates, Usd,
};
use ragtrace::steps::{StepKind, Usage};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ragtrace-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, file: &str, text: &str) -> String {
        let path = self.0.join(file);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const GOOD: &str = r#"provider = "acme"

[[model]]
key = "acme-large"
mode = "chat"
aliases = ["acme-large-2025-01-01"]

[[model.price]]
effective = 2025-01-01
source = "https://acme.example/pricing"
input = 1.00
output = 4.00
"#;

fn usd(s: &str) -> Usd {
    s.parse().unwrap()
}

fn load_dir(dir: &TempDir) -> Result<PriceTable, LoadError> {
    PriceTable::builder().without_builtin().dir(&dir.0).build()
}

/// The only problem of a directory holding `good.toml` and `bad.toml`.
fn only_problem(name: &str, bad: &str) -> (Problem, String) {
    let dir = TempDir::new(name);
    dir.write("good.toml", GOOD);
    let path = dir.write("bad.toml", bad);
    let error = load_dir(&dir).expect_err("a malformed table loaded");
    assert_eq!(error.problems.len(), 1, "{error}");
    (error.problems[0].clone(), path)
}

#[test]
fn a_toml_syntax_error_names_file_and_line() {
    let (problem, path) = only_problem("syntax", "provider = \"acme\"\n\n[[model]\nkey = \"x\"\n");
    assert_eq!(problem.file, path);
    assert_eq!(problem.line, Some(3));
    assert!(problem.message.contains("expected `]`"), "{problem}");
}

#[test]
fn a_negative_price_names_file_line_entry_and_field() {
    let bad = GOOD
        .replace("acme-large", "acme-small")
        .replace("output = 4.00", "output = -4.00");
    let (problem, path) = only_problem("negative", &bad);
    assert_eq!(problem.file, path);
    assert_eq!(problem.line, Some(12));
    assert_eq!(problem.entry.as_deref(), Some("acme-small"));
    assert_eq!(problem.field.as_deref(), Some("price[0].output"));
    assert!(problem.message.contains("negative price -4"), "{problem}");
    // One line, in the order a reader looks for things.
    assert_eq!(
        problem.to_string(),
        format!(
            "{path}:12: model `acme-small`, field `price[0].output`: negative price -4: \
             prices are USD per 1M tokens and cannot be below 0"
        )
    );
}

#[test]
fn an_unknown_field_names_file_line_entry_and_field() {
    let bad = GOOD
        .replace("acme-large", "acme-small")
        .replace("output = 4.00", "output = 4.00\ncached_inptu = 0.5");
    let (problem, path) = only_problem("unknown", &bad);
    assert_eq!(problem.file, path);
    assert_eq!(problem.line, Some(13));
    assert_eq!(problem.entry.as_deref(), Some("acme-small"));
    assert_eq!(problem.field.as_deref(), Some("price.cached_inptu"));
    assert!(
        problem.message.contains("unknown field `cached_inptu`"),
        "{problem}"
    );
}

#[test]
fn overlapping_versions_name_file_line_entry_and_field() {
    let bad = GOOD.replace("acme-large", "acme-small")
        + r#"
[[model.price]]
effective = 2025-01-01
source = "https://acme.example/pricing-v2"
input = 0.50
"#;
    let (problem, path) = only_problem("overlap", &bad);
    assert_eq!(problem.file, path);
    assert_eq!(problem.line, Some(15));
    assert_eq!(problem.entry.as_deref(), Some("acme-small"));
    assert_eq!(problem.field.as_deref(), Some("price[1].effective"));
    assert!(
        problem.message.contains("overlapping versions"),
        "{problem}"
    );

    // A version that ends after the next one starts overlaps it too.
    let bad = GOOD.replace("acme-large", "acme-small").replace(
        "effective = 2025-01-01",
        "effective = 2025-01-01\nuntil = 2025-07-01",
    ) + r#"
[[model.price]]
effective = 2025-03-01
source = "https://acme.example/pricing-v2"
input = 0.50
"#;
    let (problem, _) = only_problem("overlap-until", &bad);
    assert_eq!(problem.field.as_deref(), Some("price[1].effective"));
    assert!(
        problem.message.contains("runs until 2025-07-01"),
        "{problem}"
    );
}

#[test]
fn a_pattern_that_does_not_compile_names_file_line_entry_and_field() {
    let bad = GOOD.replace("acme-large", "acme-small").replace(
        "aliases = [\"acme-small-2025-01-01\"]",
        "patterns = ['acme-small-(\\d+']",
    );
    let (problem, path) = only_problem("pattern", &bad);
    assert_eq!(problem.file, path);
    assert_eq!(problem.line, Some(6));
    assert_eq!(problem.entry.as_deref(), Some("acme-small"));
    assert_eq!(problem.field.as_deref(), Some("patterns[0]"));
    assert!(
        problem.message.contains("pattern does not compile"),
        "{problem}"
    );
}

#[test]
fn every_problem_in_every_file_is_reported_at_once() {
    let dir = TempDir::new("many");
    dir.write("a.toml", &GOOD.replace("input = 1.00", "input = \"one\""));
    dir.write(
        "b.toml",
        &GOOD
            .replace("acme-large", "acme-b")
            .replace("2025-01-01\nsource", "2025-02-30\nsource"),
    );
    dir.write("c.toml", "[[model]]\nkey = \"nope\"\nmode = \"chat\"\n");
    // Not a table file: ignored.
    dir.write("notes.txt", "not toml");
    let error = load_dir(&dir).expect_err("loaded");
    let fields: Vec<(Option<&str>, Option<&str>)> = error
        .problems
        .iter()
        .map(|p| (p.entry.as_deref(), p.field.as_deref()))
        .collect();
    assert_eq!(
        fields,
        [
            (Some("acme-large"), Some("price[0].input")),
            // Not a date, so not TOML: the path comes from the text around it.
            (Some("acme-b"), Some("price.effective")),
            (Some("nope"), Some("provider")),
            (Some("nope"), Some("price")),
        ],
        "{error}"
    );
}

#[test]
fn two_entries_of_one_layer_cannot_share_a_name() {
    let dir = TempDir::new("dupe");
    let first = dir.write("a.toml", GOOD);
    let second = dir.write(
        "b.toml",
        &GOOD
            .replace("key = \"acme-large\"", "key = \"acme-xl\"")
            .replace("acme-large-2025-01-01", "acme-large"),
    );
    let error = load_dir(&dir).expect_err("loaded");
    assert_eq!(error.problems.len(), 1, "{error}");
    let problem = &error.problems[0];
    assert_eq!(
        (problem.file.as_str(), problem.line),
        (second.as_str(), Some(6))
    );
    assert_eq!(problem.field.as_deref(), Some("aliases[0]"));
    assert!(
        problem
            .message
            .contains(&format!("already used by model `acme-large` in {first}")),
        "{problem}"
    );
}

#[test]
fn a_missing_directory_is_an_error_not_an_empty_table() {
    let error = PriceTable::builder()
        .dir("/nonexistent/ragtrace-prices")
        .build()
        .expect_err("loaded");
    assert_eq!(error.problems[0].file, "/nonexistent/ragtrace-prices");
}

#[test]
fn an_override_directory_wins_over_the_builtin_table() {
    // Negotiated gpt-4o price: input 2.00, output 8.00, and a new model.
    let dir = TempDir::new("override");
    dir.write(
        "contract.toml",
        &(GOOD.to_owned()
            + r#"
[[model]]
key = "gpt-4o"
provider = "openai"
mode = "chat"

[[model.price]]
effective = 2024-01-01
source = "https://contracts.example/openai-2024"
input = 2.00
output = 8.00
"#),
    );
    let table = PriceTable::builder().dir(&dir.0).build().unwrap();
    let usage = Usage::new(1_000, 1_000);
    let at = SystemTime::now();
    let price = |model: &str| table.price(&PriceRequest::new(model, StepKind::Chat, &usage, at));
    // 1,000 x 2 + 1,000 x 8 = 0.01 (the built-in price would give 0.0125).
    let gpt4o = price("openai/gpt-4o");
    assert_eq!(
        (gpt4o.total, gpt4o.price_version.as_deref()),
        (usd("0.01"), Some("2024-01-01"))
    );
    // The built-in gpt-4o's alias went with it; the snapshot now reduces to the override.
    assert_eq!(price("gpt-4o-2024-11-20").total, usd("0.01"));
    // Other built-in entries stay: gpt-4o-mini 1,000 x 0.15 + 1,000 x 0.60 = 0.00075.
    assert_eq!(price("gpt-4o-mini").total, usd("0.00075"));
    // 1,000 x 1 + 1,000 x 4 = 0.005.
    assert_eq!(price("acme-large-2025-01-01").total, usd("0.005"));
    assert_eq!(
        table.resolve("gpt-4o").unwrap().origin,
        dir.0.join("contract.toml").display().to_string()
    );
}

#[test]
fn entries_built_in_code_are_the_top_layer() {
    // A fine-tune with a contract price: input 0.20, output 0.80.
    let fine_tune = ModelEntry::new("ft:gpt-4o-mini-2024-07-18:acme::b7x2", "openai", Mode::Chat)
        .version(PriceVersion::new(
            "2024-08-01".parse::<Date>().unwrap(),
            "https://contracts.example/ft",
            Rates::new().input(usd("0.20")).output(usd("0.80")),
        ));
    let table = PriceTable::builder().model(fine_tune).build().unwrap();
    let usage = Usage::new(10_000, 1_000);
    let at = SystemTime::now();
    let price = |model: &str| table.price(&PriceRequest::new(model, StepKind::Chat, &usage, at));
    // Exact id: 10,000 x 0.20 + 1,000 x 0.80 = 0.0028.
    let cost = price("ft:gpt-4o-mini-2024-07-18:acme::b7x2");
    assert_eq!(
        (cost.status, cost.total),
        (CostStatus::Priced, usd("0.0028"))
    );
    // Another fine-tune of the same base: the built-in ft entry,
    // 10,000 x 0.30 + 1,000 x 1.20 = 0.0042.
    assert_eq!(
        price("ft:gpt-4o-mini-2024-07-18:acme::other").total,
        usd("0.0042")
    );

    // Entries from code are checked like files.
    let broken = ModelEntry::new("", "openai", Mode::Chat);
    let error = PriceTable::builder()
        .model(broken)
        .build()
        .expect_err("loaded");
    let fields: Vec<&str> = error
        .problems
        .iter()
        .filter_map(|p| p.field.as_deref())
        .collect();
    assert_eq!(fields, ["key", "price"]);
    assert!(error.problems.iter().all(|p| p.file == "<code>"));
}

#[test]
fn a_version_that_ended_leaves_a_gap_that_is_unpriced() {
    let dir = TempDir::new("gap");
    dir.write(
        "promo.toml",
        &GOOD.replace(
            "effective = 2025-01-01",
            "effective = 2025-01-01\nuntil = 2025-02-01",
        ),
    );
    let table = load_dir(&dir).unwrap();
    let usage = Usage::new(1_000, 0);
    let day = |d: &str| d.parse::<Date>().unwrap().start() + Duration::from_secs(3600);
    let status = |at| {
        table
            .price(&PriceRequest::new("acme-large", StepKind::Chat, &usage, at))
            .status
    };
    assert_eq!(status(day("2025-01-15")), CostStatus::Priced);
    assert_eq!(status(day("2025-02-01")), CostStatus::Unpriced);
}
