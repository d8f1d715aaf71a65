//! Token counting: exact for OpenAI's encodings, estimated for the rest.
//!
//! A provider's own usage figures always win; a counter fills in when a
//! stream was cut short, a local model reports nothing, or a prompt is
//! checked (or packed, see [`crate::prompt`]) before it is sent. Counted
//! figures are marked estimated on the span.
//!
//! - [`Encoding`]: `o200k_base` and `cl100k_base`, counted exactly as OpenAI's
//!   `tiktoken` counts, in linear time whatever the input.
//! - [`encoding_for_model`]: which models use which encoding.
//! - [`ChatFormat`]: the per-message and reply-priming overhead of chat prompts.
//! - [`Estimate`]: the documented estimate for models without a public tokenizer.
//! - [`Tokenizer`]: the built-in [`TokenCounter`], combining all of the above.
//!
//! ```
//! use ragtrace::instrument::Options;
//! use ragtrace::tokens::Tokenizer;
//!
//! // Count what providers do not report; load the encoders before the first request.
//! let options = Options::new().token_counter(Tokenizer::new());
//! ragtrace::tokens::Encoding::O200kBase.preload();
//! # let _ = options;
//! ```

mod budget;
mod chat;
mod classes;
mod encoding;
mod estimate;
mod models;
mod split;
#[cfg(test)]
mod split_vs_regex;
mod tokenizer;

pub(crate) use budget::{Item, pack};
pub use chat::{ChatFormat, ChatPart};
pub use encoding::Encoding;
pub use estimate::Estimate;
pub use models::encoding_for_model;
pub use tokenizer::{Method, Tokenizer};

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

    /// The longest prefix of `text` that counts at most `max_tokens` for
    /// `model` and does not split a UTF-8 character, with its count.
    ///
    /// The default bisects over character boundaries with
    /// [`count_text`](TokenCounter::count_text) (O(n log n)); a counter that
    /// knows its token boundaries should cut on them instead, as
    /// [`Tokenizer`] does.
    fn truncate<'t>(&self, model: &str, text: &'t str, max_tokens: u64) -> (&'t str, TokenCount) {
        let whole = self.count_text(model, text);
        if whole.tokens <= max_tokens {
            return (text, whole);
        }
        let (head, tokens) =
            encoding::longest_prefix(text, max_tokens, |t| self.count_text(model, t).tokens);
        (
            head,
            TokenCount {
                tokens,
                exact: whole.exact,
            },
        )
    }
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
