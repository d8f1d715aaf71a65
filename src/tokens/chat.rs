//! The token overhead of the chat format.
//!
//! A chat request is not billed as the bare text of its messages: each
//! message is framed as `<|start|>{role}\n{content}<|end|>\n` (`name` in the
//! frame when given), and the reply is primed with `<|start|>assistant<|message|>`.
//! The figures below are OpenAI's, from the OpenAI Cookbook notebook
//! "How to count tokens with tiktoken" (section 6), which checks them against
//! the `prompt_tokens` the API reported: 129 tokens for its six-message
//! example on gpt-3.5-turbo-0125 and gpt-4-0613, 124 on gpt-4o and
//! gpt-4o-mini, 127 on gpt-3.5-turbo-0301. `tests/tokens_chat.rs` replays that
//! example. Tool definitions and images add tokens these figures do not cover.

/// One message as the chat format sees it: role, optional participant name, text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatPart<'a> {
    /// The role as the API spells it (`system`, `developer`, `user`, `assistant`, `tool`).
    pub role: &'a str,
    /// The optional participant name (`name` in OpenAI's API).
    pub name: Option<&'a str>,
    /// The message text.
    pub content: &'a str,
}

impl<'a> ChatPart<'a> {
    /// A message from `role` saying `content`.
    pub const fn new(role: &'a str, content: &'a str) -> Self {
        ChatPart {
            role,
            name: None,
            content,
        }
    }

    /// Sets the participant name.
    pub const fn name(mut self, name: &'a str) -> Self {
        self.name = Some(name);
        self
    }
}

/// Per-message and per-reply token overhead of a chat model's format.
///
/// ```
/// use ragtrace::tokens::{ChatFormat, ChatPart, Encoding};
///
/// let messages = [ChatPart::new("system", "Be brief."), ChatPart::new("user", "Hi!")];
/// let tokens = ChatFormat::for_model("gpt-4o")
///     .count(messages, |text| Encoding::O200kBase.count(text));
/// // 3 + "system" + "Be brief." (1 + 3) + 3 + "user" + "Hi!" (1 + 2) + 3 to prime the reply
/// assert_eq!(tokens, 16);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatFormat {
    /// Tokens framing every message.
    pub per_message: u64,
    /// Tokens added (or, if negative, saved) by a participant name.
    pub per_name: i64,
    /// Tokens priming the reply.
    pub reply_priming: u64,
}

impl ChatFormat {
    /// The format of every current OpenAI chat model (gpt-3.5-turbo-0613 and later).
    pub const OPENAI: ChatFormat = ChatFormat {
        per_message: 3,
        per_name: 1,
        reply_priming: 3,
    };

    /// gpt-3.5-turbo-0301's format, where a name replaced the role.
    pub const OPENAI_0301: ChatFormat = ChatFormat {
        per_message: 4,
        per_name: -1,
        reply_priming: 3,
    };

    /// The format `model` uses; [`ChatFormat::OPENAI`] for any model not known
    /// to differ (an estimate for models of other providers).
    pub fn for_model(model: &str) -> ChatFormat {
        let name = model.trim();
        let name = name.rsplit('/').next().unwrap_or(name);
        if name.eq_ignore_ascii_case("gpt-3.5-turbo-0301") {
            ChatFormat::OPENAI_0301
        } else {
            ChatFormat::OPENAI
        }
    }

    /// Tokens of `messages` with this format's overhead, counting each text
    /// (role, name, content) with `count`.
    pub fn count<'m>(
        &self,
        messages: impl IntoIterator<Item = ChatPart<'m>>,
        count: impl Fn(&str) -> u64,
    ) -> u64 {
        let mut total = self.reply_priming;
        for message in messages {
            total = total
                .saturating_add(self.per_message)
                .saturating_add(count(message.role))
                .saturating_add(count(message.content));
            if let Some(name) = message.name {
                total = total
                    .saturating_add(count(name))
                    .saturating_add_signed(self.per_name);
            }
        }
        total
    }
}
