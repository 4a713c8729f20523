//! Delivery of a notification to each subscription: SQS queues (JSON envelope or raw),
//! Lambda functions (the SNS event, invoked asynchronously) and HTTP endpoints, through
//! the other services' own operations. A failed delivery goes to the subscription's
//! dead-letter queue when it has a RedrivePolicy.
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html>

use crate::arn::{parse, parse_queue};
use crate::filter::Scope;
use crate::message::Notification;
use crate::outbox::HttpDelivery;
use crate::retry::RetryPolicy;
use crate::state::{Sns, Subscription};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use indexmap::IndexMap;
use kagami_core::{ServiceError, Value, clock};
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The API version in the URLs SNS hands out: with `Action` and `Version` the gateway
/// routes an unsigned GET of them to SNS, as AWS's endpoint serves them.
const API_VERSION: &str = "2010-03-31";

/// What one delivery attempt sends to an SQS queue.
pub(crate) struct QueueMessage {
    pub body: String,
    pub attributes: Option<Value>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

fn matches(sub: &Subscription, n: &Notification) -> bool {
    match &sub.filter {
        None => true,
        Some(policy) => match sub.scope() {
            Scope::MessageAttributes => policy.matches_attributes(&n.attributes),
            Scope::MessageBody => policy.matches_body(n.message_for(&sub.protocol)),
        },
    }
}

/// kagami cannot sign with AWS's key: the signature is a digest of the fields AWS signs,
/// base64 like a real one, so clients that only read it work.
fn signature(fields: &[&str]) -> String {
    STANDARD.encode(Sha256::digest(fields.join("\n").as_bytes()))
}

impl Sns {
    fn signing_cert_url(&self, region: &str) -> String {
        format!("https://sns.{region}.amazonaws.com/SimpleNotificationService-kagami.pem")
    }

    fn unsubscribe_url(&self, subscription_arn: &str) -> String {
        format!("http://{}/?Action=Unsubscribe&Version={API_VERSION}&SubscriptionArn={subscription_arn}", self.peers.address())
    }

    /// The JSON document SQS and HTTP subscribers receive, in AWS's member order.
    fn envelope(&self, n: &Notification, sub: &Subscription) -> Map<String, Json> {
        let region = parse(&n.topic_arn).map_or("us-east-1", |a| a.region);
        let message = n.message_for(&sub.protocol);
        let mut e = Map::new();
        e.insert("Type".into(), json!("Notification"));
        e.insert("MessageId".into(), json!(n.message_id));
        if let Some(seq) = &n.sequence_number {
            e.insert("SequenceNumber".into(), json!(seq));
        }
        e.insert("TopicArn".into(), json!(n.topic_arn));
        if let Some(subject) = &n.subject {
            e.insert("Subject".into(), json!(subject));
        }
        e.insert("Message".into(), json!(message));
        e.insert("Timestamp".into(), json!(n.timestamp));
        e.insert("SignatureVersion".into(), json!(n.signature_version));
        let sig = signature(&["Message", message, "MessageId", &n.message_id, "Timestamp", &n.timestamp, "TopicArn", &n.topic_arn]);
        e.insert("Signature".into(), json!(sig));
        e.insert("SigningCertURL".into(), json!(self.signing_cert_url(region)));
        e.insert("UnsubscribeURL".into(), json!(self.unsubscribe_url(&sub.arn)));
        if !n.attributes.is_empty() {
            e.insert("MessageAttributes".into(), attributes_json(n));
        }
        e
    }

    /// The event a Lambda function subscribed to the topic is invoked with.
    fn lambda_event(&self, n: &Notification, sub: &Subscription) -> Json {
        let region = parse(&n.topic_arn).map_or("us-east-1", |a| a.region);
        let message = n.message_for("lambda");
        let sig = signature(&["Message", message, "MessageId", &n.message_id, "Timestamp", &n.timestamp, "TopicArn", &n.topic_arn]);
        json!({
            "Records": [{
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": sub.arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": n.message_id,
                    "TopicArn": n.topic_arn,
                    "Subject": n.subject,
                    "Message": message,
                    "Timestamp": n.timestamp,
                    "SignatureVersion": n.signature_version,
                    "Signature": sig,
                    "SigningCertUrl": self.signing_cert_url(region),
                    "UnsubscribeUrl": self.unsubscribe_url(&sub.arn),
                    "MessageAttributes": attributes_json(n),
                }
            }]
        })
    }

