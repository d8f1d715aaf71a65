//! Pure statistics for drift: quantiles, the population stability index,
//! the two-sample Kolmogorov–Smirnov test and the Jensen–Shannon
//! divergence, plus the chi-square tail the significance gates use.
//!
//! Every function is deterministic and allocation-light; `tests/fixtures/
//! drift_reference.json` (written by `scripts/drift_reference.py` with
//! numpy and scipy) pins the numbers.
//!
//! - [`quantile`]: linear interpolation between the closest ranks, numpy's
//!   default (`method="linear"`, Hyndman–Fan type 7).
//! - [`psi`]: `Σ (w - b) ln(w / b)` over fixed bins, fractions of empty bins
//!   replaced by [`PSI_EPSILON`]. Bins come from [`decile_edges`] of the
//!   baseline and [`bin_counts`] (a value equal to an edge falls in the bin
//!   that edge opens, numpy's `searchsorted(side="right")`).
//! - [`ks_2samp`]: the statistic `D` and the two-sided p-value of scipy's
//!   `stats.ks_2samp(method="auto")`: the exact distribution of `D` under
//!   the null when both samples have at most 10 000 values (and the exact
//!   walk stays under [`KS_EXACT_MAX_POINTS`]), else the
//!   one-sample Kolmogorov distribution of `D` at `n = round(n₁n₂/(n₁+n₂))`
//!   as Simard and L'Ecuyer (2011) compute it.
//! - [`js_divergence`]: base 2, so in `[0, 1]`.
//! - [`chi2_homogeneity`]: Pearson's chi-square test of two count vectors,
//!   and [`chi2_sf`], the upper tail of the chi-square distribution.

use std::cmp::Ordering;

/// The fraction an empty PSI bin counts as, so that `ln(w / b)` is finite.
pub const PSI_EPSILON: f64 = 1e-4;

/// Largest sample for which [`ks_2samp`] computes the exact p-value
/// (scipy's `MAX_AUTO_N`).
pub const KS_EXACT_MAX_N: usize = 10_000;

/// Most lattice points the exact KS p-value may visit (about `2 D n₁ n₂`);
/// past it [`ks_2samp`] uses the asymptotic p-value even for samples under
/// [`KS_EXACT_MAX_N`]. Only samples of thousands that differ widely get
/// there (10 000 against 10 000 at `D ≥ 0.25`), where both p-values are
/// under 1e-100.
pub const KS_EXACT_MAX_POINTS: u64 = 50_000_000;

/// The `q`-quantile (`0 ≤ q ≤ 1`) of `sorted` (ascending, no NaN) by
/// linear interpolation between the closest ranks, as numpy's default:
/// at `h = (n - 1) q`, `x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋ + 1] - x[⌊h⌋])`.
/// `None` for an empty sample.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * q.clamp(0.0, 1.0);
    let below = h.floor();
    let i = below as usize;
    if i >= last {
        return Some(sorted[last]);
    }
    let (lo, hi) = (sorted[i], sorted[i + 1]);
    Some(lo + (h - below) * (hi - lo))
}

/// Sorts finite values ascending (NaN and infinities are dropped).
pub fn sorted_finite(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut out: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    out.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    out
}

/// The interior bin edges at the baseline's deciles (`q = 0.1, ..., 0.9`),
/// repeated edges merged: at most 9 edges, so at most 10 bins, the first
/// and last open-ended. Empty for an empty baseline.
pub fn decile_edges(sorted_baseline: &[f64]) -> Vec<f64> {
    let mut edges: Vec<f64> = Vec::with_capacity(9);
    for tenth in 1..10 {
        if let Some(edge) = quantile(sorted_baseline, f64::from(tenth) / 10.0)
            && edges.last().is_none_or(|last| *last < edge)
        {
            edges.push(edge);
        }
    }
    edges
}

/// Counts `values` into the `edges.len() + 1` bins the ascending `edges`
/// make: bin `i` holds the values with exactly `i` edges at or below them.
pub fn bin_counts(values: &[f64], edges: &[f64]) -> Vec<u64> {
    let mut counts = vec![0_u64; edges.len() + 1];
    for value in values.iter().filter(|v| !v.is_nan()) {
        let bin = edges.partition_point(|edge| edge <= value);
        counts[bin] += 1;
    }
    counts
}

/// The population stability index of `actual` against `expected` bin
/// counts (same bins), with each bin's share of it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Psi {
    /// `Σ contributions`, never negative.
    pub value: f64,
    /// Per bin: `(w - b) ln(w / b)`, each ≥ 0.
    pub contributions: Vec<f64>,
    /// Per bin: the expected (baseline) fraction, empty bins as
    /// [`PSI_EPSILON`].
    pub expected: Vec<f64>,
    /// Per bin: the actual (window) fraction, empty bins as
    /// [`PSI_EPSILON`].
    pub actual: Vec<f64>,
}

