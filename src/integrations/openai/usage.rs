//! OpenAI usage blocks in ragtrace's convention.

use async_openai::types::chat::CompletionUsage;
use async_openai::types::embeddings::EmbeddingUsage;

use crate::steps::Usage;

/// Converts an OpenAI chat usage block into ragtrace's [`Usage`].
///
/// OpenAI's convention is already inclusive, like ragtrace's:
/// `prompt_tokens` counts cached tokens too (`prompt_tokens_details.cached_tokens`
/// is a subset of it), and `completion_tokens` counts reasoning tokens too
/// (`completion_tokens_details.reasoning_tokens` is a subset). So the totals
/// carry over as they are and the details become the subsets; nothing is
/// added up, which is where double counting would creep in.
///
/// ```
/// use async_openai::types::chat::{CompletionTokensDetails, CompletionUsage, PromptTokensDetails};
/// use ragtrace::integrations::openai::convert_usage;
///
/// let reported = CompletionUsage {
///     prompt_tokens: 1200,
///     completion_tokens: 80,
///     total_tokens: 1280,
///     prompt_tokens_details: Some(PromptTokensDetails {
///         cached_tokens: Some(1024),
///         ..Default::default()
///     }),
///     completion_tokens_details: Some(CompletionTokensDetails {
///         reasoning_tokens: Some(16),
///         ..Default::default()
///     }),
/// };
/// let usage = convert_usage(&reported);
/// assert_eq!(usage.input_tokens, 1200);
/// assert_eq!(usage.cache_read_input_tokens, 1024);
/// assert_eq!(usage.uncached_input_tokens(), 176);
/// assert_eq!(usage.output_tokens, 80);
/// assert_eq!(usage.reasoning_output_tokens, 16);
/// assert_eq!(usage.total_tokens(), 1280);
/// ```
pub fn convert_usage(usage: &CompletionUsage) -> Usage {
    let prompt = usage.prompt_tokens_details.as_ref();
    let cached = prompt.and_then(|d| d.cached_tokens).unwrap_or(0);
    // A signed field in the schema; a negative count is treated as none.
    let cache_write = prompt
        .and_then(|d| d.cache_write_tokens)
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    let reasoning = usage
        .completion_tokens_details
        .as_ref()
        .and_then(|d| d.reasoning_tokens)
        .unwrap_or(0);
    Usage::new(
        u64::from(usage.prompt_tokens),
        u64::from(usage.completion_tokens),
    )
    .with_cache_read(u64::from(cached))
    .with_cache_write(cache_write)
    .with_reasoning(u64::from(reasoning))
}

/// The usage a chat response reported, or `None` when it reported none or
/// only zeros (some OpenAI-compatible servers fill the block with zeros; a
/// real call always has prompt tokens).
pub(crate) fn reported_chat_usage(usage: Option<&CompletionUsage>) -> Option<Usage> {
    let usage = usage?;
    let all_zero =
        usage.prompt_tokens == 0 && usage.completion_tokens == 0 && usage.total_tokens == 0;
    (!all_zero).then(|| convert_usage(usage))
}

/// The usage an embeddings response reported, or `None` for an all-zero block.
pub(crate) fn reported_embedding_usage(usage: &EmbeddingUsage) -> Option<Usage> {
    let all_zero = usage.prompt_tokens == 0 && usage.total_tokens == 0;
    (!all_zero).then(|| Usage::new(u64::from(usage.prompt_tokens), 0))
}

#[cfg(test)]
mod tests {
    use async_openai::types::chat::{CompletionTokensDetails, PromptTokensDetails};

    use super::*;

    /// The body OpenAI documents for a cached, reasoning call, as it arrives.
    #[test]
    fn openai_usage_is_inclusive_and_converts_without_double_counting() {
        let reported: CompletionUsage = serde_json::from_value(serde_json::json!({
            "prompt_tokens": 2006,
            "completion_tokens": 300,
            "total_tokens": 2306,
            "prompt_tokens_details": { "cached_tokens": 1920, "audio_tokens": 0 },
            "completion_tokens_details": {
                "reasoning_tokens": 192,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0
            }
        }))
        .unwrap();
        let usage = convert_usage(&reported);
        assert_eq!(
            usage.input_tokens, 2006,
            "cached tokens stay inside the input"
        );
        assert_eq!(usage.cache_read_input_tokens, 1920);
        assert_eq!(usage.uncached_input_tokens(), 86);
        assert_eq!(usage.cache_write_input_tokens, 0);
        assert_eq!(
            usage.output_tokens, 300,
            "reasoning stays inside the output"
        );
        assert_eq!(usage.reasoning_output_tokens, 192);
        assert_eq!(usage.visible_output_tokens(), 108);
        assert_eq!(usage.total_tokens(), u64::from(reported.total_tokens));
        assert!(usage.is_consistent());
        assert!(!usage.estimated);
    }

    #[test]
    fn missing_details_and_cache_writes() {
        let bare = CompletionUsage {
            prompt_tokens: 10,
            completion_tokens: 5,
            total_tokens: 15,
            prompt_tokens_details: None,
            completion_tokens_details: None,
        };
        assert_eq!(convert_usage(&bare), Usage::new(10, 5));
        let with_writes = CompletionUsage {
            prompt_tokens_details: Some(PromptTokensDetails {
                cached_tokens: Some(2),
                cache_write_tokens: Some(6),
                ..Default::default()
            }),
            completion_tokens_details: Some(CompletionTokensDetails::default()),
            ..bare.clone()
        };
        let usage = convert_usage(&with_writes);
        assert_eq!(usage.cache_write_input_tokens, 6);
        assert_eq!(usage.uncached_input_tokens(), 2);
        let negative = CompletionUsage {
            prompt_tokens_details: Some(PromptTokensDetails {
                cache_write_tokens: Some(-3),
                ..Default::default()
            }),
            ..bare
        };
        assert_eq!(convert_usage(&negative).cache_write_input_tokens, 0);
    }

    #[test]
    fn all_zero_blocks_count_as_unreported() {
        let zero = CompletionUsage::default();
        assert_eq!(reported_chat_usage(Some(&zero)), None);
        assert_eq!(reported_chat_usage(None), None);
        let zero = EmbeddingUsage::default();
        assert_eq!(reported_embedding_usage(&zero), None);
        let some = EmbeddingUsage {
            prompt_tokens: 7,
            total_tokens: 7,
        };
        assert_eq!(reported_embedding_usage(&some), Some(Usage::new(7, 0)));
    }
}
