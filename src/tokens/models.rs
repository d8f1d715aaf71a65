//! Model name to encoding, following OpenAI's `tiktoken` (`tiktoken/model.py`, 0.14).

use super::Encoding;

/// Exact model names.
const EXACT: &[(&str, Encoding)] = &[
    ("o1", Encoding::O200kBase),
    ("o3", Encoding::O200kBase),
    ("o4-mini", Encoding::O200kBase),
    ("gpt-5", Encoding::O200kBase),
    ("gpt-4.1", Encoding::O200kBase),
    ("gpt-4o", Encoding::O200kBase),
    ("gpt-4", Encoding::Cl100kBase),
    ("gpt-3.5-turbo", Encoding::Cl100kBase),
    ("gpt-3.5", Encoding::Cl100kBase),
    ("gpt-35-turbo", Encoding::Cl100kBase),
    ("davinci-002", Encoding::Cl100kBase),
    ("babbage-002", Encoding::Cl100kBase),
    ("text-embedding-ada-002", Encoding::Cl100kBase),
    ("text-embedding-3-small", Encoding::Cl100kBase),
    ("text-embedding-3-large", Encoding::Cl100kBase),
];

/// Name prefixes (dated snapshots, sizes, fine-tunes), checked in order.
const PREFIXES: &[(&str, Encoding)] = &[
    ("o1-", Encoding::O200kBase),
    ("o3-", Encoding::O200kBase),
    ("o4-mini-", Encoding::O200kBase),
    ("gpt-5", Encoding::O200kBase),
    ("gpt-4.5-", Encoding::O200kBase),
    ("gpt-4.1-", Encoding::O200kBase),
    ("chatgpt-4o-", Encoding::O200kBase),
    ("gpt-4o-", Encoding::O200kBase),
    // o200k_harmony: o200k_base plus special tokens, identical on plain text.
    ("gpt-oss-", Encoding::O200kBase),
    ("gpt-4-", Encoding::Cl100kBase),
    ("gpt-3.5-turbo-", Encoding::Cl100kBase),
    ("gpt-35-turbo-", Encoding::Cl100kBase),
    ("ft:gpt-4o", Encoding::O200kBase),
    ("ft:gpt-4.1", Encoding::O200kBase),
    ("ft:gpt-4", Encoding::Cl100kBase),
    ("ft:gpt-3.5-turbo", Encoding::Cl100kBase),
    ("ft:davinci-002", Encoding::Cl100kBase),
    ("ft:babbage-002", Encoding::Cl100kBase),
];

/// The encoding OpenAI's model `model` uses, or `None` for any other model.
///
/// Follows tiktoken's table: exact names first, then prefixes (dated
/// snapshots such as `gpt-4o-2024-08-06`, fine-tunes such as
/// `ft:gpt-4o-mini-2024-07-18:org::id`). A routing prefix before the last `/`
/// (`openai/gpt-4o`, `azure/gpt-4o`) is ignored, and case does not matter.
/// Legacy encodings (p50k, r50k, gpt2) are not supported: their models are
/// retired, and they get `None`, hence an estimate.
///
/// ```
/// use ragtrace::tokens::{Encoding, encoding_for_model};
///
/// assert_eq!(encoding_for_model("gpt-4o-2024-08-06"), Some(Encoding::O200kBase));
/// assert_eq!(encoding_for_model("openai/gpt-4.1-mini"), Some(Encoding::O200kBase));
/// assert_eq!(encoding_for_model("text-embedding-3-small"), Some(Encoding::Cl100kBase));
/// assert_eq!(encoding_for_model("claude-sonnet-4-5"), None);
/// ```
pub fn encoding_for_model(model: &str) -> Option<Encoding> {
    let name = model.trim();
    let name = name.rsplit('/').next().unwrap_or(name);
    let lower;
    let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
        lower = name.to_ascii_lowercase();
        lower.as_str()
    } else {
        name
    };
    if let Some(&(_, encoding)) = EXACT.iter().find(|(exact, _)| *exact == name) {
        return Some(encoding);
    }
    PREFIXES
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map(|&(_, encoding)| encoding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Encoding::{Cl100kBase as Cl, O200kBase as O};

    #[test]
    fn maps_current_and_past_openai_models() {
        for (model, want) in [
            ("gpt-4o", Some(O)),
            ("gpt-4o-mini", Some(O)),
            ("gpt-4o-2024-05-13", Some(O)),
            ("chatgpt-4o-latest", Some(O)),
            ("gpt-4.1", Some(O)),
            ("gpt-4.1-nano-2025-04-14", Some(O)),
            ("gpt-4.5-preview", Some(O)),
            ("gpt-5", Some(O)),
            ("gpt-5-mini", Some(O)),
            ("gpt-5.1-codex", Some(O)),
            ("o1", Some(O)),
            ("o1-mini", Some(O)),
            ("o3-pro", Some(O)),
            ("o4-mini-2025-04-16", Some(O)),
            ("gpt-oss-120b", Some(O)),
            ("gpt-4", Some(Cl)),
            ("gpt-4-turbo", Some(Cl)),
            ("gpt-4-32k-0613", Some(Cl)),
            ("gpt-3.5-turbo-0125", Some(Cl)),
            ("gpt-35-turbo-16k", Some(Cl)),
            ("text-embedding-3-large", Some(Cl)),
            ("text-embedding-ada-002", Some(Cl)),
            ("ft:gpt-4o-mini-2024-07-18:acme::abc123", Some(O)),
            ("ft:gpt-3.5-turbo-0613:acme::abc123", Some(Cl)),
            ("OpenAI/GPT-4o", Some(O)),
            ("azure/gpt-4o-mini", Some(O)),
            (" gpt-4o ", Some(O)),
        ] {
            assert_eq!(encoding_for_model(model), want, "{model}");
        }
    }

    #[test]
    fn other_models_have_no_exact_encoding() {
        for model in [
            "",
            "claude-sonnet-4-5",
            "gemini-2.5-pro",
            "llama-3.1-70b",
            "text-davinci-003",
            "gpt2",
            "o2",
            "gpt-4o\u{301}",
            "mistral/gpt-like",
        ] {
            assert_eq!(encoding_for_model(model), None, "{model}");
        }
    }
}
