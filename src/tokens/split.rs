//! Pre-tokenization: splitting text into the pieces that BPE encodes one by one.
//!
//! OpenAI's `tiktoken` splits text with a backtracking regular expression per
//! encoding before running BPE on each piece. This module implements those
//! two expressions (o200k_base's and cl100k_base's, as published in tiktoken
//! 0.14) as hand-written scanners with the same leftmost-first, backtracking
//! semantics. Why not a regex engine: the look-ahead `\s+(?!\S)` needs a
//! backtracking engine, which goes quadratic or gives up on long runs of white
//! space (the reported tiktoken-rs panic on a million spaces), and the
//! automaton engines need an emulation of the look-ahead that is slower than
//! this scanner. Every alternative below scans a run at most a constant number
//! of times, so splitting is linear in the input.
//!
//! The expressions, for reference (`X` = `[^\r\n\p{L}\p{N}]`, `P` =
//! `[^\s\p{L}\p{N}]`, `U` = `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`, `W` =
//! `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`, `C` = `(?i:'s|'t|'re|'ve|'m|'ll|'d)`):
//!
//! ```text
//! o200k_base:  X?U*W+C? | X?U+W*C? | \p{N}{1,3} | ' '?P+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
//! cl100k_base: '(?i:[sdmt]|ll|ve|re) | X?+\p{L}++ | \p{N}{1,3}+ | ' '?P++[\r\n]*+
//!              | \s++$ | \s*[\r\n] | \s+(?!\S) | \s
//! ```
//!
//! The unit tests and `tests/tokens_split.rs` compare these scanners with the
//! regular expressions themselves (run by `fancy-regex`, as tiktoken does).

use super::classes::{CLASSES, Classes, LETTER, LOWER, NUMBER, SPACE, UPPER};

/// Which encoding's splitting rules to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    O200k,
    Cl100k,
}

/// The pieces of `text` under `rules`, in order; they concatenate to `text`.
pub(crate) fn pieces(rules: Rules, text: &str) -> Pieces<'_> {
    Pieces {
        scan: Scan {
            text,
            classes: &CLASSES,
        },
        rules,
        pos: 0,
    }
}

/// Iterator over pieces; see [`pieces`].
pub(crate) struct Pieces<'a> {
    scan: Scan<'a>,
    rules: Rules,
    pos: usize,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if start >= self.scan.text.len() {
            return None;
        }
        let end = match self.rules {
            Rules::O200k => self.scan.o200k(start),
            Rules::Cl100k => self.scan.cl100k(start),
        };
        // Every character is matched by some alternative, so `end > start`;
        // the guard keeps the iterator finite even if that were ever wrong.
        let end = if end > start {
            end
        } else {
            start + self.scan.char_len(start)
        };
        self.pos = end;
        Some(&self.scan.text[start..end])
    }
}

/// A character at a byte position: the character, its class flags and the
/// position after it.
#[derive(Clone, Copy)]
struct At {
    c: char,
    flags: u8,
    next: usize,
}

impl At {
    fn is(self, flags: u8) -> bool {
        self.flags & flags != 0
    }

    /// `[\r\n]`
    fn is_newline(self) -> bool {
        self.c == '\r' || self.c == '\n'
    }

    /// `[^\r\n\p{L}\p{N}]`: the optional prefix of a word.
    fn is_word_prefix(self) -> bool {
        !self.is_newline() && !self.is(LETTER | NUMBER)
    }

    /// `[^\s\p{L}\p{N}]`: punctuation, symbols, marks, controls.
    fn is_other(self) -> bool {
        !self.is(SPACE | LETTER | NUMBER)
    }
}

struct Scan<'a> {
    text: &'a str,
    classes: &'static Classes,
}

