//! The SQS poller: receives batches from the queue, invokes the function with AWS's SQS
//! event, deletes what was processed. A failed batch is left alone: its messages become
//! visible again after the queue's visibility timeout, and the queue's redrive policy
//! moves them to its dead-letter queue after maxReceiveCount receives.
//! <https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>

use super::filter::Filters;
use super::json::{str_of, to_json};
use super::record::Mapping;
use super::source::Source;
use super::{EventSourceMappings, Outcome};
use kagami_core::{Peers, RequestContext, ServiceError, Value};
use serde_json::{Map, Value as Json, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// ReceiveMessage returns at most 10 messages; DeleteMessageBatch takes at most 10.
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html>
const RECEIVE_MAX: usize = 10;
/// Long polling waits at most 20 seconds.
const MAX_WAIT_SECONDS: u64 = 20;
/// How long to wait before trying again after the queue or the function failed.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// The queue's URL, through GetQueueUrl in the queue's own account and region.
pub async fn queue_url(peers: &Peers, region: &str, account: &str, name: &str) -> Result<String, ServiceError> {
    let mut input = Value::map();
    input.insert("QueueName", Value::from(name));
    input.insert("QueueOwnerAWSAccountId", Value::from(account));
    let out = peers.call(&peers.system_context(account, region, "lambda"), "sqs", "GetQueueUrl", input).await?;
    str_of(&out, "QueueUrl").map(str::to_string).ok_or_else(|| ServiceError::internal("GetQueueUrl answered without a QueueUrl"))
}

/// Sends one message to a queue named by its ARN (the OnFailure destination).
pub async fn send_to_arn(peers: &Peers, arn: &str, body: String) -> Result<(), ServiceError> {
    let Source::Sqs { region, account, name } = Source::parse(arn) else {
        return Err(ServiceError::internal(format!("{arn} is not an SQS queue")));
    };
    let url = queue_url(peers, &region, &account, &name).await?;
    let mut input = Value::map();
    input.insert("QueueUrl", Value::from(url));
    input.insert("MessageBody", Value::from(body));
    peers.call(&peers.system_context(&account, &region, "lambda"), "sqs", "SendMessage", input).await.map(|_| ())
}

async fn receive(peers: &Peers, ctx: &RequestContext, url: &str, max: usize, wait: u64) -> Result<Vec<Value>, ServiceError> {
    let all = || Value::List(vec![Value::from("All")]);
    let mut input = Value::map();
    input.insert("QueueUrl", Value::from(url));
    input.insert("MaxNumberOfMessages", Value::Int(i64::try_from(max.clamp(1, RECEIVE_MAX)).unwrap_or(10)));
    input.insert("WaitTimeSeconds", Value::Int(i64::try_from(wait.min(MAX_WAIT_SECONDS)).unwrap_or(0)));
    input.insert("MessageSystemAttributeNames", all());
    input.insert("MessageAttributeNames", all());
    let out = peers.call(ctx, "sqs", "ReceiveMessage", input).await?;
    Ok(out.get("Messages").and_then(Value::as_list).map(<[Value]>::to_vec).unwrap_or_default())
}

async fn delete(peers: &Peers, ctx: &RequestContext, url: &str, handles: &[String]) {
    for chunk in handles.chunks(RECEIVE_MAX) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let mut e = Value::map();
                e.insert("Id", Value::from(format!("m{i}")));
                e.insert("ReceiptHandle", Value::from(h.as_str()));
                e
            })
            .collect();
        let mut input = Value::map();
        input.insert("QueueUrl", Value::from(url));
        input.insert("Entries", Value::List(entries));
        if let Err(e) = peers.call(ctx, "sqs", "DeleteMessageBatch", input).await {
            tracing::warn!(queue = url, error = %e.message, "deleting processed messages");
        }
    }
}

/// Receives up to the batch size, waiting up to the batching window for more.
async fn gather(peers: &Peers, ctx: &RequestContext, url: &str, m: &Mapping) -> Result<Vec<Value>, ServiceError> {
    let batch_size = usize::try_from(m.batch_size).unwrap_or(RECEIVE_MAX).max(1);
    let mut messages = receive(peers, ctx, url, batch_size.min(RECEIVE_MAX), MAX_WAIT_SECONDS).await?;
    if messages.is_empty() {
        return Ok(messages);
    }
    let window = Duration::from_secs(u64::try_from(m.maximum_batching_window_in_seconds).unwrap_or(0));
    let deadline = Instant::now() + window;
    while messages.len() < batch_size {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let more = receive(peers, ctx, url, (batch_size - messages.len()).min(RECEIVE_MAX), left.as_secs()).await?;
        if more.is_empty() {
            tokio::time::sleep(left.min(Duration::from_millis(100))).await;
        }
        messages.extend(more);
    }
    Ok(messages)
}

