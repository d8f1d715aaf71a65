//! Content capture: whether query, prompt, completion and document text go
//! into spans, and the redaction they pass through first.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use regex::Regex;

/// Whether text content is recorded on spans. Off by default.
///
/// When on, every text passes through the [`Redact`] hook and is then cut to
/// [`max_bytes`](Self::max_bytes) (at a character boundary). Credentials
/// must never reach a span, so the default redactor removes API keys, bearer
/// tokens and e-mail addresses; add patterns for whatever else is private in
/// your data.
///
/// ```
/// use ragtrace::instrument::{Capture, Redactor};
///
/// let capture = Capture::on()
///     .max_bytes(4096)
///     .redactor(Redactor::default().pattern(r"\bACCT-\d{8}\b").unwrap());
/// assert!(capture.is_on());
/// assert_eq!(capture.apply("key sk-abcdefghijklmnopqrstuvwx"), "key [REDACTED]");
/// ```
#[derive(Clone)]
pub struct Capture {
    enabled: bool,
    max_bytes: usize,
    redactor: Arc<dyn Redact>,
}

/// Size a captured text is cut to unless configured otherwise.
const DEFAULT_MAX_BYTES: usize = 16 * 1024;
/// Text kept past the cut before redaction, so a secret straddling the cut is
/// still seen whole by the patterns (no secret pattern is longer than this).
const REDACTION_MARGIN: usize = 1024;
/// Appended where a text was cut.
const TRUNCATION_MARK: &str = "…[truncated]";

impl Capture {
    /// Content is not recorded (the default).
    pub fn off() -> Self {
        Capture {
            enabled: false,
            max_bytes: DEFAULT_MAX_BYTES,
            redactor: Arc::new(Redactor::default()),
        }
    }

    /// Content is recorded, through the default [`Redactor`], cut at 16 KiB.
    pub fn on() -> Self {
        Capture {
            enabled: true,
            ..Capture::off()
        }
    }

    /// Sets the size each captured text is cut to, in bytes.
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Replaces the redaction hook.
    pub fn redactor(mut self, redactor: impl Redact) -> Self {
        self.redactor = Arc::new(redactor);
        self
    }

    /// `true` when content is recorded.
    pub fn is_on(&self) -> bool {
        self.enabled
    }

    /// Redacts and truncates `text` as it would be recorded.
    pub fn apply(&self, text: &str) -> String {
        let window = floor_char_boundary(text, self.max_bytes.saturating_add(REDACTION_MARGIN));
        let redacted = self.redactor.redact(&text[..window]);
        let cut = floor_char_boundary(&redacted, self.max_bytes);
        if cut < redacted.len() || window < text.len() {
            let mut out = String::with_capacity(cut + TRUNCATION_MARK.len());
            out.push_str(&redacted[..cut]);
            out.push_str(TRUNCATION_MARK);
            out
        } else {
            redacted.into_owned()
        }
    }
}

impl Default for Capture {
    fn default() -> Self {
        Capture::off()
    }
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("enabled", &self.enabled)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// Error descriptions are kept to this size on the span status.
const ERROR_DESCRIPTION_MAX_BYTES: usize = 2 * 1024;

static ERROR_DESCRIPTIONS: LazyLock<Capture> =
    LazyLock::new(|| Capture::on().max_bytes(ERROR_DESCRIPTION_MAX_BYTES));

/// An error's message as the span status records it, whatever the capture
/// settings: through the built-in redactor, because providers and proxies
/// echo request details (keys, headers, e-mail addresses) in error bodies,
/// and cut, because some errors carry whole response bodies.
pub(crate) fn error_description(message: &str) -> String {
    ERROR_DESCRIPTIONS.apply(message)
}

/// The largest index `<= max` that is a character boundary of `text`.
fn floor_char_boundary(text: &str, max: usize) -> usize {
    if max >= text.len() {
        return text.len();
    }
    let mut i = max;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Removes private data from text before it is recorded.
///
/// Closures `Fn(&str) -> Cow<str>` implement it.
pub trait Redact: Send + Sync + 'static {
    /// `text` with everything private replaced.
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str>;
}

impl<F> Redact for F
where
    F: for<'a> Fn(&'a str) -> Cow<'a, str> + Send + Sync + 'static,
{
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self(text)
    }
}

/// Built-in patterns: credentials first (they may contain `@`), then e-mail addresses.
const BUILT_IN_PATTERNS: &[&str] = &[
    // "Authorization: <scheme> <credentials>" and "api-key: <key>" header lines.
    r"(?i)\b(?:proxy-)?authorization\s*[:=]\s*(?:[a-z]+\s+)?[^\s,;]+",
    r"(?i)\b(?:x-)?api[-_]?key\s*[:=]\s*[^\s,;]+",
    // Bearer tokens anywhere.
    r"(?i)\bbearer\s+[a-z0-9._~+/=-]{8,}",
    // OpenAI / Anthropic style secret keys (sk-..., sk-proj-..., sk-ant-...).
    r"\bsk-[A-Za-z0-9_-]{16,}",
    // AWS access key ids.
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    // Google API keys.
    r"\bAIza[0-9A-Za-z_-]{35}",
    // GitHub tokens.
    r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
    // Slack tokens.
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    // JSON Web Tokens.
    r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    // E-mail addresses.
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
];

