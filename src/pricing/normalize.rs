//! Other spellings of a model name to look up when the name itself is not
//! in the table: provider prefixes, cloud spellings, fine-tunes, snapshots.
//!
//! Each step only removes something that is known not to change the price
//! (a routing prefix, a Bedrock region, a snapshot date), so a name never
//! falls through to a *different* model: `gpt-4o-audio-preview-2024-12-17`
//! becomes `gpt-4o-audio-preview`, never `gpt-4o`. A snapshot or spelling
//! that has its own price is listed in the table and found before any of
//! this runs.

/// Bedrock cross-region inference prefixes (`us.anthropic.claude-...`).
const BEDROCK_REGIONS: [&str; 9] = [
    "us", "eu", "apac", "jp", "au", "ca", "global", "us-gov", "sa",
];

/// Vendor prefixes in Bedrock model ids (`anthropic.claude-...`).
const BEDROCK_VENDORS: [&str; 11] = [
    "anthropic",
    "amazon",
    "meta",
    "mistral",
    "cohere",
    "ai21",
    "deepseek",
    "openai",
    "qwen",
    "writer",
    "twelvelabs",
];

/// The longest model name (in bytes) that is normalized or matched against
/// patterns. Real names are under 100 bytes (a Bedrock ARN about 120); a
/// longer one is looked up exactly and otherwise left unpriced, so the work
/// a name costs is bounded whatever a peer sends.
pub const MAX_MODEL_NAME: usize = 256;

/// How many routing prefixes (`openrouter/anthropic/...`) are removed one
/// at a time; past that, only the last segment is tried. Real spellings
/// have at most three (`publishers/google/models/x`).
const MAX_ROUTING_PREFIXES: usize = 4;

/// The names to try after `raw`, most specific first, without `raw` itself
/// or repeats. The last is the most general. A name longer than
/// [`MAX_MODEL_NAME`] has none; otherwise there are at most a dozen, so the
/// work is linear in the name's length.
///
/// ```text
/// bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0
///   us.anthropic.claude-sonnet-4-5-20250929-v1:0   (routing prefix)
///   anthropic.claude-sonnet-4-5-20250929-v1:0      (Bedrock region)
///   claude-sonnet-4-5-20250929-v1:0                (Bedrock vendor)
///   claude-sonnet-4-5-20250929                     (Bedrock version)
///   claude-sonnet-4-5                              (snapshot date)
/// ```
pub(crate) fn candidates(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if raw.len() > MAX_MODEL_NAME {
        return out;
    }
    let mut push = |name: &str| {
        if !name.is_empty() && name != raw && !out.iter().any(|seen| seen == name) {
            out.push(name.to_owned());
        }
    };

    let mut current = raw.trim().to_ascii_lowercase();
    push(raw.trim());
    push(&current);

    // arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude-...
    if current.starts_with("arn:")
        && let Some((_, id)) = current.rsplit_once('/')
    {
        current = id.to_owned();
        push(&current);
    }
    // Routing prefixes, one at a time: openrouter/anthropic/x, azure/x,
    // models/x (Gemini API), publishers/google/models/x (Vertex AI). Past a
    // few, straight to the last segment.
    let mut stripped = 0;
    while let Some((_, rest)) = current.split_once('/') {
        current = if stripped < MAX_ROUTING_PREFIXES {
            rest.to_owned()
        } else {
            rest.rsplit('/').next().unwrap_or(rest).to_owned()
        };
        stripped += 1;
        push(&current);
    }
    // `openai:gpt-4o` (framework spelling), but not `ft:` or Bedrock's `-v1:0`.
    if let Some((prefix, rest)) = current.split_once(':')
        && prefix != "ft"
        && !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
    {
        current = rest.to_owned();
        push(&current);
    }
    // ft:gpt-4o-mini-2024-07-18:org:suffix:id -> ft:gpt-4o-mini-2024-07-18, then the base.
    if let Some(rest) = current.strip_prefix("ft:") {
        let base = rest.split(':').next().unwrap_or(rest).to_owned();
        push(&format!("ft:{base}"));
        current = base;
        push(&current);
    }
    // us.anthropic.claude-... -> anthropic.claude-... -> claude-...
    if let Some((region, rest)) = current.split_once('.')
        && BEDROCK_REGIONS.contains(&region)
        && BEDROCK_VENDORS
            .iter()
            .any(|v| rest.starts_with(&format!("{v}.")))
    {
        current = rest.to_owned();
        push(&current);
    }
    if let Some((vendor, rest)) = current.split_once('.')
        && BEDROCK_VENDORS.contains(&vendor)
    {
        current = rest.to_owned();
        push(&current);
    }
    // Bedrock version suffix: -v1:0, -v2:0.
    if let Some(stripped) = strip_bedrock_version(&current) {
        current = stripped.to_owned();
        push(&current);
    }
    // Vertex AI: claude-sonnet-4-5@20250929 -> claude-sonnet-4-5-20250929, then claude-sonnet-4-5.
    if let Some((base, version)) = current.split_once('@') {
        let base = base.to_owned();
        push(&format!("{base}-{version}"));
        current = base;
        push(&current);
    }
    if let Some(stripped) = strip_snapshot(&current) {
        push(stripped);
    }
    out
}

