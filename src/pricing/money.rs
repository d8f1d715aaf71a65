//! [`Usd`]: an exact amount of US dollars.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};
use std::str::FromStr;

/// Picodollars (1e-12 USD) per dollar.
const PICOS_PER_USD: i128 = 1_000_000_000_000;

/// An exact amount of US dollars, counted in picodollars (1e-12 USD).
///
/// Vendors publish prices per million tokens with up to six decimals, so a
/// per-token price is a whole number of picodollars and every cost is exact:
/// a request's total equals the sum of its spans to the last digit. `f64`
/// appears only at export ([`to_f64`](Self::to_f64)).
///
/// ```
/// use ragtrace::pricing::Usd;
///
/// // gpt-4o-mini input: 0.15 USD per 1M tokens.
/// let per_million: Usd = "0.15".parse().unwrap();
/// let cost = per_million.per_million_tokens(1_234);
/// assert_eq!(cost.to_string(), "0.0001851");
/// assert_eq!(cost + cost, Usd::from_picos(370_200_000));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Usd {
    picos: i128,
}

impl Usd {
    /// Zero dollars.
    pub const ZERO: Usd = Usd { picos: 0 };

    /// An amount of picodollars (1e-12 USD).
    pub const fn from_picos(picos: i128) -> Self {
        Usd { picos }
    }

    /// The amount in picodollars.
    pub const fn picos(self) -> i128 {
        self.picos
    }

    /// `true` for zero.
    pub const fn is_zero(self) -> bool {
        self.picos == 0
    }

    /// Reads `self` as a price per million tokens and returns the cost of
    /// `tokens` tokens, rounded to the nearest picodollar (half away from zero).
    pub const fn per_million_tokens(self, tokens: u64) -> Usd {
        // Fast path in 64 bits (no 128-bit division), taken whenever the
        // product fits: e.g. any price up to $10 per 1M for up to 1.8M tokens.
        if self.picos >= 0 && self.picos <= u64::MAX as i128 {
            let price = self.picos as u64;
            if let Some(product) = price.checked_mul(tokens)
                && let Some(rounded) = product.checked_add(500_000)
            {
                return Usd {
                    picos: (rounded / 1_000_000) as i128,
                };
            }
        }
        let numerator = self.picos.saturating_mul(tokens as i128);
        let half = 500_000;
        let rounded = if numerator >= 0 {
            numerator.saturating_add(half) / 1_000_000
        } else {
            numerator.saturating_sub(half) / 1_000_000
        };
        Usd { picos: rounded }
    }

    /// Multiplies by a whole number (saturating).
    pub const fn times(self, n: u64) -> Usd {
        Usd {
            picos: self.picos.saturating_mul(n as i128),
        }
    }

    /// The nearest `f64` number of dollars, for export only.
    pub fn to_f64(self) -> f64 {
        // Split so that amounts beyond 2^53 picos keep their precision as far as f64 can.
        let whole = (self.picos / PICOS_PER_USD) as f64;
        let frac = (self.picos % PICOS_PER_USD) as f64 / PICOS_PER_USD as f64;
        whole + frac
    }

    /// The amount in picodollars as `i64`, saturating (for storage and export).
    pub fn picos_i64(self) -> i64 {
        i64::try_from(self.picos).unwrap_or(if self.picos < 0 { i64::MIN } else { i64::MAX })
    }
}

impl Add for Usd {
    type Output = Usd;
    fn add(self, rhs: Usd) -> Usd {
        Usd {
            picos: self.picos.saturating_add(rhs.picos),
        }
    }
}

impl AddAssign for Usd {
    fn add_assign(&mut self, rhs: Usd) {
        *self = *self + rhs;
    }
}

impl Sub for Usd {
    type Output = Usd;
    fn sub(self, rhs: Usd) -> Usd {
        Usd {
            picos: self.picos.saturating_sub(rhs.picos),
        }
    }
}

impl Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(iter: I) -> Usd {
        iter.fold(Usd::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Usd> for Usd {
    fn sum<I: Iterator<Item = &'a Usd>>(iter: I) -> Usd {
        iter.copied().sum()
    }
}

/// Plain decimal dollars without trailing zeros: `2.5`, `0.0001851`, `0`.
impl fmt::Display for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.picos < 0 { "-" } else { "" };
        let abs = self.picos.unsigned_abs();
        let whole = abs / PICOS_PER_USD as u128;
        let frac = abs % PICOS_PER_USD as u128;
        let text = if frac == 0 {
            format!("{sign}{whole}")
        } else {
            let digits = format!("{frac:012}");
            format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
        };
        f.pad(&text)
    }
}

