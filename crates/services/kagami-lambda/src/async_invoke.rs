//! Asynchronous invocation (`InvocationType: Event`): the event waits in an in-process
//! queue, runs, and on a function error runs again — up to MaximumRetryAttempts more
//! times (default 2), after 1 then 2 minutes of emulated time, within
//! MaximumEventAgeInSeconds (default 6 hours). Its outcome then goes to the destinations
//! of the function's event invoke configuration (an invocation record) and, on failure,
//! to the function's dead-letter queue (the event itself).
//! https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
//!
//! Accepted events are records in the store (`lambda/async-events`) until their outcome
//! is delivered: with `--data-dir`, an event acknowledged with 202 survives `kill -9`
//! and a restart, and resumes with the attempts it had made and its next retry time.
//! A throttled attempt (reserved concurrency) is not counted: the event waits, backing
//! off from 1 second to 5 minutes, within its maximum age, as Lambda does.

use crate::destinations::Outbound;
use crate::event_invoke_config::{EventInvokeConfig, MAX_EVENT_AGE, MAX_RETRY_ATTEMPTS};
use crate::function::LATEST;
use crate::generated::{InvocationRequest, InvocationResponse};
use crate::records::Records;
use crate::state::Lambda;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Store, StoreError, clock, ids};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::sync::Arc;

/// Seconds before the first retry; the second waits twice as long (AWS: 1 and 2 minutes).
/// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
const DEFAULT_RETRY_SECONDS: i64 = 60;
/// Overrides the first retry delay (seconds, emulated clock), e.g. `1` in tests.
pub const RETRY_ENV: &str = "KAGAMI_LAMBDA_ASYNC_RETRY_SECONDS";
/// Throttled events are retried after 1 second, doubling up to 5 minutes.
/// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
const THROTTLE_FIRST_MILLIS: i64 = 1_000;
const THROTTLE_MAX_MILLIS: i64 = 300_000;
/// The DLQ message's ErrorMessage attribute is cut to this length.
const MAX_ERROR_MESSAGE: usize = 1024;
/// Queued events, keyed `<queued-at millis, zero-padded>/<request id>` (oldest first).
const QUEUE: &str = "lambda/async-events";
/// Resumed events wait this long after startup, so that every service (logs, SQS, the
/// destinations) is installed in `Peers` before the first one runs.
const RESUME_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

/// Event invoke configurations, keyed `account/region/name:qualifier`, and the queue.
pub struct Asynchronous {
    pub configs: Records<EventInvokeConfig>,
    store: Store,
}

/// One accepted event, as the store keeps it until its outcome is delivered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct QueuedEvent {
    account: String,
    region: String,
    request_id: String,
    function_name: String,
    qualifier: Option<String>,
    /// The event, base64.
    payload: String,
    client_context: Option<String>,
    queued_at: i64,
    /// Attempts that ended in a function error.
    attempts: u32,
    /// Throttled attempts in a row (not counted as attempts).
    #[serde(default)]
    throttles: u32,
    next_attempt_at: i64,
    last: Option<LastResponse>,
}

/// The answer of the last attempt, for the invocation record and the DLQ attributes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct LastResponse {
    status_code: i32,
    function_error: Option<String>,
    payload: String,
    executed_version: Option<String>,
}

impl LastResponse {
    fn of(r: &InvocationResponse) -> LastResponse {
        LastResponse {
            status_code: r.status_code.unwrap_or(200),
            function_error: r.function_error.clone(),
            payload: String::from_utf8_lossy(r.payload.as_deref().unwrap_or_default()).into_owned(),
            executed_version: r.executed_version.clone(),
        }
    }
}

impl QueuedEvent {
    fn key(&self) -> String {
        format!("{:016}/{}", self.queued_at.max(0), self.request_id)
    }

    fn payload(&self) -> Bytes {
        Bytes::from(STANDARD.decode(&self.payload).unwrap_or_default())
    }

    fn request(&self) -> InvocationRequest {
        InvocationRequest {
            function_name: self.function_name.clone(),
            qualifier: self.qualifier.clone(),
            invocation_type: Some("RequestResponse".into()),
            payload: Some(self.payload()),
            client_context: self.client_context.clone(),
            ..Default::default()
        }
    }
}

