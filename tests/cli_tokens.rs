//! `ragtrace tokens`, run as a user would.

use std::io::Write;
use std::process::{Command, Stdio};

fn ragtrace(args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ragtrace"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ragtrace");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn counts_a_file_and_stdin() {
    let dir = std::env::temp_dir().join(format!("ragtrace-cli-tokens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join("prompt.txt");
    std::fs::write(&file, "Hello, world!").expect("write");
    let path = file.to_str().expect("utf-8 path");

    let (ok, out, _) = ragtrace(&["tokens", "--model", "gpt-4o", path], b"");
    assert!(ok);
    // 4 tokens at gpt-4o's 2.50 USD per 1M input tokens = 0.00001 USD.
    assert!(
        out.trim()
            .starts_with("4 tokens (gpt-4o; o200k_base, exact); input $0.00001 at the 20"),
        "{out}"
    );

    let (ok, out, _) = ragtrace(
        &["tokens", "-m", "text-embedding-3-small", "-"],
        b"Hello, world!",
    );
    assert!(ok);
    // 4 tokens at 0.02 USD per 1M = 0.00000008 USD.
    assert!(
        out.trim().starts_with(
            "4 tokens (text-embedding-3-small; cl100k_base, exact); input $0.00000008 at the"
        ),
        "{out}"
    );

    let (ok, out, _) = ragtrace(
        &["tokens", "-m", "claude-sonnet-4-5", "--format", "json"],
        b"Hello, world!",
    );
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["exact"], false);
    assert_eq!(json["tokens"], 6); // 4 x 1.35, rounded up
    // 6 estimated tokens at 3.00 USD per 1M = 0.000018 USD.
    assert_eq!(json["input_cost_usd"], "0.000018");
    assert_eq!(json["cost_status"], "priced");

    // A model no table knows has an unknown cost, not a zero one.
    let (ok, out, _) = ragtrace(
        &["tokens", "-m", "my-local-llama", "--format", "json"],
        b"hi",
    );
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["cost_status"], "unpriced");
    assert!(json["input_cost_usd"].is_null());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn counts_chat_messages_like_the_api() {
    // The OpenAI cookbook's example (see tests/tokens_chat.rs): 124 prompt
    // tokens reported for gpt-4o.
    let body = serde_json::json!({"model": "gpt-4o", "messages": [
        {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
        {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
        {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
        {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
        {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
        {"role": "user", "content": [{"type": "text", "text": "This late pivot means we don't have time to boil the ocean for the client deliverable."}]}
    ]});
    let (ok, out, err) = ragtrace(
        &["tokens", "-m", "gpt-4o", "--chat"],
        body.to_string().as_bytes(),
    );
    assert!(ok, "{err}");
    assert!(
        out.trim()
            .starts_with("124 tokens (gpt-4o; o200k_base, exact; chat format); input $0.00031 at"),
        "{out}"
    );
}

#[test]
fn bad_input_is_named() {
    let (ok, _, err) = ragtrace(&["tokens", "-m", "gpt-4o"], b"ok \xff\xfe");
    assert!(!ok);
    assert!(
        err.contains("standard input is not valid UTF-8 (first invalid byte at offset 3)"),
        "{err}"
    );

    let (ok, _, err) = ragtrace(&["tokens", "-m", "gpt-4o", "/nonexistent/prompt.txt"], b"");
    assert!(!ok);
    assert!(err.contains("reading /nonexistent/prompt.txt"), "{err}");

    let (ok, _, err) = ragtrace(
        &["tokens", "-m", "gpt-4o", "--chat"],
        br#"[{"role":"user","content":[{"type":"image_url"}]}]"#,
    );
    assert!(!ok);
    assert!(
        err.contains("message 0: content part 0 is of type `image_url`"),
        "{err}"
    );

    let (ok, _, err) = ragtrace(&["tokens", "-m", "gpt-4o", "--chat"], b"{not json");
    assert!(!ok);
    assert!(
        err.contains("expected a JSON array of chat messages"),
        "{err}"
    );
}
