//! Finding a model's entry from the name a provider reported.
//!
//! The hot path is one hash lookup of the name as given (keys and aliases,
//! precomputed). Anything else (provider prefixes, cloud spellings,
//! snapshots, patterns) is resolved once per distinct name and thread and
//! remembered in a bounded per-thread cache, so a steady workload never
//! leaves the fast path and threads never contend on a lock (on the shared
//! machine the benchmarks run on, a lock's two atomic operations cost more
//! than the hash lookups).

use std::cell::RefCell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::{FxHashMap, FxHashSet};

use super::normalize;

/// How many distinct non-exact names a thread's cache keeps per table
/// before it starts over. Real workloads use a handful of model names.
const CACHE_CAPACITY: usize = 4096;

/// How many tables a thread keeps caches for before it starts over (tables
/// that were dropped leave their caches behind until then).
const CACHED_TABLES: usize = 16;

/// Names longer than this are resolved every time rather than cached, so a
/// provider sending odd model names cannot grow the cache's memory.
const MAX_CACHED_NAME: usize = 256;

/// Tells tables apart in the per-thread caches.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A table's resolved non-exact names: name to entry (or to no entry).
type Resolved = FxHashMap<Box<str>, Option<u32>>;

thread_local! {
    /// Per table id, its resolved names.
    static CACHE: RefCell<FxHashMap<u64, Resolved>> = RefCell::new(FxHashMap::default());
}

/// How a name matched.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatchedBy {
    /// The entry's key.
    Key,
    /// One of the entry's aliases.
    Alias,
    /// One of the entry's patterns (the pattern as written).
    Pattern(String),
}

/// An entry found for a name: which one, through which spelling, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) entry: u32,
    /// The spelling that matched: the name itself or a normalized form.
    pub(crate) spelling: String,
    pub(crate) by: MatchedBy,
}

/// The name index of a price table.
pub(crate) struct Matcher {
    id: u64,
    exact: FxHashMap<Box<str>, (u32, bool)>,
    patterns: Vec<(regex::Regex, String, u32)>,
    set: Option<regex::RegexSet>,
}

impl Matcher {
    /// An index over `names` (name, entry, is-alias), later names winning,
    /// and `patterns` (compiled, as written, entry) in priority order.
    pub(crate) fn new(
        names: impl IntoIterator<Item = (String, u32, bool)>,
        patterns: Vec<(regex::Regex, String, u32)>,
    ) -> Result<Matcher, regex::Error> {
        let mut exact = FxHashMap::default();
        for (name, entry, alias) in names {
            exact.insert(name.into_boxed_str(), (entry, alias));
        }
        let set = if patterns.is_empty() {
            None
        } else {
            Some(
                regex::RegexSetBuilder::new(patterns.iter().map(|(re, _, _)| re.as_str()))
                    .size_limit(super::validate::PATTERN_SIZE_LIMIT.saturating_mul(16))
                    .build()?,
            )
        };
        Ok(Matcher {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            exact,
            patterns,
            set,
        })
    }

    /// The entry for `name`, and whether this call had to work it out
    /// (`true` the first time a thread sees a name that is not a key or alias).
    #[inline]
    pub(crate) fn resolve(&self, name: &str) -> (Option<u32>, bool) {
        if let Some(&(entry, _)) = self.exact.get(name) {
            return (Some(entry), false);
        }
        let cached = CACHE.with(|cache| {
            cache
                .borrow()
                .get(&self.id)
                .and_then(|names| names.get(name).copied())
        });
        if let Some(found) = cached {
            return (found, false);
        }
        let found = self.find(name).map(|found| found.entry);
        if name.len() <= MAX_CACHED_NAME {
            CACHE.with(|cache| {
                let mut tables = cache.borrow_mut();
                if !tables.contains_key(&self.id) && tables.len() >= CACHED_TABLES {
                    tables.clear();
                }
                let names = tables.entry(self.id).or_default();
                if names.len() >= CACHE_CAPACITY {
                    names.clear();
                }
                names.insert(name.into(), found);
            });
        }
        (found, true)
    }

    /// Works out the entry for `name` without the cache: the name as given,
    /// then each normalized spelling, each tried exactly and then against
    /// the patterns. A name longer than [`normalize::MAX_MODEL_NAME`] is only
    /// looked up exactly: no spelling of a real model is that long.
    pub(crate) fn find(&self, name: &str) -> Option<Found> {
        if name.len() > normalize::MAX_MODEL_NAME {
            let &(entry, alias) = self.exact.get(name)?;
            let by = if alias {
                MatchedBy::Alias
            } else {
                MatchedBy::Key
            };
            return Some(Found {
                entry,
                spelling: name.to_owned(),
                by,
            });
        }
        std::iter::once(name.to_owned())
            .chain(normalize::candidates(name))
            .find_map(|spelling| self.lookup(spelling))
    }

