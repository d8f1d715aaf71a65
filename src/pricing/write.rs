//! Writing [`ModelEntry`] values in the TOML table format (what the
//! LiteLLM importer produces; [`file`](super::file) reads it back).

use std::fmt::Write as _;

use super::Usd;
use super::model::{ModelEntry, Rates, ServiceTier, TierRates};

/// The entries as one table file. `header` becomes comment lines at the
/// top; `provider`, if given, is written once as the file's default and
/// left out of entries that share it.
///
/// ```
/// use ragtrace::pricing::{to_toml, Date, ModelEntry, Mode, PriceVersion, Rates, Usd};
///
/// let entry = ModelEntry::new("house-llm", "internal", Mode::Chat).version(PriceVersion::new(
///     "2025-01-01".parse::<Date>().unwrap(),
///     "https://wiki.example.com/llm",
///     Rates::new().input("0.4".parse::<Usd>().unwrap()),
/// ));
/// let text = to_toml(&[entry], "House models.", Some("internal"));
/// assert!(text.contains("key = \"house-llm\"\n"));
/// assert!(text.contains("input = 0.4\n"));
/// ```
pub fn to_toml(entries: &[ModelEntry], header: &str, provider: Option<&str>) -> String {
    let mut out = String::new();
    for line in header.lines() {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
    if let Some(provider) = provider {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "provider = {}", string(provider));
    }
    for entry in entries {
        write_entry(&mut out, entry, provider);
    }
    out
}

fn write_entry(out: &mut String, entry: &ModelEntry, file_provider: Option<&str>) {
    let _ = writeln!(out, "\n[[model]]\nkey = {}", string(&entry.key));
    if file_provider != Some(entry.provider.as_str()) {
        let _ = writeln!(out, "provider = {}", string(&entry.provider));
    }
    let _ = writeln!(out, "mode = {}", string(entry.mode.as_str()));
    if let Some(tokens) = entry.context_window {
        let _ = writeln!(out, "context_window = {tokens}");
    }
    if let Some(tokens) = entry.max_output {
        let _ = writeln!(out, "max_output = {tokens}");
    }
    if !entry.aliases.is_empty() {
        let _ = writeln!(out, "aliases = {}", list(&entry.aliases));
    }
    if !entry.patterns.is_empty() {
        let _ = writeln!(out, "patterns = {}", list(&entry.patterns));
    }
    if let Some(date) = entry.deprecated {
        let _ = writeln!(out, "deprecated = {date}");
    }
    for version in &entry.versions {
        let _ = writeln!(out, "\n[[model.price]]\neffective = {}", version.effective);
        if let Some(until) = version.until {
            let _ = writeln!(out, "until = {until}");
        }
        let _ = writeln!(out, "source = {}", string(&version.source));
        write_rates(out, &version.standard.rates);
        let tiers: Vec<(ServiceTier, &TierRates)> = ServiceTier::ALL[1..]
            .iter()
            .filter_map(|&tier| version.tier(tier).map(|rates| (tier, rates)))
            .collect();
        // Key-values of the version (inline tiers) come before its sub-tables.
        for (tier, rates) in tiers.iter().filter(|(_, r)| r.above.is_empty()) {
            let _ = writeln!(out, "{tier} = {}", inline(&rates.rates));
        }
        for band in &version.standard.above {
            let _ = writeln!(
                out,
                "\n[[model.price.above]]\ninput_tokens = {}",
                band.above_input_tokens
            );
            write_rates(out, &band.rates);
        }
        for (tier, rates) in tiers.iter().filter(|(_, r)| !r.above.is_empty()) {
            let _ = writeln!(out, "\n[model.price.{tier}]");
            write_rates(out, &rates.rates);
            for band in &rates.above {
                let _ = writeln!(
                    out,
                    "\n[[model.price.{tier}.above]]\ninput_tokens = {}",
                    band.above_input_tokens
                );
                write_rates(out, &band.rates);
            }
        }
    }
}

fn write_rates(out: &mut String, rates: &Rates) {
    for (name, price) in rates.fields() {
        if let Some(price) = price {
            let _ = writeln!(out, "{name} = {}", number(price));
        }
    }
}

fn inline(rates: &Rates) -> String {
    let parts: Vec<String> = rates
        .fields()
        .into_iter()
        .filter_map(|(name, price)| price.map(|p| format!("{name} = {}", number(p))))
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

/// A price as a TOML number when an `f64` reads it back exactly (up to 15
/// significant digits), else as a decimal string, which the reader also takes.
fn number(price: Usd) -> String {
    let text = price.to_string();
    let digits = text
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|&b| b == b'0')
        .count();
    if digits <= 15 { text } else { string(&text) }
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A TOML basic string.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::file;
    use crate::pricing::{Date, Mode, PriceVersion};

    fn usd(s: &str) -> Usd {
        s.parse().unwrap()
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let entry = ModelEntry::new("we\"ird\\name\u{7f}", "p", Mode::Chat)
            .alias("a/b:c@d")
            .pattern(r"x-\d+")
            .context_window(1_000)
            .deprecated("2030-01-01".parse::<Date>().unwrap())
            .version(
                PriceVersion::new(
                    "2024-01-01".parse().unwrap(),
                    "https://example.com/a",
                    Rates::new()
                        .input(usd("0.000000000001"))
                        .output(usd("123456789.123456789012")),
                )
                .until("2024-06-01".parse().unwrap())
                .above(200_000, Rates::new().input(usd("2")))
                .service_tier(
                    ServiceTier::Batch,
                    TierRates::new(Rates::new().input(usd("0.5"))),
                )
                .service_tier(
                    ServiceTier::Priority,
                    TierRates::new(Rates::new().input(usd("4")))
                        .above(128_000, Rates::new().output(usd("9"))),
                ),
            )
            .version(PriceVersion::new(
                "2024-06-01".parse().unwrap(),
                "https://example.com/b",
                Rates::new().per_request(usd("0.002")),
            ));
        let text = to_toml(
            std::slice::from_ref(&entry),
            "a header\n\nwith lines",
            Some("other"),
        );
        let (read, problems) = file::parse("w.toml", &text);
        assert!(problems.is_empty(), "{problems:?}\n{text}");
        assert_eq!(read[0].entry, entry, "{text}");
    }
}