/// PSI of `actual` against `expected` counts over the same bins. `None`
/// when either side is empty or the bins differ in number.
pub fn psi(expected: &[u64], actual: &[u64]) -> Option<Psi> {
    if expected.len() != actual.len() || expected.is_empty() {
        return None;
    }
    let fractions = |counts: &[u64]| -> Option<Vec<f64>> {
        let total: u64 = counts.iter().sum();
        (total > 0).then(|| {
            counts
                .iter()
                .map(|&c| {
                    if c == 0 {
                        PSI_EPSILON
                    } else {
                        c as f64 / total as f64
                    }
                })
                .collect()
        })
    };
    let expected = fractions(expected)?;
    let actual = fractions(actual)?;
    let contributions: Vec<f64> = expected
        .iter()
        .zip(&actual)
        .map(|(&b, &w)| ((w - b) * (w / b).ln()).max(0.0))
        .collect();
    Some(Psi {
        value: contributions.iter().sum(),
        contributions,
        expected,
        actual,
    })
}

/// How [`ks_2samp`] computed its p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KsMethod {
    /// The exact null distribution of `D` for these sample sizes.
    Exact,
    /// The one-sample Kolmogorov distribution at the effective size.
    Asymptotic,
}

/// The two-sample Kolmogorov–Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct KsTest {
    /// The largest gap between the two empirical CDFs, in `[0, 1]`.
    pub d: f64,
    /// Two-sided p-value of `D` under "same distribution".
    pub p_value: f64,
    /// How the p-value was computed.
    pub method: KsMethod,
}

/// The two-sample KS test of two ascending samples without NaN, as scipy's
/// `ks_2samp(a, b)` (two-sided, `method="auto"`). `None` if either is
/// empty.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Option<KsTest> {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let gap = max_cdf_gap(a, b);
    let d = gap as f64 / (n1 as f64 * n2 as f64);
    let g = gcd(n1 as u64, n2 as u64);
    let (n1g, n2g) = (n1 as u64 / g, n2 as u64 / g);
    // The exact walk visits about 2·gap lattice points; past
    // KS_EXACT_MAX_POINTS (large samples far apart, where scipy's exact and
    // asymptotic p-values are both vanishingly small) it is not worth it.
    let exact = n1.max(n2) <= KS_EXACT_MAX_N
        && (n1g as f64) < f64::from(i32::MAX) / n2g as f64
        && gap.saturating_mul(2) <= KS_EXACT_MAX_POINTS;
    if exact {
        return Some(KsTest {
            d,
            p_value: exact_outside_probability(n1 as u64, n2 as u64, gap).clamp(0.0, 1.0),
            method: KsMethod::Exact,
        });
    }
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let effective = (m * n / (m + n)).round_ties_even().max(1.0) as u64;
    Some(KsTest {
        d,
        p_value: kolmogorov_sf(effective, d),
        method: KsMethod::Asymptotic,
    })
}

/// `max |c₁(x) n₂ - c₂(x) n₁|` over `x`, where `cᵢ(x)` counts the values of
/// sample `i` at or below `x`: `D · n₁ n₂`, exactly.
fn max_cdf_gap(a: &[f64], b: &[f64]) -> u64 {
    let (n1, n2) = (a.len() as i128, b.len() as i128);
    let (mut i, mut j) = (0_usize, 0_usize);
    let mut widest = 0_i128;
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while a.get(i).is_some_and(|&v| v <= x) {
            i += 1;
        }
        while b.get(j).is_some_and(|&v| v <= x) {
            j += 1;
        }
        widest = widest.max((i as i128 * n2 - j as i128 * n1).abs());
    }
    widest as u64
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `P(D ≥ gap / (n₁ n₂))` when both samples come from one continuous
/// distribution: the share of the `C(n₁+n₂, n₁)` equally likely
/// interleavings whose lattice path from `(0, 0)` to `(n₁, n₂)` reaches
/// `|i n₂ - j n₁| ≥ gap`.
///
/// Walks the band of points strictly inside, carrying the probability of
/// reaching each point without having left; the mass that steps out is
/// summed as it leaves, so the result has no cancellation even when it is
/// tiny. Time is proportional to the points in the band, about
/// `2 D n₁ n₂`; memory to `n₂`.
fn exact_outside_probability(n1: u64, n2: u64, gap: u64) -> f64 {
    if gap == 0 {
        return 1.0;
    }
    let (n1i, n2i, gapi) = (n1 as i128, n2 as i128, gap as i128);
    let inside = |i: i128, j: i128| (i * n2i - j * n1i).abs() < gapi;
    // Row i's inside columns: (i n₂ - gap) / n₁ < j < (i n₂ + gap) / n₁.
    let band = |i: i128| -> (usize, usize) {
        let lo = (i * n2i - gapi).div_euclid(n1i) + 1;
        let hi = (i * n2i + gapi - 1).div_euclid(n1i);
        (lo.max(0) as usize, hi.min(n2i) as usize)
    };
    let total = (n1 + n2) as f64;
    let mut current = vec![0.0_f64; n2 as usize + 2];
    let mut next = vec![0.0_f64; n2 as usize + 2];
    current[0] = 1.0;
    let mut outside = 0.0_f64;
    for i in 0..=n1i {
        let (lo, hi) = band(i);
        if lo > hi {
            std::mem::swap(&mut current, &mut next);
            continue;
        }
        let down_left = (n1i - i) as f64;
        for j in lo..=hi {
            let p = current[j];
            if p == 0.0 {
                continue;
            }
            let left = total - i as f64 - j as f64;
            if left <= 0.0 {
                continue; // the end point
            }
            if (j as i128) < n2i {
                let step = p * (n2i - j as i128) as f64 / left;
                if inside(i, j as i128 + 1) {
                    current[j + 1] += step;
                } else {
                    outside += step;
                }
            }
            if i < n1i {
                let step = p * down_left / left;
                if inside(i + 1, j as i128) {
                    next[j] += step;
                } else {
                    outside += step;
                }
            }
        }
        for slot in &mut current[lo..=(hi + 1).min(n2 as usize + 1)] {
            *slot = 0.0;
        }
        std::mem::swap(&mut current, &mut next);
    }
    outside
}

