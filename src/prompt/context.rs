//! [`ContextPrompt`]: the built-in [`PromptBuilder`].

use std::sync::Arc;

use super::Template;
use crate::steps::{Hit, Message, Prompt, PromptBuilder, PromptStats, StepInfo};
use crate::tokens::{Item, TokenCount, TokenCounter, Tokenizer, pack};

/// Builds a chat prompt from a [`Template`], a question and ranked hits,
/// within a token budget.
///
/// The budget is the most the prompt may count, chat overhead included:
/// given outright with [`budget`](ContextPrompt::budget), or derived as the
/// model's [`context_window`](ContextPrompt::context_window) minus a
/// [`reserve`](ContextPrompt::reserve) for the answer (both set: the smaller
/// wins). Without either, every chunk goes in. Chunks without content are
/// dropped. Token counts come from the [`counter`](ContextPrompt::counter)
/// (by default [`Tokenizer`]: exact for OpenAI models, an estimate marked as
/// such for the rest).
///
/// ```
/// use ragtrace::prompt::{ContextPrompt, Template};
/// use ragtrace::steps::{Hit, PromptBuilder};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let builder = ContextPrompt::new(Template::default())
///     .model("gpt-4o-mini")
///     .budget(120);
/// let hits = [
///     Hit::new("a", 0.91).with_content("Spans carry token counts, latency and cost."),
///     Hit::new("b", 0.84).with_content("Prompt building packs chunks under a budget. ".repeat(20)),
///     Hit::new("c", 0.52).with_content("Unrelated text."),
/// ];
/// let prompt = builder.build("What do spans carry?", &hits).await?;
/// let stats = prompt.stats;
/// assert!(stats.prompt_tokens <= 120);
/// assert_eq!((stats.chunks_offered, stats.chunks_included, stats.chunks_truncated), (3, 2, 1));
/// assert_eq!(stats.chunks_dropped, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ContextPrompt {
    template: Template,
    model: Option<String>,
    counter: Arc<dyn TokenCounter>,
    budget: Option<u64>,
    context_window: Option<u64>,
    reserve: Option<u64>,
    min_truncated: u64,
}

/// The answer reserve when only a context window is given.
const DEFAULT_RESERVE: u64 = 4096;
/// The fewest tokens worth keeping of a cut chunk.
const DEFAULT_MIN_TRUNCATED: u64 = 32;

/// Why a prompt could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    /// The prompt without any context (template and question) is already over budget.
    #[error(
        "prompt over budget before any context: template and question need {needed} tokens, \
         the budget is {budget}{derivation}"
    )]
    OverBudget {
        /// Tokens of the prompt with an empty context.
        needed: u64,
        /// The budget.
        budget: u64,
        /// How the budget was derived, e.g. " (context window 8192 minus reserve 4096)".
        derivation: String,
    },
}

impl ContextPrompt {
    /// A builder filling `template`, with no budget and the default [`Tokenizer`].
    pub fn new(template: Template) -> Self {
        ContextPrompt {
            template,
            model: None,
            counter: Arc::new(Tokenizer::new()),
            budget: None,
            context_window: None,
            reserve: None,
            min_truncated: DEFAULT_MIN_TRUNCATED,
        }
    }

    /// The model the prompt is for: counts use its tokenizer, and spans
    /// record it. Without a model, counts are `o200k_base` estimates.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The most tokens the whole prompt may count.
    pub fn budget(mut self, tokens: u64) -> Self {
        self.budget = Some(tokens);
        self
    }

    /// The model's context window (input and output together); the budget is
    /// the window minus the [`reserve`](ContextPrompt::reserve).
    pub fn context_window(mut self, tokens: u64) -> Self {
        self.context_window = Some(tokens);
        self
    }

    /// Targets `model` and takes its context window from the built-in price
    /// tables (which record each model's window); the budget is that window
    /// minus the [`reserve`](ContextPrompt::reserve). For a model the tables
    /// do not know, or with custom tables, give the window with
    /// [`context_window`](ContextPrompt::context_window) instead; a model
    /// without a known window is logged once here and left unbudgeted.
    ///
    /// ```
    /// use ragtrace::prompt::{ContextPrompt, Template};
    ///
    /// let builder = ContextPrompt::new(Template::default()).budget_for("gpt-4o-mini");
    /// // gpt-4o-mini: a 128,000-token window, minus the default 4,096 reserve.
    /// assert_eq!(builder.budget_tokens(), Some(128_000 - 4_096));
    /// ```
    pub fn budget_for(mut self, model: &str) -> Self {
        let window = crate::pricing::PriceTable::builtin()
            .resolve(model)
            .and_then(|found| found.entry.context_window);
        match window {
            Some(window) => self.context_window = Some(window),
            None => tracing::warn!(
                target: "ragtrace",
                model,
                "no context window known for this model; prompts are not budgeted"
            ),
        }
        self.model(model)
    }

    /// Tokens kept free for the answer (default 4096, or a quarter of the
    /// window if that is less). Only used with a context window.
    pub fn reserve(mut self, tokens: u64) -> Self {
        self.reserve = Some(tokens);
        self
    }

