//! The DynamoDB Streams API (ListStreams, DescribeStream, GetShardIterator, GetRecords)
//! over the stream logs. A shard iterator is an opaque token naming the stream, the last
//! sequence number already read and the time it was issued: it expires 15 minutes later.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Operations_Amazon_DynamoDB_Streams.html>

use super::{ChangeRecord, StreamLog};
use crate::attribute::Item;
use crate::generated_streams::*;
use crate::state::Dynamodb;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError, clock};
use kagami_protocol::Timestamp;
use kagami_protocol::shapes::{FromValue, IntoValue};
use std::sync::Arc;

pub const ITERATOR_LIFETIME_MILLIS: i64 = 15 * 60 * 1000;
pub const MAX_GET_RECORDS_LIMIT: i32 = 1000;
pub const MAX_LIST_STREAMS_LIMIT: i32 = 100;

fn validation(message: impl Into<String>) -> ServiceError {
    ServiceError::new("ValidationException", 400, message.into())
}

fn stream_not_found(arn: &str) -> ServiceError {
    DynamodbstreamsError::ResourceNotFoundException(format!("Requested resource not found: Stream: {arn} not found")).into()
}

fn trimmed() -> ServiceError {
    DynamodbstreamsError::TrimmedDataAccessException("The operation attempted to read past the oldest stream record in a shard.".into()).into()
}

/// A position in a stream: records after `after` are still to be read.
struct Iterator {
    arn: String,
    after: u128,
    issued_at: i64,
}

impl Iterator {
    fn encode(&self) -> String {
        let token = URL_SAFE_NO_PAD.encode(format!("{}|{}|{}", self.after, self.issued_at, self.arn));
        format!("{}|1|{token}", self.arn)
    }

    fn decode(text: &str) -> Option<Iterator> {
        let token = text.rsplit_once('|')?.1;
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(3, '|');
        let after = parts.next()?.parse().ok()?;
        let issued_at = parts.next()?.parse().ok()?;
        let arn = parts.next()?.to_string();
        Some(Iterator { arn, after, issued_at })
    }
}

fn image(item: &Item) -> IndexMap<String, AttributeValue> {
    item.iter()
        .filter_map(|(k, v)| AttributeValue::from_value(v.clone().into_generated().into_value()).ok().map(|a| (k.clone(), a)))
        .collect()
}

/// A change as the Streams API (and a Lambda event) shows it.
pub fn wire_record(region: &str, view_type: &str, r: &ChangeRecord) -> Record {
    Record {
        event_id: Some(format!("{:032x}", r.sequence ^ 0x5bd1_e995_0000_0000_0000_0000_0000_0000)),
        event_name: Some(r.event_name.clone()),
        event_version: Some("1.1".into()),
        event_source: Some("aws:dynamodb".into()),
        aws_region: Some(region.to_string()),
        dynamodb: Some(StreamRecord {
            approximate_creation_date_time: Some(Timestamp::from_secs(r.created_at.div_euclid(1000))),
            keys: Some(image(&r.keys)),
            new_image: r.new_image.as_ref().map(image),
            old_image: r.old_image.as_ref().map(image),
            sequence_number: Some(r.sequence.to_string()),
            size_bytes: Some(r.size_bytes),
            stream_view_type: Some(view_type.to_string()),
        }),
        user_identity: r.by_service.then(|| Identity { principal_id: Some("dynamodb.amazonaws.com".into()), type_: Some("Service".into()) }),
    }
}

