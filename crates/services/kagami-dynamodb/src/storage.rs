//! The items of one table and its secondary indexes, ordered so that a Query is a range
//! read: partition key -> sort key -> item for the table, and partition -> sort -> table
//! keys for each index (index keys need not be unique). An item without an index's key
//! attributes is absent from that index. Index entries hold only keys; projections are
//! applied when an index is read, from the item itself.

use crate::attribute::{Item, item_size};
use crate::definition::{IndexDefinition, TableDefinition};
use crate::keys::{KeySchema, PrimaryKey};
use crate::ordering::{KeyValue, SortKeyCondition};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

type Partition<V> = BTreeMap<Option<KeyValue>, V>;
/// Index entries in order: a sort key value and the table key of one item.
type IndexEntries<'a> = Box<dyn Iterator<Item = (&'a Option<KeyValue>, &'a PrimaryKey)> + 'a>;

/// TTL values further in the past than this are not expiry times.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html>
pub const TTL_MAX_AGE_SECS: i64 = 5 * 365 * 24 * 3600;

/// One secondary index.
#[derive(Debug)]
pub struct IndexData {
    pub name: String,
    pub global: bool,
    pub schema: KeySchema,
    entries: BTreeMap<KeyValue, Partition<BTreeSet<PrimaryKey>>>,
    pub item_count: usize,
    pub size_bytes: usize,
}

/// A position in a table or index: its partition and sort key, and the table key of the
/// item (the same as the first two for the table itself).
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub hash: KeyValue,
    pub sort: Option<KeyValue>,
    pub key: PrimaryKey,
}

#[derive(Debug, Default)]
pub struct TableData {
    items: BTreeMap<KeyValue, Partition<Item>>,
    pub indexes: Vec<IndexData>,
    pub item_count: usize,
    pub size_bytes: usize,
    /// Time to Live: the attribute, and the items that carry it by expiry (epoch seconds).
    ttl_attribute: Option<String>,
    expiries: BTreeSet<(i64, PrimaryKey)>,
}

/// The expiry of an item under a TTL attribute: a number of epoch seconds. Items whose
/// attribute is missing or not a number never expire.
fn expiry_of(attribute: Option<&str>, item: &Item) -> Option<i64> {
    match item.get(attribute?)? {
        crate::attribute::AttributeValue::N(n) => n.trunc_i64(),
        _ => None,
    }
}

/// The index key of an item: absent unless the item has every key attribute of the index
/// with its defined type (a GSI added later skips items whose attributes do not fit).
pub fn index_key_of(schema: &KeySchema, item: &Item) -> Option<(KeyValue, Option<KeyValue>)> {
    let typed = |name: &str, t| KeyValue::from_attribute(item.get(name)?).filter(|k| k.scalar_type() == t);
    let hash = typed(&schema.hash.name, schema.hash.scalar_type)?;
    let sort = match &schema.range {
        Some(r) => Some(typed(&r.name, r.scalar_type)?),
        None => None,
    };
    Some((hash, sort))
}

impl IndexData {
    pub fn new(def: &TableDefinition, index: &IndexDefinition, global: bool) -> IndexData {
        IndexData {
            name: index.name.clone(),
            global,
            schema: def.index_schema(index),
            entries: BTreeMap::new(),
            item_count: 0,
            size_bytes: 0,
        }
    }

    fn insert(&mut self, key: &PrimaryKey, item: &Item) {
        if let Some((hash, sort)) = index_key_of(&self.schema, item)
            && self.entries.entry(hash).or_default().entry(sort).or_default().insert(key.clone())
        {
            self.item_count += 1;
            self.size_bytes += item_size(item);
        }
    }

    fn remove(&mut self, key: &PrimaryKey, item: &Item) {
        let Some((hash, sort)) = index_key_of(&self.schema, item) else { return };
        let Some(partition) = self.entries.get_mut(&hash) else { return };
        let Some(keys) = partition.get_mut(&sort) else { return };
        if keys.remove(key) {
            self.item_count = self.item_count.saturating_sub(1);
            self.size_bytes = self.size_bytes.saturating_sub(item_size(item));
        }
        if keys.is_empty() {
            partition.remove(&sort);
        }
        if partition.is_empty() {
            self.entries.remove(&hash);
        }
    }
}

