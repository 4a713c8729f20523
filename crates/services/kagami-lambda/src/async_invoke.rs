//! Asynchronous invocation (`InvocationType: Event`): the event waits in an in-process
//! queue, runs, and on a function error runs again — up to MaximumRetryAttempts more
//! times (default 2), after 1 then 2 minutes of emulated time, within
//! MaximumEventAgeInSeconds (default 6 hours). Its outcome then goes to the destinations
//! of the function's event invoke configuration (an invocation record) and, on failure,
//! to the function's dead-letter queue (the event itself).
//! https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
//!
//! Queued events live in memory: a restart loses those not yet run. SNS and EventBridge
//! destinations are logged and skipped (kagami has neither service yet).

use crate::event_invoke_config::{EventInvokeConfig, MAX_EVENT_AGE, MAX_RETRY_ATTEMPTS};
use crate::function::LATEST;
use crate::generated::{InvocationRequest, InvocationResponse};
use crate::records::Records;
use crate::state::Lambda;
use bytes::Bytes;
use kagami_core::{RequestContext, ServiceError, Store, StoreError, Value, clock, ids};
use serde_json::{Value as Json, json};
use std::sync::Arc;

/// Seconds before the first retry; the second waits twice as long (AWS: 1 and 2 minutes).
/// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
const DEFAULT_RETRY_SECONDS: i64 = 60;
/// Overrides the first retry delay (seconds, emulated clock), e.g. `1` in tests.
pub const RETRY_ENV: &str = "KAGAMI_LAMBDA_ASYNC_RETRY_SECONDS";
/// The DLQ message's ErrorMessage attribute is cut to this length.
const MAX_ERROR_MESSAGE: usize = 1024;

/// Event invoke configurations, keyed `account/region/name:qualifier`.
pub struct Asynchronous {
    pub configs: Records<EventInvokeConfig>,
}

impl Asynchronous {
    pub fn load(store: &Store) -> Result<Asynchronous, StoreError> {
        Ok(Asynchronous { configs: Records::load(store, "lambda/event-invoke-configs")? })
    }

    pub fn reset(&self) {
        self.configs.reset();
    }

    /// A function (`account/region/name`) or one of its qualifiers was deleted.
    pub async fn forget(&self, key: &str, qualifier: Option<&str>) -> Result<(), ServiceError> {
        match qualifier {
            Some(q) => self.configs.remove_with_qualifiers(&format!("{key}:{q}")).await,
            None => self.configs.remove_with_qualifiers(key).await,
        }
    }
}

/// How an asynchronous invocation ended.
#[derive(Clone, Copy, PartialEq, Eq)]
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

impl Lambda {
    /// Queues an event (already checked: function exists, size within limits). Its
    /// request id stays the Invoke call's, as in AWS's invocation records.
    pub(crate) fn enqueue_event(self: &Arc<Self>, ctx: &RequestContext, mut input: InvocationRequest) {
        input.invocation_type = Some("RequestResponse".into());
        input.log_type = None;
        let lambda = Arc::clone(self);
        let mut ctx = ctx.clone();
        if ctx.request_id.is_empty() {
            ctx.request_id = ids::uuid_v4();
        }
        tokio::spawn(async move { lambda.run_event(ctx, input).await });
    }

    async fn run_event(self: Arc<Self>, ctx: RequestContext, input: InvocationRequest) {
        let queued_at = clock::now_millis();
        let mut attempts: u32 = 0;
        let mut last: Option<InvocationResponse> = None;
        let condition = loop {
            let config = self.event_config(&ctx, &input);
            let max_retries = config.as_ref().and_then(|c| c.maximum_retry_attempts).unwrap_or(MAX_RETRY_ATTEMPTS);
            let max_age = config.as_ref().and_then(|c| c.maximum_event_age_in_seconds).unwrap_or(MAX_EVENT_AGE);
            if clock::now_millis() - queued_at > i64::from(max_age) * 1000 {
                break Condition::EventAgeExceeded;
            }
            attempts += 1;
            match self.invoke(&ctx, input.clone()).await {
                Ok(r) if r.function_error.is_none() => {
                    last = Some(r);
                    break Condition::Success;
                }
                Ok(r) => {
                    tracing::info!(request_id = %ctx.request_id, attempt = attempts, "asynchronous invocation ended in a function error");
                    last = Some(r);
                    if attempts > u32::try_from(max_retries).unwrap_or(0) {
                        break Condition::RetriesExhausted;
                    }
                    clock::sleep_until(clock::now_millis().saturating_add(retry_delay_millis(attempts))).await;
                }
                Err(e) => {
                    // The function was deleted meanwhile, or cannot run at all: AWS drops it.
                    tracing::warn!(request_id = %ctx.request_id, error = %e.message, "asynchronous invocation not run");
                    return;
                }
            }
        };
        self.deliver(&ctx, &input, condition, attempts, last.as_ref()).await;
    }

