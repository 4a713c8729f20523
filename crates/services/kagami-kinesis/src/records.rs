//! The data plane: PutRecord, PutRecords, GetShardIterator and GetRecords.

use crate::errors::{constraint, invalid, invalid_iterator, limit, shard_not_found, stream_not_found};
use crate::generated::*;
use crate::iterator::{ITERATOR_LIFETIME_MS, Position, java_date};
use crate::keys::{hash_key, parse_hash_key, parse_sequence_number, sequence_number, shard_id};
use crate::state::{DataRecord, Kinesis, RECORDS, Stream, StoredRecord, encode_data, resolve_name};
use bytes::Bytes;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};

/// A record's data blob, and PutRecords' limits.
/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
const MAX_RECORD_BYTES: usize = 1_048_576;
const MAX_PUT_RECORDS: usize = 500;
const MAX_PUT_RECORDS_BYTES: usize = 5 * 1_048_576;
/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecord.html
const MAX_PARTITION_KEY: usize = 256;
/// GetRecords returns at most 10,000 records or 10 MiB.
/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html
const MAX_GET_RECORDS: i32 = 10_000;
const MAX_GET_RECORDS_BYTES: usize = 10 * 1_048_576;
const ITERATOR_TYPES: &str = "[AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]";

/// One record to put, checked.
struct Entry {
    data: Bytes,
    partition_key: String,
    hash: u128,
}

fn entry(data: Bytes, partition_key: Option<String>, explicit: Option<&str>, member: &str) -> Result<Entry, KinesisError> {
    let Some(partition_key) = partition_key else {
        return Err(KinesisError::ValidationException(format!(
            "1 validation error detected: Value null at '{member}partitionKey' failed to satisfy constraint: Member must not be null"
        )));
    };
    if partition_key.is_empty() {
        return Err(constraint(&partition_key, &format!("{member}partitionKey"), "Member must have length greater than or equal to 1"));
    }
    if partition_key.chars().count() > MAX_PARTITION_KEY {
        return Err(constraint(&partition_key, &format!("{member}partitionKey"), "Member must have length less than or equal to 256"));
    }
    if data.len() > MAX_RECORD_BYTES {
        return Err(KinesisError::ValidationException(format!(
            "1 validation error detected: Value at '{member}data' failed to satisfy constraint: Member must have length less than or equal to {MAX_RECORD_BYTES}"
        )));
    }
    let hash = match explicit {
        None => hash_key(&partition_key),
        Some(e) => parse_hash_key(e).ok_or_else(|| {
            invalid(format!("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {e}"))
        })?,
    };
    Ok(Entry { data, partition_key, hash })
}

/// Appends a record to the open shard whose range holds its hash key: (shard id, sequence number).
fn append(stream: &mut Stream, e: Entry, now: i64, ops: &mut Vec<StoreOp>) -> Result<(String, String), KinesisError> {
    let stream_name = stream.rec.name.clone();
    let Some(index) = stream.shards.values().find(|s| s.is_open() && s.covers(e.hash)).map(|s| s.rec.index) else {
        return Err(KinesisError::InternalFailureException(format!("No open shard of stream {stream_name} covers the hash key.")));
    };
    let Some(counter) = stream.shards.get_mut(&index).map(|s| {
        s.rec.last_counter += 1;
        s.rec.last_counter
    }) else {
        return Err(KinesisError::InternalFailureException(format!("No open shard of stream {stream_name} covers the hash key.")));
    };
    let stored = StoredRecord { data: encode_data(&e.data), partition_key: e.partition_key.clone(), arrival_ms: now };
    ops.push(StoreOp::put_json(RECORDS, stream.record_key(index, counter), &stored));
    if let Some(shard) = stream.shards.get_mut(&index) {
        shard.records.push_back(DataRecord { counter, arrival_ms: now, partition_key: e.partition_key, data: e.data });
    }
    if let Some(shard) = stream.shards.get(&index) {
        ops.push(stream.shard_op(shard));
    }
    Ok((shard_id(index), sequence_number(index, now, counter)))
}

fn encryption(stream: &Stream) -> Option<String> {
    Some(stream.rec.encryption_type.clone())
}

