//! The table files compiled into the crate, from `pricing/` at its root.

use std::sync::LazyLock;

use super::error::Problem;
use super::load::{Sourced, parse_files};

/// The built-in files: (name, text).
pub(crate) const FILES: [(&str, &str); 6] = [
    (
        "pricing/openai.toml",
        include_str!("../../pricing/openai.toml"),
    ),
    (
        "pricing/anthropic.toml",
        include_str!("../../pricing/anthropic.toml"),
    ),
    (
        "pricing/google.toml",
        include_str!("../../pricing/google.toml"),
    ),
    (
        "pricing/mistral.toml",
        include_str!("../../pricing/mistral.toml"),
    ),
    (
        "pricing/cohere.toml",
        include_str!("../../pricing/cohere.toml"),
    ),
    (
        "pricing/voyage.toml",
        include_str!("../../pricing/voyage.toml"),
    ),
];

/// Parsed once per process; each table built gets its own copy.
static PARSED: LazyLock<(Vec<Sourced>, Vec<Problem>)> = LazyLock::new(|| {
    let files: Vec<(String, String)> = FILES
        .iter()
        .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
        .collect();
    let mut problems = Vec::new();
    let entries = parse_files(&files, &mut problems);
    (entries, problems)
});

/// The built-in entries and any problems reading them.
pub(crate) fn entries() -> (Vec<Sourced>, Vec<Problem>) {
    let (entries, problems) = &*PARSED;
    (entries.clone(), problems.clone())
}
