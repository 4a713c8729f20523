//! The DynamoDB Streams poller: reads each shard in order from the mapping's starting
//! position (or its checkpoint), invokes the function with AWS's DynamoDB event, and on
//! a function error retries the same batch until it succeeds, MaximumRetryAttempts or
//! MaximumRecordAgeInSeconds gives up on it (bisecting first when asked), then sends the
//! OnFailure record and moves on.
//! <https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html>

use super::filter::Filters;
use super::json::{str_of, to_json};
use super::record::Mapping;
use super::source::Source;
use super::{EventSourceMappings, Outcome};
use kagami_core::{RequestContext, ServiceError, Timestamp, Value, clock};
use serde_json::{Value as Json, json};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// GetRecords returns at most 1000 records a call.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html>
const GET_RECORDS_MAX: usize = 1000;
/// Pause between reads of a shard with nothing new (AWS polls each shard about 4 times a second).
const IDLE_PAUSE: Duration = Duration::from_millis(250);
/// Retries of a failed batch back off from this, doubling up to `RETRY_MAX`.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(2);

struct Shard {
    id: String,
    iterator: Option<String>,
}

async fn call(esm: &EventSourceMappings, ctx: &RequestContext, op: &str, input: Value) -> Result<Value, ServiceError> {
    esm.peers.call(ctx, "dynamodbstreams", op, input).await
}

async fn shards(esm: &EventSourceMappings, ctx: &RequestContext, arn: &str) -> Result<Vec<Shard>, ServiceError> {
    let mut input = Value::map();
    input.insert("StreamArn", Value::from(arn));
    let out = call(esm, ctx, "DescribeStream", input).await?;
    let list = out.get("StreamDescription").and_then(|d| d.get("Shards")).and_then(Value::as_list).unwrap_or_default();
    Ok(list.iter().filter_map(|s| str_of(s, "ShardId")).map(|id| Shard { id: id.to_string(), iterator: None }).collect())
}

/// Takes the LATEST iterators of every shard now, for a mapping being created.
pub async fn take_first_iterators(esm: &EventSourceMappings, uuid: &str, arn: &str, region: &str, account: &str) {
    let ctx = esm.peers.system_context(account, region, "lambda");
    let Ok(list) = shards(esm, &ctx, arn).await else { return };
    for shard in list {
        let mut input = Value::map();
        input.insert("StreamArn", Value::from(arn));
        input.insert("ShardId", Value::from(shard.id.as_str()));
        input.insert("ShardIteratorType", Value::from("LATEST"));
        if let Ok(out) = call(esm, &ctx, "GetShardIterator", input).await
            && let Some(it) = str_of(&out, "ShardIterator")
        {
            esm.first_iterators.lock().insert(format!("{uuid}/{}", shard.id), it.to_string());
        }
    }
}

async fn iterator(esm: &EventSourceMappings, ctx: &RequestContext, m: &Mapping, shard: &str) -> Result<String, ServiceError> {
    if let Some(it) = esm.first_iterators.lock().remove(&format!("{}/{shard}", m.uuid)) {
        return Ok(it);
    }
    let mut input = Value::map();
    input.insert("StreamArn", Value::from(m.event_source_arn.as_str()));
    input.insert("ShardId", Value::from(shard));
    match esm.checkpoint(&m.uuid, shard) {
        Some(sequence) => {
            input.insert("ShardIteratorType", Value::from("AFTER_SEQUENCE_NUMBER"));
            input.insert("SequenceNumber", Value::from(sequence));
        }
        None => {
            input.insert("ShardIteratorType", Value::from(m.starting_position.as_deref().unwrap_or("LATEST")));
        }
    }
    let out = match call(esm, ctx, "GetShardIterator", input.clone()).await {
        // The checkpoint fell off the stream's 24 hours: start from the oldest record left.
        Err(e) if e.code == "TrimmedDataAccessException" => {
            input.insert("ShardIteratorType", Value::from("TRIM_HORIZON"));
            if let Value::Map(map) = &mut input {
                map.shift_remove("SequenceNumber");
            }
            call(esm, ctx, "GetShardIterator", input).await?
        }
        r => r?,
    };
    str_of(&out, "ShardIterator").map(str::to_string).ok_or_else(|| ServiceError::internal("GetShardIterator answered without an iterator"))
}