impl fmt::Debug for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Usd({self})")
    }
}

/// Why a decimal string is not an amount of dollars.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseUsdError {
    /// Not a plain decimal number.
    #[error("`{0}` is not a decimal number of dollars")]
    NotDecimal(String),
    /// More than twelve decimal places: finer than a picodollar.
    #[error("`{0}` has more than 12 decimal places")]
    TooPrecise(String),
    /// Too large to represent.
    #[error("`{0}` is too large")]
    TooLarge(String),
}

/// Parses a plain decimal (`2.50`, `-0.075`, `3`), exactly.
impl FromStr for Usd {
    type Err = ParseUsdError;

    fn from_str(s: &str) -> Result<Usd, ParseUsdError> {
        let text = s.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !all_digits(whole) || !all_digits(frac) {
            return Err(ParseUsdError::NotDecimal(s.to_owned()));
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 12 {
            return Err(ParseUsdError::TooPrecise(s.to_owned()));
        }
        let too_large = || ParseUsdError::TooLarge(s.to_owned());
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_large())?
        };
        let frac_picos: i128 = if frac.is_empty() {
            0
        } else {
            let scaled = format!("{frac:0<12}");
            scaled.parse().map_err(|_| too_large())?
        };
        let picos = whole
            .checked_mul(PICOS_PER_USD)
            .and_then(|w| w.checked_add(frac_picos))
            .ok_or_else(too_large)?;
        Ok(Usd {
            picos: if negative { -picos } else { picos },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        for text in ["0", "2.5", "0.075", "0.000000000001", "-1.25", "1234567.89"] {
            let usd: Usd = text.parse().unwrap();
            assert_eq!(usd.to_string(), text);
        }
        assert_eq!("2.50".parse::<Usd>().unwrap().to_string(), "2.5");
        assert_eq!(
            ".5".parse::<Usd>().unwrap(),
            Usd::from_picos(500_000_000_000)
        );
    }

    #[test]
    fn rejects_what_is_not_a_plain_decimal() {
        for bad in ["", ".", "1e3", "abc", "1.2.3", "--1", "0.0000000000001"] {
            assert!(bad.parse::<Usd>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn per_million_rounds_half_away_from_zero() {
        // 0.0000005 USD/1M (0.5 pico per token) * 1 token = 0.5 pico -> 1.
        assert_eq!(
            Usd::from_picos(500_000).per_million_tokens(1),
            Usd::from_picos(1)
        );
        assert_eq!(
            Usd::from_picos(-500_000).per_million_tokens(1),
            Usd::from_picos(-1)
        );
        // 2.50 USD/1M * 1M tokens = 2.50 USD.
        let price: Usd = "2.50".parse().unwrap();
        assert_eq!(price.per_million_tokens(1_000_000), price);
    }

    #[test]
    fn fast_and_wide_paths_agree() {
        // Reference: the 128-bit formula, for prices and counts on both sides
        // of the 64-bit boundary.
        let wide = |picos: i128, tokens: u64| -> i128 {
            let n = picos * tokens as i128;
            if n >= 0 {
                (n + 500_000) / 1_000_000
            } else {
                (n - 500_000) / 1_000_000
            }
        };
        let prices = [
            0,
            1,
            499_999,
            500_000,
            2_500_000_000_000,
            75_000_000_000,
            u64::MAX as i128,
            -3,
        ];
        let counts = [
            0,
            1,
            7,
            999_999,
            1_000_000,
            1_844_674,
            1_844_675,
            u32::MAX as u64,
            u64::MAX / 2,
        ];
        for picos in prices {
            for tokens in counts {
                if picos
                    .checked_mul(tokens as i128)
                    .is_some_and(|n| n < i128::MAX - 500_000)
                {
                    assert_eq!(
                        Usd::from_picos(picos).per_million_tokens(tokens).picos(),
                        wide(picos, tokens),
                        "{picos} x {tokens}"
                    );
                }
            }
        }
    }

    #[test]
    fn sums_are_exact_where_floats_are_not() {
        let tenth: Usd = "0.1".parse().unwrap();
        let sum: Usd = std::iter::repeat_n(tenth, 10).sum();
        assert_eq!(sum, "1".parse().unwrap());
        assert_eq!(sum.to_f64(), 1.0);
    }
}
