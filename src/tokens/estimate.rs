//! [`Estimate`]: token counts for models whose tokenizer is not public.
//!
//! Anthropic's Claude (since Claude 3) and Google's Gemini do not publish a
//! tokenizer that runs offline; their providers count through an API call.
//! ragtrace cannot afford a network call on the request path, so it estimates:
//! the text is counted with `o200k_base` (a modern 200k-token vocabulary) and
//! the count is scaled by a per-family factor and rounded up. The factors come
//! from the providers' own rules of thumb, set against what `o200k_base`
//! gives on English prose (4.8 characters a token on the fixture corpus's
//! `english_prose.txt`):
//!
//! | family | factor | basis |
//! |---|---|---|
//! | Claude (`claude` anywhere in the name, or `anthropic/...`) | 1.35 | Anthropic: a token is about 3.5 English characters (4.8 / 3.5) |
//! | Gemini (`gemini` anywhere in the name, or `google/...`) | 1.20 | Google: a token is about 4 characters (4.8 / 4) |
//! | anything else | 1.00 | the `o200k_base` count itself |
//!
//! Expect errors of ±20% on English prose and more on code or other scripts.
//! Every estimated count is marked `exact: false`, so the spans that carry it
//! say `ragtrace.usage.estimated = true`. Where a provider reports usage, that
//! figure is used instead; where precision matters, configure a factor
//! measured on your own traffic with [`Estimate::scaled`].

use super::Encoding;

/// How to estimate tokens for a model without a public tokenizer: a base
/// encoding and a factor applied to its count (rounded up).
///
/// ```
/// use ragtrace::tokens::{Encoding, Estimate};
///
/// let claude = Estimate::for_model("claude-sonnet-4-5");
/// assert_eq!(claude.factor(), 1.35);
/// let base = Encoding::O200kBase.count("Estimates are rounded up.");
/// assert_eq!(claude.count("Estimates are rounded up."), (base as f64 * 1.35).ceil() as u64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    base: Encoding,
    factor: f64,
}

impl Estimate {
    /// The plain `o200k_base` count (factor 1).
    pub const O200K: Estimate = Estimate {
        base: Encoding::O200kBase,
        factor: 1.0,
    };

    /// `base` counts scaled by `factor` (non-finite or non-positive factors become 1).
    pub fn scaled(base: Encoding, factor: f64) -> Estimate {
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        Estimate { base, factor }
    }

    /// The documented estimate for `model`'s family (see the module docs).
    pub fn for_model(model: &str) -> Estimate {
        let name = model.trim().to_ascii_lowercase();
        let family = |word: &str, vendor: &str| name.contains(word) || name.starts_with(vendor);
        if family("claude", "anthropic/") {
            Estimate::scaled(Encoding::O200kBase, 1.35)
        } else if family("gemini", "google/") {
            Estimate::scaled(Encoding::O200kBase, 1.20)
        } else {
            Estimate::O200K
        }
    }

    /// The encoding whose count is scaled.
    pub const fn base(&self) -> Encoding {
        self.base
    }

    /// The factor applied to the base count.
    pub const fn factor(&self) -> f64 {
        self.factor
    }

    /// Scales a base count, rounding up.
    pub fn scale(&self, base_tokens: u64) -> u64 {
        if self.factor == 1.0 {
            return base_tokens;
        }
        let scaled = (base_tokens as f64 * self.factor).ceil();
        // `as` saturates for huge values, which is the right answer here.
        scaled as u64
    }

    /// The estimated tokens of `text`.
    pub fn count(&self, text: &str) -> u64 {
        self.scale(self.base.count(text))
    }

    /// The longest prefix of `text` on a base-token boundary whose estimate is
    /// at most `max_tokens`, with that estimate.
    pub fn truncate<'t>(&self, text: &'t str, max_tokens: u64) -> (&'t str, u64) {
        // floor(max / factor) base tokens scale to at most `max` once rounded up.
        let base_max = if self.factor == 1.0 {
            max_tokens
        } else {
            (max_tokens as f64 / self.factor).floor() as u64
        };
        let (head, base) = self.base.truncate(text, base_max);
        (head, self.scale(base))
    }
}

impl Default for Estimate {
    fn default() -> Self {
        Estimate::O200K
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_get_their_factor() {
        for (model, factor) in [
            ("claude-opus-4-1", 1.35),
            ("anthropic/claude-3-5-haiku", 1.35),
            ("bedrock/anthropic.claude-3-sonnet", 1.35),
            ("gemini-2.5-flash", 1.20),
            ("vertex_ai/gemini-1.5-pro", 1.20),
            ("llama-3.1-8b-instant", 1.0),
            ("", 1.0),
        ] {
            assert_eq!(Estimate::for_model(model).factor(), factor, "{model}");
        }
    }

    #[test]
    fn truncation_respects_the_scaled_budget() {
        let e = Estimate::for_model("claude-3-haiku");
        let text = "one two three four five six seven eight nine ten";
        for max in 0..20 {
            let (head, tokens) = e.truncate(text, max);
            assert!(tokens <= max);
            assert_eq!(tokens, e.count(head));
        }
    }

    #[test]
    fn bad_factors_fall_back_to_one() {
        for f in [f64::NAN, f64::INFINITY, -2.0, 0.0] {
            assert_eq!(Estimate::scaled(Encoding::O200kBase, f).factor(), 1.0);
        }
    }
}
