//! `ragtrace tokens`: count the tokens of a text before sending it.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::ValueEnum;
use std::time::SystemTime;

use ragtrace::pricing::{CostStatus, PriceRequest, PriceTable, Pricer};
use ragtrace::steps::{StepKind, Usage};
use ragtrace::tokens::{ChatFormat, ChatPart, Tokenizer};
use serde::Deserialize;

/// Count the tokens of a text (or of chat messages) for a model.
///
/// Exact for OpenAI models (o200k_base, cl100k_base, as OpenAI's tiktoken
/// counts); a documented estimate, marked as such, for models without a
/// public tokenizer (Claude, Gemini, ...).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model the text is for, e.g. gpt-4o-mini, text-embedding-3-small, claude-sonnet-4-5.
    #[arg(long, short)]
    model: String,

    /// The file to count; `-` or nothing reads standard input.
    file: Option<PathBuf>,

    /// Read the input as chat messages (a JSON array of {role, content, name?},
    /// or a request body with a `messages` array) and count it as the chat
    /// API bills it: with per-message overhead and the reply priming.
    #[arg(long)]
    chat: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One human-readable line.
    Text,
    /// A JSON object.
    Json,
}

/// A chat message as OpenAI's API takes it; text parts only.
#[derive(Debug, Deserialize)]
struct ChatMessage {
    role: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    content: Option<Content>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize)]
struct ContentPart {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ChatInput {
    Messages(Vec<ChatMessage>),
    Request { messages: Vec<ChatMessage> },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (source, bytes) = read_input(args.file.as_deref())?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        anyhow::anyhow!("{source} is not valid UTF-8 (first invalid byte at offset {at})")
    })?;

    let tokenizer = Tokenizer::new();
    let method = tokenizer.method(&args.model);
    let count = if args.chat {
        let input: ChatInput = serde_json::from_str(&text).with_context(|| {
            format!("{source}: expected a JSON array of chat messages or an object with `messages`")
        })?;
        let messages = match input {
            ChatInput::Messages(m) | ChatInput::Request { messages: m } => m,
        };
        let texts = messages
            .iter()
            .enumerate()
            .map(|(i, m)| message_text(m).with_context(|| format!("{source}: message {i}")))
            .collect::<anyhow::Result<Vec<String>>>()?;
        let parts = messages.iter().zip(&texts).map(|(m, text)| {
            let part = ChatPart::new(&m.role, text);
            match &m.name {
                Some(name) => part.name(name),
                None => part,
            }
        });
        method.count_chat(ChatFormat::for_model(&args.model), parts)
    } else {
        method.count(&text)
    };

    // What these tokens cost as input at today's price (exact, per the tables).
    let table = PriceTable::from_env().context("loading the price tables")?;
    let usage = Usage::new(count.tokens, 0).with_estimated(!count.exact);
    let cost = table.price(&PriceRequest::new(
        &args.model,
        StepKind::Chat,
        &usage,
        SystemTime::now(),
    ));
    let priced = cost.status != CostStatus::Unpriced;
    match args.format {
        Format::Text => {
            let price = if priced {
                format!(
                    "; input ${} at the {} price",
                    cost.total,
                    cost.price_version.as_deref().unwrap_or("current")
                )
            } else {
                "; input cost unknown: no price for this model".to_owned()
            };
            println!(
                "{} tokens ({}; {method}{}{}){price}",
                count.tokens,
                args.model,
                if count.exact {
                    ""
                } else {
                    ", no public tokenizer"
                },
                if args.chat { "; chat format" } else { "" }
            )
        }
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "model": args.model,
                "tokens": count.tokens,
                "exact": count.exact,
                "method": method.to_string(),
                "chat": args.chat,
                "input_cost_usd": priced.then(|| cost.total.to_string()),
                "cost_status": cost.status.as_str(),
                "price_version": cost.price_version.as_deref(),
            })
        ),
    }
    Ok(())
}

fn message_text(message: &ChatMessage) -> anyhow::Result<String> {
    Ok(match &message.content {
        None => String::new(),
        Some(Content::Text(text)) => text.clone(),
        Some(Content::Parts(parts)) => {
            let mut text = String::new();
            for (i, part) in parts.iter().enumerate() {
                match (part.kind.as_str(), &part.text) {
                    ("text", Some(t)) => text.push_str(t),
                    (kind, _) => bail!(
                        "content part {i} is of type `{kind}`; only text parts can be counted"
                    ),
                }
            }
            text
        }
    })
}

fn read_input(file: Option<&std::path::Path>) -> anyhow::Result<(String, Vec<u8>)> {
    match file {
        None => read_stdin(),
        Some(path) if path.as_os_str() == "-" => read_stdin(),
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Ok((path.display().to_string(), bytes))
        }
    }
}

fn read_stdin() -> anyhow::Result<(String, Vec<u8>)> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading standard input")?;
    Ok(("standard input".to_owned(), bytes))
}
