//! [`Tokenizer`]: the built-in [`TokenCounter`], exact where it can be.

use std::sync::Arc;

use super::{ChatFormat, ChatPart, Encoding, Estimate, TokenCount, TokenCounter};
use crate::steps::Message;

/// Counts tokens exactly for OpenAI models and estimates them for the rest.
///
/// A model whose encoding is known ([`Encoding::for_model`], or one you
/// registered with [`Tokenizer::with_encoding`], e.g. an Azure deployment
/// name) is counted exactly; any other model gets its family's
/// [`Estimate`], marked `exact: false`. Cloning is cheap; the encoders are
/// loaded once per process and shared.
///
/// ```
/// use ragtrace::tokens::{TokenCounter, Tokenizer};
///
/// let tokenizer = Tokenizer::new();
/// let exact = tokenizer.count_text("gpt-4o", "How many tokens is this?");
/// assert_eq!((exact.tokens, exact.exact), (6, true));
/// let guess = tokenizer.count_text("claude-sonnet-4-5", "How many tokens is this?");
/// assert!(!guess.exact);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Tokenizer {
    aliases: Arc<Vec<(String, Encoding)>>,
}

/// How a [`Tokenizer`] counts for one model.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Method {
    /// With the model's own encoding.
    Exact(Encoding),
    /// With a documented estimate.
    Estimate(Estimate),
}

impl Method {
    /// Tokens of plain `text`.
    pub fn count(&self, text: &str) -> TokenCount {
        match self {
            Method::Exact(e) => TokenCount::exact(e.count(text)),
            Method::Estimate(e) => TokenCount::approximate(e.count(text)),
        }
    }

    /// Tokens of chat messages in `format`, overhead included. An estimate
    /// counts the framed messages with its base encoding, then scales the total.
    pub fn count_chat<'m>(
        &self,
        format: ChatFormat,
        messages: impl IntoIterator<Item = ChatPart<'m>>,
    ) -> TokenCount {
        match self {
            Method::Exact(e) => TokenCount::exact(format.count(messages, |t| e.count(t))),
            Method::Estimate(e) => {
                let base = e.base();
                TokenCount::approximate(e.scale(format.count(messages, |t| base.count(t))))
            }
        }
    }

    /// The longest prefix of `text` counting at most `max_tokens`, cut on a
    /// token boundary and never inside a UTF-8 character, with its count.
    pub fn truncate<'t>(&self, text: &'t str, max_tokens: u64) -> (&'t str, TokenCount) {
        match self {
            Method::Exact(e) => {
                let (head, n) = e.truncate(text, max_tokens);
                (head, TokenCount::exact(n))
            }
            Method::Estimate(e) => {
                let (head, n) = e.truncate(text, max_tokens);
                (head, TokenCount::approximate(n))
            }
        }
    }

    /// `true` for [`Method::Exact`].
    pub const fn is_exact(&self) -> bool {
        matches!(self, Method::Exact(_))
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Method::Exact(e) => write!(f, "{e}, exact"),
            Method::Estimate(e) if e.factor() == 1.0 => write!(f, "estimate: {}", e.base()),
            Method::Estimate(e) => write!(f, "estimate: {} x {:.2}", e.base(), e.factor()),
        }
    }
}

impl Tokenizer {
    /// A tokenizer with OpenAI's model table and the documented estimates.
    pub fn new() -> Self {
        Tokenizer::default()
    }

    /// Counts `model` (matched exactly, ignoring ASCII case) with `encoding`:
    /// for deployment names that hide the model, e.g. Azure's.
    pub fn with_encoding(mut self, model: impl Into<String>, encoding: Encoding) -> Self {
        let model = model.into().trim().to_ascii_lowercase();
        let aliases = Arc::make_mut(&mut self.aliases);
        aliases.retain(|(m, _)| *m != model);
        aliases.push((model, encoding));
        self
    }

    /// How `model` is counted.
    pub fn method(&self, model: &str) -> Method {
        let trimmed = model.trim();
        if let Some((_, e)) = self
            .aliases
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(trimmed))
        {
            return Method::Exact(*e);
        }
        match Encoding::for_model(model) {
            Some(e) => Method::Exact(e),
            None => Method::Estimate(Estimate::for_model(model)),
        }
    }
}

impl TokenCounter for Tokenizer {
    fn count_text(&self, model: &str, text: &str) -> TokenCount {
        self.method(model).count(text)
    }

    fn count_messages(&self, model: &str, messages: &[Message]) -> TokenCount {
        let parts = messages
            .iter()
            .map(|m| ChatPart::new(m.role.as_str(), &m.content));
        self.method(model)
            .count_chat(ChatFormat::for_model(model), parts)
    }

    fn truncate<'t>(&self, model: &str, text: &'t str, max_tokens: u64) -> (&'t str, TokenCount) {
        self.method(model).truncate(text, max_tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_make_deployment_names_exact() {
        let t = Tokenizer::new().with_encoding("Prod-Chat", Encoding::O200kBase);
        assert_eq!(t.method("prod-chat"), Method::Exact(Encoding::O200kBase));
        assert!(!t.method("prod-chat-2").is_exact());
        // The original is unchanged: aliases are per value.
        assert!(!Tokenizer::new().method("prod-chat").is_exact());
    }

    #[test]
    fn messages_count_with_the_chat_overhead() {
        let t = Tokenizer::new();
        let messages = [Message::system("Be brief."), Message::user("Hi!")];
        assert_eq!(t.count_messages("gpt-4o", &messages), TokenCount::exact(16));
        let guess = t.count_messages("claude-3-haiku", &messages);
        // 16 tokens x 1.35, rounded up.
        assert_eq!(guess, TokenCount::approximate(22));
    }
}
