//! Delivery of an event to one target, through `Peers` in the target's own account and
//! region: SQS, SNS, Lambda, Kinesis, CloudWatch Logs and other event buses. A failure
//! that may pass (throttling, a service error) is retried with backoff on the emulated
//! clock within the target's RetryPolicy; what still fails goes to the target's
//! dead-letter queue with AWS's attributes.
//! https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html

use crate::generated::Target;
use crate::put_events::MAX_BUS_HOPS;
use crate::state::{BusRef, Events, Rule};
use crate::transform::{RuleRef, select, target_input};
use bytes::Bytes;
use kagami_core::{ServiceError, Value, clock};
use serde_json::Value as Json;
use std::sync::Arc;

/// RetryPolicy defaults: 185 retries within 24 hours.
/// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html
const DEFAULT_RETRY_ATTEMPTS: i32 = 185;
const DEFAULT_MAX_EVENT_AGE_SECS: i32 = 86_400;
/// Backoff between attempts doubles from one second up to this.
const MAX_BACKOFF_SECS: i64 = 300;

/// One event on its way to one target of one rule.
pub(crate) struct Delivery {
    /// Its record's key in the store (`pending.rs`).
    pub key: String,
    pub rule_arn: String,
    pub rule_name: String,
    pub target: Target,
    pub event: Arc<Json>,
    /// What the target receives, transformed once when the event matched.
    pub input: String,
    pub hops: u8,
    /// When the first attempt was made, for MaximumEventAgeInSeconds.
    pub started: i64,
    pub retries: i32,
    pub next_attempt: i64,
}

impl Delivery {
    pub(crate) fn new(rule: &Rule, target: &Target, event: &Arc<Json>, hops: u8) -> Delivery {
        let rule_arn = rule.arn();
        let input = target_input(target, event, &RuleRef { arn: &rule_arn, name: &rule.rec.name });
        let now = clock::now_millis();
        Delivery {
            key: crate::pending::new_key(),
            rule_arn,
            rule_name: rule.rec.name.clone(),
            target: target.clone(),
            event: Arc::clone(event),
            input,
            hops,
            started: now,
            retries: 0,
            next_attempt: now,
        }
    }
}

/// The parts of an ARN a delivery needs.
struct ArnParts<'a> {
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn arn_parts(arn: &str) -> Option<ArnParts<'_>> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, service, region, account, resource] => Some(ArnParts { service, region, account, resource }),
        _ => None,
    }
}

fn retryable(e: &ServiceError) -> bool {
    (e.status >= 500 && e.code != "NotImplemented") || e.code.contains("Throttl")
}

fn map(entries: &[(&str, Value)]) -> Value {
    let mut m = Value::map();
    for (k, v) in entries {
        m.insert(*k, v.clone());
    }
    m
}

