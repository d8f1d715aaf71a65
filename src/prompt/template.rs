//! [`Template`]: the text around the question and the retrieved context.

use std::fmt::Write as _;

/// A prompt template: a system part and a user part, with the slots
/// `{question}` and `{context}` (each exactly once, in either part), and the
/// format of one retrieved chunk inside the context.
///
/// Chunk formats may use `{content}` (required), `{id}`, `{rank}` (1-based)
/// and `{score}`; chunks are joined with a separator (a blank line by
/// default). Write `{{` and `}}` for literal braces.
///
/// ```
/// use ragtrace::prompt::Template;
///
/// let template = Template::new(
///     "support-answer",
///     "Answer from these documents only:\n\n{context}",
///     "{question}",
/// )?
/// .version("3")
/// .chunk("<doc id=\"{id}\">\n{content}\n</doc>")?;
/// assert_eq!(template.name(), "support-answer");
/// # Ok::<(), ragtrace::prompt::TemplateError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    name: String,
    version: Option<String>,
    system: Vec<Segment>,
    user: Vec<Segment>,
    chunk: Vec<Segment>,
    separator: String,
    /// The template as one text, for `llm.prompt_template.template`.
    text: String,
}

/// A piece of a parsed template part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Text(String),
    Slot(Slot),
}

/// A placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Question,
    Context,
    Content,
    Id,
    Rank,
    Score,
}

impl Slot {
    const fn name(self) -> &'static str {
        match self {
            Slot::Question => "question",
            Slot::Context => "context",
            Slot::Content => "content",
            Slot::Id => "id",
            Slot::Rank => "rank",
            Slot::Score => "score",
        }
    }
}

/// What was wrong with a template, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{name}` that is not a slot of this part.
    #[error(
        "template {part} part: unknown placeholder `{{{name}}}` at byte {at} (allowed: {allowed})"
    )]
    UnknownSlot {
        /// `system`, `user` or `chunk`.
        part: &'static str,
        /// The placeholder's name.
        name: String,
        /// Its byte offset in the part.
        at: usize,
        /// The slots this part allows.
        allowed: &'static str,
    },
    /// A `{` without `}`, or a lone `}`.
    #[error(
        "template {part} part: unmatched `{brace}` at byte {at} (write `{brace}{brace}` for a literal brace)"
    )]
    Unmatched {
        /// `system`, `user` or `chunk`.
        part: &'static str,
        /// The brace.
        brace: char,
        /// Its byte offset in the part.
        at: usize,
    },
    /// A required slot is missing, or appears more than once.
    #[error("template: `{{{slot}}}` must appear exactly once {scope}, found {found}")]
    SlotCount {
        /// The slot.
        slot: &'static str,
        /// Where it is counted.
        scope: &'static str,
        /// How often it was found.
        found: usize,
    },
}

const PROMPT_SLOTS: (&[Slot], &str) = (&[Slot::Question, Slot::Context], "{question}, {context}");
const CHUNK_SLOTS: (&[Slot], &str) = (
    &[Slot::Content, Slot::Id, Slot::Rank, Slot::Score],
    "{content}, {id}, {rank}, {score}",
);

impl Template {
    /// A template named `name` with a `system` and a `user` part.
    pub fn new(
        name: impl Into<String>,
        system: &str,
        user: &str,
    ) -> Result<Template, TemplateError> {
        let system_parsed = parse("system", system, PROMPT_SLOTS)?;
        let user_parsed = parse("user", user, PROMPT_SLOTS)?;
        for slot in [Slot::Question, Slot::Context] {
            let found = count(&system_parsed, slot) + count(&user_parsed, slot);
            if found != 1 {
                return Err(TemplateError::SlotCount {
                    slot: slot.name(),
                    scope: "in the system and user parts together",
                    found,
                });
            }
        }
        let mut template = Template {
            name: name.into(),
            version: None,
            system: system_parsed,
            user: user_parsed,
            chunk: vec![Segment::Slot(Slot::Content)],
            separator: "\n\n".to_owned(),
            text: String::new(),
        };
        template.text = format!("system:\n{system}\n\nuser:\n{user}");
        Ok(template)
    }

    /// Sets the version recorded on spans (`gen_ai.prompt.version`).
    pub fn version(mut self, version: impl Into<String>) -> Template {
        self.version = Some(version.into());
        self
    }

    /// Sets how one chunk is written: `{content}` exactly once, and
    /// optionally `{id}`, `{rank}`, `{score}`. The default is `{content}`.
    pub fn chunk(mut self, format: &str) -> Result<Template, TemplateError> {
        let parsed = parse("chunk", format, CHUNK_SLOTS)?;
        let found = count(&parsed, Slot::Content);
        if found != 1 {
            return Err(TemplateError::SlotCount {
                slot: "content",
                scope: "in the chunk format",
                found,
            });
        }
        self.chunk = parsed;
        let _ = write!(self.text, "\n\nchunk:\n{format}");
        Ok(self)
    }

    /// Sets the text between chunks (default: a blank line, `"\n\n"`).
    pub fn separator(mut self, separator: impl Into<String>) -> Template {
        self.separator = separator.into();
        self
    }