impl Asynchronous {
    pub fn load(store: &Store) -> Result<Asynchronous, StoreError> {
        Ok(Asynchronous { configs: Records::load(store, "lambda/event-invoke-configs")?, store: store.clone() })
    }

    pub fn reset(&self) {
        self.configs.reset();
        drop(self.store.submit(vec![StoreOp::delete_prefix(QUEUE, "")]));
    }

    /// A function (`account/region/name`) or one of its qualifiers was deleted.
    pub async fn forget(&self, key: &str, qualifier: Option<&str>) -> Result<(), ServiceError> {
        match qualifier {
            Some(q) => self.configs.remove_with_qualifiers(&format!("{key}:{q}")).await,
            None => self.configs.remove_with_qualifiers(key).await,
        }
    }

    /// Writes the event's progress; only a durable store is worth serializing it for.
    async fn save(&self, event: &QueuedEvent) -> Result<(), StoreError> {
        if !self.store.is_durable() {
            return Ok(());
        }
        self.store.commit(vec![StoreOp::put_json(QUEUE, event.key(), event)]).await
    }

    async fn done(&self, event: &QueuedEvent) {
        if !self.store.is_durable() {
            return;
        }
        if let Err(e) = self.store.commit(vec![StoreOp::delete(QUEUE, event.key())]).await {
            tracing::warn!(request_id = %event.request_id, error = %e, "removing a finished asynchronous event");
        }
    }
}

/// How an asynchronous invocation ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Condition {
    Success,
    RetriesExhausted,
    EventAgeExceeded,
}

impl Condition {
    fn as_str(self) -> &'static str {
        match self {
            Condition::Success => "Success",
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::EventAgeExceeded => "EventAgeExceeded",
        }
    }
}

fn retry_delay_millis(retry: u32) -> i64 {
    let base = std::env::var(RETRY_ENV).ok().and_then(|v| v.trim().parse::<i64>().ok()).filter(|s| *s >= 0).unwrap_or(DEFAULT_RETRY_SECONDS);
    base.saturating_mul(1000).saturating_mul(i64::from(retry.max(1)))
}

fn throttle_delay_millis(throttles: u32) -> i64 {
    THROTTLE_FIRST_MILLIS.saturating_mul(1i64 << throttles.saturating_sub(1).min(20)).min(THROTTLE_MAX_MILLIS)
}

impl Lambda {
    /// Queues an event (already checked: function exists, size within limits) and
    /// returns once it is durable. Its request id stays the Invoke call's, as in AWS's
    /// invocation records.
    pub(crate) async fn enqueue_event(self: &Arc<Self>, ctx: &RequestContext, input: InvocationRequest) -> Result<(), ServiceError> {
        let now = clock::now_millis();
        let request_id = if ctx.request_id.is_empty() { ids::uuid_v4() } else { ctx.request_id.clone() };
        let event = QueuedEvent {
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            request_id,
            function_name: input.function_name,
            qualifier: input.qualifier,
            payload: STANDARD.encode(input.payload.as_deref().unwrap_or_default()),
            client_context: input.client_context,
            queued_at: now,
            attempts: 0,
            throttles: 0,
            next_attempt_at: now,
            last: None,
        };
        self.asynchronous.save(&event).await.map_err(|e| ServiceError::internal(format!("queueing the event: {e}")))?;
        self.start_event(event);
        Ok(())
    }

    /// A plain fn, not async: `invoke` awaits `enqueue_event`, and the task spawned here
    /// runs `invoke`, so an async spawner would make the future's type its own member.
    fn start_event(self: &Arc<Self>, event: QueuedEvent) {
        let lambda = Arc::clone(self);
        tokio::spawn(async move { lambda.run_event(event).await });
    }

