//! The tokenizer never panics and stays linear on hostile input.
//!
//! Speed is measured in benches/tokens.rs (`adversarial/*`); these tests
//! check that a megabyte of each hostile kind returns a sane count, and that
//! arbitrary text never panics anywhere in the counting API.

use proptest::prelude::*;
use ragtrace::steps::Message;
use ragtrace::tokens::{Encoding, Estimate, TokenCounter, Tokenizer};

const MB: usize = 1 << 20;

fn random_bytes(n: usize, mut state: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
fn a_megabyte_of_hostile_text_gets_a_count() {
    let mixed: String = "Hello Привет مرحبا 你好 こんにちは 안녕 नमस्ते 🧑‍💻 e\u{301} 12345 \t\n"
        .chars()
        .cycle()
        .take(MB / 2)
        .collect();
    let inputs: Vec<(&str, String)> = vec![
        ("spaces", " ".repeat(MB)),
        ("newlines", "\n".repeat(MB)),
        ("space-newline", " \n".repeat(MB / 2)),
        ("one char", "a".repeat(MB)),
        ("digits", "7".repeat(MB)),
        ("apostrophes", "'s".repeat(MB / 2)),
        ("combining marks", "\u{301}".repeat(MB / 2)),
        ("one CJK char", "中".repeat(MB / 3)),
        (
            "random bytes, lossy",
            String::from_utf8_lossy(&random_bytes(MB, 7)).into_owned(),
        ),
        ("mixed scripts", mixed),
    ];
    for (name, text) in &inputs {
        for encoding in Encoding::ALL {
            let tokens = encoding.count(text) as usize;
            // Every token holds at least one byte; no token holds more than
            // 128 (o200k's longest, a run of spaces, is 128 bytes).
            assert!(
                tokens <= text.len() && tokens >= text.len() / 128,
                "{name} [{encoding}]: {tokens}"
            );
        }
    }
}

#[test]
fn large_inputs_match_python_tiktoken() {
    // Measured with tiktoken 0.14.0 (Python), o200k_base, which itself
    // panics at a million spaces ("StackOverflow" in its regex engine).
    assert_eq!(Encoding::O200kBase.count(&" ".repeat(100_000)), 782);
    assert_eq!(
        Encoding::O200kBase.count(&format!("{}x", " ".repeat(100_000))),
        783
    );
    assert_eq!(Encoding::O200kBase.count(&"a".repeat(100_000)), 12_500);
    assert_eq!(Encoding::O200kBase.count(&"a".repeat(1_000_000)), 125_000);
}

#[test]
fn truncating_a_megabyte_is_exact_and_on_a_boundary() {
    let text = String::from_utf8_lossy(&random_bytes(MB / 4, 11)).into_owned();
    for encoding in Encoding::ALL {
        let (head, tokens) = encoding.truncate(&text, 10_000);
        assert!(tokens <= 10_000 && tokens > 9_900, "{encoding}: {tokens}");
        assert_eq!(encoding.count(head), tokens);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>(), max in 0_u64..64) {
        let tokenizer = Tokenizer::new();
        for model in ["gpt-4o", "gpt-4", "claude-3-haiku", "gemini-2.0-flash", "", "\u{0}"] {
            let count = tokenizer.count_text(model, &text);
            prop_assert!(count.tokens as usize <= text.len() * 2);
            let (head, cut) = tokenizer.truncate(model, &text, max);
            prop_assert!(cut.tokens <= max);
            prop_assert!(text.starts_with(head));
            let messages = [Message::system(text.clone()), Message::user(head.to_owned())];
            let _ = tokenizer.count_messages(model, &messages);
        }
        let _ = Estimate::for_model(&text).count(&text);
    }

    #[test]
    fn arbitrary_bytes_decoded_lossily_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        for encoding in Encoding::ALL {
            prop_assert_eq!(encoding.encode(&text).len() as u64, encoding.count(&text));
        }
    }
}
