//! [`Distribution`]: count, exact sum and maximum, and percentiles of
//! non-negative integers (picodollars, nanoseconds) in bounded memory.

use std::collections::BTreeMap;

/// Values kept exactly before the distribution switches to buckets.
const EXACT_LIMIT: usize = 16_384;

/// Relative width of a bucket once the values no longer fit: a percentile
/// is then within 0.5% of the true value.
const GAMMA: f64 = 1.01;

/// Count, exact sum and maximum, and nearest-rank percentiles.
///
/// Up to 16,384 values the percentiles are exact (a percentile is one of
/// the values: the smallest with at least that share of values at or
/// below it). Beyond that the values are folded into logarithmic buckets
/// 1% wide and a percentile is the midpoint of its bucket, within 0.5% of
/// the exact one; memory then stays a few kilobytes however many values
/// are added. Sum, count and maximum stay exact.
///
/// ```
/// use ragtrace::analysis::Distribution;
///
/// let mut d = Distribution::default();
/// for v in [5, 1, 4, 2, 3] {
///     d.add(v);
/// }
/// assert_eq!((d.count(), d.sum(), d.max()), (5, 15, Some(5)));
/// assert_eq!(d.percentile(0.5), Some(3));
/// assert_eq!(d.percentile(0.95), Some(5));
/// assert!(d.is_exact());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Distribution {
    count: u64,
    sum: u128,
    max: Option<u64>,
    exact: Vec<u64>,
    /// Bucket index to count, once folded; index 0 holds zeros.
    buckets: Option<BTreeMap<i32, u64>>,
}

impl Distribution {
    /// Adds a value.
    pub fn add(&mut self, value: u64) {
        self.count += 1;
        self.sum += u128::from(value);
        self.max = Some(self.max.map_or(value, |m| m.max(value)));
        match &mut self.buckets {
            Some(buckets) => *buckets.entry(bucket(value)).or_insert(0) += 1,
            None => {
                self.exact.push(value);
                if self.exact.len() > EXACT_LIMIT {
                    self.fold();
                }
            }
        }
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Distribution) {
        match &other.buckets {
            None => {
                for &value in &other.exact {
                    self.add(value);
                }
            }
            Some(theirs) => {
                self.fold();
                self.count += other.count;
                self.sum += other.sum;
                self.max = self.max.max(other.max);
                if let Some(ours) = &mut self.buckets {
                    for (index, n) in theirs {
                        *ours.entry(*index).or_insert(0) += n;
                    }
                }
            }
        }
    }

    fn fold(&mut self) {
        if self.buckets.is_some() {
            return;
        }
        let mut buckets = BTreeMap::new();
        for value in self.exact.drain(..) {
            *buckets.entry(bucket(value)).or_insert(0) += 1;
        }
        self.exact = Vec::new();
        self.buckets = Some(buckets);
    }

    /// Values added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Their exact sum.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// The largest, exactly.
    pub fn max(&self) -> Option<u64> {
        self.max
    }

    /// The mean, rounded to the nearest integer.
    pub fn mean(&self) -> Option<u64> {
        (self.count > 0).then(|| {
            let count = u128::from(self.count);
            u64::try_from((self.sum + count / 2) / count).unwrap_or(u64::MAX)
        })
    }

    /// `true` while percentiles are exact.
    pub fn is_exact(&self) -> bool {
        self.buckets.is_none()
    }

    /// The nearest-rank percentile `q` (0 to 1): the smallest value such
    /// that at least `q` of the values are at or below it.
    pub fn percentile(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let q = if q.is_nan() { 0.5 } else { q.clamp(0.0, 1.0) };
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        match &self.buckets {
            None => {
                let mut sorted = self.exact.clone();
                let index = (rank - 1) as usize;
                let (_, value, _) = sorted.select_nth_unstable(index);
                Some(*value)
            }
            Some(buckets) => {
                let mut seen = 0;
                for (index, n) in buckets {
                    seen += n;
                    if seen >= rank {
                        return Some(midpoint(*index).min(self.max.unwrap_or(u64::MAX)));
                    }
                }
                self.max
            }
        }
    }

    /// Counts of values in `bins` equal-width bins over `[0, upper]`
    /// (values above `upper` in the last bin), for histograms.
    pub fn histogram(&self, bins: usize, upper: u64) -> Vec<u64> {
        let bins = bins.max(1);
        let mut counts = vec![0; bins];
        let width = (upper / bins as u64).max(1);
        let mut put = |value: u64, n: u64| {
            let index = ((value / width) as usize).min(bins - 1);
            counts[index] += n;
        };
        match &self.buckets {
            None => self.exact.iter().for_each(|v| put(*v, 1)),
            Some(buckets) => buckets.iter().for_each(|(i, n)| put(midpoint(*i), *n)),
        }
        counts
    }
}

fn bucket(value: u64) -> i32 {
    if value == 0 {
        0
    } else {
        // 1 + so that value 1 does not share bucket 0 with zeros.
        1 + (value as f64).ln().div_euclid(GAMMA.ln()) as i32
    }
}

fn midpoint(index: i32) -> u64 {
    if index <= 0 {
        return 0;
    }
    let low = GAMMA.powi(index - 1);
    let high = low * GAMMA;
    ((low + high) / 2.0).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_percentiles_are_values() {
        let mut d = Distribution::default();
        assert_eq!(d.percentile(0.5), None);
        for v in 1..=100 {
            d.add(v);
        }
        assert_eq!(d.percentile(0.5), Some(50));
        assert_eq!(d.percentile(0.95), Some(95));
        assert_eq!(d.percentile(1.0), Some(100));
        assert_eq!(d.percentile(0.0), Some(1));
        assert_eq!(d.mean(), Some(51)); // 50.5 rounds up
        assert_eq!(d.sum(), 5050);
    }

    #[test]
    fn folded_percentiles_stay_within_half_a_percent() {
        let mut d = Distribution::default();
        let values: Vec<u64> = (0..100_000u64)
            .map(|i| (i * 7919) % 1_000_003 + 1_000)
            .collect();
        for &v in &values {
            d.add(v);
        }
        assert!(!d.is_exact());
        let mut sorted = values.clone();
        sorted.sort_unstable();
        for q in [0.1, 0.5, 0.9, 0.95, 0.99] {
            let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
            let truth = sorted[rank - 1] as f64;
            let got = d.percentile(q).unwrap() as f64;
            assert!(
                (got - truth).abs() / truth < 0.006,
                "q {q}: {got} vs {truth}"
            );
        }
        assert_eq!(d.max(), sorted.last().copied());
        assert_eq!(d.sum(), values.iter().map(|v| u128::from(*v)).sum::<u128>());
    }

    #[test]
    fn merge_equals_adding() {
        let (mut a, mut b, mut all) = (
            Distribution::default(),
            Distribution::default(),
            Distribution::default(),
        );
        for v in 0..30_000u64 {
            let x = v * 13 % 997;
            if v % 3 == 0 { &mut a } else { &mut b }.add(x);
            all.add(x);
        }
        let mut merged = a;
        merged.merge(&b);
        assert_eq!(merged.count(), all.count());
        assert_eq!(merged.sum(), all.sum());
        assert_eq!(merged.percentile(0.5), all.percentile(0.5));
    }
}