    /// Runs again the events a previous process accepted and did not finish.
    pub fn resume_events(self: &Arc<Self>) {
        let pending = match self.store.scan_json::<QueuedEvent>(QUEUE) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "reading queued asynchronous events");
                return;
            }
        };
        if pending.is_empty() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        tracing::info!(events = pending.len(), "resuming queued asynchronous invocations");
        let lambda = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(RESUME_DELAY).await;
            for (_, event) in pending {
                lambda.start_event(event);
            }
        });
    }

    async fn run_event(self: Arc<Self>, mut event: QueuedEvent) {
        let mut ctx = self.peers.system_context(&event.account, &event.region, "lambda");
        ctx.request_id = event.request_id.clone();
        let input = event.request();
        let condition = loop {
            clock::sleep_until(event.next_attempt_at).await;
            let config = self.event_config(&ctx, &input);
            let max_retries = config.as_ref().and_then(|c| c.maximum_retry_attempts).unwrap_or(MAX_RETRY_ATTEMPTS);
            let max_age = config.as_ref().and_then(|c| c.maximum_event_age_in_seconds).unwrap_or(MAX_EVENT_AGE);
            if clock::now_millis() - event.queued_at > i64::from(max_age) * 1000 {
                break Condition::EventAgeExceeded;
            }
            match self.invoke(&ctx, input.clone()).await {
                Ok(r) if r.function_error.is_none() => {
                    event.attempts += 1;
                    event.last = Some(LastResponse::of(&r));
                    break Condition::Success;
                }
                Ok(r) => {
                    event.attempts += 1;
                    event.throttles = 0;
                    tracing::info!(request_id = %event.request_id, attempt = event.attempts, "asynchronous invocation ended in a function error");
                    event.last = Some(LastResponse::of(&r));
                    if event.attempts > u32::try_from(max_retries).unwrap_or(0) {
                        break Condition::RetriesExhausted;
                    }
                    event.next_attempt_at = clock::now_millis().saturating_add(retry_delay_millis(event.attempts));
                }
                Err(e) if e.code == "TooManyRequestsException" => {
                    event.throttles += 1;
                    event.next_attempt_at = clock::now_millis().saturating_add(throttle_delay_millis(event.throttles));
                }
                Err(e) => {
                    // The function was deleted meanwhile, or cannot run at all: AWS drops it.
                    tracing::warn!(request_id = %event.request_id, error = %e.message, "asynchronous invocation not run");
                    self.asynchronous.done(&event).await;
                    return;
                }
            }
            if let Err(e) = self.asynchronous.save(&event).await {
                tracing::warn!(request_id = %event.request_id, error = %e, "saving an asynchronous event's retry");
            }
        };
        self.deliver(&ctx, &input, condition, &event).await;
        self.asynchronous.done(&event).await;
    }

    /// The event invoke configuration for the qualifier invoked (`$LATEST` when none).
    fn event_config(&self, ctx: &RequestContext, input: &InvocationRequest) -> Option<EventInvokeConfig> {
        let target = self.control_target(ctx, &input.function_name, input.qualifier.as_deref()).ok()?;
        self.asynchronous.configs.get(&target.qualified_key())
    }

    async fn deliver(&self, ctx: &RequestContext, input: &InvocationRequest, condition: Condition, event: &QueuedEvent) {
        let Ok(target) = self.control_target(ctx, &input.function_name, input.qualifier.as_deref()) else { return };
        let config = self.asynchronous.configs.get(&target.qualified_key());
        let function_arn = format!("{}:{}", target.function.arn(), target.qualifier.as_deref().unwrap_or(LATEST));
        let last = event.last.as_ref();
        let destination = match condition {
            Condition::Success => config.as_ref().and_then(|c| c.on_success.clone()),
            _ => config.as_ref().and_then(|c| c.on_failure.clone()),
        };
        if let Some(arn) = destination {
            let record = invocation_record(&ctx.request_id, &function_arn, condition, event.attempts, &event.payload(), last);
            let out = Outbound::Record { body: record.to_string(), success: condition == Condition::Success, function_arn: &function_arn };
            if let Err(e) = self.send_to(&arn, out).await {
                tracing::warn!(destination = %arn, error = %e.message, "delivering an asynchronous invocation record");
            }
        }
        if condition != Condition::Success
            && let Some(dlq) = &target.function.dead_letter_target
        {
            let (error_code, error_message) = error_of(last);
            let body = String::from_utf8_lossy(&event.payload()).into_owned();
            let out = Outbound::DeadLetter { body, request_id: &ctx.request_id, error_code, error_message };
            if let Err(e) = self.send_to(dlq, out).await {
                tracing::warn!(dead_letter_queue = %dlq, error = %e.message, "delivering a failed event to the dead-letter queue");
            }
        }
    }
}

