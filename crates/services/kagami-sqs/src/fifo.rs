//! FIFO queues: deduplication within the 5-minute interval, sequence numbers, and the
//! rules for MessageGroupId / MessageDeduplicationId ("FIFO queue logic" and
//! "Exactly-once processing" in the SQS Developer Guide).

use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

/// The deduplication interval, and how long a ReceiveRequestAttemptId can be retried.
pub const DEDUPLICATION_INTERVAL_MS: i64 = 5 * 60 * 1000;
/// MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId: 1 to 128 characters.
pub const MAX_ID_LEN: usize = 128;

/// The deduplication id ContentBasedDeduplication derives: SHA-256 of the body.
pub fn content_deduplication_id(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// Alphanumeric and punctuation characters, 1 to 128 of them.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b.is_ascii_punctuation())
}

/// What a deduplicated send answers with: the first message's id and sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    pub message_id: String,
    pub sequence_number: String,
}

/// Deduplication ids seen in the last five minutes.
#[derive(Debug, Default)]
pub struct Deduplication {
    seen: HashMap<String, (i64, Original)>,
    /// (expires at, key), so expiry order is time order however entries were loaded.
    expiry: BTreeSet<(i64, String)>,
}

impl Deduplication {
    /// The key a message deduplicates under: its id, or (group, id) when the queue's
    /// DeduplicationScope is `messageGroup`.
    pub fn key(scope_is_group: bool, group: &str, id: &str) -> String {
        if scope_is_group { format!("{group}\u{0}{id}") } else { id.to_string() }
    }

    /// The original of a duplicate sent within the interval, if any.
    pub fn check(&self, key: &str, now: i64) -> Option<Original> {
        self.seen.get(key).filter(|(expires, _)| *expires > now).map(|(_, o)| o.clone())
    }

    /// Records a sent message; the interval starts at its first send. Returns when the
    /// entry expires.
    pub fn record(&mut self, key: String, original: Original, sent_at: i64) -> i64 {
        let expires = sent_at + DEDUPLICATION_INTERVAL_MS;
        self.restore(key, original, expires);
        expires
    }

    /// Puts back an entry read from the store.
    pub fn restore(&mut self, key: String, original: Original, expires: i64) {
        if let Some((old, _)) = self.seen.get(&key) {
            self.expiry.remove(&(*old, key.clone()));
        }
        self.expiry.insert((expires, key.clone()));
        self.seen.insert(key, (expires, original));
    }

    /// Forgets entries whose interval is over; returns their keys (for the store).
    pub fn prune(&mut self, now: i64) -> Vec<String> {
        let mut expired = Vec::new();
        while let Some((expires, _)) = self.expiry.first() {
            if *expires > now {
                break;
            }
            if let Some((_, key)) = self.expiry.pop_first() {
                self.seen.remove(&key);
                expired.push(key);
            }
        }
        expired
    }

    /// When the oldest entry expires.
    pub fn next_expiry(&self) -> Option<i64> {
        self.expiry.first().map(|(t, _)| *t)
    }

    /// Forgets everything (PurgeQueue).
    pub fn clear(&mut self) {
        self.seen.clear();
        self.expiry.clear();
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.seen.len()
    }
}

/// Issues SequenceNumbers: 20-digit decimal strings that only grow, across restarts too,
/// because they start from the (emulated) time of issue.
#[derive(Debug, Default)]
pub struct Sequencer {
    last: u128,
}

impl Sequencer {
    pub fn next(&mut self, now_millis: i64) -> String {
        let floor = u128::try_from(now_millis).unwrap_or_default() * 10_000_000;
        self.last = floor.max(self.last + 1);
        format!("{:020}", self.last)
    }

    /// Continues after a number issued before a restart.
    pub fn observe(&mut self, issued: &str) {
        if let Ok(n) = issued.parse::<u128>() {
            self.last = self.last.max(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_based_id_is_sha256_of_body() {
        assert_eq!(
            content_deduplication_id("hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn ids_are_alphanumeric_and_punctuation_up_to_128() {
        assert!(is_valid_id("group-1_!#$%&'()*+,./:;<=>?@[\\]^`{|}~"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("has space"));
        assert!(!is_valid_id("日本"));
        assert!(is_valid_id(&"a".repeat(128)));
        assert!(!is_valid_id(&"a".repeat(129)));
    }

    #[test]
    fn duplicates_within_five_minutes_return_the_original() {
        let mut d = Deduplication::default();
        let original = Original { message_id: "m1".into(), sequence_number: "1".into() };
        assert_eq!(d.record("k".into(), original.clone(), 1_000), 1_000 + DEDUPLICATION_INTERVAL_MS);
        assert_eq!(d.check("k", 1_000 + DEDUPLICATION_INTERVAL_MS - 1), Some(original.clone()));
        assert_eq!(d.check("k", 1_000 + DEDUPLICATION_INTERVAL_MS), None);
        assert!(d.prune(1_000 + DEDUPLICATION_INTERVAL_MS - 1).is_empty());
        assert_eq!(d.prune(1_000 + DEDUPLICATION_INTERVAL_MS), ["k"]);
        assert!(d.seen.is_empty());
        assert_eq!(d.next_expiry(), None);
    }

    #[test]
    fn entries_restored_out_of_order_expire_in_time_order() {
        let mut d = Deduplication::default();
        let o = |id: &str| Original { message_id: id.into(), sequence_number: "1".into() };
        d.restore("late".into(), o("a"), 9_000);
        d.restore("early".into(), o("b"), 5_000);
        assert_eq!(d.next_expiry(), Some(5_000));
        assert_eq!(d.prune(6_000), ["early"]);
        assert_eq!(d.check("late", 6_000), Some(o("a")));
        d.clear();
        assert_eq!(d.len(), 0);
    }

    #[test]
    fn group_scope_keys_by_group() {
        assert_ne!(Deduplication::key(true, "a", "x"), Deduplication::key(true, "b", "x"));
        assert_eq!(Deduplication::key(false, "a", "x"), Deduplication::key(false, "b", "x"));
    }

    #[test]
    fn sequence_numbers_are_20_digits_and_increase() {
        let mut s = Sequencer::default();
        let a = s.next(1_700_000_000_000);
        let b = s.next(1_700_000_000_000);
        let c = s.next(1_600_000_000_000);
        assert_eq!(a.len(), 20);
        assert!(a < b && b < c, "{a} {b} {c}");
        let mut restarted = Sequencer::default();
        restarted.observe(&c);
        assert!(restarted.next(1_600_000_000_000) > c);
    }
}