impl TableData {
    pub fn new(def: &TableDefinition) -> TableData {
        TableData {
            indexes: def.indexes().map(|(i, global)| IndexData::new(def, i, global)).collect(),
            ttl_attribute: def.ttl_attribute.clone(),
            ..TableData::default()
        }
    }

    /// Enables (Some) or disables Time to Live, re-reading the expiry of every item.
    pub fn set_ttl(&mut self, attribute: Option<String>) {
        self.expiries.clear();
        self.ttl_attribute = attribute;
        let attribute = self.ttl_attribute.as_deref();
        for (hash, partition) in &self.items {
            for (range, item) in partition {
                if let Some(at) = expiry_of(attribute, item) {
                    self.expiries.insert((at, PrimaryKey { hash: hash.clone(), range: range.clone() }));
                }
            }
        }
    }

    /// Keys of the items whose TTL is at or before `now_secs`, soonest first. DynamoDB
    /// leaves alone expiry times more than five years in the past (they are taken to be
    /// something other than a TTL).
    pub fn expired(&self, now_secs: i64) -> Vec<PrimaryKey> {
        let oldest = now_secs.saturating_sub(TTL_MAX_AGE_SECS);
        self.expiries
            .range((oldest, PrimaryKey { hash: KeyValue::S(String::new()), range: None })..)
            .take_while(|(at, _)| *at <= now_secs)
            .map(|(_, k)| k.clone())
            .collect()
    }

    pub fn get(&self, key: &PrimaryKey) -> Option<&Item> {
        self.items.get(&key.hash)?.get(&key.range)
    }

    /// Writes an item (and its index entries); returns the item it replaced.
    pub fn put(&mut self, key: PrimaryKey, item: Item) -> Option<Item> {
        let old = self.delete(&key);
        for index in &mut self.indexes {
            index.insert(&key, &item);
        }
        self.item_count += 1;
        self.size_bytes += item_size(&item);
        if let Some(at) = expiry_of(self.ttl_attribute.as_deref(), &item) {
            self.expiries.insert((at, key.clone()));
        }
        self.items.entry(key.hash).or_default().insert(key.range, item);
        old
    }

    pub fn delete(&mut self, key: &PrimaryKey) -> Option<Item> {
        let partition = self.items.get_mut(&key.hash)?;
        let old = partition.remove(&key.range)?;
        if partition.is_empty() {
            self.items.remove(&key.hash);
        }
        for index in &mut self.indexes {
            index.remove(key, &old);
        }
        if let Some(at) = expiry_of(self.ttl_attribute.as_deref(), &old) {
            self.expiries.remove(&(at, key.clone()));
        }
        self.item_count = self.item_count.saturating_sub(1);
        self.size_bytes = self.size_bytes.saturating_sub(item_size(&old));
        Some(old)
    }

    /// A new GSI (UpdateTable): filled from the items already there.
    pub fn add_index(&mut self, mut index: IndexData) {
        for (hash, partition) in &self.items {
            for (range, item) in partition {
                index.insert(&PrimaryKey { hash: hash.clone(), range: range.clone() }, item);
            }
        }
        self.indexes.push(index);
    }

    pub fn remove_index(&mut self, name: &str) {
        self.indexes.retain(|i| i.name != name);
    }