    fn lookup(&self, spelling: String) -> Option<Found> {
        if let Some(&(entry, alias)) = self.exact.get(spelling.as_str()) {
            let by = if alias {
                MatchedBy::Alias
            } else {
                MatchedBy::Key
            };
            return Some(Found {
                entry,
                spelling,
                by,
            });
        }
        let set = self.set.as_ref()?;
        // Patterns are in priority order, so the lowest index wins.
        let first = set.matches(&spelling).into_iter().next()?;
        let (_, written, entry) = &self.patterns[first];
        Some(Found {
            entry: *entry,
            spelling,
            by: MatchedBy::Pattern(written.clone()),
        })
    }

    /// How many exact names (keys and aliases) the index holds.
    pub(crate) fn names(&self) -> usize {
        self.exact.len()
    }
}

/// Remembers which warnings were given, so each is given once. Bounded: past
/// the limit it says so once and stays quiet.
pub(crate) struct WarnOnce {
    seen: Mutex<(FxHashSet<Box<str>>, bool)>,
}

const WARN_CAPACITY: usize = 1024;

impl WarnOnce {
    pub(crate) fn new() -> Self {
        WarnOnce {
            seen: Mutex::new((FxHashSet::default(), false)),
        }
    }

    /// `true` the first time `key` (its first 256 bytes) is seen.
    pub(crate) fn first(&self, key: &str) -> bool {
        let mut end = key.len().min(MAX_CACHED_NAME);
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        let key = &key[..end];
        let mut guard = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let (seen, full) = &mut *guard;
        if seen.contains(key) {
            return false;
        }
        if seen.len() >= WARN_CAPACITY {
            if !*full {
                *full = true;
                tracing::warn!(
                    target: "ragtrace::pricing",
                    "over {WARN_CAPACITY} distinct pricing warnings; not logging further ones"
                );
            }
            return false;
        }
        seen.insert(key.into());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> Matcher {
        let names = [
            ("gpt-4o".to_owned(), 0, false),
            ("gpt-4o-2024-05-13".to_owned(), 1, false),
            ("gpt-4o-2024-08-06".to_owned(), 0, true),
        ];
        let pattern = regex::Regex::new("^(?:acme-.*)$").unwrap();
        Matcher::new(names, vec![(pattern, "acme-.*".to_owned(), 2)]).unwrap()
    }

    #[test]
    fn exact_names_win_over_normalized_ones() {
        let m = matcher();
        assert_eq!(m.resolve("gpt-4o-2024-05-13"), (Some(1), false));
        let found = m.find("openai/gpt-4o-2024-08-06").unwrap();
        assert_eq!((found.entry, found.by), (0, MatchedBy::Alias));
        assert_eq!(found.spelling, "gpt-4o-2024-08-06");
        assert_eq!(m.find("gpt-4o-2024-11-20").unwrap().spelling, "gpt-4o");
    }

    #[test]
    fn resolves_once_then_from_the_cache() {
        let m = matcher();
        assert_eq!(m.resolve("azure/gpt-4o"), (Some(0), true));
        assert_eq!(m.resolve("azure/gpt-4o"), (Some(0), false));
        assert_eq!(m.resolve("nobody-knows"), (None, true));
        assert_eq!(m.resolve("nobody-knows"), (None, false));
        assert_eq!(
            m.find("acme-bot").map(|f| f.by),
            Some(MatchedBy::Pattern("acme-.*".to_owned()))
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let m = matcher();
        for i in 0..CACHE_CAPACITY + 10 {
            m.resolve(&format!("unknown-{i}"));
        }
        let long = "x".repeat(MAX_CACHED_NAME + 1);
        assert_eq!(m.resolve(&long), (None, true));
        assert_eq!(m.resolve(&long), (None, true), "long names are not cached");
        let cached = CACHE.with(|c| c.borrow().get(&m.id).map_or(0, |names| names.len()));
        assert!(cached <= CACHE_CAPACITY);
        for _ in 0..CACHED_TABLES + 1 {
            matcher().resolve("azure/gpt-4o");
        }
        assert!(CACHE.with(|c| c.borrow().len()) <= CACHED_TABLES);
    }

    #[test]
    fn each_thread_resolves_for_itself() {
        let m = matcher();
        assert_eq!(m.resolve("azure/gpt-4o"), (Some(0), true));
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(m.resolve("azure/gpt-4o"), (Some(0), true)));
        });
        assert_eq!(m.resolve("azure/gpt-4o"), (Some(0), false));
    }

    #[test]
    fn warns_once_per_key() {
        let w = WarnOnce::new();
        assert!(w.first("x"));
        assert!(!w.first("x"));
        assert!(w.first("y"));
    }
}