    /// Delivers `n` to every subscription whose filter policy matches, one after the
    /// other (FIFO order), never failing the publish.
    pub(crate) async fn deliver(&self, n: &Notification, subscriptions: &[Subscription]) {
        for sub in subscriptions.iter().filter(|s| matches(s, n)) {
            let result = match sub.protocol.as_str() {
                "sqs" => {
                    let queue_message = self.queue_message(n, sub);
                    let fifo_queue = sub.endpoint.ends_with(".fifo");
                    self.send_to_queue(&sub.endpoint, queue_message, fifo_queue).await
                }
                "lambda" => self.invoke(n, sub).await,
                "http" | "https" => {
                    self.post_later(n, sub).await;
                    Ok(())
                }
                other => {
                    tracing::info!(protocol = other, subscription = %sub.arn, "kagami does not deliver to this protocol; message dropped");
                    Ok(())
                }
            };
            if let Err(e) = result {
                tracing::warn!(subscription = %sub.arn, error = %e.message, "SNS delivery failed");
                self.dead_letter(n, sub).await;
            }
        }
    }

    fn queue_message(&self, n: &Notification, sub: &Subscription) -> QueueMessage {
        let (body, attributes) = if sub.raw() {
            (n.message_for("sqs").to_string(), raw_attributes(n))
        } else {
            (Json::Object(self.envelope(n, sub)).to_string(), None)
        };
        QueueMessage { body, attributes, group_id: n.group_id.clone(), deduplication_id: n.deduplication_id.clone() }
    }

    /// Sends to the queue an ARN names, in the queue's own account and region.
    async fn send_to_queue(&self, queue_arn: &str, m: QueueMessage, fifo_queue: bool) -> Result<(), ServiceError> {
        let (region, account, name) = parse_queue(queue_arn).ok_or_else(|| ServiceError::internal(format!("not a queue ARN: {queue_arn}")))?;
        let ctx = self.peers.system_context(account, region, "sns");
        let mut q = Value::map();
        q.insert("QueueName", Value::from(name));
        q.insert("QueueOwnerAWSAccountId", Value::from(account));
        let url = self.peers.call(&ctx, "sqs", "GetQueueUrl", q).await?;
        let url = url.get("QueueUrl").and_then(Value::as_str).unwrap_or_default().to_string();
        let mut send = Value::map();
        send.insert("QueueUrl", Value::from(url));
        send.insert("MessageBody", Value::from(m.body));
        if let Some(attributes) = m.attributes {
            send.insert("MessageAttributes", attributes);
        }
        if fifo_queue {
            if let Some(g) = m.group_id {
                send.insert("MessageGroupId", Value::from(g));
            }
            if let Some(d) = m.deduplication_id {
                send.insert("MessageDeduplicationId", Value::from(d));
            }
        }
        self.peers.call(&ctx, "sqs", "SendMessage", send).await.map(|_| ())
    }

    async fn invoke(&self, n: &Notification, sub: &Subscription) -> Result<(), ServiceError> {
        let a = parse(&sub.endpoint).ok_or_else(|| ServiceError::internal(format!("not a function ARN: {}", sub.endpoint)))?;
        let ctx = self.peers.system_context(a.account, a.region, "sns");
        let mut invoke = Value::map();
        invoke.insert("FunctionName", Value::from(sub.endpoint.as_str()));
        invoke.insert("InvocationType", Value::from("Event"));
        invoke.insert("Payload", Value::Blob(Bytes::from(self.lambda_event(n, sub).to_string())));
        self.peers.call(&ctx, "lambda", "Invoke", invoke).await.map(|_| ())
    }

    /// A message that could not be delivered goes, as it would have been delivered, to
    /// the queue of the subscription's RedrivePolicy.
    async fn dead_letter(&self, n: &Notification, sub: &Subscription) {
        if redrive_target(sub).is_none() {
            return;
        }
        let m = match sub.protocol.as_str() {
            "sqs" => self.queue_message(n, sub),
            _ => QueueMessage {
                body: Json::Object(self.envelope(n, sub)).to_string(),
                attributes: None,
                group_id: n.group_id.clone(),
                deduplication_id: n.deduplication_id.clone(),
            },
        };
        self.send_dead_letter(sub, m).await;
    }

    pub(crate) async fn send_dead_letter(&self, sub: &Subscription, m: QueueMessage) {
        let Some(target) = redrive_target(sub) else { return };
        let fifo_queue = target.ends_with(".fifo");
        if let Err(e) = self.send_to_queue(&target, m, fifo_queue).await {
            tracing::warn!(subscription = %sub.arn, dead_letter_queue = %target, error = %e.message, "SNS dead-letter delivery failed");
        }
    }

