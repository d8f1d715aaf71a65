//! Chat-format counts match the prompt tokens OpenAI's API reported.
//!
//! Source: the OpenAI Cookbook notebook "How to count tokens with tiktoken"
//! (examples/How_to_count_tokens_with_tiktoken.ipynb, section 6), which sends
//! the six messages below and prints the API's `usage.prompt_tokens`:
//! 129 for gpt-3.5-turbo (0125), gpt-4-0613 and gpt-4; 124 for gpt-4o and
//! gpt-4o-mini; and, in the notebook's earlier revision, 127 for
//! gpt-3.5-turbo-0301.

use ragtrace::steps::Message;
use ragtrace::tokens::{ChatFormat, ChatPart, TokenCounter, Tokenizer};

/// (role, name, content) of the cookbook's example.
const EXAMPLE: [(&str, Option<&str>, &str); 6] = [
    (
        "system",
        None,
        "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
    ),
    (
        "system",
        Some("example_user"),
        "New synergies will help drive top-line growth.",
    ),
    (
        "system",
        Some("example_assistant"),
        "Things working well together will increase revenue.",
    ),
    (
        "system",
        Some("example_user"),
        "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
    ),
    (
        "system",
        Some("example_assistant"),
        "Let's talk later when we're less busy about how to do better.",
    ),
    (
        "user",
        None,
        "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    ),
];

fn parts() -> impl Iterator<Item = ChatPart<'static>> {
    EXAMPLE.iter().map(|&(role, name, content)| {
        let part = ChatPart::new(role, content);
        match name {
            Some(name) => part.name(name),
            None => part,
        }
    })
}

#[test]
fn cookbook_example_matches_reported_prompt_tokens() {
    let tokenizer = Tokenizer::new();
    for (model, reported) in [
        ("gpt-3.5-turbo-0125", 129),
        ("gpt-3.5-turbo", 129),
        ("gpt-4-0613", 129),
        ("gpt-4", 129),
        ("gpt-4o", 124),
        ("gpt-4o-mini", 124),
        ("gpt-4o-2024-08-06", 124),
        ("gpt-3.5-turbo-0301", 127),
    ] {
        let count = tokenizer
            .method(model)
            .count_chat(ChatFormat::for_model(model), parts());
        assert_eq!(count.tokens, reported, "{model}");
        assert!(count.exact, "{model}");
    }
}

#[test]
fn the_counter_hook_counts_messages_the_same_way() {
    // Without names (ragtrace's Message has none), the count is the
    // cookbook's less the names' tokens and the one token each adds.
    let tokenizer = Tokenizer::new();
    let messages: Vec<Message> = EXAMPLE
        .iter()
        .map(|&(role, _, content)| match role {
            "user" => Message::user(content),
            _ => Message::system(content),
        })
        .collect();
    for (model, reported) in [("gpt-4", 129_u64), ("gpt-4o", 124)] {
        let names: u64 = EXAMPLE
            .iter()
            .filter_map(|&(_, name, _)| name)
            .map(|name| tokenizer.count_text(model, name).tokens + 1)
            .sum();
        let count = tokenizer.count_messages(model, &messages);
        assert_eq!(count.tokens, reported - names, "{model}");
    }
}
