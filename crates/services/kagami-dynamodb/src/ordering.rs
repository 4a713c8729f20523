//! DynamoDB's order of key values: numbers numerically, strings by their UTF-8 bytes,
//! binaries by unsigned bytes. `KeyValue` is `Ord`, so a table stored as a
//! `BTreeMap<(KeyValue, KeyValue), Item>` answers a Query with a range read.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.KeyConditionExpressions.html>

use crate::attribute::{AttributeValue, ScalarType};
use crate::number::Number;
use bytes::Bytes;
use std::cmp::Ordering;
use std::ops::Bound;

/// The value of a key attribute. Values of one key attribute always have the same type (the
/// table's attribute definition); across types the order is S < N < B, only so that the
/// order is total.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyValue {
    S(String),
    N(Number),
    B(Bytes),
}

impl KeyValue {
    /// The key value of an attribute value, if it is a scalar a key may hold.
    pub fn from_attribute(value: &AttributeValue) -> Option<KeyValue> {
        match value {
            AttributeValue::S(s) => Some(KeyValue::S(s.clone())),
            AttributeValue::N(n) => Some(KeyValue::N(n.clone())),
            AttributeValue::B(b) => Some(KeyValue::B(b.clone())),
            _ => None,
        }
    }

    pub fn to_attribute(&self) -> AttributeValue {
        match self {
            KeyValue::S(s) => AttributeValue::S(s.clone()),
            KeyValue::N(n) => AttributeValue::N(n.clone()),
            KeyValue::B(b) => AttributeValue::B(b.clone()),
        }
    }

    pub fn scalar_type(&self) -> ScalarType {
        match self {
            KeyValue::S(_) => ScalarType::S,
            KeyValue::N(_) => ScalarType::N,
            KeyValue::B(_) => ScalarType::B,
        }
    }

    /// Whether this value starts with `prefix` (begins_with on a sort key: S and B only).
    pub fn begins_with(&self, prefix: &KeyValue) -> bool {
        match (self, prefix) {
            (KeyValue::S(s), KeyValue::S(p)) => s.starts_with(p.as_str()),
            (KeyValue::B(b), KeyValue::B(p)) => b.starts_with(p),
            _ => false,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            KeyValue::S(_) => 0,
            KeyValue::N(_) => 1,
            KeyValue::B(_) => 2,
        }
    }
}

impl Ord for KeyValue {
    fn cmp(&self, other: &KeyValue) -> Ordering {
        match (self, other) {
            // `str` orders by its UTF-8 bytes, which is DynamoDB's order.
            (KeyValue::S(a), KeyValue::S(b)) => a.as_bytes().cmp(b.as_bytes()),
            (KeyValue::N(a), KeyValue::N(b)) => a.cmp(b),
            (KeyValue::B(a), KeyValue::B(b)) => a.as_ref().cmp(b.as_ref()),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for KeyValue {
    fn partial_cmp(&self, other: &KeyValue) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The order of two attribute values under `<`, `<=`, `>`, `>=` and BETWEEN: defined only
/// for two values of the same scalar type (S, N or B); otherwise the comparison is false.
pub fn compare_values(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.as_ref().cmp(y.as_ref())),
        _ => None,
    }
}

/// A condition on the sort key of a Query, already checked against the key schema.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKeyCondition {
    Eq(KeyValue),
    Lt(KeyValue),
    Le(KeyValue),
    Gt(KeyValue),
    Ge(KeyValue),
    Between(KeyValue, KeyValue),
    BeginsWith(KeyValue),
}

impl SortKeyCondition {
    /// Whether a sort key value satisfies the condition.
    pub fn matches(&self, value: &KeyValue) -> bool {
        match self {
            SortKeyCondition::Eq(v) => value == v,
            SortKeyCondition::Lt(v) => value < v,
            SortKeyCondition::Le(v) => value <= v,
            SortKeyCondition::Gt(v) => value > v,
            SortKeyCondition::Ge(v) => value >= v,
            SortKeyCondition::Between(lo, hi) => value >= lo && value <= hi,
            SortKeyCondition::BeginsWith(p) => value.begins_with(p),
        }
    }