/// `P(Dₙ ≥ x)` for the one-sample two-sided Kolmogorov–Smirnov statistic
/// of `n` values (scipy's `kstwo.sf`), choosing among exact and
/// asymptotic methods by `n` and `n x²` as Simard and L'Ecuyer (2011).
pub fn kolmogorov_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    let sf = if t <= 1.0 {
        // Ruben and Gambino: P(Dₙ < x) = n!/nⁿ (2t - 1)ⁿ for t ≤ 1.
        if t <= 0.5 {
            1.0
        } else {
            1.0 - factorial_over_power(n, 2.0 * t - 1.0)
        }
    } else if t >= nf - 1.0 {
        2.0 * (1.0 - x).powf(nf)
    } else if x >= 0.5 {
        2.0 * smirnov_sf(n, x)
    } else {
        let nx2 = t * x;
        if n <= 140 {
            if nx2 <= 4.0 {
                1.0 - durbin_cdf(n, x)
            } else {
                2.0 * smirnov_sf(n, x)
            }
        } else if nx2 >= 370.0 {
            0.0
        } else if nx2 >= 2.2 {
            2.0 * smirnov_sf(n, x)
        } else if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
            1.0 - durbin_cdf(n, x)
        } else {
            1.0 - pelz_good_cdf(n, x)
        }
    };
    sf.clamp(0.0, 1.0)
}

/// `n!/nⁿ · baseⁿ`, in logarithms past small `n`.
fn factorial_over_power(n: u64, base: f64) -> f64 {
    let nf = n as f64;
    if n <= 140 {
        (1..=n).fold(1.0, |acc, i| acc * i as f64 / nf * base)
    } else {
        let log: f64 = (1..=n).map(|i| (i as f64 / nf).ln()).sum::<f64>() + nf * base.ln();
        log.exp()
    }
}

/// `P(Dₙ⁺ ≥ x)`, the one-sided statistic, by the Birnbaum–Tingey sum
/// `x Σⱼ C(n, j) (1 - x - j/n)ⁿ⁻ʲ (x + j/n)ʲ⁻¹`, `j ≤ n(1 - x)`; every term
/// is positive and is summed from its logarithm. Past a million values
/// the sum is replaced by `exp(-(6nx + 1)² / 18n)`.
fn smirnov_sf(n: u64, x: f64) -> f64 {
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    if n > 1_000_000 {
        return (-(6.0 * nf * x + 1.0).powi(2) / 18.0 / nf).exp();
    }
    let last = (nf * (1.0 - x)).floor() as u64;
    let mut log_choose = 0.0_f64;
    let mut sum = 0.0_f64;
    for j in 0..=last.min(n) {
        if j > 0 {
            log_choose += ((n - j + 1) as f64 / j as f64).ln();
        }
        let jf = j as f64;
        let rest = 1.0 - x - jf / nf;
        if rest <= 0.0 {
            continue;
        }
        let log_term = log_choose + (nf - jf) * rest.ln() + (jf - 1.0) * (x + jf / nf).ln();
        sum += log_term.exp();
    }
    (x * sum).clamp(0.0, 1.0)
}