impl Kinesis {
    pub async fn put_record(&self, ctx: &RequestContext, input: PutRecordInput) -> Result<PutRecordOutput, ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        let e = entry(input.data, input.partition_key, input.explicit_hash_key.as_deref(), "")?;
        if let Some(s) = input.sequence_number_for_ordering.as_deref()
            && (s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(constraint(s, "sequenceNumberForOrdering", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})").into());
        }
        let now = clock::now_millis();
        self.with_stream(ctx, &name, |stream, ops| {
            // Counters only grow, so every sequence number already exceeds SequenceNumberForOrdering's.
            let (shard_id, sequence_number) = append(stream, e, now, ops)?;
            Ok(PutRecordOutput { shard_id, sequence_number, encryption_type: encryption(stream) })
        })
        .await
    }

    pub async fn put_records(&self, ctx: &RequestContext, input: PutRecordsInput) -> Result<PutRecordsOutput, ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        if input.records.is_empty() {
            return Err(constraint("[]", "records", "Member must have length greater than or equal to 1").into());
        }
        if input.records.len() > MAX_PUT_RECORDS {
            return Err(constraint("[...]", "records", "Member must have length less than or equal to 500").into());
        }
        let total: usize = input.records.iter().map(|r| r.data.len() + r.partition_key.as_ref().map_or(0, String::len)).sum();
        if total > MAX_PUT_RECORDS_BYTES {
            return Err(invalid("Records size exceeds 5 MB limit").into());
        }
        let mut entries = Vec::with_capacity(input.records.len());
        for (i, r) in input.records.into_iter().enumerate() {
            entries.push(entry(r.data, r.partition_key, r.explicit_hash_key.as_deref(), &format!("records.{}.member.", i + 1))?);
        }
        let now = clock::now_millis();
        self.with_stream(ctx, &name, |stream, ops| {
            let mut records = Vec::with_capacity(entries.len());
            for e in entries {
                let (shard_id, sequence_number) = append(stream, e, now, ops)?;
                records.push(PutRecordsResultEntry { sequence_number: Some(sequence_number), shard_id: Some(shard_id), ..Default::default() });
            }
            Ok(PutRecordsOutput { failed_record_count: Some(0), records, encryption_type: encryption(stream) })
        })
        .await
    }

    pub async fn get_shard_iterator(&self, ctx: &RequestContext, input: GetShardIteratorInput) -> Result<GetShardIteratorOutput, ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        let kind = input.shard_iterator_type.as_str();
        if !ITERATOR_TYPES.trim_matches(['[', ']']).split(", ").any(|t| t == kind) {
            return Err(constraint(kind, "shardIteratorType", &format!("Member must satisfy enum value set: {ITERATOR_TYPES}")).into());
        }
        let starting = input.starting_sequence_number.clone();
        match (kind, &starting) {
            ("AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER", None) => {
                return Err(invalid(format!(
                    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and no StartingSequenceNumber."
                ))
                .into());
            }
            ("TRIM_HORIZON" | "LATEST" | "AT_TIMESTAMP", Some(_)) => {
                return Err(invalid(format!(
                    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and also a StartingSequenceNumber."
                ))
                .into());
            }
            _ => {}
        }
        let now = clock::now_millis();
        if kind == "AT_TIMESTAMP" {
            match input.timestamp {
                None => {
                    return Err(invalid(
                        "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.",
                    )
                    .into());
                }
                Some(t) if t.as_millis() > now => {
                    return Err(invalid(format!(
                        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {}, currentTimestampInMillis: {now}",
                        t.as_millis()
                    ))
                    .into());
                }
                Some(_) => {}
            }
        }
        let account = ctx.account_id.clone();
        let shard_id_in = input.shard_id.clone();
        let timestamp = input.timestamp;
        self.with_stream(ctx, &name, |stream, _| {
            let shard = stream.shard(&shard_id_in)?;
            let id = shard.id();
            let bad_sequence = |s: &str| {
                invalid(format!("StartingSequenceNumber {s} used in GetShardIterator on shard {id} in stream {name} under account {account} is invalid."))
            };
            let at = |s: &str| -> Result<u64, KinesisError> {
                let (index, counter) = parse_sequence_number(s).ok_or_else(|| bad_sequence(s))?;
                if index != shard.rec.index {
                    return Err(invalid(format!(
                        "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {id}",
                        shard_id(index)
                    )));
                }
                Ok(counter)
            };
            let (after, not_before_ms) = match (kind, starting.as_deref()) {
                ("AT_SEQUENCE_NUMBER", Some(s)) => (at(s)?.saturating_sub(1), None),
                ("AFTER_SEQUENCE_NUMBER", Some(s)) => (at(s)?, None),
                ("LATEST", _) => (shard.rec.last_counter, None),
                ("AT_TIMESTAMP", _) => {
                    let t = timestamp.map_or(0, |t| t.as_millis());
                    let first = shard.records.iter().find(|r| r.arrival_ms >= t);
                    (first.map_or(shard.rec.last_counter, |r| r.counter.saturating_sub(1)), Some(t))
                }
                // TRIM_HORIZON: the oldest record still retained comes first.
                _ => (0, None),
            };
            let position = Position {
                account: stream.rec.account.clone(),
                region: stream.rec.region.clone(),
                stream: stream.rec.name.clone(),
                stream_created_ms: stream.rec.created_ms,
                shard: shard.rec.index,
                after,
                not_before_ms,
                issued_ms: now,
            };
            Ok(GetShardIteratorOutput { shard_iterator: Some(position.encode()) })
        })
        .await
    }

    pub async fn get_records(&self, ctx: &RequestContext, input: GetRecordsInput) -> Result<GetRecordsOutput, ServiceError> {
        let limit = limit(input.limit, "limit", MAX_GET_RECORDS, MAX_GET_RECORDS)?;
        let position = Position::decode(&input.shard_iterator).ok_or_else(invalid_iterator)?;
        if position.account != ctx.account_id || position.region != ctx.region {
            return Err(invalid_iterator().into());
        }
        if let Some(arn) = input.stream_arn.as_deref()
            && resolve_name(ctx, None, Some(arn))? != position.stream
        {
            return Err(invalid_iterator().into());
        }
        let now = clock::now_millis();
        if now.saturating_sub(position.issued_ms) > ITERATOR_LIFETIME_MS {
            return Err(KinesisError::ExpiredIteratorException(format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ITERATOR_LIFETIME_MS} milliseconds.",
                java_date(position.issued_ms),
                java_date(now)
            ))
            .into());
        }
        let account = ctx.account_id.clone();
        self.with_stream(ctx, &position.stream.clone(), |stream, _| {
            if stream.rec.created_ms != position.stream_created_ms {
                return Err(stream_not_found(&position.stream, &account));
            }
            let id = shard_id(position.shard);
            let Some(shard) = stream.shards.get(&position.shard) else {
                return Err(shard_not_found(&id, &position.stream, &account));
            };
            let mut bytes = 0;
            let mut records = Vec::new();
            let mut last = position.after;
            // Counters increase along the deque: skip what was read without scanning it.
            let from = shard.records.partition_point(|r| r.counter <= position.after);
            let pending = shard.records.range(from..).filter(|r| position.not_before_ms.is_none_or(|t| r.arrival_ms >= t));
            for r in pending {
                bytes += r.data.len() + r.partition_key.len();
                if records.len() >= limit || (bytes > MAX_GET_RECORDS_BYTES && !records.is_empty()) {
                    break;
                }
                last = r.counter;
                records.push(Record {
                    sequence_number: sequence_number(position.shard, r.arrival_ms, r.counter),
                    approximate_arrival_timestamp: Some(Timestamp::from_millis(r.arrival_ms)),
                    data: r.data.clone(),
                    partition_key: Some(r.partition_key.clone()),
                    encryption_type: (stream.rec.encryption_type == "KMS").then(|| "KMS".to_string()),
                });
            }
            let behind = shard.records.range(shard.records.partition_point(|r| r.counter <= last)..).next().map_or(0, |r| now.saturating_sub(r.arrival_ms));
            // A closed shard read to its end has no next iterator: its children carry on.
            let finished = !shard.is_open() && last >= shard.rec.last_counter;
            let (next, children) = if finished {
                let children = stream
                    .shards
                    .values()
                    .filter(|c| c.rec.parent == Some(position.shard) || c.rec.adjacent_parent == Some(position.shard))
                    .map(|c| ChildShard {
                        shard_id: c.id(),
                        parent_shards: c.rec.parent.into_iter().chain(c.rec.adjacent_parent).map(shard_id).collect(),
                        hash_key_range: c.hash_key_range(),
                    })
                    .collect();
                (None, Some(children))
            } else {
                let not_before_ms = if records.is_empty() { position.not_before_ms } else { None };
                let next = Position { after: last, not_before_ms, issued_ms: now, ..position.clone() };
                (Some(next.encode()), None)
            };
            Ok(GetRecordsOutput { records, next_shard_iterator: next, millis_behind_latest: Some(behind), child_shards: children })
        })
        .await
    }
}
