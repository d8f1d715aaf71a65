//! The hand-written splitters against the regular expressions they implement,
//! run by `fancy-regex` (the engine OpenAI's tiktoken uses), on generated text.

use std::sync::LazyLock;

use fancy_regex::Regex;
use proptest::prelude::*;

use super::split::{Rules, pieces};

/// tiktoken 0.14's `o200k_base` pattern, verbatim.
const O200K: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}",
    r"| ?[^\s\p{L}\p{N}]+[\r\n/]*",
    r"|\s*[\r\n]+",
    r"|\s+(?!\S)",
    r"|\s+",
);

/// tiktoken 0.14's `cl100k_base` pattern, verbatim.
const CL100K: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";

fn regex_pieces<'t>(re: &Regex, text: &'t str) -> Vec<&'t str> {
    re.find_iter(text)
        .map(|m| {
            m.expect("short inputs stay within the backtrack limit")
                .as_str()
        })
        .collect()
}

static REGEXES: LazyLock<[(Rules, Regex); 2]> = LazyLock::new(|| {
    let compile = |pattern| Regex::new(pattern).expect("tiktoken's pattern compiles");
    [
        (Rules::O200k, compile(O200K)),
        (Rules::Cl100k, compile(CL100K)),
    ]
});

fn check(text: &str) {
    for (rules, re) in REGEXES.iter() {
        let ours: Vec<&str> = pieces(*rules, text).collect();
        assert_eq!(ours, regex_pieces(re, text), "{rules:?} on {text:?}");
    }
}

/// Characters chosen to sit on every boundary the patterns draw: cases and
/// modifier/title-case letters, marks, numbers of every kind, the
/// contraction letters (and U+017F, which case-folds to `s`), white space of
/// several kinds, `/`, punctuation, symbols, controls and emoji.
const EDGE: &[char] = &[
    'a', 'Z', 's', 'S', 't', 'T', 'r', 'E', 'v', 'l', 'L', 'm', 'd', 'D', '\u{17f}', '\'', '’',
    '0', '9', '²', 'Ⅻ', '٣', '𝟘', ' ', ' ', ' ', '\t', '\n', '\r', '\u{a0}', '\u{3000}', '\u{b}',
    '\u{c}', '\u{85}', '\u{2028}', '/', '.', ',', '!', '-', '_', '"', '(', '$', '€', '+', '<',
    '\u{301}', '\u{93f}', '\u{5b4}', 'ʰ', 'ǅ', 'ß', 'é', 'Ω', 'ж', 'Ж', 'ا', 'क', '中', 'あ', 'ア',
    '한', '😀', '👍', '\u{200d}', '\u{fe0f}', '\u{feff}', '\u{0}', '\u{1f}', '\u{fffd}',
    '\u{e000}', '𐌰',
];

fn edge_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(EDGE), 0..48)
        .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn matches_tiktoken_patterns_on_edge_characters(text in edge_text()) {
        check(&text);
    }

    #[test]
    fn matches_tiktoken_patterns_on_arbitrary_text(text in any::<String>()) {
        check(&text);
    }
}

#[test]
fn matches_tiktoken_patterns_on_known_cases() {
    for text in [
        "",
        "Hello world, it's 2024!",
        "I'M HERE, WE'LL GO'S 'RE 'Ve 'ſ ''s",
        "getHTTPResponse XMLHttpRequest iPhone ǅemal",
        "a   b\n\n  c \r\n d\t\t\n",
        "  leading and trailing  \n  ",
        "x\n  ",
        "path/to/file.rs://a//b\n/",
        "1234567 ²³ Ⅻ ٣٤٥",
        "naïve cafe\u{301} 中文 日本語 한국어 العربية हिन्दी",
        "👍🏽 👨‍👩‍👧 🇺🇳",
    ] {
        check(text);
    }
}

#[test]
fn contraction_letters_match_regex_case_folding() {
    // Every character that `(?i)` maps onto a contraction letter is one the
    // scanner accepts, and no other.
    let letters = regex::Regex::new(r"^(?i:[stmdrvle])$").expect("valid");
    for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
        let mut buf = [0_u8; 4];
        if letters.is_match(c.encode_utf8(&mut buf)) {
            assert!(
                c.is_ascii_alphabetic() || c == '\u{17f}',
                "unexpected fold {c:?}"
            );
        }
    }
}