/// `P(Dₙ < d)` exactly, by Durbin's matrix as Marsaglia, Tsang and Wang
/// (2003) evaluate it: with `d = (k - h)/n`, the `(k, k)` entry of `Hⁿ`
/// times `n!/nⁿ`, for the `(2k - 1)`-square matrix `H`. Powers are rescaled
/// by `2¹²⁸` with the exponent kept apart.
fn durbin_cdf(n: u64, d: f64) -> f64 {
    let nd = n as f64 * d;
    if d >= 1.0 {
        return 1.0;
    }
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    // inverse factorials 1/0!, 1/1!, ..., 1/m!
    let mut inv_fact = vec![1.0_f64; m + 1];
    for i in 1..=m {
        inv_fact[i] = inv_fact[i - 1] / i as f64;
    }
    let mut matrix = vec![0.0_f64; m * m];
    for i in 0..m {
        for j in 0..m {
            if i + 1 >= j {
                matrix[i * m + j] = inv_fact[i + 1 - j];
            }
        }
    }
    for i in 0..m {
        // first column and last row
        matrix[i * m] -= h.powi(i as i32 + 1) * inv_fact[i + 1];
        matrix[(m - 1) * m + i] -= h.powi((m - i) as i32) * inv_fact[m - i];
    }
    if 2.0 * h - 1.0 > 0.0 {
        matrix[(m - 1) * m] += (2.0 * h - 1.0).powi(m as i32) * inv_fact[m];
    }

    const SCALE_EXP: i32 = 128;
    let big = 2f64.powi(SCALE_EXP);
    let multiply = |a: &[f64], b: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0_f64; m * m];
        for i in 0..m {
            for l in 0..m {
                let a_il = a[i * m + l];
                if a_il == 0.0 {
                    continue;
                }
                for j in 0..m {
                    out[i * m + j] += a_il * b[l * m + j];
                }
            }
        }
        out
    };
    let mut power = matrix;
    let mut power_exp = 0_i64;
    let mut result: Option<(Vec<f64>, i64)> = None;
    let mut rest = n;
    while rest > 0 {
        if rest & 1 == 1 {
            result = Some(match result {
                None => (power.clone(), power_exp),
                Some((r, e)) => (multiply(&r, &power), e + power_exp),
            });
            if let Some((r, e)) = &mut result
                && r[(k - 1) * m + (k - 1)].abs() > big
            {
                r.iter_mut().for_each(|v| *v /= big);
                *e += i64::from(SCALE_EXP);
            }
        }
        rest >>= 1;
        if rest > 0 {
            power = multiply(&power, &power);
            power_exp *= 2;
            if power[(k - 1) * m + (k - 1)].abs() > big {
                power.iter_mut().for_each(|v| *v /= big);
                power_exp += i64::from(SCALE_EXP);
            }
        }
    }
    let Some((result, mut exponent)) = result else {
        return 0.0;
    };
    let mut p = result[(k - 1) * m + (k - 1)];
    let small = 1.0 / big;
    let nf = n as f64;
    for i in 1..=n {
        p = p * i as f64 / nf;
        if p.abs() < small {
            p *= big;
            exponent -= i64::from(SCALE_EXP);
        }
    }
    let exponent = exponent.clamp(-2000, 2000) as i32;
    // p · 2^exponent without overflowing the intermediate power.
    let mut scaled = p;
    let mut left = exponent;
    while left != 0 {
        let step = left.clamp(-1000, 1000);
        scaled *= 2f64.powi(step);
        left -= step;
    }
    scaled.clamp(0.0, 1.0)
}

/// The Pelz–Good (1976) expansion of `P(Dₙ ≤ x)` in powers of `1/√n`
/// (terms to `n^{-3/2}`), with `z = x√n`; suited to small `z`.
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    use std::f64::consts::PI;
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let z2 = z * z;
    if -PI * PI / 8.0 / z2 < -708.0 {
        return 0.0;
    }
    let sqrt_2pi = (2.0 * PI).sqrt();
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let (z4, z6, z8) = (z2 * z2, z2 * z2 * z2, z2 * z2 * z2 * z2);
    let terms = (16.0 * z / PI).ceil().max(1.0) as u64;
    let mut k0 = 0.0;
    let mut k1 = 0.0;
    let mut k2 = 0.0;
    let mut k3 = 0.0;
    // Odd-index sums: u = 2k - 1, weight exp(-π²u²/(8z²)); largest first.
    for k in (1..=terms).rev() {
        let u = (2 * k - 1) as f64;
        let (u2, u4, u6) = (u * u, u.powi(4), u.powi(6));
        let w = (-pi2 * u2 / (8.0 * z2)).exp();
        k0 += w;
        k1 += (pi2 * u2 / 4.0 - z2) * w;
        k2 += (6.0 * z6
            + 2.0 * z4
            + pi2 * (2.0 * z4 - 5.0 * z2) * u2 / 4.0
            + pi4 * (1.0 - 2.0 * z2) * u4 / 16.0)
            * w;
        k3 += (-30.0 * z6 - 90.0 * z8
            + pi2 * (135.0 * z4 - 96.0 * z6) * u2 / 4.0
            + pi4 * (212.0 * z4 - 60.0 * z2) * u4 / 16.0
            + pi6 * (5.0 - 30.0 * z2) * u6 / 64.0)
            * w;
    }
    k0 *= sqrt_2pi / z;
    k1 *= sqrt_2pi / (6.0 * z4);
    k2 *= sqrt_2pi / (72.0 * z6 * z);
    k3 *= sqrt_2pi / (6480.0 * z8 * z2);
    // Integer-index sums: weight exp(-π²k²/(2z²)).
    let mut extra2 = 0.0;
    let mut extra3 = 0.0;
    for k in (1..=terms).rev() {
        let kf = k as f64;
        let w = (-pi2 * kf * kf / (2.0 * z2)).exp();
        extra2 += kf * kf * w;
        extra3 += (3.0 * z2 - pi2 * kf * kf) * kf * kf * w;
    }
    k2 -= extra2 * pi2 * sqrt_2pi / (36.0 * z2 * z);
    k3 += extra3 * pi2 * sqrt_2pi / (216.0 * z6);
    k0 + k1 / nf.sqrt() + k2 / nf + k3 / (nf * nf.sqrt())
}

