//! Unicode character classes used by the OpenAI pre-tokenizers.
//!
//! The classes are read from `regex-syntax`, the crate behind the regex
//! engines that OpenAI's `tiktoken` (via `fancy-regex`) uses, so `\p{L}`,
//! `\p{N}`, `\s` and the case classes mean exactly what they mean there.
//! They are flattened once into a two-level lookup table (about 30 KiB),
//! which makes classifying a character two array reads.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex_syntax::hir::{Class, HirKind};

/// `\p{L}`: a letter.
pub(crate) const LETTER: u8 = 1;
/// `\p{N}`: a number.
pub(crate) const NUMBER: u8 = 1 << 1;
/// `\s`: Unicode white space.
pub(crate) const SPACE: u8 = 1 << 2;
/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`: o200k's "upper-ish" word characters.
pub(crate) const UPPER: u8 = 1 << 3;
/// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`: o200k's "lower-ish" word characters.
pub(crate) const LOWER: u8 = 1 << 4;

const BLOCK: usize = 256;
const BLOCKS: usize = (char::MAX as usize + 1) / BLOCK;

/// The flags of every code point, as a two-level table of 256-entry blocks.
pub(crate) struct Classes {
    index: Box<[u16; BLOCKS]>,
    blocks: Vec<[u8; BLOCK]>,
    /// The first block again, for one-read lookups of ASCII bytes.
    ascii: [u8; 128],
}

impl Classes {
    /// The flags of `c` (a combination of the constants above).
    #[inline]
    pub(crate) fn of(&self, c: char) -> u8 {
        let cp = c as usize;
        let block = self.index[cp / BLOCK] as usize;
        self.blocks[block][cp % BLOCK]
    }

    /// The flags of an ASCII byte (`b < 0x80`).
    #[inline]
    pub(crate) fn of_ascii(&self, b: u8) -> u8 {
        self.ascii[usize::from(b & 0x7f)]
    }
}

/// The shared table, built on first use (a few milliseconds).
pub(crate) static CLASSES: LazyLock<Classes> = LazyLock::new(build);

fn build() -> Classes {
    let mut flat = vec![0_u8; BLOCKS * BLOCK];
    for (pattern, flag) in [
        (r"\p{L}", LETTER),
        (r"\p{N}", NUMBER),
        (r"\s", SPACE),
        (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]", UPPER),
        (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]", LOWER),
    ] {
        for (start, end) in ranges(pattern) {
            for slot in &mut flat[start as usize..=end as usize] {
                *slot |= flag;
            }
        }
    }
    let mut index = Box::new([0_u16; BLOCKS]);
    let mut blocks: Vec<[u8; BLOCK]> = Vec::new();
    let mut seen: HashMap<[u8; BLOCK], u16> = HashMap::new();
    for (i, chunk) in flat.chunks_exact(BLOCK).enumerate() {
        let mut block = [0_u8; BLOCK];
        block.copy_from_slice(chunk);
        let id = *seen.entry(block).or_insert_with(|| {
            blocks.push(block);
            // At most 4352 distinct blocks exist, so the id fits in u16.
            (blocks.len() - 1) as u16
        });
        index[i] = id;
    }
    let mut ascii = [0_u8; 128];
    ascii.copy_from_slice(&flat[..128]);
    Classes {
        index,
        blocks,
        ascii,
    }
}

/// The code point ranges of a Unicode class pattern.
///
/// The patterns are constants above, so a failure here is a programming
/// error caught by the unit tests, not something input can trigger.
fn ranges(pattern: &str) -> Vec<(u32, u32)> {
    let hir = regex_syntax::parse(pattern).expect("class patterns are valid");
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => class
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        other => unreachable!("{pattern} is not a Unicode class: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_ascii_and_beyond() {
        let c = &*CLASSES;
        assert_eq!(c.of('a'), LETTER | LOWER);
        assert_eq!(c.of('A'), LETTER | UPPER);
        assert_eq!(c.of('7'), NUMBER);
        assert_eq!(c.of(' '), SPACE);
        assert_eq!(c.of('\n'), SPACE);
        assert_eq!(c.of('.'), 0);
        // Lo (CJK) is in both case classes; a combining mark is in both but is no letter.
        assert_eq!(c.of('中'), LETTER | UPPER | LOWER);
        assert_eq!(c.of('\u{301}'), UPPER | LOWER);
        // No-break space and ideographic space are white space; the BOM is not.
        assert_eq!(c.of('\u{a0}'), SPACE);
        assert_eq!(c.of('\u{3000}'), SPACE);
        assert_eq!(c.of('\u{feff}'), 0);
        // Beyond the BMP: a Gothic letter, a mathematical digit, an emoji.
        assert_eq!(c.of('𐌰') & LETTER, LETTER);
        assert_eq!(c.of('𝟘'), NUMBER);
        assert_eq!(c.of('😀'), 0);
        assert_eq!(c.of(char::MAX), 0);
    }
}