impl Scan<'_> {
    #[inline]
    fn at(&self, i: usize) -> Option<At> {
        let bytes = self.text.as_bytes();
        let &b = bytes.get(i)?;
        if b < 0x80 {
            return Some(At {
                c: b as char,
                flags: self.classes.of_ascii(b),
                next: i + 1,
            });
        }
        let c = self.text.get(i..)?.chars().next()?;
        Some(At {
            c,
            flags: self.classes.of(c),
            next: i + c.len_utf8(),
        })
    }

    fn char_len(&self, i: usize) -> usize {
        self.at(i).map_or(1, |a| a.next - i)
    }

    /// The end of the longest run of characters having any of `flags`, from `i`.
    fn run(&self, mut i: usize, flags: u8) -> usize {
        while let Some(a) = self.at(i) {
            if !a.is(flags) {
                break;
            }
            i = a.next;
        }
        i
    }

    /// The end of the longest run of characters accepted by `f`, from `i`.
    fn run_by(&self, mut i: usize, f: impl Fn(At) -> bool) -> usize {
        while let Some(a) = self.at(i) {
            if !f(a) {
                break;
            }
            i = a.next;
        }
        i
    }

    // ---- o200k_base ----

    fn o200k(&self, p: usize) -> usize {
        let Some(first) = self.at(p) else { return p };
        if let Some(end) = self.word_with_prefix(first, p, |q| self.upper_star_lower_plus(q)) {
            return self.o200k_contraction(end);
        }
        if let Some(end) = self.word_with_prefix(first, p, |q| self.upper_plus_lower_star(q)) {
            return self.o200k_contraction(end);
        }
        if first.is(NUMBER) {
            return self.digits(p);
        }
        if let Some(end) = self.punctuation(first, p, |a| a.is_newline() || a.c == '/') {
            return end;
        }
        self.o200k_space(p)
    }

    /// `X?` followed by `word`: the prefix is tried first, then its absence
    /// (a combining mark is both a possible prefix and a word character).
    fn word_with_prefix(
        &self,
        first: At,
        p: usize,
        word: impl Fn(usize) -> Option<usize>,
    ) -> Option<usize> {
        if first.is_word_prefix()
            && let Some(end) = word(first.next)
        {
            return Some(end);
        }
        word(p)
    }

    /// `U*W+` from `q`: the longest `U` run that still leaves one `W` after
    /// it, then the longest `W` run.
    fn upper_star_lower_plus(&self, q: usize) -> Option<usize> {
        let mut i = q;
        let mut last_lower = None;
        while let Some(a) = self.at(i) {
            if !a.is(UPPER) {
                break;
            }
            if a.is(LOWER) {
                last_lower = Some(i);
            }
            i = a.next;
        }
        // `i` ends the U run; the W run starts there if that character is a W,
        // else at the last W inside the U run (backtracking), else nowhere.
        let start = match self.at(i) {
            Some(a) if a.is(LOWER) => i,
            _ => last_lower?,
        };
        Some(self.run(start, LOWER))
    }

    /// `U+W*` from `q`.
    fn upper_plus_lower_star(&self, q: usize) -> Option<usize> {
        let i = self.run(q, UPPER);
        if i == q {
            return None;
        }
        Some(self.run(i, LOWER))
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)?` at `end`.
    fn o200k_contraction(&self, end: usize) -> usize {
        self.contraction(end).unwrap_or(end)
    }

    /// `\p{N}{1,3}` from `p` (whose character is a number).
    fn digits(&self, p: usize) -> usize {
        let mut i = p;
        for _ in 0..3 {
            match self.at(i) {
                Some(a) if a.is(NUMBER) => i = a.next,
                _ => break,
            }
        }
        i
    }

    /// `' '?P+T*` where `T` is `tail`: a space is taken first; without it the
    /// alternative cannot match, as a space is not in `P`.
    fn punctuation(&self, first: At, p: usize, tail: impl Fn(At) -> bool) -> Option<usize> {
        let q = if first.c == ' ' { first.next } else { p };
        let end = self.run_by(q, At::is_other);
        if end == q {
            return None;
        }
        Some(self.run_by(end, tail))
    }

    /// The white-space alternatives of o200k_base from `p`:
    /// `\s*[\r\n]+ | \s+(?!\S) | \s+`.
    fn o200k_space(&self, p: usize) -> usize {
        let run = self.space_run(p);
        if let Some(newline) = run.last_newline {
            // `\s*` backs off to the last line break in the run, `[\r\n]+`
            // takes it (nothing after it in the run is a line break).
            return newline + 1;
        }
        self.space_lookahead(p, &run)
    }

    // ---- cl100k_base ----

    fn cl100k(&self, p: usize) -> usize {
        let Some(first) = self.at(p) else { return p };
        if first.c == '\''
            && let Some(end) = self.contraction(p)
        {
            return end;
        }
        // `X?+\p{L}++`: possessive, but the prefix could not be a letter anyway.
        let q = if first.is_word_prefix() {
            first.next
        } else {
            p
        };
        let end = self.run(q, LETTER);
        if end > q {
            return end;
        }
        if first.is(NUMBER) {
            return self.digits(p);
        }
        if let Some(end) = self.punctuation(first, p, At::is_newline) {
            return end;
        }
        // `\s++$ | \s*[\r\n] | \s+(?!\S) | \s`
        let run = self.space_run(p);
        if run.end == self.text.len() {
            return run.end;
        }
        if let Some(newline) = run.last_newline {
            return newline + 1;
        }
        self.space_lookahead(p, &run)
    }

    // ---- shared ----

    /// `'` followed by one of `s t m d` or `re ve ll`, case-insensitively
    /// (Unicode simple case folding also maps U+017F LONG S to `s`).
    fn contraction(&self, p: usize) -> Option<usize> {
        let quote = self.at(p)?;
        if quote.c != '\'' {
            return None;
        }
        let first = self.at(quote.next)?;
        match first.c.to_ascii_lowercase() {
            's' | 't' | 'm' | 'd' | '\u{17f}' => Some(first.next),
            'r' | 'v' | 'l' => {
                let want = if first.c.eq_ignore_ascii_case(&'l') {
                    'l'
                } else {
                    'e'
                };
                let second = self.at(first.next)?;
                second.c.eq_ignore_ascii_case(&want).then_some(second.next)
            }
            _ => None,
        }
    }

    fn space_run(&self, p: usize) -> SpaceRun {
        let mut run = SpaceRun {
            end: p,
            last_start: p,
            chars: 0,
            last_newline: None,
        };
        while let Some(a) = self.at(run.end) {
            if !a.is(SPACE) {
                break;
            }
            if a.is_newline() {
                run.last_newline = Some(run.end);
            }
            run.last_start = run.end;
            run.chars += 1;
            run.end = a.next;
        }
        run
    }

    /// `\s+(?!\S) | \s+` (o200k) or `\s+(?!\S) | \s` (cl100k), which agree:
    /// the whole run at the end of the text, else the run without its last
    /// character (which stays to prefix the next word), else one character.
    fn space_lookahead(&self, p: usize, run: &SpaceRun) -> usize {
        if run.end == self.text.len() || run.chars < 2 {
            // `run.end > p` unless `p` is not white space, which the
            // alternatives before rule out; the caller guards anyway.
            run.end
        } else {
            debug_assert!(run.last_start > p);
            run.last_start
        }
    }
}