    /// The fewest tokens of a chunk worth including cut (default 32); with
    /// less room left, the chunk is dropped instead. `u64::MAX` never cuts.
    pub fn min_truncated_tokens(mut self, tokens: u64) -> Self {
        self.min_truncated = tokens;
        self
    }

    /// Counts tokens with `counter` instead of the built-in [`Tokenizer`].
    pub fn counter(mut self, counter: impl TokenCounter) -> Self {
        self.counter = Arc::new(counter);
        self
    }

    /// The template.
    pub fn template(&self) -> &Template {
        &self.template
    }

    /// The budget prompts are packed under, if any.
    pub fn budget_tokens(&self) -> Option<u64> {
        let derived = self.context_window.map(|window| {
            let reserve = self
                .reserve
                .unwrap_or_else(|| DEFAULT_RESERVE.min(window / 4));
            window.saturating_sub(reserve)
        });
        match (self.budget, derived) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn derivation(&self, budget: u64) -> String {
        match self.context_window {
            Some(window) if Some(budget) != self.budget => {
                format!(
                    " (context window {window} minus reserve {})",
                    window - budget
                )
            }
            _ => String::new(),
        }
    }

    fn model_str(&self) -> &str {
        self.model.as_deref().unwrap_or("")
    }

    fn messages(&self, question: &str, context: &str) -> Vec<Message> {
        let system = self.template.render_system(question, context);
        let user = self.template.render_user(question, context);
        let mut messages = Vec::with_capacity(2);
        if !system.is_empty() {
            messages.push(Message::system(system));
        }
        messages.push(Message::user(user));
        messages
    }

    fn count_prompt(&self, messages: &[Message]) -> TokenCount {
        self.counter.count_messages(self.model_str(), messages)
    }

    /// Builds synchronously: the work is counting, which is CPU-bound and
    /// linear in the text.
    fn build_now(&self, question: &str, hits: &[Hit]) -> Result<Prompt, PromptError> {
        let model = self.model_str();
        let counter = &*self.counter;
        let offered = hits.len() as u64;
        let items: Vec<Item<'_>> = hits
            .iter()
            .enumerate()
            .filter_map(|(rank, hit)| {
                let content = hit.content.as_deref()?;
                let (before, after) =
                    self.template
                        .render_chunk_frame(&hit.id, rank + 1, hit.score);
                Some(Item {
                    before,
                    content,
                    after,
                })
            })
            .collect();
        let separator = self.template.separator_str();
        let budget = self.budget_tokens();

        let empty = self.count_prompt(&self.messages(question, ""));
        let mut exact = empty.exact;
        let mut room = match budget {
            Some(budget) if empty.tokens > budget => {
                return Err(PromptError::OverBudget {
                    needed: empty.tokens,
                    budget,
                    derivation: self.derivation(budget),
                });
            }
            Some(budget) => budget - empty.tokens,
            None => u64::MAX,
        };

        // Pack, assemble, count the real prompt; if the seams between the
        // pieces cost more than the sum of their counts, shrink the room by
        // the excess and pack again. An empty context always fits (checked
        // above), so the last resort keeps the guarantee.
        let count = |text: &str| counter.count_text(model, text).tokens;
        let truncate = |text, max| counter.truncate(model, text, max).0;
        let mut attempts = 0;
        let (packed, messages, total) = loop {
            let packed = pack(&items, separator, room, self.min_truncated, count, truncate);
            let context: String = packed.iter().map(|p| p.text.as_str()).collect();
            let messages = self.messages(question, &context);
            let total = self.count_prompt(&messages);
            exact &= total.exact;
            match budget {
                Some(budget) if total.tokens > budget && !packed.is_empty() => {
                    attempts += 1;
                    room = if attempts >= 4 {
                        0
                    } else {
                        room.saturating_sub(total.tokens - budget)
                    };
                }
                _ => break (packed, (messages, context), total.tokens),
            }
        };
        let (messages, context) = messages;

        let included = packed.len() as u64;
        let truncated = packed.iter().filter(|p| p.truncated).count() as u64;
        let context_tokens = if context.is_empty() {
            0
        } else {
            counter.count_text(model, &context).tokens
        };
        let mut stats = PromptStats::new(total)
            .with_context(context_tokens, offered, included, truncated)
            .with_estimated(!exact);
        if let Some(budget) = budget {
            stats = stats.with_budget(budget);
        }
        if let Some(window) = self.context_window {
            stats = stats.with_context_window(window);
        }
        Ok(Prompt::new(messages, stats))
    }
}

impl PromptBuilder for ContextPrompt {
    type Error = PromptError;

    async fn build(&self, question: &str, hits: &[Hit]) -> Result<Prompt, PromptError> {
        self.build_now(question, hits)
    }

    fn describe(&self) -> StepInfo<'_> {
        let mut info = StepInfo::new()
            .template(self.template.name(), self.template.version_str())
            .template_text(self.template.text());
        if let Some(model) = &self.model {
            info = info.model(model);
        }
        info
    }
}

impl std::fmt::Debug for ContextPrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextPrompt")
            .field("template", &self.template.name())
            .field("model", &self.model)
            .field("budget", &self.budget_tokens())
            .field("context_window", &self.context_window)
            .field("min_truncated", &self.min_truncated)
            .finish_non_exhaustive()
    }
}
