//! The prompt-building step: [`PromptBuilder`] and its output, [`Prompt`].

use std::borrow::Cow;
use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{Hit, StepInfo, default_error_type};

/// Turns a question and ranked hits into the messages sent to the model
/// (the third step of a RAG request).
///
/// An implementation decides how much retrieved context fits and reports what
/// it did in [`PromptStats`]; wrap it in [`Traced`](crate::instrument::Traced)
/// to get one `prompt {template}` span per call.
pub trait PromptBuilder: Send + Sync {
    /// The error a failed build returns.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Builds the prompt for `question` from `hits` (ranked, best first).
    fn build(
        &self,
        question: &str,
        hits: &[Hit],
    ) -> impl Future<Output = Result<Prompt, Self::Error>> + Send;

    /// Template name and version, and the model the prompt is budgeted for.
    fn describe(&self) -> StepInfo<'_> {
        StepInfo::new()
    }

    /// A low-cardinality class of a failure, recorded as `error.type`.
    ///
    /// The default is the error's type name; an implementation can do better
    /// (an HTTP status, `timeout`, `rate_limited`).
    fn error_type(error: &Self::Error) -> Cow<'static, str> {
        let _ = error;
        default_error_type::<Self::Error>()
    }
}

/// Who speaks a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The user's turn.
    User,
    /// The model's turn.
    Assistant,
}

impl Role {
    /// The role as chat APIs spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl Message {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Message::new(Role::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Message::new(Role::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Message::new(Role::Assistant, content)
    }
}

/// What a prompt build did with the context it was offered.
///
/// `chunks_included + chunks_dropped == chunks_offered`; truncated chunks are
/// counted among the included ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PromptStats {
    /// Tokens of the whole prompt as it will be sent.
    pub prompt_tokens: u64,
    /// Tokens of the retrieved context inside it.
    pub context_tokens: u64,
    /// The token budget the prompt was packed under, if any.
    pub budget_tokens: Option<u64>,
    /// The target model's context window, if known.
    pub context_window: Option<u64>,
    /// Chunks the builder was given.
    pub chunks_offered: u64,
    /// Chunks placed in the prompt (whole or truncated).
    pub chunks_included: u64,
    /// Included chunks that were cut to fit.
    pub chunks_truncated: u64,
    /// Chunks left out.
    pub chunks_dropped: u64,
    /// `true` when token counts are estimates (no exact tokenizer for the model).
    pub estimated: bool,
}

impl PromptStats {
    /// Stats of a prompt with this many tokens and no context accounting.
    pub const fn new(prompt_tokens: u64) -> Self {
        PromptStats {
            prompt_tokens,
            context_tokens: 0,
            budget_tokens: None,
            context_window: None,
            chunks_offered: 0,
            chunks_included: 0,
            chunks_truncated: 0,
            chunks_dropped: 0,
            estimated: false,
        }
    }

    /// Sets the context accounting: tokens of context, and what happened to the chunks.
    pub const fn with_context(
        mut self,
        context_tokens: u64,
        offered: u64,
        included: u64,
        truncated: u64,
    ) -> Self {
        self.context_tokens = context_tokens;
        self.chunks_offered = offered;
        self.chunks_included = included;
        self.chunks_truncated = truncated;
        self.chunks_dropped = offered.saturating_sub(included);
        self
    }

    /// Sets the budget the prompt was packed under.
    pub const fn with_budget(mut self, budget_tokens: u64) -> Self {
        self.budget_tokens = Some(budget_tokens);
        self
    }

    /// Sets the target model's context window.
    pub const fn with_context_window(mut self, tokens: u64) -> Self {
        self.context_window = Some(tokens);
        self
    }

    /// Marks the counts as estimated.
    pub const fn with_estimated(mut self, estimated: bool) -> Self {
        self.estimated = estimated;
        self
    }

    /// The share of the context window the prompt fills (0..=1 when it fits).
    pub fn context_window_used(&self) -> Option<f64> {
        match self.context_window {
            Some(window) if window > 0 => Some(self.prompt_tokens as f64 / window as f64),
            _ => None,
        }
    }
}

/// A built prompt: the messages to send and what went into them.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Prompt {
    /// The messages, in order.
    pub messages: Vec<Message>,
    /// What the build did.
    pub stats: PromptStats,
}

impl Prompt {
    /// A prompt of these messages.
    pub fn new(messages: Vec<Message>, stats: PromptStats) -> Self {
        Prompt { messages, stats }
    }
}