fn describe(log: &StreamLog) -> StreamDescription {
    let meta = &log.meta;
    let mut key_schema = vec![KeySchemaElement { attribute_name: meta.hash_key.clone(), key_type: "HASH".into() }];
    if let Some(r) = &meta.range_key {
        key_schema.push(KeySchemaElement { attribute_name: r.clone(), key_type: "RANGE".into() });
    }
    StreamDescription {
        stream_arn: Some(meta.arn.clone()),
        stream_label: Some(meta.label.clone()),
        stream_status: Some(if meta.ending_sequence.is_some() { "DISABLED" } else { "ENABLED" }.into()),
        stream_view_type: Some(meta.view_type.clone()),
        creation_request_date_time: Some(Timestamp::from_millis(meta.created_at)),
        table_name: Some(meta.table_name.clone()),
        key_schema: Some(key_schema),
        shards: Some(vec![Shard {
            shard_id: Some(meta.shard_id.clone()),
            sequence_number_range: Some(SequenceNumberRange {
                starting_sequence_number: Some(meta.starting_sequence.to_string()),
                ending_sequence_number: meta.ending_sequence.map(|s| s.to_string()),
            }),
            parent_shard_id: None,
        }]),
        last_evaluated_shard_id: None,
    }
}

/// Streams of the caller's account and region only.
fn visible(ctx: &RequestContext, log: &StreamLog) -> bool {
    log.meta.account == ctx.account_id && log.meta.region == ctx.region
}

/// The DynamoDB Streams provider: reads the logs the DynamoDB service writes.
pub struct StreamsProvider {
    pub(crate) dynamodb: Arc<Dynamodb>,
}

impl StreamsProvider {
    fn log(&self, ctx: &RequestContext, arn: &str) -> Result<Arc<parking_lot::Mutex<StreamLog>>, ServiceError> {
        let log = self.dynamodb.streams.get(arn).ok_or_else(|| stream_not_found(arn))?;
        if !visible(ctx, &log.lock()) {
            return Err(stream_not_found(arn));
        }
        Ok(log)
    }
}

