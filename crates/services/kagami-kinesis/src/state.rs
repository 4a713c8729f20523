//! The Kinesis domain model: the streams of one (account, region), their shards and
//! records, and how each is kept in the store.
//!
//! Records: a stream (settings, tags, consumers) in `kinesis_streams`, each shard (hash
//! key range, lineage, record counter) in `kinesis_shards`, each data record in
//! `kinesis_records` keyed by stream, shard and counter, so that a put writes two small
//! records, deleting a stream is three prefix deletes, and a restart reloads every
//! shard's records in order.

use crate::errors::{constraint, invalid, shard_not_found, stream_not_found};
use crate::generated::{HashKeyRange, KinesisError, SequenceNumberRange, Shard as ShardShape};
use crate::keys::{parse_shard_id, sequence_number, shard_id};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceEnv, Store, StoreError};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

pub(crate) const STREAMS: &str = "kinesis_streams";
pub(crate) const SHARDS: &str = "kinesis_shards";
pub(crate) const RECORDS: &str = "kinesis_records";

pub(crate) const MILLIS_PER_HOUR: i64 = 3_600_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ConsumerRecord {
    pub name: String,
    pub arn: String,
    pub created_ms: i64,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StreamRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub created_ms: i64,
    pub retention_hours: i32,
    /// PROVISIONED or ON_DEMAND.
    pub mode: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// NONE or KMS.
    pub encryption_type: String,
    pub key_id: Option<String>,
    #[serde(default)]
    pub shard_level_metrics: Vec<String>,
    #[serde(default)]
    pub consumers: Vec<ConsumerRecord>,
    pub next_shard_index: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ShardRecord {
    pub index: u32,
    pub parent: Option<u32>,
    pub adjacent_parent: Option<u32>,
    /// Decimal strings: JSON numbers do not hold 128 bits.
    pub start_hash: String,
    pub end_hash: String,
    pub created_ms: i64,
    pub closed_ms: Option<i64>,
    /// Counter of the last record put (0: none yet).
    pub last_counter: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredRecord {
    #[serde(rename = "d")]
    pub data: String,
    #[serde(rename = "k")]
    pub partition_key: String,
    #[serde(rename = "t")]
    pub arrival_ms: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct DataRecord {
    pub counter: u64,
    pub arrival_ms: i64,
    pub partition_key: String,
    pub data: Bytes,
}

pub(crate) struct Shard {
    pub rec: ShardRecord,
    pub start: u128,
    pub end: u128,
    /// Oldest first; counters strictly increase.
    pub records: VecDeque<DataRecord>,
}

impl Shard {
    pub fn new(index: u32, (start, end): (u128, u128), parents: (Option<u32>, Option<u32>), now: i64) -> Shard {
        Shard {
            rec: ShardRecord {
                index,
                parent: parents.0,
                adjacent_parent: parents.1,
                start_hash: start.to_string(),
                end_hash: end.to_string(),
                created_ms: now,
                closed_ms: None,
                last_counter: 0,
            },
            start,
            end,
            records: VecDeque::new(),
        }
    }

    pub fn id(&self) -> String {
        shard_id(self.rec.index)
    }

    pub fn is_open(&self) -> bool {
        self.rec.closed_ms.is_none()
    }

    pub fn covers(&self, hash: u128) -> bool {
        self.start <= hash && hash <= self.end
    }

    pub fn hash_key_range(&self) -> HashKeyRange {
        HashKeyRange { starting_hash_key: self.start.to_string(), ending_hash_key: self.end.to_string() }
    }

    pub fn describe(&self) -> ShardShape {
        ShardShape {
            shard_id: self.id(),
            parent_shard_id: self.rec.parent.map(shard_id),
            adjacent_parent_shard_id: self.rec.adjacent_parent.map(shard_id),
            hash_key_range: self.hash_key_range(),
            sequence_number_range: SequenceNumberRange {
                starting_sequence_number: sequence_number(self.rec.index, self.rec.created_ms, 0),
                ending_sequence_number: self.rec.closed_ms.map(|t| sequence_number(self.rec.index, t, self.rec.last_counter)),
            },
        }
    }
}

pub(crate) struct Stream {
    pub rec: StreamRecord,
    /// By shard index: ids sort the same way.
    pub shards: BTreeMap<u32, Shard>,
}

impl Stream {
    pub fn key(&self) -> String {
        stream_key(&self.rec.account, &self.rec.region, &self.rec.name)
    }

    pub fn arn(&self) -> String {
        stream_arn(&self.rec.account, &self.rec.region, &self.rec.name)
    }

    pub fn record_op(&self) -> StoreOp {
        StoreOp::put_json(STREAMS, self.key(), &self.rec)
    }

    pub fn shard_op(&self, shard: &Shard) -> StoreOp {
        StoreOp::put_json(SHARDS, shard_key(&self.key(), shard.rec.index), &shard.rec)
    }

    pub fn record_key(&self, shard: u32, counter: u64) -> String {
        format!("{}:{counter:020}", shard_key(&self.key(), shard))
    }

    pub fn open_shard_count(&self) -> usize {
        self.shards.values().filter(|s| s.is_open()).count()
    }

    pub fn shard(&self, id: &str) -> Result<&Shard, KinesisError> {
        parse_shard_id(id)
            .and_then(|i| self.shards.get(&i))
            .ok_or_else(|| shard_not_found(id, &self.rec.name, &self.rec.account))
    }

    /// Drops the records older than the retention period at `now`, and closed shards
    /// whose every record has aged out, adding their deletion to `ops`.
    pub fn expire(&mut self, now: i64, ops: &mut Vec<StoreOp>) {
        let cutoff = now.saturating_sub(i64::from(self.rec.retention_hours).saturating_mul(MILLIS_PER_HOUR));
        let key = self.key();
        let mut gone = Vec::new();
        for shard in self.shards.values_mut() {
            while shard.records.front().is_some_and(|r| r.arrival_ms < cutoff) {
                if let Some(r) = shard.records.pop_front() {
                    ops.push(StoreOp::delete(RECORDS, format!("{}:{:020}", shard_key(&key, shard.rec.index), r.counter)));
                }
            }
            if shard.rec.closed_ms.is_some_and(|c| c < cutoff) {
                gone.push(shard.rec.index);
            }
        }
        for index in gone {
            self.shards.remove(&index);
            let shard = shard_key(&key, index);
            ops.push(StoreOp::delete(SHARDS, shard.clone()));
            ops.push(StoreOp::delete_prefix(RECORDS, format!("{shard}:")));
        }
    }

    /// The store ops that remove this stream and everything in it.
    pub fn delete_ops(&self) -> Vec<StoreOp> {
        let key = self.key();
        vec![
            StoreOp::delete(STREAMS, key.clone()),
            StoreOp::delete_prefix(SHARDS, format!("{key}:")),
            StoreOp::delete_prefix(RECORDS, format!("{key}:")),
        ]
    }
}

pub(crate) fn stream_arn(account: &str, region: &str, name: &str) -> String {
    let partition = kagami_core::arn::partition_of_region(region);
    format!("arn:{partition}:kinesis:{region}:{account}:stream/{name}")
}

pub(crate) fn stream_key(account: &str, region: &str, name: &str) -> String {
    // Stream names cannot contain ':'.
    format!("{account}:{region}:{name}")
}

fn shard_key(stream_key: &str, index: u32) -> String {
    format!("{stream_key}:{index:010}")
}

/// Streams of one (account, region), by name.
pub(crate) type Partition = BTreeMap<String, Stream>;

/// All Kinesis state.
pub struct Kinesis {
    pub(crate) store: Store,
    pub(crate) partitions: Mutex<HashMap<(String, String), Partition>>,
}

impl Kinesis {
    pub fn new(env: &ServiceEnv) -> Result<Kinesis, StoreError> {
        let kinesis = Kinesis { store: env.store.clone(), partitions: Mutex::new(HashMap::new()) };
        kinesis.load()?;
        Ok(kinesis)
    }

    fn load(&self) -> Result<(), StoreError> {
        let mut streams: HashMap<String, Stream> = HashMap::new();
        for (key, rec) in self.store.scan_json::<StreamRecord>(STREAMS)? {
            streams.insert(key, Stream { rec, shards: BTreeMap::new() });
        }
        for (key, rec) in self.store.scan_json::<ShardRecord>(SHARDS)? {
            let Some((stream, _)) = key.rsplit_once(':') else { continue };
            let (Ok(start), Ok(end)) = (rec.start_hash.parse::<u128>(), rec.end_hash.parse::<u128>()) else { continue };
            if let Some(s) = streams.get_mut(stream) {
                s.shards.insert(rec.index, Shard { rec, start, end, records: VecDeque::new() });
            }
        }
        // Keys sort by stream, shard and zero-padded counter: records arrive in order.
        for (key, rec) in self.store.scan_json::<StoredRecord>(RECORDS)? {
            let mut parts = key.rsplitn(3, ':');
            let (Some(counter), Some(index), Some(stream)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let (Ok(counter), Ok(index)) = (counter.parse::<u64>(), index.parse::<u32>()) else { continue };
            let Ok(data) = STANDARD.decode(rec.data.as_bytes()) else { continue };
            if let Some(shard) = streams.get_mut(stream).and_then(|s| s.shards.get_mut(&index)) {
                shard.rec.last_counter = shard.rec.last_counter.max(counter);
                shard.records.push_back(DataRecord {
                    counter,
                    arrival_ms: rec.arrival_ms,
                    partition_key: rec.partition_key,
                    data: Bytes::from(data),
                });
            }
        }
        let mut partitions = self.partitions.lock();
        for (_, stream) in streams {
            let at = (stream.rec.account.clone(), stream.rec.region.clone());
            partitions.entry(at).or_default().insert(stream.rec.name.clone(), stream);
        }
        Ok(())
    }

    pub fn reset(&self) {
        self.partitions.lock().clear();
        let store = self.store.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = store.drop_tables("kinesis_").await {
                    tracing::warn!(error = %e, "resetting the kinesis store failed");
                }
            });
        }
    }

    /// Runs `f` on the streams of the caller's (account, region).
    pub(crate) fn with_partition<R>(&self, ctx: &RequestContext, f: impl FnOnce(&mut Partition) -> R) -> R {
        let mut partitions = self.partitions.lock();
        let partition = partitions.entry((ctx.account_id.clone(), ctx.region.clone())).or_default();
        f(partition)
    }
}

pub(crate) fn encode_data(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// The name of the stream a request means, from its StreamName and/or StreamARN.
pub(crate) fn resolve_name(ctx: &RequestContext, name: Option<&str>, arn: Option<&str>) -> Result<String, KinesisError> {
    match (name, arn) {
        (None, None) => Err(invalid("Either StreamName or StreamARN must be provided.")),
        (Some(name), None) => Ok(name.to_string()),
        (name, Some(arn)) => {
            let (account, region, from_arn) = parse_stream_arn(arn)?;
            if let Some(name) = name
                && name != from_arn
            {
                return Err(invalid(format!("StreamARN {arn} does not match StreamName {name}.")));
            }
            if account != ctx.account_id || region != ctx.region {
                return Err(stream_not_found(&from_arn, &account));
            }
            Ok(from_arn)
        }
    }
}

/// (account, region, name) of `arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME`.
pub(crate) fn parse_stream_arn(arn: &str) -> Result<(String, String, String), KinesisError> {
    let bad = || {
        constraint(
            arn,
            "streamARN",
            "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
        )
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = parts.as_slice() else { return Err(bad()) };
    if *scheme != "arn" || !partition.starts_with("aws") || *service != "kinesis" {
        return Err(bad());
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let name = resource.strip_prefix("stream/").ok_or_else(bad)?;
    // A consumer ARN is the stream ARN followed by /consumer/NAME:TIMESTAMP.
    let name = name.split('/').next().unwrap_or(name);
    if name.is_empty() {
        return Err(bad());
    }
    Ok((account.to_string(), region.to_string(), name.to_string()))
}

pub(crate) fn stream_mut<'a>(partition: &'a mut Partition, ctx: &RequestContext, name: &str) -> Result<&'a mut Stream, KinesisError> {
    partition.get_mut(name).ok_or_else(|| stream_not_found(name, &ctx.account_id))
}
