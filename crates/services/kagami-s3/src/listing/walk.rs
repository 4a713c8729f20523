//! The walk every listing shares: keys in UTF-8 byte order from a marker on, within a
//! prefix, with the keys that hold the delimiter after the prefix rolled up into one
//! common prefix each. It seeks the bucket's `BTreeMap` with `range()`, so a page costs
//! its own size plus a seek per common prefix, never a scan of the bucket.

use crate::versions::ObjectVersions;
use std::collections::BTreeMap;
use std::collections::btree_map::Range;
use std::ops::Bound;

/// One listing entry: a key, or a common prefix standing for every key under it.
pub enum Entry<'a> {
    Key(&'a str, &'a ObjectVersions),
    Prefix(String),
}

impl Entry<'_> {
    /// What a marker or continuation token names to resume after this entry.
    pub fn position(&self) -> &str {
        match self {
            Entry::Key(key, _) => key,
            Entry::Prefix(prefix) => prefix,
        }
    }
}

/// Where a walk starts.
pub enum Start<'a> {
    /// At the first key of the prefix.
    First,
    /// After this position: keys and common prefixes that sort at or before it were
    /// listed on an earlier page (S3's Marker, StartAfter, continuation token, KeyMarker).
    After(&'a str),
    /// At this key itself, which ListObjectVersions resumes inside when given a
    /// VersionIdMarker; common prefixes at or before it are still skipped.
    AtKey(&'a str),
}

pub struct Walk<'a> {
    objects: &'a BTreeMap<String, ObjectVersions>,
    range: Range<'a, String, ObjectVersions>,
    prefix: &'a str,
    delimiter: Option<&'a str>,
    /// Common prefixes at or before this were listed already.
    marker: Option<&'a str>,
    /// Which keys take part: ListObjects skips keys whose newest version is a delete marker.
    include: fn(&ObjectVersions) -> bool,
    /// Set when a common prefix ends the key space, so nothing can follow it.
    done: bool,
}

impl<'a> Walk<'a> {
    pub fn new(
        objects: &'a BTreeMap<String, ObjectVersions>,
        prefix: &'a str,
        delimiter: Option<&'a str>,
        start: Start<'a>,
        include: fn(&ObjectVersions) -> bool,
    ) -> Walk<'a> {
        let (lower, marker) = match start {
            Start::First => (Bound::Included(prefix), None),
            // Below the prefix, the prefix's first key is where the listing starts.
            Start::After(m) if m < prefix => (Bound::Included(prefix), Some(m)),
            Start::After(m) => (Bound::Excluded(m), Some(m)),
            Start::AtKey(m) => (Bound::Included(m.max(prefix)), Some(m)),
        };
        Walk {
            objects,
            range: objects.range::<str, _>((lower, Bound::Unbounded)),
            prefix,
            delimiter: delimiter.filter(|d| !d.is_empty()),
            marker,
            include,
            done: false,
        }
    }

    /// Moves past every key that starts with `prefix`.
    fn skip_past(&mut self, prefix: &str) {
        match prefix_end(prefix) {
            Some(end) => {
                self.range = self
                    .objects
                    .range::<str, _>((Bound::Included(end.as_str()), Bound::Unbounded));
            }
            // Nothing sorts after a prefix made only of U+10FFFF: the walk is over.
            None => self.done = true,
        }
    }
}

impl<'a> Iterator for Walk<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        while !self.done {
            let (key, versions) = self.range.next()?;
            // Keys sort after every key they are a prefix of, so the first key without
            // the prefix ends it.
            let rest = key.strip_prefix(self.prefix)?;
            if !(self.include)(versions) {
                continue;
            }
            let Some(at) = self.delimiter.and_then(|d| rest.find(d).map(|i| i + d.len())) else {
                return Some(Entry::Key(key, versions));
            };
            let Some(common) = key.get(..self.prefix.len() + at) else {
                return Some(Entry::Key(key, versions));
            };
            let common = common.to_string();
            self.skip_past(&common);
            if self.marker.is_some_and(|m| common.as_str() <= m) {
                continue;
            }
            return Some(Entry::Prefix(common));
        }
        None
    }
}

/// The smallest string that sorts after every string starting with `prefix`, if any.
/// UTF-8 byte order is code point order, so this bumps the last code point that can be.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut end = prefix.to_string();
    while let Some(last) = end.pop() {
        let mut next = u32::from(last) + 1;
        if next == 0xD800 {
            next = 0xE000; // surrogates are no chars
        }
        if let Some(c) = char::from_u32(next) {
            end.push(c);
            return Some(end);
        }
    }
    None
}