struct SpaceRun {
    /// End of the white-space run.
    end: usize,
    /// Start of its last character.
    last_start: usize,
    /// Its length in characters.
    chars: usize,
    /// Position of its last `\r` or `\n`.
    last_newline: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(rules: Rules, text: &str) -> Vec<&str> {
        pieces(rules, text).collect()
    }

    #[test]
    fn words_keep_their_leading_space_and_contractions() {
        assert_eq!(
            split(Rules::O200k, "Hello world, it's 2024!"),
            ["Hello", " world", ",", " it's", " ", "202", "4", "!"]
        );
        assert_eq!(
            split(Rules::Cl100k, "Hello world, it's 2024!"),
            ["Hello", " world", ",", " it", "'s", " ", "202", "4", "!"]
        );
    }

    #[test]
    fn o200k_splits_camel_case() {
        assert_eq!(
            split(Rules::O200k, "getHTTPResponse"),
            ["get", "HTTPResponse"]
        );
        assert_eq!(split(Rules::Cl100k, "getHTTPResponse"), ["getHTTPResponse"]);
    }

    #[test]
    fn white_space_leaves_one_character_for_the_next_word() {
        assert_eq!(split(Rules::O200k, "a   b"), ["a", "  ", " b"]);
        assert_eq!(split(Rules::O200k, "a \n\n  b"), ["a", " \n\n", " ", " b"]);
        assert_eq!(split(Rules::O200k, "a  "), ["a", "  "]);
    }

    #[test]
    fn cl100k_keeps_trailing_white_space_whole() {
        // `\s++$` comes before `\s*[\r\n]` in tiktoken 0.14's cl100k pattern.
        assert_eq!(split(Rules::Cl100k, "x\n  "), ["x", "\n  "]);
        assert_eq!(split(Rules::O200k, "x\n  "), ["x", "\n", "  "]);
    }

    #[test]
    fn marks_can_start_a_word() {
        // A lone combining mark after a space: the space is the word prefix.
        assert_eq!(split(Rules::O200k, " \u{301}x"), [" \u{301}x"]);
    }

    #[test]
    fn pieces_always_concatenate_to_the_input() {
        for text in [
            "",
            " ",
            "\r\n",
            "''",
            "'S",
            "'ſ",
            "\u{feff}x",
            "😀😀 a",
            "a\u{0}b",
        ] {
            for rules in [Rules::O200k, Rules::Cl100k] {
                let joined: String = pieces(rules, text).collect();
                assert_eq!(joined, text);
            }
        }
    }
}
