//! Delivering one batch of stream records, as AWS's stream pollers do: on a function
//! error the same batch is retried (from the lowest reported failure with
//! ReportBatchItemFailures, in halves with BisectBatchOnFunctionError) until it succeeds
//! or MaximumRetryAttempts / MaximumRecordAgeInSeconds gives up on it; then the OnFailure
//! destination gets AWS's invocation record and the poller moves on. With a tumbling
//! window the event also carries the window and the state the function returned last.
//! <https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html>
//! <https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html>

use super::record::Mapping;
use super::shards::{Condition, ShardReader};
use super::source::Source;
use super::{EventSourceMappings, Outcome};
use kagami_core::{Peers, ServiceError, Timestamp, Value, clock};
use serde_json::{Value as Json, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::watch;

/// Retries of a failed batch back off from this, doubling up to `RETRY_MAX`.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(2);

const FUNCTION_FAILED: &str = "PROBLEM: Function call failed";

/// The tumbling window a shard is aggregating, and the state the function returned in it.
/// <https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html>
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    pub state: Json,
    /// The invocation about to be made is the window's last (`isFinalInvokeForWindow`).
    pub closing: bool,
}

impl Window {
    /// The window of `seconds` a record that arrived at `arrival_ms` falls in: windows
    /// start at whole multiples of their length.
    pub fn of(arrival_ms: i64, seconds: i32) -> Window {
        let length = i64::from(seconds.max(1)) * 1000;
        let start_ms = arrival_ms.div_euclid(length) * length;
        Window { start_ms, end_ms: start_ms + length, state: json!({}), closing: false }
    }
}

/// The event of one invocation: the records, and with a tumbling window its context.
fn event(m: &Mapping, shard: &str, batch: &[Json], window: Option<&Window>) -> Vec<u8> {
    let mut doc = json!({ "Records": batch });
    if let (Some(w), Some(o)) = (window, doc.as_object_mut()) {
        o.insert(
            "window".into(),
            json!({
                "start": Timestamp::from_millis(w.start_ms).to_iso8601(),
                "end": Timestamp::from_millis(w.end_ms).to_iso8601(),
            }),
        );
        o.insert("state".into(), w.state.clone());
        o.insert("shardId".into(), json!(shard));
        o.insert("eventSourceARN".into(), json!(stream_arn(m)));
        o.insert("isFinalInvokeForWindow".into(), json!(w.closing));
        o.insert("isWindowTerminatedEarly".into(), json!(false));
    }
    doc.to_string().into_bytes()
}

/// The state a windowed invocation returned; `None` (a failed invocation, as Lambda
/// counts it) when the response has none.
fn returned_state(payload: &[u8]) -> Option<Json> {
    serde_json::from_slice::<Json>(payload).ok()?.get("state").filter(|s| s.is_object()).cloned()
}

/// The ARN of the stream the mapping reads (a Kinesis consumer's ARN names its stream).
fn stream_arn(m: &Mapping) -> String {
    Source::parse(&m.event_source_arn).kinesis_stream_arn().unwrap_or_else(|| m.event_source_arn.clone())
}

/// Waits `d`; false when the poller was stopped meanwhile.
pub async fn pause(stopped: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = stopped.changed() => false,
        _ = tokio::time::sleep(d) => !*stopped.borrow(),
    }
}

/// Where a ReportBatchItemFailures response asks the batch to be retried from: `None`
/// when nothing failed, the index of the failed record with the lowest sequence number,
/// or `Err` when the response cannot be read (the whole batch failed).
pub fn retry_from<R: ShardReader>(reader: &R, payload: &[u8], batch: &[Json]) -> Result<Option<usize>, ()> {
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
        let index = batch.iter().position(|r| reader.sequence_of(r) == Some(id)).ok_or(())?;
        lowest = Some(lowest.map_or(index, |l| l.min(index)));
    }
    Ok(lowest)
}

/// The record AWS sends to an OnFailure destination for a stream batch.
/// <https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html>
pub fn failure_record<R: ShardReader>(reader: &R, m: &Mapping, shard: &str, batch: &[Json], condition: Condition, attempts: u32) -> Json {
    let arrival = |r: Option<&Json>| r.and_then(|r| reader.arrival_millis(r)).map(|ms| reader.arrival_text(ms));
    let mut doc = json!({
        "requestContext": {
            "requestId": kagami_core::ids::uuid_v4(),
            "functionArn": m.function_arn,
            "condition": condition.name(),
            "approximateInvokeCount": attempts,
        },
        "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
        "version": "1.0",
        "timestamp": Timestamp::from_millis(clock::now_millis()).to_iso8601_millis(),
    });
    if let Some(o) = doc.as_object_mut() {
        o.insert(
            reader.batch_info_key().to_string(),
            json!({
                "shardId": shard,
                "startSequenceNumber": batch.first().and_then(|r| reader.sequence_of(r)),
                "endSequenceNumber": batch.last().and_then(|r| reader.sequence_of(r)),
                "approximateArrivalOfFirstRecord": arrival(batch.first()),
                "approximateArrivalOfLastRecord": arrival(batch.last()),
                "batchSize": batch.len(),
                "streamArn": stream_arn(m),
            }),
        );
    }
    doc
}

