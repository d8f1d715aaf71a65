//! What makes a [`ModelEntry`] valid, whether it came from a file or from code.

use super::Usd;
use super::error::Problem;
use super::model::{ModelEntry, Rates, ServiceTier, TierRates};

/// Patterns are compiled with this limit so a table cannot make the matcher
/// huge; the table's own patterns are a few dozen bytes each.
pub(crate) const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a table pattern: it must match the whole model name.
pub(crate) fn compile_pattern(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(&anchored(pattern))
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|error| regex_message(&error))
}

/// `pattern` anchored at both ends.
pub(crate) fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// The useful line of a regex error (they span several lines with a caret).
fn regex_message(error: &regex::Error) -> String {
    let text = error.to_string();
    let detail = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .unwrap_or(text.trim());
    format!("pattern does not compile: {detail}")
}

/// Every problem with `entry`. `line` gives the line of a field path.
pub(crate) fn validate(
    entry: &ModelEntry,
    file: &str,
    line: &dyn Fn(&str) -> Option<usize>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let key = entry.key.as_str();
    let mut report = |path: &str, message: String| {
        problems.push(
            Problem::new(file, message)
                .line(line(path))
                .entry(Some(key))
                .field(path),
        );
    };

    if key.trim().is_empty() || key.trim() != key {
        report(
            "key",
            format!("`{key}` is not a model name: it is empty or has spaces around it"),
        );
    }
    if entry.provider.trim().is_empty() {
        report(
            "provider",
            "no provider: set `provider` in the entry or at the top of the file".to_owned(),
        );
    }
    for (i, alias) in entry.aliases.iter().enumerate() {
        let path = format!("aliases[{i}]");
        if alias.trim().is_empty() || alias.trim() != alias {
            report(
                &path,
                format!("`{alias}` is not a model name: it is empty or has spaces around it"),
            );
        } else if alias == key || entry.aliases[..i].contains(alias) {
            report(&path, format!("`{alias}` is listed twice"));
        }
    }
    for (i, pattern) in entry.patterns.iter().enumerate() {
        if let Err(message) = compile_pattern(pattern) {
            report(&format!("patterns[{i}]"), message);
        }
    }
    for (field, tokens) in [
        ("context_window", entry.context_window),
        ("max_output", entry.max_output),
    ] {
        if tokens == Some(0) {
            report(field, "must be more than 0 tokens".to_owned());
        }
    }
    if entry.versions.is_empty() {
        report(
            "price",
            "no price versions: add a [[model.price]] table with an effective date, a source and prices"
                .to_owned(),
        );
    }

    for (i, version) in entry.versions.iter().enumerate() {
        let path = format!("price[{i}]");
        let source = version.source.as_str();
        if !(source.starts_with("https://") || source.starts_with("http://"))
            || source.contains(char::is_whitespace)
        {
            report(
                &format!("{path}.source"),
                format!(
                    "`{source}` is not a URL: every price needs the address it was published at"
                ),
            );
        }
        if let Some(until) = version.until
            && until <= version.effective
        {
            report(
                &format!("{path}.until"),
                format!(
                    "ends on {until}, not after it takes effect on {}",
                    version.effective
                ),
            );
        }
        if version.standard.rates.is_empty() {
            report(&path, "lists no standard prices".to_owned());
        }
        for tier in ServiceTier::ALL {
            let Some(rates) = version.tier(tier) else {
                continue;
            };
            let tier_path = match tier {
                ServiceTier::Standard => path.clone(),
                other => format!("{path}.{other}"),
            };
            if tier != ServiceTier::Standard && rates.rates.is_empty() && rates.above.is_empty() {
                report(&tier_path, format!("the {tier} tier lists no prices"));
            }
            check_tier(rates, &tier_path, &mut report);
        }
    }

    // Versions must not overlap: sort by start and compare neighbours.
    let mut order: Vec<usize> = (0..entry.versions.len()).collect();
    order.sort_by_key(|&i| entry.versions[i].effective);
    for pair in order.windows(2) {
        let (a, b) = (&entry.versions[pair[0]], &entry.versions[pair[1]]);
        let b_path = format!("price[{}].effective", pair[1]);
        if a.effective == b.effective {
            report(
                &b_path,
                format!(
                    "overlapping versions: price[{}] and price[{}] both take effect on {}",
                    pair[0], pair[1], b.effective
                ),
            );
        } else if let Some(until) = a.until
            && until > b.effective
        {
            report(
                &b_path,
                format!(
                    "overlapping versions: price[{}] runs until {until}, after price[{}] takes effect on {}",
                    pair[0], pair[1], b.effective
                ),
            );
        }
    }
    problems
}

fn check_tier(tier: &TierRates, path: &str, report: &mut impl FnMut(&str, String)) {
    check_rates(&tier.rates, path, report);
    let mut previous = 0;
    for (i, band) in tier.above.iter().enumerate() {
        let band_path = format!("{path}.above[{i}]");
        if band.above_input_tokens <= previous {
            report(
                &format!("{band_path}.input_tokens"),
                if band.above_input_tokens == 0 {
                    "must be more than 0 tokens".to_owned()
                } else {
                    format!(
                        "thresholds must increase: {} is not above the previous {previous}",
                        band.above_input_tokens
                    )
                },
            );
        }
        previous = previous.max(band.above_input_tokens);
        if band.rates.is_empty() {
            report(&band_path, "lists no prices".to_owned());
        }
        check_rates(&band.rates, &band_path, report);
    }
}

fn check_rates(rates: &Rates, path: &str, report: &mut impl FnMut(&str, String)) {
    for (name, price) in rates.fields() {
        if let Some(price) = price
            && price < Usd::ZERO
        {
            report(
                &format!("{path}.{name}"),
                format!(
                    "negative price {price}: prices are USD per 1M tokens and cannot be below 0"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{Date, Mode, PriceVersion};

    fn usd(s: &str) -> Usd {
        s.parse().unwrap()
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn entry() -> ModelEntry {
        ModelEntry::new("m", "p", Mode::Chat).version(PriceVersion::new(
            date("2024-01-01"),
            "https://example.com",
            Rates::new().input(usd("1")),
        ))
    }

    fn fields(entry: &ModelEntry) -> Vec<String> {
        validate(entry, "<code>", &|_| None)
            .into_iter()
            .map(|p| p.field.unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_valid_entry_has_no_problems() {
        assert!(fields(&entry()).is_empty());
    }

    #[test]
    fn finds_each_kind_of_problem() {
        let mut bad = entry().alias("m").pattern("(gpt");
        bad.versions[0].standard.rates.output = Some(usd("-1"));
        bad.versions.push(
            PriceVersion::new(
                date("2024-01-01"),
                "not a url",
                Rates::new().input(usd("1")),
            )
            .above(0, Rates::new().input(usd("2"))),
        );
        assert_eq!(
            fields(&bad),
            [
                "aliases[0]",
                "patterns[0]",
                "price[0].output",
                "price[1].source",
                "price[1].above[0].input_tokens",
                "price[1].effective",
            ]
        );
    }

    #[test]
    fn an_ended_version_must_end_before_the_next_starts() {
        let mut e = entry();
        e.versions[0].until = Some(date("2024-03-01"));
        e.versions.push(PriceVersion::new(
            date("2024-02-01"),
            "https://example.com",
            Rates::new().input(usd("2")),
        ));
        let problems = validate(&e, "<code>", &|_| None);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("overlapping"),
            "{}",
            problems[0]
        );
    }
}