/// The DLQ message's ErrorCode and ErrorMessage attributes.
fn error_of(last: Option<&LastResponse>) -> (String, String) {
    let Some(r) = last else { return ("200".into(), "Event age exceeded".into()) };
    let payload: Json = serde_json::from_str(&r.payload).unwrap_or(Json::Null);
    let mut message = payload.get("errorMessage").and_then(Json::as_str).map_or_else(|| payload.to_string(), str::to_string);
    if message.len() > MAX_ERROR_MESSAGE {
        let mut cut = MAX_ERROR_MESSAGE;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    (r.status_code.to_string(), message)
}

/// A payload as the record carries it: its JSON, or its text when it is not JSON.
fn as_json(bytes: &[u8]) -> Json {
    serde_json::from_slice(bytes).unwrap_or_else(|_| Json::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// AWS's invocation record, version 1.0.
/// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
fn invocation_record(request_id: &str, function_arn: &str, condition: Condition, attempts: u32, payload: &[u8], last: Option<&LastResponse>) -> Json {
    let mut record = json!({
        "version": "1.0",
        "timestamp": clock::now().to_iso8601_millis(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition.as_str(),
            "approximateInvokeCount": attempts,
        },
        "requestPayload": as_json(payload),
    });
    if let (Some(r), Some(obj)) = (last, record.as_object_mut()) {
        let mut response = json!({ "statusCode": r.status_code, "executedVersion": r.executed_version.as_deref().unwrap_or(LATEST) });
        if let (Some(fe), Some(o)) = (&r.function_error, response.as_object_mut()) {
            o.insert("functionError".into(), json!(fe));
        }
        obj.insert("responseContext".into(), response);
        obj.insert("responsePayload".into(), as_json(r.payload.as_bytes()));
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> LastResponse {
        let r = InvocationResponse {
            status_code: Some(200),
            function_error: Some("Unhandled".into()),
            payload: Some(Bytes::from_static(br#"{"errorMessage": "boom"}"#)),
            executed_version: Some("$LATEST".into()),
            ..Default::default()
        };
        LastResponse::of(&r)
    }

    #[test]
    fn records_carry_the_request_and_the_last_response() {
        let last = failed();
        let r = invocation_record("req-1", "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST", Condition::RetriesExhausted, 3, br#"{"n": 1}"#, Some(&last));
        assert_eq!(r["version"], "1.0");
        assert_eq!(r["requestContext"]["requestId"], "req-1");
        assert_eq!(r["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(r["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(r["requestPayload"], json!({"n": 1}));
        assert_eq!(r["responseContext"]["functionError"], "Unhandled");
        assert_eq!(r["responsePayload"]["errorMessage"], "boom");
        assert_eq!(error_of(Some(&last)), ("200".to_string(), "boom".to_string()));
        assert_eq!(error_of(None), ("200".to_string(), "Event age exceeded".to_string()));
    }

    #[test]
    fn queued_events_round_trip_through_their_record_in_queue_order() {
        let event = QueuedEvent {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            request_id: "r".into(),
            function_name: "f".into(),
            qualifier: Some("live".into()),
            payload: STANDARD.encode(b"\x00{\"a\":1}"),
            client_context: None,
            queued_at: 42,
            attempts: 1,
            throttles: 0,
            next_attempt_at: 60_042,
            last: Some(failed()),
        };
        let back: QueuedEvent = serde_json::from_str(&serde_json::to_string(&event).unwrap_or_default()).unwrap_or_else(|_| event.clone());
        assert_eq!(back.key(), "0000000000000042/r");
        assert_eq!(back.request().payload.as_deref(), Some(&b"\x00{\"a\":1}"[..]));
        assert_eq!(back.request().qualifier.as_deref(), Some("live"));
        assert_eq!((back.attempts, back.next_attempt_at), (1, 60_042));
        assert_eq!(back.last, Some(failed()));
        let later = QueuedEvent { queued_at: 1_000, ..event };
        assert!(back.key() < later.key());
    }

    #[test]
    fn retries_wait_one_then_two_minutes() {
        if std::env::var(RETRY_ENV).is_err() {
            assert_eq!(retry_delay_millis(1), 60_000);
            assert_eq!(retry_delay_millis(2), 120_000);
        }
    }

    #[test]
    fn throttled_events_back_off_from_one_second_to_five_minutes() {
        assert_eq!(throttle_delay_millis(1), 1_000);
        assert_eq!(throttle_delay_millis(2), 2_000);
        assert_eq!(throttle_delay_millis(4), 8_000);
        assert_eq!(throttle_delay_millis(30), 300_000);
    }
}