    /// The event invoke configuration for the qualifier invoked (`$LATEST` when none).
    fn event_config(&self, ctx: &RequestContext, input: &InvocationRequest) -> Option<EventInvokeConfig> {
        let target = self.control_target(ctx, &input.function_name, input.qualifier.as_deref()).ok()?;
        self.asynchronous.configs.get(&target.qualified_key())
    }

    async fn deliver(&self, ctx: &RequestContext, input: &InvocationRequest, condition: Condition, attempts: u32, last: Option<&InvocationResponse>) {
        let Ok(target) = self.control_target(ctx, &input.function_name, input.qualifier.as_deref()) else { return };
        let config = self.asynchronous.configs.get(&target.qualified_key());
        let function_arn = format!("{}:{}", target.function.arn(), target.qualifier.as_deref().unwrap_or(LATEST));
        let destination = match condition {
            Condition::Success => config.as_ref().and_then(|c| c.on_success.clone()),
            _ => config.as_ref().and_then(|c| c.on_failure.clone()),
        };
        if let Some(arn) = destination {
            let record = invocation_record(ctx, &function_arn, condition, attempts, input, last);
            if let Err(e) = self.send_to(&arn, record.to_string(), None).await {
                tracing::warn!(destination = %arn, error = %e.message, "delivering an asynchronous invocation record");
            }
        }
        if condition != Condition::Success
            && let Some(dlq) = &target.function.dead_letter_target
        {
            let (code, message) = error_of(last);
            let body = String::from_utf8_lossy(input.payload.as_deref().unwrap_or_default()).into_owned();
            let attributes = vec![("RequestID", "String", ctx.request_id.clone()), ("ErrorCode", "Number", code), ("ErrorMessage", "String", message)];
            if let Err(e) = self.send_to(dlq, body, Some(attributes)).await {
                tracing::warn!(dead_letter_queue = %dlq, error = %e.message, "delivering a failed event to the dead-letter queue");
            }
        }
    }

    /// Sends `body` to an SQS queue or Lambda function ARN, in that resource's own
    /// account and region.
    async fn send_to(&self, arn: &str, body: String, attributes: Option<Vec<(&str, &str, String)>>) -> Result<(), ServiceError> {
        let parts: Vec<&str> = arn.split(':').collect();
        let (service, region, account) = match parts.as_slice() {
            ["arn", _, service, region, account, ..] => (*service, *region, *account),
            _ => return Err(ServiceError::internal(format!("not an ARN: {arn}"))),
        };
        let dest_ctx = self.peers.system_context(account, region, "lambda");
        match service {
            "sqs" => {
                let name = parts.get(5).copied().unwrap_or_default();
                let mut q = Value::map();
                q.insert("QueueName", Value::from(name));
                q.insert("QueueOwnerAWSAccountId", Value::from(account));
                let url = self.peers.call(&dest_ctx, "sqs", "GetQueueUrl", q).await?;
                let url = url.get("QueueUrl").and_then(Value::as_str).unwrap_or_default().to_string();
                let mut send = Value::map();
                send.insert("QueueUrl", Value::from(url));
                send.insert("MessageBody", Value::from(body));
                if let Some(attrs) = attributes {
                    let mut map = Value::map();
                    for (name, kind, value) in attrs {
                        let mut a = Value::map();
                        a.insert("DataType", Value::from(kind));
                        a.insert("StringValue", Value::from(value));
                        map.insert(name, a);
                    }
                    send.insert("MessageAttributes", map);
                }
                self.peers.call(&dest_ctx, "sqs", "SendMessage", send).await.map(|_| ())
            }
            "lambda" => {
                let mut invoke = Value::map();
                invoke.insert("FunctionName", Value::from(arn));
                invoke.insert("InvocationType", Value::from("Event"));
                invoke.insert("Payload", Value::from(Bytes::from(body)));
                self.peers.call(&dest_ctx, "lambda", "Invoke", invoke).await.map(|_| ())
            }
            other => {
                tracing::warn!(destination = %arn, "kagami has no {other} service yet: asynchronous invocation record not delivered");
                Ok(())
            }
        }
    }
}