    pub fn index(&self, name: &str) -> Option<&IndexData> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// The items of one partition of the table (`index` None) or of an index, in sort-key
    /// order (reversed when `forward` is false), narrowed by `sort`, starting after `start`.
    pub fn query<'a>(
        &'a self,
        index: Option<&'a IndexData>,
        partition: &KeyValue,
        sort: Option<&'a SortKeyCondition>,
        forward: bool,
        start: Option<&Position>,
    ) -> Box<dyn Iterator<Item = (Position, &'a Item)> + 'a> {
        let matches = move |s: &Option<KeyValue>| match (sort, s) {
            (None, _) => true,
            (Some(c), Some(v)) => c.matches(v),
            (Some(_), None) => false,
        };
        let (lo, hi) = sort.map(SortKeyCondition::bounds).unwrap_or((Bound::Unbounded, Bound::Unbounded));
        let lo = lo.map(Some);
        let hi = hi.map(Some);
        match index {
            None => {
                let Some(p) = self.items.get(partition) else { return Box::new(std::iter::empty()) };
                let (lo, hi) = match start {
                    Some(s) if forward => (Bound::Excluded(s.sort.clone()), hi),
                    Some(s) => (lo, Bound::Excluded(s.sort.clone())),
                    None => (lo, hi),
                };
                let hash = partition.clone();
                let iter = safe_range(p, lo, hi).map(move |(s, item)| {
                    let key = PrimaryKey { hash: hash.clone(), range: s.clone() };
                    (Position { hash: hash.clone(), sort: s.clone(), key }, item)
                });
                ordered(iter, forward, matches)
            }
            Some(ix) => {
                let Some(p) = ix.entries.get(partition) else { return Box::new(std::iter::empty()) };
                // The bucket of the start position continues after its table key; the
                // buckets beyond it follow.
                let (first, lo, hi): (IndexEntries<'a>, _, _) = match start {
                    Some(st) => {
                        let first: IndexEntries<'a> = match p.get_key_value(&st.sort) {
                            Some((s, keys)) if matches(s) => {
                                let after = (Bound::Excluded(st.key.clone()), Bound::Unbounded);
                                let before = (Bound::Unbounded, Bound::Excluded(st.key.clone()));
                                if forward {
                                    Box::new(keys.range(after).map(move |k| (s, k)))
                                } else {
                                    Box::new(keys.range(before).rev().map(move |k| (s, k)))
                                }
                            }
                            _ => Box::new(std::iter::empty()),
                        };
                        if forward { (first, Bound::Excluded(st.sort.clone()), hi) } else { (first, lo, Bound::Excluded(st.sort.clone())) }
                    }
                    None => (Box::new(std::iter::empty()), lo, hi),
                };
                let rest = ordered(safe_range(p, lo, hi), forward, matches).flat_map(move |(s, keys)| {
                    let keys: Box<dyn Iterator<Item = &'a PrimaryKey>> =
                        if forward { Box::new(keys.iter()) } else { Box::new(keys.iter().rev()) };
                    keys.map(move |k| (s, k))
                });
                let hash = partition.clone();
                Box::new(first.chain(rest).filter_map(move |(s, k)| {
                    let item = self.get(k)?;
                    Some((Position { hash: hash.clone(), sort: s.clone(), key: k.clone() }, item))
                }))
            }
        }
    }

    /// Every item of the table or an index in key order, from after `start`, keeping the
    /// partitions `keep` accepts (parallel scan segments).
    pub fn scan<'a>(
        &'a self,
        index: Option<&'a IndexData>,
        start: Option<&Position>,
        keep: impl Fn(&KeyValue) -> bool + 'a,
    ) -> Box<dyn Iterator<Item = (Position, &'a Item)> + 'a> {
        let first_partition = start.map(|s| s.hash.clone());
        let head: Box<dyn Iterator<Item = (Position, &'a Item)>> = match (&first_partition, start) {
            (Some(hash), Some(st)) if keep(hash) => self.query(index, hash, None, true, Some(st)),
            _ => Box::new(std::iter::empty()),
        };
        let from = match first_partition {
            Some(h) => Bound::Excluded(h),
            None => Bound::Unbounded,
        };
        let hashes: Box<dyn Iterator<Item = &'a KeyValue>> = match index {
            None => Box::new(self.items.range((from, Bound::Unbounded)).map(|(h, _)| h)),
            Some(ix) => Box::new(ix.entries.range((from, Bound::Unbounded)).map(|(h, _)| h)),
        };
        let rest = hashes.filter(move |h| keep(h)).flat_map(move |h| self.query(index, h, None, true, None));
        Box::new(head.chain(rest))
    }
}