/// Reads up to the batch size from a shard, waiting up to the batching window for more.
/// Returns the records and the iterator to read on from (`None`: the shard is closed).
async fn read(
    esm: &EventSourceMappings,
    ctx: &RequestContext,
    m: &Mapping,
    mut it: String,
) -> Result<(Vec<Value>, Option<String>), ServiceError> {
    let batch_size = usize::try_from(m.batch_size).unwrap_or(100).max(1);
    let deadline = Instant::now() + Duration::from_secs(u64::try_from(m.maximum_batching_window_in_seconds).unwrap_or(0));
    let mut records = Vec::new();
    loop {
        let mut input = Value::map();
        input.insert("ShardIterator", Value::from(it.as_str()));
        input.insert("Limit", Value::Int(i64::try_from((batch_size - records.len()).min(GET_RECORDS_MAX)).unwrap_or(1000)));
        let out = call(esm, ctx, "GetRecords", input).await?;
        let page = out.get("Records").and_then(Value::as_list).unwrap_or_default().to_vec();
        let next = str_of(&out, "NextShardIterator").map(str::to_string);
        let got = page.len();
        records.extend(page);
        let Some(n) = next else { return Ok((records, None)) };
        it = n;
        if records.len() >= batch_size || (records.is_empty() && got == 0) {
            return Ok((records, Some(it)));
        }
        if got == 0 {
            if Instant::now() >= deadline {
                return Ok((records, Some(it)));
            }
            tokio::time::sleep(IDLE_PAUSE.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
    }
}

fn sequence_of(r: &Json) -> Option<&str> {
    r.get("dynamodb").and_then(|d| d.get("SequenceNumber")).and_then(Json::as_str)
}

fn created_secs(r: &Json) -> Option<i64> {
    r.get("dynamodb").and_then(|d| d.get("ApproximateCreationDateTime")).and_then(Json::as_f64).map(|s| s as i64)
}

/// Where a ReportBatchItemFailures response asks the batch to be retried from: `None`
/// when nothing failed, the index of the failed record with the lowest sequence number,
/// or `Err` when the response cannot be read (the whole batch failed).
/// <https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html>
fn retry_from(payload: &[u8], batch: &[Json]) -> Result<Option<usize>, ()> {
    let text = std::str::from_utf8(payload).map_err(|_| ())?.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let doc: Json = serde_json::from_str(text).map_err(|_| ())?;
    let failures = match doc.get("batchItemFailures") {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Array(f)) => f,
        Some(_) => return Err(()),
    };
    let mut lowest: Option<usize> = None;
    for f in failures {
        let id = f.get("itemIdentifier").and_then(Json::as_str).filter(|id| !id.is_empty()).ok_or(())?;
        let index = batch.iter().position(|r| sequence_of(r) == Some(id)).ok_or(())?;
        lowest = Some(lowest.map_or(index, |l| l.min(index)));
    }
    Ok(lowest)
}

/// Why a batch was given up on, as the OnFailure record names it.
enum Condition {
    RetryAttemptsExhausted,
    RecordAgeExceeded,
}

/// The record AWS sends to an OnFailure destination for a stream batch.
/// <https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#services-dynamodb-errors>
fn failure_record(m: &Mapping, shard: &str, batch: &[Json], condition: &Condition, attempts: u32) -> Json {
    let iso = |secs: Option<i64>| secs.map(|s| Timestamp::from_secs(s).to_iso8601());
    json!({
        "requestContext": {
            "requestId": kagami_core::ids::uuid_v4(),
            "functionArn": m.function_arn,
            "condition": match condition {
                Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
                Condition::RecordAgeExceeded => "RecordAgeExceeded",
            },
            "approximateInvokeCount": attempts,
        },
        "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
        "version": "1.0",
        "timestamp": Timestamp::from_millis(clock::now_millis()).to_iso8601_millis(),
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": batch.first().and_then(sequence_of),
            "endSequenceNumber": batch.last().and_then(sequence_of),
            "approximateArrivalOfFirstRecord": iso(batch.first().and_then(created_secs)),
            "approximateArrivalOfLastRecord": iso(batch.last().and_then(created_secs)),
            "batchSize": batch.len(),
            "streamArn": m.event_source_arn,
        },
    })
}

async fn pause(stopped: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = stopped.changed() => false,
        _ = tokio::time::sleep(d) => !*stopped.borrow(),
    }
}

