//! Subscription deliveries, as CloudWatch Logs makes them: the matched events of one
//! PutLogEvents call as one gzipped JSON `DATA_MESSAGE` per filter, sent through Peers to
//! a Lambda function (`{"awslogs":{"data": base64(gzip)}}`, invoked asynchronously), a
//! Kinesis stream or a Firehose stream (the raw gzip bytes as the record's data). A Logs
//! destination (cross-account) is resolved to its target.
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html

use crate::errors::invalid;
use crate::events::Delivery;
use crate::generated::LogsError;
use crate::state::Logs;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError, Value, ids};
use kagami_protocol::encoding::gzip;

/// The owner and event CloudWatch Logs puts in the message that checks a new Kinesis or
/// Firehose subscription's destination.
const CONTROL_OWNER: &str = "CloudwatchLogs";

/// What a subscription's destinationArn reaches.
#[derive(Debug, PartialEq)]
enum Target<'a> {
    Lambda,
    Kinesis { stream: &'a str },
    Firehose { stream: &'a str },
}

/// (kind, account, region) of a target ARN.
fn target(arn: &str) -> Option<(Target<'_>, &str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, service, region, account, resource] = parts.as_slice() else { return None };
    let kind = match *service {
        "lambda" => Target::Lambda,
        "kinesis" => Target::Kinesis { stream: resource.strip_prefix("stream/")? },
        "firehose" => Target::Firehose { stream: resource.strip_prefix("deliverystream/")? },
        _ => return None,
    };
    Some((kind, account, region))
}

fn input(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<IndexMap<_, _>>())
}

/// A stable partition key per log stream, so that ByLogStream keeps a stream's events in
/// order on one shard; Random spreads them.
fn partition_key(distribution: Option<&str>, group: &str, stream: &str) -> String {
    if distribution == Some("Random") {
        return ids::uuid_v4();
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in group.bytes().chain([0]).chain(stream.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Logs {
    /// Sends `payload` (a gzipped message) to the target `arn` names.
    async fn send(&self, ctx: &RequestContext, arn: &str, payload: Vec<u8>, key: String) -> Result<(), ServiceError> {
        let Some((kind, account, region)) = target(arn) else {
            return Err(ServiceError::internal(format!("unsupported subscription destination {arn}")));
        };
        let account = if account.is_empty() { ctx.account_id.as_str() } else { account };
        let region = if region.is_empty() { ctx.region.as_str() } else { region };
        let system = self.peers.system_context(account, region, "logs");
        let (service, operation, value) = match kind {
            Target::Lambda => {
                let body = serde_json::json!({ "awslogs": { "data": STANDARD.encode(&payload) } }).to_string();
                let value = input(vec![
                    ("FunctionName", Value::Str(arn.to_string())),
                    ("InvocationType", Value::Str("Event".into())),
                    ("Payload", Value::Blob(bytes::Bytes::from(body))),
                ]);
                ("lambda", "Invoke", value)
            }
            Target::Kinesis { stream } => {
                let value = input(vec![
                    ("StreamName", Value::Str(stream.to_string())),
                    ("Data", Value::Blob(bytes::Bytes::from(payload))),
                    ("PartitionKey", Value::Str(key)),
                ]);
                ("kinesis", "PutRecord", value)
            }
            Target::Firehose { stream } => {
                let record = input(vec![("Data", Value::Blob(bytes::Bytes::from(payload)))]);
                ("firehose", "PutRecord", input(vec![("DeliveryStreamName", Value::Str(stream.to_string())), ("Record", record)]))
            }
        };
        self.peers.call(&system, service, operation, value).await.map(|_| ())
    }

    /// Delivers matched events; failures are logged, as AWS retries them out of sight.
    pub(crate) async fn deliver(&self, ctx: &RequestContext, d: Delivery) {
        let destination = &d.filter.destination_arn;
        let resolved = match self.destination_target(destination) {
            Some(t) => t,
            None if destination.contains(":destination:") => {
                tracing::warn!(destination = %destination, "subscription destination does not exist; events not delivered");
                return;
            }
            None => destination.clone(),
        };
        let message = serde_json::json!({
            "messageType": "DATA_MESSAGE",
            "owner": ctx.account_id,
            "logGroup": d.group,
            "logStream": d.stream,
            "subscriptionFilters": [d.filter.name],
            "logEvents": d.events.iter().map(|(id, ts, m)| serde_json::json!({"id": id, "timestamp": ts, "message": m})).collect::<Vec<_>>(),
        });
        let payload = gzip(message.to_string().as_bytes());
        let key = partition_key(d.filter.distribution.as_deref(), &d.group, &d.stream);
        if let Err(e) = self.send(ctx, &resolved, payload, key).await {
            tracing::warn!(destination = %resolved, code = %e.code, error = %e.message, "subscription delivery failed");
        }
    }

    /// Checks a new subscription's destination the way AWS does: a Kinesis or Firehose
    /// stream receives a CONTROL_MESSAGE, and a stream that does not exist fails the
    /// request. A destination service kagami does not run yet is not held against it.
    pub(crate) async fn check_destination(&self, ctx: &RequestContext, arn: &str, now: i64) -> Result<(), LogsError> {
        let resolved = match self.destination_target(arn) {
            Some(t) => t,
            None if arn.contains(":destination:") => return Err(LogsError::ResourceNotFoundException("The specified destination does not exist.".into())),
            None => arn.to_string(),
        };
        let (what, failure) = match target(&resolved) {
            Some((Target::Kinesis { .. }, ..)) => (
                "Kinesis stream",
                "Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE state.",
            ),
            Some((Target::Firehose { .. }, ..)) => (
                "Firehose",
                "Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in ACTIVE state.",
            ),
            Some((Target::Lambda, ..)) => return Ok(()),
            None => return Err(invalid(format!("Invalid destinationArn: {arn}"))),
        };
        let message = serde_json::json!({
            "messageType": "CONTROL_MESSAGE",
            "owner": CONTROL_OWNER,
            "logGroup": "",
            "logStream": "",
            "subscriptionFilters": [],
            "logEvents": [{"id": "", "timestamp": now, "message": format!("CWL CONTROL MESSAGE: Checking health of destination {what}.")}],
        });
        match self.send(ctx, &resolved, gzip(message.to_string().as_bytes()), ids::uuid_v4()).await {
            Err(e) if e.code == "ResourceNotFoundException" => Err(invalid(failure)),
            Err(e) => {
                tracing::warn!(destination = %resolved, code = %e.code, error = %e.message, "subscription destination not checked");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_recognised_by_their_arns() {
        assert_eq!(target("arn:aws:lambda:us-east-1:111111111111:function:f").map(|t| t.0), Some(Target::Lambda));
        assert_eq!(
            target("arn:aws:kinesis:eu-west-1:111111111111:stream/s").map(|t| (t.0, t.1, t.2)),
            Some((Target::Kinesis { stream: "s" }, "111111111111", "eu-west-1"))
        );
        assert_eq!(target("arn:aws:firehose:us-east-1:1:deliverystream/d").map(|t| t.0), Some(Target::Firehose { stream: "d" }));
        assert!(target("arn:aws:sqs:us-east-1:1:q").is_none());
        assert_eq!(partition_key(None, "g", "s"), partition_key(Some("ByLogStream"), "g", "s"));
        assert_ne!(partition_key(None, "g", "s"), partition_key(None, "g", "t"));
    }
}
