//! Hash keys, shard ids and sequence numbers: the numbers that place a record in a shard
//! and order it there.
//!
//! A sequence number is 56 decimal digits, as long as AWS's:
//! `49` + shard index (10) + arrival time in ms (16) + the shard's record counter (28).
//! Within a shard the counter alone orders records; the arrival time, which never goes
//! backwards on the emulated clock, keeps the strings ordered like the numbers.

use md5::{Digest, Md5};

/// Shard ids are `shardId-` and 12 digits.
pub(crate) fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

pub(crate) fn parse_shard_id(id: &str) -> Option<u32> {
    // AWS also accepts the bare number ("0" or "000000000001") where a shard id goes.
    let digits = id.strip_prefix("shardId-").unwrap_or(id);
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The 128-bit hash key of a partition key: its MD5 digest as a big-endian integer.
pub(crate) fn hash_key(partition_key: &str) -> u128 {
    let digest = Md5::digest(partition_key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest);
    u128::from_be_bytes(bytes)
}

/// An ExplicitHashKey: a decimal number in [0, 2^128 - 1].
pub(crate) fn parse_hash_key(s: &str) -> Option<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `count` contiguous ranges covering the whole hash key space as evenly as AWS splits
/// it: each floor(2^128 / count) wide, the last one reaching 2^128 - 1.
pub(crate) fn even_ranges(count: u32) -> Vec<(u128, u128)> {
    let n = u128::from(count.max(1));
    if n == 1 {
        // 2^128 itself does not fit in a u128.
        return vec![(0, u128::MAX)];
    }
    let step = u128::MAX / n + (u128::MAX % n + 1) / n;
    (0..n)
        .map(|i| {
            let start = i * step;
            let end = if i + 1 == n { u128::MAX } else { (i + 1) * step - 1 };
            (start, end)
        })
        .collect()
}

/// The largest counter a sequence number can carry (28 digits hold any u64).
pub(crate) fn sequence_number(shard: u32, time_ms: i64, counter: u64) -> String {
    format!("49{shard:010}{:016}{counter:028}", time_ms.max(0))
}

/// A sequence number this emulator issued: (shard index, counter).
pub(crate) fn parse_sequence_number(s: &str) -> Option<(u32, u64)> {
    if s.len() != 56 || !s.starts_with("49") || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let shard = s.get(2..12)?.parse().ok()?;
    let counter = s.get(28..56)?.parse().ok()?;
    Some((shard, counter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_match_the_boundaries_aws_reports() {
        let two = even_ranges(2);
        assert_eq!(two[0], (0, 170_141_183_460_469_231_731_687_303_715_884_105_727));
        assert_eq!(two[1], (170_141_183_460_469_231_731_687_303_715_884_105_728, u128::MAX));
        let three = even_ranges(3);
        assert_eq!(three[0].1, 113_427_455_640_312_821_154_458_202_477_256_070_484);
        assert_eq!(three[2].1, u128::MAX);
        assert_eq!(even_ranges(1), vec![(0, u128::MAX)]);
        for w in even_ranges(7).windows(2) {
            assert_eq!(w[0].1 + 1, w[1].0);
        }
    }

    #[test]
    fn sequence_numbers_round_trip_and_sort_like_their_counters() {
        let a = sequence_number(3, 1_700_000_000_000, 9);
        let b = sequence_number(3, 1_700_000_000_001, 10);
        assert_eq!(a.len(), 56);
        assert!(a < b);
        assert_eq!(parse_sequence_number(&a), Some((3, 9)));
        assert_eq!(parse_sequence_number("123"), None);
    }

    #[test]
    fn partition_keys_hash_with_md5() {
        // md5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(hash_key("a"), 0x0cc1_75b9_c0f1_b6a8_31c3_99e2_6977_2661);
        assert_eq!(parse_shard_id("shardId-000000000007"), Some(7));
        assert_eq!(parse_hash_key("340282366920938463463374607431768211456"), None);
    }
}
