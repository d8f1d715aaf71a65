//! [`Usage`]: token counts of one model call, in one explicit convention.

use serde::{Deserialize, Serialize};

/// Token usage of one model call, normalized to a single convention.
///
/// Providers disagree on whether cached tokens are part of the input count
/// (OpenAI: yes, Anthropic: no). ragtrace always stores the *inclusive* form,
/// which is also OpenTelemetry's definition of `gen_ai.usage.input_tokens`:
///
/// * [`input_tokens`](Self::input_tokens) counts **all** input tokens;
///   [`cache_read_input_tokens`](Self::cache_read_input_tokens) and
///   [`cache_write_input_tokens`](Self::cache_write_input_tokens) are subsets of it,
///   and [`cache_write_1h_input_tokens`](Self::cache_write_1h_input_tokens) is the
///   part of the cache writes made with a one-hour lifetime.
/// * [`output_tokens`](Self::output_tokens) counts **all** output tokens;
///   [`reasoning_output_tokens`](Self::reasoning_output_tokens) is a subset of it.
///
/// Counts that came from a tokenizer instead of the provider set
/// [`estimated`](Self::estimated).
///
/// ```
/// use ragtrace::steps::Usage;
///
/// // An OpenAI response: 1200 prompt tokens of which 1024 were cached.
/// let usage = Usage::new(1200, 80).with_cache_read(1024);
/// assert_eq!(usage.uncached_input_tokens(), 176);
/// assert_eq!(usage.total_tokens(), 1280);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// All input tokens, cached ones included.
    pub input_tokens: u64,
    /// Input tokens read from the provider's prompt cache (a subset of `input_tokens`).
    pub cache_read_input_tokens: u64,
    /// Input tokens written to the provider's prompt cache (a subset of `input_tokens`).
    pub cache_write_input_tokens: u64,
    /// The part of `cache_write_input_tokens` written with a one-hour lifetime
    /// (priced higher than the default five-minute write by some providers).
    pub cache_write_1h_input_tokens: u64,
    /// All output tokens, reasoning included.
    pub output_tokens: u64,
    /// Reasoning ("thinking") tokens (a subset of `output_tokens`).
    pub reasoning_output_tokens: u64,
    /// `true` when the counts were estimated by a tokenizer, not reported by the provider.
    pub estimated: bool,
}

impl Usage {
    /// Usage with the given inclusive input and output counts and nothing else.
    pub const fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Usage {
            input_tokens,
            cache_read_input_tokens: 0,
            cache_write_input_tokens: 0,
            cache_write_1h_input_tokens: 0,
            output_tokens,
            reasoning_output_tokens: 0,
            estimated: false,
        }
    }

    /// Sets the number of input tokens read from cache (part of `input_tokens`).
    pub const fn with_cache_read(mut self, tokens: u64) -> Self {
        self.cache_read_input_tokens = tokens;
        self
    }

    /// Sets the number of input tokens written to cache with the default
    /// (five-minute) lifetime; adds to any one-hour writes already set.
    pub const fn with_cache_write(mut self, tokens: u64) -> Self {
        self.cache_write_input_tokens = self.cache_write_1h_input_tokens.saturating_add(tokens);
        self
    }

    /// Sets the number of input tokens written to cache with a one-hour lifetime.
    pub const fn with_cache_write_1h(mut self, tokens: u64) -> Self {
        let five_minute = self
            .cache_write_input_tokens
            .saturating_sub(self.cache_write_1h_input_tokens);
        self.cache_write_1h_input_tokens = tokens;
        self.cache_write_input_tokens = five_minute.saturating_add(tokens);
        self
    }

    /// Sets the number of reasoning tokens (part of `output_tokens`).
    pub const fn with_reasoning(mut self, tokens: u64) -> Self {
        self.reasoning_output_tokens = tokens;
        self
    }

    /// Marks the counts as estimated (or not).
    pub const fn with_estimated(mut self, estimated: bool) -> Self {
        self.estimated = estimated;
        self
    }

    /// Input tokens that were neither read from nor written to the cache.
    pub const fn uncached_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cache_read_input_tokens)
            .saturating_sub(self.cache_write_input_tokens)
    }

    /// Cache writes made with the default (five-minute) lifetime.
    pub const fn cache_write_5m_input_tokens(&self) -> u64 {
        self.cache_write_input_tokens
            .saturating_sub(self.cache_write_1h_input_tokens)
    }

    /// Output tokens that are not reasoning tokens.
    pub const fn visible_output_tokens(&self) -> u64 {
        self.output_tokens
            .saturating_sub(self.reasoning_output_tokens)
    }

    /// Input plus output tokens.
    pub const fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// `true` when every subset is within its total (a provider or conversion bug otherwise).
    pub const fn is_consistent(&self) -> bool {
        self.cache_read_input_tokens
            .saturating_add(self.cache_write_input_tokens)
            <= self.input_tokens
            && self.cache_write_1h_input_tokens <= self.cache_write_input_tokens
            && self.reasoning_output_tokens <= self.output_tokens
    }

    /// Adds another call's usage to this one (saturating); the sum is estimated
    /// if either part was.
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.cache_read_input_tokens = self
            .cache_read_input_tokens
            .saturating_add(other.cache_read_input_tokens);
        self.cache_write_input_tokens = self
            .cache_write_input_tokens
            .saturating_add(other.cache_write_input_tokens);
        self.cache_write_1h_input_tokens = self
            .cache_write_1h_input_tokens
            .saturating_add(other.cache_write_1h_input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.reasoning_output_tokens = self
            .reasoning_output_tokens
            .saturating_add(other.reasoning_output_tokens);
        self.estimated |= other.estimated;
    }
}

impl std::ops::AddAssign<&Usage> for Usage {
    fn add_assign(&mut self, rhs: &Usage) {
        self.add(rhs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_writes_split_into_lifetimes_in_either_order() {
        let a = Usage::new(100, 0)
            .with_cache_write(10)
            .with_cache_write_1h(5);
        let b = Usage::new(100, 0)
            .with_cache_write_1h(5)
            .with_cache_write(10);
        for u in [a, b] {
            assert_eq!(u.cache_write_input_tokens, 15);
            assert_eq!(u.cache_write_5m_input_tokens(), 10);
            assert_eq!(u.cache_write_1h_input_tokens, 5);
            assert_eq!(u.uncached_input_tokens(), 85);
            assert!(u.is_consistent());
        }
    }

    #[test]
    fn inconsistent_provider_figures_never_underflow() {
        let u = Usage::new(10, 5).with_cache_read(50).with_reasoning(9);
        assert!(!u.is_consistent());
        assert_eq!(u.uncached_input_tokens(), 0);
        assert_eq!(u.visible_output_tokens(), 0);
    }

    #[test]
    fn adding_saturates_and_keeps_estimated() {
        let mut a = Usage::new(u64::MAX, 1);
        a.add(&Usage::new(1, 1).with_estimated(true));
        assert_eq!(a.input_tokens, u64::MAX);
        assert_eq!(a.output_tokens, 2);
        assert!(a.estimated);
    }
}
