//! Token counting: the [`TokenCounter`] hook used when a provider reports no usage.
//!
//! A provider's own usage figures always win; a counter fills in when a
//! stream was cut short, a local model reports nothing, or a prompt is
//! checked before it is sent. Counted figures are marked estimated.

use crate::steps::Message;

/// Counts tokens the way a model's tokenizer would.
///
/// Implementations must never panic and must stay linear in the input
/// length, whatever the text: they run on the request path.
pub trait TokenCounter: Send + Sync + 'static {
    /// Tokens of plain `text` for `model`.
    fn count_text(&self, model: &str, text: &str) -> TokenCount;

    /// Tokens of a chat prompt for `model`, including the chat format's
    /// per-message overhead and the priming of the reply.
    fn count_messages(&self, model: &str, messages: &[Message]) -> TokenCount;
}

/// A token count and whether it is exact for the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TokenCount {
    /// The number of tokens.
    pub tokens: u64,
    /// `true` when the model's own tokenizer was used; `false` for a
    /// documented estimate (models without a public tokenizer).
    pub exact: bool,
}

impl TokenCount {
    /// A count from the model's own tokenizer.
    pub const fn exact(tokens: u64) -> Self {
        TokenCount {
            tokens,
            exact: true,
        }
    }

    /// An approximate count.
    pub const fn approximate(tokens: u64) -> Self {
        TokenCount {
            tokens,
            exact: false,
        }
    }
}