    /// HTTP deliveries run on their own task (`outbox.rs`), retried on the emulated clock
    /// as the delivery policy says: a slow or failing endpoint must not hold the publish.
    async fn post_later(&self, n: &Notification, sub: &Subscription) {
        let body = if sub.raw() { n.message_for(&sub.protocol).to_string() } else { Json::Object(self.envelope(n, sub)).to_string() };
        let headers = vec![
            ("x-amz-sns-message-type".to_string(), "Notification".to_string()),
            ("x-amz-sns-message-id".to_string(), n.message_id.clone()),
            ("x-amz-sns-topic-arn".to_string(), n.topic_arn.clone()),
            ("x-amz-sns-subscription-arn".to_string(), sub.arn.clone()),
        ];
        let policy = RetryPolicy::resolve(sub.attributes.get("DeliveryPolicy").map(String::as_str), n.delivery_policy.as_deref());
        let dead_letter_body = if sub.raw() { Json::Object(self.envelope(n, sub)).to_string() } else { body.clone() };
        let delivery = HttpDelivery {
            key: crate::outbox::new_key(),
            subscription: sub.clone(),
            body,
            headers,
            policy,
            attempt: 0,
            next_attempt_at: clock::now_millis(),
            dead_letter_body,
            group_id: n.group_id.clone(),
            deduplication_id: n.deduplication_id.clone(),
        };
        self.start_http(delivery).await;
    }

    /// Sends an HTTP(S) endpoint its SubscriptionConfirmation with the token.
    pub(crate) fn send_confirmation(&self, sub: Arc<Subscription>) {
        let region = parse(&sub.topic_arn).map_or("us-east-1", |a| a.region).to_string();
        let message_id = kagami_core::ids::uuid_v4();
        let timestamp = kagami_core::clock::now().to_iso8601_millis();
        let message = format!(
            "You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            sub.topic_arn
        );
        let subscribe_url = format!(
            "http://{}/?Action=ConfirmSubscription&Version={API_VERSION}&TopicArn={}&Token={}",
            self.peers.address(),
            sub.topic_arn,
            sub.token
        );
        let sig = signature(&["Message", &message, "MessageId", &message_id, "SubscribeURL", &subscribe_url, "Timestamp", &timestamp]);
        let body = json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": message_id,
            "Token": sub.token,
            "TopicArn": sub.topic_arn,
            "Message": message,
            "SubscribeURL": subscribe_url,
            "Timestamp": timestamp,
            "SignatureVersion": "1",
            "Signature": sig,
            "SigningCertURL": self.signing_cert_url(&region),
        })
        .to_string();
        let headers = vec![
            ("x-amz-sns-message-type", "SubscriptionConfirmation".to_string()),
            ("x-amz-sns-message-id", message_id),
            ("x-amz-sns-topic-arn", sub.topic_arn.clone()),
        ];
        tokio::spawn(async move {
            if let Err(e) = crate::http::post(&sub.endpoint, &headers, false, body).await {
                tracing::warn!(subscription = %sub.arn, error = %e, "SNS subscription confirmation could not be sent");
            }
        });
    }
}

/// The dead-letter queue of a subscription's RedrivePolicy.
fn redrive_target(sub: &Subscription) -> Option<String> {
    let policy = sub.attributes.get("RedrivePolicy")?;
    let policy = serde_json::from_str::<Json>(policy).ok()?;
    policy.get("deadLetterTargetArn").and_then(Json::as_str).map(str::to_string)
}

/// Message attributes as the envelope and the Lambda event carry them.
fn attributes_json(n: &Notification) -> Json {
    let map: Map<String, Json> = n
        .attributes
        .iter()
        .map(|(k, a)| {
            let value = match &a.binary_value {
                Some(b) if a.data_type.starts_with("Binary") => STANDARD.encode(b),
                _ => a.string_value.clone().unwrap_or_default(),
            };
            (k.clone(), json!({"Type": a.data_type, "Value": value}))
        })
        .collect();
    Json::Object(map)
}

/// With raw delivery, message attributes become SQS message attributes.
fn raw_attributes(n: &Notification) -> Option<Value> {
    if n.attributes.is_empty() {
        return None;
    }
    let mut map = IndexMap::new();
    for (k, a) in &n.attributes {
        let mut v = Value::map();
        v.insert("DataType", Value::from(a.data_type.as_str()));
        match (&a.binary_value, &a.string_value) {
            (Some(b), _) if a.data_type.starts_with("Binary") => v.insert("BinaryValue", Value::Blob(b.clone())),
            (_, Some(s)) => v.insert("StringValue", Value::from(s.as_str())),
            _ => continue,
        }
        map.insert(k.clone(), v);
    }
    Some(Value::Map(map))
}
