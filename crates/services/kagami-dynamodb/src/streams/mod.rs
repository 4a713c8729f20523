//! DynamoDB Streams: the change log of every table with a stream enabled, one shard per
//! stream. A record is appended under the table's write lock by the write that causes it,
//! and its store record goes into that write's commit, so records are in commit order and
//! as durable as the items. Records older than 24 hours (emulated clock) are trimmed.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html>
//!
//! `api.rs` serves the DynamoDB Streams API from these logs; [`crate::ChangeFeed`] hands
//! them to other services (Lambda event source mappings).

pub(crate) mod api;
#[cfg(test)]
mod tests;

use crate::attribute::{Item, item_size};
use crate::codec;
use crate::definition::TableDefinition;
use crate::keys::PrimaryKey;
use crate::state::TableState;
use kagami_core::store::StoreOp;
use kagami_core::{Store, StoreError};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

pub const STREAMS: &str = "dynamodb/streams";
pub const STREAM_RECORDS: &str = "dynamodb/stream_records";

/// How long records stay readable.
pub const RETENTION_MILLIS: i64 = 24 * 3600 * 1000;

/// The first sequence number: 21 digits, as AWS's are.
const FIRST_SEQUENCE: u128 = 100_000_000_000_000_000_000;

/// What a stream is, one store record per stream keyed by its ARN.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamMeta {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub table_name: String,
    pub label: String,
    pub view_type: String,
    pub hash_key: String,
    pub range_key: Option<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub shard_id: String,
    pub starting_sequence: u128,
    /// Set when the stream is disabled (or its table deleted): its shard is closed.
    pub ending_sequence: Option<u128>,
}

/// One change of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRecord {
    pub sequence: u128,
    /// INSERT, MODIFY or REMOVE.
    pub event_name: String,
    /// Milliseconds since the epoch (emulated clock).
    pub created_at: i64,
    pub keys: Item,
    pub new_image: Option<Item>,
    pub old_image: Option<Item>,
    pub size_bytes: i64,
    /// A deletion by Time to Live, made by the DynamoDB service itself.
    pub by_service: bool,
}

#[derive(Debug)]
pub struct StreamLog {
    pub meta: StreamMeta,
    pub records: VecDeque<ChangeRecord>,
    /// The highest sequence number trimmed away (0: none).
    pub trimmed_through: u128,
}

impl StreamLog {
    /// The sequence number of its last record (or, before any, the one before its first).
    pub fn last_sequence(&self) -> u128 {
        self.records.back().map_or(self.meta.starting_sequence.saturating_sub(1), |r| r.sequence)
    }

    /// Drops records past retention; returns the store deletions.
    fn trim(&mut self, now: i64, durable: bool) -> Vec<StoreOp> {
        let mut ops = Vec::new();
        while self.records.front().is_some_and(|r| r.created_at < now - RETENTION_MILLIS) {
            if let Some(r) = self.records.pop_front() {
                self.trimmed_through = r.sequence;
                if durable {
                    ops.push(StoreOp::delete(STREAM_RECORDS, record_key(&self.meta.arn, r.sequence)));
                }
            }
        }
        ops
    }
}

/// One item change as a write makes it: the item before and after (None: absent).
#[derive(Clone, Copy)]
pub struct Change<'a> {
    pub key: &'a PrimaryKey,
    pub old: Option<&'a Item>,
    pub new: Option<&'a Item>,
    /// A deletion by Time to Live.
    pub by_service: bool,
}

/// Every stream, by ARN, and the sequence counter they share.
pub struct Streams {
    pub logs: RwLock<BTreeMap<String, Arc<Mutex<StreamLog>>>>,
    next_sequence: Mutex<u128>,
    /// The last sequence number written: readers of the change feed wait on it.
    pub written: tokio::sync::watch::Sender<u128>,
}

impl Default for Streams {
    fn default() -> Self {
        Streams {
            logs: RwLock::new(BTreeMap::new()),
            next_sequence: Mutex::new(FIRST_SEQUENCE),
            written: tokio::sync::watch::channel(0).0,
        }
    }
}

