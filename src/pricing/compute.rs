//! The arithmetic: [`Rates`] times [`Usage`], each token charged once.

use super::model::Rates;
use super::{Cost, CostStatus, Usd};
use crate::steps::Usage;

/// The cost of `usage` at `rates`, exact to the picodollar per part.
///
/// Usage counts are inclusive ([`Usage`]'s convention), so each token is
/// charged in exactly one part: uncached input at `input`, cache reads at
/// `cached_input`, five-minute and one-hour writes at their own prices,
/// visible output at `output`, reasoning at `reasoning` (or `output`), plus
/// `per_request` once per call.
///
/// A part with tokens but no price is left at zero and makes the cost
/// [`Partial`](CostStatus::Partial) (never guessed from another price: a
/// cache read charged at the input price is exactly the error this avoids);
/// if nothing with tokens had a price, the cost is
/// [`Unpriced`](CostStatus::Unpriced). Provenance is the caller's to add.
pub(crate) fn cost(rates: &Rates, usage: &Usage) -> Cost {
    let mut priced = false;
    let mut missing = false;
    let mut charge = |price: Option<Usd>, tokens: u64| -> Usd {
        if tokens == 0 {
            return Usd::ZERO;
        }
        match price {
            Some(price) => {
                priced = true;
                price.per_million_tokens(tokens)
            }
            None => {
                missing = true;
                Usd::ZERO
            }
        }
    };
    let input = charge(rates.input, usage.uncached_input_tokens());
    let cached_input = charge(rates.cached_input, usage.cache_read_input_tokens);
    let cache_write = charge(rates.cache_write, usage.cache_write_5m_input_tokens())
        + charge(rates.cache_write_1h, usage.cache_write_1h_input_tokens);
    let output = charge(rates.output, usage.visible_output_tokens());
    let reasoning = charge(rates.reasoning_or_output(), usage.reasoning_output_tokens);
    let per_request = match rates.per_request {
        Some(price) => {
            priced = true;
            price
        }
        None => Usd::ZERO,
    };
    let status = match (priced, missing) {
        (_, false) => CostStatus::Priced,
        (true, true) => CostStatus::Partial,
        (false, true) => CostStatus::Unpriced,
    };
    Cost::from_parts(input, cached_input, cache_write, output, reasoning)
        .with_per_request(per_request)
        .with_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Usd {
        s.parse().unwrap()
    }

    #[test]
    fn charges_every_token_once() {
        // 1,000 input of which 600 cache reads, 100 5m writes, 50 1h writes:
        // 250 uncached. 400 output of which 300 reasoning: 100 visible.
        let usage = Usage::new(1_000, 400)
            .with_cache_read(600)
            .with_cache_write(100)
            .with_cache_write_1h(50)
            .with_reasoning(300);
        let rates = Rates::new()
            .input(usd("1"))
            .cached_input(usd("0.1"))
            .cache_write(usd("1.25"))
            .cache_write_1h(usd("2"))
            .output(usd("5"));
        let cost = cost(&rates, &usage);
        assert_eq!(cost.status, CostStatus::Priced);
        assert_eq!(cost.input, usd("0.00025")); // 250 x 1 / 1M
        assert_eq!(cost.cached_input, usd("0.00006")); // 600 x 0.1 / 1M
        assert_eq!(cost.cache_write, usd("0.000225")); // 100 x 1.25 + 50 x 2, / 1M
        assert_eq!(cost.output, usd("0.0005")); // 100 x 5 / 1M
        assert_eq!(cost.reasoning, usd("0.0015")); // 300 x 5 / 1M
        assert_eq!(cost.total, usd("0.002535"));
    }

    #[test]
    fn a_used_kind_without_a_price_is_partial_never_guessed() {
        let rates = Rates::new().input(usd("1")).output(usd("2"));
        let cost = cost(&rates, &Usage::new(1_000, 0).with_cache_read(1_000));
        assert_eq!(cost.status, CostStatus::Unpriced);
        assert_eq!(cost.total, Usd::ZERO);
        let cost = super::cost(&rates, &Usage::new(2_000, 10).with_cache_read(1_000));
        assert_eq!(cost.status, CostStatus::Partial);
        assert_eq!(cost.total, usd("0.00102"));
    }

    #[test]
    fn zero_usage_is_priced_at_zero_and_per_request_is_charged_once() {
        let rates = Rates::new().per_request(usd("0.002"));
        let cost = cost(&rates, &Usage::default());
        assert_eq!(
            (cost.status, cost.total),
            (CostStatus::Priced, usd("0.002"))
        );
    }
}