/// One message as the SQS event shows it.
/// <https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#example-standard-queue-message-event>
fn record(msg: &Value, m: &Mapping, region: &str) -> Json {
    let attributes = msg.get("Attributes").map(to_json).unwrap_or_else(|| json!({}));
    let mut message_attributes = Map::new();
    if let Some(attrs) = msg.get("MessageAttributes").and_then(Value::as_map) {
        for (name, a) in attrs {
            let mut doc = Map::new();
            if let Some(s) = a.get("StringValue") {
                doc.insert("stringValue".into(), to_json(s));
            }
            if let Some(b) = a.get("BinaryValue") {
                doc.insert("binaryValue".into(), to_json(b));
            }
            doc.insert("stringListValues".into(), a.get("StringListValues").map(to_json).unwrap_or_else(|| json!([])));
            doc.insert("binaryListValues".into(), a.get("BinaryListValues").map(to_json).unwrap_or_else(|| json!([])));
            doc.insert("dataType".into(), a.get("DataType").map(to_json).unwrap_or(Json::Null));
            message_attributes.insert(name.clone(), Json::Object(doc));
        }
    }
    let mut r = Map::new();
    r.insert("messageId".into(), json!(str_of(msg, "MessageId")));
    r.insert("receiptHandle".into(), json!(str_of(msg, "ReceiptHandle")));
    r.insert("body".into(), json!(str_of(msg, "Body").unwrap_or_default()));
    r.insert("attributes".into(), attributes);
    r.insert("messageAttributes".into(), Json::Object(message_attributes));
    if let Some(md5) = str_of(msg, "MD5OfMessageAttributes") {
        r.insert("md5OfMessageAttributes".into(), json!(md5));
    }
    r.insert("md5OfBody".into(), json!(str_of(msg, "MD5OfBody")));
    r.insert("eventSource".into(), json!("aws:sqs"));
    r.insert("eventSourceARN".into(), json!(m.event_source_arn));
    r.insert("awsRegion".into(), json!(region));
    Json::Object(r)
}

/// What a filter sees: the record, with a body that is JSON parsed as JSON.
fn filter_view(record: &Json) -> Json {
    let mut view = record.clone();
    if let Some(body) = record.get("body").and_then(Json::as_str)
        && let Ok(parsed) = serde_json::from_str::<Json>(body)
        && let Some(slot) = view.get_mut("body")
    {
        *slot = parsed;
    }
    view
}

/// The message ids a ReportBatchItemFailures response names as failed; `None` when the
/// whole batch counts as failed (a response Lambda cannot read).
/// <https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting>
fn batch_item_failures(payload: &[u8], ids: &HashSet<&str>) -> Option<HashSet<String>> {
    let text = std::str::from_utf8(payload).ok()?.trim();
    if text.is_empty() {
        return Some(HashSet::new());
    }
    let doc: Json = serde_json::from_str(text).ok()?;
    let Some(failures) = doc.get("batchItemFailures") else { return Some(HashSet::new()) };
    let failures = match failures {
        Json::Null => return Some(HashSet::new()),
        Json::Array(f) => f,
        _ => return None,
    };
    let mut failed = HashSet::new();
    for f in failures {
        let id = f.get("itemIdentifier").and_then(Json::as_str).filter(|id| !id.is_empty())?;
        if !ids.contains(id) {
            return None;
        }
        failed.insert(id.to_string());
    }
    Some(failed)
}

async fn pause(stopped: &mut watch::Receiver<bool>, d: Duration) {
    tokio::select! {
        _ = stopped.changed() => {}
        _ = tokio::time::sleep(d) => {}
    }
}