fn record_key(arn: &str, sequence: u128) -> String {
    format!("{arn}/{sequence:030}")
}

/// A short stable hash for shard ids (FNV-1a).
fn fnv(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

fn record_to_json(r: &ChangeRecord) -> serde_json::Value {
    serde_json::json!({
        "sequence": r.sequence.to_string(),
        "event_name": r.event_name,
        "created_at": r.created_at,
        "keys": codec::item_to_json(&r.keys),
        "new_image": r.new_image.as_ref().map(codec::item_to_json),
        "old_image": r.old_image.as_ref().map(codec::item_to_json),
        "size_bytes": r.size_bytes,
        "by_service": r.by_service,
    })
}

fn record_from_json(j: &serde_json::Value) -> Option<ChangeRecord> {
    let image = |name: &str| match j.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => codec::item_from_json(v).map(Some),
    };
    Some(ChangeRecord {
        sequence: j.get("sequence")?.as_str()?.parse().ok()?,
        event_name: j.get("event_name")?.as_str()?.to_string(),
        created_at: j.get("created_at")?.as_i64()?,
        keys: codec::item_from_json(j.get("keys")?).ok()?,
        new_image: image("new_image").ok()?,
        old_image: image("old_image").ok()?,
        size_bytes: j.get("size_bytes")?.as_i64()?,
        by_service: j.get("by_service")?.as_bool()?,
    })
}