/// Sends an OnFailure record to the mapping's destination: an SQS queue or an SNS topic.
async fn send_on_failure(peers: &Peers, destination: &str, doc: String) -> Result<(), ServiceError> {
    let parts: Vec<&str> = destination.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "sqs", ..] => super::sqs::send_to_arn(peers, destination, doc).await,
        ["arn", _, "sns", region, account, _] => {
            let mut input = Value::map();
            input.insert("TopicArn", Value::from(destination));
            input.insert("Message", Value::from(doc));
            peers.call(&peers.system_context(account, region, "lambda"), "sns", "Publish", input).await.map(|_| ())
        }
        _ => Err(ServiceError::internal(format!("kagami delivers OnFailure records to SQS queues and SNS topics, not {destination}"))),
    }
}

/// Why the batch is given up on after `attempts` failed invocations, if it is.
fn give_up<R: ShardReader>(reader: &R, m: &Mapping, batch: &[Json], attempts: u32) -> Option<Condition> {
    let retries = i64::from(m.maximum_retry_attempts.unwrap_or(-1));
    let max_age_ms = i64::from(m.maximum_record_age_in_seconds.unwrap_or(-1)).saturating_mul(1000);
    let oldest = batch.first().and_then(|r| reader.arrival_millis(r)).unwrap_or(i64::MAX);
    if retries >= 0 && i64::from(attempts) > retries {
        Some(Condition::RetryAttemptsExhausted)
    } else if max_age_ms >= 0 && clock::now_millis().saturating_sub(oldest) > max_age_ms {
        Some(Condition::RecordAgeExceeded)
    } else {
        None
    }
}

/// Delivers one batch (already filtered) with retries; false when the poller was stopped.
/// With a tumbling `window`, each successful invocation's state is kept in it.
pub async fn deliver<R: ShardReader>(
    esm: &EventSourceMappings,
    reader: &R,
    m: &Mapping,
    shard: &str,
    batch: Vec<Json>,
    mut window: Option<&mut Window>,
    stopped: &mut watch::Receiver<bool>,
) -> bool {
    let mut pending = VecDeque::from([batch]);
    let report_failures = m.function_response_types.iter().any(|t| t == "ReportBatchItemFailures");
    while let Some(mut batch) = pending.pop_front() {
        let mut attempts: u32 = 0;
        let mut wait = RETRY_FIRST;
        loop {
            if *stopped.borrow() {
                return false;
            }
            let payload = event(m, shard, &batch, window.as_deref());
            attempts += 1;
            let outcome = match (esm.invoke(m, payload).await, window.as_deref_mut()) {
                (Outcome::Success(body), Some(w)) if !w.closing => match returned_state(&body) {
                    Some(state) => {
                        w.state = state;
                        Outcome::Success(body)
                    }
                    None => Outcome::FunctionError,
                },
                (outcome, _) => outcome,
            };
            match outcome {
                Outcome::Success(body) => match report_failures.then(|| retry_from(reader, &body, &batch)) {
                    None | Some(Ok(None)) => {
                        esm.set_result(&m.uuid, "OK");
                        break;
                    }
                    // The records before the lowest failed one count as processed.
                    Some(Ok(Some(from))) => {
                        batch.drain(..from);
                        esm.set_result(&m.uuid, FUNCTION_FAILED);
                    }
                    Some(Err(())) => esm.set_result(&m.uuid, FUNCTION_FAILED),
                },
                Outcome::FunctionError => esm.set_result(&m.uuid, FUNCTION_FAILED),
                Outcome::NotRun(reason) => esm.set_result(&m.uuid, &format!("PROBLEM: {reason}")),
            }
            // Splitting a batch does not count against the retries: each half starts afresh.
            if m.bisect_batch_on_function_error == Some(true) && batch.len() > 1 {
                let (first, second) = batch.split_at(batch.len() / 2);
                pending.push_front(second.to_vec());
                pending.push_front(first.to_vec());
                break;
            }
            if let Some(condition) = give_up(reader, m, &batch, attempts) {
                if let Some(destination) = &m.on_failure {
                    let doc = failure_record(reader, m, shard, &batch, condition, attempts).to_string();
                    if let Err(e) = send_on_failure(&esm.peers, destination, doc).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumbling_windows_start_at_multiples_of_their_length() {
        let w = Window::of(1_607_497_475_000, 120);
        assert_eq!((w.start_ms, w.end_ms), (1_607_497_440_000, 1_607_497_560_000));
        assert_eq!(Window::of(w.end_ms, 120).start_ms, w.end_ms);
        assert_eq!(Window::of(w.end_ms - 1, 120).start_ms, w.start_ms);
    }

    #[test]
    fn windowed_events_carry_the_window_and_its_state() {
        let m = Mapping::sample("Kinesis", "arn:aws:kinesis:us-east-1:111122223333:stream/s");
        let mut w = Window::of(1_607_497_475_000, 120);
        w.state = json!({"n": 2});
        let doc: Json = serde_json::from_slice(&event(&m, "shardId-000000000006", &[json!({"r": 1})], Some(&w))).unwrap_or_default();
        assert_eq!(
            doc,
            json!({
                "Records": [{"r": 1}],
                "window": {"start": "2020-12-09T07:04:00Z", "end": "2020-12-09T07:06:00Z"},
                "state": {"n": 2},
                "shardId": "shardId-000000000006",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:111122223333:stream/s",
                "isFinalInvokeForWindow": false,
                "isWindowTerminatedEarly": false,
            })
        );
        let plain: Json = serde_json::from_slice(&event(&m, "s", &[], None)).unwrap_or_default();
        assert_eq!(plain, json!({"Records": []}));
        assert_eq!(returned_state(br#"{"state": {"n": 3}}"#), Some(json!({"n": 3})));
        assert_eq!(returned_state(br#"{"batchItemFailures": []}"#), None);
        assert_eq!(returned_state(b"null"), None);
    }
}