impl Events {
    pub(crate) fn spawn_delivery(self: &Arc<Self>, d: Delivery) {
        let me = Arc::clone(self);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move { me.deliver(d).await });
        }
    }

    async fn deliver(self: Arc<Self>, mut d: Delivery) {
        let policy = d.target.retry_policy.clone().unwrap_or_default();
        let max_retries = policy.maximum_retry_attempts.unwrap_or(DEFAULT_RETRY_ATTEMPTS).max(0);
        let max_age_ms = i64::from(policy.maximum_event_age_in_seconds.unwrap_or(DEFAULT_MAX_EVENT_AGE_SECS)) * 1000;
        loop {
            clock::sleep_until(d.next_attempt).await;
            let error = match self.deliver_once(&d).await {
                Ok(()) => break,
                Err(e) => e,
            };
            let now = clock::now_millis();
            let backoff = (1i64 << d.retries.clamp(0, 16)).min(MAX_BACKOFF_SECS) * 1000;
            if retryable(&error) && d.retries < max_retries && now + backoff - d.started <= max_age_ms {
                d.retries += 1;
                d.next_attempt = now + backoff;
                self.save_pending(&d).await;
                continue;
            }
            self.dead_letter(&d, &error, d.retries).await;
            break;
        }
        self.forget_pending(&d).await;
    }

    async fn dead_letter(&self, d: &Delivery, error: &ServiceError, retries: i32) {
        let Some(dlq) = d.target.dead_letter_config.as_ref().and_then(|c| c.arn.clone()) else {
            tracing::warn!(target = %d.target.arn, rule = %d.rule_arn, error = %error.message, "event not delivered and the target has no dead-letter queue");
            return;
        };
        let attributes = [
            ("RULE_ARN", d.rule_arn.clone()),
            ("TARGET_ARN", d.target.arn.clone()),
            ("ERROR_CODE", error.code.clone()),
            ("ERROR_MESSAGE", error.message.clone()),
            ("RETRY_ATTEMPTS", retries.to_string()),
        ];
        let mut attrs = Value::map();
        for (name, value) in attributes {
            attrs.insert(name, map(&[("DataType", Value::from("String")), ("StringValue", Value::from(value))]));
        }
        if let Err(e) = self.send_sqs(&dlq, d.event.to_string(), None, None, Some(attrs)).await {
            tracing::warn!(dead_letter_queue = %dlq, error = %e.message, "sending a failed event to the dead-letter queue");
        }
    }

    async fn deliver_once(self: &Arc<Self>, d: &Delivery) -> Result<(), ServiceError> {
        let t = &d.target;
        let arn = arn_parts(&t.arn).ok_or_else(|| ServiceError::new("ValidationException", 400, format!("Parameter {} is not valid.", t.arn)))?;
        let input = || d.input.clone();
        let ctx = self.peers.system_context(arn.account, arn.region, "events");
        let event_id = d.event["id"].as_str().unwrap_or_default().to_string();
        match arn.service {
            "sqs" => {
                let group = t.sqs_parameters.as_ref().and_then(|p| p.message_group_id.clone());
                let dedup = arn.resource.ends_with(".fifo").then(|| event_id.clone());
                self.send_sqs(&t.arn, input(), group, dedup, None).await
            }
            "sns" => {
                let publish = map(&[("TopicArn", Value::from(t.arn.as_str())), ("Message", Value::from(input()))]);
                self.peers.call(&ctx, "sns", "Publish", publish).await.map(|_| ())
            }
            "lambda" => {
                let invoke = map(&[
                    ("FunctionName", Value::from(t.arn.as_str())),
                    ("InvocationType", Value::from("Event")),
                    ("Payload", Value::from(Bytes::from(input()))),
                ]);
                self.peers.call(&ctx, "lambda", "Invoke", invoke).await.map(|_| ())
            }
            "kinesis" => {
                let stream = arn.resource.strip_prefix("stream/").unwrap_or(arn.resource);
                let key = t
                    .kinesis_parameters
                    .as_ref()
                    .and_then(|k| select(&d.event, &k.partition_key_path))
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .unwrap_or(event_id);
                let put = map(&[
                    ("StreamName", Value::from(stream)),
                    ("Data", Value::from(Bytes::from(input()))),
                    ("PartitionKey", Value::from(key)),
                ]);
                self.peers.call(&ctx, "kinesis", "PutRecord", put).await.map(|_| ())
            }
            "logs" => {
                let group = arn.resource.strip_prefix("log-group:").unwrap_or(arn.resource);
                let group = group.strip_suffix(":*").unwrap_or(group);
                let create = map(&[("logGroupName", Value::from(group)), ("logStreamName", Value::from(event_id.as_str()))]);
                if let Err(e) = self.peers.call(&ctx, "logs", "CreateLogStream", create).await
                    && e.code != "ResourceAlreadyExistsException"
                {
                    return Err(e);
                }
                let event = map(&[("timestamp", Value::from(clock::now_millis())), ("message", Value::from(input()))]);
                let put = map(&[
                    ("logGroupName", Value::from(group)),
                    ("logStreamName", Value::from(event_id.as_str())),
                    ("logEvents", Value::List(vec![event])),
                ]);
                self.peers.call(&ctx, "logs", "PutLogEvents", put).await.map(|_| ())
            }
            "events" => {
                let name = arn.resource.strip_prefix("event-bus/").unwrap_or(arn.resource);
                if d.hops >= MAX_BUS_HOPS {
                    tracing::warn!(bus = %t.arn, "event dropped: it crossed too many event buses");
                    return Ok(());
                }
                let bus = BusRef { account: arn.account.to_string(), region: arn.region.to_string(), name: name.to_string() };
                // The forwarded deliveries are on disk before this one counts as delivered.
                match self.route(&bus, (*d.event).clone(), d.hops + 1) {
                    Some(commit) => commit.wait().await.map_err(|e| ServiceError::internal(format!("storing forwarded events: {e}"))),
                    None => Err(ServiceError::new("ResourceNotFoundException", 400, format!("Event bus {name} does not exist."))),
                }
            }
            other => {
                tracing::warn!(target = %t.arn, "kagami cannot deliver events to {other} targets; event dropped");
                Ok(())
            }
        }
    }

    /// SendMessage to the queue an SQS ARN names, in the queue's own account and region.
    async fn send_sqs(&self, arn: &str, body: String, group: Option<String>, dedup: Option<String>, attributes: Option<Value>) -> Result<(), ServiceError> {
        let parts = arn_parts(arn).ok_or_else(|| ServiceError::new("ValidationException", 400, format!("Parameter {arn} is not valid.")))?;
        let ctx = self.peers.system_context(parts.account, parts.region, "events");
        let q = map(&[("QueueName", Value::from(parts.resource)), ("QueueOwnerAWSAccountId", Value::from(parts.account))]);
        let url = self.peers.call(&ctx, "sqs", "GetQueueUrl", q).await?;
        let url = url.get("QueueUrl").and_then(Value::as_str).unwrap_or_default().to_string();
        let mut send = map(&[("QueueUrl", Value::from(url)), ("MessageBody", Value::from(body))]);
        if let Some(g) = group {
            send.insert("MessageGroupId", Value::from(g));
        }
        if let Some(d) = dedup {
            send.insert("MessageDeduplicationId", Value::from(d));
        }
        if let Some(a) = attributes {
            send.insert("MessageAttributes", a);
        }
        self.peers.call(&ctx, "sqs", "SendMessage", send).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passing_failures_are_retried() {
        assert!(retryable(&ServiceError::internal("boom")));
        assert!(retryable(&ServiceError::new("ThrottlingException", 400, "slow down")));
        assert!(!retryable(&ServiceError::new("QueueDoesNotExist", 400, "no queue")));
        assert!(!retryable(&ServiceError::not_implemented("sns", "Publish")));
    }

    #[test]
    fn arns_split_into_their_parts() {
        let a = arn_parts("arn:aws:logs:eu-west-1:123456789012:log-group:/a/b:*").unwrap();
        assert_eq!((a.service, a.region, a.account, a.resource), ("logs", "eu-west-1", "123456789012", "log-group:/a/b:*"));
        assert!(arn_parts("not-an-arn").is_none());
    }
}