/// Delivers one batch (already filtered) with retries; false when the poller was stopped.
async fn deliver(esm: &EventSourceMappings, m: &Mapping, shard: &str, batch: Vec<Json>, stopped: &mut watch::Receiver<bool>) -> bool {
    let mut pending = VecDeque::from([batch]);
    let report_failures = m.function_response_types.iter().any(|t| t == "ReportBatchItemFailures");
    while let Some(mut batch) = pending.pop_front() {
        let mut attempts: u32 = 0;
        let mut wait = RETRY_FIRST;
        loop {
            if *stopped.borrow() {
                return false;
            }
            let payload = json!({ "Records": batch }).to_string().into_bytes();
            attempts += 1;
            match esm.invoke(m, payload).await {
                Outcome::Success(body) => match report_failures.then(|| retry_from(&body, &batch)) {
                    None | Some(Ok(None)) => {
                        esm.set_result(&m.uuid, "OK");
                        break;
                    }
                    // The records before the lowest failed one count as processed.
                    Some(Ok(Some(from))) => {
                        batch.drain(..from);
                        esm.set_result(&m.uuid, "PROBLEM: Function call failed");
                    }
                    Some(Err(())) => esm.set_result(&m.uuid, "PROBLEM: Function call failed"),
                },
                Outcome::FunctionError => esm.set_result(&m.uuid, "PROBLEM: Function call failed"),
                Outcome::NotRun(reason) => esm.set_result(&m.uuid, &format!("PROBLEM: {reason}")),
            }
            if m.bisect_batch_on_function_error == Some(true) && batch.len() > 1 {
                let (first, second) = batch.split_at(batch.len() / 2);
                pending.push_front(second.to_vec());
                pending.push_front(first.to_vec());
                break;
            }
            let retries = i64::from(m.maximum_retry_attempts.unwrap_or(-1));
            let max_age = i64::from(m.maximum_record_age_in_seconds.unwrap_or(-1));
            let oldest = batch.first().and_then(created_secs).unwrap_or(i64::MAX);
            let condition = if retries >= 0 && i64::from(attempts) > retries {
                Some(Condition::RetryAttemptsExhausted)
            } else if max_age >= 0 && clock::now_secs().saturating_sub(oldest) > max_age {
                Some(Condition::RecordAgeExceeded)
            } else {
                None
            };
            if let Some(condition) = condition {
                if let Some(destination) = &m.on_failure {
                    let doc = failure_record(m, shard, &batch, &condition, attempts).to_string();
                    let sent = if destination.starts_with("arn:aws:sqs:") {
                        super::sqs::send_to_arn(&esm.peers, destination, doc).await
                    } else {
                        Err(ServiceError::internal("kagami delivers OnFailure records to SQS queues only"))
                    };
                    if let Err(e) = sent {
                        tracing::warn!(mapping = %m.uuid, destination, error = %e.message, "sending the OnFailure record");
                    }
                }
                break;
            }
            if !pause(stopped, wait).await {
                return false;
            }
            wait = (wait * 2).min(RETRY_MAX);
        }
    }
    true
}