impl DynamodbstreamsApi for StreamsProvider {
    async fn list_streams(&self, ctx: &RequestContext, input: ListStreamsInput) -> Result<ListStreamsOutput, ServiceError> {
        let limit = input.limit.unwrap_or(MAX_LIST_STREAMS_LIMIT);
        if !(1..=MAX_LIST_STREAMS_LIMIT).contains(&limit) {
            let rule = if limit < 1 { "greater than or equal to 1" } else { "less than or equal to 100" };
            return Err(validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {rule}"
            )));
        }
        let limit = usize::try_from(limit).unwrap_or(1);
        let logs: Vec<_> = self.dynamodb.streams.logs.read().values().cloned().collect();
        let mut streams = Vec::new();
        for log in logs {
            let log = log.lock();
            if !visible(ctx, &log) || input.table_name.as_ref().is_some_and(|t| *t != log.meta.table_name) {
                continue;
            }
            if input.exclusive_start_stream_arn.as_ref().is_some_and(|s| log.meta.arn <= *s) {
                continue;
            }
            streams.push(Stream {
                stream_arn: Some(log.meta.arn.clone()),
                table_name: Some(log.meta.table_name.clone()),
                stream_label: Some(log.meta.label.clone()),
            });
        }
        let more = streams.len() > limit;
        streams.truncate(limit);
        let last = if more { streams.last().and_then(|s| s.stream_arn.clone()) } else { None };
        Ok(ListStreamsOutput { streams: Some(streams), last_evaluated_stream_arn: last })
    }

    async fn describe_stream(&self, ctx: &RequestContext, input: DescribeStreamInput) -> Result<DescribeStreamOutput, ServiceError> {
        let log = self.log(ctx, &input.stream_arn)?;
        let mut log = log.lock();
        log.trim(clock::now_millis(), false);
        Ok(DescribeStreamOutput { stream_description: Some(describe(&log)) })
    }

    async fn get_shard_iterator(&self, ctx: &RequestContext, input: GetShardIteratorInput) -> Result<GetShardIteratorOutput, ServiceError> {
        let log = self.log(ctx, &input.stream_arn)?;
        let mut log = log.lock();
        if input.shard_id != log.meta.shard_id {
            return Err(DynamodbstreamsError::ResourceNotFoundException(format!(
                "Requested resource not found: Shard does not exist: {}",
                input.shard_id
            ))
            .into());
        }
        let now = clock::now_millis();
        log.trim(now, false);
        let sequence = || -> Result<u128, ServiceError> {
            let text = input.sequence_number.as_deref().ok_or_else(|| {
                validation("Must provide sequenceNumber for AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER shard iterator type")
            })?;
            text.parse::<u128>().map_err(|_| validation(format!("Invalid SequenceNumber: {text}")))
        };
        let after = match input.shard_iterator_type.as_str() {
            "TRIM_HORIZON" => log.trimmed_through.max(log.meta.starting_sequence.saturating_sub(1)),
            "LATEST" => log.last_sequence(),
            "AT_SEQUENCE_NUMBER" => sequence()?.saturating_sub(1),
            "AFTER_SEQUENCE_NUMBER" => sequence()?,
            other => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{other}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
                )));
            }
        };
        if matches!(input.shard_iterator_type.as_str(), "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER") {
            if after < log.trimmed_through {
                return Err(trimmed());
            }
            if after.saturating_add(1) < log.meta.starting_sequence || after > log.last_sequence() {
                return Err(validation(format!(
                    "Invalid SequenceNumber {} for shard {}",
                    input.sequence_number.as_deref().unwrap_or_default(),
                    log.meta.shard_id
                )));
            }
        }
        let iterator = Iterator { arn: log.meta.arn.clone(), after, issued_at: now };
        Ok(GetShardIteratorOutput { shard_iterator: Some(iterator.encode()) })
    }

    async fn get_records(&self, ctx: &RequestContext, input: GetRecordsInput) -> Result<GetRecordsOutput, ServiceError> {
        let limit = input.limit.unwrap_or(MAX_GET_RECORDS_LIMIT);
        if !(1..=MAX_GET_RECORDS_LIMIT).contains(&limit) {
            let rule = if limit < 1 { "greater than or equal to 1" } else { "less than or equal to 1000" };
            return Err(validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {rule}"
            )));
        }
        let limit = usize::try_from(limit).unwrap_or(1);
        let iterator = Iterator::decode(&input.shard_iterator).ok_or_else(|| validation("Invalid ShardIterator"))?;
        let now = clock::now_millis();
        if now - iterator.issued_at > ITERATOR_LIFETIME_MILLIS {
            return Err(DynamodbstreamsError::ExpiredIteratorException(format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ITERATOR_LIFETIME_MILLIS} milliseconds.",
                Timestamp::from_millis(iterator.issued_at).to_iso8601_millis(),
                Timestamp::from_millis(now).to_iso8601_millis()
            ))
            .into());
        }
        let log = self.log(ctx, &iterator.arn)?;
        let mut log = log.lock();
        log.trim(now, false);
        if iterator.after < log.trimmed_through {
            return Err(trimmed());
        }
        let region = log.meta.region.clone();
        let view_type = log.meta.view_type.clone();
        let page: Vec<&ChangeRecord> = log.records.iter().skip_while(|r| r.sequence <= iterator.after).take(limit).collect();
        let after = page.last().map_or(iterator.after, |r| r.sequence);
        let records: Vec<Record> = page.into_iter().map(|r| wire_record(&region, &view_type, r)).collect();
        // A closed shard read to its end has no next iterator.
        let finished = log.meta.ending_sequence.is_some() && after >= log.last_sequence();
        let next = (!finished).then(|| Iterator { arn: iterator.arn, after, issued_at: now }.encode());
        Ok(GetRecordsOutput { records: Some(records), next_shard_iterator: next })
    }
}

/// The DynamoDB Streams service as the gateway sees it.
pub struct StreamsService {
    pub(crate) provider: StreamsProvider,
}

/// The operations that behave as AWS documents.
pub const IMPLEMENTED: &[&str] = &["DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"];

impl kagami_core::Service for StreamsService {
    fn name(&self) -> &'static str {
        "dynamodbstreams"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED
    }

    fn handle<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        input: kagami_core::Value,
    ) -> kagami_core::BoxFuture<'a, Result<kagami_core::Value, ServiceError>> {
        Box::pin(dispatch(&self.provider, ctx, operation, input))
    }

    /// The streams are the DynamoDB service's: its reset clears them.
    fn reset(&self) {}
}