/// `claude-3-5-sonnet-20240620-v1:0` -> `claude-3-5-sonnet-20240620`.
fn strip_bedrock_version(name: &str) -> Option<&str> {
    let (head, minor) = name.rsplit_once(':')?;
    let (base, major) = head.rsplit_once("-v")?;
    (all_digits(minor) && all_digits(major) && !base.is_empty()).then_some(base)
}

/// Removes one snapshot suffix: `-2024-08-06`, `-20250929`, `-08-2024`,
/// `-0613`, `-001`, `-latest`.
fn strip_snapshot(name: &str) -> Option<&str> {
    if let Some(base) = name.strip_suffix("-latest") {
        return (!base.is_empty()).then_some(base);
    }
    let bytes = name.as_bytes();
    // Longest shapes first: d = digit, '-' literal.
    const SHAPES: [&str; 5] = ["-dddd-dd-dd", "-dddddddd", "-dd-dddd", "-dddd", "-ddd"];
    SHAPES.iter().find_map(|shape| {
        let n = shape.len();
        if bytes.len() <= n {
            return None;
        }
        let tail = &bytes[bytes.len() - n..];
        let fits = tail.iter().zip(shape.bytes()).all(|(&b, s)| match s {
            b'd' => b.is_ascii_digit(),
            literal => b == literal,
        });
        fits.then(|| &name[..name.len() - n])
    })
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last(raw: &str) -> String {
        candidates(raw).pop().unwrap_or_default()
    }

    #[test]
    fn reduces_cloud_and_router_spellings_to_the_base_name() {
        for (raw, base) in [
            ("openai/gpt-4o", "gpt-4o"),
            ("azure/gpt-4o-mini", "gpt-4o-mini"),
            ("gpt-4o-2024-08-06", "gpt-4o"),
            ("GPT-4o-Mini", "gpt-4o-mini"),
            ("openai:gpt-4o", "gpt-4o"),
            (
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "claude-sonnet-4-5",
            ),
            (
                "bedrock/global.anthropic.claude-haiku-4-5-20251001-v1:0",
                "claude-haiku-4-5",
            ),
            (
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-opus-4-5-20251101-v1:0",
                "claude-opus-4-5",
            ),
            ("vertex_ai/claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
            ("publishers/google/models/gemini-2.5-pro", "gemini-2.5-pro"),
            ("models/gemini-2.5-flash", "gemini-2.5-flash"),
            (
                "ft:gpt-4o-mini-2024-07-18:acme:support:AbC123",
                "gpt-4o-mini",
            ),
            ("command-r-08-2024", "command-r"),
            ("gemini-2.0-flash-001", "gemini-2.0-flash"),
            ("claude-3-5-sonnet-latest", "claude-3-5-sonnet"),
        ] {
            assert_eq!(last(raw), base, "{raw}");
        }
    }

    #[test]
    fn tries_the_fine_tuned_base_with_its_ft_prefix_first() {
        let c = candidates("ft:gpt-4o-mini-2024-07-18:acme::AbC123");
        let ft = c
            .iter()
            .position(|n| n == "ft:gpt-4o-mini-2024-07-18")
            .unwrap();
        let base = c
            .iter()
            .position(|n| n == "gpt-4o-mini-2024-07-18")
            .unwrap();
        assert!(ft < base, "{c:?}");
    }

    #[test]
    fn never_strips_what_changes_the_model() {
        assert_eq!(
            last("gpt-4o-audio-preview-2024-12-17"),
            "gpt-4o-audio-preview"
        );
        assert!(candidates("text-embedding-3-small").is_empty());
        assert!(candidates("embed-english-v3.0").is_empty());
        assert!(candidates("gpt-4.1").is_empty());
        // A version-like suffix without Bedrock's colon stays.
        assert_eq!(last("cohere.embed-english-v3"), "embed-english-v3");
    }

    #[test]
    fn the_work_per_name_is_bounded() {
        // Once built every suffix of a name split on `/`: quadratic in its
        // length (80,000 slashes took 3 GB). A few thousand show it.
        let c = candidates(&format!("{}gpt-4o", "a/".repeat(2_000)));
        assert!(c.len() <= 12, "{} candidates", c.len());
        let slashes = "/".repeat(150_000);
        assert!(candidates(&slashes).is_empty());
        let long = format!("{}gpt-4o", "a/".repeat(100_000));
        assert!(candidates(&long).is_empty());
        // Under the length cap, at most a dozen names, each no longer than the name.
        let name = format!("{}gpt-4o-2024-08-06", "a/".repeat(110));
        assert!(name.len() <= MAX_MODEL_NAME);
        let c = candidates(&name);
        assert!(c.len() <= 12, "{}", c.len());
        assert!(c.iter().all(|n| n.len() <= name.len()));
        assert_eq!(c.last().map(String::as_str), Some("gpt-4o"));
        let c = candidates(&"/".repeat(MAX_MODEL_NAME));
        assert!(c.len() <= 12, "{}", c.len());
    }

    #[test]
    fn odd_input_does_not_panic() {
        for raw in [
            "",
            "/",
            "ft:",
            "@",
            "-latest",
            "a:b:c",
            "us.",
            "arn:",
            "é/ü@ß-v1:",
            ":::",
            "-0613",
        ] {
            let _ = candidates(raw);
        }
    }
}