/// The Jensen–Shannon divergence, base 2, of two frequency vectors over
/// the same categories (normalized here), in `[0, 1]`. `None` if either is
/// all zero or they differ in length.
pub fn js_divergence(p: &[f64], q: &[f64]) -> Option<f64> {
    if p.len() != q.len() {
        return None;
    }
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    if !(sp > 0.0 && sq > 0.0) {
        return None;
    }
    let mut total = 0.0;
    for (&a, &b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        if a > 0.0 {
            total += a * (a / m).log2();
        }
        if b > 0.0 {
            total += b * (b / m).log2();
        }
    }
    Some((total / 2.0).clamp(0.0, 1.0))
}

/// The JS divergence of two count vectors, corrected for the divergence
/// that sampling alone gives sparse counts.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct JsExcess {
    /// JS (bits) of the observed frequencies.
    pub raw: f64,
    /// Its expected value if both samples came from one distribution.
    pub null_mean: f64,
    /// Its standard deviation then (times `√cluster`).
    pub null_sd: f64,
    /// `max(0, raw - null_mean)`: the divergence sampling does not explain.
    pub excess: f64,
    /// `P(X ≥ raw)` for `X` the scaled chi-square `a·χ²(ν)` with mean
    /// `null_mean` and standard deviation `null_sd` (Satterthwaite).
    pub p_value: f64,
}

/// [`js_divergence`] of counts `a` and `b` with its null moments: given
/// each category's total `c = a + b`, under "one distribution" its count
/// in `a` is about `Binomial(c, A / (A + B))`, independently across
/// categories, so the mean and variance of JS are sums over categories of
/// exact binomial expectations (time proportional to `A + B`). With many
/// categories seen a few times each, identical mixes have a raw JS far
/// from 0 (300 documents and 1 000 hits a side: about 0.1 bits); the
/// excess over the null mean is what changed.
///
/// `cluster` (at least 1) multiplies the null variance for hits that come
/// in groups: when each sampled unit (a retrieval) brings several
/// categories (its documents) that tend to come together, counts move
/// together and the independent-hit variance is too small; with `k` hits a
/// unit, `cluster = k` is the worst case (a unit's hits always together).
/// The null mean needs no such factor: each count's distribution is the
/// same either way.
pub fn js_excess(a: &[u64], b: &[u64], cluster: f64) -> Option<JsExcess> {
    if a.len() != b.len() {
        return None;
    }
    let (total_a, total_b) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    if total_a <= 0.0 || total_b <= 0.0 {
        return None;
    }
    // One category's share of JS (bits) when `k` of its `c` hits are in a.
    let term = |k: f64, c: f64| -> f64 {
        let (p, q) = (k / total_a, (c - k) / total_b);
        let m = (p + q) / 2.0;
        let mut t = 0.0;
        if p > 0.0 {
            t += p * (p / m).log2();
        }
        if q > 0.0 {
            t += q * (q / m).log2();
        }
        t / 2.0
    };
    let share = total_a / (total_a + total_b);
    let (ln_s, ln_rest) = (share.ln(), (1.0 - share).ln());
    let (mut raw, mut mean, mut variance) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let c = x + y;
        if c == 0 {
            continue;
        }
        let cf = c as f64;
        raw += term(x as f64, cf);
        let (mut m1, mut m2) = (0.0, 0.0);
        let mut ln_choose = 0.0_f64;
        for k in 0..=c {
            if k > 0 {
                ln_choose += ((c - k + 1) as f64 / k as f64).ln();
            }
            let kf = k as f64;
            let weight = (ln_choose + kf * ln_s + (cf - kf) * ln_rest).exp();
            if weight == 0.0 {
                continue;
            }
            let t = term(kf, cf);
            m1 += weight * t;
            m2 += weight * t * t;
        }
        mean += m1;
        variance += (m2 - m1 * m1).max(0.0);
    }
    let raw = raw.clamp(0.0, 1.0);
    let sd = (variance * cluster.max(1.0)).sqrt();
    // Satterthwaite: JS under the null is close to a scaled chi-square
    // (a sum of squares), a·χ²(ν) with the same mean and variance; its
    // right skew matters when few categories carry the mass.
    let p_value = if sd > 0.0 && mean > 0.0 {
        let scale = sd * sd / (2.0 * mean);
        let df = 2.0 * mean * mean / (sd * sd);
        chi2_sf(raw / scale, df)
    } else if raw > mean {
        0.0
    } else {
        1.0
    };
    Some(JsExcess {
        raw,
        null_mean: mean,
        null_sd: sd,
        excess: (raw - mean).max(0.0),
        p_value,
    })
}

/// Pearson's chi-square test that two samples of counts over the same
/// categories come from one distribution (a 2 × k contingency table, no
/// continuity correction: scipy's `chi2_contingency(correction=False)`).
/// Categories empty in both are left out.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ChiSquare {
    /// The statistic.
    pub statistic: f64,
    /// Degrees of freedom: the categories used, less one.
    pub df: f64,
    /// `P(χ²(df) ≥ statistic)`.
    pub p_value: f64,
}