    /// The bounds of the sort keys that can match, for `BTreeMap::range`. Every key in the
    /// range matches except for `BeginsWith`, whose range starts at the prefix and is open
    /// above: read while [`SortKeyCondition::matches`] holds (matching keys are contiguous).
    pub fn bounds(&self) -> (Bound<KeyValue>, Bound<KeyValue>) {
        match self {
            SortKeyCondition::Eq(v) => (Bound::Included(v.clone()), Bound::Included(v.clone())),
            SortKeyCondition::Lt(v) => (Bound::Unbounded, Bound::Excluded(v.clone())),
            SortKeyCondition::Le(v) => (Bound::Unbounded, Bound::Included(v.clone())),
            SortKeyCondition::Gt(v) => (Bound::Excluded(v.clone()), Bound::Unbounded),
            SortKeyCondition::Ge(v) => (Bound::Included(v.clone()), Bound::Unbounded),
            SortKeyCondition::Between(lo, hi) => (Bound::Included(lo.clone()), Bound::Included(hi.clone())),
            SortKeyCondition::BeginsWith(p) => (Bound::Included(p.clone()), Bound::Unbounded),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn n(s: &str) -> KeyValue {
        KeyValue::N(Number::parse(s).unwrap_or_else(|e| panic!("{e}")))
    }

    fn s(v: &str) -> KeyValue {
        KeyValue::S(v.to_string())
    }

    fn b(v: &'static [u8]) -> KeyValue {
        KeyValue::B(Bytes::from_static(v))
    }

    #[test]
    fn numbers_sort_numerically_not_as_text() {
        let mut keys = [n("10"), n("9"), n("-1"), n("1e2"), n("0.5"), n("-10.5"), n("0")];
        keys.sort();
        let text: Vec<String> = keys
            .iter()
            .map(|k| match k {
                KeyValue::N(n) => n.to_string(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(text, ["-10.5", "-1", "0", "0.5", "9", "10", "100"]);
    }

    #[test]
    fn strings_sort_by_utf8_bytes() {
        // 'Z' (0x5A) < 'a' (0x61) < 'é' (0xC3 0xA9) < '中' (0xE4 ...) < '😀' (0xF0 ...)
        let mut keys = vec![s("😀"), s("a"), s("é"), s("Z"), s("中"), s("ab"), s("")];
        keys.sort();
        assert_eq!(keys, vec![s(""), s("Z"), s("a"), s("ab"), s("é"), s("中"), s("😀")]);
        // U+FF61 (EF BD A1) sorts before U+10000 (F0 90 80 80) in bytes, after it in UTF-16.
        assert!(s("\u{ff61}") < s("\u{10000}"));
    }

    #[test]
    fn binaries_sort_by_unsigned_bytes() {
        let mut keys = vec![b(b"\xff"), b(b"\x00\x01"), b(b"\x7f"), b(b"\x80"), b(b"\x00")];
        keys.sort();
        assert_eq!(keys, vec![b(b"\x00"), b(b"\x00\x01"), b(b"\x7f"), b(b"\x80"), b(b"\xff")]);
    }

    #[test]
    fn a_query_is_a_range_read_on_partition_and_sort_key() {
        let mut table: BTreeMap<(KeyValue, KeyValue), u32> = BTreeMap::new();
        for (i, (p, sk)) in [("a", "1"), ("a", "2"), ("a", "10"), ("b", "1"), ("a", "-3")].iter().enumerate() {
            table.insert((s(p), n(sk)), i as u32);
        }
        let condition = SortKeyCondition::Between(n("0"), n("5"));
        let (lo, hi) = condition.bounds();
        let lo = match lo {
            Bound::Included(v) => Bound::Included((s("a"), v)),
            other => panic!("{other:?}"),
        };
        let hi = match hi {
            Bound::Included(v) => Bound::Included((s("a"), v)),
            other => panic!("{other:?}"),
        };
        let found: Vec<u32> = table.range((lo, hi)).map(|(_, v)| *v).collect();
        assert_eq!(found, vec![0, 1]);
    }

    #[test]
    fn sort_key_conditions_match_as_documented() {
        assert!(SortKeyCondition::BeginsWith(s("2024-")).matches(&s("2024-01-01")));
        assert!(!SortKeyCondition::BeginsWith(s("2024-")).matches(&s("2023-12-31")));
        assert!(SortKeyCondition::BeginsWith(b(b"\x01")).matches(&b(b"\x01\x02")));
        assert!(SortKeyCondition::Lt(n("10")).matches(&n("9.99")));
        assert!(SortKeyCondition::Between(s("a"), s("c")).matches(&s("b")));
        assert!(!SortKeyCondition::Between(s("a"), s("c")).matches(&s("cz")));
    }

    #[test]
    fn ordering_comparisons_are_defined_only_within_one_scalar_type() {
        let num = AttributeValue::N(Number::from(1i64));
        assert_eq!(compare_values(&AttributeValue::S("a".into()), &AttributeValue::S("b".into())), Some(Ordering::Less));
        assert_eq!(compare_values(&num, &AttributeValue::S("1".into())), None);
        assert_eq!(compare_values(&AttributeValue::Bool(true), &AttributeValue::Bool(true)), None);
    }
}
