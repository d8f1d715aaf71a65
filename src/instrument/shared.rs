//! Attribute pieces more than one step records.

use super::attrs::Attrs;
use super::capture::Capture;
use super::keys;
use crate::steps::{Message, StepInfo};

/// Provider and server of a step.
pub(crate) fn describe(a: &mut Attrs, info: &StepInfo<'_>) {
    a.opt_str(keys::GEN_AI_PROVIDER_NAME, info.provider);
    a.opt_str(keys::SERVER_ADDRESS, info.server_address);
    if let Some(port) = info.server_port {
        a.int(keys::SERVER_PORT, u64::from(port));
    }
}

/// One text as is, several as a JSON array, each redacted and truncated.
pub(crate) fn capture_texts(capture: &Capture, texts: &[&str]) -> String {
    match texts {
        [one] => capture.apply(one),
        many => {
            let list: Vec<String> = many.iter().map(|t| capture.apply(t)).collect();
            serde_json::to_string(&list).unwrap_or_default()
        }
    }
}

/// Chat messages in the OpenTelemetry GenAI message format
/// (`[{"role":..,"parts":[{"type":"text","content":..}]}]`), each text redacted
/// and truncated.
pub(crate) fn capture_messages(capture: &Capture, messages: &[Message]) -> String {
    let list: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "role": m.role.as_str(),
                "parts": [{ "type": "text", "content": capture.apply(&m.content) }],
            })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// The model's answer in the OpenTelemetry GenAI output message format.
pub(crate) fn capture_answer(capture: &Capture, text: &str, finish_reason: Option<&str>) -> String {
    let mut message = serde_json::json!({
        "role": "assistant",
        "parts": [{ "type": "text", "content": capture.apply(text) }],
    });
    if let (Some(reason), Some(object)) = (finish_reason, message.as_object_mut()) {
        object.insert("finish_reason".to_owned(), serde_json::Value::from(reason));
    }
    serde_json::Value::Array(vec![message]).to_string()
}
