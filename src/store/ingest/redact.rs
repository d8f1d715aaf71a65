//! What a receiver takes out of foreign spans before storing them: the
//! same redaction the instrumentation applies to what it records.
//!
//! - Credentials, always: the value of any attribute whose key names one
//!   (`http.request.header.authorization`, `*.api_key`, `*.password`, ...)
//!   and any API key, bearer token or authorization value found inside a
//!   string, in span, event, link and resource attributes alike.
//! - Content under known prompt and completion keys (`gen_ai.prompt`,
//!   `gen_ai.input.messages`, `input.value`, `output.value`, ...), unless
//!   the caller keeps it ([`Content::Keep`](super::Content::Keep)).
//!
//! Redacted values become the string `[REDACTED]`, so a reader sees that
//! something was there.

use std::borrow::Cow;

use serde_json::Value;

use crate::instrument::redact_credentials;
use crate::store::value::Attributes;

/// What replaces a redacted value.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Last segments of keys whose whole value is a credential.
const CREDENTIAL_NAMES: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "proxy_authorization",
    "cookie",
    "set-cookie",
    "set_cookie",
    "x-api-key",
    "x_api_key",
    "api-key",
    "api_key",
    "apikey",
    "password",
    "passwd",
    "secret",
    "token",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "auth_token",
    "session_token",
    "private_key",
    "secret_access_key",
];

/// Keys holding prompt or completion content (OTel GenAI, OpenInference,
/// Langfuse, ragtrace), matched exactly or as a prefix of flattened keys
/// (`gen_ai.prompt.0.content`, `llm.input_messages.0.message.content`).
const CONTENT_PREFIXES: &[&str] = &[
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.retrieval.query.text",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "input.value",
    "output.value",
    "llm.input_messages",
    "llm.output_messages",
    "llm.prompts",
    "llm.prompt_template.template",
    "llm.prompt_template.variables",
    "embedding.embeddings",
    "retrieval.documents",
    "langfuse.observation.input",
    "langfuse.observation.output",
    "langfuse.trace.input",
    "langfuse.trace.output",
];

/// Content keys that share a prefix with keys that are not content.
const NOT_CONTENT: &[&str] = &["gen_ai.prompt.name", "gen_ai.prompt.version"];

fn is_credential_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    CREDENTIAL_NAMES
        .iter()
        .any(|name| last.eq_ignore_ascii_case(name))
}

fn is_content_key(key: &str) -> bool {
    if NOT_CONTENT.contains(&key) {
        return false;
    }
    CONTENT_PREFIXES.iter().any(|prefix| {
        key.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    }) && !retrieval_metadata(key)
}

/// `retrieval.documents.N.document.id` and `.score` are not content.
fn retrieval_metadata(key: &str) -> bool {
    key.starts_with("retrieval.documents.")
        && (key.ends_with(".document.id") || key.ends_with(".document.score"))
}

/// Redacts `attributes` in place; with `content`, also known content keys.
pub(crate) fn attributes(attributes: &mut Attributes, content: bool) {
    for (key, value) in attributes.iter_mut() {
        if is_credential_key(key) || (content && is_content_key(key)) {
            if !value.is_null() {
                *value = Value::String(REDACTED.to_owned());
            }
            continue;
        }
        strings(value);
    }
}

/// Redacts credentials inside `text`.
pub(crate) fn text(text: &mut String) {
    if let Cow::Owned(clean) = redact_credentials(text) {
        *text = clean;
    }
}

/// Redacts credentials inside every string of `value`.
fn strings(value: &mut Value) {
    match value {
        Value::String(string) => text(string),
        Value::Array(items) => items.iter_mut().for_each(strings),
        Value::Object(map) => attributes(map, false),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_keys_are_recognized_by_their_last_segment() {
        for key in [
            "http.request.header.authorization",
            "Authorization",
            "api_key",
            "openai.api_key",
            "db.password",
            "x-api-key",
        ] {
            assert!(is_credential_key(key), "{key}");
        }
        for key in [
            "gen_ai.usage.input_tokens",
            "ragtrace.tokens",
            "author",
            "user.id",
        ] {
            assert!(!is_credential_key(key), "{key}");
        }
    }

    #[test]
    fn content_keys_and_their_flattened_forms() {
        for key in [
            "gen_ai.prompt",
            "gen_ai.prompt.0.content",
            "input.value",
            "llm.input_messages.0.message.content",
            "retrieval.documents.0.document.content",
        ] {
            assert!(is_content_key(key), "{key}");
        }
        for key in [
            "gen_ai.prompt.name",
            "gen_ai.prompts",
            "input.mime_type",
            "retrieval.documents.0.document.id",
            "retrieval.documents.0.document.score",
            "gen_ai.request.model",
        ] {
            assert!(!is_content_key(key), "{key}");
        }
    }

    #[test]
    fn strings_nested_in_maps_and_arrays_lose_their_credentials() {
        let mut a: Attributes = serde_json::from_str(
            r#"{"note": "key sk-abcdefghijklmnopqrstuv here", "list": ["Bearer abcdefgh12345678"],
                "map": {"token": "t", "ok": "fine"}, "gen_ai.prompt": "hi", "n": 3}"#,
        )
        .unwrap();
        attributes(&mut a, true);
        assert_eq!(a["note"], "key [REDACTED] here");
        assert_eq!(a["list"][0], "[REDACTED]");
        assert_eq!(a["map"]["ok"], "fine");
        assert_eq!(a["map"]["token"], REDACTED);
        assert_eq!(a["gen_ai.prompt"], REDACTED);
        assert_eq!(a["n"], 3);
    }
}