/// Up to `max` entries, and whether more follow.
pub fn page<T>(mut entries: impl Iterator<Item = T>, max: usize) -> (Vec<T>, bool) {
    let mut page = Vec::with_capacity(max.min(64));
    for entry in entries.by_ref() {
        if page.len() == max {
            return (page, true);
        }
        page.push(entry);
    }
    (page, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persistence::ObjectRecord;

    fn bucket(keys: &[&str]) -> BTreeMap<String, ObjectVersions> {
        keys.iter()
            .map(|k| {
                let versions = ObjectVersions {
                    versions: vec![ObjectRecord {
                        key: (*k).to_string(),
                        ..Default::default()
                    }],
                };
                ((*k).to_string(), versions)
            })
            .collect()
    }

    fn all(_: &ObjectVersions) -> bool {
        true
    }

    fn names(walk: Walk<'_>) -> Vec<String> {
        walk.map(|e| match e {
            Entry::Key(k, _) => k.to_string(),
            Entry::Prefix(p) => format!("[{p}]"),
        })
        .collect()
    }

    const KEYS: &[&str] = &["a", "b/1", "b/2", "b/c/3", "b0", "c/1", "d", "é/x"];

    #[test]
    fn delimiter_rolls_keys_up_into_common_prefixes_in_key_order() {
        let b = bucket(KEYS);
        let w = Walk::new(&b, "", Some("/"), Start::First, all);
        assert_eq!(names(w), ["a", "[b/]", "b0", "[c/]", "d", "[é/]"]);
        let w = Walk::new(&b, "b/", Some("/"), Start::First, all);
        assert_eq!(names(w), ["b/1", "b/2", "[b/c/]"]);
    }

    #[test]
    fn a_marker_skips_the_common_prefix_it_names_or_falls_in() {
        let b = bucket(KEYS);
        let w = Walk::new(&b, "", Some("/"), Start::After("b/"), all);
        assert_eq!(names(w), ["b0", "[c/]", "d", "[é/]"]);
        let w = Walk::new(&b, "", Some("/"), Start::After("b/2"), all);
        assert_eq!(names(w), ["b0", "[c/]", "d", "[é/]"]);
        let w = Walk::new(&b, "", None, Start::After("b/2"), all);
        assert_eq!(names(w), ["b/c/3", "b0", "c/1", "d", "é/x"]);
    }

    #[test]
    fn a_marker_before_the_prefix_starts_at_the_prefix() {
        let b = bucket(KEYS);
        let w = Walk::new(&b, "c", None, Start::After("a"), all);
        assert_eq!(names(w), ["c/1"]);
    }

    #[test]
    fn prefix_end_is_the_next_string_after_the_prefix_range() {
        assert_eq!(prefix_end("a/").as_deref(), Some("a0"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
    }

    /// The listing S3 documents, computed the slow way: every key with the prefix in
    /// byte order, keys holding the delimiter after it replaced by their common prefix.
    fn reference(keys: &[String], prefix: &str, delimiter: &str) -> Vec<String> {
        let mut sorted: Vec<&String> = keys.iter().filter(|k| k.starts_with(prefix)).collect();
        sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        let mut out: Vec<String> = Vec::new();
        for key in sorted {
            let rest = &key[prefix.len()..];
            let entry = match rest.find(delimiter).filter(|_| !delimiter.is_empty()) {
                Some(i) => format!("[{}]", &key[..prefix.len() + i + delimiter.len()]),
                None => key.clone(),
            };
            if out.last() != Some(&entry) {
                out.push(entry);
            }
        }
        out
    }

    #[test]
    fn pages_resumed_after_their_last_entry_list_what_the_reference_lists() {
        const ALPHABET: &[char] = &['a', 'b', '/', 'é', '\u{10FFFF}', ' '];
        let mut rng = fastrand::Rng::with_seed(7);
        let word = |rng: &mut fastrand::Rng, max: usize| -> String {
            (0..rng.usize(0..=max)).map(|_| ALPHABET[rng.usize(..ALPHABET.len())]).collect()
        };
        for _ in 0..400 {
            let keys: Vec<String> = (0..rng.usize(0..40))
                .map(|_| word(&mut rng, 5))
                .filter(|k| !k.is_empty())
                .collect();
            let b = bucket(&keys.iter().map(String::as_str).collect::<Vec<_>>());
            let keys: Vec<String> = b.keys().cloned().collect();
            let prefix = word(&mut rng, 2);
            let delimiter = ["", "/", "a", "é/", "\u{10FFFF}"][rng.usize(..5)];
            let size = rng.usize(1..5);
            let mut listed = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let marker = after.take();
                let start = marker.as_deref().map_or(Start::First, Start::After);
                let walk = Walk::new(&b, &prefix, Some(delimiter), start, all);
                let (entries, truncated) = page(walk, size);
                after = entries.last().map(|e| e.position().to_string());
                listed.extend(entries.into_iter().map(|e| match e {
                    Entry::Key(k, _) => k.to_string(),
                    Entry::Prefix(p) => format!("[{p}]"),
                }));
                if !truncated {
                    break;
                }
            }
            assert_eq!(
                listed,
                reference(&keys, &prefix, delimiter),
                "keys {keys:?} prefix {prefix:?} delimiter {delimiter:?} page {size}"
            );
        }
    }

    #[test]
    fn page_reports_truncation_only_when_more_follow() {
        assert_eq!(page(1..=3, 3), (vec![1, 2, 3], false));
        assert_eq!(page(1..=4, 3), (vec![1, 2, 3], true));
        assert_eq!(page(1..=4, 0), (vec![], true));
    }
}
