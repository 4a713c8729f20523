//! The CloudWatch Logs domain model: log groups of one (account, region), their streams
//! and events, and how each is kept in the store.
//!
//! Records: a log group (with its tags, retention and filters) in `logs_groups`, a
//! stream in `logs_streams`, each event in `logs_events` under its stream's key, so
//! that deleting a stream or a group is one prefix delete and a restart reloads every
//! stream's events in order.
//! The account's other resources (query definitions, resource policies, destinations,
//! export tasks) are kept beside the groups, in `resources.rs`.

use crate::errors::{group_not_found, stream_not_found};
use crate::generated::LogsError;
use crate::insights::Query;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceEnv, Store, StoreError, Peers};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub(crate) const GROUPS: &str = "logs_groups";
pub(crate) const STREAMS: &str = "logs_streams";
pub(crate) const EVENTS: &str = "logs_events";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SubscriptionFilterRecord {
    pub name: String,
    pub pattern: String,
    pub destination_arn: String,
    pub role_arn: Option<String>,
    pub distribution: Option<String>,
    pub creation_time: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MetricTransformationRecord {
    pub metric_name: String,
    pub metric_namespace: String,
    pub metric_value: String,
    pub default_value: Option<f64>,
    pub dimensions: Option<BTreeMap<String, String>>,
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MetricFilterRecord {
    pub name: String,
    pub pattern: String,
    pub transformations: Vec<MetricTransformationRecord>,
    pub creation_time: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GroupRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub creation_time: i64,
    pub retention_in_days: Option<i32>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub log_group_class: String,
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub deletion_protection: bool,
    #[serde(default)]
    pub subscription_filters: Vec<SubscriptionFilterRecord>,
    #[serde(default)]
    pub metric_filters: Vec<MetricFilterRecord>,
    /// PutDataProtectionPolicy's document and when it was put (stored, not applied).
    #[serde(default)]
    pub data_protection_policy: Option<String>,
    #[serde(default)]
    pub data_protection_updated: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StreamRecord {
    pub group: String,
    pub name: String,
    pub creation_time: i64,
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
    pub last_ingestion: Option<i64>,
    /// Sequence number of the next event: events are keyed by it in the store and it
    /// breaks ties between events of the same timestamp.
    pub next_seq: u64,
    /// Counts PutLogEvents calls; the upload sequence token is derived from it.
    pub uploads: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Event {
    #[serde(rename = "t")]
    pub timestamp: i64,
    #[serde(rename = "i")]
    pub ingestion_time: i64,
    #[serde(rename = "m")]
    pub message: String,
    #[serde(skip)]
    pub seq: u64,
}

impl Event {
    /// Where the event sorts in its stream: by timestamp, then arrival.
    pub fn position(&self) -> (i64, u64) {
        (self.timestamp, self.seq)
    }
}

pub(crate) struct Stream {
    pub rec: StreamRecord,
    /// Sorted by [`Event::position`].
    pub events: Vec<Event>,
}

impl Stream {
    pub fn upload_sequence_token(&self) -> String {
        // AWS's tokens are long decimal strings; clients only echo them.
        format!("4963{:052}", self.rec.uploads)
    }
}

pub(crate) struct Group {
    pub rec: GroupRecord,
    pub streams: BTreeMap<String, Stream>,
}

impl Group {
    pub fn key(&self) -> String {
        group_key(&self.rec.account, &self.rec.region, &self.rec.name)
    }

    pub fn record_op(&self) -> StoreOp {
        StoreOp::put_json(GROUPS, self.key(), &self.rec)
    }

    pub fn stream_record_op(&self, stream: &Stream) -> StoreOp {
        StoreOp::put_json(STREAMS, stream_key(&self.key(), &stream.rec.name), &stream.rec)
    }

    /// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*`, as DescribeLogGroups' `arn`.
    pub fn arn(&self) -> String {
        format!("{}:*", self.arn_without_star())
    }

    /// The ARN tagging and `logGroupArn` use, without the trailing `:*`.
    pub fn arn_without_star(&self) -> String {
        let partition = kagami_core::arn::partition_of_region(&self.rec.region);
        format!("arn:{partition}:logs:{}:{}:log-group:{}", self.rec.region, self.rec.account, self.rec.name)
    }

    pub fn stored_bytes(&self) -> i64 {
        let bytes: usize = self.streams.values().flat_map(|s| s.events.iter()).map(|e| e.message.len()).sum();
        i64::try_from(bytes).unwrap_or(i64::MAX)
    }

    /// Drops the events that retention has expired at `now`, adding their deletion to `ops`.
    pub fn expire(&mut self, now: i64, ops: &mut Vec<StoreOp>) {
        let Some(days) = self.rec.retention_in_days else { return };
        let cutoff = now.saturating_sub(i64::from(days).saturating_mul(MILLIS_PER_DAY));
        let group_key = self.key();
        for stream in self.streams.values_mut() {
            let expired = stream.events.partition_point(|e| e.timestamp < cutoff);
            if expired == 0 {
                continue;
            }
            let key = stream_key(&group_key, &stream.rec.name);
            for e in stream.events.drain(..expired) {
                ops.push(StoreOp::delete(EVENTS, event_key(&key, e.seq)));
            }
        }
    }
}

pub(crate) const MILLIS_PER_DAY: i64 = 86_400_000;

pub(crate) fn group_key(account: &str, region: &str, group: &str) -> String {
    // Neither group nor stream names may contain ':'.
    format!("{account}:{region}:{group}")
}

pub(crate) fn stream_key(group_key: &str, stream: &str) -> String {
    format!("{group_key}:{stream}")
}

pub(crate) fn event_key(stream_key: &str, seq: u64) -> String {
    format!("{stream_key}:{seq:020}")
}

/// Log groups of one (account, region), by name.
pub(crate) type Partition = BTreeMap<String, Group>;

/// All CloudWatch Logs state.
pub struct Logs {
    pub(crate) store: Store,
    pub(crate) peers: Peers,
    pub(crate) partitions: Mutex<HashMap<(String, String), Partition>>,
    pub(crate) queries: Mutex<Vec<Query>>,
    pub(crate) resources: Mutex<crate::resources::AllResources>,
}

impl Logs {
    pub fn new(env: &ServiceEnv) -> Result<Logs, StoreError> {
        let logs = Logs {
            store: env.store.clone(),
            peers: env.peers.clone(),
            partitions: Mutex::new(HashMap::new()),
            queries: Mutex::new(Vec::new()),
            resources: Mutex::new(crate::resources::load(&env.store)?),
        };
        logs.load()?;
        Ok(logs)
    }

    fn load(&self) -> Result<(), StoreError> {
        let mut partitions = self.partitions.lock();
        for (_, rec) in self.store.scan_json::<GroupRecord>(GROUPS)? {
            let partition = partitions.entry((rec.account.clone(), rec.region.clone())).or_default();
            partition.insert(rec.name.clone(), Group { rec, streams: BTreeMap::new() });
        }
        let mut streams: HashMap<String, Stream> = HashMap::new();
        for (key, rec) in self.store.scan_json::<StreamRecord>(STREAMS)? {
            streams.insert(key, Stream { rec, events: Vec::new() });
        }
        for (key, mut event) in self.store.scan_json::<Event>(EVENTS)? {
            let Some((stream, seq)) = key.rsplit_once(':') else { continue };
            let Ok(seq) = seq.parse::<u64>() else { continue };
            event.seq = seq;
            if let Some(s) = streams.get_mut(stream) {
                s.events.push(event);
            }
        }
        for partition in partitions.values_mut() {
            for group in partition.values_mut() {
                let prefix = format!("{}:", group.key());
                let names: Vec<String> = streams.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
                for key in names {
                    if let Some(mut s) = streams.remove(&key) {
                        s.events.sort_by_key(Event::position);
                        group.streams.insert(s.rec.name.clone(), s);
                    }
                }
            }
        }
        Ok(())
    }

    pub fn reset(&self) {
        self.partitions.lock().clear();
        self.queries.lock().clear();
        self.resources.lock().clear();
        let store = self.store.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = store.drop_tables("logs_").await {
                    tracing::warn!(error = %e, "resetting the logs store failed");
                }
            });
        }
    }

    /// Runs `f` on the log groups of the caller's (account, region).
    pub(crate) fn with_partition<R>(&self, ctx: &RequestContext, f: impl FnOnce(&mut Partition) -> R) -> R {
        let mut partitions = self.partitions.lock();
        let partition = partitions.entry((ctx.account_id.clone(), ctx.region.clone())).or_default();
        f(partition)
    }
}

pub(crate) fn group_mut<'a>(partition: &'a mut Partition, name: &str) -> Result<&'a mut Group, LogsError> {
    partition.get_mut(name).ok_or_else(group_not_found)
}

pub(crate) fn stream_mut<'a>(group: &'a mut Group, name: &str) -> Result<&'a mut Stream, LogsError> {
    group.streams.get_mut(name).ok_or_else(stream_not_found)
}