/// The DLQ message's ErrorCode and ErrorMessage attributes.
fn error_of(last: Option<&InvocationResponse>) -> (String, String) {
    let Some(r) = last else { return ("200".into(), "Event age exceeded".into()) };
    let payload: Json = serde_json::from_slice(r.payload.as_deref().unwrap_or_default()).unwrap_or(Json::Null);
    let mut message = payload.get("errorMessage").and_then(Json::as_str).map_or_else(|| payload.to_string(), str::to_string);
    if message.len() > MAX_ERROR_MESSAGE {
        let mut cut = MAX_ERROR_MESSAGE;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    (r.status_code.unwrap_or(200).to_string(), message)
}

/// A payload as the record carries it: its JSON, or its text when it is not JSON.
fn as_json(payload: Option<&Bytes>) -> Json {
    let bytes = payload.map(|b| b.as_ref()).unwrap_or_default();
    serde_json::from_slice(bytes).unwrap_or_else(|_| Json::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// AWS's invocation record, version 1.0.
/// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
fn invocation_record(ctx: &RequestContext, function_arn: &str, condition: Condition, attempts: u32, input: &InvocationRequest, last: Option<&InvocationResponse>) -> Json {
    let mut record = json!({
        "version": "1.0",
        "timestamp": clock::now().to_iso8601_millis(),
        "requestContext": {
            "requestId": ctx.request_id,
            "functionArn": function_arn,
            "condition": condition.as_str(),
            "approximateInvokeCount": attempts,
        },
        "requestPayload": as_json(input.payload.as_ref()),
    });
    if let (Some(r), Some(obj)) = (last, record.as_object_mut()) {
        let mut response = json!({ "statusCode": r.status_code.unwrap_or(200), "executedVersion": r.executed_version.as_deref().unwrap_or(LATEST) });
        if let (Some(fe), Some(o)) = (&r.function_error, response.as_object_mut()) {
            o.insert("functionError".into(), json!(fe));
        }
        obj.insert("responseContext".into(), response);
        obj.insert("responsePayload".into(), as_json(r.payload.as_ref()));
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_the_request_and_the_last_response() {
        let ctx = RequestContext::system("000000000000", "us-east-1", "lambda");
        let input = InvocationRequest { payload: Some(Bytes::from_static(br#"{"n": 1}"#)), ..Default::default() };
        let last = InvocationResponse {
            status_code: Some(200),
            function_error: Some("Unhandled".into()),
            payload: Some(Bytes::from_static(br#"{"errorMessage": "boom"}"#)),
            executed_version: Some("$LATEST".into()),
            ..Default::default()
        };
        let r = invocation_record(&ctx, "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST", Condition::RetriesExhausted, 3, &input, Some(&last));
        assert_eq!(r["version"], "1.0");
        assert_eq!(r["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(r["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(r["requestPayload"], json!({"n": 1}));
        assert_eq!(r["responseContext"]["functionError"], "Unhandled");
        assert_eq!(r["responsePayload"]["errorMessage"], "boom");
        assert_eq!(error_of(Some(&last)), ("200".to_string(), "boom".to_string()));
    }

    #[test]
    fn retries_wait_one_then_two_minutes() {
        if std::env::var(RETRY_ENV).is_err() {
            assert_eq!(retry_delay_millis(1), 60_000);
            assert_eq!(retry_delay_millis(2), 120_000);
        }
    }
}
