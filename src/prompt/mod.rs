//! The built-in prompt builder: ranked chunks into a template, under a token budget.
//!
//! [`ContextPrompt`] implements [`PromptBuilder`](crate::steps::PromptBuilder):
//! it fills a [`Template`] (system part, question, context slot) with the
//! retrieved chunks, best first, as many as the token budget allows, cutting
//! the last one on a token boundary, and reports what it did in
//! [`PromptStats`](crate::steps::PromptStats), which the
//! [`Traced`](crate::instrument::Traced) wrapper puts on the prompt span.

mod context;
mod template;

pub use context::{ContextPrompt, PromptError};
pub use template::{Template, TemplateError};
