//! [`Encoding`]: OpenAI's public byte-pair encodings, counted exactly.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use bpe_openai::byte_pair_encoding::BytePairEncoding;
use rustc_hash::FxHashMap;

use super::split::{Rules, pieces};

/// One of OpenAI's public byte-pair encodings.
///
/// Counts are identical to OpenAI's `tiktoken` (`len(enc.encode_ordinary(text))`):
/// the same published rank files, the same splitting rules, the same merges.
/// Counting is linear in the input whatever it holds and never panics.
///
/// ```
/// use ragtrace::tokens::Encoding;
///
/// assert_eq!(Encoding::O200kBase.count("Hello, world!"), 4);
/// assert_eq!(Encoding::for_model("gpt-4o-mini"), Some(Encoding::O200kBase));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// `o200k_base`: gpt-4o, gpt-4.1, gpt-4.5, gpt-5, the o-series.
    O200kBase,
    /// `cl100k_base`: gpt-4, gpt-3.5-turbo, text-embedding-3-*, text-embedding-ada-002.
    Cl100kBase,
}

/// A loaded encoder: the merge tables, the splitting rules, and the rank of
/// every token by its bytes.
struct Loaded {
    bpe: &'static BytePairEncoding,
    rules: Rules,
    /// Token bytes to rank (bpe-openai numbers tokens by their rank in the
    /// published file, which is the merge priority), for tokens of up to
    /// [`PACKED`] bytes packed into an integer: hashing one is much cheaper
    /// than hashing and comparing a slice, and almost every lookup is short.
    short_ranks: FxHashMap<u128, u32>,
    /// The same for longer tokens.
    long_ranks: FxHashMap<&'static [u8], u32>,
    /// Ranks of all two-byte strings (`u32::MAX`: not a token), indexed by
    /// the bytes as a big-endian `u16`: the first round of every merge asks
    /// only about byte pairs.
    pair_ranks: Box<[u32]>,
}

/// Byte strings up to this long are looked up by [`pack`]ed key.
const PACKED: usize = 15;