/// The chi-square homogeneity test of counts `a` against counts `b`.
/// `None` if either sample is empty, fewer than two categories have
/// counts, or the lengths differ.
pub fn chi2_homogeneity(a: &[f64], b: &[f64]) -> Option<ChiSquare> {
    if a.len() != b.len() {
        return None;
    }
    let (total_a, total_b): (f64, f64) = (a.iter().sum(), b.iter().sum());
    if !(total_a > 0.0 && total_b > 0.0) {
        return None;
    }
    let total = total_a + total_b;
    let mut statistic = 0.0;
    let mut used = 0_u32;
    for (&x, &y) in a.iter().zip(b) {
        let both = x + y;
        if both <= 0.0 {
            continue;
        }
        used += 1;
        let (ex, ey) = (both * total_a / total, both * total_b / total);
        statistic += (x - ex).powi(2) / ex + (y - ey).powi(2) / ey;
    }
    if used < 2 {
        return None;
    }
    let df = f64::from(used - 1);
    Some(ChiSquare {
        statistic,
        df,
        p_value: chi2_sf(statistic, df),
    })
}

/// `P(X ≥ x)` for `X` chi-square with `df` degrees of freedom: the
/// regularized upper incomplete gamma `Q(df/2, x/2)`.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    upper_gamma_regularized(df / 2.0, x / 2.0)
}

