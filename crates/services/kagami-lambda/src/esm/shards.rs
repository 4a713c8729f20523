//! What a stream poller needs from a stream: its shards, iterators into them, their
//! records, and how one record reads in the function's event. DynamoDB Streams
//! (`dynamodb.rs`) and Kinesis (`kinesis.rs`) answer it; `stream_poller.rs` and
//! `delivery.rs` do the rest once for both.

use super::json::str_of;
use super::record::Mapping;
use kagami_core::{Peers, RequestContext, ServiceError, Value};
use serde_json::Value as Json;
use std::future::Future;

/// A shard as the stream lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    pub id: String,
    /// The shards it was split or merged from: read to their end before it.
    pub parents: Vec<String>,
}

/// Where to start reading a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// After the last record delivered (the checkpoint).
    After(String),
    TrimHorizon,
    Latest,
    /// The first record that arrived at or after this time (epoch milliseconds).
    AtTimestamp(i64),
}

/// One GetRecords answer: the records, and the iterator to read on from (`None`: the
/// shard is closed and read to its end).
pub struct Page {
    pub records: Vec<Value>,
    pub next: Option<String>,
}

/// Why a stream poller gives up on a batch, as the OnFailure record names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    RetryAttemptsExhausted,
    RecordAgeExceeded,
}

impl Condition {
    pub fn name(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// A stream source, read through `Peers`. The futures are `Send`: pollers are tasks.
pub trait ShardReader: Send + Sync + 'static {
    fn shards(&self) -> impl Future<Output = Result<Vec<ShardInfo>, ServiceError>> + Send;

    fn iterator(&self, shard: &str, start: &Start) -> impl Future<Output = Result<String, ServiceError>> + Send;

    fn records(&self, iterator: &str, limit: usize) -> impl Future<Output = Result<Page, ServiceError>> + Send;

    /// The most records one GetRecords call returns.
    fn max_records(&self) -> usize;

    /// Whether an error from `iterator` with a checkpoint means the checkpoint fell off
    /// the stream's retention (start again from the oldest record left).
    fn is_trimmed(&self, e: &ServiceError) -> bool;

    /// One record as the function's event shows it.
    fn event_record(&self, m: &Mapping, shard: &str, record: &Value, role: &str) -> Json;

    /// What FilterCriteria patterns are matched against.
    fn filter_view(&self, record: &Json) -> Json;

    /// The sequence number of an event record: the batch item identifier too.
    fn sequence_of<'a>(&self, record: &'a Json) -> Option<&'a str>;

    /// When the record reached the stream, in epoch milliseconds.
    fn arrival_millis(&self, record: &Json) -> Option<i64>;

    /// The arrival time as the OnFailure record writes it.
    fn arrival_text(&self, millis: i64) -> String;

    /// The member of the OnFailure record that describes the batch.
    fn batch_info_key(&self) -> &'static str;
}

/// GetShardIterator, spelt alike by DynamoDB Streams and Kinesis but for the input.
pub async fn get_shard_iterator(peers: &Peers, ctx: &RequestContext, service: &str, input: Value) -> Result<String, ServiceError> {
    let out = peers.call(ctx, service, "GetShardIterator", input).await?;
    str_of(&out, "ShardIterator").map(str::to_string).ok_or_else(|| ServiceError::internal("GetShardIterator answered without an iterator"))
}

/// GetRecords, spelt alike by DynamoDB Streams and Kinesis.
pub async fn get_records(peers: &Peers, ctx: &RequestContext, service: &str, iterator: &str, limit: usize) -> Result<Page, ServiceError> {
    let mut input = Value::map();
    input.insert("ShardIterator", Value::from(iterator));
    input.insert("Limit", Value::Int(i64::try_from(limit.max(1)).unwrap_or(1)));
    let out = peers.call(ctx, service, "GetRecords", input).await?;
    Ok(Page {
        records: out.get("Records").and_then(Value::as_list).unwrap_or_default().to_vec(),
        next: str_of(&out, "NextShardIterator").map(str::to_string),
    })
}