/// `bytes` (at most [`PACKED`] long) and its length in one integer.
#[inline]
fn pack(bytes: &[u8]) -> u128 {
    let mut buf = [0_u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    buf[15] = bytes.len() as u8;
    u128::from_le_bytes(buf)
}

/// Pieces up to this many bytes are merged pair by pair (quadratic in the
/// piece, so fast only while it is short); longer ones go to bpe-openai's
/// linear backtracking encoder.
const SHORT_PIECE: usize = 64;

impl Loaded {
    fn new(bpe: &'static BytePairEncoding, rules: Rules) -> Loaded {
        let tokens = bpe.num_tokens();
        let mut short_ranks = FxHashMap::with_capacity_and_hasher(tokens, Default::default());
        let mut long_ranks = FxHashMap::default();
        let mut pair_ranks = vec![u32::MAX; 1 << 16].into_boxed_slice();
        for id in 0..tokens as u32 {
            let bytes = bpe.token_bytes(id);
            if let &[a, b] = bytes {
                pair_ranks[usize::from(u16::from_be_bytes([a, b]))] = id;
            }
            if bytes.len() <= PACKED {
                short_ranks.insert(pack(bytes), id);
            } else {
                long_ranks.insert(bytes, id);
            }
        }
        Loaded {
            bpe,
            rules,
            short_ranks,
            long_ranks,
            pair_ranks,
        }
    }

    #[inline]
    fn piece_tokens(&self, piece: &str) -> u64 {
        let bytes = piece.as_bytes();
        // Most pieces (a word with its leading space) are a single token.
        if bytes.len() <= 1 || self.rank(bytes) != u32::MAX {
            return bytes.len().min(1) as u64;
        }
        if bytes.len() <= SHORT_PIECE {
            return self.merge_count(bytes);
        }
        self.bpe.count(bytes) as u64
    }

    #[inline]
    fn rank(&self, bytes: &[u8]) -> u32 {
        let found = if bytes.len() <= PACKED {
            self.short_ranks.get(&pack(bytes))
        } else {
            self.long_ranks.get(bytes)
        };
        found.copied().unwrap_or(u32::MAX)
    }

    /// Byte-pair encoding by repeated merging, as OpenAI's tiktoken does it:
    /// start from single bytes, merge the adjacent pair whose joined bytes
    /// have the lowest rank (leftmost on ties) until no pair is a token; the
    /// number of parts left is the token count.
    fn merge_count(&self, bytes: &[u8]) -> u64 {
        debug_assert!(bytes.len() <= SHORT_PIECE);
        // starts[i]: where part i begins; rank[i]: rank of parts i and i+1 joined.
        let mut starts: [u8; SHORT_PIECE + 1] = std::array::from_fn(|i| i as u8);
        let mut ranks = [u32::MAX; SHORT_PIECE + 1];
        let mut parts = bytes.len();
        let joined = |starts: &[u8], parts: usize, i: usize| -> u32 {
            if i + 2 <= parts {
                self.rank(&bytes[starts[i] as usize..starts[i + 2] as usize])
            } else {
                u32::MAX
            }
        };
        for (i, pair) in bytes.windows(2).enumerate() {
            ranks[i] = self.pair_ranks[usize::from(u16::from_be_bytes([pair[0], pair[1]]))];
        }
        loop {
            let mut best = (u32::MAX, 0_usize);
            for (i, &r) in ranks[..parts.saturating_sub(1)].iter().enumerate() {
                if r < best.0 {
                    best = (r, i);
                }
            }
            let (rank, i) = best;
            if rank == u32::MAX {
                return parts as u64;
            }
            // Merge parts i and i+1: drop the start of part i+1.
            starts.copy_within(i + 2..=parts, i + 1);
            ranks.copy_within(i + 2..parts, i + 1);
            parts -= 1;
            ranks[i] = joined(&starts, parts, i);
            if i > 0 {
                ranks[i - 1] = joined(&starts, parts, i - 1);
            }
        }
    }
}

// bpe-openai deserializes its prebuilt tables on first use; ours wrap them.
static O200K: LazyLock<Loaded> =
    LazyLock::new(|| Loaded::new(&bpe_openai::o200k_base().bpe, Rules::O200k));
static CL100K: LazyLock<Loaded> =
    LazyLock::new(|| Loaded::new(&bpe_openai::cl100k_base().bpe, Rules::Cl100k));

impl Encoding {
    /// Every supported encoding.
    pub const ALL: [Encoding; 2] = [Encoding::O200kBase, Encoding::Cl100kBase];

    /// The encoding's name as tiktoken spells it, e.g. `o200k_base`.
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }

    /// The encoding called `name` (`o200k_base`, `cl100k_base`).
    pub fn from_name(name: &str) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The encoding an OpenAI model uses, or `None` when the model is not
    /// one whose tokenizer is public; see [`encoding_for_model`](super::encoding_for_model).
    pub fn for_model(model: &str) -> Option<Encoding> {
        super::models::encoding_for_model(model)
    }

    /// Loads the encoder now rather than on first use, and says how long it took
    /// (zero when it was already loaded).
    ///
    /// Loading takes on the order of 100 ms for `o200k_base` (see BENCHMARKS.md);
    /// call this at start-up so the first request does not pay for it.
    pub fn preload(self) -> Duration {
        let start = Instant::now();
        let _ = self.loaded();
        super::classes::CLASSES.of(' ');
        start.elapsed()
    }

    fn loaded(self) -> &'static Loaded {
        match self {
            Encoding::O200kBase => &O200K,
            Encoding::Cl100kBase => &CL100K,
        }
    }

    /// The number of tokens of `text`, special-token text included as plain text
    /// (tiktoken's `encode_ordinary`).
    pub fn count(self, text: &str) -> u64 {
        let loaded = self.loaded();
        pieces(loaded.rules, text)
            .map(|piece| loaded.piece_tokens(piece))
            .sum()
    }

    /// The token ids of `text` (tiktoken's `encode_ordinary`).
    pub fn encode(self, text: &str) -> Vec<u32> {
        let loaded = self.loaded();
        let mut tokens = Vec::with_capacity(text.len() / 3);
        for piece in pieces(loaded.rules, text) {
            tokens.extend(loaded.bpe.encode_via_backtracking(piece.as_bytes()));
        }
        tokens
    }

    /// The longest prefix of `text` that ends on a token boundary, does not
    /// split a UTF-8 character and counts at most `max_tokens`, with its count.
    ///
    /// ```
    /// use ragtrace::tokens::Encoding;
    ///
    /// let (head, tokens) = Encoding::O200kBase.truncate("The quick brown fox", 2);
    /// assert_eq!((head, tokens), ("The quick", 2));
    /// ```
    pub fn truncate(self, text: &str, max_tokens: u64) -> (&str, u64) {
        let loaded = self.loaded();
        let mut used = 0_u64;
        let mut offset = 0_usize;
        for piece in pieces(loaded.rules, text) {
            let tokens = loaded.piece_tokens(piece);
            if used + tokens > max_tokens {
                // Cut inside this piece after the tokens that still fit.
                let room = (max_tokens - used) as usize;
                let ids = loaded.bpe.encode_via_backtracking(piece.as_bytes());
                let bytes: usize = ids
                    .iter()
                    .take(room)
                    .map(|&t| loaded.bpe.token_len(t))
                    .sum();
                let cut = floor_char_boundary(text, offset + bytes);
                return self.fit(text, cut, max_tokens);
            }
            used += tokens;
            offset += piece.len();
        }
        (text, used)
    }

    /// `text[..cut]` if it counts at most `max_tokens` once re-split on its
    /// own (a prefix can split differently at its end than inside the whole);
    /// else the longest char-boundary prefix of it that does, by bisection.
    fn fit(self, text: &str, cut: usize, max_tokens: u64) -> (&str, u64) {
        let head = &text[..cut];
        let tokens = self.count(head);
        if tokens <= max_tokens {
            return (head, tokens);
        }
        longest_prefix(&text[..cut], max_tokens, |t| self.count(t))
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The longest char-boundary prefix of `text` (which as a whole counts more
/// than `max_tokens`) that counts at most `max_tokens`, by bisection: O(log n)
/// counts. Assumes counts grow with the prefix, as they do for BPE up to the
/// odd token at the cut, so the result may be a few characters short of the
/// true longest.
pub(crate) fn longest_prefix(
    text: &str,
    max_tokens: u64,
    count: impl Fn(&str) -> u64,
) -> (&str, u64) {
    // Invariant: the prefix up to `lo` fits, the one up to `hi` does not.
    let (mut lo, mut hi) = (0_usize, text.len());
    let mut best = ("", 0_u64);
    loop {
        let mut mid = floor_char_boundary(text, lo + (hi - lo) / 2);
        if mid <= lo {
            mid = lo + text[lo..].chars().next().map_or(1, char::len_utf8);
        }
        if mid >= hi {
            return best;
        }
        let tokens = count(&text[..mid]);
        if tokens <= max_tokens {
            best = (&text[..mid], tokens);
            lo = mid;
        } else {
            hi = mid;
        }
    }
}

/// The largest char boundary of `text` at or below `index`.
pub(crate) fn floor_char_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    let mut i = index;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// The pair-by-pair merge (short pieces) agrees with bpe-openai's
        /// backtracking encoder (long pieces) wherever both apply.
        #[test]
        fn short_merge_agrees_with_backtracking(text in "(?s).{0,40}") {
            for encoding in Encoding::ALL {
                let loaded = encoding.loaded();
                for piece in pieces(loaded.rules, &text) {
                    let bytes = piece.as_bytes();
                    if (2..=SHORT_PIECE).contains(&bytes.len()) {
                        proptest::prop_assert_eq!(
                            loaded.merge_count(bytes),
                            loaded.bpe.count(bytes) as u64,
                            "{:?} [{}]", piece, encoding
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for e in Encoding::ALL {
            assert_eq!(Encoding::from_name(e.name()), Some(e));
        }
        assert_eq!(Encoding::from_name("p50k_base"), None);
    }

    #[test]
    fn encode_and_count_agree() {
        let text = "Prompt tokens: 1234 — naïve café 🙂\n\n  fn main() {}";
        for e in Encoding::ALL {
            assert_eq!(e.encode(text).len() as u64, e.count(text));
        }
    }

    #[test]
    fn truncation_never_splits_a_character() {
        // Each emoji is several tokens in cl100k_base; cutting after one
        // token would split its UTF-8 bytes.
        let text = "🙂🙂🙂";
        for e in Encoding::ALL {
            for max in 0..=e.count(text) {
                let (head, tokens) = e.truncate(text, max);
                assert!(text.starts_with(head));
                assert!(tokens <= max, "{e}: {tokens} > {max}");
                assert_eq!(tokens, e.count(head));
            }
            assert_eq!(e.truncate(text, u64::MAX).0, text);
        }
    }

    #[test]
    fn truncation_keeps_whole_tokens() {
        let text = "The quick brown fox jumps over the lazy dog";
        let e = Encoding::Cl100kBase;
        let (head, tokens) = e.truncate(text, 4);
        assert_eq!((head, tokens), ("The quick brown fox", 4));
        assert_eq!(e.truncate(text, 0), ("", 0));
    }
}
