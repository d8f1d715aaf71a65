//! `ragtrace prices`: the real binary, its output and its errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ragtrace(args: &[&str], env_dir: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ragtrace"));
    command.args(args).env_remove("RAGTRACE_PRICING_DIR");
    if let Some(dir) = env_dir {
        command.env("RAGTRACE_PRICING_DIR", dir);
    }
    command.output().expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = ragtrace(args, None);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str], env_dir: Option<&Path>) -> String {
    let out = ragtrace(args, env_dir);
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ragtrace-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const CONTRACT: &str = r#"provider = "openai"

[[model]]
key = "gpt-4o"
mode = "chat"

[[model.price]]
effective = 2024-01-01
source = "https://contracts.example/openai"
input = 2.00
output = 8.00
"#;

#[test]
fn show_explains_entry_version_tier_and_prices() {
    let out = ok(&["prices", "show", "openai/gpt-4o", "--at", "2024-09-01"]);
    assert!(
        out.contains("entry      gpt-4o (matched by key, as `gpt-4o`) in pricing/openai.toml"),
        "{out}"
    );
    assert!(
        out.contains("on         2024-09-01: version 2024-05-13"),
        "{out}"
    );
    assert!(out.contains("  input            5.00\n"), "{out}");
    assert!(out.contains("  output           15.00\n"), "{out}");

    let out = ok(&[
        "prices",
        "show",
        "gemini-2.5-pro",
        "--at",
        "2025-08-01T10:00:00Z",
        "--tier",
        "batch",
        "--input-tokens",
        "250000",
    ]);
    assert!(out.contains("tier       batch+above_200k\n"), "{out}");
    assert!(out.contains("  input            1.25\n"), "{out}");
    assert!(out.contains("  cached input     0.25\n"), "{out}");
    assert!(
        out.contains("  reasoning        7.50 (the output price)\n"),
        "{out}"
    );
}

#[test]
fn show_says_why_a_model_is_not_priced() {
    let err = fails(&["prices", "show", "azure/my-deployment"], None);
    assert!(
        err.contains("no price table entry matches `azure/my-deployment` (tried: azure/my-deployment, my-deployment)"),
        "{err}"
    );
    let err = fails(&["prices", "show", "gpt-5", "--at", "2025-01-01"], None);
    assert!(err.contains("no price in force on 2025-01-01"), "{err}");
    let err = fails(&["prices", "show", "gpt-5", "--at", "last tuesday"], None);
    assert!(err.contains("`last tuesday` is neither a date"), "{err}");
}

#[test]
fn overrides_come_from_the_environment_and_from_dir() {
    let dir = TempDir::new("override");
    std::fs::write(dir.0.join("contract.toml"), CONTRACT).unwrap();
    // Through RAGTRACE_PRICING_DIR.
    let out = ragtrace(&["prices", "show", "gpt-4o"], Some(&dir.0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("  input            2.00\n"), "{stdout}");
    assert!(
        stdout.contains(&format!("in {}", dir.0.join("contract.toml").display())),
        "{stdout}"
    );
    // Through --dir.
    let out = ok(&["prices", "show", "gpt-4o", "--dir", dir.path()]);
    assert!(out.contains("  output           8.00\n"), "{out}");
}

#[test]
fn list_filters_by_provider() {
    let out = ok(&[
        "prices",
        "list",
        "--provider",
        "anthropic",
        "--at",
        "2025-12-01",
    ]);
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("MODEL"), "{out}");
    assert!(out.contains("\nclaude-sonnet-4-5 "), "{out}");
    assert!(!out.contains("gpt-4o"), "{out}");
    let sonnet = out
        .lines()
        .find(|l| l.starts_with("claude-sonnet-4-5 "))
        .unwrap();
    let cells: Vec<&str> = sonnet.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "claude-sonnet-4-5",
            "anthropic",
            "chat",
            "2025-09-29",
            "3.00",
            "0.30",
            "15.00",
            "-",
            "batch,long-context"
        ]
    );
    let err = fails(&["prices", "list", "--provider", "nobody"], None);
    assert!(
        err.contains("no models from provider `nobody`; the table has: anthropic,"),
        "{err}"
    );
}

#[test]
fn check_reports_every_problem_with_file_line_model_and_field() {
    let out = ok(&["prices", "check"]);
    assert!(out.starts_with("ok: the built-in table: "), "{out}");

    let dir = TempDir::new("check");
    std::fs::write(dir.0.join("good.toml"), CONTRACT).unwrap();
    std::fs::write(
        dir.0.join("bad.toml"),
        CONTRACT
            .replace("gpt-4o", "gpt-4o-mini")
            .replace("output = 8.00", "output = -8.00\nbatch = { inptu = 1 }"),
    )
    .unwrap();
    let err = fails(&["prices", "check", dir.path()], None);
    let bad = dir.0.join("bad.toml").display().to_string();
    assert!(
        err.contains(&format!(
            "{bad}:12: model `gpt-4o-mini`, field `price.batch.inptu`: unknown field `inptu`"
        )),
        "{err}"
    );

    std::fs::write(
        dir.0.join("bad.toml"),
        CONTRACT
            .replace("gpt-4o", "gpt-4o-mini")
            .replace("output = 8.00", "output = -8.00"),
    )
    .unwrap();
    let err = fails(&["prices", "check", dir.path()], None);
    assert!(
        err.contains(&format!(
            "{bad}:11: model `gpt-4o-mini`, field `price[0].output`: negative price -8"
        )),
        "{err}"
    );

    let empty = TempDir::new("empty");
    let err = fails(&["prices", "check", empty.path()], None);
    assert!(err.contains("holds no *.toml table files"), "{err}");
}

#[test]
fn import_litellm_writes_tables_that_check_clean() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/litellm_prices_sample.json"
    );
    let dir = TempDir::new("import");
    let out = ragtrace(
        &[
            "prices",
            "import-litellm",
            fixture,
            "--out",
            dir.path(),
            "--effective",
            "2025-11-01",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8(out.stderr).unwrap();
    assert!(
        summary.contains("imported 15 of 17 entries into 10 files"),
        "{summary}"
    );
    assert!(
        summary.contains("1  mode `audio_transcription` is not priced per token"),
        "{summary}"
    );
    assert!(dir.0.join("openai.toml").is_file());
    let out = ok(&["prices", "check", dir.path()]);
    assert!(out.contains("15 models"), "{out}");
    let out = ok(&["prices", "show", "gpt-4o", "--dir", dir.path()]);
    assert!(
        out.contains("version 2025-11-01 from https://developers.openai.com/api/docs/pricing"),
        "{out}"
    );

    // Without --out: one table on standard output.
    let text = ok(&[
        "prices",
        "import-litellm",
        fixture,
        "--effective",
        "2025-11-01",
    ]);
    assert!(text.starts_with("# Imported from LiteLLM"), "{text}");
    assert_eq!(text.matches("[[model]]").count(), 15);

    let err = fails(&["prices", "import-litellm", "/nonexistent.json"], None);
    assert!(err.contains("cannot read /nonexistent.json"), "{err}");
}