pub async fn run(esm: Arc<EventSourceMappings>, uuid: String, mut stopped: watch::Receiver<bool>) {
    let mut url: Option<String> = None;
    loop {
        if *stopped.borrow() {
            break;
        }
        let Some(m) = esm.get(&uuid).filter(|m| m.enabled) else { break };
        let Source::Sqs { region, account, name } = Source::parse(&m.event_source_arn) else { break };
        let ctx = esm.peers.system_context(&account, &region, "lambda");
        let queue = match &url {
            Some(u) => u.clone(),
            None => match queue_url(&esm.peers, &region, &account, &name).await {
                Ok(u) => {
                    url = Some(u.clone());
                    u
                }
                Err(_) => {
                    pause(&mut stopped, RETRY_PAUSE).await;
                    continue;
                }
            },
        };
        let messages = tokio::select! {
            _ = stopped.changed() => break,
            r = gather(&esm.peers, &ctx, &queue, &m) => r,
        };
        let messages = match messages {
            Ok(msgs) if msgs.is_empty() => continue,
            Ok(msgs) => msgs,
            Err(e) => {
                tracing::debug!(mapping = %uuid, error = %e.message, "receiving from the queue");
                url = None;
                pause(&mut stopped, RETRY_PAUSE).await;
                continue;
            }
        };
        let filters = Filters::parse(m.filters.as_deref().unwrap_or_default()).unwrap_or_default();
        let mut matched = Vec::new();
        let mut dropped = Vec::new();
        for msg in &messages {
            let r = record(msg, &m, &region);
            let handle = str_of(msg, "ReceiptHandle").unwrap_or_default().to_string();
            if filters.matches(&filter_view(&r)) {
                matched.push((r, handle));
            } else {
                dropped.push(handle);
            }
        }
        // Messages no filter matches are deleted, as Lambda does for SQS.
        if !dropped.is_empty() {
            delete(&esm.peers, &ctx, &queue, &dropped).await;
        }
        if matched.is_empty() {
            continue;
        }
        let records: Vec<Json> = matched.iter().map(|(r, _)| r.clone()).collect();
        let payload = json!({ "Records": records }).to_string();
        match esm.invoke(&m, payload.into_bytes()).await {
            Outcome::Success(body) => {
                let handles: Vec<String> = if m.function_response_types.iter().any(|t| t == "ReportBatchItemFailures") {
                    let ids: HashSet<&str> = matched.iter().filter_map(|(r, _)| r.get("messageId").and_then(Json::as_str)).collect();
                    match batch_item_failures(&body, &ids) {
                        Some(failed) => matched
                            .iter()
                            .filter(|(r, _)| !r.get("messageId").and_then(Json::as_str).is_some_and(|id| failed.contains(id)))
                            .map(|(_, h)| h.clone())
                            .collect(),
                        None => Vec::new(),
                    }
                } else {
                    matched.iter().map(|(_, h)| h.clone()).collect()
                };
                delete(&esm.peers, &ctx, &queue, &handles).await;
            }
            Outcome::FunctionError => {}
            Outcome::NotRun(reason) => {
                tracing::info!(mapping = %uuid, reason, "event source mapping could not invoke its function");
                pause(&mut stopped, RETRY_PAUSE).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_item_failures_name_the_messages_to_keep() {
        let ids: HashSet<&str> = ["a", "b"].into_iter().collect();
        assert_eq!(batch_item_failures(br#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#, &ids), Some(["b".to_string()].into()));
        assert_eq!(batch_item_failures(b"null", &ids), Some(HashSet::new()));
        assert_eq!(batch_item_failures(br#"{"batchItemFailures":[]}"#, &ids), Some(HashSet::new()));
        assert_eq!(batch_item_failures(b"", &ids), Some(HashSet::new()));
        assert_eq!(batch_item_failures(br#"{"batchItemFailures":[{"itemIdentifier":"zzz"}]}"#, &ids), None);
        assert_eq!(batch_item_failures(br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#, &ids), None);
        assert_eq!(batch_item_failures(br#"{"batchItemFailures":[{"id":"a"}]}"#, &ids), None);
        assert_eq!(batch_item_failures(b"not json", &ids), None);
    }

    #[test]
    fn filters_see_json_bodies_as_json() {
        let r = json!({"body": "{\"kind\": \"order\"}"});
        assert_eq!(filter_view(&r), json!({"body": {"kind": "order"}}));
        let plain = json!({"body": "hello"});
        assert_eq!(filter_view(&plain), plain);
    }
}
