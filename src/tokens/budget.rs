//! Packing ranked chunks into a token budget.
//!
//! Chunks are taken in rank order. A chunk that fits whole goes in whole.
//! The first one that does not fit is cut (on a token boundary, never inside
//! a UTF-8 character) to the room left, provided at least `min_truncated`
//! tokens are left for it; after a cut the context is full. When too little
//! room is left to be worth a cut, that chunk is dropped and later, smaller
//! chunks may still fit whole. Included chunks keep their order.
//!
//! Counts here are per chunk; joining texts can change a count by a token
//! at each seam, so the caller checks the assembled prompt once more (see
//! `ContextPrompt::build`).

/// One chunk to pack: its framing (rendered once) around its content.
#[derive(Debug, Clone)]
pub(crate) struct Item<'a> {
    pub(crate) before: String,
    pub(crate) content: &'a str,
    pub(crate) after: String,
}

/// A chunk that went in, as it will appear in the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Packed {
    /// Its position among the items offered.
    pub(crate) index: usize,
    /// Separator (if not first), framing and (possibly cut) content.
    pub(crate) text: String,
    /// Whether the content was cut.
    pub(crate) truncated: bool,
}

/// Packs `items` into `room` tokens; see the module docs.
///
/// `count` counts a text; `truncate` gives the longest prefix of a text that
/// counts at most the given tokens.
pub(crate) fn pack<'a>(
    items: &[Item<'a>],
    separator: &str,
    room: u64,
    min_truncated: u64,
    count: impl Fn(&str) -> u64,
    truncate: impl Fn(&'a str, u64) -> &'a str,
) -> Vec<Packed> {
    let mut out: Vec<Packed> = Vec::new();
    let mut used = 0_u64;
    for (index, item) in items.iter().enumerate() {
        let sep = if out.is_empty() { "" } else { separator };
        let text = format!("{sep}{}{}{}", item.before, item.content, item.after);
        let cost = count(&text);
        if used.saturating_add(cost) <= room {
            used += cost;
            out.push(Packed {
                index,
                text,
                truncated: false,
            });
            continue;
        }
        let left = room - used;
        if left == 0 || left < min_truncated {
            continue;
        }
        let frame = count(&format!("{sep}{}{}", item.before, item.after));
        let mut allowance = left.saturating_sub(frame);
        // A cut chunk's count can exceed frame + allowance by a token at a
        // seam; shrink and retry a few times, then give up on this chunk.
        for _ in 0..4 {
            if allowance == 0 {
                break;
            }
            let head = truncate(item.content, allowance);
            if head.is_empty() {
                break;
            }
            let text = format!("{sep}{}{head}{}", item.before, item.after);
            let cost = count(&text);
            if cost <= left {
                out.push(Packed {
                    index,
                    text,
                    truncated: true,
                });
                break;
            }
            allowance = allowance.saturating_sub(cost - left);
        }
        // Cut or not, the context is full.
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token per character, to make the arithmetic visible.
    fn chars(text: &str) -> u64 {
        text.chars().count() as u64
    }

    fn cut(text: &str, max: u64) -> &str {
        let end = text
            .char_indices()
            .nth(max as usize)
            .map_or(text.len(), |(i, _)| i);
        &text[..end]
    }

    fn items<'a>(contents: &[&'a str]) -> Vec<Item<'a>> {
        contents
            .iter()
            .map(|c| Item {
                before: "<".into(),
                content: c,
                after: ">".into(),
            })
            .collect()
    }

    #[test]
    fn whole_chunks_then_one_cut() {
        let items = items(&["aaaa", "bbbb", "cccccccccc", "d"]);
        // "<aaaa>" 6, "|<bbbb>" 7, then 7 left of 20: "|<" ">" frame 3, 4 for content.
        let packed = pack(&items, "|", 20, 2, chars, cut);
        let texts: Vec<_> = packed
            .iter()
            .map(|p| (p.index, p.text.as_str(), p.truncated))
            .collect();
        assert_eq!(
            texts,
            [
                (0, "<aaaa>", false),
                (1, "|<bbbb>", false),
                (2, "|<cccc>", true)
            ]
        );
    }

    #[test]
    fn too_little_room_skips_to_smaller_chunks() {
        let items = items(&["aaaa", "bbbbbbbbbbbb", "c"]);
        // After "<aaaa>" (6) 4 are left: below min_truncated 5, so the long
        // chunk is dropped and "|<c>" (4) still fits.
        let packed = pack(&items, "|", 10, 5, chars, cut);
        let kept: Vec<_> = packed.iter().map(|p| p.index).collect();
        assert_eq!(kept, [0, 2]);
    }

    #[test]
    fn nothing_fits_in_no_room() {
        assert!(pack(&items(&["a"]), "|", 0, 0, chars, cut).is_empty());
    }
}