    /// The template's name (`gen_ai.prompt.name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The template's version, if set.
    pub fn version_str(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The whole template as text (`llm.prompt_template.template`, recorded
    /// only when content capture is on).
    pub fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn separator_str(&self) -> &str {
        &self.separator
    }

    /// The system text with `question` and `context` filled in.
    pub(crate) fn render_system(&self, question: &str, context: &str) -> String {
        render(&self.system, |slot, out| {
            fill_prompt(slot, out, question, context)
        })
    }

    /// The user text with `question` and `context` filled in.
    pub(crate) fn render_user(&self, question: &str, context: &str) -> String {
        render(&self.user, |slot, out| {
            fill_prompt(slot, out, question, context)
        })
    }

    /// One chunk, split around its content: (text before, text after).
    pub(crate) fn render_chunk_frame(&self, id: &str, rank: usize, score: f64) -> (String, String) {
        let at = self
            .chunk
            .iter()
            .position(|s| *s == Segment::Slot(Slot::Content))
            .unwrap_or(self.chunk.len());
        let fill = |slot: Slot, out: &mut String| match slot {
            Slot::Id => out.push_str(id),
            Slot::Rank => {
                let _ = write!(out, "{rank}");
            }
            Slot::Score => {
                let _ = write!(out, "{score}");
            }
            _ => {}
        };
        (
            render(&self.chunk[..at], fill),
            render(self.chunk.get(at + 1..).unwrap_or(&[]), fill),
        )
    }
}

impl Default for Template {
    /// ragtrace's built-in template, `ragtrace-context` version 1: the context
    /// in the system message, the question as the user message.
    fn default() -> Self {
        Template::new(
            "ragtrace-context",
            "Answer the question using only the context below. If the context \
             does not contain the answer, say that you do not know.\n\n\
             Context:\n{context}",
            "{question}",
        )
        .map(|t| t.version("1"))
        .unwrap_or_else(|e| unreachable!("the built-in template is valid: {e}"))
    }
}

fn fill_prompt(slot: Slot, out: &mut String, question: &str, context: &str) {
    match slot {
        Slot::Question => out.push_str(question),
        Slot::Context => out.push_str(context),
        _ => {}
    }
}

fn render(segments: &[Segment], mut fill: impl FnMut(Slot, &mut String)) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Text(text) => out.push_str(text),
            Segment::Slot(slot) => fill(*slot, &mut out),
        }
    }
    out
}

fn count(segments: &[Segment], slot: Slot) -> usize {
    segments
        .iter()
        .filter(|s| **s == Segment::Slot(slot))
        .count()
}

fn parse(
    part: &'static str,
    text: &str,
    (slots, allowed): (&[Slot], &'static str),
) -> Result<Vec<Segment>, TemplateError> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let rest = &text[at + 1..];
                let Some(close) = rest.find('}') else {
                    return Err(TemplateError::Unmatched {
                        part,
                        brace: '{',
                        at,
                    });
                };
                let name = &rest[..close];
                let Some(&slot) = slots.iter().find(|s| s.name() == name) else {
                    return Err(TemplateError::UnknownSlot {
                        part,
                        name: name.to_owned(),
                        at,
                        allowed,
                    });
                };
                if !literal.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut literal)));
                }
                segments.push(Segment::Slot(slot));
                // Skip the name and the closing brace.
                for _ in 0..name.chars().count() + 1 {
                    chars.next();
                }
            }
            '}' => {
                return Err(TemplateError::Unmatched {
                    part,
                    brace: '}',
                    at,
                });
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Text(literal));
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_slots_and_literal_braces() {
        let t = Template::new("t", "Rules {{strict}}", "Q: {question}\n{context}").expect("valid");
        assert_eq!(t.render_system("why?", "CTX"), "Rules {strict}");
        assert_eq!(t.render_user("why?", "CTX"), "Q: why?\nCTX");
        let t = t
            .chunk("[{rank}] ({id}, {score}) {content} <end>")
            .expect("valid");
        assert_eq!(
            t.render_chunk_frame("doc-7", 2, 0.5),
            ("[2] (doc-7, 0.5) ".to_owned(), " <end>".to_owned())
        );
    }

    #[test]
    fn errors_name_the_part_and_position() {
        let err = Template::new("t", "ok {context}", "{questoin}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "template user part: unknown placeholder `{questoin}` at byte 0 (allowed: {question}, {context})"
        );
        let err = Template::new("t", "{context} {", "{question}").unwrap_err();
        assert!(matches!(
            err,
            TemplateError::Unmatched {
                part: "system",
                brace: '{',
                at: 10
            }
        ));
        let err = Template::new("t", "{context}", "{question} {context}").unwrap_err();
        assert!(matches!(
            err,
            TemplateError::SlotCount {
                slot: "context",
                found: 2,
                ..
            }
        ));
        let err = Template::default().chunk("{id}").unwrap_err();
        assert!(matches!(
            err,
            TemplateError::SlotCount {
                slot: "content",
                found: 0,
                ..
            }
        ));
        let err = Template::default().chunk("{question}").unwrap_err();
        assert!(matches!(
            err,
            TemplateError::UnknownSlot { part: "chunk", .. }
        ));
    }
}
