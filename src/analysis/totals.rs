//! [`Totals`]: tokens, cost and counts summed over spans, exactly.

use serde::Serialize;

use crate::pricing::{CostStatus, Usd};
use crate::store::{SpanRecord, Status};

/// Tokens by kind, in ragtrace's inclusive convention: `input` counts
/// cached reads and writes, `output` counts reasoning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Tokens {
    /// All input tokens.
    pub input: u64,
    /// Input tokens read from cache (part of `input`).
    pub cache_read: u64,
    /// Input tokens written to cache (part of `input`).
    pub cache_write: u64,
    /// All output tokens.
    pub output: u64,
    /// Reasoning tokens (part of `output`).
    pub reasoning: u64,
}

impl Tokens {
    /// Adds `other`, saturating.
    pub fn add(&mut self, other: &Tokens) {
        self.input = self.input.saturating_add(other.input);
        self.cache_read = self.cache_read.saturating_add(other.cache_read);
        self.cache_write = self.cache_write.saturating_add(other.cache_write);
        self.output = self.output.saturating_add(other.output);
        self.reasoning = self.reasoning.saturating_add(other.reasoning);
    }

    /// Input plus output.
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output)
    }

    /// The tokens a span reports.
    pub fn of(span: &SpanRecord) -> Tokens {
        match &span.usage {
            Some(u) => Tokens {
                input: u.input_tokens,
                cache_read: u.cache_read_input_tokens,
                cache_write: u.cache_write_input_tokens,
                output: u.output_tokens,
                reasoning: u.reasoning_output_tokens,
            },
            None => Tokens::default(),
        }
    }
}

/// Cost by usage kind. `unsplit` is what the producers gave only as a
/// total (or charged per request), so the kinds always add up to the total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CostByKind {
    /// Uncached input.
    #[serde(serialize_with = "usd")]
    pub input: Usd,
    /// Cache reads.
    #[serde(serialize_with = "usd")]
    pub cache_read: Usd,
    /// Cache writes.
    #[serde(serialize_with = "usd")]
    pub cache_write: Usd,
    /// Visible output.
    #[serde(serialize_with = "usd")]
    pub output: Usd,
    /// Reasoning output.
    #[serde(serialize_with = "usd")]
    pub reasoning: Usd,
    /// Not split by the producer, or per-request charges.
    #[serde(serialize_with = "usd")]
    pub unsplit: Usd,
}

impl CostByKind {
    /// Adds `other`.
    pub fn add(&mut self, other: &CostByKind) {
        self.input += other.input;
        self.cache_read += other.cache_read;
        self.cache_write += other.cache_write;
        self.output += other.output;
        self.reasoning += other.reasoning;
        self.unsplit += other.unsplit;
    }

    /// The sum of the kinds.
    pub fn total(&self) -> Usd {
        self.input
            + self.cache_read
            + self.cache_write
            + self.output
            + self.reasoning
            + self.unsplit
    }

    /// A span's known cost by kind.
    pub fn of(span: &SpanRecord) -> CostByKind {
        let Some(cost) = span.cost else {
            return CostByKind::default();
        };
        match &span.cost_breakdown {
            Some(b) => CostByKind {
                input: b.input,
                cache_read: b.cache_read,
                cache_write: b.cache_write,
                output: b.output,
                reasoning: b.reasoning,
                unsplit: b.other(cost),
            },
            None => CostByKind {
                unsplit: cost,
                ..CostByKind::default()
            },
        }
    }
}

/// Sums over a set of spans. Every money figure is an exact sum of the
/// stored picodollars.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Totals {
    /// Spans.
    pub spans: u64,
    /// Spans with error status.
    pub errors: u64,
    /// Tokens by kind.
    pub tokens: Tokens,
    /// The known cost (unpriced spans add nothing: their cost is unknown).
    #[serde(serialize_with = "usd")]
    pub cost: Usd,
    /// The known cost by kind.
    pub cost_by_kind: CostByKind,
    /// Model calls with a known cost.
    pub priced_spans: u64,
    /// Model calls priced only in part (some usage kind had no price).
    pub partial_spans: u64,
    /// Model calls with usage but no price: their cost is unknown, not zero.
    pub unpriced_spans: u64,
    /// The part of `cost` that rests on estimated (tokenizer) counts.
    #[serde(serialize_with = "usd")]
    pub estimated_cost: Usd,
    /// Spans whose token counts are estimated.
    pub estimated_spans: u64,
}

impl Totals {
    /// Adds one span's own figures.
    pub fn add_span(&mut self, span: &SpanRecord) {
        self.spans += 1;
        if span.status == Status::Error {
            self.errors += 1;
        }
        self.tokens.add(&Tokens::of(span));
        let estimated = span.usage.is_some_and(|u| u.estimated);
        if estimated {
            self.estimated_spans += 1;
        }
        if let Some(cost) = span.cost {
            self.cost += cost;
            self.cost_by_kind.add(&CostByKind::of(span));
            if estimated {
                self.estimated_cost += cost;
            }
        }
        match span.cost_status {
            Some(CostStatus::Priced) => self.priced_spans += 1,
            Some(CostStatus::Partial) => self.partial_spans += 1,
            Some(CostStatus::Unpriced) => self.unpriced_spans += 1,
            None => {}
        }
    }

    /// Adds another set's totals.
    pub fn merge(&mut self, other: &Totals) {
        self.spans += other.spans;
        self.errors += other.errors;
        self.tokens.add(&other.tokens);
        self.cost += other.cost;
        self.cost_by_kind.add(&other.cost_by_kind);
        self.priced_spans += other.priced_spans;
        self.partial_spans += other.partial_spans;
        self.unpriced_spans += other.unpriced_spans;
        self.estimated_cost += other.estimated_cost;
        self.estimated_spans += other.estimated_spans;
    }

    /// `priced` if every model call's cost is known, `unpriced` if none is,
    /// `partial` otherwise; `None` if there was no model call.
    pub fn cost_status(&self) -> Option<CostStatus> {
        let known = self.priced_spans + self.partial_spans;
        match (known > 0, self.unpriced_spans > 0) {
            (false, false) => None,
            (true, false) if self.partial_spans == 0 => Some(CostStatus::Priced),
            (false, true) => Some(CostStatus::Unpriced),
            _ => Some(CostStatus::Partial),
        }
    }
}

/// Money in JSON: an exact decimal string, never a binary float.
pub(crate) fn usd<S: serde::Serializer>(value: &Usd, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}
