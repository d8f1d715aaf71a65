//! Token counts equal OpenAI's `tiktoken` on the fixture corpus.
//!
//! `tests/fixtures/tokens/expected.json` was written by
//! `scripts/tiktoken_expected.py` with tiktoken 0.14.0 (Python): the count of
//! every corpus file and of every line of it, for o200k_base and cl100k_base.

use std::collections::BTreeMap;
use std::path::Path;

use ragtrace::tokens::Encoding;
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    tiktoken: String,
    files: BTreeMap<String, BTreeMap<String, Counts>>,
}

#[derive(Deserialize)]
struct Counts {
    whole: u64,
    lines: Vec<u64>,
}

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tokens"
    ))
}

#[test]
fn counts_equal_tiktoken_on_the_corpus() {
    let raw = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    let expected: Expected = serde_json::from_str(&raw).expect("expected.json parses");
    assert!(
        expected.files.len() >= 15,
        "corpus shrank: {}",
        expected.files.len()
    );

    let mut mismatches = Vec::new();
    let mut checked = 0_usize;
    for (file, by_encoding) in &expected.files {
        let text = std::fs::read_to_string(fixtures().join("corpus").join(file))
            .unwrap_or_else(|e| panic!("corpus/{file}: {e}"));
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for (name, counts) in by_encoding {
            let encoding = Encoding::from_name(name).unwrap_or_else(|| panic!("encoding {name}"));
            let whole = encoding.count(&text);
            if whole != counts.whole {
                mismatches.push(format!(
                    "{file} [{name}] whole: tiktoken {} ours {whole}",
                    counts.whole
                ));
            }
            assert_eq!(
                lines.len(),
                counts.lines.len(),
                "{file}: line split differs"
            );
            for (n, (line, &want)) in lines.iter().zip(&counts.lines).enumerate() {
                let got = encoding.count(line);
                if got != want {
                    mismatches.push(format!(
                        "{file}:{} [{name}]: tiktoken {want} ours {got} {line:?}",
                        n + 1
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {checked} counts differ from tiktoken {}:\n{}",
        mismatches.len(),
        expected.tiktoken,
        mismatches
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn token_ids_equal_tiktoken_on_known_strings() {
    // From OpenAI's cookbook "How to count tokens with tiktoken" (section 5).
    let text = "お誕生日おめでとう";
    assert_eq!(
        Encoding::Cl100kBase.encode(text),
        [33334, 45918, 243, 21990, 9080, 33334, 62004, 16556, 78699]
    );
    assert_eq!(
        Encoding::O200kBase.encode(text),
        [8930, 9697, 243, 128225, 8930, 17693, 4344, 48669]
    );
}