static BUILT_IN: LazyLock<Regex> = LazyLock::new(|| {
    // Constant patterns, compiled in a unit test below, so this cannot fail at run time.
    Regex::new(&BUILT_IN_PATTERNS.join("|")).expect("built-in redaction patterns are valid")
});

/// The built-in credential patterns alone (all but the e-mail one, the
/// last): what is redacted from every span a receiver takes in.
static CREDENTIALS: LazyLock<Regex> = LazyLock::new(|| {
    let credentials = &BUILT_IN_PATTERNS[..BUILT_IN_PATTERNS.len() - 1];
    Regex::new(&credentials.join("|")).expect("built-in redaction patterns are valid")
});

/// `text` with API keys, bearer tokens and authorization values replaced
/// by `[REDACTED]` (e-mail addresses are kept).
pub(crate) fn redact_credentials(text: &str) -> Cow<'_, str> {
    CREDENTIALS.replace_all(text, "[REDACTED]")
}

/// The default redactor: built-in patterns for API keys, bearer tokens,
/// authorization headers and e-mail addresses, plus any patterns you add.
/// Every match becomes `[REDACTED]`.
#[derive(Clone, Debug)]
pub struct Redactor {
    built_in: bool,
    extra: Vec<Regex>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor {
            built_in: true,
            extra: Vec::new(),
        }
    }
}

impl Redactor {
    /// A redactor with no patterns at all (not even the built-in ones).
    pub fn empty() -> Self {
        Redactor {
            built_in: false,
            extra: Vec::new(),
        }
    }

    /// Adds a pattern (regex syntax); every match is redacted.
    pub fn pattern(mut self, pattern: &str) -> Result<Self, regex::Error> {
        self.extra.push(Regex::new(pattern)?);
        Ok(self)
    }
}

impl Redact for Redactor {
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = if self.built_in {
            BUILT_IN.replace_all(text, "[REDACTED]")
        } else {
            Cow::Borrowed(text)
        };
        for pattern in &self.extra {
            if let Cow::Owned(replaced) = pattern.replace_all(&out, "[REDACTED]") {
                out = Cow::Owned(replaced);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_patterns_compile() {
        for pattern in BUILT_IN_PATTERNS {
            Regex::new(pattern).unwrap();
        }
        assert!(BUILT_IN.is_match("a@b.io"));
        assert!(!CREDENTIALS.is_match("a@b.io"));
        assert!(CREDENTIALS.is_match("Bearer abcdefgh12345678"));
    }

    #[test]
    fn redacts_credentials_and_addresses() {
        let r = Redactor::default();
        let cases = [
            (
                "use sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX now",
                "use [REDACTED] now",
            ),
            ("Authorization: Bearer abc.def.ghi-123", "[REDACTED]"),
            ("token bearer 0123456789abcdef", "token [REDACTED]"),
            (
                "mail jane.doe+rag@example.co.uk please",
                "mail [REDACTED] please",
            ),
            ("aws AKIAIOSFODNN7EXAMPLE", "aws [REDACTED]"),
            ("api_key=abc123secret", "[REDACTED]"),
            ("nothing private here", "nothing private here"),
        ];
        for (input, expected) in cases {
            assert_eq!(r.redact(input), expected, "input: {input}");
        }
    }

    #[test]
    fn user_patterns_apply_after_built_ins() {
        let r = Redactor::empty().pattern(r"\d{4}-\d{4}").unwrap();
        assert_eq!(
            r.redact("card 1234-5678, mail a@b.io"),
            "card [REDACTED], mail a@b.io"
        );
    }

    #[test]
    fn error_descriptions_are_redacted_and_cut_even_with_capture_off() {
        let message = "401 invalid key sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX for a@b.io";
        assert_eq!(
            error_description(message),
            "401 invalid key [REDACTED] for [REDACTED]"
        );
        let long = "x".repeat(10_000);
        assert!(error_description(&long).len() < 2 * 1024 + 32);
    }

    #[test]
    fn truncation_keeps_utf8_whole_and_redacts_across_the_cut() {
        let capture = Capture::on().max_bytes(5);
        let out = capture.apply("héllo wörld");
        assert_eq!(out, format!("héll{TRUNCATION_MARK}"));
        // A key that starts before the cut is still recognised and removed.
        let capture = Capture::on().max_bytes(8);
        let out = capture.apply("key: sk-ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        assert!(!out.contains("sk-AB"), "{out}");
    }
}
