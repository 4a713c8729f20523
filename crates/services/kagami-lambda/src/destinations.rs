//! Where the outcome of an asynchronous invocation goes: the invocation record to an
//! OnSuccess/OnFailure destination (SQS queue, SNS topic, EventBridge bus, function), the
//! failed event itself to the function's dead-letter queue (SQS queue or SNS topic).
//! Each target is reached through `Peers` in its own account and region, as a client
//! of that service would call it.
//! https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html

use crate::state::Lambda;
use bytes::Bytes;
use kagami_core::{ServiceError, Value};

/// EventBridge events Lambda puts on a destination bus come from this source.
const EVENT_SOURCE: &str = "lambda";
const DETAIL_SUCCESS: &str = "Lambda Function Invocation Result - Success";
const DETAIL_FAILURE: &str = "Lambda Function Invocation Result - Failure";

/// What goes to one target.
pub(crate) enum Outbound<'a> {
    /// An invocation record (JSON) for an OnSuccess/OnFailure destination; the qualified
    /// ARN of the function it describes names the EventBridge event's resources.
    Record { body: String, success: bool, function_arn: &'a str },
    /// The failed event for the dead-letter queue, with AWS's three message attributes.
    DeadLetter { body: String, request_id: &'a str, error_code: String, error_message: String },
}

impl Outbound<'_> {
    fn body(&self) -> &str {
        match self {
            Outbound::Record { body, .. } | Outbound::DeadLetter { body, .. } => body,
        }
    }

    /// The DLQ message attributes as SQS and SNS both take them.
    /// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq
    fn attributes(&self) -> Option<Value> {
        let Outbound::DeadLetter { request_id, error_code, error_message, .. } = self else { return None };
        let mut map = Value::map();
        for (name, kind, value) in [("RequestID", "String", *request_id), ("ErrorCode", "Number", error_code.as_str()), ("ErrorMessage", "String", error_message.as_str())] {
            let mut a = Value::map();
            a.insert("DataType", Value::from(kind));
            a.insert("StringValue", Value::from(value));
            map.insert(name, a);
        }
        Some(map)
    }
}

/// The service, region and account of an ARN, and what follows them.
fn arn_parts(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(region), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some((service, region, account, resource))
}

impl Lambda {
    /// Sends `out` to the queue, topic, bus or function `arn` names.
    pub(crate) async fn send_to(&self, arn: &str, out: Outbound<'_>) -> Result<(), ServiceError> {
        let (service, region, account, resource) = arn_parts(arn).ok_or_else(|| ServiceError::internal(format!("not an ARN: {arn}")))?;
        let ctx = self.peers.system_context(account, region, "lambda");
        match service {
            "sqs" => {
                let mut q = Value::map();
                q.insert("QueueName", Value::from(resource));
                q.insert("QueueOwnerAWSAccountId", Value::from(account));
                let url = self.peers.call(&ctx, "sqs", "GetQueueUrl", q).await?;
                let url = url.get("QueueUrl").and_then(Value::as_str).unwrap_or_default().to_string();
                let mut send = Value::map();
                send.insert("QueueUrl", Value::from(url));
                send.insert("MessageBody", Value::from(out.body()));
                if let Some(attributes) = out.attributes() {
                    send.insert("MessageAttributes", attributes);
                }
                self.peers.call(&ctx, "sqs", "SendMessage", send).await.map(|_| ())
            }
            "sns" => {
                let mut publish = Value::map();
                publish.insert("TopicArn", Value::from(arn));
                publish.insert("Message", Value::from(out.body()));
                if let Some(attributes) = out.attributes() {
                    publish.insert("MessageAttributes", attributes);
                }
                self.peers.call(&ctx, "sns", "Publish", publish).await.map(|_| ())
            }
            "events" => {
                let Outbound::Record { body, success, function_arn } = out else {
                    return Err(ServiceError::internal(format!("{arn} cannot be a dead-letter queue")));
                };
                let mut entry = Value::map();
                entry.insert("EventBusName", Value::from(arn));
                entry.insert("Source", Value::from(EVENT_SOURCE));
                entry.insert("DetailType", Value::from(if success { DETAIL_SUCCESS } else { DETAIL_FAILURE }));
                entry.insert("Detail", Value::from(body));
                // AWS names the bus, then the qualified function.
                entry.insert("Resources", Value::List(vec![Value::from(arn), Value::from(function_arn)]));
                let mut put = Value::map();
                put.insert("Entries", Value::List(vec![entry]));
                let answer = self.peers.call(&ctx, "events", "PutEvents", put).await?;
                match answer.get("FailedEntryCount").and_then(Value::as_i64) {
                    Some(n) if n > 0 => Err(ServiceError::internal(format!("EventBridge refused the event: {answer:?}"))),
                    _ => Ok(()),
                }
            }
            "lambda" => {
                let mut invoke = Value::map();
                invoke.insert("FunctionName", Value::from(arn));
                invoke.insert("InvocationType", Value::from("Event"));
                invoke.insert("Payload", Value::from(Bytes::from(out.body().to_string())));
                self.peers.call(&ctx, "lambda", "Invoke", invoke).await.map(|_| ())
            }
            other => Err(ServiceError::internal(format!("{other} is not a destination Lambda can deliver to"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_split_into_service_region_account_and_resource() {
        assert_eq!(arn_parts("arn:aws:sns:eu-west-1:111122223333:topic"), Some(("sns", "eu-west-1", "111122223333", "topic")));
        assert_eq!(
            arn_parts("arn:aws:events:us-east-1:000000000000:event-bus/default"),
            Some(("events", "us-east-1", "000000000000", "event-bus/default"))
        );
        assert_eq!(
            arn_parts("arn:aws:lambda:us-east-1:000000000000:function:f:live"),
            Some(("lambda", "us-east-1", "000000000000", "function:f:live"))
        );
        assert_eq!(arn_parts("not-an-arn"), None);
    }

    #[test]
    fn dead_letters_carry_request_id_error_code_and_message() {
        let out = Outbound::DeadLetter { body: "{}".into(), request_id: "r-1", error_code: "200".into(), error_message: "boom".into() };
        let a = out.attributes().unwrap_or_else(Value::map);
        assert_eq!(a.get("ErrorCode").and_then(|v| v.get("DataType")).and_then(Value::as_str), Some("Number"));
        assert_eq!(a.get("RequestID").and_then(|v| v.get("StringValue")).and_then(Value::as_str), Some("r-1"));
        assert_eq!(a.get("ErrorMessage").and_then(|v| v.get("StringValue")).and_then(Value::as_str), Some("boom"));
        let record = Outbound::Record { body: "{}".into(), success: true, function_arn: "arn" };
        assert!(record.attributes().is_none());
    }
}
