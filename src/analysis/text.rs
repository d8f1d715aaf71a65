//! Small text helpers every rendering shares: counts people read at a
//! glance, and strings from traces made safe for a terminal.

use std::fmt::Write as _;

/// `1,234,567`.
///
/// ```
/// assert_eq!(ragtrace::analysis::text::thousands(1_234_567), "1,234,567");
/// ```
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `text` with control characters (terminal escapes among them) and
/// bidirectional overrides shown as `\u{..}` escapes, so a string from a
/// trace can neither drive the terminal nor reorder what is printed after
/// it.
///
/// ```
/// let hostile = "gpt\u{1b}[2J";
/// assert_eq!(ragtrace::analysis::text::terminal_safe(hostile), "gpt\\u{1b}[2J");
/// assert_eq!(ragtrace::analysis::text::terminal_safe("a\u{202e}b"), "a\\u{202e}b");
/// ```
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}