/// `Q(a, x)`: by the series of `P` below `x < a + 1`, else by Lentz's
/// continued fraction (Numerical Recipes §6.2).
fn upper_gamma_regularized(a: f64, x: f64) -> f64 {
    let log_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut ap = a;
        for _ in 0..100_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        (1.0 - sum * log_prefix.exp()).clamp(0.0, 1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..100_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (log_prefix.exp() * h).clamp(0.0, 1.0)
    }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine terms; relative error
/// about 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1e-300) || (a - b).abs() <= 1e-300
    }

    #[test]
    fn quantiles_interpolate_linearly() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&x, 0.0), Some(1.0));
        assert_eq!(quantile(&x, 1.0), Some(4.0));
        assert_eq!(quantile(&x, 0.5), Some(2.5));
        assert!((quantile(&x, 0.1).unwrap() - 1.3).abs() < 1e-12);
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn decile_bins_merge_ties_and_count_edges_right() {
        assert_eq!(decile_edges(&[0.5; 20]), vec![0.5]);
        let edges = [1.0, 2.0];
        assert_eq!(
            bin_counts(&[0.0, 1.0, 1.5, 2.0, 9.0], &edges),
            vec![1, 2, 2]
        );
    }

    #[test]
    fn psi_of_identical_bins_is_zero_and_empty_bins_use_epsilon() {
        let same = psi(&[10, 20, 30], &[1, 2, 3]).unwrap();
        assert!(same.value.abs() < 1e-12);
        let moved = psi(&[10, 10, 0], &[0, 10, 10]).unwrap();
        assert_eq!(moved.expected[2], PSI_EPSILON);
        assert_eq!(moved.actual[0], PSI_EPSILON);
        let worst = moved.contributions[0].max(moved.contributions[2]);
        assert!(worst > 1.0 && moved.value > 2.0 * 1.0);
        assert_eq!(psi(&[1, 2], &[1, 2, 3]), None);
        assert_eq!(psi(&[0, 0], &[1, 2]), None);
    }

    #[test]
    fn ks_small_samples_match_hand_counts() {
        // a = {1, 2}, b = {3, 4}: D = 1; of the C(4, 2) = 6 interleavings
        // only aabb and bbaa reach D = 1: p = 2/6.
        let t = ks_2samp(&[1.0, 2.0], &[3.0, 4.0]).unwrap();
        assert_eq!(t.d, 1.0);
        assert!(close(t.p_value, 1.0 / 3.0, 1e-12), "{}", t.p_value);
        assert_eq!(t.method, KsMethod::Exact);
        // Identical samples: D = 0, p = 1.
        let same = ks_2samp(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((same.d, same.p_value), (0.0, 1.0));
        assert_eq!(ks_2samp(&[], &[1.0]), None);
    }

    #[test]
    fn kolmogorov_tail_has_its_limits() {
        assert_eq!(kolmogorov_sf(10, 0.0), 1.0);
        assert_eq!(kolmogorov_sf(10, 1.0), 0.0);
        // n = 1: D₁ = max(U, 1 - U) ≥ x with probability 2(1 - x) on [½, 1].
        assert!(close(kolmogorov_sf(1, 0.75), 0.5, 1e-12));
        // Monotone in x across the method boundaries.
        for n in [5_u64, 50, 140, 141, 1000, 5000, 200_000] {
            let mut last = 1.0;
            for i in 1..200 {
                let p = kolmogorov_sf(n, i as f64 / 200.0);
                assert!(
                    p <= last + 1e-6,
                    "n={n} x={} {p} > {last}",
                    i as f64 / 200.0
                );
                last = p;
            }
        }
    }

    #[test]
    fn chi_square_tail() {
        // df = 2: P(X ≥ x) = e^{-x/2}.
        for x in [0.1, 1.0, 5.0, 30.0] {
            assert!(close(chi2_sf(x, 2.0), (-x / 2.0).exp(), 1e-12));
        }
        assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-13));
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-13
        ));
    }

    #[test]
    fn js_null_moments_match_sampling() {
        // 300 categories with Zipf-like weights; samples of 1 000 and
        // 7 000 hits from the same distribution, 400 times: the mean raw JS
        // is the computed null mean, and its spread the null sd.
        let weights: Vec<f64> = (0..300).map(|i| 1.0 / f64::from(i + 1).powf(0.8)).collect();
        let total: f64 = weights.iter().sum();
        let mut state = 42_u64;
        let mut uniform = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1_u64 << 53) as f64
        };
        let mut draw = |n: usize| {
            let mut counts = vec![0_u64; 300];
            for _ in 0..n {
                let mut pick = uniform() * total;
                let mut i = 0;
                while i < 299 && pick > weights[i] {
                    pick -= weights[i];
                    i += 1;
                }
                counts[i] += 1;
            }
            counts
        };
        let (mut raws, mut means, mut sds) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..400 {
            let (a, b) = (draw(1_000), draw(7_000));
            let j = js_excess(&a, &b, 1.0).unwrap();
            raws.push(j.raw);
            means.push(j.null_mean);
            sds.push(j.null_sd);
        }
        let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let raw_mean = avg(&raws);
        let raw_sd = (raws.iter().map(|r| (r - raw_mean).powi(2)).sum::<f64>() / 399.0).sqrt();
        assert!(
            (avg(&means) / raw_mean - 1.0).abs() < 0.05,
            "{} vs {raw_mean}",
            avg(&means)
        );
        assert!(
            (avg(&sds) / raw_sd - 1.0).abs() < 0.25,
            "{} vs {raw_sd}",
            avg(&sds)
        );
        // Disjoint samples: all of it is excess.
        let j = js_excess(&[50, 50, 0, 0], &[0, 0, 50, 50], 1.0).unwrap();
        // Grouped hits widen the null spread, not its mean.
        let grouped = js_excess(&[40, 10, 5], &[10, 40, 5], 5.0).unwrap();
        let single = js_excess(&[40, 10, 5], &[10, 40, 5], 1.0).unwrap();
        assert!(
            single.raw > single.null_mean + 3.0 * single.null_sd,
            "{single:?}"
        );
        assert_eq!(grouped.null_mean, single.null_mean);
        assert!((grouped.null_sd / single.null_sd - 5f64.sqrt()).abs() < 1e-12);
        assert!(grouped.p_value > single.p_value);
        assert_eq!(j.raw, 1.0);
        assert!(j.excess > 0.9 && j.p_value < 1e-10, "{j:?}");
    }

    #[test]
    fn js_bounds() {
        assert_eq!(js_divergence(&[1.0, 0.0], &[0.0, 1.0]), Some(1.0));
        assert_eq!(js_divergence(&[1.0, 2.0], &[2.0, 4.0]), Some(0.0));
        assert_eq!(js_divergence(&[0.0], &[1.0]), None);
    }

    /// Numbers from numpy and scipy (`scripts/drift_reference.py`).
    mod reference {
        use super::super::*;
        use serde_json::Value;

        fn fixture() -> Value {
            serde_json::from_str(include_str!("../../tests/fixtures/drift_reference.json"))
                .expect("the fixture is JSON")
        }

        fn sample(fixture: &Value, name: &str) -> Vec<f64> {
            let values = fixture["samples"][name].as_array().expect("a sample");
            sorted_finite(values.iter().map(|v| v.as_f64().expect("a number")))
        }

        fn num(v: &Value) -> f64 {
            v.as_f64().expect("a number")
        }

        #[track_caller]
        fn assert_close(ours: f64, theirs: f64, relative: f64, what: &str) {
            let error = (ours - theirs).abs();
            assert!(
                error <= relative * theirs.abs() || error <= 1e-15,
                "{what}: ours {ours:e}, scipy/numpy {theirs:e}"
            );
        }

        #[test]
        fn ks_2samp_matches_scipy() {
            let f = fixture();
            for case in f["ks_2samp"].as_array().unwrap() {
                let (a, b) = (case["a"].as_str().unwrap(), case["b"].as_str().unwrap());
                let what = format!("ks_2samp({a}, {b})");
                let ours = ks_2samp(&sample(&f, a), &sample(&f, b)).unwrap();
                assert_close(ours.d, num(&case["d"]), 1e-12, &what);
                assert_close(ours.p_value, num(&case["p_value"]), 1e-10, &what);
                let method = match ours.method {
                    KsMethod::Exact => "exact",
                    KsMethod::Asymptotic => "asymptotic",
                };
                assert_eq!(method, case["method"], "{what}");
            }
        }

        #[test]
        fn kolmogorov_tail_matches_scipy_kstwo() {
            let f = fixture();
            for case in f["kstwo_sf"].as_array().unwrap() {
                let n = case["n"].as_u64().unwrap();
                let x = num(&case["x"]);
                let what = format!("kstwo.sf({x}, {n})");
                assert_close(kolmogorov_sf(n, x), num(&case["sf"]), 1e-10, &what);
            }
        }

        #[test]
        fn quantiles_match_numpy() {
            let f = fixture();
            for case in f["quantiles"].as_array().unwrap() {
                let name = case["sample"].as_str().unwrap();
                let q = num(&case["q"]);
                let ours = quantile(&sample(&f, name), q).unwrap();
                assert_close(ours, num(&case["value"]), 1e-12, &format!("{name} q{q}"));
            }
        }

        #[test]
        fn psi_matches_numpy() {
            let f = fixture();
            for case in f["psi"].as_array().unwrap() {
                let base = sample(&f, case["baseline"].as_str().unwrap());
                let window = sample(&f, case["window"].as_str().unwrap());
                let edges = decile_edges(&base);
                let expected: Vec<f64> =
                    case["edges"].as_array().unwrap().iter().map(num).collect();
                assert_eq!(edges.len(), expected.len());
                for (ours, theirs) in edges.iter().zip(&expected) {
                    assert_close(*ours, *theirs, 1e-12, "edge");
                }
                let ours = psi(&bin_counts(&base, &edges), &bin_counts(&window, &edges)).unwrap();
                assert_close(ours.value, num(&case["psi"]), 1e-10, "psi");
                let contributions = case["contributions"].as_array().unwrap();
                for (ours, theirs) in ours.contributions.iter().zip(contributions) {
                    assert_close(*ours, num(theirs), 1e-9, "psi contribution");
                }
            }
        }

        #[test]
        fn js_matches_scipy() {
            let f = fixture();
            for case in f["js"].as_array().unwrap() {
                let p: Vec<f64> = case["p"].as_array().unwrap().iter().map(num).collect();
                let q: Vec<f64> = case["q"].as_array().unwrap().iter().map(num).collect();
                assert_close(
                    js_divergence(&p, &q).unwrap(),
                    num(&case["js"]),
                    1e-10,
                    "js",
                );
            }
        }

        #[test]
        fn chi2_homogeneity_matches_scipy() {
            let f = fixture();
            for case in f["chi2_contingency"].as_array().unwrap() {
                let a: Vec<f64> = case["a"].as_array().unwrap().iter().map(num).collect();
                let b: Vec<f64> = case["b"].as_array().unwrap().iter().map(num).collect();
                let ours = chi2_homogeneity(&a, &b).unwrap();
                assert_close(
                    ours.statistic,
                    num(&case["statistic"]),
                    1e-12,
                    "chi2 statistic",
                );
                assert_eq!(ours.df, num(&case["df"]));
                assert_close(ours.p_value, num(&case["p_value"]), 1e-9, "chi2 p-value");
            }
        }

        #[test]
        fn chi2_tail_matches_scipy() {
            let f = fixture();
            for case in f["chi2_sf"].as_array().unwrap() {
                let (x, df) = (num(&case["x"]), num(&case["df"]));
                assert_close(
                    chi2_sf(x, df),
                    num(&case["sf"]),
                    1e-9,
                    &format!("chi2.sf({x}, {df})"),
                );
            }
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn sample() -> impl Strategy<Value = Vec<f64>> {
            prop::collection::vec(-5.0_f64..5.0, 1..60)
        }

        proptest! {
            #[test]
            fn js_is_in_unit_interval_and_symmetric(
                p in prop::collection::vec(0.0_f64..10.0, 1..30),
                shift in 0.0_f64..10.0,
            ) {
                let q: Vec<f64> = p.iter().rev().map(|v| v + shift).collect();
                if let (Some(a), Some(b)) = (js_divergence(&p, &q), js_divergence(&q, &p)) {
                    prop_assert!((0.0..=1.0).contains(&a));
                    prop_assert!((a - b).abs() < 1e-12);
                }
            }

            #[test]
            fn psi_is_never_negative(a in sample(), b in sample()) {
                let base = sorted_finite(a);
                let edges = decile_edges(&base);
                let value = psi(&bin_counts(&base, &edges), &bin_counts(&b, &edges)).unwrap();
                prop_assert!(value.value >= 0.0);
                prop_assert!(value.contributions.iter().all(|c| *c >= 0.0));
            }

            #[test]
            fn ks_is_symmetric_and_bounded(a in sample(), b in sample()) {
                let (a, b) = (sorted_finite(a), sorted_finite(b));
                let ab = ks_2samp(&a, &b).unwrap();
                let ba = ks_2samp(&b, &a).unwrap();
                prop_assert_eq!(ab.d, ba.d);
                prop_assert!((ab.p_value - ba.p_value).abs() < 1e-12);
                prop_assert!((0.0..=1.0).contains(&ab.d));
                prop_assert!((0.0..=1.0).contains(&ab.p_value));
            }

            #[test]
            fn quantiles_are_monotone(a in sample(), q1 in 0.0_f64..1.0, q2 in 0.0_f64..1.0) {
                let s = sorted_finite(a);
                let (lo, hi) = (q1.min(q2), q1.max(q2));
                prop_assert!(quantile(&s, lo).unwrap() <= quantile(&s, hi).unwrap());
            }
        }
    }
}