pub async fn run(esm: Arc<EventSourceMappings>, uuid: String, mut stopped: watch::Receiver<bool>) {
    let mut open: Vec<Shard> = Vec::new();
    loop {
        if *stopped.borrow() {
            break;
        }
        let Some(m) = esm.get(&uuid).filter(|m| m.enabled) else { break };
        let Source::DynamoDbStream { region, account } = Source::parse(&m.event_source_arn) else { break };
        let ctx = esm.peers.system_context(&account, &region, "lambda");
        if open.is_empty() {
            match shards(&esm, &ctx, &m.event_source_arn).await {
                Ok(s) => open = s,
                Err(e) => {
                    esm.set_result(&uuid, &format!("PROBLEM: {}", e.message));
                    if !pause(&mut stopped, Duration::from_secs(1)).await {
                        break;
                    }
                    continue;
                }
            }
        }
        let mut delivered_any = false;
        let mut reread = false;
        for shard in &mut open {
            let it = match &shard.iterator {
                Some(it) => it.clone(),
                None => match iterator(&esm, &ctx, &m, &shard.id).await {
                    Ok(it) => it,
                    Err(_) => {
                        reread = true;
                        continue;
                    }
                },
            };
            let read = tokio::select! {
                _ = stopped.changed() => return,
                r = read(&esm, &ctx, &m, it) => r,
            };
            let (records, next) = match read {
                Ok(r) => r,
                Err(e) => {
                    // Expired or trimmed iterators start over from the checkpoint.
                    tracing::debug!(mapping = %uuid, error = %e.message, "reading the stream");
                    shard.iterator = None;
                    reread = e.code == "ResourceNotFoundException";
                    continue;
                }
            };
            shard.iterator = next.clone();
            if next.is_none() {
                reread = true;
            }
            if records.is_empty() {
                continue;
            }
            delivered_any = true;
            let records: Vec<Json> = records
                .iter()
                .map(|r| {
                    let mut doc = to_json(r);
                    if let Some(o) = doc.as_object_mut() {
                        o.insert("eventSourceARN".into(), json!(m.event_source_arn));
                    }
                    doc
                })
                .collect();
            let last = records.last().and_then(sequence_of).map(str::to_string);
            let filters = Filters::parse(m.filters.as_deref().unwrap_or_default()).unwrap_or_default();
            let matched: Vec<Json> = records.into_iter().filter(|r| filters.matches(r)).collect();
            if !matched.is_empty() && !deliver(&esm, &m, &shard.id, matched, &mut stopped).await {
                return;
            }
            if let Some(seq) = last {
                esm.save_checkpoint(&uuid, &shard.id, &seq).await;
            }
        }
        if reread {
            open.clear();
        }
        if !delivered_any && !pause(&mut stopped, IDLE_PAUSE).await {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_failures_retry_from_the_lowest_failed_record() {
        let batch = vec![
            json!({"dynamodb": {"SequenceNumber": "1"}}),
            json!({"dynamodb": {"SequenceNumber": "2"}}),
            json!({"dynamodb": {"SequenceNumber": "3"}}),
        ];
        let doc = |ids: &[&str]| {
            json!({"batchItemFailures": ids.iter().map(|i| json!({"itemIdentifier": i})).collect::<Vec<_>>()}).to_string()
        };
        assert_eq!(retry_from(doc(&["3", "2"]).as_bytes(), &batch), Ok(Some(1)));
        assert_eq!(retry_from(doc(&[]).as_bytes(), &batch), Ok(None));
        assert_eq!(retry_from(b"null", &batch), Ok(None));
        assert_eq!(retry_from(doc(&["9"]).as_bytes(), &batch), Err(()));
        assert_eq!(retry_from(b"{", &batch), Err(()));
    }

    #[test]
    fn failure_records_describe_the_batch_given_up_on() {
        let m: Mapping = serde_json::from_value(json!({
            "uuid": "u", "account": "111122223333", "region": "us-east-1", "kind": "DynamoDbStream",
            "event_source_arn": "arn:aws:dynamodb:us-east-1:111122223333:table/T/stream/L",
            "function_arn": "arn:aws:lambda:us-east-1:111122223333:function:f", "enabled": true,
            "batch_size": 100, "maximum_batching_window_in_seconds": 0, "starting_position": "LATEST",
            "starting_position_timestamp": null, "filters": null, "maximum_concurrency": null,
            "function_response_types": [], "maximum_record_age_in_seconds": null,
            "bisect_batch_on_function_error": null, "maximum_retry_attempts": 1, "parallelization_factor": null,
            "tumbling_window_in_seconds": null, "on_failure": null, "last_modified_millis": 0,
            "last_processing_result": null, "host": "localhost:4566"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let batch = vec![
            json!({"dynamodb": {"SequenceNumber": "10", "ApproximateCreationDateTime": 1_700_000_000}}),
            json!({"dynamodb": {"SequenceNumber": "12", "ApproximateCreationDateTime": 1_700_000_001}}),
        ];
        let doc = failure_record(&m, "shardId-1", &batch, &Condition::RetryAttemptsExhausted, 2);
        assert_eq!(doc["requestContext"]["condition"], "RetryAttemptsExhausted");
        assert_eq!(doc["requestContext"]["approximateInvokeCount"], 2);
        let info = &doc["DDBStreamBatchInfo"];
        assert_eq!(info["startSequenceNumber"], "10");
        assert_eq!(info["endSequenceNumber"], "12");
        assert_eq!(info["batchSize"], 2);
        assert_eq!(info["approximateArrivalOfFirstRecord"], "2023-11-14T22:13:20Z");
        assert_eq!(info["streamArn"], m.event_source_arn);
    }
}