fn ordered<'a, T: SortOf + 'a>(
    iter: impl DoubleEndedIterator<Item = T> + 'a,
    forward: bool,
    matches: impl Fn(&Option<KeyValue>) -> bool + Copy + 'a,
) -> Box<dyn Iterator<Item = T> + 'a> {
    // Matching sort keys are contiguous: skip up to the first, stop after the last.
    if forward {
        Box::new(iter.skip_while(move |t| !matches(t.sort_of())).take_while(move |t| matches(t.sort_of())))
    } else {
        Box::new(iter.rev().skip_while(move |t| !matches(t.sort_of())).take_while(move |t| matches(t.sort_of())))
    }
}

trait SortOf {
    fn sort_of(&self) -> &Option<KeyValue>;
}

impl<V> SortOf for (&Option<KeyValue>, V) {
    fn sort_of(&self) -> &Option<KeyValue> {
        self.0
    }
}

impl<V> SortOf for (Position, V) {
    fn sort_of(&self) -> &Option<KeyValue> {
        &self.0.sort
    }
}

/// `BTreeMap::range`, empty instead of panicking when the bounds cross (a start key
/// outside the key condition).
fn safe_range<'a, V>(
    map: &'a Partition<V>,
    lo: Bound<Option<KeyValue>>,
    hi: Bound<Option<KeyValue>>,
) -> Box<dyn DoubleEndedIterator<Item = (&'a Option<KeyValue>, &'a V)> + 'a> {
    let crossed = match (&lo, &hi) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b)) | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
        _ => false,
    };
    if crossed { Box::new(std::iter::empty()) } else { Box::new(map.range((lo, hi))) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::AttributeValue;
    use crate::definition::{IndexProjection, PAY_PER_REQUEST};
    use crate::number::Number;

    fn n(v: i64) -> KeyValue {
        KeyValue::N(Number::from(v))
    }

    fn s(v: &str) -> KeyValue {
        KeyValue::S(v.into())
    }

    fn definition() -> TableDefinition {
        TableDefinition {
            account: "a".into(),
            region: "r".into(),
            name: "t".into(),
            table_id: "id".into(),
            created_at: 0,
            attribute_definitions: vec![("pk".into(), "S".into()), ("sk".into(), "N".into()), ("g".into(), "S".into())],
            hash_key: "pk".into(),
            range_key: Some("sk".into()),
            billing_mode: PAY_PER_REQUEST.into(),
            read_capacity: 0,
            write_capacity: 0,
            pay_per_request_since: None,
            global_indexes: vec![IndexDefinition {
                name: "gsi".into(),
                hash_key: "g".into(),
                range_key: None,
                projection: IndexProjection { projection_type: "ALL".into(), non_key_attributes: vec![] },
                read_capacity: 0,
                write_capacity: 0,
            }],
            local_indexes: vec![],
            stream: None,
            tags: vec![],
            deletion_protection: false,
            features: Default::default(),
            table_class: None,
            ttl_attribute: None,
            restore: None,
            sse_kms_key_arn: None,
        }
    }

    fn put(data: &mut TableData, pk: &str, sk: i64, g: Option<&str>) {
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::S(pk.into()));
        item.insert("sk".into(), AttributeValue::N(Number::from(sk)));
        if let Some(g) = g {
            item.insert("g".into(), AttributeValue::S(g.into()));
        }
        data.put(PrimaryKey { hash: s(pk), range: Some(n(sk)) }, item);
    }

    fn sorts(iter: Box<dyn Iterator<Item = (Position, &Item)> + '_>) -> Vec<KeyValue> {
        iter.filter_map(|(p, _)| p.key.range).collect()
    }

    #[test]
    fn a_query_reads_one_partition_in_sort_key_order_from_a_start_key() {
        let mut data = TableData::new(&definition());
        for sk in [5, 1, 10, 3] {
            put(&mut data, "a", sk, None);
        }
        put(&mut data, "b", 2, None);
        let between = SortKeyCondition::Between(n(2), n(10));
        assert_eq!(sorts(data.query(None, &s("a"), Some(&between), true, None)), vec![n(3), n(5), n(10)]);
        assert_eq!(sorts(data.query(None, &s("a"), Some(&between), false, None)), vec![n(10), n(5), n(3)]);
        let start = Position { hash: s("a"), sort: Some(n(3)), key: PrimaryKey { hash: s("a"), range: Some(n(3)) } };
        assert_eq!(sorts(data.query(None, &s("a"), Some(&between), true, Some(&start))), vec![n(5), n(10)]);
        assert_eq!(sorts(data.query(None, &s("a"), Some(&between), false, Some(&start))), Vec::<KeyValue>::new());
        let outside = Position { hash: s("a"), sort: Some(n(100)), key: PrimaryKey { hash: s("a"), range: Some(n(100)) } };
        assert!(sorts(data.query(None, &s("a"), Some(&between), true, Some(&outside))).is_empty());
    }

    #[test]
    fn index_keys_need_not_be_unique_and_items_without_them_are_absent() {
        let mut data = TableData::new(&definition());
        put(&mut data, "a", 1, Some("x"));
        put(&mut data, "b", 1, Some("x"));
        put(&mut data, "c", 1, Some("x"));
        put(&mut data, "d", 1, None);
        let index = data.index("gsi").unwrap_or_else(|| panic!("no index"));
        assert_eq!(index.item_count, 3);
        let all: Vec<Position> = data.query(Some(index), &s("x"), None, true, None).map(|(p, _)| p).collect();
        assert_eq!(all.len(), 3);
        let after_first: Vec<Position> = data.query(Some(index), &s("x"), None, true, Some(&all[0])).map(|(p, _)| p).collect();
        assert_eq!(after_first, all[1..].to_vec());
        put(&mut data, "a", 1, Some("y"));
        let index = data.index("gsi").unwrap_or_else(|| panic!("no index"));
        assert_eq!(data.query(Some(index), &s("x"), None, true, None).count(), 2);
        assert_eq!(data.scan(Some(index), None, |_| true).count(), 3);
    }

    #[test]
    fn items_expire_by_their_ttl_attribute_in_epoch_seconds() {
        let mut data = TableData::new(&definition());
        let mut at = |pk: &str, ttl: AttributeValue| {
            let mut item = Item::new();
            item.insert("pk".into(), AttributeValue::S(pk.into()));
            item.insert("sk".into(), AttributeValue::N(Number::from(1i64)));
            item.insert("exp".into(), ttl);
            data.put(PrimaryKey { hash: s(pk), range: Some(n(1)) }, item);
        };
        at("soon", AttributeValue::N(Number::from(1_000i64)));
        at("later", AttributeValue::N(Number::from(2_000i64)));
        at("text", AttributeValue::S("1000".into()));
        at("ancient", AttributeValue::N(Number::from(1i64)));
        assert!(data.expired(10_000).is_empty(), "TTL is not enabled yet");
        data.set_ttl(Some("exp".into()));
        let now = 1_500 + TTL_MAX_AGE_SECS - 1_000;
        let key = |pk: &str| PrimaryKey { hash: s(pk), range: Some(n(1)) };
        assert_eq!(data.expired(1_500), vec![key("ancient"), key("soon")]);
        // More than five years past its time, "ancient" is no longer taken for an expiry.
        assert_eq!(data.expired(now), vec![key("soon"), key("later")]);
        data.delete(&PrimaryKey { hash: s("soon"), range: Some(n(1)) });
        assert_eq!(data.expired(2_000), vec![key("ancient"), key("later")]);
    }

    #[test]
    fn a_scan_continues_after_its_start_key() {
        let mut data = TableData::new(&definition());
        for (pk, sk) in [("a", 1), ("a", 2), ("b", 1), ("c", 7)] {
            put(&mut data, pk, sk, None);
        }
        let all: Vec<Position> = data.scan(None, None, |_| true).map(|(p, _)| p).collect();
        assert_eq!(all.len(), 4);
        for i in 0..all.len() {
            let rest: Vec<Position> = data.scan(None, Some(&all[i]), |_| true).map(|(p, _)| p).collect();
            assert_eq!(rest, all[i + 1..].to_vec());
        }
    }
}