impl Streams {
    /// Loads every stream and its records.
    pub fn load(store: &Store) -> Result<Streams, StoreError> {
        let streams = Streams::default();
        let mut max = FIRST_SEQUENCE;
        let mut logs = BTreeMap::new();
        for (arn, meta) in store.scan_json::<StreamMeta>(STREAMS)? {
            max = max.max(meta.starting_sequence).max(meta.ending_sequence.unwrap_or(0));
            logs.insert(arn, StreamLog { meta, records: VecDeque::new(), trimmed_through: 0 });
        }
        for (key, bytes) in store.scan(STREAM_RECORDS)? {
            let Some((arn, _)) = key.rsplit_once('/') else { continue };
            let Some(log) = logs.get_mut(arn) else { continue };
            let record = serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|j| record_from_json(&j));
            match record {
                Some(r) => {
                    max = max.max(r.sequence);
                    log.records.push_back(r);
                }
                None => tracing::warn!(key, "skipping a stream record that does not decode"),
            }
        }
        // Records past retention go now: a closed stream gets no later write to trim them.
        let now = kagami_core::clock::now_millis();
        let expired: Vec<StoreOp> = logs.values_mut().flat_map(|log| log.trim(now, store.is_durable())).collect();
        if !expired.is_empty() {
            drop(store.submit(expired));
        }
        *streams.next_sequence.lock() = max + 1;
        streams.written.send_replace(max);
        *streams.logs.write() = logs.into_iter().map(|(k, v)| (k, Arc::new(Mutex::new(v)))).collect();
        Ok(streams)
    }

    pub fn clear(&self) {
        self.logs.write().clear();
    }

    /// A stream enabled again within the millisecond of an earlier one would share its
    /// label (and ARN): moves the label on until the ARN is new.
    pub fn unique_label(&self, def: &mut TableDefinition, now: i64) {
        let mut at = now;
        while let Some(arn) = def.stream_arn()
            && self.get(&arn).is_some()
            && let Some(stream) = def.stream.as_mut()
        {
            at += 1;
            stream.label = kagami_protocol::Timestamp::from_millis(at).to_iso8601_millis().trim_end_matches('Z').to_string();
        }
    }

    pub fn get(&self, arn: &str) -> Option<Arc<Mutex<StreamLog>>> {
        self.logs.read().get(arn).cloned()
    }

    /// Keeps the registry in step with a table's stream: opens the stream `def` names if it
    /// is new, closes `previous` if it is another one (or `def` is gone). Returns the store
    /// records for the same commit as the table's.
    pub fn sync(&self, previous: Option<String>, def: Option<&TableDefinition>, now: i64, durable: bool) -> Vec<StoreOp> {
        let current = def.and_then(|d| d.stream_arn());
        let mut ops = Vec::new();
        if let Some(prev) = previous.filter(|p| Some(p) != current.as_ref())
            && let Some(log) = self.get(&prev)
        {
            let mut log = log.lock();
            if log.meta.ending_sequence.is_none() {
                // An empty shard ends where it starts.
                log.meta.ending_sequence = Some(log.last_sequence().max(log.meta.starting_sequence));
                if durable {
                    ops.push(StoreOp::put_json(STREAMS, log.meta.arn.clone(), &log.meta));
                }
            }
        }
        if let (Some(arn), Some(def), Some(stream)) = (current, def, def.and_then(|d| d.stream.as_ref()))
            && self.get(&arn).is_none()
        {
            let starting_sequence = *self.next_sequence.lock();
            let meta = StreamMeta {
                arn: arn.clone(),
                account: def.account.clone(),
                region: def.region.clone(),
                table_name: def.name.clone(),
                label: stream.label.clone(),
                view_type: stream.view_type.clone(),
                hash_key: def.hash_key.clone(),
                range_key: def.range_key.clone(),
                created_at: now,
                shard_id: format!("shardId-{:020}-{:08x}", now, fnv(&arn)),
                starting_sequence,
                ending_sequence: None,
            };
            if durable {
                ops.push(StoreOp::put_json(STREAMS, arn.clone(), &meta));
            }
            self.logs.write().insert(arn, Arc::new(Mutex::new(StreamLog { meta, records: VecDeque::new(), trimmed_through: 0 })));
        }
        ops
    }

    /// Appends the record of one item change to the table's stream, if it has one and the
    /// item changed (DynamoDB writes none for a write that leaves the item as it was).
    /// Called under the table's write lock; returns the store records for its commit.
    pub fn record_change(&self, state: &TableState, change: Change<'_>, now: i64, durable: bool) -> Vec<StoreOp> {
        let Change { key, old, new, by_service } = change;
        let Some(stream) = &state.def.stream else { return Vec::new() };
        let event_name = match (old, new) {
            (None, Some(_)) => "INSERT",
            (Some(o), Some(n)) if o != n => "MODIFY",
            (Some(_), None) => "REMOVE",
            _ => return Vec::new(),
        };
        let Some(arn) = state.def.stream_arn() else { return Vec::new() };
        let log = match self.get(&arn) {
            Some(log) => log,
            None => {
                // A stream loaded from a table record written before streams were kept.
                let mut ops = self.sync(None, Some(&state.def), now, durable);
                ops.extend(self.record_change(state, change, now, durable));
                return ops;
            }
        };
        let keys = state.schema.key_item(key);
        let (new_image, old_image) = match stream.view_type.as_str() {
            "NEW_IMAGE" => (new.cloned(), None),
            "OLD_IMAGE" => (None, old.cloned()),
            "NEW_AND_OLD_IMAGES" => (new.cloned(), old.cloned()),
            _ => (None, None),
        };
        let size = item_size(&keys) + new_image.as_ref().map_or(0, item_size) + old_image.as_ref().map_or(0, item_size);
        let mut log = log.lock();
        let sequence = {
            let mut next = self.next_sequence.lock();
            let s = *next;
            *next += 1;
            s
        };
        let record = ChangeRecord {
            sequence,
            event_name: event_name.to_string(),
            created_at: now,
            keys,
            new_image,
            old_image,
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
            by_service,
        };
        let mut ops = log.trim(now, durable);
        if durable {
            ops.push(StoreOp::put(STREAM_RECORDS, record_key(&arn, sequence), record_to_json(&record).to_string().into_bytes()));
        }
        log.records.push_back(record);
        drop(log);
        self.written.send_replace(sequence);
        ops
    }
}
